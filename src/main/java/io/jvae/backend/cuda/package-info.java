/** The CUDA side: probing for a usable driver and cuBLAS without ever crashing on a machine that has none. */
package io.jvae.backend.cuda;

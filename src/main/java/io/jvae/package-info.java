/**
 * jvae: variational auto-encoders on the JVM, trained with cuBLAS + CUDA kernels or on the CPU.
 * Java programs use {@link io.jvae.api}; the other packages are the engine and the command line.
 */
package io.jvae;

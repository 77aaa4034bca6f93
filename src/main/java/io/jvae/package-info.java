/** jvae: variational auto-encoders on the JVM, trained with cuBLAS + CUDA kernels or on the CPU. */
package io.jvae;

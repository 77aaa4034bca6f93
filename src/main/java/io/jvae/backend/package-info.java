/**
 * The Backend contract (column-major float32 tensors, BLAS-style GEMM/GEMV, the element-wise
 * operations that the CUDA kernels provide) and its CPU executor, the reference every other
 * executor is checked against.
 */
package io.jvae.backend;

package io.jvae.backend.cuda;

/** A CUDA or cuBLAS call failed: names the call, the status and what the user can do. */
public final class CudaFailure extends RuntimeException {
    public CudaFailure(String call, Throwable cause, String hint) {
        super(call + " failed: " + (cause == null ? "" : cause.getMessage()) + (hint == null ? "" : " (" + hint + ")"), cause);
    }
}

package io.jvae.model;

import io.jvae.backend.Activation;
import io.jvae.backend.Backend;
import io.jvae.backend.SparseColumns;
import io.jvae.backend.Tensor;

/**
 * y = act(sum_p W_p x_p + b): a dense layer whose input is the concatenation of parts (x; label)
 * without building the concatenation: W = [W_0 | W_1 ...] is (out, in) column-major, so the
 * block of part p is the contiguous column range of W. Forward gemm(N,N) per part; backward
 * dW_p = dy x_p^T gemm(N,T), dx_p = W_p^T dy gemm(T,N), db = dy 1 (gemv).
 */
final class Dense {
    final String name;
    final int out;
    final int[] parts;      // input sizes of the concatenated parts
    final Params.Entry wEntry, bEntry;
    final Tensor w, b;      // (out, in), (out, 1)
    final Tensor dw, db;    // same shapes, views of the gradient buffer

    Dense(String name, int out, int[] parts, Params.Entry wEntry, Params.Entry bEntry, Params params) {
        this.name = name;
        this.out = out;
        this.parts = parts.clone();
        this.wEntry = wEntry;
        this.bEntry = bEntry;
        this.w = params.value(wEntry);
        this.b = params.value(bEntry);
        this.dw = params.grad(wEntry);
        this.db = params.grad(bEntry);
    }

    static int sum(int[] parts) {
        int s = 0;
        for (int p : parts) s += p;
        return s;
    }

    /** Columns of W that multiply input part p. */
    private Tensor block(Tensor m, int p) {
        int col = 0;
        for (int q = 0; q < p; q++) col += parts[q];
        return m.cols(col, parts[p]);
    }

    /** y (out, n) = act(sum_p W_p x_p + b); x_p: (parts[p], n). */
    void forward(Backend be, Tensor[] x, Tensor y, Activation act) {
        forward(be, x, null, y, act);
    }

    /** The same with x_0 also given compressed (null: dense), for the first layer's sparse GEMM. */
    void forward(Backend be, Tensor[] x, SparseColumns x0, Tensor y, Activation act) {
        linear(be, x, x0, y);
        be.biasActForward(y, b, act);
    }

    /** y = sum_p W_p x_p without the bias (the loss kernels add it on the fly: the output layer). */
    void linear(Backend be, Tensor[] x, SparseColumns x0, Tensor y) {
        int n = y.cols;
        for (int p = 0; p < parts.length; p++) {
            if (p == 0 && x0 != null) be.gemmSparse(false, out, block(w, 0), out, x0, y, out);
            else be.gemm(false, false, out, n, parts[p], 1f, block(w, p), out, x[p], parts[p], p == 0 ? 0f : 1f, y, out);
        }
    }

    /**
     * Given dy (out, n), already multiplied by act'(y): dW, db written (overwritten), and for each
     * non-null dx[p] (parts[p], n): dx_p = dxBeta dx_p + W_p^T dy. ones: at least n ones.
     */
    void backward(Backend be, Tensor[] x, Tensor dy, Tensor[] dx, float dxBeta, Tensor ones) {
        backward(be, x, null, dy, dx, dxBeta, ones);
    }

    /** The same with x_0 also given compressed (null: dense). */
    void backward(Backend be, Tensor[] x, SparseColumns x0, Tensor dy, Tensor[] dx, float dxBeta, Tensor ones) {
        int n = dy.cols;
        for (int p = 0; p < parts.length; p++) {
            if (p == 0 && x0 != null) be.gemmSparse(true, out, dy, out, x0, block(dw, 0), out);
            else be.gemm(false, true, out, parts[p], n, 1f, dy, out, x[p], parts[p], 0f, block(dw, p), out);
        }
        be.gemv(false, out, n, 1f, dy, out, ones, 0f, db);
        if (dx == null) return;
        for (int p = 0; p < parts.length; p++) {
            if (dx[p] == null) continue;
            be.gemm(true, false, parts[p], n, out, 1f, block(w, p), out, dy, out, dxBeta, dx[p], parts[p]);
        }
    }
}

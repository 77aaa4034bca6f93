package io.jvae.backend;

/**
 * The one sequence of operations the model is written against; {@link CpuBackend} and
 * CudaBackend execute it. Tensors are column-major float32 (see {@link Tensor}). BLAS calls take
 * the Fortran-BLAS arguments unchanged. Every element-wise method names the CUDA kernel in
 * kernels/vae_kernels.cu that mirrors it; the formulas here are the spec for both.
 *
 * <p>Notation: mu, lv (log-variance) are (L, B); eps, z are (L, B*J) for J samples per input,
 * sample j of input b in column j*B + b; logits and the loss are (D, B*J), the target x is (D, B)
 * and element e of a (D, B*J) tensor reads x[e mod (D*B)].
 */
public interface Backend extends AutoCloseable {

    /** Short name for logs and benchmark tables, e.g. "cpu" or "cuda:0". */
    String name();

    /** One line describing what does the math, e.g. the BLAS library in use. */
    String describe();

    // ---- memory ----

    /** A zero-filled rows x cols tensor. */
    Tensor alloc(int rows, int cols);

    Indices allocIndices(int n);

    /** dst = src[srcOff .. srcOff + dst.size()). */
    void upload(float[] src, int srcOff, Tensor dst);

    /**
     * A rows x cols tensor of host's first rows * cols floats, for data the backend only reads (a
     * data set). A backend that computes on host arrays may use host itself instead of a copy
     * ({@link #sharesHostArrays}); the caller then must not change host while the tensor is in use.
     */
    default Tensor constant(float[] host, int rows, int cols) {
        Tensor t = alloc(rows, cols);
        upload(host, 0, t);
        return t;
    }

    /** Whether {@link #constant} uses the host array itself (no copy, no memory of its own). */
    default boolean sharesHostArrays() {
        return false;
    }

    /** dst[dstOff ..] = src; waits for pending work that writes src. */
    void download(Tensor src, float[] dst, int dstOff);

    void uploadIndices(int[] src, int srcOff, Indices dst);

    /** dst = src (same size). */
    void copy(Tensor src, Tensor dst);

    /** t = value. */
    void fill(Tensor t, float value);

    /** Waits until all queued work is done. */
    default void sync() {}

    /**
     * Starts copying src to the host without waiting for the device (a GPU: into page-locked memory,
     * an event marks the end); the CPU copies at once. The result is read when {@link Readback#done}.
     */
    default Readback readback(Tensor src) {
        float[] h = new float[src.size()];
        download(src, h, 0);
        return new Readback() {
            @Override
            public boolean done() {
                return true;
            }

            @Override
            public float[] await() {
                return h;
            }
        };
    }

    /** A copy to the host under way: {@link #done} never waits, {@link #await} does. */
    interface Readback {
        boolean done();

        float[] await();
    }

    /**
     * A recorder that captures whole training steps and replays them (CUDA Graphs), for batches of
     * up to maxBatch inputs, or null when this backend runs every step call by call (the CPU).
     */
    default StepReplay stepReplay(int maxBatch) {
        return null;
    }

    /**
     * {free, total} bytes of the memory this backend allocates from when it is not the Java heap
     * (a GPU's), or null: the heap. Lets a run check up front that it fits.
     */
    default long[] deviceMemory() {
        return null;
    }

    /**
     * Frees t's memory now; t must be a whole allocation, not a view of one. Optional: the CPU
     * leaves it to the garbage collector, CUDA frees the device memory (and refuses a view or a
     * second free). Tensors not freed are freed by the enclosing {@link #scope} or by close().
     */
    default void free(Tensor t) {}

    /** As {@link #free(Tensor)} for an index vector. */
    default void free(Indices i) {}

    /**
     * Device memory allocated while the returned scope is open is freed when it closes (scopes
     * nest): one experiment run, one evaluation. Tensors made inside must not be used after it.
     */
    default Scope scope() {
        return () -> {};
    }

    /** An open allocation scope; close() frees what was allocated in it. */
    interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    // ---- BLAS ----

    /** C = alpha op(A) op(B) + beta C with op(A) m x k, op(B) k x n, C m x n (Fortran sgemm). */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, int lda,
              Tensor b, int ldb, float beta, Tensor c, int ldc);

    /** y = alpha op(A) x + beta y with A m x n (Fortran sgemv, unit increments). */
    void gemv(boolean transA, int m, int n, float alpha, Tensor a, int lda, Tensor x, float beta, Tensor y);

    /** y += alpha x (same size). Kernel: axpy. */
    void axpy(float alpha, Tensor x, Tensor y);

    // ---- sparse input: the first layer's GEMMs over the nonzeros of the data batch ----

    /**
     * x (R, N) compressed for {@link #gemmSparse} when this backend has a sparse product and at
     * most {@link SparseColumns#MAX_DENSITY} of x is nonzero, else null: use gemm with x. reuse: an
     * earlier result whose arrays may be refilled, or null. forGradient: the weight gradient's
     * product (gemmSparse with transX) will run on it too, a training step's batch, for which the
     * CPU lists the transpose as well. The result is valid until x changes.
     */
    default SparseColumns compress(Tensor x, SparseColumns reuse, boolean forGradient) {
        return null;
    }

    /**
     * The GEMMs of a layer whose input X (k, n) is given compressed, C overwritten: C (m, n) = A X
     * with A (m, k), as gemm(N, N) with alpha 1 and beta 0, when !transX; C (m, k) = A X^T with
     * A (m, n), as gemm(N, T), when transX. The default multiplies the dense tensor x was made from.
     */
    default void gemmSparse(boolean transX, int m, Tensor a, int lda, SparseColumns x, Tensor c, int ldc) {
        Tensor d = x.source();
        if (d == null) throw new IllegalArgumentException("gemmSparse: x holds no compressed tensor");
        gemm(false, transX, m, transX ? d.rows : d.cols, transX ? d.cols : d.rows, 1f, a, lda, d, d.rows, 0f, c, ldc);
    }

    // ---- element-wise (kernels/vae_kernels.cu) ----

    /** y = act(y + b[row]) in place. y: (R, N), b: (R, 1). Kernel: bias_act_forward. */
    void biasActForward(Tensor y, Tensor b, Activation act);

    /** dy *= act'(y), act' written in terms of the output y. dy, y: (R, N). Kernel: act_backward. */
    void actBackward(Tensor dy, Tensor y, Activation act);

    /**
     * eps = N(0,1) from Philox(seed, offset + e); z = mu + exp(0.5 lv) * eps.
     * mu, lv: (L, B); eps, z: (L, B*J). Kernel: reparam_forward.
     */
    void reparamForward(Tensor mu, Tensor lv, Tensor eps, Tensor z, long seed, long offset);

    /**
     * dmu = sum_j dz_j + beta mu / B; dlv = sum_j dz_j eps_j 0.5 exp(0.5 lv) + beta 0.5 (exp(lv) - 1) / B;
     * kl = -0.5 (1 + lv - mu^2 - exp(lv)) per element. mu, lv, dmu, dlv, kl: (L, B); eps, dz: (L, B*J);
     * invB = 1/B. Kernel: reparam_kl_backward.
     */
    void reparamKlBackward(Tensor mu, Tensor lv, Tensor eps, Tensor dz, Tensor dmu, Tensor dlv, Tensor kl,
                           float beta, float invB);

    /** kl = -0.5 (1 + lv - mu^2 - exp(lv)) per element. mu, lv, kl: (L, B). Kernel: kl_forward. */
    void klForward(Tensor mu, Tensor lv, Tensor kl);

    /**
     * Lanes per column of the fused loss ops: lane k of a column sums the loss of rows k, k + 32, ...
     * in increasing row order into partials[k, column] (the GPU's warp width).
     */
    int LOSS_LANES = 32;

    /**
     * The loss end of a step in one pass, Bernoulli decoder: logits l = pre + bias[row];
     * per element loss = max(l,0) - l x + log1p(exp(-|l|)) and grad = (sigmoid(l) - x) * scale;
     * the losses are not stored but summed per column into partials (LOSS_LANES, n): lane k of
     * column j holds the sum over rows k, k + LOSS_LANES, ... in increasing row order (a gemv with
     * ones then gives the per-column sums). pre, grad: (D, n); bias: (D, 1); x: (D, B), n a
     * multiple of B (sample s of input b in column s B + b). grad must not overlap pre, bias or x.
     * Kernel: sigmoid_bce.
     */
    void sigmoidBce(Tensor pre, Tensor bias, Tensor x, Tensor grad, Tensor partials, float scale);

    /**
     * The same for a unit-variance Gaussian decoder: m = pre + bias[row];
     * loss = 0.5 (m - x)^2 + 0.5 ln(2 pi), grad = (m - x) * scale. Kernel: gaussian_nll.
     */
    void gaussianNll(Tensor pre, Tensor bias, Tensor x, Tensor grad, Tensor partials, float scale);

    /**
     * The Gaussian with a learned log-variance s (D, 1) per feature: m = pre + bias[row],
     * loss = 0.5 (m - x)^2 e^-s + 0.5 s + 0.5 ln(2 pi) (summed into partials as sigmoidBce),
     * grad = (m - x) e^-s * scale, and dlv (D, n) = 0.5 (1 - (m - x)^2 e^-s) * scale per element, whose
     * row sums are the gradient of s. Kernel: gaussian_nll_var.
     */
    void gaussianNllVar(Tensor pre, Tensor bias, Tensor x, Tensor logvar, Tensor grad, Tensor dlv, Tensor partials, float scale);

    /**
     * Adam (Kingma and Ba 2015) in PyTorch's form over flat buffers, on g' = g + decay p (L2 weight
     * decay, fused: decay is 2 l2 on the weights and 0 on the biases; null: g' = g; g is not changed):
     * m = b1 m + (1-b1) g'; v = b2 v + (1-b2) g'^2; p -= lr m / bc1 / (sqrt(v / bc2) + eps),
     * bc1 = 1 - b1^t, bc2 = 1 - b2^t. p, g, m, v, decay: (P, 1). Kernel: adam_step.
     */
    void adamStep(Tensor p, Tensor g, Tensor m, Tensor v, Tensor decay, float lr, float b1, float b2, float eps,
                  float bc1, float bc2);

    /**
     * RMSprop (Tieleman and Hinton 2012, Keras form) on g' = g + decay p as adamStep:
     * ms = rho ms + (1-rho) g'^2; p -= lr g' / (sqrt(ms) + eps). Kernel: rmsprop_step.
     */
    void rmspropStep(Tensor p, Tensor g, Tensor ms, Tensor decay, float lr, float rho, float eps);

    /** dst[:, j] = src[:, idx[j]]. src: (R, N); dst: (R, idx.length). Kernel: gather_columns. */
    void gatherColumns(Tensor src, Indices idx, Tensor dst);

    /** x = uniform(seed, offset + e) < x ? 1 : 0 (dynamic binarization). Kernel: binarize. */
    void binarize(Tensor x, long seed, long offset);

    /** out = N(0,1) from Philox(seed, offset + e). Kernel: normal_fill. */
    void normal(Tensor out, long seed, long offset);

    // ---- IWAE (Burda, Grosse, Salakhutdinov 2016) ----

    /**
     * out = 0.5 (eps^2 + lv - z^2) per element: log p(z) - log q(z|x) before the sum over L.
     * lv: (L, B); eps, z, out: (L, B*K). Kernel: log_prior_ratio.
     */
    void logPriorRatio(Tensor lv, Tensor eps, Tensor z, Tensor out);

    /**
     * For each input b of B = n / K: a_k = -rec[k B + b] + d[k B + b]; w[k B + b] = exp(a_k - max) / sum;
     * lse[b] = log (1/K) sum_k exp(a_k). rec, d, w: (B*K); lse: (B). Kernel: iwae_weights.
     */
    void iwaeWeights(Tensor rec, Tensor d, Tensor w, Tensor lse, int samples);

    /** y[:, j] *= alpha s[j]. y: (R, N); s: (N). Kernel: scale_columns. */
    void scaleColumns(Tensor y, Tensor s, float alpha);

    /** y[:, j] += alpha s[j] x[:, j]. y, x: (R, N); s: (N). Kernel: add_scaled_columns. */
    void addScaledColumns(Tensor y, Tensor x, Tensor s, float alpha);

    @Override
    default void close() {}
}

package io.jvae.backend;

/**
 * The reference executor: every Backend method as a plain Java loop over float[] (GEMM/GEMV
 * through a real BLAS, see {@link Gemm}). Each element-wise method carries the formula of, and
 * computes exactly like, the CUDA kernel of the same name (float math, same operation order), so
 * the emulated kernels can be compared with it element by element. Large loops run on all cores
 * ({@link Parallel}).
 */
public final class CpuBackend implements Backend {

    /** Host storage: a float[] (or int[] for indices). */
    public static final class Floats implements Storage {
        public final float[] a;

        Floats(float[] a) {
            this.a = a;
        }

        @Override
        public long length() {
            return a.length;
        }
    }

    static final class Ints implements Storage {
        final int[] a;

        Ints(int[] a) {
            this.a = a;
        }

        @Override
        public long length() {
            return a.length;
        }
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public String describe() {
        return "cpu: " + Parallel.THREADS + " threads, GEMM " + Gemm.implementation() + ", element-wise " + Simd.describe()
                + ", first layer " + (SPARSE_INPUT ? "sparse when the batch is at most " + Math.round(100 * SparseColumns.MAX_DENSITY)
                + " % nonzero" : "dense (-Djvae.sparseInput=false)");
    }

    // ---- memory ----

    @Override
    public Tensor alloc(int rows, int cols) {
        long n = (long) rows * cols;
        if (n > Integer.MAX_VALUE - 8)
            throw new io.jvae.InvalidInputException("tensor " + rows + "x" + cols + " exceeds the 2^31 elements a Java array holds");
        LineAlignment.Placement at = LineAlignment.place(n);
        return new Tensor(new Floats(new float[at.length()]), at.offset(), rows, cols);
    }

    /** The array itself, no copy: the data sets of a run are not held twice on the heap. */
    @Override
    public Tensor constant(float[] host, int rows, int cols) {
        if ((long) rows * cols > host.length)
            throw new IllegalArgumentException("constant: " + rows + "x" + cols + " from " + host.length + " floats");
        return wrap(host, rows, cols);
    }

    @Override
    public boolean sharesHostArrays() {
        return true;
    }

    /** Where large tensors start in their arrays ({@link LineAlignment}), for `jvae info`. */
    public static String alignment() {
        return LineAlignment.describe();
    }

    /** Wraps an existing array (no copy) as a rows x cols tensor. */
    public static Tensor wrap(float[] a, int rows, int cols) {
        return new Tensor(new Floats(a), 0, rows, cols);
    }

    @Override
    public Indices allocIndices(int n) {
        return new Indices(new Ints(new int[n]), 0, n);
    }

    static float[] arr(Tensor t) {
        if (!(t.storage instanceof Floats f)) throw new IllegalArgumentException(t + " is not a CPU tensor");
        return f.a;
    }

    static int off(Tensor t) {
        return (int) t.offset;
    }

    @Override
    public void upload(float[] src, int srcOff, Tensor dst) {
        System.arraycopy(src, srcOff, arr(dst), off(dst), dst.size());
    }

    @Override
    public void download(Tensor src, float[] dst, int dstOff) {
        System.arraycopy(arr(src), off(src), dst, dstOff, src.size());
    }

    @Override
    public void uploadIndices(int[] src, int srcOff, Indices dst) {
        System.arraycopy(src, srcOff, ((Ints) dst.storage).a, (int) dst.offset, dst.length);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        sameSize("copy", src, dst);
        System.arraycopy(arr(src), off(src), arr(dst), off(dst), src.size());
    }

    @Override
    public void fill(Tensor t, float value) {
        java.util.Arrays.fill(arr(t), off(t), off(t) + t.size(), value);
    }

    // ---- BLAS ----

    @Override
    public void gemm(boolean ta, boolean tb, int m, int n, int k, float alpha, Tensor a, int lda,
                     Tensor b, int ldb, float beta, Tensor c, int ldc) {
        Gemm.check(ta, tb, m, n, k, lda, a.size(), ldb, b.size(), ldc, c.size());
        Gemm.sgemm(ta, tb, m, n, k, alpha, arr(a), off(a), lda, arr(b), off(b), ldb, beta, arr(c), off(c), ldc);
    }

    @Override
    public void gemv(boolean ta, int m, int n, float alpha, Tensor a, int lda, Tensor x, float beta, Tensor y) {
        int xLen = ta ? m : n, yLen = ta ? n : m;
        if (lda < Math.max(1, m) || (n > 0 && (long) lda * (n - 1) + m > a.size()) || x.size() < xLen || y.size() < yLen)
            throw new IllegalArgumentException("gemv(" + (ta ? "T" : "N") + ") m=" + m + " n=" + n + " lda=" + lda
                    + ": A " + a.shape() + " x " + x.shape() + " y " + y.shape());
        Gemm.sgemv(ta, m, n, alpha, arr(a), off(a), lda, arr(x), off(x), beta, arr(y), off(y));
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor y) {
        sameSize("axpy", x, y);
        float[] xa = arr(x), ya = arr(y);
        int xo = off(x), yo = off(y);
        Parallel.forRange(x.size(), (lo, hi) -> {
            if (Simd.AVAILABLE) SimdKernels.axpy(ya, yo, xa, xo, lo, hi, alpha);
            else axpyRange(ya, yo, xa, xo, lo, hi, alpha);
        });
    }

    /** The spec over [lo, hi): y += alpha x, a product then a sum (SimdKernels.axpy, the same bits, took half its time in a step). */
    static void axpyRange(float[] ya, int yo, float[] xa, int xo, int lo, int hi, float alpha) {
        for (int i = lo; i < hi; i++) ya[yo + i] += alpha * xa[xo + i];
    }

    // ---- sparse input ----

    /** Whether compress() makes sparse batches: -Djvae.sparseInput=false keeps every GEMM dense (A/B runs). */
    public static final boolean SPARSE_INPUT = !"false".equals(System.getProperty("jvae.sparseInput"));

    /** The sparse first layer's compression and products, with the arrays it keeps between batches. */
    final CpuSparse sparse = new CpuSparse();

    @Override
    public SparseColumns compress(Tensor x, SparseColumns reuse, boolean forGradient) {
        return sparse.compress(x, reuse, forGradient);
    }

    @Override
    public void gemmSparse(boolean transX, int m, Tensor a, int lda, SparseColumns x, Tensor c, int ldc) {
        CpuSparse.gemmSparse(transX, m, a, lda, x, c, ldc);
    }

    // ---- element-wise ----

    /** Columns per parallel chunk so that a chunk holds about Parallel.GRAIN elements. */
    static int colGrain(int rows) {
        return Math.max(1, Parallel.GRAIN / Math.max(1, rows));
    }

    @Override
    public void biasActForward(Tensor y, Tensor b, Activation act) {
        if (b.size() != y.rows) throw new IllegalArgumentException("biasActForward: bias " + b.shape() + " for y " + y.shape());
        float[] ya = arr(y), ba = arr(b);
        int yo = off(y), bo = off(b), rows = y.rows;
        Parallel.forRange(y.cols, colGrain(rows), (c0, c1) -> {
            for (int c = c0; c < c1; c++) biasActColumn(ya, yo + c * rows, ba, bo, rows, act);
        });
    }

    /** One column: the switch sits outside the loops so each loop is a straight, vectorizable pass. */
    private static void biasActColumn(float[] y, int o, float[] b, int bo, int rows, Activation act) {
        if (Simd.AVAILABLE && (act == Activation.IDENTITY || act == Activation.RELU || act == Activation.LEAKY_RELU)) {
            SimdKernels.biasAct(y, o, b, bo, rows, act);
            return;
        }
        if (Simd.AVAILABLE && act == Activation.TANH) {
            SimdKernels.biasTanh(y, o, b, bo, rows);
            return;
        }
        switch (act) {
            case IDENTITY -> {
                for (int r = 0; r < rows; r++) y[o + r] += b[bo + r];
            }
            case RELU -> {
                for (int r = 0; r < rows; r++) {
                    float v = y[o + r] + b[bo + r];
                    y[o + r] = v > 0f ? v : 0f;
                }
            }
            case LEAKY_RELU -> {
                for (int r = 0; r < rows; r++) {
                    float v = y[o + r] + b[bo + r];
                    y[o + r] = v > 0f ? v : Activation.LEAKY_SLOPE * v;
                }
            }
            case TANH -> {
                for (int r = 0; r < rows; r++) y[o + r] = FastMath.tanh(y[o + r] + b[bo + r]);
            }
            default -> {
                for (int r = 0; r < rows; r++) y[o + r] = act.apply(y[o + r] + b[bo + r]);
            }
        }
    }

    @Override
    public void actBackward(Tensor dy, Tensor y, Activation act) {
        sameSize("actBackward", dy, y);
        float[] da = arr(dy), ya = arr(y);
        int dO = off(dy), yo = off(y);
        Parallel.forRange(dy.size(), (lo, hi) -> {
            switch (act) {
                case IDENTITY -> { }
                case RELU -> {
                    if (Simd.AVAILABLE) SimdKernels.reluBackward(da, dO, ya, yo, lo, hi);
                    else for (int e = lo; e < hi; e++) da[dO + e] *= ya[yo + e] > 0f ? 1f : 0f; // as the kernel: -0.0 for negative dy
                }
                case TANH -> {
                    for (int e = lo; e < hi; e++) {
                        float v = ya[yo + e];
                        da[dO + e] *= 1f - v * v;
                    }
                }
                default -> {
                    for (int e = lo; e < hi; e++) da[dO + e] *= act.derivFromOutput(ya[yo + e]);
                }
            }
        });
    }

    @Override
    public void reparamForward(Tensor mu, Tensor lv, Tensor eps, Tensor z, long seed, long offset) {
        sameSize("reparamForward(mu, lv)", mu, lv);
        sameSize("reparamForward(eps, z)", eps, z);
        int per = mu.size();
        if (per == 0 || z.size() % per != 0)
            throw new IllegalArgumentException("reparamForward: z " + z.shape() + " is not J copies of mu " + mu.shape());
        float[] ma = arr(mu), la = arr(lv), ea = arr(eps), za = arr(z);
        int mo = off(mu), lo0 = off(lv), eo = off(eps), zo = off(z);
        Parallel.forRange(eps.size(), Parallel.GRAIN_COSTLY, (lo, hi) -> Philox.normals(seed, offset + lo, ea, eo + lo, hi - lo)); // counter-based: chunks are independent
        Parallel.forRange(z.size(), Parallel.GRAIN_COSTLY, (lo, hi) -> {
            for (int e = lo; e < hi; e++) {
                int i = e % per;
                za[zo + e] = ma[mo + i] + (float) Math.exp(0.5f * la[lo0 + i]) * ea[eo + e];
            }
        });
    }

    @Override
    public void reparamKlBackward(Tensor mu, Tensor lv, Tensor eps, Tensor dz, Tensor dmu, Tensor dlv, Tensor kl,
                                  float beta, float invB) {
        sameSize("reparamKlBackward(mu, lv)", mu, lv);
        sameSize("reparamKlBackward(mu, dmu)", mu, dmu);
        sameSize("reparamKlBackward(mu, dlv)", mu, dlv);
        sameSize("reparamKlBackward(eps, dz)", eps, dz);
        int per = mu.size();
        if (per == 0 || eps.size() % per != 0)
            throw new IllegalArgumentException("reparamKlBackward: eps " + eps.shape() + " is not J copies of mu " + mu.shape());
        int samples = eps.size() / per;
        float[] ma = arr(mu), la = arr(lv), ea = arr(eps), dza = arr(dz), dma = arr(dmu), dla = arr(dlv);
        float[] ka = kl == null ? null : arr(kl);
        int mo = off(mu), lvo = off(lv), eo = off(eps), dzo = off(dz), dmo = off(dmu), dlo = off(dlv), ko = kl == null ? 0 : off(kl);
        Parallel.forRange(per, Parallel.GRAIN_COSTLY, (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                float m = ma[mo + i], l = la[lvo + i];
                float sd = (float) Math.exp(0.5f * l), var = (float) Math.exp(l);
                float gz = 0f, gze = 0f;
                for (int j = 0; j < samples; j++) {
                    int e = i + j * per;
                    gz += dza[dzo + e];
                    gze += dza[dzo + e] * ea[eo + e];
                }
                dma[dmo + i] = gz + beta * m * invB;
                dla[dlo + i] = gze * 0.5f * sd + beta * 0.5f * (var - 1f) * invB;
                if (ka != null) ka[ko + i] = -0.5f * (1f + l - m * m - var);
            }
        });
    }

    @Override
    public void klForward(Tensor mu, Tensor lv, Tensor kl) {
        sameSize("klForward(mu, lv)", mu, lv);
        sameSize("klForward(mu, kl)", mu, kl);
        float[] ma = arr(mu), la = arr(lv), ka = arr(kl);
        int mo = off(mu), lvo = off(lv), ko = off(kl);
        Parallel.forRange(mu.size(), (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                float m = ma[mo + i], l = la[lvo + i];
                ka[ko + i] = -0.5f * (1f + l - m * m - (float) Math.exp(l));
            }
        });
    }

    // ---- the loss end (CpuLoss) ----

    @Override
    public void sigmoidBce(Tensor pre, Tensor bias, Tensor x, Tensor grad, Tensor partials, float scale) {
        CpuLoss.sigmoidBce(pre, bias, x, grad, partials, scale);
    }

    @Override
    public void gaussianNll(Tensor pre, Tensor bias, Tensor x, Tensor grad, Tensor partials, float scale) {
        CpuLoss.gaussianNll(pre, bias, x, grad, partials, scale);
    }

    @Override
    public void gaussianNllVar(Tensor pre, Tensor bias, Tensor x, Tensor logvar, Tensor grad, Tensor dlv, Tensor partials, float scale) {
        CpuLoss.gaussianNllVar(pre, bias, x, logvar, grad, dlv, partials, scale);
    }

    // ---- optimizers (CpuOptimizer) ----

    @Override
    public void adamStep(Tensor p, Tensor g, Tensor m, Tensor v, Tensor decay, float lr, float b1, float b2, float eps, float bc1, float bc2) {
        CpuOptimizer.adamStep(p, g, m, v, decay, lr, b1, b2, eps, bc1, bc2);
    }

    @Override
    public void rmspropStep(Tensor p, Tensor g, Tensor ms, Tensor decay, float lr, float rho, float eps) {
        CpuOptimizer.rmspropStep(p, g, ms, decay, lr, rho, eps);
    }

    @Override
    public void gatherColumns(Tensor src, Indices idx, Tensor dst) {
        if (src.rows != dst.rows || dst.cols != idx.length)
            throw new IllegalArgumentException("gatherColumns: src " + src.shape() + ", " + idx.length + " indices, dst " + dst.shape());
        float[] sa = arr(src), da = arr(dst);
        int[] ia = ((Ints) idx.storage).a;
        int so = off(src), dO = off(dst), io = (int) idx.offset, rows = src.rows, n = src.cols;
        Parallel.forRange(idx.length, colGrain(rows), (j0, j1) -> { // random columns of the data set: memory latency, not bandwidth
            for (int j = j0; j < j1; j++) {
                int c = ia[io + j];
                if (c < 0 || c >= n) throw new IllegalArgumentException("gatherColumns: index " + c + " outside [0, " + n + ")");
                System.arraycopy(sa, so + c * rows, da, dO + j * rows, rows);
            }
        });
    }

    @Override
    public void binarize(Tensor x, long seed, long offset) {
        float[] xa = arr(x);
        int xo = off(x), n = x.size();
        // ~2 ns an element (a Philox block per 4): split from 2,048 elements, not at the cheap ops' grain
        Parallel.forRange(n, 2048, (lo, hi) -> Philox.bernoulli(seed, offset + lo, xa, xo + lo, hi - lo));
    }

    @Override
    public void normal(Tensor out, long seed, long offset) {
        float[] a = arr(out);
        int o = off(out);
        Parallel.forRange(out.size(), Parallel.GRAIN_COSTLY, (lo, hi) -> Philox.normals(seed, offset + lo, a, o + lo, hi - lo));
    }

    // ---- IWAE ----

    @Override
    public void logPriorRatio(Tensor lv, Tensor eps, Tensor z, Tensor out) {
        sameSize("logPriorRatio(eps, z)", eps, z);
        sameSize("logPriorRatio(eps, out)", eps, out);
        int per = lv.size();
        if (per == 0 || eps.size() % per != 0) throw new IllegalArgumentException("logPriorRatio: eps " + eps.shape() + " is not K copies of lv " + lv.shape());
        float[] la = arr(lv), ea = arr(eps), za = arr(z), oa = arr(out);
        int lo0 = off(lv), eo = off(eps), zo = off(z), oo = off(out);
        Parallel.forRange(eps.size(), (lo, hi) -> {
            for (int e = lo; e < hi; e++) {
                float ep = ea[eo + e], zz = za[zo + e];
                oa[oo + e] = 0.5f * (ep * ep + la[lo0 + e % per] - zz * zz);
            }
        });
    }

    @Override
    public void iwaeWeights(Tensor rec, Tensor d, Tensor w, Tensor lse, int samples) {
        sameSize("iwaeWeights(rec, d)", rec, d);
        sameSize("iwaeWeights(rec, w)", rec, w);
        int n = rec.size(), b = lse.size();
        if (samples <= 0 || (long) b * samples != n) throw new IllegalArgumentException("iwaeWeights: " + n + " samples are not " + b + " inputs x " + samples);
        float[] ra = arr(rec), da = arr(d), wa = arr(w), sa = arr(lse);
        int ro = off(rec), dO = off(d), wo = off(w), so = off(lse);
        for (int i = 0; i < b; i++) {
            float m = Float.NEGATIVE_INFINITY;
            for (int k = 0; k < samples; k++) m = Math.max(m, da[dO + k * b + i] - ra[ro + k * b + i]);
            float sum = 0f;
            for (int k = 0; k < samples; k++) {
                float e = (float) Math.exp(da[dO + k * b + i] - ra[ro + k * b + i] - m);
                wa[wo + k * b + i] = e;
                sum += e;
            }
            for (int k = 0; k < samples; k++) wa[wo + k * b + i] /= sum;
            sa[so + i] = m + (float) Math.log(sum) - (float) Math.log(samples);
        }
    }

    @Override
    public void scaleColumns(Tensor y, Tensor sc, float alpha) {
        if (sc.size() != y.cols) throw new IllegalArgumentException("scaleColumns: " + sc.size() + " scales for " + y.shape());
        float[] ya = arr(y), s = arr(sc);
        int yo = off(y), so = off(sc), rows = y.rows;
        Parallel.forRange(y.cols, colGrain(rows), (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                float f = alpha * s[so + c];
                for (int r = 0; r < rows; r++) ya[yo + c * rows + r] *= f;
            }
        });
    }

    @Override
    public void addScaledColumns(Tensor y, Tensor x, Tensor sc, float alpha) {
        sameSize("addScaledColumns(y, x)", y, x);
        if (sc.size() != y.cols) throw new IllegalArgumentException("addScaledColumns: " + sc.size() + " scales for " + y.shape());
        float[] ya = arr(y), xa = arr(x), s = arr(sc);
        int yo = off(y), xo = off(x), so = off(sc), rows = y.rows;
        Parallel.forRange(y.cols, colGrain(rows), (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                float f = alpha * s[so + c];
                for (int r = 0; r < rows; r++) ya[yo + c * rows + r] += f * xa[xo + c * rows + r];
            }
        });
    }

    // ---- checks ----

    static void sameSize(String op, Tensor a, Tensor b) {
        if (a.size() != b.size()) throw new IllegalArgumentException(op + ": sizes differ, " + a.shape() + " vs " + b.shape());
    }

    /** Whether two tensors share any element. */
    static boolean overlaps(Tensor a, Tensor b) {
        return a.storage == b.storage && a.offset < b.offset + b.size() && b.offset < a.offset + a.size();
    }

}

package io.jvae.backend;

import dev.ludovic.netlib.blas.BLAS;

/**
 * float32 GEMM/GEMV with the Fortran-BLAS arguments. The fast path is a real BLAS through
 * dev.ludovic.netlib: the OpenBLAS shipped in the jar ({@link NativeBlas}), or the system's
 * libblas.so.3 or netlib's Java code when asked (-Djvae.blas). The triple loop {@link #gemmNaive} is the spec the fast path is tested against;
 * {@code -Djvae.naiveGemm=true} switches every call to it.
 */
public final class Gemm {
    private Gemm() {}

    public static final boolean NAIVE_GEMM = Boolean.getBoolean("jvae.naiveGemm");

    /** netlib logs a WARNING for every implementation it tries and skips; we report the one chosen in `jvae info`. */
    private static final java.util.logging.Logger NETLIB_LOG = java.util.logging.Logger.getLogger("dev.ludovic.netlib");

    private static final class Holder { // loaded on first use
        static final BLAS BLAS_IMPL;

        static {
            NETLIB_LOG.setLevel(java.util.logging.Level.SEVERE);
            NativeBlas.configure(); // the bundled OpenBLAS unless -Djvae.blas says otherwise, before netlib loads one
            BLAS_IMPL = NativeBlas.javaRequested() ? dev.ludovic.netlib.blas.JavaBLAS.getInstance() : BLAS.getInstance();
            if (NativeBlas.note() != null) System.err.println("jvae: " + NativeBlas.note());
            boolean nativeLoaded = BLAS_IMPL.getClass().getSimpleName().startsWith("JNI");
            if (!nativeLoaded && !NativeBlas.javaRequested())
                System.err.println("jvae: no native BLAS could be loaded; the CPU GEMMs run on netlib's pure-Java BLAS, 3-10x slower");
            else if (nativeLoaded && !NAIVE_GEMM && NativeBlas.referenceLoaded())
                System.err.println("jvae: " + NativeBlas.referenceWarning());
        }
    }

    /** The class doing the work and the library it calls: e.g. "JNIBLAS (native OpenBLAS 0.3.31 (bundled, ...))". */
    public static String implementation() {
        if (NAIVE_GEMM) return "naive triple loop (-Djvae.naiveGemm)";
        String cls = Holder.BLAS_IMPL.getClass().getSimpleName();
        return cls + (cls.startsWith("JNI") ? " (native " + NativeBlas.describeLoaded() + NativeBlas.loadedKernels() + ")"
                : NativeBlas.javaRequested() ? " (pure Java, -D" + NativeBlas.PROPERTY + "=java)" : " (pure Java)");
    }

    /**
     * True when GEMMs run on a multi-threaded native BLAS (OpenBLAS' pthread or OpenMP build, as the
     * bundled one, not its serial one, and OPENBLAS_NUM_THREADS not 1): its threads own every core
     * during a GEMM and spin on them for a while after it (see {@link Parallel#THREADS}).
     */
    public static boolean threadedNative() {
        if (!isNative()) return false;
        String lib = NativeBlas.describeLoaded().toLowerCase(java.util.Locale.ROOT);
        return lib.startsWith("openblas") && !lib.contains("serial") && !"1".equals(System.getenv("OPENBLAS_NUM_THREADS"));
    }

    public static boolean isNative() {
        return !NAIVE_GEMM && Holder.BLAS_IMPL.getClass().getSimpleName().startsWith("JNI");
    }

    public static void check(boolean ta, boolean tb, int m, int n, int k, int lda, int aLen, int ldb, int bLen, int ldc, int cLen) {
        int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
        if (m < 0 || n < 0 || k < 0) throw new IllegalArgumentException("gemm: negative m,n,k " + m + "," + n + "," + k);
        if (lda < Math.max(1, aRows)) throw new IllegalArgumentException("gemm(" + t(ta) + "," + t(tb) + "): lda=" + lda + " < rows(A)=" + aRows);
        if (ldb < Math.max(1, bRows)) throw new IllegalArgumentException("gemm(" + t(ta) + "," + t(tb) + "): ldb=" + ldb + " < rows(B)=" + bRows);
        if (ldc < Math.max(1, m)) throw new IllegalArgumentException("gemm(" + t(ta) + "," + t(tb) + "): ldc=" + ldc + " < m=" + m);
        if (aCols > 0 && (long) lda * (aCols - 1) + aRows > aLen) throw new IllegalArgumentException("gemm: A needs " + ((long) lda * (aCols - 1) + aRows) + " floats, view has " + aLen);
        if (bCols > 0 && (long) ldb * (bCols - 1) + bRows > bLen) throw new IllegalArgumentException("gemm: B needs " + ((long) ldb * (bCols - 1) + bRows) + " floats, view has " + bLen);
        if (n > 0 && (long) ldc * (n - 1) + m > cLen) throw new IllegalArgumentException("gemm: C needs " + ((long) ldc * (n - 1) + m) + " floats, view has " + cLen);
    }

    private static String t(boolean tr) {
        return tr ? "T" : "N";
    }

    /** C = alpha op(A) op(B) + beta C on arrays with element offsets. */
    public static void sgemm(boolean ta, boolean tb, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                             float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        if (m == 0 || n == 0) return;
        if (NAIVE_GEMM) {
            gemmNaive(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            return;
        }
        if (Simd.AVAILABLE && SimdThinGemm.handles(ta, m, n, k)) {
            SimdThinGemm.gemm(tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            return;
        }
        blas(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    /** The same in the BLAS whatever the shapes (split across threads as sgemm would). */
    static void blas(boolean ta, boolean tb, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                     float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        if (Split.ON && 2.0 * m * n * k >= Split.MIN_FLOPS) {
            split(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, Split.parts(m, n, k));
            return;
        }
        Holder.BLAS_IMPL.sgemm(t(ta), t(tb), m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    /**
     * Who splits a product across threads, decided here alone (Parallel decides how many threads
     * there are): the dense GEMMs when the BLAS runs each call on one thread and there are several,
     * the sparse first layer's whenever there are several.
     */
    static final class Split { // a holder: Parallel's static init asks Gemm about the BLAS
        static final boolean ON = !NAIVE_GEMM && Parallel.THREADS > 1 && !threadedNative();
        /** Below ~1 MFLOP (8 microseconds on one core) a GEMM stays on its caller. */
        static final double MIN_FLOPS = 1 << 20;
        /** Narrowest block handed to a thread: thinner ones waste the BLAS kernel's register tiles. */
        static final int MIN_WIDTH = 16;

        /** Blocks for a GEMM: one per thread, but no more than ceil(FLOPs / MIN_FLOPS), each >= MIN_WIDTH wide (many-core machines). */
        static int parts(int m, int n, int k) {
            long byWork = (long) Math.ceil(2.0 * m * n * k / MIN_FLOPS);
            return (int) Math.max(1, Math.min(Math.min(Parallel.THREADS, byWork), Math.max(m, n) / MIN_WIDTH));
        }

        /**
         * Blocks for the sparse first layer's products (CpuSparse, Java code: split whatever the
         * BLAS does): one per thread, in whole vectors of C's m rows (`vecs` of them), none under
         * MIN_FLOPS of work (2 m nnz FLOPs executed).
         */
        static int sparseParts(int m, long nnz, int vecs) {
            return 2.0 * m * nnz < MIN_FLOPS ? 1 : Math.min(Parallel.THREADS, vecs);
        }
    }

    /** Whether {@link #sgemm} splits large GEMMs across {@link Parallel#THREADS} threads. */
    public static boolean splits() {
        return Split.ON;
    }

    /**
     * C = alpha op(A) op(B) + beta C as `parts` independent BLAS calls on blocks of C's columns (or
     * of its rows when C has more rows than columns), run by {@link Parallel#chunks}. Each element
     * of C is computed by one call over the whole k, as in the unsplit call.
     */
    static void split(boolean ta, boolean tb, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                      float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc, int parts) {
        String sa = t(ta), sb = t(tb);
        if (n >= m)
            Parallel.chunks(n, parts, (lo, hi) -> Holder.BLAS_IMPL.sgemm(sa, sb, m, hi - lo, k, alpha, a, aOff, lda,
                    b, bOff + (tb ? lo : lo * ldb), ldb, beta, c, cOff + lo * ldc, ldc));
        else
            Parallel.chunks(m, parts, (lo, hi) -> Holder.BLAS_IMPL.sgemm(sa, sb, hi - lo, n, k, alpha, a, aOff + (ta ? lo * lda : lo), lda,
                    b, bOff, ldb, beta, c, cOff + lo, ldc));
    }

    /** y = alpha op(A) x + beta y. */
    public static void sgemv(boolean ta, int m, int n, float alpha, float[] a, int aOff, int lda,
                             float[] x, int xOff, float beta, float[] y, int yOff) {
        if (m == 0 || n == 0) {
            int len = ta ? n : m;
            for (int i = 0; i < len; i++) y[yOff + i] = beta == 0f ? 0f : beta * y[yOff + i];
            return;
        }
        if (NAIVE_GEMM) {
            gemvNaive(ta, m, n, alpha, a, aOff, lda, x, xOff, beta, y, yOff);
            return;
        }
        Holder.BLAS_IMPL.sgemv(t(ta), m, n, alpha, a, aOff, lda, x, xOff, 1, beta, y, yOff, 1);
    }

    /** The spec: C[i,j] = alpha sum_p op(A)[i,p] op(B)[p,j] + beta C[i,j], accumulated in double. */
    public static void gemmNaive(boolean ta, boolean tb, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                                 float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < m; i++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    float av = ta ? a[aOff + p + i * lda] : a[aOff + i + p * lda];
                    float bv = tb ? b[bOff + j + p * ldb] : b[bOff + p + j * ldb];
                    s += (double) av * bv;
                }
                int ci = cOff + i + j * ldc;
                c[ci] = (float) (alpha * s + (beta == 0f ? 0.0 : (double) beta * c[ci]));
            }
        }
    }

    static void gemvNaive(boolean ta, int m, int n, float alpha, float[] a, int aOff, int lda,
                          float[] x, int xOff, float beta, float[] y, int yOff) {
        int len = ta ? n : m, inner = ta ? m : n;
        for (int i = 0; i < len; i++) {
            double s = 0;
            for (int p = 0; p < inner; p++) {
                float av = ta ? a[aOff + p + i * lda] : a[aOff + i + p * lda];
                s += (double) av * x[xOff + p];
            }
            y[yOff + i] = (float) (alpha * s + (beta == 0f ? 0.0 : (double) beta * y[yOff + i]));
        }
    }
}

package io.jvae.backend;

import io.jvae.testing.Close;
import io.jvae.testing.Rand;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The fast GEMM/GEMV (a real BLAS) against the naive spec, over every transpose and padded leading dimensions. */
class GemmTest {
    // float accumulation over k <= 300 terms of |a b| <= 1: error <= k * 2^-24 * sum|ab| ~ 1e-4 worst case
    static final float ATOL = 2e-4f, RTOL = 1e-4f;

    @Test
    void everyTransposeAndLeadingDimension() {
        Rand r = new Rand(1);
        int[][] shapes = {{1, 1, 1}, {7, 5, 3}, {31, 17, 300}, {64, 33, 1}, {3, 130, 65}};
        for (int[] s : shapes)
            for (boolean ta : new boolean[] {false, true})
                for (boolean tb : new boolean[] {false, true})
                    for (int pad : new int[] {0, 3}) {
                        int m = s[0], n = s[1], k = s[2];
                        int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
                        int lda = aRows + pad, ldb = bRows + pad, ldc = m + pad;
                        float[] a = r.uniform(lda * aCols + 2, -1, 1), b = r.uniform(ldb * bCols + 1, -1, 1);
                        float[] c0 = r.uniform(ldc * n + 4, -1, 1), c1 = c0.clone();
                        Gemm.gemmNaive(ta, tb, m, n, k, 0.7f, a, 2, lda, b, 1, ldb, 0.3f, c0, 4, ldc);
                        Gemm.sgemm(ta, tb, m, n, k, 0.7f, a, 2, lda, b, 1, ldb, 0.3f, c1, 4, ldc);
                        Close.assertAllClose("C " + m + "x" + n + "x" + k + " " + ta + tb + " pad" + pad, c0, c1, ATOL, RTOL);
                    }
    }

    @Test
    void splitIntoColumnOrRowBlocksMatchesTheSpec() {
        // the blocks jvae hands its threads when the BLAS is single-threaded: columns of C when
        // n >= m, rows otherwise; same tolerance as above (each block is one BLAS call over all of k)
        Rand r = new Rand(3);
        int[][] shapes = {{7, 5, 3}, {31, 17, 300}, {3, 130, 65}, {400, 20, 128}, {20, 400, 128}};
        for (int[] s : shapes)
            for (boolean ta : new boolean[] {false, true})
                for (boolean tb : new boolean[] {false, true})
                    for (int parts : new int[] {1, 2, 3}) {
                        int m = s[0], n = s[1], k = s[2], pad = 2;
                        int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
                        int lda = aRows + pad, ldb = bRows + pad, ldc = m + pad;
                        float[] a = r.uniform(lda * aCols + 2, -1, 1), b = r.uniform(ldb * bCols + 1, -1, 1);
                        float[] c0 = r.uniform(ldc * n + 4, -1, 1), c1 = c0.clone();
                        Gemm.gemmNaive(ta, tb, m, n, k, 0.7f, a, 2, lda, b, 1, ldb, 0.3f, c0, 4, ldc);
                        Gemm.split(ta, tb, m, n, k, 0.7f, a, 2, lda, b, 1, ldb, 0.3f, c1, 4, ldc, parts);
                        Close.assertAllClose("split " + parts + " C " + m + "x" + n + "x" + k + " " + ta + tb, c0, c1, ATOL, RTOL);
                        for (int col = 0; col < n; col++) // padding rows between C's columns untouched
                            for (int p = m; p < ldc && 4 + col * ldc + p < c0.length; p++)
                                assertEquals(c0[4 + col * ldc + p], c1[4 + col * ldc + p], "padding");
                    }
    }

    @Test
    void thinKernelGivesItsSpecsBitsAndTheNaiveProductWithinRounding() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Simd.AVAILABLE, "no Vector API");
        // rows in 4-, 2- and 1-vector blocks, columns in groups of 4 and single ones, k = 1 .. 128;
        // the kernel is split across the team as in training (one element, one thread, one order):
        // its bits must be the spec's fma chain; against the double-accumulated spec, the tolerance above
        Rand r = new Rand(5);
        int l = SimdKernels.width();
        int[][] shapes = {{400, 128, 20}, {400, 20, 128}, {7 * l, 7, 3}, {16 * l, 33, 1}, {l, 5, 9}};
        float[][] alphaBeta = {{1f, 0f}, {0.7f, 0f}, {1f, 1f}, {0.7f, 0.3f}};
        for (int[] s : shapes)
            for (boolean tb : new boolean[] {false, true})
                for (float[] ab : alphaBeta) {
                    int m = s[0], n = s[1], k = s[2], pad = 3;
                    int bRows = tb ? n : k, bCols = tb ? k : n, lda = m + pad, ldb = bRows + pad, ldc = m + pad;
                    float[] a = r.uniform(lda * k + 2, -1, 1), b = r.uniform(ldb * bCols + 1, -1, 1);
                    float[] c0 = r.uniform(ldc * n + 4, -1, 1), c1 = c0.clone(), c2 = c0.clone();
                    String what = "thin " + m + "x" + n + "x" + k + " tb=" + tb + " alpha=" + ab[0] + " beta=" + ab[1];
                    SimdThinGemm.spec(tb, m, n, k, ab[0], a, 2, lda, b, 1, ldb, ab[1], c0, 4, ldc);
                    SimdThinGemm.gemm(tb, m, n, k, ab[0], a, 2, lda, b, 1, ldb, ab[1], c1, 4, ldc);
                    for (int i = 0; i < c0.length; i++) // padding rows between C's columns untouched too
                        assertEquals(Float.floatToRawIntBits(c0[i]), Float.floatToRawIntBits(c1[i]), what + ": element " + i);
                    Gemm.gemmNaive(false, tb, m, n, k, ab[0], a, 2, lda, b, 1, ldb, ab[1], c2, 4, ldc);
                    Close.assertAllClose(what, c2, c1, ATOL, RTOL);
                }
    }

    @Test
    void onlyTheTallThinShapesGoToTheThinKernel() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Simd.AVAILABLE, "no Vector API");
        // the decoder's latent-sized products at the pytorch preset's sizes (faster there), not the
        // 20-row ones, the transposed-A ones or 200 rows of 16 lanes (slower there: bench/RESULTS.md)
        assertTrue(SimdThinGemm.handles(false, 400, 128, 20), "NN 400x128x20");
        assertTrue(SimdThinGemm.handles(false, 400, 20, 1024), "NT 400x20x1024");
        assertFalse(SimdThinGemm.handles(false, 20, 128, 400), "20 rows");
        assertFalse(SimdThinGemm.handles(true, 400, 128, 20), "A transposed");
        assertFalse(SimdThinGemm.handles(false, 784, 128, 400), "not thin");
        assertEquals(SimdKernels.width() <= 8, SimdThinGemm.handles(false, 256 + 8, 128, 20), "rows in whole vectors");
        // and Gemm.sgemm sends them there: the same bits as the kernel called directly
        Rand r = new Rand(6);
        float[] a = r.uniform(400 * 20, -1, 1), b = r.uniform(20 * 128, -1, 1), c0 = new float[400 * 128], c1 = new float[400 * 128];
        SimdThinGemm.spec(false, 400, 128, 20, 1f, a, 0, 400, b, 0, 20, 0f, c0, 0, 400);
        Gemm.sgemm(false, false, 400, 128, 20, 1f, a, 0, 400, b, 0, 20, 0f, c1, 0, 400);
        assertArrayEquals(c0, c1, "Gemm.sgemm on a thin shape");
    }

    @Test
    void blocksPerGemmAreBoundedByThreadsWorkAndWidth() {
        int t = Parallel.THREADS;
        assertEquals(Math.min(t, 784 / 16), Gemm.Split.parts(784, 128, 400), "a big GEMM: one block per thread");
        assertEquals(1, Gemm.Split.parts(20, 20, 20), "16,000 FLOPs: not worth a hand-off");
        assertEquals(1, Gemm.Split.parts(20, 16, 4096), "2.6 MFLOP but 20 wide: blocks of 16 at least");
        assertEquals(Math.min(t, 2), Gemm.Split.parts(400, 128, 20), "2 MFLOP: two blocks at most");
        assertEquals(Math.min(t, 64), Gemm.Split.parts(4096, 4096, 64), "2 GFLOP: up to 64 blocks");
    }

    @Test
    void testsRunTheShippedThreadingMode() {
        // surefire sets OPENBLAS_NUM_THREADS=1 and -Djvae.threads=2, as ./jvae does on this machine:
        // every GEMM of the other tests then goes through split() when it has a native BLAS
        org.junit.jupiter.api.Assumptions.assumeTrue(Gemm.isNative(), "no native BLAS");
        assertEquals("1", System.getenv("OPENBLAS_NUM_THREADS"));
        assertTrue(Gemm.splits(), "GEMMs split across jvae's threads");
    }

    @Test
    void gemvBothWays() {
        Rand r = new Rand(2);
        for (boolean t : new boolean[] {false, true}) {
            int m = 37, n = 19, lda = 40;
            float[] a = r.uniform(lda * n, -1, 1), x = r.uniform(t ? m : n, -1, 1);
            float[] y0 = r.uniform(t ? n : m, -1, 1), y1 = y0.clone();
            Gemm.gemvNaive(t, m, n, 1.5f, a, 0, lda, x, 0, 0.5f, y0, 0);
            Gemm.sgemv(t, m, n, 1.5f, a, 0, lda, x, 0, 0.5f, y1, 0);
            Close.assertAllClose("y trans=" + t, y0, y1, ATOL, RTOL);
        }
    }

    @Test
    void backendChecksLeadingDimensions() {
        CpuBackend be = new CpuBackend();
        Tensor a = be.alloc(4, 4), b = be.alloc(4, 4), c = be.alloc(4, 4);
        assertThrows(IllegalArgumentException.class, () -> be.gemm(false, false, 4, 4, 4, 1, a, 3, b, 4, 0, c, 4));
        assertThrows(IllegalArgumentException.class, () -> be.gemm(false, false, 5, 4, 4, 1, a, 5, b, 4, 0, c, 5));
    }
}

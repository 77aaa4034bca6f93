package io.jvae.backend;

import io.jvae.testing.Rand;
import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The first layer's sparse products (CpuBackend.compress, gemmSparse) against the dense spec
 * (Gemm.gemmNaive, double accumulation), and their SIMD kernels against the scalar spec bit for bit.
 */
class SparseGemmTest {
    private final CpuBackend be = new CpuBackend();

    /** rows x cols, each entry nonzero with probability density (value in (-1, 1), some exact -0.0 zeros). */
    static float[] sparse(Rand r, int rows, int cols, double density) {
        float[] u = r.uniform(rows * cols, 0, 1), v = r.uniform(rows * cols, -1, 1);
        float[] x = new float[rows * cols];
        for (int i = 0; i < x.length; i++) x[i] = u[i] < density ? v[i] : (i % 7 == 0 ? -0f : 0f);
        return x;
    }

    /**
     * A float sum of n products, each rounded once (fma), is within n 2^-24 sum|a x| of the exact
     * value (the standard bound gamma_n); the spec accumulates in double, so that bound (plus one
     * rounding of the result) is the tolerance, element by element.
     */
    static void assertWithinSumBound(String what, float[] spec, float[] got, float[] absSum, int terms) {
        for (int i = 0; i < spec.length; i++) {
            double tol = (terms + 1) * 0x1p-24 * absSum[i] + 1e-30;
            assertTrue(Math.abs(spec[i] - got[i]) <= tol, what + " element " + i + ": " + got[i] + " vs " + spec[i] + " (tol " + tol + ")");
        }
    }

    @Test
    void compressListsEveryNonzeroInOrderAndRebuildsTheMatrix() {
        Rand r = new Rand(11);
        for (int rows : new int[] {1, 15, 16, 37, 784})
            for (double d : new double[] {0, 0.05, 0.3}) {
                int cols = 9;
                float[] x = sparse(r, rows, cols, d);
                long nonzero = 0;
                for (float v : x) if (v != 0f) nonzero++;
                SparseColumns s = be.compress(CpuBackend.wrap(x, rows, cols), null, true);
                if (nonzero > SparseColumns.MAX_DENSITY * rows * cols) {
                    assertNull(s, "denser than MAX_DENSITY: left to the dense GEMM");
                    continue;
                }
                assertNotNull(s, nonzero + " nonzeros of " + rows * cols);
                float[] back = new float[rows * cols];
                long nnz = 0;
                for (int j = 0; j < cols; j++) {
                    for (int t = j * rows; t < j * rows + s.colNnz[j]; t++) {
                        if (t > j * rows) assertTrue(s.colIdx[t] > s.colIdx[t - 1], "rows ascending");
                        assertNotEquals(0f, s.colVal[t], "only nonzeros listed");
                        back[j * rows + s.colIdx[t]] = s.colVal[t];
                    }
                    nnz += s.colNnz[j];
                }
                for (int i = 0; i < x.length; i++) assertEquals(x[i] == 0f ? 0f : x[i], back[i], "element " + i + " (-0.0 is a zero)");
                assertEquals(nnz, s.nnz());
                assertEquals((double) nnz / (rows * cols), s.density(), 1e-12);
            }
    }

    @Test
    void denseInputIsLeftToTheDenseGemm() {
        Rand r = new Rand(12);
        Tensor x = CpuBackend.wrap(sparse(r, 100, 20, 0.9), 100, 20);
        assertNull(be.compress(x, null, true), "90 % nonzero: above MAX_DENSITY, so no compressed form");
        SparseColumns kept = be.sparse.spare;
        assertNotNull(kept, "the arrays filled for the dense batch are kept");
        assertNull(be.compress(x, null, true));
        assertSame(kept, be.sparse.spare, "a second dense batch refills them instead of allocating");
        Tensor y = CpuBackend.wrap(sparse(r, 100, 20, 0.1), 100, 20);
        SparseColumns s = be.compress(y, null, true);
        assertNotNull(s);
        assertSame(kept, s, "and hands them out for the next sparse batch");
        assertNull(be.sparse.spare, "once, to one holder");
        assertTrue(s.isOf(y) && s.isOf(y.firstCols(20)) && !s.isOf(y.firstCols(19)), "isOf compares storage, offset and shape");
        assertSame(s, be.compress(y.firstCols(10), s, true), "arrays reused for a batch that fits");
        assertEquals(10, s.cols());
    }

    @Test
    void bothProductsMatchTheDenseSpec() {
        Rand r = new Rand(13);
        // m: 400 (blocks of 8 and 4 vectors and one more at 16 lanes), 37 (2 vectors + 5 scalar rows), 5 (scalar only)
        for (int m : new int[] {400, 37, 5})
            for (int[] kn : new int[][] {{784, 64}, {50, 300}, {3, 1}}) {
                int k = kn[0], n = kn[1], lda = m + 3;
                float[] x = sparse(r, k, n, 0.2);
                SparseColumns s = be.compress(CpuBackend.wrap(x, k, n), null, true);
                assertNotNull(s);
                // C = A X, A (m, k)
                float[] a = r.uniform(lda * k + 2, -1, 1), c = r.uniform(lda * n + 1, -1, 1), spec = c.clone();
                be.gemmSparse(false, m, new Tensor(new CpuBackend.Floats(a), 2, lda, k), lda, s, new Tensor(new CpuBackend.Floats(c), 1, lda, n), lda);
                Gemm.gemmNaive(false, false, m, n, k, 1f, a, 2, lda, x, 0, k, 0f, spec, 1, lda);
                float[] absA = abs(a), absX = abs(x), bound = new float[spec.length];
                Gemm.gemmNaive(false, false, m, n, k, 1f, absA, 2, lda, absX, 0, k, 0f, bound, 1, lda);
                assertWithinSumBound("A X " + m + "x" + n + "x" + k, spec, c, bound, k);
                for (int j = 0; j < n; j++) for (int p = m; p < lda && 1 + j * lda + p < c.length; p++)
                    assertEquals(spec[1 + j * lda + p], c[1 + j * lda + p], "rows of C past m untouched");
                // C = A X^T, A (m, n)
                float[] a2 = r.uniform(lda * n, -1, 1), c2 = r.uniform(lda * k, -1, 1), spec2 = c2.clone();
                be.gemmSparse(true, m, CpuBackend.wrap(a2, lda, n), lda, s, CpuBackend.wrap(c2, lda, k), lda);
                Gemm.gemmNaive(false, true, m, k, n, 1f, a2, 0, lda, x, 0, k, 0f, spec2, 0, lda);
                float[] bound2 = new float[spec2.length];
                Gemm.gemmNaive(false, true, m, k, n, 1f, abs(a2), 0, lda, absX, 0, k, 0f, bound2, 0, lda);
                assertWithinSumBound("A X^T " + m + "x" + k + "x" + n, spec2, c2, bound2, n);
            }
    }

    @Test
    void simdSparseIsTheScalarSpecBitForBit() {
        if (!Simd.AVAILABLE) return; // the scalar loops are what runs then
        Rand r = new Rand(14);
        int k = 300, n = 70, m = 400, lda = m;
        float[] x = sparse(r, k, n, 0.2);
        SparseColumns s = be.compress(CpuBackend.wrap(x, k, n), null, true);
        float[] a = r.uniform(m * k, -1, 1), a2 = r.uniform(m * n, -1, 1);
        int[] cursor = new int[Math.max(k, n)];
        for (int[] rows : new int[][] {{0, 400}, {0, 16}, {16, 400}, {32, 37}, {0, 3}, {192, 400}}) {
            float[] c0 = new float[m * n], c1 = new float[m * n];
            CpuSparse.sparseTimes(rows[0], rows[1], 0, n, a, 0, lda, s, c0, 0, m, false);
            SimdSparse.sparseTimes(rows[0], rows[1], 0, n, a, 0, lda, s, c1, 0, m, cursor, 0, k, false);
            // a range of columns: those alone written, as the spec writes them
            float[] e0 = new float[m * n], e1 = new float[m * n];
            CpuSparse.sparseTimes(rows[0], rows[1], 13, 51, a, 0, lda, s, e0, 0, m, false);
            SimdSparse.sparseTimes(rows[0], rows[1], 13, 51, a, 0, lda, s, e1, 0, m, cursor, 0, k, false);
            assertArrayEquals(e0, e1, "A X rows " + rows[0] + ".." + rows[1] + ", columns 13..51");
            for (int j = 0; j < n; j++) for (int q = rows[0]; q < rows[1]; q++)
                if (j < 13 || j >= 51) assertEquals(0f, e1[j * m + q], "column " + j + " outside the range untouched");
                else assertEquals(c0[j * m + q], e1[j * m + q], "column " + j + " as in the whole product");
            assertArrayEquals(c0, c1, "A X rows " + rows[0] + ".." + rows[1]);
            // A X^T: the forward kernel over the parts of X's transpose that compress() listed, the
            // first from 0 and the others adding to C; the scalar kernel the same way
            SparseColumns[] xt = s.transposeParts;
            float[] d0 = new float[m * k], d1 = new float[m * k], d2 = new float[m * k];
            CpuSparse.timesSparseT(rows[0], rows[1], a2, 0, lda, s, d0, 0, m);
            for (int p = 0; p < xt.length; p++) {
                SimdSparse.sparseTimes(rows[0], rows[1], 0, k, a2, 0, lda, xt[p], d1, 0, m, cursor, s.partFrom[p], s.partFrom[p + 1], p > 0);
                CpuSparse.sparseTimes(rows[0], rows[1], 0, k, a2, 0, lda, xt[p], d2, 0, m, p > 0);
            }
            assertArrayEquals(d0, d1, "A X^T rows " + rows[0] + ".." + rows[1] + " over " + xt.length + " parts");
            assertArrayEquals(d0, d2, "A X^T rows " + rows[0] + ".." + rows[1] + ", scalar, over " + xt.length + " parts");
        }
        // and the threaded product over all rows is the spec over all rows: one order for any thread count
        float[] c0 = new float[m * n], c1 = new float[m * n];
        CpuSparse.sparseTimes(0, m, 0, n, a, 0, lda, s, c0, 0, m, false);
        be.gemmSparse(false, m, CpuBackend.wrap(a, m, k), lda, s, CpuBackend.wrap(c1, m, n), m);
        assertArrayEquals(c0, c1, "gemmSparse A X on " + Parallel.THREADS + " threads");
        float[] d0 = new float[m * k], d1 = new float[m * k];
        CpuSparse.timesSparseT(0, m, a2, 0, lda, s, d0, 0, m);
        be.gemmSparse(true, m, CpuBackend.wrap(a2, m, n), lda, s, CpuBackend.wrap(d1, m, k), m);
        assertArrayEquals(d0, d1, "gemmSparse A X^T on " + Parallel.THREADS + " threads");
    }

    @Test
    void compressListsTheTransposeByPartsOfTheColumns() {
        if (!Simd.AVAILABLE) return; // the scalar product scatters from the batch's own lists
        Rand r = new Rand(15);
        int k = 300;
        float[] x = sparse(r, k, 70, 0.2);
        SparseColumns s = null;
        // a batch of 70 columns, then one of 33 in the same arrays (an epoch's last batch), 70 again, and 1
        for (int n : new int[] {70, 33, 70, 1}) {
            s = be.compress(CpuBackend.wrap(x, k, 70).firstCols(n), s, true);
            assertNotNull(s);
            SparseColumns[] xt = s.transposeParts;
            assertEquals(Math.min(Parallel.THREADS, n), xt.length, "a part per thread");
            assertEquals(0, s.partFrom[0]);
            assertEquals(n, s.partFrom[xt.length], "the parts cover the batch");
            float[] back = new float[k * n];
            long nnz = 0;
            for (int p = 0; p < xt.length; p++) {
                assertEquals(n, xt[p].rows(), "X^T's rows: X's columns");
                assertEquals(k, xt[p].cols(), "X^T's columns: X's rows");
                for (int i = 0; i < k; i++) {
                    int t0 = i * xt[p].stride;
                    for (int t = t0; t < t0 + xt[p].colNnz[i]; t++) {
                        if (t > t0) assertTrue(xt[p].colIdx[t] > xt[p].colIdx[t - 1], "columns of X ascending");
                        int j = xt[p].colIdx[t];
                        assertTrue(j >= s.partFrom[p] && j < s.partFrom[p + 1], "column " + j + " in part " + p + "'s range");
                        back[j * k + i] = xt[p].colVal[t];
                    }
                    nnz += xt[p].colNnz[i];
                }
            }
            for (int i = 0; i < k * n; i++) assertEquals(x[i] == 0f ? 0f : x[i], back[i], "element " + i + " of batch " + n);
            assertEquals(s.nnz(), nnz, "every entry once");
            assertTrue(s.transposed);
        }
        // a batch compressed for a forward pass alone (evaluation) lists no transpose; the weight
        // gradient's product, should it run on it anyway, is the scalar spec's, same bits
        int m = 40, n = 70;
        Tensor xs = CpuBackend.wrap(x, k, n);
        SparseColumns ev = be.compress(xs, s, false);
        assertFalse(ev.transposed, "no transpose for evaluation");
        float[] a = r.uniform(m * n, -1, 1), spec = new float[m * k], c0 = new float[m * k], c1 = new float[m * k];
        CpuSparse.timesSparseT(0, m, a, 0, m, ev, spec, 0, m);
        be.gemmSparse(true, m, CpuBackend.wrap(a, m, n), m, ev, CpuBackend.wrap(c0, m, k), m);
        assertArrayEquals(spec, c0, "A X^T on an evaluation's batch");
        SparseColumns tr = be.compress(xs, ev, true);
        assertTrue(tr.transposed);
        be.gemmSparse(true, m, CpuBackend.wrap(a, m, n), m, tr, CpuBackend.wrap(c1, m, k), m);
        assertArrayEquals(spec, c1, "A X^T on a training step's batch");
    }

    @Test
    void theInterfaceDefaultMultipliesTheDenseSource() throws Exception {
        // what a backend without a sparse product (CUDA) runs if handed a compressed batch: gemm on its source
        InvocationHandler h = (proxy, method, args) -> method.getName().equals("gemmSparse")
                ? InvocationHandler.invokeDefault(proxy, method, args) : method.invoke(be, args);
        Backend dflt = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, h);
        Rand r = new Rand(15);
        int m = 40, k = 60, n = 30;
        float[] x = sparse(r, k, n, 0.2);
        SparseColumns s = be.compress(CpuBackend.wrap(x, k, n), null, true);
        float[] a = r.uniform(m * k, -1, 1), c0 = new float[m * n], c1 = new float[m * n];
        dflt.gemmSparse(false, m, CpuBackend.wrap(a, m, k), m, s, CpuBackend.wrap(c0, m, n), m);
        Gemm.sgemm(false, false, m, n, k, 1f, a, 0, m, x, 0, k, 0f, c1, 0, m);
        assertArrayEquals(c1, c0, "the default is exactly the dense gemm");
        SparseColumns none = be.compress(CpuBackend.wrap(sparse(r, k, n, 0.9), k, n), s, true);
        assertNull(none, "a dense batch refills the arrays, finds it dense and gives none");
        assertThrows(IllegalArgumentException.class, () -> dflt.gemmSparse(false, 4, CpuBackend.wrap(a, 4, 10), 4, s, CpuBackend.wrap(c0, 4, 10), 4),
                "after a refill that stayed dense the object holds no tensor");
    }

    private static float[] abs(float[] v) {
        float[] o = new float[v.length];
        for (int i = 0; i < v.length; i++) o[i] = Math.abs(v[i]);
        return o;
    }
}

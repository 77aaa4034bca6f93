package io.jvae.backend;
import java.util.*;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
/**
 * The sparse weight gradient dW = A X^T (400 x 784 x B, real MNIST images, the pytorch preset's first
 * layer) computed as before 2026-12-04 (SimdSparse.timesSparseT: rows of C split across two threads,
 * C's columns loaded, added to and stored per entry) and as now (CpuSparse.timesTransposed: X's
 * entries listed by row, then the forward kernel on them, columns of C split), alternated 41 times in
 * one JVM (the machine drifts 20-40 % within minutes): the median time of each and of the ratio, and
 * a check that both give the same bits. Run: bench/harness.sh io.jvae.backend.SparseTransposeHarness 128
 */
public class SparseTransposeHarness {
    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[0]), m = 400, k = 784;
        float[] x = HarnessRuns.mnist(n);
        CpuBackend be = new CpuBackend();
        SparseColumns s = be.compress(CpuBackend.wrap(x, k, n), null, true);
        // A and C allocated as the workspace allocates them (on cache lines from 256 KiB, LineAlignment)
        Tensor at = be.alloc(m, n), c0t = be.alloc(m, k), c1t = be.alloc(m, k);
        float[] a = CpuBackend.arr(at), c0 = CpuBackend.arr(c0t), c1 = CpuBackend.arr(c1t);
        int ao = CpuBackend.off(at), o0 = CpuBackend.off(c0t), o1 = CpuBackend.off(c1t);
        for (int i = 0; i < m * n; i++) a[ao + i] = (i * 37 % 101) / 100f - 0.5f;
        int l = SimdKernels.width(), vecs = (m + l - 1) / l, parts = 2;
        Runnable scatter = () -> Parallel.chunks(parts, parts, (p0, p1) -> { for (int p = p0; p < p1; p++) {
            int r0 = Math.min(m, (int) ((long) vecs * p / parts) * l), r1 = Math.min(m, (int) ((long) vecs * (p + 1) / parts) * l);
            scatterForm(r0, r1, a, ao, m, s, c0, o0, m, s.cursors[p]); } });
        Runnable transposed = () -> CpuSparse.timesTransposed(m, a, ao, m, s, c1, o1, m);
        scatter.run(); transposed.run();
        if (!Arrays.equals(c0, o0, o0 + m * k, c1, o1, o1 + m * k)) throw new AssertionError("the two forms differ");
        Runnable[] rs = {scatter, transposed}; String[] names = {"scatter (before)", "transposed (now)"};
        int reps = Math.max(20, 2000 * 128 / n);
        double[][] t = HarnessRuns.alternate(rs, reps, 41);
        double[] r = new double[41];
        for (int i = 0; i < 41; i++) r[i] = t[0][i] / t[1][i];
        Arrays.sort(r);
        for (int v = 0; v < 2; v++) { Arrays.sort(t[v]); System.out.printf("batch %d %s: %.1f us (median), %.1f GFLOP/s executed%n", n, names[v], t[v][20], 2.0 * m * s.nnz() / t[v][20] / 1e3); }
        System.out.printf("before/now time ratio: median %.3f (quartiles %.3f-%.3f); density %.3f; same bits: yes%n", r[20], r[10], r[30], s.density());
    }

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    /** Rows of a block of the sparse products, in vectors: as few blocks of at most 8 as cover `left`, of equal size. */
    private static int blockVectors(int left) {
        int blocks = (left + 7) / 8;
        return (left + blocks - 1) / blocks;
    }

    /**
     * jvae's SimdSparse.timesSparseT until 2026-12-04, kept here to be measured against: CpuSparse.timesSparseT
     * (C = A X^T, rows [r0, r1)), bit for bit: for each column j of X, the
     * block's rows of A[:, j] (up to 8 vectors) stay in registers and are added into the columns
     * of C its entries name (load, fma, store). Columns of C are cut into blocks of kBlock so that
     * the rows x kBlock slice of C being added to stays in L1/L2; within a block j ascends, so every
     * element of C sees its terms in the spec's order. cursor: x.cols ints of scratch.
     */
    static void scatterForm(int r0, int r1, float[] a, int aOff, int lda, SparseColumns x, float[] c, int cOff, int ldc,
                             int[] cursor) {
        int l = S.length(), n = x.cols, k = x.rows, stride = x.stride;
        int[] cnt = x.colNnz, idx = x.colIdx;
        float[] val = x.colVal;
        for (int r = r0; r < r1; ) {
            if (r1 - r < l) {
                CpuSparse.timesSparseT(r, r1, a, aOff, lda, x, c, cOff, ldc);
                return;
            }
            int vecs = blockVectors((r1 - r) / l), w = vecs * l, kBlock = Math.max(16, SparseColumns.BLOCK_FLOATS / w);
            for (int i = 0; i < k; i++) java.util.Arrays.fill(c, cOff + i * ldc + r, cOff + i * ldc + r + w, 0f);
            for (int j = 0; j < n; j++) cursor[j] = j * stride;
            for (int kb = 0; kb < k; kb += kBlock) {
                int kEnd = kb + kBlock;
                for (int j = 0; j < n; j++) {
                    int t = cursor[j], end = j * stride + cnt[j];
                    if (t == end || idx[t] >= kEnd) continue;
                    cursor[j] = scatterColumn(vecs, a, aOff + j * lda + r, idx, val, t, end, kEnd, c, cOff + r, ldc);
                }
            }
            r += w;
        }
    }

    /** Adds A's column (vecs vectors at a[ao ..]) times each entry t.. below kEnd into the column of C it names; returns the next t. */
    private static int scatterColumn(int vecs, float[] a, int ao, int[] idx, float[] val, int t, int end, int kEnd, float[] c,
                                     int co, int ldc) {
        int l = S.length();
        FloatVector z = FloatVector.zero(S);
        FloatVector h0 = FloatVector.fromArray(S, a, ao), h1 = vecs < 2 ? z : FloatVector.fromArray(S, a, ao + l),
                h2 = vecs < 3 ? z : FloatVector.fromArray(S, a, ao + 2 * l), h3 = vecs < 4 ? z : FloatVector.fromArray(S, a, ao + 3 * l),
                h4 = vecs < 5 ? z : FloatVector.fromArray(S, a, ao + 4 * l), h5 = vecs < 6 ? z : FloatVector.fromArray(S, a, ao + 5 * l),
                h6 = vecs < 7 ? z : FloatVector.fromArray(S, a, ao + 6 * l), h7 = vecs < 8 ? z : FloatVector.fromArray(S, a, ao + 7 * l);
        for (; t < end && idx[t] < kEnd; t++) {
            FloatVector v = FloatVector.broadcast(S, val[t]);
            int q = co + idx[t] * ldc;
            h0.fma(v, FloatVector.fromArray(S, c, q)).intoArray(c, q);
            if (vecs > 1) h1.fma(v, FloatVector.fromArray(S, c, q + l)).intoArray(c, q + l);
            if (vecs > 2) h2.fma(v, FloatVector.fromArray(S, c, q + 2 * l)).intoArray(c, q + 2 * l);
            if (vecs > 3) h3.fma(v, FloatVector.fromArray(S, c, q + 3 * l)).intoArray(c, q + 3 * l);
            if (vecs > 4) h4.fma(v, FloatVector.fromArray(S, c, q + 4 * l)).intoArray(c, q + 4 * l);
            if (vecs > 5) h5.fma(v, FloatVector.fromArray(S, c, q + 5 * l)).intoArray(c, q + 5 * l);
            if (vecs > 6) h6.fma(v, FloatVector.fromArray(S, c, q + 6 * l)).intoArray(c, q + 6 * l);
            if (vecs > 7) h7.fma(v, FloatVector.fromArray(S, c, q + 7 * l)).intoArray(c, q + 7 * l);
        }
        return t;
    }
}

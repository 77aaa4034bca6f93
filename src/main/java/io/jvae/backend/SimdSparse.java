package io.jvae.backend;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The sparse first layer of {@link CpuSparse} with the Vector API (loaded only when
 * {@link Simd#AVAILABLE}): compressing a column of the batch, and the two products with the
 * compressed batch, C = A X (forward) and C = A X^T (the weight gradient). CpuSparse's scalar
 * loops are the spec: each element of C adds the same terms with the same fused multiply-adds in
 * the same order, so the results are the spec's bit for bit (SparseGemmTest); the blocking below
 * only changes where a partial sum waits between terms (in a register or stored in C, both exact).
 */
final class SimdSparse {
    private SimdSparse() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    /** CpuSparse.compressColumn, skipping runs of L zeros with one vector compare (MNIST's borders). */
    static int compressColumn(float[] x, int o, int n, int[] idx, float[] val, int dst) {
        int c = 0, i = 0, l = S.length();
        for (; i + l <= n; i += l) {
            if (!FloatVector.fromArray(S, x, o + i).compare(VectorOperators.NE, 0f).anyTrue()) continue;
            for (int e = i; e < i + l; e++) {
                float v = x[o + e];
                idx[dst + c] = e;
                val[dst + c] = v;
                c += v != 0f ? 1 : 0;
            }
        }
        for (; i < n; i++) {
            float v = x[o + i];
            idx[dst + c] = i;
            val[dst + c] = v;
            c += v != 0f ? 1 : 0;
        }
        return c;
    }

    /** Rows of a block of the sparse products, in vectors: as few blocks of at most 8 as cover `left`, of equal size. */
    private static int blockVectors(int left) {
        int blocks = (left + 7) / 8;
        return (left + blocks - 1) / blocks;
    }

    /**
     * CpuSparse.sparseTimes (C = A X, rows [r0, r1)), bit for bit: rows in blocks of up to 8
     * vectors, each block's accumulators in registers. The index range is cut into blocks of
     * kBlock so that the block's slice of A (rows x kBlock) stays in L1/L2 while every column adds the
     * entries that fall in it; a column's partial sums wait in C between index blocks (a float
     * stored and reloaded is exact, so the fma chain is the spec's). Columns [j0, j1) of C only.
     * cursor: x.cols ints of scratch (those of [j0, j1) used).
     */
    static void sparseTimes(int r0, int r1, int j0, int j1, float[] a, int aOff, int lda, SparseColumns x, float[] c, int cOff, int ldc,
                            int[] cursor) {
        int l = S.length(), k = x.rows, stride = x.rows;
        int[] cnt = x.colNnz, idx = x.colIdx;
        float[] val = x.colVal;
        for (int r = r0; r < r1; ) {
            if (r1 - r < l) { // fewer than L rows left (m not a multiple of L)
                CpuSparse.sparseTimes(r, r1, j0, j1, a, aOff, lda, x, c, cOff, ldc);
                return;
            }
            int left = (r1 - r) / l, vecs = left >= 8 ? 8 : left >= 4 ? 4 : left;
            int kBlock = Math.max(16, SparseColumns.BLOCK_FLOATS / (vecs * l));
            for (int j = j0; j < j1; j++) cursor[j] = j * stride;
            for (int kb = 0; kb < k; kb += kBlock) {
                int kEnd = kb + kBlock;
                boolean first = kb == 0;
                for (int j = j0; j < j1; j++) {
                    int t = cursor[j], end = j * stride + cnt[j];
                    if (!first && (t == end || idx[t] >= kEnd)) continue; // nothing in this block: the partial sums stand
                    cursor[j] = gatherColumn(vecs, a, aOff + r, lda, idx, val, t, end, kEnd, c, cOff + j * ldc + r, first);
                }
            }
            r += vecs * l;
        }
    }

    /**
     * One column of C, `vecs` (1-8) vectors of rows: adds the entries t.. below kEnd to the partial
     * sums at c[q ..] (to 0 when first); returns the next t. Blocks of 8 and 4 have their own loops:
     * with the accumulators behind conditions, C2 keeps fewer of them in registers (2.4x slower).
     */
    private static int gatherColumn(int vecs, float[] a, int ao, int lda, int[] idx, float[] val, int t, int end, int kEnd,
                                    float[] c, int q, boolean first) {
        if (vecs == 8) return gather8(a, ao, lda, idx, val, t, end, kEnd, c, q, first);
        int l = S.length();
        FloatVector z = FloatVector.zero(S);
        FloatVector s0 = first ? z : FloatVector.fromArray(S, c, q), s1 = first || vecs < 2 ? z : FloatVector.fromArray(S, c, q + l),
                s2 = first || vecs < 3 ? z : FloatVector.fromArray(S, c, q + 2 * l), s3 = first || vecs < 4 ? z : FloatVector.fromArray(S, c, q + 3 * l);
        if (vecs == 4) {
            for (; t < end && idx[t] < kEnd; t++) {
                FloatVector v = FloatVector.broadcast(S, val[t]);
                int p = ao + idx[t] * lda;
                s0 = FloatVector.fromArray(S, a, p).fma(v, s0);
                s1 = FloatVector.fromArray(S, a, p + l).fma(v, s1);
                s2 = FloatVector.fromArray(S, a, p + 2 * l).fma(v, s2);
                s3 = FloatVector.fromArray(S, a, p + 3 * l).fma(v, s3);
            }
        } else {
            for (; t < end && idx[t] < kEnd; t++) {
                FloatVector v = FloatVector.broadcast(S, val[t]);
                int p = ao + idx[t] * lda;
                s0 = FloatVector.fromArray(S, a, p).fma(v, s0);
                if (vecs > 1) s1 = FloatVector.fromArray(S, a, p + l).fma(v, s1);
                if (vecs > 2) s2 = FloatVector.fromArray(S, a, p + 2 * l).fma(v, s2);
            }
        }
        s0.intoArray(c, q);
        if (vecs > 1) s1.intoArray(c, q + l);
        if (vecs > 2) s2.intoArray(c, q + 2 * l);
        if (vecs > 3) s3.intoArray(c, q + 3 * l);
        return t;
    }

    private static int gather8(float[] a, int ao, int lda, int[] idx, float[] val, int t, int end, int kEnd, float[] c, int q,
                               boolean first) {
        int l = S.length();
        FloatVector z = FloatVector.zero(S);
        FloatVector s0 = first ? z : FloatVector.fromArray(S, c, q), s1 = first ? z : FloatVector.fromArray(S, c, q + l),
                s2 = first ? z : FloatVector.fromArray(S, c, q + 2 * l), s3 = first ? z : FloatVector.fromArray(S, c, q + 3 * l),
                s4 = first ? z : FloatVector.fromArray(S, c, q + 4 * l), s5 = first ? z : FloatVector.fromArray(S, c, q + 5 * l),
                s6 = first ? z : FloatVector.fromArray(S, c, q + 6 * l), s7 = first ? z : FloatVector.fromArray(S, c, q + 7 * l);
        for (; t < end && idx[t] < kEnd; t++) {
            FloatVector v = FloatVector.broadcast(S, val[t]);
            int p = ao + idx[t] * lda;
            s0 = FloatVector.fromArray(S, a, p).fma(v, s0);
            s1 = FloatVector.fromArray(S, a, p + l).fma(v, s1);
            s2 = FloatVector.fromArray(S, a, p + 2 * l).fma(v, s2);
            s3 = FloatVector.fromArray(S, a, p + 3 * l).fma(v, s3);
            s4 = FloatVector.fromArray(S, a, p + 4 * l).fma(v, s4);
            s5 = FloatVector.fromArray(S, a, p + 5 * l).fma(v, s5);
            s6 = FloatVector.fromArray(S, a, p + 6 * l).fma(v, s6);
            s7 = FloatVector.fromArray(S, a, p + 7 * l).fma(v, s7);
        }
        s0.intoArray(c, q);
        s1.intoArray(c, q + l);
        s2.intoArray(c, q + 2 * l);
        s3.intoArray(c, q + 3 * l);
        s4.intoArray(c, q + 4 * l);
        s5.intoArray(c, q + 5 * l);
        s6.intoArray(c, q + 6 * l);
        s7.intoArray(c, q + 7 * l);
        return t;
    }

    /**
     * CpuSparse.timesSparseT (C = A X^T, rows [r0, r1)), bit for bit: for each column j of X, the
     * block's rows of A[:, j] (up to 8 vectors) stay in registers and are added into the columns
     * of C its entries name (load, fma, store). Columns of C are cut into blocks of kBlock so that
     * the rows x kBlock slice of C being added to stays in L1/L2; within a block j ascends, so every
     * element of C sees its terms in the spec's order. cursor: x.cols ints of scratch.
     */
    static void timesSparseT(int r0, int r1, float[] a, int aOff, int lda, SparseColumns x, float[] c, int cOff, int ldc,
                             int[] cursor) {
        int l = S.length(), n = x.cols, k = x.rows, stride = x.rows;
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

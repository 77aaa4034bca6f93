package io.jvae.backend;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The sparse first layer of {@link CpuSparse} with the Vector API (loaded only when
 * {@link Simd#AVAILABLE}): compressing a column of the batch, and the product with a compressed
 * matrix, C = A X: the forward product, and the weight gradient's A X^T on X's transpose
 * (CpuSparse.timesTransposed). CpuSparse's scalar
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

    /**
     * CpuSparse.sparseTimes (C = A X, rows [r0, r1), the entries of X's rows [kFrom, kTo)), bit for
     * bit: rows in blocks of up to 8 vectors, each block's accumulators in registers. The index
     * range is cut into blocks of kBlock so that the block's slice of A (rows x kBlock) stays in
     * L1/L2 while every column adds the entries that fall in it; a column's partial sums wait in C
     * between index blocks (a float stored and reloaded is exact, so the fma chain is the spec's).
     * Columns [j0, j1) of C only. accumulate: the sums start from C's values (the terms of an
     * earlier range of rows, CpuSparse.timesTransposed), else from 0. cursor: x.cols ints of
     * scratch (those of [j0, j1) used).
     */
    static void sparseTimes(int r0, int r1, int j0, int j1, float[] a, int aOff, int lda, SparseColumns x, float[] c, int cOff, int ldc,
                            int[] cursor, int kFrom, int kTo, boolean accumulate) {
        int l = S.length(), stride = x.stride;
        int[] cnt = x.colNnz, idx = x.colIdx;
        float[] val = x.colVal;
        for (int r = r0; r < r1; ) {
            if (r1 - r < l) { // fewer than L rows left (m not a multiple of L)
                CpuSparse.sparseTimes(r, r1, j0, j1, a, aOff, lda, x, c, cOff, ldc, accumulate);
                return;
            }
            int left = (r1 - r) / l, vecs = left >= 8 ? 8 : left >= 4 ? 4 : left;
            int kBlock = Math.max(16, SparseColumns.BLOCK_FLOATS / (vecs * l));
            for (int j = j0; j < j1; j++) cursor[j] = j * stride;
            for (int kb = kFrom; ; ) { // at least one block: the first writes every column
                int kEnd = kb + kBlock;
                boolean first = !accumulate && kb == kFrom;
                for (int j = j0; j < j1; j++) {
                    int t = cursor[j], end = j * stride + cnt[j];
                    if (!first && (t == end || idx[t] >= kEnd)) continue; // nothing in this block: the partial sums stand
                    cursor[j] = gatherColumn(vecs, a, aOff + r, lda, idx, val, t, end, kEnd, c, cOff + j * ldc + r, first);
                }
                kb = kEnd;
                if (kb >= kTo) break;
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
}

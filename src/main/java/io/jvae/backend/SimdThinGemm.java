package io.jvae.backend;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The tall, thin GEMMs of a VAE on the CPU with the Vector API (loaded only when {@link Simd#AVAILABLE}):
 * C = alpha A op(B) + beta C with A not transposed, at least 256 rows in whole vectors, and k or n
 * at most {@link #THIN}: the latent layer's decoder products (400 x 128 x 20 forward, its weight
 * gradient 400 x 20 x 128), where the BLAS, tuned for big square blocks, ran at 25-45 GFLOP/s in a
 * step at batch 128 (bench/RESULTS.md). The other thin shapes (20 rows, or A transposed) were no
 * faster here than in the BLAS and stay there.
 *
 * <p>Each register block holds 4 vectors of C's rows for 4 of its columns and runs over the k
 * terms: one broadcast of op(B) and one fused multiply-add per vector and term. So element (i, j)
 * of C is, on every vector width, split and thread count: s = fma(A[i, p], op(B)[p, j], s) for
 * p = 0 .. k-1 from s = 0, then alpha s (+ beta C[i, j], fused). {@link #spec} is that loop, written
 * plainly; GemmTest holds the two to the same bits and both to {@link Gemm#gemmNaive} within rounding.
 */
final class SimdThinGemm {
    private SimdThinGemm() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    /** The widest thin side sent here (-Djvae.thinGemm=N; 0 sends every product to the BLAS). */
    static final int THIN = Integer.getInteger("jvae.thinGemm", 32);

    /**
     * Whether C = op(A) op(B) of these sizes runs here rather than in the BLAS: measured faster for
     * 400 rows (1.5-2.7x at batch 128 and 1024, ThinGemmHarness), slower for 200 rows of 16 lanes.
     */
    static boolean handles(boolean ta, int m, int n, int k) {
        return THIN > 0 && !ta && m >= 256 && m % S.length() == 0 && (k <= THIN || n <= THIN) && n > 0 && k > 0;
    }

    static void gemm(boolean tb, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                     float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        int l = S.length();
        if (m % l != 0) throw new IllegalArgumentException("SimdThinGemm: " + m + " rows are not whole vectors of " + l);
        // op(B)[q, j] = b[bOff + j * bj + q * bs]
        int bj = tb ? 1 : ldb, bs = tb ? ldb : 1;
        int vecs = m / l, groups = (n + 3) / 4;
        int parts = (int) Math.min(Parallel.THREADS, Math.max(1, (long) Math.ceil(2.0 * m * n * k / Gemm.Split.MIN_FLOPS)));
        // cut C's columns (in groups of 4) or its rows (in vectors), whichever shares the work more evenly
        boolean byCols = parts == 1 || waste(groups, parts) <= waste(vecs, parts);
        Parallel.chunks(byCols ? groups : vecs, parts, (lo, hi) -> {
            int r0 = byCols ? 0 : lo * l, r1 = byCols ? m : hi * l;
            int j0 = byCols ? lo * 4 : 0, j1 = byCols ? Math.min(n, hi * 4) : n;
            block(r0, r1, j0, j1, k, alpha, a, aOff, lda, b, bOff, bj, bs, beta, c, cOff, ldc);
        });
    }

    /** Parts of `units` work units cut into `parts`: the busiest part's units times parts over units (1 = even). */
    private static double waste(int units, int parts) {
        return (double) ((units + parts - 1) / parts) * parts / units;
    }

    /** Rows [r0, r1) (whole vectors) and columns [j0, j1) of C. */
    private static void block(int r0, int r1, int j0, int j1, int k, float alpha, float[] a, int ao, int lda,
                              float[] b, int bOff, int bj, int bs, float beta, float[] c, int cOff, int ldc) {
        int l = S.length();
        // a block's sums when they are scaled or added to C before they are stored; none needed (and
        // nothing allocated in the step) when they go straight into C, as in training (alpha 1, beta 0)
        float[] acc = alpha == 1f && beta == 0f ? null : new float[16 * l];
        for (int r = r0; r < r1; ) {
            int left = (r1 - r) / l, vecs = left >= 4 ? 4 : left >= 2 ? 2 : 1;
            int j = j0;
            for (; j + 4 <= j1; j += 4) {
                int b0 = bOff + j * bj, q = cOff + r + j * ldc;
                if (vecs == 4) k4x4(a, ao + r, lda, k, b, b0, bj, bs, alpha, beta, c, q, ldc, acc);
                else if (vecs == 2) k2x4(a, ao + r, lda, k, b, b0, bj, bs, alpha, beta, c, q, ldc, acc);
                else k1x4(a, ao + r, lda, k, b, b0, bj, bs, alpha, beta, c, q, ldc, acc);
            }
            for (; j < j1; j++)
                for (int v = 0; v < vecs; v++)
                    k1x1(a, ao + r + v * l, lda, k, b, bOff + j * bj, bs, alpha, beta, c, cOff + r + v * l + j * ldc, acc);
            r += vecs * l;
        }
    }

    /** C's block from the raw sums in acc (vector v of column j at (v + j vecs) L): C = alpha s (+ beta C, fused). */
    private static void finish(float[] acc, int vecs, int cols, float alpha, float beta, float[] c, int q, int ldc) {
        int l = S.length();
        for (int j = 0; j < cols; j++)
            for (int v = 0; v < vecs; v++) {
                int cq = q + j * ldc + v * l;
                FloatVector r = FloatVector.fromArray(S, acc, (v + j * vecs) * l).mul(alpha);
                if (beta != 0f) r = FloatVector.fromArray(S, c, cq).fma(FloatVector.broadcast(S, beta), r);
                r.intoArray(c, cq);
            }
    }

    // The blocks below keep their accumulators in straight-line code: behind conditions C2 keeps
    // fewer of them in registers (SimdSparse measured 2.4x slower).

    private static void k4x4(float[] a, int ao, int lda, int k, float[] b, int b0, int bj, int bs, float alpha, float beta,
                             float[] c, int q, int ldc, float[] acc) {
        int l = S.length(), b1 = b0 + bj, b2 = b1 + bj, b3 = b2 + bj;
        FloatVector z = FloatVector.zero(S);
        FloatVector s00 = z, s10 = z, s20 = z, s30 = z, s01 = z, s11 = z, s21 = z, s31 = z,
                s02 = z, s12 = z, s22 = z, s32 = z, s03 = z, s13 = z, s23 = z, s33 = z;
        for (int t = 0, pa = ao, bt = 0; t < k; t++, pa += lda, bt += bs) {
            FloatVector a0 = FloatVector.fromArray(S, a, pa), a1 = FloatVector.fromArray(S, a, pa + l),
                    a2 = FloatVector.fromArray(S, a, pa + 2 * l), a3 = FloatVector.fromArray(S, a, pa + 3 * l);
            FloatVector x = FloatVector.broadcast(S, b[b0 + bt]);
            s00 = a0.fma(x, s00); s10 = a1.fma(x, s10); s20 = a2.fma(x, s20); s30 = a3.fma(x, s30);
            x = FloatVector.broadcast(S, b[b1 + bt]);
            s01 = a0.fma(x, s01); s11 = a1.fma(x, s11); s21 = a2.fma(x, s21); s31 = a3.fma(x, s31);
            x = FloatVector.broadcast(S, b[b2 + bt]);
            s02 = a0.fma(x, s02); s12 = a1.fma(x, s12); s22 = a2.fma(x, s22); s32 = a3.fma(x, s32);
            x = FloatVector.broadcast(S, b[b3 + bt]);
            s03 = a0.fma(x, s03); s13 = a1.fma(x, s13); s23 = a2.fma(x, s23); s33 = a3.fma(x, s33);
        }
        boolean direct = alpha == 1f && beta == 0f; // nothing to scale or add: straight into C
        float[] o = direct ? c : acc;
        int o0 = direct ? q : 0, ld = direct ? ldc : 4 * l;
        s00.intoArray(o, o0); s10.intoArray(o, o0 + l); s20.intoArray(o, o0 + 2 * l); s30.intoArray(o, o0 + 3 * l);
        o0 += ld;
        s01.intoArray(o, o0); s11.intoArray(o, o0 + l); s21.intoArray(o, o0 + 2 * l); s31.intoArray(o, o0 + 3 * l);
        o0 += ld;
        s02.intoArray(o, o0); s12.intoArray(o, o0 + l); s22.intoArray(o, o0 + 2 * l); s32.intoArray(o, o0 + 3 * l);
        o0 += ld;
        s03.intoArray(o, o0); s13.intoArray(o, o0 + l); s23.intoArray(o, o0 + 2 * l); s33.intoArray(o, o0 + 3 * l);
        if (!direct) finish(acc, 4, 4, alpha, beta, c, q, ldc);
    }

    private static void k2x4(float[] a, int ao, int lda, int k, float[] b, int b0, int bj, int bs, float alpha, float beta,
                             float[] c, int q, int ldc, float[] acc) {
        int l = S.length(), b1 = b0 + bj, b2 = b1 + bj, b3 = b2 + bj;
        FloatVector z = FloatVector.zero(S);
        FloatVector s00 = z, s10 = z, s01 = z, s11 = z, s02 = z, s12 = z, s03 = z, s13 = z;
        for (int t = 0, pa = ao, bt = 0; t < k; t++, pa += lda, bt += bs) {
            FloatVector a0 = FloatVector.fromArray(S, a, pa), a1 = FloatVector.fromArray(S, a, pa + l);
            FloatVector x0 = FloatVector.broadcast(S, b[b0 + bt]), x1 = FloatVector.broadcast(S, b[b1 + bt]),
                    x2 = FloatVector.broadcast(S, b[b2 + bt]), x3 = FloatVector.broadcast(S, b[b3 + bt]);
            s00 = a0.fma(x0, s00); s10 = a1.fma(x0, s10);
            s01 = a0.fma(x1, s01); s11 = a1.fma(x1, s11);
            s02 = a0.fma(x2, s02); s12 = a1.fma(x2, s12);
            s03 = a0.fma(x3, s03); s13 = a1.fma(x3, s13);
        }
        boolean direct = alpha == 1f && beta == 0f; // nothing to scale or add: straight into C
        float[] o = direct ? c : acc;
        int o0 = direct ? q : 0, ld = direct ? ldc : 2 * l;
        s00.intoArray(o, o0); s10.intoArray(o, o0 + l);
        o0 += ld;
        s01.intoArray(o, o0); s11.intoArray(o, o0 + l);
        o0 += ld;
        s02.intoArray(o, o0); s12.intoArray(o, o0 + l);
        o0 += ld;
        s03.intoArray(o, o0); s13.intoArray(o, o0 + l);
        if (!direct) finish(acc, 2, 4, alpha, beta, c, q, ldc);
    }

    private static void k1x4(float[] a, int ao, int lda, int k, float[] b, int b0, int bj, int bs, float alpha, float beta,
                             float[] c, int q, int ldc, float[] acc) {
        int l = S.length(), b1 = b0 + bj, b2 = b1 + bj, b3 = b2 + bj;
        FloatVector z = FloatVector.zero(S);
        FloatVector s0 = z, s1 = z, s2 = z, s3 = z;
        for (int t = 0, pa = ao, bt = 0; t < k; t++, pa += lda, bt += bs) {
            FloatVector a0 = FloatVector.fromArray(S, a, pa);
            s0 = a0.fma(FloatVector.broadcast(S, b[b0 + bt]), s0);
            s1 = a0.fma(FloatVector.broadcast(S, b[b1 + bt]), s1);
            s2 = a0.fma(FloatVector.broadcast(S, b[b2 + bt]), s2);
            s3 = a0.fma(FloatVector.broadcast(S, b[b3 + bt]), s3);
        }
        boolean direct = alpha == 1f && beta == 0f; // nothing to scale or add: straight into C
        float[] o = direct ? c : acc;
        int o0 = direct ? q : 0, ld = direct ? ldc : l;
        s0.intoArray(o, o0);
        s1.intoArray(o, o0 + ld);
        s2.intoArray(o, o0 + 2 * ld);
        s3.intoArray(o, o0 + 3 * ld);
        if (!direct) finish(acc, 1, 4, alpha, beta, c, q, ldc);
    }

    private static void k1x1(float[] a, int ao, int lda, int k, float[] b, int b0, int bs, float alpha, float beta,
                             float[] c, int q, float[] acc) {
        FloatVector s = FloatVector.zero(S);
        for (int t = 0, pa = ao, bt = 0; t < k; t++, pa += lda, bt += bs)
            s = FloatVector.fromArray(S, a, pa).fma(FloatVector.broadcast(S, b[b0 + bt]), s);
        if (alpha == 1f && beta == 0f) s.intoArray(c, q);
        else {
            s.intoArray(acc, 0);
            finish(acc, 1, 1, alpha, beta, c, q, 0);
        }
    }

    /** The loop every element of {@link #gemm} follows, plainly (the tests' reference for its bits). */
    static void spec(boolean tb, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                     float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        for (int j = 0; j < n; j++)
            for (int i = 0; i < m; i++) {
                float s = 0f;
                for (int q = 0; q < k; q++) s = Math.fma(a[aOff + i + q * lda], tb ? b[bOff + j + q * ldb] : b[bOff + q + j * ldb], s);
                int ci = cOff + i + j * ldc;
                c[ci] = beta != 0f ? Math.fma(c[ci], beta, s * alpha) : s * alpha;
            }
    }
}

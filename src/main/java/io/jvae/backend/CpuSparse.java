package io.jvae.backend;

/**
 * The CPU executor's sparse first layer: compress() turns a batch that is mostly zeros into
 * per-column (index, value) lists (SparseColumns), and gemmSparse() multiplies with them, forward
 * (C = A X) and for the weight gradient (C = A X^T), each element summed in one fixed order. The
 * scalar loops here are the spec that SimdSparse's vector versions match bit for bit
 * (SparseGemmTest). One instance per backend: it keeps the arrays of a batch that proved too dense.
 */
final class CpuSparse {
    SparseColumns compress(Tensor x, SparseColumns reuse) {
        if (!CpuBackend.SPARSE_INPUT || x.size() == 0) return null;
        int rows = x.rows, cols = x.cols;
        SparseColumns s = reuse != null && reuse.fits(rows, cols) ? reuse
                : spare != null && spare.fits(rows, cols) ? spare : new SparseColumns(rows, cols);
        spare = null;
        s.source = null;
        float[] xa = CpuBackend.arr(x);
        int xo = CpuBackend.off(x);
        // a dense batch is given up as soon as the nonzeros seen pass the budget, not after a full scan
        long budget = (long) Math.floor(SparseColumns.MAX_DENSITY * rows * cols);
        java.util.concurrent.atomic.AtomicLong seen = new java.util.concurrent.atomic.AtomicLong();
        Parallel.forRange(cols, CpuBackend.colGrain(rows), (j0, j1) -> {
            for (int j = j0; j < j1 && seen.get() <= budget; j++) {
                s.colNnz[j] = Simd.AVAILABLE ? SimdSparse.compressColumn(xa, xo + j * rows, rows, s.colIdx, s.colVal, j * rows)
                        : compressColumn(xa, xo + j * rows, rows, s.colIdx, s.colVal, j * rows);
                seen.addAndGet(s.colNnz[j]);
            }
        });
        s.cols = cols;
        s.nnz = seen.get(); // every column counted unless the budget was passed
        if (s.nnz > budget) {
            if (s != reuse) spare = s; // the caller has no arrays to offer next time: keep these
            return null;
        }
        s.source = x;
        return s;
    }

    /**
     * Arrays compress() filled for a batch that proved too dense and nobody holds: a caller whose
     * batches are all dense never gets arrays back to reuse, so without this each of its steps
     * would allocate two R x N arrays (6.4 MB at 784 x 1024) only to drop them.
     */
    SparseColumns spare;

    /** Writes the nonzeros of x[o, o + n) as (index, value) at [dst, ...), indices ascending; returns how many. */
    static int compressColumn(float[] x, int o, int n, int[] idx, float[] val, int dst) {
        int c = 0;
        for (int i = 0; i < n; i++) {
            float v = x[o + i];
            idx[dst + c] = i; // written always, kept when v != 0: no branch to mispredict
            val[dst + c] = v;
            c += v != 0f ? 1 : 0;
        }
        return c;
    }

    static void gemmSparse(boolean transX, int m, Tensor a, int lda, SparseColumns x, Tensor c, int ldc) {
        if (x.source == null) throw new IllegalArgumentException("gemmSparse: x holds no compressed tensor");
        int n = transX ? x.rows : x.cols, k = transX ? x.cols : x.rows;
        Gemm.check(false, transX, m, n, k, lda, a.size(), x.rows, x.rows * x.cols, ldc, c.size());
        if (m == 0) return;
        float[] aa = CpuBackend.arr(a), ca = CpuBackend.arr(c);
        int ao = CpuBackend.off(a), co = CpuBackend.off(c);
        // each element of C is computed by one thread, in one order. A X: columns of C (the batch)
        // split, every thread all rows: cut by rows, each thread would still walk every entry once
        // per block of up to 8 vectors (400 rows: 8+4 and 8+4+1 vectors against 8+8+8+1 for one
        // thread), paying the index loads, broadcasts and cursors twice over; cut by columns each
        // walks half the entries (7 % faster at batch 128, 18 % at 1024, bench/RESULTS.md).
        // A X^T (the scatter into C's columns): rows of C split across threads in whole vectors.
        int l = Simd.AVAILABLE ? SimdKernels.width() : 1, vecs = (m + l - 1) / l;
        int parts = Gemm.Split.sparseParts(m, x.nnz, transX ? vecs : x.cols);
        if (!transX) {
            Parallel.chunks(parts, parts, (p0, p1) -> {
                for (int p = p0; p < p1; p++) {
                    int j0 = (int) ((long) x.cols * p / parts), j1 = (int) ((long) x.cols * (p + 1) / parts);
                    if (Simd.AVAILABLE) SimdSparse.sparseTimes(0, m, j0, j1, aa, ao, lda, x, ca, co, ldc, x.cursors[p]);
                    else sparseTimes(0, m, j0, j1, aa, ao, lda, x, ca, co, ldc);
                }
            });
            return;
        }
        Parallel.chunks(parts, parts, (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                int r0 = Math.min(m, (int) ((long) vecs * p / parts) * l), r1 = Math.min(m, (int) ((long) vecs * (p + 1) / parts) * l);
                if (Simd.AVAILABLE) SimdSparse.timesSparseT(r0, r1, aa, ao, lda, x, ca, co, ldc, x.cursors[p]);
                else timesSparseT(r0, r1, aa, ao, lda, x, ca, co, ldc);
            }
        });
    }

    /** The spec: C[r, j] = sum over the entries (i, v) of column j, i ascending, of fma(v, A[r, i], .) from 0; rows [r0, r1), columns [j0, j1). */
    static void sparseTimes(int r0, int r1, int j0, int j1, float[] a, int aOff, int lda, SparseColumns x, float[] c, int cOff, int ldc) {
        for (int j = j0; j < j1; j++) {
            int t0 = j * x.rows, t1 = t0 + x.colNnz[j];
            for (int r = r0; r < r1; r++) {
                float s = 0f;
                for (int t = t0; t < t1; t++) s = Math.fma(x.colVal[t], a[aOff + x.colIdx[t] * lda + r], s);
                c[cOff + j * ldc + r] = s;
            }
        }
    }

    /** The spec: C[r, i] = sum over the columns j of X, ascending, with an entry (i, v), of fma(v, A[r, j], .) from 0; rows [r0, r1). */
    static void timesSparseT(int r0, int r1, float[] a, int aOff, int lda, SparseColumns x, float[] c, int cOff, int ldc) {
        for (int i = 0; i < x.rows; i++) for (int r = r0; r < r1; r++) c[cOff + i * ldc + r] = 0f;
        for (int j = 0; j < x.cols; j++) {
            for (int t = j * x.rows, end = t + x.colNnz[j]; t < end; t++) {
                int q = cOff + x.colIdx[t] * ldc;
                float v = x.colVal[t];
                for (int r = r0; r < r1; r++) c[q + r] = Math.fma(v, a[aOff + j * lda + r], c[q + r]);
            }
        }
    }

}

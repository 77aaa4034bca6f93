package io.jvae.backend;

/**
 * The CPU executor's sparse first layer: compress() turns a batch that is mostly zeros into
 * per-column (index, value) lists (SparseColumns), and gemmSparse() multiplies with them, forward
 * (C = A X) and for the weight gradient (C = A X^T), each element summed in one fixed order. The
 * scalar loops here are the spec that SimdSparse's vector versions match bit for bit
 * (SparseGemmTest). One instance per backend: it keeps the arrays of a batch that proved too dense.
 */
final class CpuSparse {
    SparseColumns compress(Tensor x, SparseColumns reuse, boolean forGradient) {
        if (!CpuBackend.SPARSE_INPUT || x.size() == 0) return null;
        int rows = x.rows, cols = x.cols;
        SparseColumns s = reuse != null && reuse.fits(rows, cols) ? reuse
                : spare != null && spare.fits(rows, cols) ? spare : new SparseColumns(rows, cols);
        spare = null;
        s.source = null;
        s.transposed = false;
        float[] xa = CpuBackend.arr(x);
        int xo = CpuBackend.off(x);
        // a dense batch is given up as soon as the nonzeros seen pass the budget, not after a full scan
        long budget = (long) Math.floor(SparseColumns.MAX_DENSITY * rows * cols);
        java.util.concurrent.atomic.AtomicLong seen = new java.util.concurrent.atomic.AtomicLong();
        boolean transpose = Simd.AVAILABLE && forGradient;
        if (transpose) {
            // X^T's entries listed too, while the batch's are in L1: part p of X's columns by one
            // thread, into part p of the transpose (the weight gradient's product, timesTransposed).
            // Listing them in the backward pass instead, from the batch's lists gone cold by then,
            // took 0.6-0.7 ms at batch 1024, more than it saved; here it adds ~0.2 ms.
            int parts = Math.min(Parallel.THREADS, cols);
            SparseColumns[] xt = s.transposeParts(parts, cols);
            Parallel.chunks(parts, parts, (p0, p1) -> {
                for (int p = p0; p < p1; p++) {
                    SparseColumns t = xt[p];
                    java.util.Arrays.fill(t.colNnz, 0, rows, 0);
                    for (int j = s.partFrom[p], end = s.partFrom[p + 1]; j < end && seen.get() <= budget; j++) {
                        int at = j * s.stride, c = SimdSparse.compressColumn(xa, xo + j * rows, rows, s.colIdx, s.colVal, at);
                        s.colNnz[j] = c;
                        for (int e = at; e < at + c; e++) {
                            int i = s.colIdx[e], q = i * t.stride + t.colNnz[i]++;
                            t.colIdx[q] = j;
                            t.colVal[q] = s.colVal[e];
                        }
                        seen.addAndGet(c);
                    }
                }
            });
        } else {
            Parallel.forRange(cols, CpuBackend.colGrain(rows), (j0, j1) -> {
                for (int j = j0; j < j1 && seen.get() <= budget; j++) {
                    s.colNnz[j] = Simd.AVAILABLE ? SimdSparse.compressColumn(xa, xo + j * rows, rows, s.colIdx, s.colVal, j * s.stride)
                            : compressColumn(xa, xo + j * rows, rows, s.colIdx, s.colVal, j * s.stride);
                    seen.addAndGet(s.colNnz[j]);
                }
            });
        }
        s.cols = cols;
        s.nnz = seen.get(); // every column counted unless the budget was passed
        if (transpose) for (SparseColumns t : s.transposeParts) t.nnz = s.nnz;
        if (s.nnz > budget) {
            if (s != reuse) spare = s; // the caller has no arrays to offer next time: keep these
            return null;
        }
        s.source = x;
        s.transposed = transpose;
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
        if (!transX) {
            int parts = Gemm.Split.sparseParts(m, x.nnz, x.cols);
            Parallel.chunks(parts, parts, (p0, p1) -> {
                for (int p = p0; p < p1; p++) {
                    int j0 = (int) ((long) x.cols * p / parts), j1 = (int) ((long) x.cols * (p + 1) / parts);
                    if (Simd.AVAILABLE) SimdSparse.sparseTimes(0, m, j0, j1, aa, ao, lda, x, ca, co, ldc, x.cursors[p], 0, x.rows, false);
                    else sparseTimes(0, m, j0, j1, aa, ao, lda, x, ca, co, ldc, false);
                }
            });
            return;
        }
        if (x.transposed) {
            timesTransposed(m, aa, ao, lda, x, ca, co, ldc);
            return;
        }
        // the scalar spec, rows of C split across threads: without the Vector API, or on a batch not
        // compressed for the gradient (never in jvae: only training steps run this product)
        int parts = Gemm.Split.sparseParts(m, x.nnz, m);
        Parallel.chunks(parts, parts, (p0, p1) -> {
            for (int p = p0; p < p1; p++)
                timesSparseT((int) ((long) m * p / parts), (int) ((long) m * (p + 1) / parts), aa, ao, lda, x, ca, co, ldc);
        });
    }

    /**
     * C = A X^T computed as A (X^T), on the transpose compress() listed (SparseColumns#transposeParts):
     * each thread takes a range of C's columns (X's rows) and runs the forward kernel over X^T's
     * parts in order, the first from 0, the next ones adding to the partial sums in C. The
     * kernel keeps a block of C's column in registers and loads a column of A per entry; the
     * scatter form, C's column loaded, added to and stored per entry, ran at half its FMA rate
     * (bench/RESULTS.md). Each element's terms come in the spec's order, j ascending: the result
     * is timesSparseT's bit for bit.
     */
    static void timesTransposed(int m, float[] aa, int ao, int lda, SparseColumns x, float[] ca, int co, int ldc) {
        SparseColumns[] xt = x.transposeParts;
        int cols = x.rows, parts = Gemm.Split.sparseParts(m, x.nnz, cols);
        Parallel.chunks(parts, parts, (q0, q1) -> {
            for (int q = q0; q < q1; q++) {
                int i0 = (int) ((long) cols * q / parts), i1 = (int) ((long) cols * (q + 1) / parts);
                for (int p = 0; p < xt.length; p++)
                    SimdSparse.sparseTimes(0, m, i0, i1, aa, ao, lda, xt[p], ca, co, ldc, xt[p].cursors[q], x.partFrom[p], x.partFrom[p + 1], p > 0);
            }
        });
    }

    /**
     * The spec: C[r, j] = sum over the entries (i, v) of column j, i ascending, of fma(v, A[r, i], .)
     * from 0 (from C[r, j] when accumulate); rows [r0, r1), columns [j0, j1).
     */
    static void sparseTimes(int r0, int r1, int j0, int j1, float[] a, int aOff, int lda, SparseColumns x, float[] c, int cOff, int ldc,
                            boolean accumulate) {
        for (int j = j0; j < j1; j++) {
            int t0 = j * x.stride, t1 = t0 + x.colNnz[j];
            for (int r = r0; r < r1; r++) {
                float s = accumulate ? c[cOff + j * ldc + r] : 0f;
                for (int t = t0; t < t1; t++) s = Math.fma(x.colVal[t], a[aOff + x.colIdx[t] * lda + r], s);
                c[cOff + j * ldc + r] = s;
            }
        }
    }

    /** The spec: C[r, i] = sum over the columns j of X, ascending, with an entry (i, v), of fma(v, A[r, j], .) from 0; rows [r0, r1). */
    static void timesSparseT(int r0, int r1, float[] a, int aOff, int lda, SparseColumns x, float[] c, int cOff, int ldc) {
        for (int i = 0; i < x.rows; i++) for (int r = r0; r < r1; r++) c[cOff + i * ldc + r] = 0f;
        for (int j = 0; j < x.cols; j++) {
            for (int t = j * x.stride, end = t + x.colNnz[j]; t < end; t++) {
                int q = cOff + x.colIdx[t] * ldc;
                float v = x.colVal[t];
                for (int r = r0; r < r1; r++) c[q + r] = Math.fma(v, a[aOff + j * lda + r], c[q + r]);
            }
        }
    }

}

package io.jvae.backend;

/**
 * A mostly-zero (R, N) matrix — the data batch of the first layer: MNIST is 81 % zeros — with its
 * nonzeros listed by column, so that the first layer's two GEMMs (H = W X forward, dW = dH X^T
 * backward) multiply only those: about a fifth of the FLOPs on MNIST. Column j holds colNnz[j]
 * entries at [j R, j R + colNnz[j]): row index colIdx, value colVal, rows ascending. The slots are
 * padded to R so that columns are compressed in parallel without a prefix sum; the arrays are
 * reused from batch to batch ({@link Backend#compress}).
 *
 * <p>Both products add, for each output element, the entries in ascending index order (of rows of
 * X for H, of columns of X for dW) with fused multiply-adds from 0: one fixed order for any thread
 * count, the same in {@link CpuSparse}'s scalar spec and in {@link SimdSparse}. They differ from
 * the dense GEMM's result only in rounding (the order of the additions).
 */
public final class SparseColumns {
    /**
     * Above this share of nonzeros the dense GEMM is faster: the sparse products reach 30-40 % of
     * the FMA rate of a blocked GEMM with their operands off cache lines and 40-56 % on them (they
     * load a column of A or C per nonzero), measured on the first layer of the pytorch preset
     * (bench/RESULTS.md); 0.35 keeps a margin below the break-even of the aligned case.
     */
    public static final double MAX_DENSITY = 0.35;

    /**
     * Floats of A (or of C) in one block of the sparse products: 64 KB, twice the 32 KB L1. With
     * the operands on cache lines ({@link LineAlignment}) this measured faster than 24 KB (forward
     * 0.73 -> 0.57 ms, dW 0.92 -> 0.77 ms for one thread's rows at batch 1024) and than 48 or 96
     * KB; before, when every vector load straddled two lines, 24 KB was best (bench/RESULTS.md).
     */
    static final int BLOCK_FLOATS = 16 * 1024;

    final int rows, capacityCols;
    final int[] colNnz, colIdx;
    final float[] colVal;
    /** Scratch of the blocked products: a cursor per column, per thread. */
    final int[][] cursors;
    int cols;
    long nnz;
    /** The tensor these entries were taken from (null while they are being refilled). */
    Tensor source;

    SparseColumns(int rows, int capacityCols) {
        if ((long) rows * capacityCols > Integer.MAX_VALUE - 8)
            throw new io.jvae.InvalidInputException("batch of " + capacityCols + " x " + rows + " is too large to compress");
        this.rows = rows;
        this.capacityCols = capacityCols;
        colNnz = new int[capacityCols];
        colIdx = new int[rows * capacityCols];
        colVal = new float[rows * capacityCols];
        cursors = new int[Parallel.THREADS][capacityCols];
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** Nonzero entries. */
    public long nnz() {
        return nnz;
    }

    /** Share of nonzero entries, in [0, 1]. */
    public double density() {
        return cols == 0 ? 0 : (double) nnz / ((double) rows * cols);
    }

    /** The tensor the entries came from, or null. */
    public Tensor source() {
        return source;
    }

    /** Whether arrays of this object can hold a (rows, cols) matrix. */
    boolean fits(int r, int c) {
        return r == rows && c <= capacityCols;
    }

    /** Whether t is the tensor these entries came from (same storage, offset and shape). */
    public boolean isOf(Tensor t) {
        return source != null && t.storage == source.storage && t.offset == source.offset
                && t.rows == source.rows && t.cols == source.cols;
    }
}

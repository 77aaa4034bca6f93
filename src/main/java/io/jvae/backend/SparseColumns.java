package io.jvae.backend;

/**
 * A mostly-zero (R, N) matrix — the data batch of the first layer: MNIST is 81 % zeros — with its
 * nonzeros listed by column, so that the first layer's two GEMMs (H = W X forward, dW = dH X^T
 * backward) multiply only those: about a fifth of the FLOPs on MNIST. Column j holds colNnz[j]
 * entries at [j R, j R + colNnz[j]): row index colIdx, value colVal, rows ascending. The slots are
 * padded to R so that columns are compressed in parallel without a prefix sum; the arrays are
 * reused from batch to batch ({@link Backend#compress}). Beside them compress() lists the
 * transpose, for the weight gradient's product ({@link #transposeParts}).
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

    /** Rows of the matrix; final but in a part of a transpose, whose rows are the batch's columns ({@link #transposeParts}). */
    int rows;
    /**
     * Slots per column: column j's colNnz[j] entries are at [j stride, j stride + colNnz[j]).
     * stride is rows, or in a part of a transpose the most columns of the batch a part covers.
     */
    final int stride, capacityCols;
    final int[] colNnz, colIdx;
    final float[] colVal;
    /** Scratch of the blocked products: a cursor per column, per thread. */
    final int[][] cursors;
    int cols;
    long nnz;
    /** The tensor these entries were taken from (null while they are being refilled; always null in a part of a transpose). */
    Tensor source;
    /**
     * X^T, this (R, N) matrix's transpose, in parts that compress() fills beside the batch's lists
     * for a training step's batch (the weight gradient's product runs on them, CpuSparse.timesTransposed): part p
     * holds, for each row i of X, the (j, value) of the entries of X's columns j in
     * [partFrom[p], partFrom[p + 1]), j ascending. Null until compress() first fills them.
     */
    SparseColumns[] transposeParts;
    int[] partFrom;
    /** Whether transposeParts hold this batch's transpose (it was compressed for the gradient). */
    boolean transposed;

    SparseColumns(int rows, int capacityCols) {
        this(rows, capacityCols, rows);
    }

    private SparseColumns(int rows, int capacityCols, int stride) {
        if ((long) stride * capacityCols > Integer.MAX_VALUE - 8)
            throw new io.jvae.InvalidInputException("batch of " + capacityCols + " x " + stride + " is too large to compress");
        this.rows = rows;
        this.stride = stride;
        this.capacityCols = capacityCols;
        colNnz = new int[capacityCols];
        colIdx = new int[stride * capacityCols];
        colVal = new float[stride * capacityCols];
        cursors = new int[Parallel.THREADS][capacityCols];
    }

    /**
     * The arrays of X^T's `parts` parts for a batch of `cols` columns (allocated on first use, for
     * the capacity of this object, and kept), shaped for it: part p covers X's columns
     * [cols p / parts, cols (p + 1) / parts), its counts still to be filled.
     */
    SparseColumns[] transposeParts(int parts, int cols) {
        if (transposeParts == null || transposeParts.length != parts) {
            transposeParts = new SparseColumns[parts];
            int most = (capacityCols + parts - 1) / parts;
            for (int p = 0; p < parts; p++) transposeParts[p] = new SparseColumns(capacityCols, rows, most);
            partFrom = new int[parts + 1];
        }
        for (int p = 0; p <= parts; p++) partFrom[p] = (int) ((long) cols * p / parts);
        for (SparseColumns t : transposeParts) {
            t.rows = cols;
            t.cols = rows;
        }
        return transposeParts;
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

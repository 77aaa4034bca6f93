package io.jvae.backend;

/**
 * A column-major float32 matrix: {@code rows x cols}, leading dimension = rows, living in a
 * backend-owned {@link Storage} at an element offset. A batch of B samples with D features is
 * a D x B tensor (sample j is column j), which in memory equals a row-major B x D array.
 * Views share storage; creating one never copies.
 */
public final class Tensor {
    public final int rows;        // leading dimension
    public final int cols;
    public final Storage storage; // host float[] or device memory, owned by the backend
    public final long offset;     // in elements

    public Tensor(Storage storage, long offset, int rows, int cols) {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("negative shape " + rows + "x" + cols);
        if (offset < 0 || offset + (long) rows * cols > storage.length())
            throw new IllegalArgumentException("view [" + offset + ", +" + rows + "x" + cols + ") outside storage of "
                    + storage.length() + " floats");
        this.storage = storage;
        this.offset = offset;
        this.rows = rows;
        this.cols = cols;
    }

    /** Number of elements. */
    public int size() {
        return rows * cols;
    }

    /** Columns [from, from + count) as a rows x count view. */
    public Tensor cols(int from, int count) {
        if (from < 0 || count < 0 || from + count > cols)
            throw new IllegalArgumentException("cols(" + from + ", " + count + ") of a " + shape() + " tensor");
        return new Tensor(storage, offset + (long) from * rows, rows, count);
    }

    /** The first {@code count} columns: the same buffer used for a smaller (last) batch. */
    public Tensor firstCols(int count) {
        return count == cols ? this : cols(0, count);
    }

    /** A view of {@code rows x cols} elements starting {@code at} elements into this tensor. */
    public Tensor view(long at, int rows, int cols) {
        if (at < 0 || at + (long) rows * cols > size())
            throw new IllegalArgumentException("view at " + at + " of " + rows + "x" + cols + " outside " + shape());
        return new Tensor(storage, offset + at, rows, cols);
    }

    /** The same elements seen as one column. */
    public Tensor flat() {
        return new Tensor(storage, offset, size(), 1);
    }

    public String shape() {
        return "(" + rows + ", " + cols + ")";
    }

    @Override
    public String toString() {
        return "Tensor" + shape() + "@" + offset;
    }
}

package io.jvae.data;

import io.jvae.InvalidInputException;

import java.util.function.IntFunction;

/**
 * Examples read from a user's file, before scaling: x is (dim, n) column-major (example j at
 * x[j*dim .. (j+1)*dim), as in {@link Dataset}), labels (n) or null. {@code at} and
 * {@code labelAt} say where a value came from in the file ("line 7, column 3 (1-based)",
 * "x[4, 2] (0-based)"), so that every error names the place to fix.
 */
public record Table(String name, float[] x, int dim, int n, int[] labels, Where at, IntFunction<String> labelAt) {

    /** Where value (example, feature) sits in the file, in words. */
    @FunctionalInterface
    public interface Where {
        String at(int example, int feature);
    }

    public Table {
        if ((long) dim * n != x.length) throw new IllegalArgumentException(name + ": " + x.length + " floats for " + n + " x " + dim);
        if (labels != null && labels.length != n) throw new IllegalArgumentException(name + ": " + labels.length + " labels for " + n + " examples");
    }

    /** The same examples with labels read elsewhere (a labels file, an .npz array). */
    public Table withLabels(int[] y, String from, IntFunction<String> where) {
        InvalidInputException.require(y.length == n, "%s: %d labels for the %d examples of %s", from, y.length, n, name);
        return new Table(name, x, dim, n, y, at, where);
    }

    /** Examples idx[0], idx[1], ... in that order; errors still name their place in the file. */
    public Table rows(int[] idx, String newName) {
        float[] y = new float[idx.length * dim];
        int[] l = labels == null ? null : new int[idx.length];
        for (int k = 0; k < idx.length; k++) {
            System.arraycopy(x, idx[k] * dim, y, k * dim, dim);
            if (l != null) l[k] = labels[idx[k]];
        }
        Where w = at;
        IntFunction<String> lw = labelAt;
        return new Table(newName, y, dim, idx.length, l, (e, f) -> w.at(idx[e], f), lw == null ? null : e -> lw.apply(idx[e]));
    }

    /** Every value finite, else one line naming the first bad one. */
    public Table requireFinite() {
        for (int i = 0; i < x.length; i++)
            if (!Float.isFinite(x[i]))
                throw new InvalidInputException(name + ": " + (Float.isNaN(x[i]) ? "NaN" : x[i] > 0 ? "+Inf" : "-Inf")
                        + (Float.isNaN(x[i]) ? "" : " (or a number beyond float32's range)") + " at " + at.at(i / dim, i % dim)
                        + ": remove or impute missing values first");
        return this;
    }

    /** The largest label, or -1 without labels. */
    public int maxLabel() {
        int m = -1;
        if (labels != null) for (int l : labels) m = Math.max(m, l);
        return m;
    }

    /** The examples as a Dataset with `classes` classes (0 without labels) and these values. */
    public Dataset dataset(float[] values, int classes) {
        return new Dataset(name, values, dim, n, labels, labels == null ? 0 : classes);
    }
}

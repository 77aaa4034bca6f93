package io.jvae.api;

import io.jvae.InvalidInputException;
import io.jvae.data.Dataset;

import java.util.Locale;

/**
 * The checks and copies between the facade's row-major float[][] (row i = example i) and the
 * engine's flat column-major (width, n) arrays, which hold the same numbers in the same order.
 * Every message names the argument, the row and the column, and the numbers.
 */
final class Rows {
    private Rows() {}

    /** Java's array limit: n x width floats must fit one float[]. */
    static final long MAX_FLOATS = Integer.MAX_VALUE - 8;

    /**
     * rows (n, width) as one flat array, row i at i*width. Rejects null, no rows, a row of another
     * length, NaN and infinities, and, when {@code unit}, values outside [0, 1].
     */
    static float[] flatten(String what, float[][] rows, int width, String widthName, boolean unit) {
        InvalidInputException.require(rows != null, "%s is null", what);
        InvalidInputException.require(rows.length > 0, "%s has no rows", what);
        int n = rows.length;
        InvalidInputException.require((long) n * width <= MAX_FLOATS, "%s: %d rows x %d values do not fit one Java array", what, n, width);
        float[] flat = new float[n * width];
        for (int i = 0; i < n; i++) {
            float[] r = rows[i];
            InvalidInputException.require(r != null, "%s[%d] is null", what, i);
            InvalidInputException.require(r.length == width, "%s[%d] has %d values, the model's %s is %d", what, i, r.length, widthName, width);
            System.arraycopy(r, 0, flat, i * width, width);
        }
        checkValues(what, flat, width, unit);
        return flat;
    }

    /** NaN, infinities and (when {@code unit}) values outside [0, 1] in flat (n, width) rows. */
    static void checkValues(String what, float[] flat, int width, boolean unit) {
        for (int k = 0; k < flat.length; k++) {
            float v = flat[k];
            if (!Float.isFinite(v))
                throw new InvalidInputException(String.format(Locale.ROOT, "%s[%d][%d] is %s: every value must be a finite number",
                        what, k / width, k % width, v));
            if (unit && (v < 0f || v > 1f))
                throw new InvalidInputException(String.format(Locale.ROOT, "%s[%d][%d] = %s is outside [0, 1], which a bernoulli decoder "
                        + "needs: scale the data to [0, 1] or build the model with decoder(\"gaussian\")", what, k / width, k % width, v));
        }
    }

    /** flat (n, width), row i at i*width, as n rows. */
    static float[][] unflatten(float[] flat, int n, int width) {
        float[][] rows = new float[n][];
        for (int i = 0; i < n; i++) rows[i] = java.util.Arrays.copyOfRange(flat, i * width, (i + 1) * width);
        return rows;
    }

    /**
     * The labels a model with {@code classes} classes needs for n examples: null for a plain model
     * (whatever was passed: a labelled data set fits a plain VAE too), else a copy checked to have
     * n labels, each in [0, classes).
     */
    static int[] labels(String what, int[] labels, int n, int classes) {
        if (classes == 0) return null;
        InvalidInputException.require(labels != null, "this model is conditional on %d classes: %s are needed", classes, what);
        InvalidInputException.require(labels.length == n, "%d %s for %d rows", labels.length, what, n);
        for (int i = 0; i < n; i++)
            InvalidInputException.require(labels[i] >= 0 && labels[i] < classes, "%s[%d] = %d is outside 0..%d (the model's %d classes)",
                    what, i, labels[i], classes - 1, classes);
        return labels.clone();
    }

    /**
     * A caller's Dataset, checked as rows are, as the engine reads it: the model's width, values
     * (unit range when {@code unit}), and labels for a conditional model (dropped for a plain one).
     */
    static Dataset dataset(String what, Dataset d, int width, int classes, boolean unit) {
        InvalidInputException.require(d != null, "%s is null", what);
        InvalidInputException.require(d.n() > 0, "%s (%s) has no examples", what, d.name());
        InvalidInputException.require(d.dim() == width, "%s (%s) has %d values per example, the model's input size is %d",
                what, d.name(), d.dim(), width);
        checkValues(what, d.x(), width, unit);
        int[] y = labels(what + " labels", d.labels(), d.n(), classes);
        return new Dataset(d.name(), d.x(), d.dim(), d.n(), y, classes);
    }

    /** A Dataset of checked rows (labels already checked by {@link #labels}). */
    static Dataset dataset(String name, float[] flat, int width, int[] labels, int classes) {
        return new Dataset(name, flat, width, flat.length / width, labels, classes);
    }
}

package io.jvae.data;

import io.jvae.InvalidInputException;

/**
 * Examples in memory: x is (dim, n) column-major (= row-major n x dim, example i at i*dim),
 * pixels scaled to [0, 1]; labels in [0, classes).
 */
public record Dataset(String name, float[] x, int dim, int n, int[] labels, int classes) {

    public Dataset {
        if ((long) dim * n != x.length) throw new IllegalArgumentException(name + ": " + x.length + " floats for " + n + " x " + dim);
        if (labels != null && labels.length != n) throw new IllegalArgumentException(name + ": " + labels.length + " labels for " + n + " examples");
    }

    /** Images (n, rows, cols) and labels (n) from IDX, validated against each other. */
    public static Dataset fromIdx(String name, Idx.Data images, Idx.Data labels) {
        InvalidInputException.require(images.dims().length >= 2, "%s: images must have at least 2 dimensions, got %d", name, images.dims().length);
        InvalidInputException.require(labels.dims().length == 1, "%s: labels must be 1-dimensional, got %d dimensions", name, labels.dims().length);
        InvalidInputException.require(images.count() == labels.count(), "%s: %d images but %d labels", name, images.count(), labels.count());
        int n = images.count(), dim = images.itemSize();
        float[] x = DataFiles.idx(images, name).requireFinite().x(); // unsigned bytes / 255, other IDX types as they are
        int[] y = new int[n];
        int max = 0;
        for (int i = 0; i < n; i++) {
            int k = i;
            y[i] = ClassLabels.of(labels.value(i), name + " labels", () -> "element " + k + " (0-based)");
            max = Math.max(max, y[i]);
        }
        return new Dataset(name, x, dim, n, y, Math.max(10, max + 1));
    }

    /** The first k examples. */
    public Dataset head(int k) {
        int m = Math.min(k, n);
        return new Dataset(name + "[:" + m + "]", java.util.Arrays.copyOf(x, m * dim), dim, m,
                labels == null ? null : java.util.Arrays.copyOf(labels, m), classes);
    }

    /** One-hot labels as (classes, n) column-major. */
    public float[] oneHot() {
        float[] o = new float[classes * n];
        for (int i = 0; i < n; i++) o[i * classes + labels[i]] = 1f;
        return o;
    }
}

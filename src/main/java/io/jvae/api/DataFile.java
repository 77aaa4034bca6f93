package io.jvae.api;

import io.jvae.data.DataFiles;
import io.jvae.data.Table;

import java.nio.file.Path;

/**
 * Examples read from a file, as rows for {@link VaeModel}: the formats `jvae train --train` reads
 * (told apart by their first bytes): NumPy .npy (uint8 divided by 255, floats as they are) and .npz,
 * CSV (numbers, an optional header, an optional label column), IDX of any element type. Every value
 * is checked finite; a bad file is one {@link io.jvae.InvalidInputException} naming the place.
 *
 * @param rows   (n, features): row i is example i
 * @param labels the class labels (0..C-1) when the file or a labels file has them, else null
 */
public record DataFile(float[][] rows, int[] labels) {
    /** A file without labels (or whose .npz has an array named y: then those). */
    public static DataFile read(Path file) {
        return read(file, null, null, null, null);
    }

    /**
     * A file with its labels.
     *
     * @param labels      a labels file (IDX, .npy integers, or one integer per line), or null
     * @param labelColumn CSV: the label column, a header name or a number counted from 1, or null
     * @param array       .npz: the array with the data (null: x if present, else the first)
     * @param labelsArray .npz: the array with the labels (null: y if present and array is null)
     */
    public static DataFile read(Path file, Path labels, String labelColumn, String array, String labelsArray) {
        Table t = DataFiles.read(file, labels, new DataFiles.Options(array, labelsArray, labelColumn)).requireFinite();
        float[][] rows = new float[t.n()][];
        for (int i = 0; i < t.n(); i++) rows[i] = java.util.Arrays.copyOfRange(t.x(), i * t.dim(), (i + 1) * t.dim());
        return new DataFile(rows, t.labels());
    }

    /** Features per example. */
    public int features() {
        return rows.length == 0 ? 0 : rows[0].length;
    }
}

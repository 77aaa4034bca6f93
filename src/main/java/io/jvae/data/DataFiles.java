package io.jvae.data;

import io.jvae.InvalidInputException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The user's own data: one entry point for every format, told apart by the file's first bytes
 * (not its name): .npy ({@code \x93NUMPY}), .npz (a zip), IDX (00 00, or gzip), else CSV text.
 * Labels come from a CSV column, an .npz array, or a file of their own (IDX, .npy, .npz, or text
 * with one integer per line and an optional header). Every value is checked to be finite, every
 * label to be an integer 0..C-1, and each failure is one line naming the file and the place.
 */
public final class DataFiles {
    private DataFiles() {}

    /**
     * How to read: array: the .npz array of the data (default: "x" if present, else the first);
     * labelsArray: the .npz array of the labels (default without --array: "y" if present); labelColumn: the CSV
     * column of the labels (a header name, or a number from 1).
     */
    public record Options(String array, String labelsArray, String labelColumn) {
        public static final Options NONE = new Options(null, null, null);
    }

    public enum Format { NPY, NPZ, IDX, CSV }

    public static Format format(byte[] b) {
        if (Npy.is(b)) return Format.NPY;
        if (Npz.is(b)) return Format.NPZ;
        if (b.length >= 2 && ((b[0] == 0 && b[1] == 0) || ((b[0] & 0xFF) == 0x1f && (b[1] & 0xFF) == 0x8b))) return Format.IDX;
        return Format.CSV;
    }

    /** The examples of `data`, with labels from `labels` (a file; may be null) or as the options say. */
    public static Table read(Path data, Path labels, Options o) {
        String name = data.getFileName() == null ? data.toString() : data.getFileName().toString();
        Table t = parse(bytes(data), name, o, labels == null);
        if (labels != null) {
            String ln = labels.getFileName() == null ? labels.toString() : labels.getFileName().toString();
            Labeled y = labels(bytes(labels), ln, o.labelsArray());
            t = t.withLabels(y.labels(), ln, y.at());
        }
        return t;
    }

    /** Labels and where each came from ("y.txt line 4, column 1 (1-based)"). */
    public record Labeled(int[] labels, java.util.function.IntFunction<String> at) {}

    /**
     * Parses the bytes of a data file. labelsHere: the labels may come from this file (a CSV column,
     * an .npz array); false when a labels file is given, which then makes --label-column and a
     * data-file --labels-array an error.
     */
    public static Table parse(byte[] b, String name, Options o, boolean labelsHere) {
        Format f = format(b);
        if (o.array() != null && f != Format.NPZ) throw new InvalidInputException("--array applies to .npz files; " + name + " is " + describe(f));
        if (o.labelColumn() != null && f != Format.CSV) throw new InvalidInputException("--label-column applies to CSV files; " + name + " is " + describe(f));
        if (o.labelColumn() != null && !labelsHere) throw new InvalidInputException("--labels and --label-column: give the labels one way");
        if (o.labelsArray() != null && labelsHere && f != Format.NPZ)
            throw new InvalidInputException("--labels-array applies to .npz files; " + name + " is " + describe(f) + " (a labels file: --labels FILE)");
        Table t = switch (f) {
            case NPY -> Npy.parse(b, name).features();
            case IDX -> idx(Idx.parse(b, name), name);
            case CSV -> Csv.parse(b, name, o.labelColumn());
            case NPZ -> {
                Npz.Archive a = Npz.open(b, name);
                String x = o.array() != null ? o.array() : a.has("x") ? "x" : a.names().get(0);
                Table table = a.array(x).features();
                // labels: --labels-array, else "y" beside a default data array (never guessed for an --array of the user's choice)
                String y = !labelsHere ? null : o.labelsArray() != null ? o.labelsArray() : o.array() == null && !x.equals("y") && a.has("y") ? "y" : null;
                if (y != null) {
                    InvalidInputException.require(!y.equals(x), "%s: --labels-array '%s' is the data array too", name, y);
                    Npy.Array ya = a.array(y);
                    table = table.withLabels(ya.labels(), ya.name, ya::labelAt);
                }
                yield table;
            }
        };
        return t.requireFinite();
    }

    private static String describe(Format f) {
        return switch (f) {
            case NPY -> "an .npy file";
            case NPZ -> "an .npz archive";
            case IDX -> "an IDX file";
            case CSV -> "a CSV/text file";
        };
    }

    /** IDX of any shape (N, ...): unsigned bytes scaled by 1/255, every other type as it is. */
    static Table idx(Idx.Data d, String name) {
        int n = d.count(), dim = d.itemSize();
        long total = (long) n * dim;
        if (total > Npy.MAX_ELEMENTS) throw new InvalidInputException(name + ": " + total + " values, more than jvae's limit for one array");
        float[] x = new float[(int) total];
        byte[] b = d.bytes();
        if (d.type() == Idx.UBYTE) for (int i = 0; i < x.length; i++) x[i] = (b[i] & 0xFF) / 255f;
        else for (int i = 0; i < x.length; i++) x[i] = (float) d.value(i);
        int[] dims = d.dims();
        return new Table(name, x, dim, n, null, (e, f) -> name + " element " + index(dims, e, f) + " (0-based)", null);
    }

    private static String index(int[] dims, int e, int f) {
        StringBuilder b = new StringBuilder();
        for (int k = dims.length - 1; k >= 1; k--) {
            b.insert(0, ", " + f % dims[k]);
            f /= dims[k];
        }
        return "[" + e + b + "]";
    }

    /** A labels file: IDX (1-D), .npy ((N,) or (N, 1)), .npz (array: labelsArray, "y", or the only one), or text (one integer per line). */
    public static Labeled labels(byte[] b, String name, String labelsArray) {
        Format f = format(b);
        if (labelsArray != null && f != Format.NPZ) throw new InvalidInputException("--labels-array applies to .npz files; " + name + " is " + describe(f));
        switch (f) {
            case IDX -> {
                Idx.Data d = Idx.parse(b, name);
                InvalidInputException.require(d.dims().length == 1 || (d.dims().length == 2 && d.dims()[1] == 1),
                        "%s: IDX labels must have 1 dimension, got %s", name, Arrays.toString(d.dims()));
                int[] y = new int[d.count()];
                for (int i = 0; i < y.length; i++) {
                    int k = i;
                    y[i] = ClassLabels.of(d.value(i), name, () -> "element " + k + " (0-based)");
                }
                return new Labeled(y, i -> name + " element " + i + " (0-based)");
            }
            case NPY -> {
                Npy.Array a = Npy.parse(b, name);
                return new Labeled(a.labels(), a::labelAt);
            }
            case NPZ -> {
                Npz.Archive z = Npz.open(b, name);
                String y = labelsArray != null ? labelsArray : z.has("y") ? "y" : z.names().size() == 1 ? z.names().get(0) : null;
                if (y == null) throw new InvalidInputException(name + ": which array holds the labels? --labels-array NAME (it holds " + String.join(", ", z.names()) + ")");
                Npy.Array a = z.array(y);
                return new Labeled(a.labels(), a::labelAt);
            }
            default -> {
                Table t = Csv.parse(b, name, null);
                InvalidInputException.require(t.dim() == 1, "%s: a labels file has one integer per line, this one has %d columns", name, t.dim());
                int[] y = new int[t.n()];
                for (int i = 0; i < y.length; i++) {
                    int k = i;
                    y[i] = ClassLabels.of(t.x()[i], name, () -> t.at().at(k, 0));
                }
                return new Labeled(y, i -> name + " " + t.at().at(i, 0));
            }
        }
    }

    /** The whole file, or one line saying why not. */
    public static byte[] bytes(Path file) {
        try {
            if (Files.isDirectory(file)) throw new InvalidInputException(file + ": is a directory, expected a data file");
            long size = Files.size(file);
            if (size > Integer.MAX_VALUE - 8) throw new InvalidInputException(file + ": " + size + " bytes; jvae reads data files up to 2 GiB");
            byte[] b = Files.readAllBytes(file);
            if (b.length == 0) throw new InvalidInputException(file + ": empty file");
            return b;
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(file + ": no such file");
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot read (" + e.getMessage() + ")");
        }
    }

    /** A held-out test set and the rest. */
    public record Split(Table train, Table test) {}

    /**
     * round(fraction * n) examples (at least 1, at most n - 1) drawn without replacement by a
     * generator seeded with `seed`, as the test set; both parts keep the file's order.
     */
    public static Split split(Table t, double fraction, long seed) {
        InvalidInputException.require(fraction > 0 && fraction < 1, "--test-split must be in (0, 1), got %s", fraction);
        InvalidInputException.require(t.n() >= 2, "%s: %d example: too few to hold out a test set (pass --test FILE)", t.name(), t.n());
        int n = t.n(), k = (int) Math.max(1, Math.min(n - 1, Math.round(fraction * n)));
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < k; i++) { // partial Fisher-Yates: p[0..k) is a uniform k-subset
            int j = i + r.nextInt(n - i);
            int tmp = p[i];
            p[i] = p[j];
            p[j] = tmp;
        }
        int[] test = Arrays.copyOf(p, k), train = Arrays.copyOfRange(p, k, n);
        Arrays.sort(test);
        Arrays.sort(train);
        return new Split(t.rows(train, t.name() + " (train part)"), t.rows(test, t.name() + " (held-out part)"));
    }

    /**
     * Every value in [0, 1], as the Bernoulli decoder needs; else one line with the first that is
     * not and what to do (`hint`).
     */
    public static void requireUnitRange(Table t, float[] values, String hint) {
        for (int i = 0; i < values.length; i++)
            if (!(values[i] >= 0f && values[i] <= 1f))
                throw new InvalidInputException(t.name() + ": " + values[i] + " at " + t.at().at(i / t.dim(), i % t.dim())
                        + " is outside [0, 1], the range of the Bernoulli decoder: " + hint);
    }
}

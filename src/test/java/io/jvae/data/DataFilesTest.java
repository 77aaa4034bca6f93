package io.jvae.data;

import io.jvae.InvalidInputException;
import io.jvae.testing.DataBytes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.*;

/** The entry point: format detection, IDX of any type, labels files, options, NaN checks, the test split. */
class DataFilesTest {
    @TempDir
    Path dir;

    static String fails(org.junit.jupiter.api.function.Executable e) {
        String m = assertThrows(InvalidInputException.class, e).getMessage();
        assertFalse(m.contains("\n"), m);
        return m;
    }

    static Path write(Path dir, String name, byte[] b) throws Exception {
        Path f = dir.resolve(name);
        Files.write(f, b);
        return f;
    }

    static byte[] gzip(byte[] b) throws Exception {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(o)) {
            g.write(b);
        }
        return o.toByteArray();
    }

    static byte[] be(float... v) {
        return DataBytes.f4(ByteOrder.BIG_ENDIAN, v);
    }

    @Test
    void formatsAreToldApartByTheirFirstBytes() throws Exception {
        byte[] idx = DataBytes.idx(0x08, new int[] {1, 2}, new byte[] {0, 1});
        assertEquals(DataFiles.Format.NPY, DataFiles.format(DataBytes.npyF4(new float[] {1}, 1, 1)));
        assertEquals(DataFiles.Format.NPZ, DataFiles.format(DataBytes.zip(Map.of("x.npy", new byte[1]), false)));
        assertEquals(DataFiles.Format.IDX, DataFiles.format(idx));
        assertEquals(DataFiles.Format.IDX, DataFiles.format(gzip(idx)));
        assertEquals(DataFiles.Format.CSV, DataFiles.format("1,2\n".getBytes()));
        // the name does not matter: a CSV called .npy is read as CSV
        assertArrayEquals(new float[] {1, 2}, DataFiles.read(write(dir, "looks.npy", "1,2\n".getBytes()), null, DataFiles.Options.NONE).x());
    }

    @Test
    void idxOfAnyTypeAndShape() throws Exception {
        // Fashion-MNIST's layout: (N, rows, cols) unsigned bytes and (N) labels, here 3 images of 2x2, gzipped
        byte[] px = {0, 51, 102, (byte) 255, 1, 2, 3, 4, 5, 6, 7, 8};
        Path img = write(dir, "train-images-idx3-ubyte.gz", gzip(DataBytes.idx(0x08, new int[] {3, 2, 2}, px)));
        Path lbl = write(dir, "train-labels-idx1-ubyte.gz", gzip(DataBytes.idx(0x08, new int[] {3}, new byte[] {9, 0, 4})));
        Table t = DataFiles.read(img, lbl, DataFiles.Options.NONE);
        float[] want = new float[12];
        for (int i = 0; i < 12; i++) want[i] = (px[i] & 0xFF) / 255f;
        assertArrayEquals(want, t.x());
        assertEquals(4, t.dim());
        assertArrayEquals(new int[] {9, 0, 4}, t.labels());
        // float32 (0x0D) and float64 (0x0E) as they are, big-endian; int16 (0x0B) signed
        assertArrayEquals(new float[] {-1.5f, 1e-7f, 3e38f, 2f}, DataFiles.parse(DataBytes.idx(0x0D, new int[] {2, 2}, be(-1.5f, 1e-7f, 3e38f, 2f)),
                "f.idx", DataFiles.Options.NONE, true).x());
        assertArrayEquals(new float[] {0.1f, -2f}, DataFiles.parse(DataBytes.idx(0x0E, new int[] {2}, DataBytes.f8(ByteOrder.BIG_ENDIAN, 0.1, -2)),
                "d.idx", DataFiles.Options.NONE, true).x());
        assertArrayEquals(new float[] {-2, 258}, DataFiles.parse(DataBytes.idx(0x0B, new int[] {1, 2}, new byte[] {-1, -2, 1, 2}),
                "s.idx", DataFiles.Options.NONE, true).x());
        assertEquals("f.idx: NaN at f.idx element [1, 0, 1] (0-based): remove or impute missing values first",
                fails(() -> DataFiles.parse(DataBytes.idx(0x0D, new int[] {2, 2, 2}, be(0, 0, 0, 0, 0, Float.NaN, 0, 0)), "f.idx", DataFiles.Options.NONE, true)));
    }

    @Test
    void labelsFilesOfEveryKind() throws Exception {
        Path x = write(dir, "x.npy", DataBytes.npyF4(new float[] {0, 0.5f, 1}, 3, 1));
        DataFiles.Options none = DataFiles.Options.NONE;
        Path idx = write(dir, "y.idx", DataBytes.idx(0x08, new int[] {3}, new byte[] {2, 0, 1}));
        Path npy = write(dir, "y.npy", DataBytes.npy(1, DataBytes.dict("<i8", false, 3), DataBytes.i8(ByteOrder.LITTLE_ENDIAN, 2, 0, 1)));
        Path txt = write(dir, "y.txt", "label\r\n2\r\n0\r\n1\r\n".getBytes());
        Map<String, byte[]> zy = new LinkedHashMap<>();
        zy.put("classes.npy", Files.readAllBytes(npy));
        Path npz = write(dir, "y.npz", DataBytes.zip(zy, true));
        for (Path y : new Path[] {idx, npy, txt, npz})
            assertArrayEquals(new int[] {2, 0, 1}, DataFiles.read(x, y, none).labels(), y.toString());
        assertEquals("y.txt line 4, column 1 'label' (1-based)", DataFiles.read(x, txt, none).labelAt().apply(2));
        assertEquals("y.idx element 2 (0-based)", DataFiles.read(x, idx, none).labelAt().apply(2));
        assertEquals("y2.txt: 2 labels for the 3 examples of x.npy",
                fails(() -> DataFiles.read(x, write(dir, "y2.txt", "1\n2\n".getBytes()), none)));
        assertEquals("y3.txt: a labels file has one integer per line, this one has 2 columns",
                fails(() -> DataFiles.read(x, write(dir, "y3.txt", "1,2\n2,3\n0,0\n".getBytes()), none)));
        assertEquals("y4.txt: label -3 at line 2, column 1 (1-based) is negative (labels are class numbers 0..C-1)",
                fails(() -> DataFiles.read(x, write(dir, "y4.txt", "1\n-3\n0\n".getBytes()), none)));
        Map<String, byte[]> two = new LinkedHashMap<>(zy);
        two.put("other.npy", Files.readAllBytes(npy));
        Path npz2 = write(dir, "y2.npz", DataBytes.zip(two, false));
        assertEquals("y2.npz: which array holds the labels? --labels-array NAME (it holds classes, other)", fails(() -> DataFiles.read(x, npz2, none)));
        assertArrayEquals(new int[] {2, 0, 1}, DataFiles.read(x, npz2, new DataFiles.Options(null, "other", null)).labels());
    }

    @Test
    void optionsThatDoNotApplyAreRefused() throws Exception {
        Path csv = write(dir, "d.csv", "a,b\n1,0\n".getBytes()), npy = write(dir, "d.npy", DataBytes.npyF4(new float[] {1}, 1, 1));
        assertEquals("--array applies to .npz files; d.csv is a CSV/text file", fails(() -> DataFiles.read(csv, null, new DataFiles.Options("x", null, null))));
        assertEquals("--label-column applies to CSV files; d.npy is an .npy file", fails(() -> DataFiles.read(npy, null, new DataFiles.Options(null, null, "b"))));
        assertEquals("--labels-array applies to .npz files; d.csv is a CSV/text file (a labels file: --labels FILE)",
                fails(() -> DataFiles.read(csv, null, new DataFiles.Options(null, "y", null))));
        assertEquals("--labels and --label-column: give the labels one way", fails(() -> DataFiles.read(csv, csv, new DataFiles.Options(null, null, "b"))));
        assertEquals(dir.resolve("none.csv") + ": no such file", fails(() -> DataFiles.read(dir.resolve("none.csv"), null, DataFiles.Options.NONE)));
        assertEquals(write(dir, "empty.npy", new byte[0]) + ": empty file", fails(() -> DataFiles.read(dir.resolve("empty.npy"), null, DataFiles.Options.NONE)));
        assertEquals(dir + ": is a directory, expected a data file", fails(() -> DataFiles.read(dir, null, DataFiles.Options.NONE)));
    }

    @Test
    void testSplitIsSeededDisjointAndSized() {
        int n = 101;
        float[] x = new float[n * 2];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            x[2 * i] = i;
            x[2 * i + 1] = -i;
            y[i] = i % 3;
        }
        Table t = new Table("d.csv", x, 2, n, y, (e, f) -> "line " + (e + 1), e -> "line " + (e + 1));
        DataFiles.Split s = DataFiles.split(t, 0.1, 42);
        assertEquals(10, s.test().n(), "round(0.1 * 101)");
        assertEquals(91, s.train().n());
        Set<Integer> seen = new HashSet<>();
        for (Table part : new Table[] {s.train(), s.test()})
            for (int j = 0; j < part.n(); j++) {
                int i = (int) part.x()[2 * j];
                assertTrue(seen.add(i), "example " + i + " in both parts");
                assertEquals(-i, part.x()[2 * j + 1], "the row stays whole");
                assertEquals(i % 3, part.labels()[j], "its label follows it");
                assertEquals("line " + (i + 1), part.at().at(j, 0), "errors still name the file's line");
                if (j > 0) assertTrue(part.x()[2 * j] > part.x()[2 * j - 2], "each part keeps the file's order");
            }
        assertEquals(n, seen.size(), "every example in one part");
        assertArrayEquals(s.test().x(), DataFiles.split(t, 0.1, 42).test().x(), "the same seed, the same split");
        assertFalse(java.util.Arrays.equals(s.test().x(), DataFiles.split(t, 0.1, 43).test().x()), "another seed, another split");
        assertEquals(1, DataFiles.split(t.rows(new int[] {0, 1}, "two"), 0.01, 1).test().n(), "at least one test example");
        assertEquals(1, DataFiles.split(t.rows(new int[] {0, 1}, "two"), 0.99, 1).train().n(), "at least one training example");
        assertEquals("one: 1 example: too few to hold out a test set (pass --test FILE)", fails(() -> DataFiles.split(t.rows(new int[] {0}, "one"), 0.1, 1)));
        assertEquals("--test-split must be in (0, 1), got 1.0", fails(() -> DataFiles.split(t, 1.0, 1)));
    }

    @Test
    void bernoulliRangeNamesTheValueAndTheWayOut() {
        Table t = new Table("d.csv", new float[] {0, 1, 0.5f, 1.25f}, 2, 2, null, (e, f) -> Csv.at(e + 2, f, null), null);
        DataFiles.requireUnitRange(t, new float[] {0, 1, 0.5f, 1}, "hint");
        assertEquals("d.csv: 1.25 at line 3, column 2 (1-based) is outside [0, 1], the range of the Bernoulli decoder: use --decoder gaussian",
                fails(() -> DataFiles.requireUnitRange(t, t.x(), "use --decoder gaussian")));
    }
}

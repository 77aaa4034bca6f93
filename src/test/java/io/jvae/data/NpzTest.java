package io.jvae.data;

import io.jvae.InvalidInputException;
import io.jvae.testing.DataBytes;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.jvae.testing.DataBytes.npyF4;
import static org.junit.jupiter.api.Assertions.*;

/** .npz archives: numpy's own (golden files), ours from java.util.zip (stored and deflated), and corrupt ones. */
class NpzTest {
    static final float[] X = {0.25f, 0.5f, 0.75f, 1f, 0f, 0.125f}; // (3, 2)
    static final float[] Z = {9f, 8f};                               // (1, 2)

    static Map<String, byte[]> members() {
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("z.npy", npyF4(Z, 1, 2));
        m.put("x.npy", npyF4(X, 3, 2));
        m.put("y.npy", DataBytes.npy(1, DataBytes.dict("<i8", false, 3), DataBytes.i8(java.nio.ByteOrder.LITTLE_ENDIAN, 1, 0, 2)));
        m.put("notes.txt", "not an array".getBytes());
        return m;
    }

    static byte[] golden(String name) throws Exception {
        try (InputStream in = NpzTest.class.getResourceAsStream("/io/jvae/golden/" + name)) {
            assertNotNull(in, name);
            return in.readAllBytes();
        }
    }

    static String fails(byte[] b) {
        String m = assertThrows(InvalidInputException.class, () -> {
            Npz.Archive a = Npz.open(b, "d.npz");
            for (String n : a.names()) a.array(n);
        }).getMessage();
        assertFalse(m.contains("\n"), m);
        return m;
    }

    @Test
    void readsWhatNumpyWrites() throws Exception {
        for (String f : new String[] {"numpy-savez.npz", "numpy-savez-compressed.npz"}) {
            Npz.Archive a = Npz.open(golden(f), f);
            if (a.array("version").labels()[0] != 1) throw new IllegalStateException("stale golden file: re-run bench/make_data_golden.py");
            assertEquals(List.of("version", "x", "y", "big"), a.names(), f);
            Npy.Array x = a.array("x");
            assertTrue(x.fortran, "numpy saved x in Fortran order");
            float[] want = new float[12];
            for (int i = 0; i < 12; i++) want[i] = i / 8f; // np.arange(12).reshape(3, 4) / 8: exact
            Table t = x.features();
            assertEquals(3, t.n());
            assertEquals(4, t.dim());
            assertArrayEquals(want, t.x(), f);
            assertArrayEquals(new int[] {2, 0, 1}, a.array("y").labels(), f);
            assertArrayEquals(new float[] {0.5f, -1.25f, 3f, (float) 1e-3}, a.array("big").features().x(), f + ": '>f8'");
        }
    }

    @Test
    void storedAndDeflatedRoundTrip() {
        for (boolean deflate : new boolean[] {false, true}) {
            Npz.Archive a = Npz.open(DataBytes.zip(members(), deflate), "d.npz");
            assertEquals(List.of("z", "x", "y"), a.names(), "members that are not .npy are left out");
            assertArrayEquals(X, a.array("x").features().x(), "deflate " + deflate);
            assertArrayEquals(Z, a.array("z").features().x());
            assertEquals("d.npz: no array 'w' (it holds z, x, y)",
                    assertThrows(InvalidInputException.class, () -> a.array("w")).getMessage());
        }
    }

    @Test
    void theDataArrayAndTheLabelsArrayAreChosenAsDocumented() {
        byte[] zip = zipOf(true);
        Table byDefault = DataFiles.parse(zip, "d.npz", DataFiles.Options.NONE, true);
        assertArrayEquals(X, byDefault.x(), "'x' when present, though not first");
        assertArrayEquals(new int[] {1, 0, 2}, byDefault.labels(), "'y' as labels when present");
        assertEquals("d.npz['y'][2] (0-based)", byDefault.labelAt().apply(2));
        Table z = DataFiles.parse(zip, "d.npz", new DataFiles.Options("z", null, null), true);
        assertArrayEquals(Z, z.x());
        assertNull(z.labels(), "an --array of the user's choice: labels only with --labels-array");
        assertEquals("d.npz['y']: 3 labels for the 1 examples of d.npz['z']",
                assertThrows(InvalidInputException.class, () -> DataFiles.parse(zip, "d.npz", new DataFiles.Options("z", "y", null), true)).getMessage());
        Map<String, byte[]> noX = new LinkedHashMap<>();
        noX.put("a.npy", npyF4(Z, 1, 2));
        noX.put("b.npy", npyF4(X, 3, 2));
        assertArrayEquals(Z, DataFiles.parse(DataBytes.zip(noX, false), "d.npz", DataFiles.Options.NONE, true).x(), "no 'x': the first array");
        assertNull(DataFiles.parse(DataBytes.zip(noX, false), "d.npz", DataFiles.Options.NONE, true).labels(), "no 'y': no labels");
    }

    private static byte[] zipOf(boolean deflate) {
        return DataBytes.zip(members(), deflate);
    }

    /** Offset of the k-th central directory entry. */
    static int cd(byte[] z, int k) {
        for (int p = z.length - 46; p >= 0; p--)
            if (Npz.u32(z, p) == 0x02014b50L && k-- == 0) return p;
        throw new AssertionError("no central directory entry");
    }

    static void put32(byte[] b, int p, long v) {
        for (int i = 0; i < 4; i++) b[p + i] = (byte) (v >>> (8 * i));
    }

    @Test
    void corruptArchivesGiveOneLine() {
        byte[] stored = zipOf(false);
        assertEquals("d.npz: not a zip archive (.npz), or a truncated one: no end of central directory",
                fails(java.util.Arrays.copyOf(stored, stored.length - 30)));
        // a flipped byte in x's data: the CRC-32 catches it
        byte[] flipped = stored.clone();
        int xData = indexOf(flipped, npyF4(X, 3, 2)) + 130;
        flipped[xData] ^= 1;
        assertTrue(fails(flipped).matches("d\\.npz\\['x'\\]: CRC-32 [0-9a-f]{8} does not match the archive's [0-9a-f]{8} \\(a corrupt file\\)"), fails(flipped));
        // a deflated entry claiming 2 GB from a few hundred bytes: refused before inflating or allocating
        byte[] deflated = zipOf(true);
        byte[] claims = deflated.clone();
        int e = cd(claims, 2); // entries are found from the end: 2 = "x.npy" (order: notes, y, x, z)
        put32(claims, e + 24, 0x7ffffff0L);
        assertTrue(fails(claims).matches("d\\.npz: '.\\.npy' claims 2147483632 bytes from \\d+ compressed bytes: a corrupt archive"), fails(claims));
        byte[] method = stored.clone();
        method[cd(method, 3) + 10] = 12; // bzip2
        assertEquals("d.npz: 'z.npy' uses zip compression method 12 (np.savez stores, np.savez_compressed deflates: 0 or 8)", fails(method));
        byte[] encrypted = stored.clone();
        encrypted[cd(encrypted, 3) + 8] |= 1;
        assertEquals("d.npz: 'z.npy' is encrypted", fails(encrypted));
        byte[] offset = stored.clone();
        put32(offset, offset.length - 22 + 16, stored.length + 100L); // central directory offset beyond the file
        assertTrue(fails(offset).startsWith("d.npz: central directory at " + (stored.length + 100) + " "), fails(offset));
        byte[] local = stored.clone();
        put32(local, cd(local, 3) + 42, stored.length - 10L);
        assertEquals("d.npz: 'z.npy': no local header at offset " + (stored.length - 10), fails(local));
        byte[] shortInflate = deflated.clone();
        int ex = cd(shortInflate, 2);
        put32(shortInflate, ex + 24, Npz.u32(shortInflate, ex + 24) + 1); // one byte more than the stream holds
        assertEquals("d.npz['x']: deflated data ends after 152 of 153 bytes (truncated or corrupt)", fails(shortInflate));
        byte[] longInflate = deflated.clone();
        put32(longInflate, ex + 24, Npz.u32(longInflate, ex + 24) - 1); // one byte less than the stream holds
        assertEquals("d.npz['x']: deflated data holds more than the 151 bytes its header declares", fails(longInflate));
        assertEquals("d.npz: an archive with no .npy arrays in it", fails(DataBytes.zip(Map.of("a.txt", new byte[3]), false)));
    }

    static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        throw new AssertionError("not found");
    }
}

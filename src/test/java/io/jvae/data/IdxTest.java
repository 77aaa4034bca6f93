package io.jvae.data;

import io.jvae.InvalidInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.*;

class IdxTest {
    @TempDir
    Path dir;

    static byte[] idx(int type, int[] dims, int dataBytes) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.write(0);
        o.write(0);
        o.write(type);
        o.write(dims.length);
        for (int d : dims) {
            o.write(d >>> 24);
            o.write(d >>> 16);
            o.write(d >>> 8);
            o.write(d);
        }
        for (int i = 0; i < dataBytes; i++) o.write(i * 7);
        return o.toByteArray();
    }

    static byte[] gzip(byte[] b) throws Exception {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(o)) {
            g.write(b);
        }
        return o.toByteArray();
    }

    @Test
    void readsRawAndGzip() throws Exception {
        byte[] good = idx(8, new int[] {3, 2, 2}, 12);
        Idx.Data d = Idx.parse(good, "raw");
        assertArrayEquals(new int[] {3, 2, 2}, d.dims());
        assertEquals(4, d.itemSize());
        assertEquals((byte) (5 * 7), d.bytes()[5]);
        Idx.Data g = Idx.parse(gzip(good), "gz");
        assertArrayEquals(d.bytes(), g.bytes());
        Path f = dir.resolve("x.gz");
        Files.write(f, gzip(good));
        assertArrayEquals(d.bytes(), Idx.read(f).bytes());
    }

    static String fails(byte[] b) {
        return assertThrows(InvalidInputException.class, () -> Idx.parse(b, "f")).getMessage();
    }

    @Test
    void rejectsBadFilesWithOneLine() throws Exception {
        byte[] good = idx(8, new int[] {3, 2, 2}, 12);
        assertTrue(fails(java.util.Arrays.copyOf(good, good.length - 1)).contains("truncated"));
        assertTrue(fails(idx(8, new int[] {3, 2, 2}, 13)).contains("bytes after"));
        byte[] magic = good.clone();
        magic[0] = 1;
        assertTrue(fails(magic).contains("not an IDX file"));
        assertTrue(fails(idx(0x0A, new int[] {3}, 12)).contains("data type 0a unsupported"), "0a is no IDX type");
        assertTrue(fails(idx(0x0D, new int[] {3}, 11)).contains("truncated, 11 data bytes of 12"), "float32: 4 bytes an element");
        assertTrue(fails(idx(8, new int[] {0, 2}, 0)).contains("dimension 0 is 0"));
        assertTrue(fails(new byte[] {0, 0, 8}).contains("too short"));
        assertTrue(fails(java.util.Arrays.copyOf(good, 9)).contains("truncated header"));
        byte[] gz = gzip(good);
        assertTrue(fails(java.util.Arrays.copyOf(gz, gz.length / 2)).contains("truncated gzip"));
        byte[] broken = gz.clone();
        broken[12] ^= 0x55;
        broken[13] ^= 0x55;
        String m = fails(broken);
        assertTrue(m.contains("gzip") || m.contains("IDX"), m);
        for (String msg : new String[] {fails(magic), fails(broken)}) assertFalse(msg.contains("\n"), msg);
        assertTrue(assertThrows(InvalidInputException.class, () -> Idx.read(dir.resolve("none"))).getMessage().contains("no such file"));
    }

    /** gzip of an IDX header declaring dims, followed by `zeros` zero bytes (streamed: no 50 MB array). */
    static byte[] gzipHeaderThenZeros(int[] dims, long zeros) throws Exception {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(o)) {
            g.write(idx(8, dims, 0));
            byte[] chunk = new byte[1 << 20];
            for (long left = zeros; left > 0; left -= chunk.length) g.write(chunk, 0, (int) Math.min(chunk.length, left));
        }
        return o.toByteArray();
    }

    @Test
    void gzipInflatesNoFurtherThanTheHeaderDeclares() throws Exception {
        byte[] bomb = gzipHeaderThenZeros(new int[] {3}, 50L << 20); // declares 3 data bytes, inflates to 50 MiB (~50 KB of gzip)
        long t0 = System.nanoTime();
        String m = fails(bomb);
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(m.contains("holds more than its header declares") && m.contains("[3]"), m);
        assertFalse(m.contains("\n"), m);
        // Stopping at the declared size + 1 byte inflates a few bytes (0.1 ms warm, under 10 ms cold);
        // inflating all 50 MiB took 0.15 s warm and 0.5 s cold here, the old 2 GiB cap ~24 s. 5 s is generous so that a loaded CI
        // machine (2 shared cores, JIT warm-up, GC) never fails it, yet it still catches a parser that
        // inflates to the old cap.
        assertTrue(seconds < 5, "refused after " + seconds + " s");

        // less than declared: the truncation error, quickly, without allocating the declared 2 GiB
        String t = fails(gzipHeaderThenZeros(new int[] {Integer.MAX_VALUE}, 10));
        assertTrue(t.contains("truncated") && t.contains("10 data bytes of 2147483647"), t);
        // exactly as declared: read
        Idx.Data d = Idx.parse(gzipHeaderThenZeros(new int[] {2, 3}, 6), "gz");
        assertArrayEquals(new int[] {2, 3}, d.dims());
        assertEquals(6, d.bytes().length);
        // a bad header inside the gzip: the same messages as raw
        assertTrue(fails(gzip(new byte[] {1, 0, 8, 1, 0, 0, 0, 1, 0})).contains("not an IDX file"));
        assertTrue(fails(gzip(new byte[] {0, 0, 8, 2, 0, 0, 0, 1})).contains("truncated header"));
        assertTrue(fails(gzip(new byte[] {0, 0, 8})).contains("too short"));
        assertTrue(fails(gzip(idx(8, new int[] {3, 2, 2}, 13))).contains("holds more than its header declares"));
    }

    @Test
    void datasetChecksImagesAgainstLabels() {
        Idx.Data img = Idx.parse(idx(8, new int[] {3, 2, 2}, 12), "img");
        Idx.Data lbl = Idx.parse(idx(8, new int[] {2}, 2), "lbl");
        String m = assertThrows(InvalidInputException.class, () -> Dataset.fromIdx("t", img, lbl)).getMessage();
        assertTrue(m.contains("3 images but 2 labels"), m);
        Dataset d = Dataset.fromIdx("t", img, Idx.parse(idx(8, new int[] {3}, 3), "lbl"));
        assertEquals(4, d.dim());
        assertEquals(3, d.n());
        for (float v : d.x()) assertTrue(v >= 0f && v <= 1f);
    }

    @Test
    void realMnistWhenPresent() {
        Path real = io.jvae.testing.Synthetic.realMnist();
        org.junit.jupiter.api.Assumptions.assumeTrue(real != null, "MNIST not in the cache: run `./jvae data fetch` to include this test");
        Mnist.Splits s = Mnist.load(real);
        assertEquals(60000, s.train().n());
        assertEquals(10000, s.test().n());
        assertEquals(784, s.train().dim());
        int[] first20 = {7, 2, 1, 0, 4, 1, 4, 9, 5, 9, 0, 6, 9, 0, 1, 5, 9, 7, 3, 4};
        assertArrayEquals(first20, java.util.Arrays.copyOf(s.test().labels(), 20), "the row the slides show");
        assertTrue(Mnist.verify(real, line -> {}));
    }
}

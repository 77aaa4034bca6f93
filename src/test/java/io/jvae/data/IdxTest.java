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
        assertTrue(fails(idx(0x0D, new int[] {3}, 12)).contains("data type 0d"));
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

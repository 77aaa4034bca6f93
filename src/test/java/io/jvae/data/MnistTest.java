package io.jvae.data;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.*;

/** MNIST's downloads and local .gz files are inflated no further than the file's known size. */
class MnistTest {
    static byte[] gzipOfZeros(int n) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(b)) {
            byte[] block = new byte[1 << 16];
            for (int done = 0; done < n; done += block.length) gz.write(block, 0, Math.min(block.length, n - done));
        }
        return b.toByteArray();
    }

    @Test
    void aGzipInflatingPastTheFilesSizeIsRefusedWithoutInflatingIt() throws Exception {
        byte[] bomb = gzipOfZeros(200 << 20); // 200 MiB of zeros in ~200 KB, posing as the training labels
        assertTrue(bomb.length < 1 << 20);
        long t0 = System.nanoTime();
        IOException e = assertThrows(IOException.class, () -> Mnist.gunzip(bomb, Mnist.SIZES.get(1), "train-labels-idx1-ubyte.gz"));
        double s = (System.nanoTime() - t0) / 1e9;
        assertTrue(e.getMessage().contains("inflates past the 60008 bytes of MNIST's file"), e.getMessage());
        // it stops after 60,009 bytes: milliseconds; inflating all 200 MiB took ~0.5 s here, and the
        // bound is generous for a slow, shared machine
        assertTrue(s < 0.4, "took " + s + " s");
    }

    @Test
    void aFileOfExactlyItsSizeInflates() throws Exception {
        byte[] ok = gzipOfZeros(10_008);
        assertEquals(10_008, Mnist.gunzip(ok, Mnist.SIZES.get(3), "t10k-labels-idx1-ubyte.gz").length);
    }
}

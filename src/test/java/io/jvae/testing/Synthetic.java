package io.jvae.testing;

import io.jvae.data.Dataset;
import io.jvae.data.Idx;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Small learnable images: class c in 0..9 is a bar pattern (row or column stripes at a
 * class-specific position) with noise, so a VAE's loss must fall far below that of a model
 * that ignores the input.
 */
public final class Synthetic {
    private Synthetic() {}

    public static byte[][] images(int n, int side, long seed, int[] labels) {
        Rand r = new Rand(seed);
        byte[][] out = new byte[n][side * side];
        for (int i = 0; i < n; i++) {
            int c = r.nextInt(10);
            labels[i] = c;
            int pos = (c % 5) * side / 5;
            boolean rows = c < 5;
            for (int y = 0; y < side; y++)
                for (int x = 0; x < side; x++) {
                    int k = rows ? y : x;
                    boolean on = k >= pos && k < pos + Math.max(1, side / 5);
                    double v = on ? 0.85 + 0.15 * r.uniform(1, 0, 1)[0] : 0.1 * r.uniform(1, 0, 1)[0];
                    out[i][y * side + x] = (byte) Math.round(v * 255);
                }
        }
        return out;
    }

    public static Dataset dataset(String name, int n, int side, long seed) {
        int[] labels = new int[n];
        byte[][] img = images(n, side, seed, labels);
        int d = side * side;
        float[] x = new float[n * d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) x[i * d + j] = (img[i][j] & 0xFF) / 255f;
        return new Dataset(name, x, d, n, labels, 10);
    }

    /** Writes MNIST-named IDX files (28x28) with nTrain/nTest synthetic examples into dir. */
    public static void writeMnistLike(Path dir, int nTrain, int nTest) throws IOException {
        write(dir, io.jvae.data.Mnist.TRAIN_IMAGES, io.jvae.data.Mnist.TRAIN_LABELS, nTrain, 11);
        write(dir, io.jvae.data.Mnist.TEST_IMAGES, io.jvae.data.Mnist.TEST_LABELS, nTest, 12);
    }

    private static void write(Path dir, String imgName, String lblName, int n, long seed) throws IOException {
        int[] labels = new int[n];
        byte[][] img = images(n, 28, seed, labels);
        byte[] flat = new byte[n * 784];
        for (int i = 0; i < n; i++) System.arraycopy(img[i], 0, flat, i * 784, 784);
        Idx.write(dir.resolve(imgName), new int[] {n, 28, 28}, flat);
        byte[] lb = new byte[n];
        for (int i = 0; i < n; i++) lb[i] = (byte) labels[i];
        Idx.write(dir.resolve(lblName), new int[] {n}, lb);
    }

    /** Real MNIST directory if present (cache or $JVAE_DATA), else null. */
    public static Path realMnist() {
        Path d = io.jvae.data.Mnist.cacheDir();
        for (String f : io.jvae.data.Mnist.FILES)
            if (!java.nio.file.Files.isRegularFile(d.resolve(f)) && !java.nio.file.Files.isRegularFile(d.resolve(f + ".gz"))) return null;
        return d;
    }
}

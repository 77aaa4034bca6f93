package io.jvae.backend;

/** What the in-process A/B harnesses share: real MNIST images as a batch, and variants timed alternately in one JVM. */
final class HarnessRuns {
    private HarnessRuns() {}

    /** The first n training images of ~/.cache/jvae/mnist as a (784, n) column-major batch in [0, 1]. */
    static float[] mnist(int n) throws java.io.IOException {
        int k = 784;
        float[] x = new float[k * n];
        byte[] raw = java.nio.file.Files.readAllBytes(java.nio.file.Path.of(System.getProperty("user.home"), ".cache/jvae/mnist/train-images-idx3-ubyte"));
        for (int j = 0; j < n; j++) for (int i = 0; i < k; i++) x[j * k + i] = (raw[16 + j * k + i] & 0xff) / 255f;
        return x;
    }

    /**
     * Runs the variants in turn, reps calls each, for 5 warm-up and `rounds` timed rounds (the
     * machine drifts 20-40 % within minutes, so each round times every variant side by side):
     * µs per call, [variant][round], unsorted.
     */
    static double[][] alternate(Runnable[] variants, int reps, int rounds) {
        double[][] t = new double[variants.length][rounds];
        for (int round = -5; round < rounds; round++)
            for (int v = 0; v < variants.length; v++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < reps; i++) variants[v].run();
                if (round >= 0) t[v][round] = (System.nanoTime() - t0) / 1e3 / reps;
            }
        return t;
    }
}

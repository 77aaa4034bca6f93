package io.jvae.train;

/** Independent streams from one run seed (SplitMix64 finaliser of seed + stream * golden ratio). */
public final class Seeds {
    private Seeds() {}

    public static final int INIT = 0, NOISE = 1, BINARIZE = 2, EVAL = 3, SHUFFLE = 4, SPLIT = 5;

    public static long derive(long seed, long stream) {
        long z = seed + (stream + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The epoch's permutation of [0, n): Fisher–Yates with a generator keyed by (seed, epoch). */
    public static int[] permutation(long seed, int epoch, int n) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(derive(derive(seed, SHUFFLE), epoch));
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}

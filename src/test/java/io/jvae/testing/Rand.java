package io.jvae.testing;

import java.util.SplittableRandom;

/** Seeded test inputs. */
public final class Rand {
    private final SplittableRandom r;

    public Rand(long seed) {
        r = new SplittableRandom(seed);
    }

    public float[] uniform(int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (lo + (hi - lo) * r.nextDouble());
        return a;
    }

    public float[] normal(int n, double sd) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            double u1 = 1 - r.nextDouble(), u2 = r.nextDouble();
            a[i] = (float) (sd * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
        }
        return a;
    }

    public int nextInt(int bound) {
        return r.nextInt(bound);
    }
}

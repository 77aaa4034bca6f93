package io.jvae.testing;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The one closeness check: |actual - expected| <= atol + rtol |expected| element by element.
 * Names the tensor, the index and both values of the first 10 mismatches, always reports the
 * maximum error, and never lets NaN pass (NaN only equals NaN when both are NaN is NOT accepted).
 */
public final class Close {
    private Close() {}

    public static void assertAllClose(String name, float[] expected, float[] actual, float atol, float rtol) {
        assertAllClose(name, toDouble(expected), toDouble(actual), atol, rtol);
    }

    public static void assertAllClose(String name, double[] expected, float[] actual, double atol, double rtol) {
        assertAllClose(name, expected, toDouble(actual), atol, rtol);
    }

    public static void assertAllClose(String name, double[] expected, double[] actual, double atol, double rtol) {
        if (expected.length != actual.length) fail(name + ": length " + actual.length + ", expected " + expected.length);
        StringBuilder msg = new StringBuilder();
        int bad = 0, worst = -1;
        double maxD = 0;
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i], a = actual[i], d = Math.abs(a - e);
            boolean ok = Double.isFinite(a) && Double.isFinite(e) && d <= atol + rtol * Math.abs(e);
            if (!Double.isFinite(a) || !Double.isFinite(e)) d = Double.POSITIVE_INFINITY;
            if (d > maxD || worst < 0) {
                maxD = Math.max(maxD, d);
                if (d >= maxD) worst = i;
            }
            if (!ok && bad++ < 10)
                msg.append(String.format("%n  %s[%d]: expected %.9g actual %.9g |d|=%.3g > %.3g", name, i, e, a, d, atol + rtol * Math.abs(e)));
        }
        if (bad > 0) fail(name + ": " + bad + " of " + expected.length + " elements differ (max |d| " + maxD + " at " + worst + ")" + msg);
    }

    public static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }
}

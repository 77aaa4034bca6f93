package io.jvae.backend;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Fdlibm against StrictMath, bit for bit (no tolerance: the port is only worth having if it is
 * StrictMath, so that the CPU's noise stays what it was and what every JVM draws). Arguments: the
 * exact ones of Philox's Box–Muller (u1 = (r + 1) 2^-32, angle 2 pi r 2^-32, r a 32-bit word),
 * densely around every boundary of the code (pi/4, 3 pi/4, n pi/2, log's |f| < 2^-20 and
 * normalisation cut), and random doubles over the whole range each function ports.
 */
class FdlibmTest {
    private static void sameLog(double x) {
        assertEquals(Double.doubleToRawLongBits(StrictMath.log(x)), Double.doubleToRawLongBits(Fdlibm.log(x)), () -> "log(" + x + ")");
    }

    private static void sameTrig(double x) {
        assertEquals(Double.doubleToRawLongBits(StrictMath.sin(x)), Double.doubleToRawLongBits(Fdlibm.sin(x)), () -> "sin(" + x + ")");
        assertEquals(Double.doubleToRawLongBits(StrictMath.cos(x)), Double.doubleToRawLongBits(Fdlibm.cos(x)), () -> "cos(" + x + ")");
    }

    private static double u1(long r) {
        return ((r & 0xFFFFFFFFL) + 1.0) * 0x1p-32;
    }

    private static double angle(long r) {
        return 2.0 * Math.PI * ((r & 0xFFFFFFFFL) * 0x1p-32);
    }

    @Test
    void logIsStrictMathOnPhiloxsArgumentsAndBeyond() {
        SplittableRandom g = new SplittableRandom(1);
        for (int i = 0; i < 2_000_000; i++) sameLog(u1(g.nextInt()));
        // the ends of the word range (u1 near 2^-32 and near 1, where |f| < 2^-20), and halving points
        for (long c : new long[] {0, 1L << 31, 1L << 30, 3L << 30, (1L << 32) - 1, 0x6A09E667L /* ~sqrt(2)/2 2^32 */})
            for (long d = -40_000; d <= 40_000; d++) sameLog(u1(c + d));
        for (int i = 0; i < 1_000_000; i++) sameLog(Double.longBitsToDouble(g.nextLong(0x0010000000000000L, 0x7FF0000000000000L)));
        for (int h : new int[] {0x00100000, 0x3ff00000, 0x3fe6a09e, 0x3ff6a09e, 0x3ff00000 + 0x6147a, 0x3ff00000 + 0x6b851, 0x3feffffe, 0x7fefffff})
            for (int dh = -2; dh <= 2; dh++)
                for (int i = 0; i < 3_000; i++) sameLog(Double.longBitsToDouble(((long) (h + dh) << 32) | (g.nextInt() & 0xFFFFFFFFL)));
        for (double x : new double[] {1.0, 2.0, 0.5, Math.E, Math.sqrt(2), Math.sqrt(0.5), Double.MIN_NORMAL, Double.MAX_VALUE,
                Math.nextUp(1.0), Math.nextDown(1.0), 1 + 0x1p-20, 1 - 0x1p-20, 1 + 0x1p-21,
                0.0, -0.0, -1.0, Double.MIN_VALUE, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NaN}) sameLog(x);
    }

    @Test
    void sinAndCosAreStrictMathOnPhiloxsAnglesAndBeyond() {
        SplittableRandom g = new SplittableRandom(2);
        for (int i = 0; i < 2_000_000; i++) sameTrig(angle(g.nextInt()));
        // every quarter and eighth turn of the angle grid (pi/4 kernel cut, 3 pi/4, n pi/2 cancellation)
        for (long q = 0; q <= 8; q++)
            for (long d = -20_000; d <= 20_000; d++) sameTrig(angle((q << 29) + d));
        for (int i = 0; i < 1_000_000; i++) sameTrig(g.nextDouble(-0x1p19 * Math.PI / 2, 0x1p19 * Math.PI / 2));
        // the doubles next to n pi/2 for every n of the cancellation table, both signs
        for (int n = 1; n <= 40; n++) {
            double x = n * (Math.PI / 2);
            for (int u = 0; u < 200; u++) {
                sameTrig(x);
                sameTrig(-x);
                x = Math.nextUp(x);
            }
            x = n * (Math.PI / 2);
            for (int u = 0; u < 200; u++) {
                x = Math.nextDown(x);
                sameTrig(x);
                sameTrig(-x);
            }
        }
        // n pi/2 for n up to 2^19 (a stride through them): the reduction's second and third rounds,
        // which only arguments agreeing with n pi/2 in their first ~16 or ~49 bits reach
        for (int n = 41; n < (1 << 19); n += 89) {
            double x = n * (Math.PI / 2), up = x, down = x;
            for (int u = 0; u < 12; u++) {
                sameTrig(up);
                sameTrig(-down);
                up = Math.nextUp(up);
                down = Math.nextDown(down);
            }
        }
        // doubles where only the third round gives StrictMath's bits (found by a search with that
        // round removed, over n < 2^19 and 12 ulps either side of n pi/2), both signs
        for (long bits : new long[] {0x40efe9e875a67a0bL, 0x40f65a1dd290660fL, 0x40f6d9be62d85044L, 0x40ffe9e875a67a0bL,
                0x4100dec1da5fa53fL, 0x410193e3c2b5f498L, 0x41041fde4b8af12eL, 0x41049decbc1d9720L, 0x4105e4f1e5570a37L,
                0x41065a1dd290660fL, 0x4106d9be62d85044L, 0x410b16eb242b3df5L}) {
            sameTrig(Double.longBitsToDouble(bits));
            sameTrig(-Double.longBitsToDouble(bits));
        }
        // every high word the code compares against, and its neighbours, with random low words
        for (int h : new int[] {0x3e400000, 0x3FD33333, 0x3fe90000, 0x3fe921fb, 0x3ff921fb, 0x4002d97c, 0x413921fb})
            for (int dh = -1; dh <= 1; dh++)
                for (int i = 0; i < 3_000; i++) {
                    double x = Double.longBitsToDouble(((long) (h + dh) << 32) | (g.nextInt() & 0xFFFFFFFFL));
                    sameTrig(x);
                    sameTrig(-x);
                }
        for (double x : new double[] {0.0, -0.0, 0x1p-30, -0x1p-30, 0.3, 0.78125, Math.PI / 4, 3 * Math.PI / 4, 1e6, 0x1p19 * Math.PI / 2,
                1e10, -1e300, Double.MAX_VALUE, Double.MIN_VALUE, Double.POSITIVE_INFINITY, Double.NaN}) sameTrig(x);
    }
}

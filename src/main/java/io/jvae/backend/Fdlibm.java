package io.jvae.backend;

/*
 * The algorithms and constants below are fdlibm's (e_log.c, s_sin.c, s_cos.c, k_sin.c, k_cos.c,
 * e_rem_pio2.c), whose notice reads:
 *   Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
 *   Developed at SunSoft, a Sun Microsystems, Inc. business.
 *   Permission to use, copy, modify, and distribute this software is freely granted, provided
 *   that this notice is preserved.
 */

/**
 * log, sin and cos with the bits of {@link StrictMath}'s (fdlibm 5.3), written in Java. On Java 17 StrictMath.log/sin/cos are native
 * methods: each call crosses into C, three times per Box–Muller pair of {@link Philox}. These are
 * ordinary Java methods (compiled by C2, too big to inline) without the crossing. Same algorithm,
 * same constants, same order of operations; Java's doubles are strict (JEP 306), so every result
 * is StrictMath's bit for bit (FdlibmTest compares ~7 million arguments: Philox's argument grids
 * around every eighth turn, every branch point's high word, the doubles next to n pi/2). Arguments outside what
 * the noise needs (log of a subnormal, zero, negative or non-finite x; sin and cos beyond
 * 2^19 pi/2 or non-finite) go to StrictMath itself.
 */
final class Fdlibm {
    private Fdlibm() {}

    private static int hi(double x) {
        return (int) (Double.doubleToRawLongBits(x) >>> 32);
    }

    /** x with its high word replaced (the low word kept). */
    private static double withHi(double x, int hi) {
        return Double.longBitsToDouble(((long) hi << 32) | (Double.doubleToRawLongBits(x) & 0xFFFFFFFFL));
    }

    // ---- log (e_log.c): x = 2^k (1 + f), log(1 + f) = f - s (f - R(s^2)) with s = f / (2 + f) ----
    private static final double LN2_HI = 6.93147180369123816490e-01, LN2_LO = 1.90821492927058770002e-10;
    private static final double LG1 = 6.666666666666735130e-01, LG2 = 3.999999999940941908e-01,
            LG3 = 2.857142874366239149e-01, LG4 = 2.222219843214978396e-01, LG5 = 1.818357216161805012e-01,
            LG6 = 1.531383769920937332e-01, LG7 = 1.479819860511658591e-01;

    static double log(double x) {
        int hx = hi(x);
        if (hx < 0x00100000 || hx >= 0x7ff00000) return StrictMath.log(x); // subnormal, 0, negative, inf, NaN
        int k = (hx >> 20) - 1023;
        hx &= 0x000fffff;
        int i = (hx + 0x95f64) & 0x100000;
        x = withHi(x, hx | (i ^ 0x3ff00000)); // x or x / 2, into [sqrt(2)/2, sqrt(2))
        k += i >> 20;
        double f = x - 1.0;
        if ((0x000fffff & (2 + hx)) < 3) { // |f| < 2^-20
            if (f == 0.0) {
                if (k == 0) return 0.0;
                double dk = k;
                return dk * LN2_HI + dk * LN2_LO;
            }
            double r = f * f * (0.5 - 0.33333333333333333 * f);
            if (k == 0) return f - r;
            double dk = k;
            return dk * LN2_HI - ((r - dk * LN2_LO) - f);
        }
        double s = f / (2.0 + f), dk = k, z = s * s;
        i = hx - 0x6147a;
        double w = z * z;
        int j = 0x6b851 - hx;
        double t1 = w * (LG2 + w * (LG4 + w * LG6)), t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
        i |= j;
        double r = t2 + t1;
        if (i > 0) {
            double hfsq = 0.5 * f * f;
            if (k == 0) return f - (hfsq - s * (hfsq + r));
            return dk * LN2_HI - ((hfsq - (s * (hfsq + r) + dk * LN2_LO)) - f);
        }
        if (k == 0) return f - s * (f - r);
        return dk * LN2_HI - ((s * (f - r) - dk * LN2_LO) - f);
    }

    // ---- sin and cos (s_sin.c, s_cos.c, k_sin.c, k_cos.c, e_rem_pio2.c without the large-argument path) ----
    private static final double S1 = -1.66666666666666324348e-01, S2 = 8.33333333332248946124e-03,
            S3 = -1.98412698298579493134e-04, S4 = 2.75573137070700676789e-06, S5 = -2.50507602534068634195e-08,
            S6 = 1.58969099521155010221e-10;
    private static final double C1 = 4.16666666666666019037e-02, C2 = -1.38888888888741095749e-03,
            C3 = 2.48015872894767294178e-05, C4 = -2.75573143513906633035e-07, C5 = 2.08757232129817482790e-09,
            C6 = -1.13596475577881948265e-11;
    private static final double INVPIO2 = 6.36619772367581382433e-01, PIO2_1 = 1.57079632673412561417e+00,
            PIO2_1T = 6.07710050650619224932e-11, PIO2_2 = 6.07710050630396597660e-11,
            PIO2_2T = 2.02226624879595063154e-21, PIO2_3 = 2.02226624871116645580e-21,
            PIO2_3T = 8.47842766036889956997e-32;
    /** The reduction's second and third rounds: pi/2's next 33 bits and tail, and the cancellation that calls for each. */
    private static final double[] ROUND_PIO2 = {PIO2_2, PIO2_3}, ROUND_PIO2T = {PIO2_2T, PIO2_3T};
    private static final int[] ROUND_LIMIT = {16, 49};
    /** High words of n pi/2, n = 1..32: an argument with one of these may cancel in the first reduction. */
    private static final int[] NPIO2_HW = {
            0x3FF921FB, 0x400921FB, 0x4012D97C, 0x401921FB, 0x401F6A7A, 0x4022D97C, 0x4025FDBB, 0x402921FB,
            0x402C463A, 0x402F6A7A, 0x4031475C, 0x4032D97C, 0x40346B9C, 0x4035FDBB, 0x40378FDB, 0x403921FB,
            0x403AB41B, 0x403C463A, 0x403DD85A, 0x403F6A7A, 0x40407E4C, 0x4041475C, 0x4042106C, 0x4042D97C,
            0x4043A28C, 0x40446B9C, 0x404534AC, 0x4045FDBB, 0x4046C6CB, 0x40478FDB, 0x404858EB, 0x404921FB,
    };

    static double sin(double x) {
        double[] sc = new double[2];
        sinCos(x, sc);
        return sc[0];
    }

    static double cos(double x) {
        double[] sc = new double[2];
        sinCos(x, sc);
        return sc[1];
    }

    /**
     * sc[0] = sin(x), sc[1] = cos(x), each StrictMath's: x reduced once to y0 + y1 in [-pi/4, pi/4]
     * and n quarter turns, then both kernels, which n assigns and signs (s_sin.c and s_cos.c).
     */
    static void sinCos(double x, double[] sc) {
        int hx = hi(x), ix = hx & 0x7fffffff;
        if (ix <= 0x3fe921fb) {
            sc[0] = kernelSin(x, 0.0, false);
            sc[1] = kernelCos(x, 0.0);
            return;
        }
        if (ix > 0x413921fb) { // beyond 2^19 pi/2, inf, NaN
            sc[0] = StrictMath.sin(x);
            sc[1] = StrictMath.cos(x);
            return;
        }
        int n;
        double y0, y1;
        if (ix < 0x4002d97c) { // |x| < 3 pi/4: n = +-1
            double z;
            if (hx > 0) {
                z = x - PIO2_1;
                if (ix != 0x3ff921fb) {
                    y0 = z - PIO2_1T;
                    y1 = (z - y0) - PIO2_1T;
                } else { // near pi/2: 33 + 33 + 53 bits of pi
                    z -= PIO2_2;
                    y0 = z - PIO2_2T;
                    y1 = (z - y0) - PIO2_2T;
                }
                n = 1;
            } else {
                z = x + PIO2_1;
                if (ix != 0x3ff921fb) {
                    y0 = z + PIO2_1T;
                    y1 = (z - y0) + PIO2_1T;
                } else {
                    z += PIO2_2;
                    y0 = z + PIO2_2T;
                    y1 = (z - y0) + PIO2_2T;
                }
                n = -1;
            }
        } else { // medium: up to 2^19 pi/2
            double t = Math.abs(x);
            n = (int) (t * INVPIO2 + 0.5);
            double fn = n, r = t - fn * PIO2_1, w = fn * PIO2_1T; // first round: 85 bits
            if (n < 32 && ix != NPIO2_HW[n - 1]) {
                y0 = r - w; // no cancellation possible
            } else {
                int j = ix >> 20;
                y0 = r - w;
                int i = j - ((hi(y0) >> 20) & 0x7ff);
                // a second round (118 bits) when the first cancelled more than 16 bits, a third (151) after 49
                for (int k = 0; k < 2 && i > ROUND_LIMIT[k]; k++) {
                    t = r;
                    w = fn * ROUND_PIO2[k];
                    r = t - w;
                    w = fn * ROUND_PIO2T[k] - ((t - r) - w);
                    y0 = r - w;
                    i = j - ((hi(y0) >> 20) & 0x7ff);
                }
            }
            y1 = (r - y0) - w;
            if (hx < 0) {
                y0 = -y0;
                y1 = -y1;
                n = -n;
            }
        }
        double s = kernelSin(y0, y1, true), c = kernelCos(y0, y1);
        switch (n & 3) {
            case 0: sc[0] = s; sc[1] = c; break;
            case 1: sc[0] = c; sc[1] = -s; break;
            case 2: sc[0] = -s; sc[1] = -c; break;
            default: sc[0] = -c; sc[1] = s; break;
        }
    }

    /** sin(x + y) for |x| <= pi/4, y the tail of x (used when tail). */
    private static double kernelSin(double x, double y, boolean tail) {
        int ix = hi(x) & 0x7fffffff;
        if (ix < 0x3e400000 && (int) x == 0) return x; // |x| < 2^-27
        double z = x * x, v = z * x, r = S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)));
        if (!tail) return x + v * (S1 + z * r);
        return x - ((z * (0.5 * y - v * r) - y) - v * S1);
    }

    /** cos(x + y) for |x| <= pi/4, y the tail of x. */
    private static double kernelCos(double x, double y) {
        int ix = hi(x) & 0x7fffffff;
        if (ix < 0x3e400000 && (int) x == 0) return 1.0; // |x| < 2^-27
        double z = x * x, r = z * (C1 + z * (C2 + z * (C3 + z * (C4 + z * (C5 + z * C6)))));
        if (ix < 0x3FD33333) return 1.0 - (0.5 * z - (z * r - x * y)); // |x| < 0.3
        double qx = ix > 0x3fe90000 ? 0.28125 : Double.longBitsToDouble((long) (ix - 0x00200000) << 32); // x / 4
        double hz = 0.5 * z - qx, a = 1.0 - qx;
        return a - (hz - (z * r - x * y));
    }
}

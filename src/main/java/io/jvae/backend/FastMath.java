package io.jvae.backend;

/**
 * float tanh, expm1 and log1p for the CPU executor, built on the JIT intrinsics Math.exp and
 * Math.log (Math.tanh/expm1/log1p are not intrinsics and cost 5-10x more). Each is accurate to
 * ~1e-14 relative in double before the final rounding to float, so the float result is the
 * correctly rounded one except in rare ties (within 1 ulp): short series where the closed form
 * would cancel, the closed form elsewhere.
 */
final class FastMath {
    private FastMath() {}

    /** tanh x. Series x - x^3/3 + 2x^5/15 - 17x^7/315 below |x| = 0.03 (next term < 2e-14 relative). */
    public static float tanh(float x) {
        double a = Math.abs((double) x);
        double t;
        if (a < 0.03) {
            double a2 = a * a;
            t = a * (1 - a2 * (1.0 / 3 - a2 * (2.0 / 15 - a2 * (17.0 / 315))));
        } else if (a > 20) {
            t = 1.0; // 1 - tanh(20) = 8e-18
        } else {
            t = 1.0 - 2.0 / (Math.exp(2 * a) + 1.0);
        }
        return (float) (x < 0 ? -t : t);
    }

    /** e^x - 1. Series below |x| = 1e-3 (next term < 1e-17 relative). */
    public static float expm1(float x) {
        double d = x;
        if (Math.abs(d) < 1e-3) return (float) (d * (1 + d * (0.5 + d * (1.0 / 6 + d * (1.0 / 24)))));
        return (float) (Math.exp(d) - 1.0);
    }

    /** log(1 + x) for x >= 0 (the sigmoid cross-entropy's log1p(e^-|l|)). Series below 1e-4. */
    public static float log1p(float x) {
        double d = x;
        if (d < 1e-4) return (float) (d * (1 - d * (0.5 - d * (1.0 / 3))));
        return (float) Math.log(1.0 + d);
    }

    public static float exp(float x) {
        return (float) Math.exp(x);
    }
}

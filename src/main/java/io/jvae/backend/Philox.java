package io.jvae.backend;

/**
 * Philox4x32-10 counter-based generator (Salmon, Moraes, Dror, Shaw: "Parallel random numbers: as
 * easy as 1, 2, 3", SC 2011), the generator cuRAND also offers, and its twin in
 * kernels/vae_kernels.cu ({@code philox4x32_10}). Counter-based: element i of a draw keyed by
 * (seed, offset) is a pure function of (seed, offset + i), so a GPU thread and this Java loop
 * produce the same bits, and nothing but (seed, offset) is carried between steps.
 *
 * <p>Element e = offset + i uses block q = e / 4 (counter {q lo, q hi, 0, 0}, key {seed lo, seed
 * hi}) and lane e % 4 of the block's four 32-bit outputs r0..r3.
 * <ul>
 *   <li>uniform(e) = (r_lane >>> 8) * 2^-24, in [0, 1), exact in float.</li>
 *   <li>normal(e): Box–Muller in double on the pair (r0, r1) for lanes 0/1 and (r2, r3) for lanes
 *       2/3: u1 = (r_even + 1) 2^-32 in (0, 1], u2 = r_odd 2^-32; rad = sqrt(-2 ln u1);
 *       lane even: rad cos(2 pi u2), odd: rad sin(2 pi u2); rounded to float.</li>
 * </ul>
 */
public final class Philox {
    private Philox() {}

    static final int M0 = 0xD2511F53, M1 = 0xCD9E8D57; // round multipliers
    static final int W0 = 0x9E3779B9, W1 = 0xBB67AE85; // Weyl key increments

    /** Random123 philox4x32 with 10 rounds: out = philox(ctr, key). ctr and out have 4 words. */
    public static void philox4x32_10(int[] ctr, int k0, int k1, int[] out) {
        philox(ctr[0], ctr[1], ctr[2], ctr[3], k0, k1, out);
    }

    /** The four 32-bit outputs of block q for this seed. */
    public static void block(long seed, long q, int[] out) {
        philox((int) q, (int) (q >>> 32), 0, 0, (int) seed, (int) (seed >>> 32), out);
    }

    private static void philox(int c0, int c1, int c2, int c3, int k0, int k1, int[] out) {
        for (int round = 0; round < 10; round++) {
            if (round > 0) {
                k0 += W0;
                k1 += W1;
            }
            long p0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL);
            long p1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
            int hi0 = (int) (p0 >>> 32), lo0 = (int) p0;
            int hi1 = (int) (p1 >>> 32), lo1 = (int) p1;
            c0 = hi1 ^ c1 ^ k0;
            c1 = lo1;
            c2 = hi0 ^ c3 ^ k1;
            c3 = lo0;
        }
        out[0] = c0;
        out[1] = c1;
        out[2] = c2;
        out[3] = c3;
    }

    /** float in [0,1) from the top 24 bits: exact in float, identical on every device. */
    public static float uniformOf(int r) {
        return (r >>> 8) * 0x1p-24f;
    }

    /** Box–Muller on one 32-bit pair, in double (identical rounding on CPU and GPU), lane 0 or 1. */
    public static float normalOf(int rEven, int rOdd, int lane) {
        double u1 = ((rEven & 0xFFFFFFFFL) + 1.0) * 0x1p-32; // (0, 1]: log never sees 0
        double u2 = (rOdd & 0xFFFFFFFFL) * 0x1p-32;          // [0, 1)
        double rad = StrictMath.sqrt(-2.0 * Fdlibm.log(u1)); // fdlibm (StrictMath's bits): the same on every JVM
        double ang = 2.0 * Math.PI * u2;
        return (float) (lane == 0 ? rad * Fdlibm.cos(ang) : rad * Fdlibm.sin(ang));
    }

    /** out[i] = N(0,1) sample number offset + i of the stream keyed by seed. */
    public static void normals(long seed, long offset, float[] out, int outOff, int n) {
        int[] r = new int[16];
        float[] f = new float[16];
        double[] sc = new double[2];
        for (int i = 0; i < n; ) { // four blocks (eight Box–Muller pairs) at a time
            long e = offset + i;
            int lane = (int) (e & 3), take = Math.min(16 - lane, n - i);
            blocks4(seed, e >>> 2, r);
            // one log, sqrt and sin-cos per pair, the same expressions as normalOf; only the pairs in range
            for (int p = lane & ~1; p < lane + take; p += 2) pair(r[p], r[p + 1], f, p, sc);
            System.arraycopy(f, lane, out, outOff + i, take);
            i += take;
        }
    }

    private static void pair(int rEven, int rOdd, float[] f, int at, double[] sc) {
        double u1 = ((rEven & 0xFFFFFFFFL) + 1.0) * 0x1p-32;
        double u2 = (rOdd & 0xFFFFFFFFL) * 0x1p-32;
        double rad = StrictMath.sqrt(-2.0 * Fdlibm.log(u1));
        Fdlibm.sinCos(2.0 * Math.PI * u2, sc);
        f[at] = (float) (rad * sc[1]);
        f[at + 1] = (float) (rad * sc[0]);
    }

    /**
     * Blocks q .. q + 3 into out[0 .. 16): four independent 10-round chains in one loop. One
     * block's rounds are a chain of dependent multiplies (~75 cycles a block alone); four at a
     * time keep the multiplier busy (bulk uniforms 5.0 -> 3.3 ns an element, Zen 4). The words are block()'s.
     */
    private static final long Q_MASK = (1L << 62) - 1;

    private static void blocks4(long seed, long q, int[] out) {
        int k0 = (int) seed, k1 = (int) (seed >>> 32);
        // the blocks of the next elements: e >>> 2 of a 64-bit element counter runs to 2^62 - 1 and wraps to 0
        long q1 = (q + 1) & Q_MASK, q2 = (q + 2) & Q_MASK, q3 = (q + 3) & Q_MASK;
        int a0 = (int) q, a1 = (int) (q >>> 32), a2 = 0, a3 = 0, b0 = (int) q1, b1 = (int) (q1 >>> 32), b2 = 0, b3 = 0;
        int c0 = (int) q2, c1 = (int) (q2 >>> 32), c2 = 0, c3 = 0, d0 = (int) q3, d1 = (int) (q3 >>> 32), d2 = 0, d3 = 0;
        for (int round = 0; round < 10; round++) {
            if (round > 0) {
                k0 += W0;
                k1 += W1;
            }
            long pa0 = (M0 & 0xFFFFFFFFL) * (a0 & 0xFFFFFFFFL), pa1 = (M1 & 0xFFFFFFFFL) * (a2 & 0xFFFFFFFFL);
            long pb0 = (M0 & 0xFFFFFFFFL) * (b0 & 0xFFFFFFFFL), pb1 = (M1 & 0xFFFFFFFFL) * (b2 & 0xFFFFFFFFL);
            long pc0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL), pc1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
            long pd0 = (M0 & 0xFFFFFFFFL) * (d0 & 0xFFFFFFFFL), pd1 = (M1 & 0xFFFFFFFFL) * (d2 & 0xFFFFFFFFL);
            a0 = (int) (pa1 >>> 32) ^ a1 ^ k0; a1 = (int) pa1; a2 = (int) (pa0 >>> 32) ^ a3 ^ k1; a3 = (int) pa0;
            b0 = (int) (pb1 >>> 32) ^ b1 ^ k0; b1 = (int) pb1; b2 = (int) (pb0 >>> 32) ^ b3 ^ k1; b3 = (int) pb0;
            c0 = (int) (pc1 >>> 32) ^ c1 ^ k0; c1 = (int) pc1; c2 = (int) (pc0 >>> 32) ^ c3 ^ k1; c3 = (int) pc0;
            d0 = (int) (pd1 >>> 32) ^ d1 ^ k0; d1 = (int) pd1; d2 = (int) (pd0 >>> 32) ^ d3 ^ k1; d3 = (int) pd0;
        }
        out[0] = a0; out[1] = a1; out[2] = a2; out[3] = a3;
        out[4] = b0; out[5] = b1; out[6] = b2; out[7] = b3;
        out[8] = c0; out[9] = c1; out[10] = c2; out[11] = c3;
        out[12] = d0; out[13] = d1; out[14] = d2; out[15] = d3;
    }

    /** out[i] = uniform [0,1) sample number offset + i of the stream keyed by seed. */
    public static void uniforms(long seed, long offset, float[] out, int outOff, int n) {
        int[] r = new int[16];
        for (int i = 0; i < n; ) { // four blocks at a time, from the lane where the range enters the first
            long e = offset + i;
            int lane = (int) (e & 3), take = Math.min(16 - lane, n - i);
            blocks4(seed, e >>> 2, r);
            for (int t = 0; t < take; t++) out[outOff + i + t] = uniformOf(r[lane + t]);
            i += take;
        }
    }

    /**
     * Dynamic binarization: x[xo + i] = 1 if uniform sample number offset + i of the stream keyed by
     * seed is below x[xo + i], else 0 (a Bernoulli draw with the pixel as its probability).
     */
    public static void bernoulli(long seed, long offset, float[] x, int xo, int n) {
        int[] r = new int[16];
        for (int i = 0; i < n; ) {
            long e = offset + i;
            int lane = (int) (e & 3), take = Math.min(16 - lane, n - i);
            blocks4(seed, e >>> 2, r);
            for (int t = 0; t < take; t++) {
                int k = xo + i + t;
                x[k] = uniformOf(r[lane + t]) < x[k] ? 1f : 0f;
            }
            i += take;
        }
    }
}

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
        int c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
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

    /** The four 32-bit outputs of block q for this seed. */
    public static void block(long seed, long q, int[] out) {
        int[] ctr = {(int) q, (int) (q >>> 32), 0, 0};
        philox4x32_10(ctr, (int) seed, (int) (seed >>> 32), out);
    }

    /** float in [0,1) from the top 24 bits: exact in float, identical on every device. */
    public static float uniformOf(int r) {
        return (r >>> 8) * 0x1p-24f;
    }

    /** Box–Muller on one 32-bit pair, in double (identical rounding on CPU and GPU), lane 0 or 1. */
    public static float normalOf(int rEven, int rOdd, int lane) {
        double u1 = ((rEven & 0xFFFFFFFFL) + 1.0) * 0x1p-32; // (0, 1]: log never sees 0
        double u2 = (rOdd & 0xFFFFFFFFL) * 0x1p-32;          // [0, 1)
        double rad = StrictMath.sqrt(-2.0 * StrictMath.log(u1)); // fdlibm: same bits on every JVM
        double ang = 2.0 * Math.PI * u2;
        return (float) (lane == 0 ? rad * StrictMath.cos(ang) : rad * StrictMath.sin(ang));
    }

    /** out[i] = N(0,1) sample number offset + i of the stream keyed by seed. */
    public static void normals(long seed, long offset, float[] out, int outOff, int n) {
        int[] r = new int[4];
        float[] f = new float[4];
        for (int i = 0; i < n; ) {
            long e = offset + i;
            int lane = (int) (e & 3), take = Math.min(4 - lane, n - i);
            block(seed, e >>> 2, r);
            // one log, sqrt, cos and sin per Box–Muller pair, the same expressions as normalOf
            if (lane < 2) pair(r[0], r[1], f, 0);
            if (lane + take > 2) pair(r[2], r[3], f, 2);
            System.arraycopy(f, lane, out, outOff + i, take);
            i += take;
        }
    }

    private static void pair(int rEven, int rOdd, float[] f, int at) {
        double u1 = ((rEven & 0xFFFFFFFFL) + 1.0) * 0x1p-32;
        double u2 = (rOdd & 0xFFFFFFFFL) * 0x1p-32;
        double rad = StrictMath.sqrt(-2.0 * StrictMath.log(u1));
        double ang = 2.0 * Math.PI * u2;
        f[at] = (float) (rad * StrictMath.cos(ang));
        f[at + 1] = (float) (rad * StrictMath.sin(ang));
    }

    /** out[i] = uniform [0,1) sample number offset + i of the stream keyed by seed. */
    public static void uniforms(long seed, long offset, float[] out, int outOff, int n) {
        int[] r = new int[4];
        long cached = -1;
        for (int i = 0; i < n; i++) {
            long e = offset + i;
            long q = e >>> 2;
            if (q != cached) {
                block(seed, q, r);
                cached = q;
            }
            out[outOff + i] = uniformOf(r[(int) (e & 3)]);
        }
    }
}

package io.jvae.backend;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class PhiloxTest {
    /** Random123 tests/kat_vectors, the three "philox4x32 10" lines: counter, key, expected. */
    static final int[][][] KAT = {
            {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
            {{-1, -1, -1, -1}, {-1, -1}, {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
            {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
                    {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
    };

    @Test
    void knownAnswerVectors() {
        for (int[][] v : KAT) {
            int[] out = new int[4];
            Philox.philox4x32_10(v[0], v[1][0], v[1][1], out);
            assertArrayEquals(v[2], out, () -> "ctr " + java.util.Arrays.toString(v[0]));
        }
    }

    @Test
    void elementsDependOnlyOnSeedAndIndex() {
        float[] whole = new float[1000], part = new float[300];
        Philox.normals(42, 17, whole, 0, 1000);
        Philox.normals(42, 17 + 555, part, 0, 300); // elements 555.. of the same stream
        for (int i = 0; i < 300; i++) assertEquals(Float.floatToIntBits(whole[555 + i]), Float.floatToIntBits(part[i]), "element " + i);
        float[] other = new float[1000];
        Philox.normals(43, 17, other, 0, 1000);
        assertFalse(java.util.Arrays.equals(whole, other), "another seed gives another stream");
    }

    @Test
    void bulkNormalsAreTheDocumentedPerElementDefinition() {
        // normals() computes a Box–Muller pair at once; every element must still be normalOf of its
        // block's words, whatever lane the range starts at and however short it is
        int[] r = new int[4];
        for (long offset = 0; offset < 8; offset++)
            for (int n : new int[] {1, 2, 3, 5, 37}) {
                float[] got = new float[n];
                Philox.normals(99, offset, got, 0, n);
                for (int i = 0; i < n; i++) {
                    long e = offset + i;
                    Philox.block(99, e >>> 2, r);
                    int lane = (int) (e & 3);
                    float want = lane < 2 ? Philox.normalOf(r[0], r[1], lane) : Philox.normalOf(r[2], r[3], lane - 2);
                    assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(got[i]), "offset " + offset + " n " + n + " i " + i);
                }
            }
    }

    @Test
    void bulkUniformsAndBernoulliAreThePerElementDefinition() {
        // both run a block at a time from wherever the range starts; each element must still be
        // uniformOf(lane e % 4 of block e / 4), and bernoulli the draw u < x against it
        int[] r = new int[4];
        for (long offset = 0; offset < 8; offset++)
            for (int n : new int[] {1, 2, 3, 5, 37}) {
                float[] u = new float[n + 2], x = new float[n + 2], x0 = new float[n + 2];
                for (int i = 0; i < x.length; i++) x[i] = x0[i] = (i * 0.37f) % 1f;
                Philox.uniforms(99, offset, u, 1, n);
                Philox.bernoulli(99, offset, x, 1, n);
                assertEquals(0f, u[0]);
                assertEquals(0f, u[n + 1], "nothing written past the range");
                assertEquals(x0[0], x[0]);
                assertEquals(x0[n + 1], x[n + 1], "nothing binarized past the range");
                for (int i = 0; i < n; i++) {
                    long e = offset + i;
                    Philox.block(99, e >>> 2, r);
                    float want = Philox.uniformOf(r[(int) (e & 3)]);
                    assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(u[1 + i]), "offset " + offset + " n " + n + " i " + i);
                    assertEquals(want < x0[1 + i] ? 1f : 0f, x[1 + i], "bernoulli offset " + offset + " n " + n + " i " + i);
                }
            }
    }

    @Test
    void bulkDrawsFollowTheCounterAcrossItsHighWordAndItsWrap() {
        // four blocks at a time must still be blocks e >>> 2 of a 64-bit element counter: across
        // the counter's 32-bit word (block 2^32 - 1 -> 2^32, element 2^34) and where it wraps
        // (element -1 = 2^64 - 1 in block 2^62 - 1, then element 0 in block 0)
        int[] r = new int[4];
        for (long start : new long[] {(1L << 34) - 9, (1L << 34) - 1, -9, -2, -1, Long.MAX_VALUE - 5})
            for (int n : new int[] {1, 4, 17, 40}) {
                float[] u = new float[n], z = new float[n], x = new float[n];
                java.util.Arrays.fill(x, 0.5f);
                Philox.uniforms(5, start, u, 0, n);
                Philox.normals(5, start, z, 0, n);
                Philox.bernoulli(5, start, x, 0, n);
                for (int i = 0; i < n; i++) {
                    long e = start + i;
                    Philox.block(5, e >>> 2, r);
                    int lane = (int) (e & 3);
                    float want = Philox.uniformOf(r[lane]);
                    float wantZ = lane < 2 ? Philox.normalOf(r[0], r[1], lane) : Philox.normalOf(r[2], r[3], lane - 2);
                    String at = "start " + start + " n " + n + " i " + i;
                    assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(u[i]), at);
                    assertEquals(Float.floatToIntBits(wantZ), Float.floatToIntBits(z[i]), "normal " + at);
                    assertEquals(want < 0.5f ? 1f : 0f, x[i], "bernoulli " + at);
                }
            }
    }

    @Test
    void normalMomentsAndUniformRange() {
        int n = 200_000;
        float[] z = new float[n], u = new float[n];
        Philox.normals(7, 0, z, 0, n);
        Philox.uniforms(7, 0, u, 0, n);
        double m = 0, s2 = 0, k4 = 0;
        for (float v : z) m += v;
        m /= n;
        for (float v : z) {
            s2 += (v - m) * (v - m);
            k4 += Math.pow(v - m, 4);
        }
        s2 /= n;
        k4 /= n;
        // standard errors at n = 2e5: mean 0.0022, variance 0.0032, 4th moment 0.0215; 5 sigma bounds
        assertEquals(0, m, 0.012);
        assertEquals(1, s2, 0.016);
        assertEquals(3, k4, 0.11);
        double um = 0;
        for (float v : u) {
            assertTrue(v >= 0f && v < 1f, "uniform out of [0,1): " + v);
            um += v;
        }
        assertEquals(0.5, um / n, 0.0033); // sd of the mean 0.00065
    }
}

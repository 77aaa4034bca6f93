package io.jvae.backend;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The Vector API polynomials against double-precision references, in units in the last place. */
class SimdKernelsTest {
    static int ulps(float got, double exact) {
        float e = (float) exact;
        return Math.abs(Float.floatToIntBits(got) - Float.floatToIntBits(e));
    }

    static float[] apply(java.util.function.UnaryOperator<FloatVector> f, float[] in) {
        var s = FloatVector.SPECIES_PREFERRED;
        float[] out = new float[in.length];
        for (int i = 0; i < s.loopBound(in.length); i += s.length()) f.apply(FloatVector.fromArray(s, in, i)).intoArray(out, i);
        return out;
    }

    /** a as an (n, 1) CPU tensor, no copy: the optimizers' flat buffers. */
    static Tensor flat(float[] a) {
        return CpuBackend.wrap(a, a.length, 1);
    }

    @Test
    void expWithinTwoAndLog1pWithinThreeUlp() {
        Assumptions.assumeTrue(Simd.AVAILABLE, "Vector API module not loaded");
        int n = 1 << 20;
        float[] x = new float[n], u = new float[n];
        Philox.uniforms(3, 0, x, 0, n);
        Philox.uniforms(4, 0, u, 0, n);
        for (int i = 0; i < n; i++) x[i] = SimdKernels.EXP_MIN * x[i] * x[i]; // dense near 0, reaching the clamp
        float[] e = apply(SimdKernels::exp, x), l = apply(SimdKernels::log1p, u);
        int worstE = 0, worstL = 0;
        for (int i = 0; i < n; i++) {
            worstE = Math.max(worstE, ulps(e[i], Math.exp(x[i])));
            worstL = Math.max(worstL, ulps(l[i], Math.log1p(u[i])));
        }
        assertTrue(worstE <= 2, "exp: worst " + worstE + " ulp");
        assertTrue(worstL <= 3, "log1p: worst " + worstL + " ulp");
        assertEquals(0f, apply(SimdKernels::exp, new float[64])[0] - 1f, "e^0 = 1 exactly");
        float[] far = new float[64];
        java.util.Arrays.fill(far, -1000f);
        float clamped = apply(SimdKernels::exp, far)[0];
        assertTrue(clamped > 0 && clamped < 5e-18f && clamped >= Float.MIN_NORMAL, "below the clamp: e^-40, a normal float, got " + clamped);
    }

    @Test
    void tanhWithinTwoUlpAndOdd() {
        Assumptions.assumeTrue(Simd.AVAILABLE, "Vector API module not loaded");
        int n = 1 << 20;
        float[] x = new float[n];
        Philox.normals(5, 0, x, 0, n);
        for (int i = 0; i < n; i++) x[i] *= i % 4 == 0 ? 1e-3f : i % 4 == 1 ? 0.5f : 4f; // tiny, around the 0.625 switch, saturating
        float[] t = apply(SimdKernels::tanh, x);
        int worst = 0;
        for (int i = 0; i < n; i++) worst = Math.max(worst, ulps(t[i], Math.tanh(x[i])));
        assertTrue(worst <= 2, "tanh: worst " + worst + " ulp");
        float[] special = new float[64];
        special[0] = -0f;
        special[1] = Float.NaN;
        special[2] = 1000f;
        special[3] = -1000f;
        special[4] = SimdKernels.TANH_SMALL;
        float[] st = apply(SimdKernels::tanh, special);
        assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(st[0]), "tanh(-0) = -0");
        assertTrue(Float.isNaN(st[1]), "tanh(NaN) = NaN");
        assertEquals(1f, st[2]);
        assertEquals(-1f, st[3]);
        assertTrue(ulps(st[4], Math.tanh(SimdKernels.TANH_SMALL)) <= 2, "at the switch");
    }

    @Test
    void biasTanhUsesExactlyTheHelpersArithmetic() {
        Assumptions.assumeTrue(Simd.AVAILABLE, "Vector API module not loaded");
        int n = FloatVector.SPECIES_PREFERRED.length() * 64 + 5; // + a scalar tail
        float[] y = new float[n], b = new float[n];
        Philox.normals(6, 0, y, 0, n);
        Philox.normals(7, 0, b, 0, n);
        float[] sum = new float[n];
        for (int i = 0; i < n; i++) sum[i] = y[i] + b[i];
        float[] want = apply(SimdKernels::tanh, sum);
        SimdKernels.biasTanh(y, 0, b, 0, n);
        int body = FloatVector.SPECIES_PREFERRED.loopBound(n);
        for (int i = 0; i < body; i++) assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(y[i]), "element " + i);
        for (int i = body; i < n; i++) assertEquals(FastMath.tanh(sum[i]), y[i], "tail element " + i);
    }

    @Test
    void sameBitsEveryTime() {
        Assumptions.assumeTrue(Simd.AVAILABLE, "Vector API module not loaded");
        float[] x = new float[4096];
        Philox.normals(9, 0, x, 0, x.length);
        for (int i = 0; i < x.length; i++) x[i] = -Math.abs(x[i]) * 10;
        float[] first = apply(SimdKernels::exp, x);
        for (int rep = 0; rep < 2000; rep++) assertArrayEquals(first, apply(SimdKernels::exp, x), "after JIT warm-up, rep " + rep);
    }

    @Test
    void bceKernelUsesExactlyTheHelpersArithmetic() {
        Assumptions.assumeTrue(Simd.AVAILABLE, "Vector API module not loaded");
        int n = FloatVector.SPECIES_PREFERRED.length() * 64;
        float[] l = new float[n], t = new float[n], loss = new float[n], g = new float[n];
        Philox.normals(1, 0, l, 0, n);
        Philox.uniforms(2, 0, t, 0, n);
        for (int i = 0; i < n; i++) l[i] *= 30;
        SimdKernels.sigmoidBce(l, 0, t, 0, loss, 0, g, 0, n, 0.5f);
        float[] negAbs = new float[n];
        for (int i = 0; i < n; i++) negAbs[i] = -Math.abs(l[i]);
        float[] ex = apply(SimdKernels::exp, negAbs), sp = apply(SimdKernels::log1p, ex);
        for (int i = 0; i < n; i++) {
            float want = Math.max(l[i], 0f) - l[i] * t[i] + sp[i];
            assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(loss[i]), "loss " + i);
            float sig = (l[i] < 0f ? ex[i] : 1f) / (1f + ex[i]);
            assertEquals(Float.floatToIntBits((sig - t[i]) * 0.5f), Float.floatToIntBits(g[i]), "grad " + i);
        }
    }

    @Test
    void optimizersBitIdenticalToTheScalarLoopsAndBceClose() {
        Assumptions.assumeTrue(Simd.AVAILABLE, "Vector API module not loaded");
        int n = 1003; // not a multiple of the lane count: the tail runs too
        float[] p = new float[n], g = new float[n], m = new float[n], v = new float[n];
        Philox.normals(1, 0, p, 0, n);
        Philox.normals(2, 0, g, 0, n);
        Philox.uniforms(3, 0, v, 0, n);
        float[] p2 = p.clone(), m2 = m.clone(), v2 = v.clone();
        float[] d = new float[n];
        for (int i = 0; i < n; i++) d[i] = i % 5 == 0 ? 0f : 2e-4f;
        var adam = new CpuOptimizer.AdamScalars(1e-3f, 0.9f, 0.999f, 1e-8f, 0.19f, 0.002f);
        var rmsprop = new CpuOptimizer.RmspropScalars(1e-3f, 0.9f, 1e-7f);
        for (float[] decay : new float[][] {null, d}) {
            String k = decay == null ? "" : " (decay)";
            Tensor dt = decay == null ? null : flat(decay), gt = flat(g);
            SimdKernels.adam(flat(p), gt, flat(m), flat(v), dt, 0, n, adam);
            CpuOptimizer.adamRange(flat(p2), gt, flat(m2), flat(v2), dt, 0, n, adam);
            assertArrayEquals(p2, p, "adam p" + k);
            assertArrayEquals(v2, v, "adam v" + k);
            float[] q = p.clone(), s1 = v.clone(), s2 = v.clone();
            SimdKernels.rmsprop(flat(p), gt, flat(s1), dt, 0, n, rmsprop);
            CpuOptimizer.rmspropRange(flat(q), gt, flat(s2), dt, 0, n, rmsprop);
            assertArrayEquals(q, p, "rmsprop p" + k);
            p2 = p.clone();
        }
        float[] y1 = v.clone(), y2 = v.clone();
        SimdKernels.axpy(y1, 0, g, 1, 0, n - 1, -2e-4f);
        CpuBackend.axpyRange(y2, 0, g, 1, 0, n - 1, -2e-4f);
        assertArrayEquals(y2, y1, "axpy");
        float[] l = new float[n], t = new float[n], a = new float[n], b = new float[n], ga = new float[n], gb = new float[n];
        Philox.normals(4, 0, l, 0, n);
        Philox.uniforms(5, 0, t, 0, n);
        for (int i = 0; i < n; i++) l[i] *= 20;
        SimdKernels.sigmoidBce(l, 0, t, 0, a, 0, ga, 0, n, 0.1f);
        CpuLoss.bceRange(l, 0, t, 0, b, 0, gb, 0, 0, n, 0.1f);
        // polynomial exp/log1p (<= 3 ulp) vs double-based: the loss of ~|l| <= 80 agrees to 1e-6 relative
        io.jvae.testing.Close.assertAllClose("bce loss", b, a, 1e-6f, 1e-6f);
        io.jvae.testing.Close.assertAllClose("bce grad", gb, ga, 1e-7f, 1e-6f);
    }
}

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
}

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
        for (int i = 0; i < n; i++) x[i] = -87.3f * x[i] * x[i]; // dense near 0, reaching -87.3
        float[] e = apply(SimdKernels::exp, x), l = apply(SimdKernels::log1p, u);
        int worstE = 0, worstL = 0;
        for (int i = 0; i < n; i++) {
            worstE = Math.max(worstE, ulps(e[i], Math.exp(x[i])));
            worstL = Math.max(worstL, ulps(l[i], Math.log1p(u[i])));
        }
        assertTrue(worstE <= 2, "exp: worst " + worstE + " ulp");
        assertTrue(worstL <= 3, "log1p: worst " + worstL + " ulp");
        assertEquals(0f, apply(SimdKernels::exp, new float[64])[0] - 1f, "e^0 = 1 exactly");
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
}

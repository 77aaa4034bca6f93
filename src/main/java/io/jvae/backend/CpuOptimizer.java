package io.jvae.backend;

/**
 * The CPU executor's optimizer updates (Backend.adamStep, rmspropStep): one pass over the flat
 * parameter buffer, split across the team, with the scalar loop here the spec of SimdKernels'
 * vector one (SimdKernelsTest: bit for bit) and of the CUDA kernels' arithmetic.
 */
final class CpuOptimizer {
    private CpuOptimizer() {}

    /** The scalars of one Adam step (see {@link Backend#adamStep}): made once per step, read by every chunk. */
    record AdamScalars(float lr, float b1, float b2, float eps, float bc1, float bc2) {}

    /** The scalars of one RMSprop step (see {@link Backend#rmspropStep}). */
    record RmspropScalars(float lr, float rho, float eps) {}

    static void adamStep(Tensor p, Tensor g, Tensor m, Tensor v, Tensor decay, float lr, float b1, float b2, float eps, float bc1, float bc2) {
        CpuBackend.sameSize("adamStep(p, g)", p, g);
        CpuBackend.sameSize("adamStep(p, m)", p, m);
        CpuBackend.sameSize("adamStep(p, v)", p, v);
        if (decay != null) CpuBackend.sameSize("adamStep(p, decay)", p, decay);
        AdamScalars sc = new AdamScalars(lr, b1, b2, eps, bc1, bc2);
        Parallel.forRange(p.size(), (lo, hi) -> {
            if (Simd.AVAILABLE) SimdKernels.adam(p, g, m, v, decay, lo, hi, sc);
            else adamRange(p, g, m, v, decay, lo, hi, sc);
        });
    }

    /** The scalar Adam loop over [lo, hi) (also the tail of the SIMD loop); decay null: no decay. */
    static void adamRange(Tensor p, Tensor g, Tensor m, Tensor v, Tensor decay, int lo, int hi, AdamScalars sc) {
        float[] pa = CpuBackend.arr(p), gaa = CpuBackend.arr(g), maa = CpuBackend.arr(m), va = CpuBackend.arr(v), da = decay == null ? null : CpuBackend.arr(decay);
        int po = CpuBackend.off(p), go = CpuBackend.off(g), mo = CpuBackend.off(m), vo = CpuBackend.off(v), dO = decay == null ? 0 : CpuBackend.off(decay);
        float lr = sc.lr(), b1 = sc.b1(), b2 = sc.b2(), eps = sc.eps(), bc1 = sc.bc1(), bc2 = sc.bc2();
        for (int i = lo; i < hi; i++) {
            float gi = gaa[go + i];
            if (da != null) gi = gi + da[dO + i] * pa[po + i];
            float mi = b1 * maa[mo + i] + (1f - b1) * gi;
            float vi = b2 * va[vo + i] + (1f - b2) * gi * gi;
            maa[mo + i] = mi;
            va[vo + i] = vi;
            pa[po + i] -= lr * (mi / bc1) / ((float) Math.sqrt(vi / bc2) + eps);
        }
    }

    static void rmspropStep(Tensor p, Tensor g, Tensor ms, Tensor decay, float lr, float rho, float eps) {
        CpuBackend.sameSize("rmspropStep(p, g)", p, g);
        CpuBackend.sameSize("rmspropStep(p, ms)", p, ms);
        if (decay != null) CpuBackend.sameSize("rmspropStep(p, decay)", p, decay);
        RmspropScalars sc = new RmspropScalars(lr, rho, eps);
        Parallel.forRange(p.size(), (lo, hi) -> {
            if (Simd.AVAILABLE) SimdKernels.rmsprop(p, g, ms, decay, lo, hi, sc);
            else rmspropRange(p, g, ms, decay, lo, hi, sc);
        });
    }

    /** The scalar RMSprop loop over [lo, hi) (also the tail of the SIMD loop); decay null: no decay. */
    static void rmspropRange(Tensor p, Tensor g, Tensor ms, Tensor decay, int lo, int hi, RmspropScalars sc) {
        float[] pa = CpuBackend.arr(p), gaa = CpuBackend.arr(g), sa = CpuBackend.arr(ms), da = decay == null ? null : CpuBackend.arr(decay);
        int po = CpuBackend.off(p), go = CpuBackend.off(g), so = CpuBackend.off(ms), dO = decay == null ? 0 : CpuBackend.off(decay);
        float lr = sc.lr(), rho = sc.rho(), eps = sc.eps();
        for (int i = lo; i < hi; i++) {
            float gi = gaa[go + i];
            if (da != null) gi = gi + da[dO + i] * pa[po + i];
            float si = rho * sa[so + i] + (1f - rho) * gi * gi;
            sa[so + i] = si;
            pa[po + i] -= lr * gi / ((float) Math.sqrt(si) + eps);
        }
    }
}

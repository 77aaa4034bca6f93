package io.jvae.backend;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import static io.jvae.backend.CpuBackend.arr;
import static io.jvae.backend.CpuBackend.off;

/**
 * The hot element-wise loops of CpuBackend with the Vector API (loaded only when
 * {@link Simd#AVAILABLE}). Each method computes the same formula, in the same operation order,
 * as the scalar loop it replaces: + - * / sqrt are IEEE in vector lanes too, so the optimizers
 * stay bit-identical to the scalar path and to the CUDA kernels. exp and log1p are our own
 * polynomials built from those exact operations, not the JDK's vector math (VectorOperators.EXP):
 * that one gives different bits before and after the JIT intrinsifies it, which would make two
 * runs with the same seed differ. Accuracy: see {@link #exp} and {@link #log1p}. The sparse
 * first layer's products, which multiply rather than approximate, are in {@link SimdSparse}.
 */
final class SimdKernels {
    private SimdKernels() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    // ---- the approximations: one source of each ----
    // exp(), log1p() and tanh() below are the readable definitions, tested for accuracy against
    // Math; the kernels (expOfScaledAbs, bceFromExp, tanhFromExp) write the same arithmetic out
    // in their loops because C2 boxes FloatVector arguments of helpers called from big loops (see
    // sigmoidBce). Both read their coefficients from these constants, and SimdKernelsTest checks the
    // loops against the definitions bit for bit: a change here changes both, or a test fails.

    /** exp: log2(e), ln 2 in two parts (Cephes), and e^r's polynomial, highest degree first. */
    static final float LOG2E = 1.44269504088896341f, LN2_HI = 0.693359375f, LN2_LO = 2.12194440e-4f;
    static final float EXP_C0 = 1.9875691500e-4f, EXP_C1 = 1.3981999507e-3f, EXP_C2 = 8.3334519073e-3f,
            EXP_C3 = 4.1665795894e-2f, EXP_C4 = 1.6666665459e-1f, EXP_C5 = 5.0000001201e-1f;
    /** log1p: the odd series of 2 atanh(s), 1/13 ... 1/3, highest degree first. */
    static final float LOG1P_C0 = 1f / 13, LOG1P_C1 = 1f / 11, LOG1P_C2 = 1f / 9, LOG1P_C3 = 1f / 7, LOG1P_C4 = 1f / 5, LOG1P_C5 = 1f / 3;
    /** tanh: Cephes tanhf's minimax polynomial P(x^2) for |x| < TANH_SMALL, highest degree first. */
    static final float TANH_C0 = -5.70498872745e-3f, TANH_C1 = 2.06390887954e-2f, TANH_C2 = -5.37397155531e-2f,
            TANH_C3 = 1.33314422036e-1f, TANH_C4 = -3.33332819422e-1f;

    /** Lower clamp of exp's argument (see {@link #exp}). */
    static final float EXP_MIN = -40f;

    /**
     * 1.5 * 2^23: for |v| < 2^22, fl(v + ROUNDER) is v rounded to the nearest integer k (ties to
     * even), held exactly in a float of the binade [2^23, 2^24) whose bit pattern is
     * ROUNDER_BITS + k. So k and 2^k come from adds and bit shifts. The obvious
     * convert(F2I)/convert(I2F) is not intrinsified by JDK 17's C2 at 16 lanes (PrintIntrinsics:
     * "not supported: op=cast"): it ran element by element and made the loss 4.4x slower.
     */
    static final float ROUNDER = 12582912f;
    static final int ROUNDER_BITS = 0x4B400000;

    /** 2^k for y = k + ROUNDER, k in [-58, 0]: k + 127 shifted into the exponent field. */
    private static FloatVector twoToThe(FloatVector y) {
        return ((IntVector) y.reinterpretAsInts()).add(127 - ROUNDER_BITS).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
    }

    static int width() {
        return S.length();
    }

    /**
     * e^x for x <= 0 (Cephes expf): k = round(x log2 e), r = x - k ln2 (two-part ln2), e^r by a
     * degree-7 polynomial on |r| <= ln2/2, times 2^k built in the exponent bits (no float/int
     * conversion: see {@link #ROUNDER}). Within 2 ulp of e^x for x in [-40, 0]. Below -40 it returns e^-40 = 4.2e-18: the sigmoid cross-entropy then
     * differs from the exact one by < 5e-18 nats per pixel, and every intermediate (here and in
     * log1p, which squares it) stays a normal float. Denormal operands cost ~100 cycles each on
     * x86, and MNIST's confident background pixels (logits below -40) would hit them constantly.
     */
    static FloatVector exp(FloatVector x) {
        FloatVector xc = x.max(EXP_MIN);
        // k = round(x log2 e) by the 1.5 * 2^23 trick: y's low mantissa bits are k (see the class doc)
        FloatVector y = xc.mul(LOG2E).add(ROUNDER);
        FloatVector kf = y.sub(ROUNDER);
        FloatVector r = xc.sub(kf.mul(LN2_HI)).add(kf.mul(LN2_LO)); // x - k ln2, ln2 in two parts
        FloatVector p = r.mul(EXP_C0).add(EXP_C1);
        p = p.mul(r).add(EXP_C2);
        p = p.mul(r).add(EXP_C3);
        p = p.mul(r).add(EXP_C4);
        p = p.mul(r).add(EXP_C5);
        p = p.mul(r.mul(r)).add(r).add(1f);
        return p.mul(twoToThe(y));
    }

    /**
     * log(1 + u) for u in [0, 1]: with s = u / (2 + u) in [0, 1/3], log(1+u) = 2 atanh(s)
     * = 2 (s + s^3/3 + ... + s^13/13); the first omitted term is < 1.5e-8 relative. Within 3 ulp
     * (SimdKernelsTest: measured worst case over 2^20 inputs).
     */
    static FloatVector log1p(FloatVector u) {
        FloatVector s = u.div(u.add(2f)), s2 = s.mul(s);
        FloatVector q = s2.mul(LOG1P_C0).add(LOG1P_C1);
        q = q.mul(s2).add(LOG1P_C2);
        q = q.mul(s2).add(LOG1P_C3);
        q = q.mul(s2).add(LOG1P_C4);
        q = q.mul(s2).add(LOG1P_C5);
        q = q.mul(s2).add(1f);
        return q.mul(s).mul(2f);
    }

    /** sigmoid_bce over n elements: loss = max(l,0) - l t + log1p(e), grad = (sigmoid(l) - t) scale, e = exp(-|l|).
     *
     * sigmoidBce runs as two loops in two methods, e = exp(-|l|) parked in the gradient's own
     * slots (one column, in L1) and then the loss and gradient from it, because one loop with
     * both was too big for C2 to compile reliably: exp and log1p must be written out in the loop
     * (C2 stops inlining helpers that take FloatVector arguments once a loop is big, and the
     * vectors are then boxed on the heap, 5-10x slower), and with both written out the parse sat
     * at C2's node budget. Depending on the profile, 8 of 17 JVMs checked then compiled the two
     * stores without the store intrinsic (the vectors boxed and copied lane by lane), and training
     * at batch 1024 ran 15-25 % slower for the whole run (docs/architecture.md). The arithmetic
     * is that of exp() and log1p() above, operation for operation (SimdKernelsTest: bit for bit).
     * Each loop's method is over 325 bytes of bytecode (C2's FreqInlineSize), so C2 compiles the
     * two apart instead of inlining them back into one caller; keep them that size.
     */
    static void sigmoidBce(float[] l, int lo, float[] x, int xo, float[] loss, int so, float[] g, int go, int n, float scale) {
        int done = expOfScaledAbs(l, lo, -1f, g, go, n);
        bceFromExp(l, lo, x, xo, loss, so, g, go, done, scale);
        CpuLoss.bceRange(l, lo, x, xo, loss, so, g, go, done, n, scale);
    }

    /**
     * dst[d + i] = e^(f |src[o + i]|) for f < 0 (exp()'s arithmetic; f = -1 or -2 are exact
     * scalings, so e^(-|x|) is bit for bit exp(x.abs().neg())) over the whole vectors of n;
     * returns how many elements that is. The first loop of sigmoidBce and of biasTanh.
     */
    static int expOfScaledAbs(float[] src, int o, float f, float[] dst, int d, int n) {
        FloatVector factor = FloatVector.broadcast(S, f), expMin = FloatVector.broadcast(S, EXP_MIN);
        FloatVector log2e = FloatVector.broadcast(S, LOG2E), rounder = FloatVector.broadcast(S, ROUNDER);
        FloatVector ln2Hi = FloatVector.broadcast(S, LN2_HI), ln2Lo = FloatVector.broadcast(S, LN2_LO);
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector e0 = FloatVector.broadcast(S, EXP_C0), e1 = FloatVector.broadcast(S, EXP_C1);
        FloatVector e2 = FloatVector.broadcast(S, EXP_C2), e3 = FloatVector.broadcast(S, EXP_C3);
        FloatVector e4 = FloatVector.broadcast(S, EXP_C4), e5 = FloatVector.broadcast(S, EXP_C5);
        int i = 0;
        for (int up = S.loopBound(n); i < up; i += S.length()) {
            FloatVector xc = FloatVector.fromArray(S, src, o + i).abs().mul(factor).max(expMin);
            FloatVector y = xc.mul(log2e).add(rounder);
            FloatVector kf = y.sub(rounder);
            FloatVector r = xc.sub(kf.mul(ln2Hi)).add(kf.mul(ln2Lo));
            FloatVector p = r.mul(e0).add(e1);
            p = p.mul(r).add(e2);
            p = p.mul(r).add(e3);
            p = p.mul(r).add(e4);
            p = p.mul(r).add(e5);
            p = p.mul(r.mul(r)).add(r).add(one);
            p.mul(((IntVector) y.reinterpretAsInts()).add(127 - ROUNDER_BITS).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                    .intoArray(dst, d + i);
        }
        return i;
    }

    /** The loss and gradient of sigmoidBce over [0, n) (whole vectors), e^(-|l|) read from g and overwritten. */
    static void bceFromExp(float[] l, int lo, float[] x, int xo, float[] loss, int so, float[] g, int go, int n, float scale) {
        FloatVector one = FloatVector.broadcast(S, 1f), zero = FloatVector.zero(S), two = FloatVector.broadcast(S, 2f);
        FloatVector sc = FloatVector.broadcast(S, scale);
        FloatVector l13 = FloatVector.broadcast(S, LOG1P_C0), l11 = FloatVector.broadcast(S, LOG1P_C1);
        FloatVector l9 = FloatVector.broadcast(S, LOG1P_C2), l7 = FloatVector.broadcast(S, LOG1P_C3);
        FloatVector l5 = FloatVector.broadcast(S, LOG1P_C4), l3 = FloatVector.broadcast(S, LOG1P_C5);
        for (int i = 0; i < n; i += S.length()) {
            FloatVector lv = FloatVector.fromArray(S, l, lo + i), t = FloatVector.fromArray(S, x, xo + i);
            FloatVector ex = FloatVector.fromArray(S, g, go + i);
            // sp = log1p(ex)
            FloatVector s = ex.div(ex.add(two)), s2 = s.mul(s);
            FloatVector q = s2.mul(l13).add(l11);
            q = q.mul(s2).add(l9);
            q = q.mul(s2).add(l7);
            q = q.mul(s2).add(l5);
            q = q.mul(s2).add(l3);
            q = q.mul(s2).add(one);
            FloatVector sp = q.mul(s).mul(two);
            lv.max(zero).sub(lv.mul(t)).add(sp).intoArray(loss, so + i);
            VectorMask<Float> neg = lv.compare(VectorOperators.LT, zero);
            one.blend(ex, neg).div(one.add(ex)).sub(t).mul(sc).intoArray(g, go + i);
        }
    }

    /** Below this |x| tanh uses the odd polynomial, above it 1 - 2 e^-2|x| / (1 + e^-2|x|) (Cephes tanhf). */
    static final float TANH_SMALL = 0.625f;

    /**
     * tanh x (Cephes tanhf): |x| < 0.625: x + x^3 P(x^2) with Cephes' degree-4 minimax P; above:
     * (1 - e) / (1 + e), e = e^(-2|x|) by {@link #exp}'s arithmetic (no cancellation: e < 0.29);
     * the sign bit copied from x, so tanh(-0) = -0 and NaN stays NaN. Within 1 ulp of tanh on
     * 2^22 inputs from 1e-3 to 10 in size (SimdKernelsTest allows 2).
     */
    static FloatVector tanh(FloatVector x) {
        FloatVector a = x.abs(), z = a.mul(a);
        FloatVector p = z.mul(TANH_C0).add(TANH_C1);
        p = p.mul(z).add(TANH_C2);
        p = p.mul(z).add(TANH_C3);
        p = p.mul(z).add(TANH_C4);
        FloatVector small = p.mul(z).mul(a).add(a);
        FloatVector e = exp(a.mul(-2f));
        FloatVector large = FloatVector.broadcast(x.species(), 1f).sub(e).div(e.add(1f));
        FloatVector t = large.blend(small, a.compare(VectorOperators.LT, TANH_SMALL));
        return ((IntVector) t.reinterpretAsInts()).or(((IntVector) x.reinterpretAsInts()).and(0x80000000)).reinterpretAsFloats();
    }

    /**
     * y = tanh(y + b) over one column; {@link #tanh} and {@link #exp} written out (see sigmoidBce):
     * the same loop calling tanh() measured 43 instead of 13 microseconds at 400 x 128 (JMH). Two
     * loops in two methods, for the reason sigmoidBce has two: as one loop, C2 compiled its store
     * without the intrinsic in 2 of 6 runs of IntrinsicsTest. The bias is added first, then
     * e = e^(-2|x|) parked in a per-thread scratch column (expOfScaledAbs, shared with
     * sigmoidBce), then tanh made from x and e; operation for operation the arithmetic of tanh()
     * (SimdKernelsTest: bit for bit).
     */
    static void biasTanh(float[] y, int o, float[] b, int bo, int n) {
        float[] e = scratch(n);
        int done = S.loopBound(n);
        for (int i = 0; i < done; i += S.length())
            FloatVector.fromArray(S, y, o + i).add(FloatVector.fromArray(S, b, bo + i)).intoArray(y, o + i);
        expOfScaledAbs(y, o, -2f, e, 0, done);
        tanhFromExp(y, o, e, done);
        for (int i = done; i < n; i++) y[o + i] = FastMath.tanh(y[o + i] + b[bo + i]);
    }

    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[][] {new float[0]});

    /** A scratch column of at least n floats for the calling thread (kept and reused). */
    private static float[] scratch(int n) {
        float[][] h = SCRATCH.get();
        if (h[0].length < n) h[0] = new float[Math.max(n, 2 * h[0].length)];
        return h[0];
    }

    /** y = tanh(y) over [0, n) (whole vectors), with e = e^(-2|y|) from expOfScaledAbs: tanh()'s arithmetic. */
    static void tanhFromExp(float[] y, int o, float[] e, int n) {
        FloatVector one = FloatVector.broadcast(S, 1f), small4 = FloatVector.broadcast(S, TANH_SMALL);
        FloatVector p0 = FloatVector.broadcast(S, TANH_C0), p1 = FloatVector.broadcast(S, TANH_C1);
        FloatVector p2 = FloatVector.broadcast(S, TANH_C2), p3 = FloatVector.broadcast(S, TANH_C3);
        FloatVector p4 = FloatVector.broadcast(S, TANH_C4);
        for (int i = 0; i < n; i += S.length()) {
            FloatVector x = FloatVector.fromArray(S, y, o + i), ev = FloatVector.fromArray(S, e, i);
            FloatVector a = x.abs(), z = a.mul(a);
            FloatVector p = z.mul(p0).add(p1);
            p = p.mul(z).add(p2);
            p = p.mul(z).add(p3);
            p = p.mul(z).add(p4);
            FloatVector small = p.mul(z).mul(a).add(a);
            FloatVector large = one.sub(ev).div(ev.add(one));
            FloatVector t = large.blend(small, a.compare(VectorOperators.LT, small4));
            ((IntVector) t.reinterpretAsInts()).or(((IntVector) x.reinterpretAsInts()).and(0x80000000)).reinterpretAsFloats()
                    .intoArray(y, o + i);
        }
    }

    /** y = act(y + b) for identity, relu (x > 0 ? x : 0, so NaN -> 0 as the kernel) and leaky relu over one column. */
    static void biasAct(float[] y, int o, float[] b, int bo, int n, Activation act) {
        FloatVector zero = FloatVector.zero(S), slope = FloatVector.broadcast(S, Activation.LEAKY_SLOPE);
        int i = 0;
        for (int up = S.loopBound(n); i < up; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, y, o + i).add(FloatVector.fromArray(S, b, bo + i));
            VectorMask<Float> pos = v.compare(VectorOperators.GT, 0f);
            FloatVector r = switch (act) {
                case RELU -> zero.blend(v, pos);
                case LEAKY_RELU -> slope.mul(v).blend(v, pos);
                default -> v;
            };
            r.intoArray(y, o + i);
        }
        for (; i < n; i++) y[o + i] = act.apply(y[o + i] + b[bo + i]);
    }

    /** dy *= (y > 0 ? 1 : 0) over [lo, hi): multiplies, so a negative dy gives -0.0 as the kernel does. */
    static void reluBackward(float[] dy, int dO, float[] y, int yo, int lo, int hi) {
        FloatVector zero = FloatVector.zero(S), one = FloatVector.broadcast(S, 1f);
        int i = lo;
        for (int up = lo + S.loopBound(hi - lo); i < up; i += S.length()) {
            VectorMask<Float> pos = FloatVector.fromArray(S, y, yo + i).compare(VectorOperators.GT, 0f);
            FloatVector.fromArray(S, dy, dO + i).mul(zero.blend(one, pos)).intoArray(dy, dO + i);
        }
        for (; i < hi; i++) dy[dO + i] *= y[yo + i] > 0f ? 1f : 0f;
    }

    /** Adam, PyTorch form, over [lo, hi): identical rounding to the scalar loop. */
    static void adam(Tensor pt, Tensor gt, Tensor mt, Tensor vt, Tensor decay, int lo, int hi, CpuOptimizer.AdamScalars sc) {
        float[] p = arr(pt), g = arr(gt), m = arr(mt), v = arr(vt), d = decay == null ? null : arr(decay);
        int po = off(pt), go = off(gt), mo = off(mt), vo = off(vt), dO = decay == null ? 0 : off(decay);
        float lr = sc.lr(), b1 = sc.b1(), b2 = sc.b2(), eps = sc.eps(), bc1 = sc.bc1(), bc2 = sc.bc2();
        FloatVector vb1 = FloatVector.broadcast(S, b1), vb2 = FloatVector.broadcast(S, b2), c1 = FloatVector.broadcast(S, 1f - b1),
                c2 = FloatVector.broadcast(S, 1f - b2), vlr = FloatVector.broadcast(S, lr), vbc1 = FloatVector.broadcast(S, bc1),
                vbc2 = FloatVector.broadcast(S, bc2), veps = FloatVector.broadcast(S, eps);
        int i = lo;
        for (int up = lo + S.loopBound(hi - lo); i < up; i += S.length()) {
            FloatVector pi = FloatVector.fromArray(S, p, po + i);
            FloatVector gi = FloatVector.fromArray(S, g, go + i);
            if (d != null) gi = gi.add(FloatVector.fromArray(S, d, dO + i).mul(pi)); // L2 decay: g + decay p, a product then a sum
            FloatVector mi = vb1.mul(FloatVector.fromArray(S, m, mo + i)).add(c1.mul(gi));
            FloatVector vi = vb2.mul(FloatVector.fromArray(S, v, vo + i)).add(c2.mul(gi).mul(gi));
            mi.intoArray(m, mo + i);
            vi.intoArray(v, vo + i);
            FloatVector step = vlr.mul(mi.div(vbc1)).div(vi.div(vbc2).sqrt().add(veps));
            pi.sub(step).intoArray(p, po + i);
        }
        CpuOptimizer.adamRange(pt, gt, mt, vt, decay, i, hi, sc);
    }

    /** RMSprop, Keras form, over [lo, hi). */
    static void rmsprop(Tensor pt, Tensor gt, Tensor mst, Tensor decay, int lo, int hi, CpuOptimizer.RmspropScalars sc) {
        float[] p = arr(pt), g = arr(gt), ms = arr(mst), d = decay == null ? null : arr(decay);
        int po = off(pt), go = off(gt), so = off(mst), dO = decay == null ? 0 : off(decay);
        float lr = sc.lr(), rho = sc.rho(), eps = sc.eps();
        FloatVector vrho = FloatVector.broadcast(S, rho), c = FloatVector.broadcast(S, 1f - rho), vlr = FloatVector.broadcast(S, lr),
                veps = FloatVector.broadcast(S, eps);
        int i = lo;
        for (int up = lo + S.loopBound(hi - lo); i < up; i += S.length()) {
            FloatVector pi = FloatVector.fromArray(S, p, po + i);
            FloatVector gi = FloatVector.fromArray(S, g, go + i);
            if (d != null) gi = gi.add(FloatVector.fromArray(S, d, dO + i).mul(pi)); // L2 decay: g + decay p, a product then a sum
            FloatVector si = vrho.mul(FloatVector.fromArray(S, ms, so + i)).add(c.mul(gi).mul(gi));
            si.intoArray(ms, so + i);
            pi.sub(vlr.mul(gi).div(si.sqrt().add(veps))).intoArray(p, po + i);
        }
        CpuOptimizer.rmspropRange(pt, gt, mst, decay, i, hi, sc);
    }

    /** CpuBackend.axpyRange over [lo, hi): y += alpha x, a product then a sum (no fma), as the scalar loop. */
    static void axpy(float[] y, int yo, float[] x, int xo, int lo, int hi, float alpha) {
        FloatVector va = FloatVector.broadcast(S, alpha);
        int i = lo;
        for (int up = lo + S.loopBound(hi - lo); i < up; i += S.length())
            FloatVector.fromArray(S, y, yo + i).add(va.mul(FloatVector.fromArray(S, x, xo + i))).intoArray(y, yo + i);
        CpuBackend.axpyRange(y, yo, x, xo, i, hi, alpha);
    }
}

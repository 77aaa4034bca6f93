package io.jvae.backend.cuda;

import io.jvae.backend.Activation;
import io.jvae.backend.Backend;
import io.jvae.backend.CpuBackend;
import io.jvae.backend.Indices;
import io.jvae.backend.Tensor;
import io.jvae.testing.Close;
import io.jvae.testing.Rand;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every kernel of kernels/vae_kernels.cu, compiled by g++ and run on the CPU (kernels/emulate/),
 * against the CpuBackend method it mirrors, on awkward sizes and several launch shapes. Outputs
 * are poisoned with NaN first, so an element a kernel forgets to write fails (NaN never passes).
 *
 * <p>Tolerances. Kernels made of + - * / sqrt only (optimizers, axpy, Gaussian NLL, activation
 * backward, gather, binarize) must match bit for bit: both sides are IEEE float with no FMA
 * (nvcc --fmad=false, g++ -ffp-contract=off, Java's strict float). Kernels with expf, tanhf,
 * expm1f or log1pf differ from the Java side, which rounds the double result, by the C library's
 * error: glibc and CUDA document <= 2 ulp for these, and a few roundings follow, so <= ~8 ulp
 * ~ 5e-7 relative; TOL_TRANSC = 1e-6 relative (+1e-7 absolute near 0) allows twice that. Philox
 * normals come from double Box–Muller rounded to float: equal bits.
 */
class KernelEmulationTest {
    static Emulator emu;
    static final CpuBackend be = new CpuBackend();
    static final int[] SIZES = {1, 31, 1000, 4097};
    static final float ATOL_TRANSC = 1e-7f, TOL_TRANSC = 1e-6f;

    @BeforeAll
    static void start() throws Exception {
        Assumptions.assumeTrue(PtxFreshnessTest.onPath("g++"), "g++ not on the PATH: kernel emulation not run");
        emu = Emulator.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (emu != null) emu.close();
    }

    /** Launch shapes: one small block, a few blocks (grid-stride loop wraps), one thread per element. */
    static int[][] shapes(int n) {
        return new int[][] {{1, 32}, {3, 64}, {(n + 255) / 256, 256}};
    }

    static int rowsFor(int n) {
        return switch (n) {
            case 1000 -> 8;
            case 4097 -> 17;
            default -> n;
        };
    }

    static float[] poison(int n) {
        float[] a = new float[n];
        Arrays.fill(a, Float.NaN);
        return a;
    }

    static Tensor t(float[] a, int rows, int cols) {
        Tensor x = be.alloc(rows, cols);
        be.upload(a, 0, x);
        return x;
    }

    static float[] h(Tensor x) {
        float[] a = new float[x.size()];
        be.download(x, a, 0);
        return a;
    }

    static void assertBits(String name, float[] want, float[] got) {
        assertEquals(want.length, got.length, name + " length");
        for (int i = 0; i < want.length; i++)
            if (Float.floatToIntBits(want[i]) != Float.floatToIntBits(got[i]))
                fail(name + "[" + i + "]: expected " + want[i] + " got " + got[i] + " (bitwise)");
    }

    static float[] f(List<Object> outs, int i) {
        return (float[]) outs.get(i);
    }

    @Test
    void biasActForwardAndActBackward() throws Exception {
        Rand r = new Rand(1);
        for (int n : SIZES)
            for (Activation a : Activation.values())
                for (int[] s : shapes(n)) {
                    int rows = rowsFor(n), cols = n / rows;
                    float[] y = r.uniform(n, -4, 4), b = r.uniform(rows, -1, 1), dy = r.uniform(n, -1, 1);
                    Tensor ty = t(y, rows, cols);
                    be.biasActForward(ty, t(b, rows, 1), a);
                    float[] got = f(emu.call(Kernel.BIAS_ACT_FORWARD, s[0], s[1], y.clone(), b, rows, n, a.code), 0);
                    String name = "bias_act_forward " + a + " n=" + n + " grid " + s[0] + "x" + s[1];
                    if (a == Activation.TANH || a == Activation.ELU || a == Activation.SIGMOID)
                        Close.assertAllClose(name, h(ty), got, ATOL_TRANSC, TOL_TRANSC);
                    else assertBits(name, h(ty), got);
                    float[] yOut = h(ty);
                    Tensor tdy = t(dy, rows, cols);
                    be.actBackward(tdy, ty, a);
                    float[] gotDy = f(emu.call(Kernel.ACT_BACKWARD, s[0], s[1], dy.clone(), yOut, n, a.code), 0);
                    assertBits("act_backward " + a + " n=" + n, h(tdy), gotDy);
                }
    }

    /** The step block of a captured training step (vae_kernels.cu, STEP_*): u64 slots low word first. */
    static float[] stepBlock(long noiseOffset, long binarizeOffset, float beta, float bc1, float bc2) {
        return stepBlock(noiseOffset, binarizeOffset, beta, bc1, bc2, 0f);
    }

    static float[] stepBlock(long noiseOffset, long binarizeOffset, float beta, float bc1, float bc2, float lr) {
        float[] b = new float[8];
        b[7] = lr;
        b[0] = Float.intBitsToFloat((int) noiseOffset);
        b[1] = Float.intBitsToFloat((int) (noiseOffset >>> 32));
        b[2] = Float.intBitsToFloat((int) binarizeOffset);
        b[3] = Float.intBitsToFloat((int) (binarizeOffset >>> 32));
        b[4] = beta;
        b[5] = bc1;
        b[6] = bc2;
        return b;
    }

    @Test
    void reparamForwardAndNormalFill() throws Exception {
        Rand r = new Rand(2);
        int J = 2;
        for (int per : SIZES)
            for (int[] s : shapes(per * J)) {
                int n = per * J;
                float[] mu = r.uniform(per, -2, 2), lv = r.uniform(per, -5, 3);
                long seed = 0x1234_5678_9ABCL, offset = 1L << 33 | 5; // offset past 2^32: 64-bit counters
                Tensor eps = be.alloc(n, 1), z = be.alloc(n, 1);
                be.reparamForward(t(mu, per, 1), t(lv, per, 1), eps, z, seed, offset);
                List<Object> o = emu.call(Kernel.REPARAM_FORWARD, s[0], s[1], mu, lv, poison(n), poison(n), per, n, seed, offset, null);
                assertBits("reparam eps n=" + n, h(eps), f(o, 2));
                // a captured step: the offset comes from the step block, the by-value one is ignored
                o = emu.call(Kernel.REPARAM_FORWARD, s[0], s[1], mu, lv, poison(n), poison(n), per, n, seed, 7L, stepBlock(offset, 0, 0, 0, 0));
                assertBits("reparam eps (step block) n=" + n, h(eps), f(o, 2));
                Close.assertAllClose("reparam z n=" + n, h(z), f(o, 3), ATOL_TRANSC, TOL_TRANSC);
                Tensor nf = be.alloc(n, 1);
                be.normal(nf, seed, offset);
                assertBits("normal_fill n=" + n, h(nf), f(emu.call(Kernel.NORMAL_FILL, s[0], s[1], poison(n), n, seed, offset), 0));
            }
    }

    @Test
    void normalsMatchBitForBitOnALongStream() throws Exception {
        int n = 1 << 18;
        Tensor nf = be.alloc(n, 1);
        be.normal(nf, 42, 0);
        assertBits("normal_fill 2^18", h(nf), f(emu.call(Kernel.NORMAL_FILL, 64, 256, poison(n), n, 42L, 0L), 0));
    }

    @Test
    void reparamKlBackwardAndKlForward() throws Exception {
        Rand r = new Rand(3);
        for (int per : SIZES)
            for (int J : new int[] {1, 3})
                for (int[] s : shapes(per)) {
                    int n = per * J;
                    float[] mu = r.uniform(per, -2, 2), lv = r.uniform(per, -4, 2), eps = r.normal(n, 1), dz = r.uniform(n, -1, 1);
                    Tensor dmu = be.alloc(per, 1), dlv = be.alloc(per, 1), kl = be.alloc(per, 1);
                    be.reparamKlBackward(t(mu, per, 1), t(lv, per, 1), t(eps, n, 1), t(dz, n, 1), dmu, dlv, kl, 0.7f, 1f / 13);
                    List<Object> o = emu.call(Kernel.REPARAM_KL_BACKWARD, s[0], s[1], mu, lv, eps, dz, poison(per), poison(per), poison(per),
                            per, J, 0.7f, 1f / 13, null);
                    List<Object> os = emu.call(Kernel.REPARAM_KL_BACKWARD, s[0], s[1], mu, lv, eps, dz, poison(per), poison(per), poison(per),
                            per, J, 0f, 1f / 13, stepBlock(0, 0, 0.7f, 0, 0));
                    assertBits("dlv (beta from the step block)", f(o, 5), f(os, 5));
                    String name = " per=" + per + " J=" + J + " grid " + s[0] + "x" + s[1];
                    Close.assertAllClose("dmu" + name, h(dmu), f(o, 4), ATOL_TRANSC, TOL_TRANSC);
                    Close.assertAllClose("dlv" + name, h(dlv), f(o, 5), ATOL_TRANSC, TOL_TRANSC);
                    Close.assertAllClose("kl" + name, h(kl), f(o, 6), ATOL_TRANSC, TOL_TRANSC);
                    // kl == null: the kernel must skip it, not fault
                    List<Object> o2 = emu.call(Kernel.REPARAM_KL_BACKWARD, s[0], s[1], mu, lv, eps, dz, poison(per), poison(per), null,
                            per, J, 0.7f, 1f / 13, null);
                    Close.assertAllClose("dmu (no kl)" + name, h(dmu), f(o2, 4), ATOL_TRANSC, TOL_TRANSC);
                    Tensor kl2 = be.alloc(per, 1);
                    be.klForward(t(mu, per, 1), t(lv, per, 1), kl2);
                    Close.assertAllClose("kl_forward" + name, h(kl2), f(emu.call(Kernel.KL_FORWARD, s[0], s[1], mu, lv, poison(per), per), 2),
                            ATOL_TRANSC, TOL_TRANSC);
                }
    }

    @Test
    void sigmoidBceAndGaussianNll() throws Exception {
        Rand r = new Rand(4);
        int J = 2;
        // (rows, inputs): fewer rows than lanes, one row, lanes with 3 and 24 rows and a partial round
        for (int[] shape : new int[][] {{1, 1}, {31, 1}, {8, 125}, {100, 7}, {784, 3}}) {
            int rows = shape[0], xc = shape[1], cols = xc * J, n = rows * cols, lanes = Backend.LOSS_LANES * cols;
            for (int[] s : shapes(lanes)) {
                float[] l = r.uniform(n, -30, 30), bias = r.uniform(rows, -1, 1), x = r.uniform(rows * xc, 0, 1);
                l[0] = 90f; // exp(-90) underflows in float: the stable form must still be exact
                float scale = 1f / cols;
                Tensor grad = be.alloc(rows, cols), part = be.alloc(Backend.LOSS_LANES, cols);
                be.sigmoidBce(t(l, rows, cols), t(bias, rows, 1), t(x, rows, xc), grad, part, scale);
                List<Object> o = emu.call(Kernel.SIGMOID_BCE, s[0], s[1], l, bias, x, poison(n), poison(lanes), rows, xc, cols, scale);
                String name = " " + rows + "x" + cols + " grid " + s[0] + "x" + s[1];
                Close.assertAllClose("bce grad" + name, h(grad), f(o, 3), ATOL_TRANSC, TOL_TRANSC);
                // sums of positive terms in the same order: each term's relative error bounds the sum's
                Close.assertAllClose("bce lane sums" + name, h(part), f(o, 4), ATOL_TRANSC, TOL_TRANSC);
                // no transcendental: the same floats in the same order, bit for bit
                be.gaussianNll(t(l, rows, cols), t(bias, rows, 1), t(x, rows, xc), grad, part, scale);
                o = emu.call(Kernel.GAUSSIAN_NLL, s[0], s[1], l, bias, x, poison(n), poison(lanes), rows, xc, cols, scale);
                assertBits("nll grad" + name, h(grad), f(o, 3));
                assertBits("nll lane sums" + name, h(part), f(o, 4));
                // the learned log-variance: one expf per element, the rest as above
                float[] lv = r.uniform(rows, -3, 3);
                Tensor dlv = be.alloc(rows, cols);
                be.gaussianNllVar(t(l, rows, cols), t(bias, rows, 1), t(x, rows, xc), t(lv, rows, 1), grad, dlv, part, scale);
                o = emu.call(Kernel.GAUSSIAN_NLL_VAR, s[0], s[1], l, bias, x, lv, poison(n), poison(n), poison(lanes), rows, xc, cols, scale);
                Close.assertAllClose("nll-var grad" + name, h(grad), f(o, 4), ATOL_TRANSC, TOL_TRANSC);
                Close.assertAllClose("nll-var dlv" + name, h(dlv), f(o, 5), ATOL_TRANSC, TOL_TRANSC);
                // lane sums of terms of both signs (0.5 s may be negative): relative to the sum of |terms|, ~1e-6 x rows/32
                Close.assertAllClose("nll-var lane sums" + name, h(part), f(o, 6), 2e-4f, TOL_TRANSC);
            }
        }
    }

    @Test
    void optimizersAndAxpy() throws Exception {
        Rand r = new Rand(5);
        for (int n : SIZES)
            for (int[] s : shapes(n)) {
                float[] p = r.uniform(n, -1, 1), g = r.uniform(n, -1, 1), m = r.uniform(n, -.1, .1), v = r.uniform(n, 0, .01);
                float bc1 = (float) (1 - Math.pow(0.9, 7)), bc2 = (float) (1 - Math.pow(0.999, 7));
                Tensor tp = t(p, n, 1), tm = t(m, n, 1), tv = t(v, n, 1);
                be.adamStep(tp, t(g, n, 1), tm, tv, null, 1e-3f, 0.9f, 0.999f, 1e-8f, bc1, bc2);
                List<Object> o = emu.call(Kernel.ADAM_STEP, s[0], s[1], p.clone(), g, m.clone(), v.clone(), n, 1e-3f, 0.9f, 0.999f, 1e-8f, bc1, bc2, null, null);
                assertBits("adam p n=" + n, h(tp), f(o, 0));
                List<Object> os = emu.call(Kernel.ADAM_STEP, s[0], s[1], p.clone(), g, m.clone(), v.clone(), n, 7f, 0.9f, 0.999f, 1e-8f, 1f, 1f,
                        stepBlock(0, 0, 0, bc1, bc2, 1e-3f), null);
                assertBits("adam p (lr, bc1, bc2 from the step block) n=" + n, h(tp), f(os, 0));
                assertBits("adam m n=" + n, h(tm), f(o, 2));
                assertBits("adam v n=" + n, h(tv), f(o, 3));
                Tensor tp2 = t(p, n, 1), tms = t(v, n, 1);
                be.rmspropStep(tp2, t(g, n, 1), tms, null, 1e-3f, 0.9f, 1e-7f);
                o = emu.call(Kernel.RMSPROP_STEP, s[0], s[1], p.clone(), g, v.clone(), n, 1e-3f, 0.9f, 1e-7f, null, null);
                assertBits("rmsprop p n=" + n, h(tp2), f(o, 0));
                assertBits("rmsprop ms n=" + n, h(tms), f(o, 2));
                o = emu.call(Kernel.RMSPROP_STEP, s[0], s[1], p.clone(), g, v.clone(), n, 7f, 0.9f, 1e-7f, null, stepBlock(0, 0, 0, 1f, 1f, 1e-3f));
                assertBits("rmsprop p (lr from the step block) n=" + n, h(tp2), f(o, 0));
                // the L2 decay fused in (2 l2 on "weights", 0 on "biases")
                float[] d = new float[n];
                for (int i = 0; i < n; i++) d[i] = i % 3 == 0 ? 0f : 2e-4f;
                Tensor tp3 = t(p, n, 1), tm3 = t(m, n, 1), tv3 = t(v, n, 1), tms3 = t(v, n, 1), tp4 = t(p, n, 1);
                be.adamStep(tp3, t(g, n, 1), tm3, tv3, t(d, n, 1), 1e-3f, 0.9f, 0.999f, 1e-8f, bc1, bc2);
                o = emu.call(Kernel.ADAM_STEP, s[0], s[1], p.clone(), g, m.clone(), v.clone(), n, 1e-3f, 0.9f, 0.999f, 1e-8f, bc1, bc2, null, d);
                assertBits("adam p (decay) n=" + n, h(tp3), f(o, 0));
                be.rmspropStep(tp4, t(g, n, 1), tms3, t(d, n, 1), 1e-3f, 0.9f, 1e-7f);
                o = emu.call(Kernel.RMSPROP_STEP, s[0], s[1], p.clone(), g, v.clone(), n, 1e-3f, 0.9f, 1e-7f, d, null);
                assertBits("rmsprop p (decay) n=" + n, h(tp4), f(o, 0));
                Tensor ty = t(p, n, 1);
                be.axpy(0.37f, t(g, n, 1), ty);
                assertBits("axpy n=" + n, h(ty), f(emu.call(Kernel.AXPY, s[0], s[1], p.clone(), g, n, 0.37f), 0));
            }
    }

    @Test
    void gatherColumnsAndBinarize() throws Exception {
        Rand r = new Rand(6);
        for (int count : SIZES)
            for (int[] s : shapes(count * 3)) {
                int rows = 3, cols = 50;
                float[] src = r.uniform(rows * cols, 0, 1);
                int[] idx = new int[count];
                for (int j = 0; j < count; j++) idx[j] = r.nextInt(cols);
                Indices ti = be.allocIndices(count);
                be.uploadIndices(idx, 0, ti);
                Tensor dst = be.alloc(rows, count);
                be.gatherColumns(t(src, rows, cols), ti, dst);
                assertBits("gather count=" + count, h(dst), f(emu.call(Kernel.GATHER_COLUMNS, s[0], s[1], src, idx, poison(rows * count), rows, cols, rows * count), 2));
                float[] x = r.uniform(count, 0, 1);
                Tensor tx = t(x, count, 1);
                be.binarize(tx, 99, 3);
                assertBits("binarize n=" + count, h(tx), f(emu.call(Kernel.BINARIZE, s[0], s[1], x.clone(), count, 99L, 3L, null), 0));
                assertBits("binarize (step block) n=" + count, h(tx),
                        f(emu.call(Kernel.BINARIZE, s[0], s[1], x.clone(), count, 99L, 0L, stepBlock(0, 3L, 0, 0, 0)), 0));
            }
        int[] bad = {0, 50, -1};
        float[] out = f(emu.call(Kernel.GATHER_COLUMNS, 1, 32, new float[150], bad, poison(9), 3, 50, 9), 2);
        for (int e = 3; e < 9; e++) assertTrue(Float.isNaN(out[e]), "an out-of-range index writes NaN");
    }

    @Test
    void iwaeKernels() throws Exception {
        Rand r = new Rand(7);
        for (int b : new int[] {1, 31, 1000})
            for (int K : new int[] {1, 5})
                for (int[] s : shapes(b)) {
                    int n = b * K, L = 3;
                    float[] rec = r.uniform(n, 50, 200), d = r.uniform(n, -10, 5);
                    Tensor w = be.alloc(n, 1), lse = be.alloc(b, 1);
                    be.iwaeWeights(t(rec, n, 1), t(d, n, 1), w, lse, K);
                    List<Object> o = emu.call(Kernel.IWAE_WEIGHTS, s[0], s[1], rec, d, poison(n), poison(b), b, K);
                    Close.assertAllClose("iwae w b=" + b + " K=" + K, h(w), f(o, 2), ATOL_TRANSC, TOL_TRANSC);
                    // lse ~ 100 nats: expf/logf differences of a few ulp of the terms, relative to the sum
                    Close.assertAllClose("iwae lse b=" + b + " K=" + K, h(lse), f(o, 3), 1e-5f, TOL_TRANSC);
                    float[] lv = r.uniform(L * b, -3, 1), eps = r.normal(L * n, 1), z = r.normal(L * n, 2);
                    Tensor pr = be.alloc(L, n);
                    be.logPriorRatio(t(lv, L, b), t(eps, L, n), t(z, L, n), pr);
                    assertBits("log_prior_ratio", h(pr), f(emu.call(Kernel.LOG_PRIOR_RATIO, s[0], s[1], lv, eps, z, poison(L * n), L * b, L * n), 3));
                    float[] y = r.uniform(L * n, -1, 1), x = r.uniform(L * n, -1, 1), sc = r.uniform(n, 0, 1);
                    Tensor ty = t(y, L, n);
                    be.scaleColumns(ty, t(sc, n, 1), 0.25f);
                    assertBits("scale_columns", h(ty), f(emu.call(Kernel.SCALE_COLUMNS, s[0], s[1], y.clone(), sc, L, L * n, 0.25f), 0));
                    Tensor ty2 = t(y, L, n);
                    be.addScaledColumns(ty2, t(x, L, n), t(sc, n, 1), 0.25f);
                    assertBits("add_scaled_columns", h(ty2), f(emu.call(Kernel.ADD_SCALED_COLUMNS, s[0], s[1], y.clone(), x, sc, L, L * n, 0.25f), 0));
                }
    }
}

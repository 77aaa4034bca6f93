package io.jvae.backend;

import io.jvae.testing.Close;
import io.jvae.testing.Rand;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every element-wise Backend op of the CPU executor against an independent double-precision
 * reference written here from the formulas. The executor computes in float: each op is a few
 * float operations (each <= 0.5 ulp = 6e-8 relative) plus exp/log/tanh rounded from double,
 * so 1e-5 relative + 1e-6 absolute bounds them with a wide margin.
 */
class CpuBackendOpsTest {
    static final float ATOL = 1e-6f, RTOL = 1e-5f;
    final CpuBackend be = new CpuBackend();
    final Rand r = new Rand(3);

    Tensor t(float[] a, int rows, int cols) {
        Tensor x = be.alloc(rows, cols);
        be.upload(a, 0, x);
        return x;
    }

    float[] h(Tensor x) {
        return host(x);
    }

    float[] host(Tensor x) {
        float[] a = new float[x.size()];
        be.download(x, a, 0);
        return a;
    }

    static double act(Activation a, double x) {
        return switch (a) {
            case IDENTITY -> x;
            case RELU -> Math.max(0, x);
            case TANH -> Math.tanh(x);
            case LEAKY_RELU -> x > 0 ? x : 0.01 * x;
            case ELU -> x > 0 ? x : Math.exp(x) - 1;
            case SIGMOID -> 1 / (1 + Math.exp(-x));
        };
    }

    /** d act/dx at pre-activation x, computed from x (not from y as the kernel does). */
    static double dact(Activation a, double x) {
        return switch (a) {
            case IDENTITY -> 1;
            case RELU -> x > 0 ? 1 : 0;
            case TANH -> 1 - Math.tanh(x) * Math.tanh(x);
            case LEAKY_RELU -> x > 0 ? 1 : 0.01;
            case ELU -> x > 0 ? 1 : Math.exp(x);
            case SIGMOID -> act(a, x) * (1 - act(a, x));
        };
    }

    @Test
    void biasActForwardAndBackward() {
        int rows = 37, cols = 1000; // > Parallel.GRAIN elements: the multi-threaded path runs
        for (Activation a : Activation.values()) {
            float[] y0 = r.uniform(rows * cols, -3, 3), b = r.uniform(rows, -1, 1), dy0 = r.uniform(rows * cols, -1, 1);
            Tensor y = t(y0, rows, cols);
            be.biasActForward(y, t(b, rows, 1), a);
            double[] ref = new double[y0.length], dref = new double[y0.length];
            for (int e = 0; e < y0.length; e++) {
                double pre = (double) (y0[e] + b[e % rows]);
                ref[e] = act(a, pre);
                dref[e] = dy0[e] * dact(a, pre);
            }
            Close.assertAllClose("y " + a, ref, host(y), ATOL, RTOL);
            Tensor dy = t(dy0, rows, cols);
            be.actBackward(dy, y, a);
            // derivative from the float output y: tanh' = 1 - y^2 loses ~ulp(y)*2y absolute
            Close.assertAllClose("dy " + a, dref, host(dy), 1e-6, 1e-5);
        }
    }

    @Test
    void reparamForwardDrawsPhiloxNoise() {
        int L = 5, B = 7, J = 3;
        float[] mu = r.uniform(L * B, -2, 2), lv = r.uniform(L * B, -4, 2);
        Tensor eps = be.alloc(L, B * J), z = be.alloc(L, B * J);
        be.reparamForward(t(mu, L, B), t(lv, L, B), eps, z, 99, 1234);
        float[] want = new float[L * B * J];
        Philox.normals(99, 1234, want, 0, want.length);
        assertArrayEquals(want, host(eps), "eps is the Philox stream (seed, offset + e)");
        double[] ref = new double[want.length];
        for (int e = 0; e < ref.length; e++) ref[e] = mu[e % (L * B)] + Math.exp(0.5 * lv[e % (L * B)]) * want[e];
        Close.assertAllClose("z", ref, host(z), ATOL, RTOL);
    }

    @Test
    void reparamKlBackwardSumsOverSamples() {
        int L = 4, B = 6, J = 3;
        float beta = 0.7f, invB = 1f / B;
        float[] mu = r.uniform(L * B, -2, 2), lv = r.uniform(L * B, -3, 2), eps = r.normal(L * B * J, 1), dz = r.uniform(L * B * J, -1, 1);
        Tensor dmu = be.alloc(L, B), dlv = be.alloc(L, B), kl = be.alloc(L, B);
        be.reparamKlBackward(t(mu, L, B), t(lv, L, B), t(eps, L, B * J), t(dz, L, B * J), dmu, dlv, kl, beta, invB);
        double[] rmu = new double[L * B], rlv = new double[L * B], rkl = new double[L * B];
        for (int i = 0; i < L * B; i++) {
            double gz = 0, gze = 0, sd = Math.exp(0.5 * lv[i]);
            for (int j = 0; j < J; j++) {
                gz += dz[i + j * L * B];
                gze += dz[i + j * L * B] * eps[i + j * L * B];
            }
            rmu[i] = gz + beta * mu[i] / B;
            rlv[i] = gze * 0.5 * sd + beta * 0.5 * (Math.exp(lv[i]) - 1) / B;
            rkl[i] = -0.5 * (1 + lv[i] - mu[i] * (double) mu[i] - Math.exp(lv[i]));
        }
        Close.assertAllClose("dmu", rmu, host(dmu), ATOL, RTOL);
        Close.assertAllClose("dlv", rlv, host(dlv), ATOL, RTOL);
        Close.assertAllClose("kl", rkl, host(kl), ATOL, RTOL);
        Tensor kl2 = be.alloc(L, B);
        be.klForward(t(mu, L, B), t(lv, L, B), kl2);
        Close.assertAllClose("klForward", rkl, host(kl2), ATOL, RTOL);
    }

    /** The reference lane sums: partials[k, c] = sum of loss[r, c] over rows r = k mod LOSS_LANES, in double. */
    private static double[] laneSums(double[] loss, int rows, int cols) {
        double[] p = new double[Backend.LOSS_LANES * cols];
        for (int c = 0; c < cols; c++)
            for (int r = 0; r < rows; r++) p[c * Backend.LOSS_LANES + r % Backend.LOSS_LANES] += loss[c * rows + r];
        return p;
    }

    @Test
    void sigmoidBceIsStableForHugeLogits() {
        int D = 70, B = 5, J = 2, n = D * B * J; // 70 rows: lanes of 3 and of 2 rows
        float[] l = r.uniform(n, -8, 8), bias = r.uniform(D, -1, 1), x = r.uniform(D * B, 0, 1);
        l[0] = 100f;
        l[1] = -100f;
        l[2] = 1e4f;
        l[3] = -1e4f;
        float scale = 1f / (B * J);
        Tensor grad = be.alloc(D, B * J), part = be.alloc(Backend.LOSS_LANES, B * J);
        be.sigmoidBce(t(l, D, B * J), t(bias, D, 1), t(x, D, B), grad, part, scale);
        double[] rl = new double[n], rg = new double[n];
        for (int e = 0; e < n; e++) {
            double lg = l[e] + bias[e % D], t = x[e % (D * B)];
            // -[t log s + (1-t) log(1-s)] with log s = -log1p(e^-l), log(1-s) = -l - log1p(e^-l), for l > 0
            rl[e] = Math.max(lg, 0) - lg * t + Math.log1p(Math.exp(-Math.abs(lg)));
            rg[e] = (1 / (1 + Math.exp(-lg)) - t) * scale;
        }
        float[] hp = host(part);
        for (float v : hp) assertTrue(Float.isFinite(v));
        // |l| up to 1e4: l + bias and l*t carry float rounding, ulp(1e4) = 1e-3, three such terms in a lane
        Close.assertAllClose("bce lane sums", laneSums(rl, D, B * J), hp, 4e-3, 1e-5);
        Close.assertAllClose("bce grad", rg, host(grad), ATOL, RTOL);
        // the kernel uses grad as scratch: a grad sharing elements with an input is refused
        Tensor lt = t(l, D, B * J), bt = t(bias, D, 1), xt = t(x, D, B);
        assertThrows(IllegalArgumentException.class, () -> be.sigmoidBce(lt, bt, xt, lt, part, scale));
        Tensor both = be.alloc(D, 2 * B * J), left = both.cols(0, B * J), right = both.cols(B * J, B * J);
        assertThrows(IllegalArgumentException.class, () -> be.sigmoidBce(both.cols(1, B * J), bt, xt, left, part, scale));
        assertThrows(IllegalArgumentException.class, () -> be.sigmoidBce(lt, bt, xt, grad, be.alloc(Backend.LOSS_LANES, B), scale));
        assertThrows(IllegalArgumentException.class, () -> be.sigmoidBce(lt, be.alloc(D - 1, 1), xt, grad, part, scale));
        be.sigmoidBce(left, bt, xt, right, part, scale); // same storage, disjoint columns: fine
    }

    @Test
    void laneSumsAddEachLanesRowsInRowOrder() {
        // the GPU's order (lane k: rows k, k + 32, ... one after another), bit for bit: the loss sums
        // of the CPU and the device differ only by their per-element losses
        for (int rows : new int[] {1, 31, 32, 33, 100, 784}) {
            float[] loss = r.uniform(rows, -1e3, 1e3);
            for (int i = 0; i < rows; i += 7) loss[i] *= 1e5f; // large terms make the order visible
            float[] want = new float[Backend.LOSS_LANES], got = new float[Backend.LOSS_LANES + 3];
            for (int k = 0; k < Backend.LOSS_LANES; k++)
                for (int q = k; q < rows; q += Backend.LOSS_LANES) want[k] += loss[q];
            CpuLoss.laneSums(loss, rows, got, 3);
            assertArrayEquals(want, Arrays.copyOfRange(got, 3, 3 + Backend.LOSS_LANES), "rows " + rows);
        }
    }

    @Test
    void gaussianNll() {
        int D = 41, B = 3, J = 2, n = D * B * J;
        float[] m = r.uniform(n, -2, 2), bias = r.uniform(D, -1, 1), x = r.uniform(D * B, 0, 1);
        Tensor grad = be.alloc(D, B * J), part = be.alloc(Backend.LOSS_LANES, B * J);
        be.gaussianNll(t(m, D, B * J), t(bias, D, 1), t(x, D, B), grad, part, 0.25f);
        double[] rl = new double[n], rg = new double[n];
        for (int e = 0; e < n; e++) {
            double d = (m[e] + bias[e % D]) - x[e % (D * B)];
            rl[e] = 0.5 * d * d + 0.5 * Math.log(2 * Math.PI);
            rg[e] = d * 0.25;
        }
        Close.assertAllClose("nll lane sums", laneSums(rl, D, B * J), host(part), ATOL, RTOL);
        Close.assertAllClose("nll grad", rg, host(grad), ATOL, RTOL);
    }

    @Test
    void adamAndRmsprop() {
        int n = 40_000;
        float[] p = r.uniform(n, -1, 1), g = r.uniform(n, -1, 1), m = r.uniform(n, -0.1, 0.1), v = r.uniform(n, 0, 0.01);
        Tensor tp = t(p, n, 1), tm = t(m, n, 1), tv = t(v, n, 1);
        float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
        int step = 3;
        float bc1 = (float) (1 - Math.pow(b1, step)), bc2 = (float) (1 - Math.pow(b2, step));
        be.adamStep(tp, t(g, n, 1), tm, tv, null, lr, b1, b2, eps, bc1, bc2);
        double[] rp = new double[n], rm = new double[n], rv = new double[n];
        for (int i = 0; i < n; i++) {
            rm[i] = b1 * m[i] + (1 - b1) * (double) g[i];
            rv[i] = b2 * v[i] + (1 - b2) * (double) g[i] * g[i];
            rp[i] = p[i] - lr * (rm[i] / bc1) / (Math.sqrt(rv[i] / bc2) + eps);
        }
        Close.assertAllClose("adam m", rm, host(tm), ATOL, RTOL);
        Close.assertAllClose("adam v", rv, host(tv), 1e-9, RTOL);
        Close.assertAllClose("adam p", rp, host(tp), ATOL, RTOL);

        float[] ms = r.uniform(n, 0, 0.01);
        Tensor tp2 = t(p, n, 1), tms = t(ms, n, 1);
        be.rmspropStep(tp2, t(g, n, 1), tms, null, lr, 0.9f, 1e-7f);
        double[] rp2 = new double[n], rms = new double[n];
        for (int i = 0; i < n; i++) {
            rms[i] = 0.9 * ms[i] + 0.1 * (double) g[i] * g[i];
            rp2[i] = p[i] - lr * g[i] / (Math.sqrt(rms[i]) + 1e-7);
        }
        Close.assertAllClose("rmsprop ms", rms, host(tms), 1e-9, RTOL);
        Close.assertAllClose("rmsprop p", rp2, host(tp2), ATOL, RTOL);
    }

    /**
     * The L2 decay fused into the optimizers equals the separate axpy it replaced (g += 2 l2 W, then
     * the step) bit for bit: the same product then sum; g itself is left unchanged.
     */
    @Test
    void decayFusedIntoTheOptimizersEqualsAnAxpyBeforeTheStep() {
        int n = 10_001;
        float[] p = r.uniform(n, -1, 1), g = r.uniform(n, -1, 1), m = r.uniform(n, -0.1, 0.1), v = r.uniform(n, 0, 0.01), d = new float[n];
        for (int i = 0; i < n; i++) d[i] = i % 7 == 0 ? 0f : 2e-4f; // some "biases" without decay
        for (boolean adam : new boolean[] {true, false}) {
            Tensor fp = t(p, n, 1), fg = t(g, n, 1), fm = t(m, n, 1), fv = t(v, n, 1);
            Tensor sp = t(p, n, 1), sg = t(g, n, 1), sm = t(m, n, 1), sv = t(v, n, 1);
            for (int i = 0; i < n; i++) if (d[i] != 0f) be.axpy(d[i], sp.view(i, 1, 1), sg.view(i, 1, 1));
            if (adam) {
                be.adamStep(fp, fg, fm, fv, t(d, n, 1), 1e-3f, 0.9f, 0.999f, 1e-8f, 0.27f, 0.003f);
                be.adamStep(sp, sg, sm, sv, null, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.27f, 0.003f);
            } else {
                be.rmspropStep(fp, fg, fm, t(d, n, 1), 1e-3f, 0.9f, 1e-7f);
                be.rmspropStep(sp, sg, sm, null, 1e-3f, 0.9f, 1e-7f);
            }
            assertArrayEquals(host(sp), host(fp), (adam ? "adam" : "rmsprop") + " p");
            assertArrayEquals(host(sm), host(fm), (adam ? "adam" : "rmsprop") + " m");
            assertArrayEquals(g, host(fg), "the fused step leaves g as it was");
        }
    }

    @Test
    void gatherBinarizeNormalAxpy() {
        int R = 6, N = 10;
        float[] src = r.uniform(R * N, 0, 1);
        int[] idx = {9, 0, 3, 3};
        Indices ti = be.allocIndices(4);
        be.uploadIndices(idx, 0, ti);
        Tensor dst = be.alloc(R, 4);
        be.gatherColumns(t(src, R, N), ti, dst);
        float[] h = host(dst);
        for (int j = 0; j < 4; j++) for (int i = 0; i < R; i++) assertEquals(src[idx[j] * R + i], h[j * R + i]);
        assertThrows(IllegalArgumentException.class, () -> {
            Indices bad = be.allocIndices(1);
            be.uploadIndices(new int[] {N}, 0, bad);
            be.gatherColumns(t(src, R, N), bad, be.alloc(R, 1));
        });

        float[] p = r.uniform(50_000, 0, 1);
        Tensor x = t(p, 50_000, 1);
        be.binarize(x, 5, 77);
        float[] u = new float[p.length];
        Philox.uniforms(5, 77, u, 0, u.length);
        float[] hb = host(x);
        for (int i = 0; i < p.length; i++) assertEquals(u[i] < p[i] ? 1f : 0f, hb[i], "binarize " + i);

        Tensor z = be.alloc(3, 333);
        be.normal(z, 8, 10);
        float[] want = new float[999];
        Philox.normals(8, 10, want, 0, 999);
        assertArrayEquals(want, host(z));

        float[] a = r.uniform(100, -1, 1), b = r.uniform(100, -1, 1);
        Tensor tb = t(b, 100, 1);
        be.axpy(0.5f, t(a, 100, 1), tb);
        double[] ref = new double[100];
        for (int i = 0; i < 100; i++) ref[i] = b[i] + 0.5 * a[i];
        Close.assertAllClose("axpy", ref, host(tb), ATOL, RTOL);
    }

    @Test
    void iwaeOps() {
        int b = 7, K = 4, n = b * K, L = 3;
        float[] rec = r.uniform(n, 50, 200), d = r.uniform(n, -10, 5);
        Tensor w = be.alloc(n, 1), lse = be.alloc(b, 1);
        be.iwaeWeights(t(rec, n, 1), t(d, n, 1), w, lse, K);
        double[] rw = new double[n], rl = new double[b];
        for (int i = 0; i < b; i++) {
            double m = Double.NEGATIVE_INFINITY, sum = 0;
            for (int k = 0; k < K; k++) m = Math.max(m, d[k * b + i] - (double) rec[k * b + i]);
            for (int k = 0; k < K; k++) sum += Math.exp(d[k * b + i] - (double) rec[k * b + i] - m);
            for (int k = 0; k < K; k++) rw[k * b + i] = Math.exp(d[k * b + i] - (double) rec[k * b + i] - m) / sum;
            rl[i] = m + Math.log(sum / K);
        }
        Close.assertAllClose("weights", rw, h(w), ATOL, RTOL);
        Close.assertAllClose("lse", rl, h(lse), 1e-4, RTOL); // ~100 nats: float ulp 8e-6
        float[] lv = r.uniform(L * b, -3, 1), eps = r.normal(L * n, 1), z = r.normal(L * n, 2);
        Tensor pr = be.alloc(L, n);
        be.logPriorRatio(t(lv, L, b), t(eps, L, n), t(z, L, n), pr);
        double[] rp = new double[L * n];
        for (int e = 0; e < L * n; e++) rp[e] = 0.5 * (eps[e] * (double) eps[e] + lv[e % (L * b)] - z[e] * (double) z[e]);
        Close.assertAllClose("log prior ratio", rp, h(pr), ATOL, RTOL);
        float[] y = r.uniform(L * n, -1, 1), x = r.uniform(L * n, -1, 1), sc = r.uniform(n, 0, 1);
        Tensor ty = t(y, L, n), ty2 = t(y, L, n);
        be.scaleColumns(ty, t(sc, n, 1), 0.5f);
        be.addScaledColumns(ty2, t(x, L, n), t(sc, n, 1), 0.5f);
        double[] r1 = new double[L * n], r2 = new double[L * n];
        for (int e = 0; e < L * n; e++) {
            r1[e] = y[e] * 0.5 * sc[e / L];
            r2[e] = y[e] + 0.5 * sc[e / L] * x[e];
        }
        Close.assertAllClose("scale columns", r1, h(ty), ATOL, RTOL);
        Close.assertAllClose("add scaled columns", r2, h(ty2), ATOL, RTOL);
    }
}

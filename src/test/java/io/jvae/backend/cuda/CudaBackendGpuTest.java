package io.jvae.backend.cuda;

import io.jvae.backend.Activation;
import io.jvae.backend.Backend;
import io.jvae.backend.CpuBackend;
import io.jvae.backend.Indices;
import io.jvae.backend.Tensor;
import io.jvae.train.Preset;
import io.jvae.model.Vae;
import io.jvae.testing.Close;
import io.jvae.testing.Rand;
import io.jvae.train.Optimizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * CudaBackend against CpuBackend, through JCuda, on the CPU stand-ins for libcuda/libcublas
 * (kernels/standin: every CI run) or, with -Djvae.cuda=card, on a real GPU: every op
 * on the same inputs, then 20 training steps of the pytorch preset from the same seed (same Philox
 * noise on both sides, so the loss traces agree to float tolerance).
 *
 * <p>Tolerances: element-wise kernels as in KernelEmulationTest but with CUDA's own expf/tanhf/log1pf
 * (<= 2 ulp each, documented by NVIDIA), so 2e-6 relative; GEMMs: cuBLAS sums in another order
 * than OpenBLAS, k <= 784 terms of |a b| <= 1: 1e-4 relative + 1e-4 absolute; the 20-step loss
 * trace: differences of 1e-6 per op compound through Adam, 1e-3 relative.
 */
@Tag("gpu")
class CudaBackendGpuTest {
    static CudaBackend gpu;
    static final CpuBackend cpu = new CpuBackend();

    @BeforeAll
    static void open() {
        StandIn.load();
        if (CudaProbe.available()) gpu = CudaBackend.open(0, false);
    }

    @org.junit.jupiter.api.BeforeEach
    void needsAGpu() {
        assumeTrue(gpu != null, () -> "skipped, no CUDA: " + CudaProbe.reason() + "; stand-ins: " + StandIn.reason());
    }

    @AfterAll
    static void close() {
        if (gpu != null) gpu.close();
    }

    static Tensor put(Backend be, float[] a, int r, int c) {
        Tensor t = be.alloc(r, c);
        be.upload(a, 0, t);
        return t;
    }

    static float[] get(Backend be, Tensor t) {
        float[] a = new float[t.size()];
        be.download(t, a, 0);
        return a;
    }

    @Test
    void gemmAndGemvEveryTranspose() {
        Rand r = new Rand(1);
        int m = 37, n = 129, k = 784;
        for (boolean ta : new boolean[] {false, true})
            for (boolean tb : new boolean[] {false, true}) {
                float[] a = r.uniform(m * k, -1, 1), b = r.uniform(k * n, -1, 1), c = r.uniform(m * n, -1, 1);
                Tensor ca = put(cpu, a, a.length, 1), cb = put(cpu, b, b.length, 1), cc = put(cpu, c, c.length, 1);
                Tensor ga = put(gpu, a, a.length, 1), gb = put(gpu, b, b.length, 1), gc = put(gpu, c, c.length, 1);
                int lda = ta ? k : m, ldb = tb ? n : k;
                cpu.gemm(ta, tb, m, n, k, 0.5f, ca, lda, cb, ldb, 0.25f, cc, m);
                gpu.gemm(ta, tb, m, n, k, 0.5f, ga, lda, gb, ldb, 0.25f, gc, m);
                Close.assertAllClose("gemm " + ta + tb, get(cpu, cc), get(gpu, gc), 1e-4f, 1e-4f);
            }
        float[] a = r.uniform(m * n, -1, 1), x = r.uniform(m, -1, 1);
        Tensor cy = cpu.alloc(n, 1), gy = gpu.alloc(n, 1);
        cpu.gemv(true, m, n, 1f, put(cpu, a, m, n), m, put(cpu, x, m, 1), 0f, cy);
        gpu.gemv(true, m, n, 1f, put(gpu, a, m, n), m, put(gpu, x, m, 1), 0f, gy);
        Close.assertAllClose("gemv", get(cpu, cy), get(gpu, gy), 1e-5f, 1e-5f);
    }

    @Test
    void elementwiseOpsMatchTheCpu() {
        Rand r = new Rand(2);
        int rows = 17, cols = 241, n = rows * cols;
        for (Activation act : Activation.values()) {
            float[] y = r.uniform(n, -3, 3), b = r.uniform(rows, -1, 1);
            Tensor cy = put(cpu, y, rows, cols), gy = put(gpu, y, rows, cols);
            cpu.biasActForward(cy, put(cpu, b, rows, 1), act);
            gpu.biasActForward(gy, put(gpu, b, rows, 1), act);
            Close.assertAllClose("bias_act " + act, get(cpu, cy), get(gpu, gy), 1e-7f, 2e-6f);
        }
        int per = 20 * 64, J = 2;
        float[] mu = r.uniform(per, -2, 2), lv = r.uniform(per, -4, 2);
        Tensor ce = cpu.alloc(per * J, 1), cz = cpu.alloc(per * J, 1), ge = gpu.alloc(per * J, 1), gz = gpu.alloc(per * J, 1);
        cpu.reparamForward(put(cpu, mu, per, 1), put(cpu, lv, per, 1), ce, cz, 5, 77);
        gpu.reparamForward(put(gpu, mu, per, 1), put(gpu, lv, per, 1), ge, gz, 5, 77);
        assertArrayEquals(get(cpu, ce), get(gpu, ge), "Philox normals bit for bit");
        Close.assertAllClose("z", get(cpu, cz), get(gpu, gz), 1e-7f, 2e-6f);
        float[] l = r.uniform(n, -30, 30), lb = r.uniform(rows, -1, 1), x = r.uniform(n, 0, 1);
        int lanes = Backend.LOSS_LANES;
        Tensor cg = cpu.alloc(rows, cols), cs = cpu.alloc(lanes, cols), gg = gpu.alloc(rows, cols), gs = gpu.alloc(lanes, cols);
        cpu.sigmoidBce(put(cpu, l, rows, cols), put(cpu, lb, rows, 1), put(cpu, x, rows, cols), cg, cs, 0.01f);
        gpu.sigmoidBce(put(gpu, l, rows, cols), put(gpu, lb, rows, 1), put(gpu, x, rows, cols), gg, gs, 0.01f);
        Close.assertAllClose("bce grad", get(cpu, cg), get(gpu, gg), 1e-7f, 2e-6f);
        // sums of positive losses in the same order: 2 ulp per term carries over to the sum
        Close.assertAllClose("bce lane sums", get(cpu, cs), get(gpu, gs), 1e-6f, 4e-6f);
        float[] p = r.uniform(n, -1, 1), g = r.uniform(n, -1, 1);
        Tensor cp = put(cpu, p, n, 1), gp = put(gpu, p, n, 1);
        cpu.adamStep(cp, put(cpu, g, n, 1), cpu.alloc(n, 1), cpu.alloc(n, 1), null, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.1f, 0.001f);
        gpu.adamStep(gp, put(gpu, g, n, 1), gpu.alloc(n, 1), gpu.alloc(n, 1), null, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.1f, 0.001f);
        assertArrayEquals(get(cpu, cp), get(gpu, gp), "adam bit for bit (no FMA, IEEE div/sqrt)");
        int[] idx = {3, 0, 240, 7};
        Indices ci = cpu.allocIndices(4), gi = gpu.allocIndices(4);
        cpu.uploadIndices(idx, 0, ci);
        gpu.uploadIndices(idx, 0, gi);
        Tensor cd = cpu.alloc(rows, 4), gd = gpu.alloc(rows, 4);
        cpu.gatherColumns(put(cpu, y(n), rows, cols), ci, cd);
        gpu.gatherColumns(put(gpu, y(n), rows, cols), gi, gd);
        assertArrayEquals(get(cpu, cd), get(gpu, gd), "gather");
    }

    static float[] y(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = i * 0.5f;
        return a;
    }

    @Test
    void tooLargeForTheDeviceFailsUpFrontWithItsNumbers(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        long[] ft = gpu.memoryInfo();
        assertTrue(ft[1] > 0 && ft[0] > 0 && ft[0] <= ft[1], "cuMemGetInfo: free " + ft[0] + " of " + ft[1]);
        // 784-65536-65536-20 (the largest hidden sizes allowed): 8.6e9 parameters, 275 GB with Adam's state
        io.jvae.model.ModelConfig p = Preset.PYTORCH.model, huge = new io.jvae.model.ModelConfig(784, java.util.List.of(65536, 65536), 20,
                java.util.List.of(65536, 65536), p.activation(), p.likelihood(), 0, p.init());
        io.jvae.data.Dataset d = io.jvae.testing.Synthetic.dataset("tiny", 256, 28, 1);
        io.jvae.train.Trainer t = new io.jvae.train.Trainer(gpu, huge, Preset.PYTORCH.train, d, d, dir,
                new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
        io.jvae.InvalidInputException e = assertThrows(io.jvae.InvalidInputException.class, () -> t.run(false));
        String total = String.format(java.util.Locale.ROOT, "free of %.0f MiB", ft[1] / (double) (1 << 20));
        assertTrue(e.getMessage().contains("on " + gpu.name()) && e.getMessage().contains(total), e.getMessage());
        assertEquals(ft[0], gpu.memoryInfo()[0], 64L << 20, "failed before allocating anything on the device");
    }

    @Test
    void twentyTrainingStepsTrackTheCpu() {
        double[] c = trace(cpu), g = trace(gpu);
        for (int s = 0; s < c.length; s++)
            assertEquals(c[s], g[s], 1e-3 * Math.abs(c[s]), "loss after step " + (s + 1));
    }

    static double[] trace(Backend be) {
        Vae vae = new Vae(be, Preset.PYTORCH.model);
        vae.initParams(1);
        vae.workspace(128, 1);
        Optimizer opt = new Optimizer(vae, Preset.PYTORCH.train);
        Rand r = new Rand(3);
        Tensor data = put(be, r.uniform(784 * 1024, 0, 1), 784, 1024);
        Indices idx = be.allocIndices(1024);
        int[] ids = new int[1024];
        for (int i = 0; i < 1024; i++) ids[i] = (i * 37) % 1024;
        be.uploadIndices(ids, 0, idx);
        Tensor stats = be.alloc(4, 1);
        double[] out = new double[20];
        float[] h = new float[4];
        for (int s = 0; s < 20; s++) {
            be.fill(stats, 0f);
            vae.loadBatch(data, null, idx.slice((s * 128) % 1024, 128));
            vae.trainStep(9, s * vae.noisePerStep(), 1f, stats);
            opt.step();
            be.download(stats, h, 0);
            out[s] = (h[0] + h[1]) / 128;
        }
        return out;
    }
}

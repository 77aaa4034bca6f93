package io.jvae.bench;

import io.jvae.backend.Backend;
import io.jvae.backend.CpuBackend;
import io.jvae.backend.Gemm;
import io.jvae.backend.Indices;
import io.jvae.backend.Philox;
import io.jvae.backend.Tensor;
import io.jvae.model.ModelConfig;
import io.jvae.model.Vae;
import io.jvae.train.Optimizer;
import io.jvae.train.TrainConfig;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.Arrays;
import java.util.Map;

/**
 * Times training steps exactly as the Trainer runs them (gather, step, optimizer update) on
 * synthetic data resident on the backend, after a warm-up. One measurement = `steps` steps
 * between two syncs; repeated to give median/min/max ms per step.
 */
public final class Bench {
    private Bench() {}

    public record Result(String backend, int batch, double msMedian, double msMin, double msMax, double samplesPerSecond,
                         double gflops, double ceilingShare, long peakHeapBytes, Map<ProfilingBackend.Phase, long[]> profile,
                         Map<String, long[]> profileByOp, Map<String, long[]> profileByGemm, int profiledSteps) {}

    /** Examples of synthetic data (MNIST's 60,000 by default): pixels U[0,1) from Philox; content does not change the work. */
    public static int examples = 60_000;

    public static Result run(Backend be, ModelConfig mc, TrainConfig tc, int batch, int warmup, int steps, int repeats,
                             double ceilingGflops, boolean profile) {
        ProfilingBackend prof = profile ? new ProfilingBackend(be) : null;
        Backend use = profile ? prof : be;
        Vae vae = new Vae(use, mc);
        vae.initParams(1);
        vae.workspace(batch, tc.samples());
        Optimizer opt = new Optimizer(vae, tc);
        int n = Math.max(examples, batch);
        float[] host = new float[mc.inputDim() * n];
        Philox.uniforms(5, 0, host, 0, host.length);
        Tensor data = use.alloc(mc.inputDim(), n);
        use.upload(host, 0, data);
        Tensor oneHot = mc.conditional() ? use.alloc(mc.classes(), n) : null;
        if (oneHot != null) {
            float[] oh = new float[mc.classes() * n];
            for (int i = 0; i < n; i++) oh[i * mc.classes() + i % mc.classes()] = 1f;
            use.upload(oh, 0, oneHot);
        }
        int[] perm = io.jvae.train.Seeds.permutation(1, 1, n); // a shuffled epoch, as in training
        Indices idx = use.allocIndices(n);
        use.uploadIndices(perm, 0, idx);
        Tensor stats = use.alloc(4, 1);
        long[] step = {0};
        Runnable one = () -> {
            int start = (int) ((step[0] * batch) % (n - batch + 1));
            vae.loadBatch(data, oneHot, idx.slice(start, batch));
            if (tc.binarize()) vae.binarizeBatch(3, step[0] * (long) mc.inputDim() * batch);
            if (tc.objective() == TrainConfig.Objective.IWAE) vae.trainStepIwae(7, step[0] * vae.noisePerStep(), stats);
            else vae.trainStep(7, step[0] * vae.noisePerStep(), tc.beta(), stats);
            opt.step();
            step[0]++;
        };
        for (int i = 0; i < warmup; i++) one.run();
        use.sync();
        if (prof != null) prof.reset();
        resetPeaks();
        double[] ms = new double[repeats];
        for (int r = 0; r < repeats; r++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < steps; i++) one.run();
            use.sync();
            ms[r] = (System.nanoTime() - t0) / 1e6 / steps;
        }
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        double med = sorted[repeats / 2];
        double gflops = Flops.perStep(mc, batch, tc.samples()) / (med * 1e-3) / 1e9;
        return new Result(be.name(), batch, med, sorted[0], sorted[repeats - 1], batch / (med * 1e-3), gflops,
                ceilingGflops > 0 ? gflops / ceilingGflops : Double.NaN, peakHeap(), prof == null ? null : prof.totals(),
                prof == null ? null : prof.byOperation(), prof == null ? null : prof.byGemmShape(), steps * repeats);
    }

    /** Best sgemm GFLOP/s of the CPU BLAS on a square 1024 problem (the ceiling a step's GEMMs can reach). */
    public static double cpuSgemmCeiling() {
        int s = 1024;
        float[] a = new float[s * s], b = new float[s * s], c = new float[s * s];
        Philox.uniforms(1, 0, a, 0, a.length);
        Philox.uniforms(2, 0, b, 0, b.length);
        double best = 0;
        for (int r = 0; r < 8; r++) {
            long t0 = System.nanoTime();
            Gemm.sgemm(false, false, s, s, s, 1f, a, 0, s, b, 0, s, 0f, c, 0, s);
            double sec = (System.nanoTime() - t0) / 1e9;
            best = Math.max(best, 2.0 * s * s * s / sec / 1e9);
        }
        return best;
    }

    static void resetPeaks() {
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) if (p.getType() == MemoryType.HEAP) p.resetPeakUsage();
    }

    static long peakHeap() {
        long s = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans())
            if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) s += p.getPeakUsage().getUsed();
        return s;
    }

    public static boolean isCpu(Backend be) {
        return be instanceof CpuBackend;
    }
}

package io.jvae.bench;

import io.jvae.backend.Backend;
import io.jvae.backend.CpuBackend;
import io.jvae.backend.Gemm;
import io.jvae.backend.cuda.CudaBackend;
import io.jvae.backend.Philox;
import io.jvae.backend.Tensor;
import io.jvae.model.ModelConfig;
import io.jvae.model.Vae;
import io.jvae.train.Optimizer;
import io.jvae.train.TrainConfig;
import io.jvae.train.TrainingSteps;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.Arrays;
import java.util.Map;

/**
 * Times training steps exactly as the Trainer runs them (gather, step, optimizer update) on
 * data resident on the backend (MNIST, or synthetic: {@link Data}), after a warm-up. One measurement = `steps` steps
 * between two syncs; repeated to give median/min/max ms per step.
 */
public final class Bench {
    private Bench() {}

    /**
     * cudaGraph: the steps were CUDA Graph replays; perStep: on CUDA, what the backend counted itself per
     * timed step (launches, graph launches, host syncs, device allocations, bytes each way), the
     * bench's own synchronisation after each measurement excluded; null on the CPU.
     */
    public record Result(String backend, int batch, double msMedian, double msMin, double msMax, double samplesPerSecond,
                         double gflops, double ceilingShare, double denseGflops, long peakHeapBytes, Map<ProfilingBackend.Phase, long[]> profile,
                         Map<String, long[]> profileByOp, Map<String, long[]> profileByGemm, int profiledSteps,
                         boolean cudaGraph, Map<String, Double> perStep, String device) {}

    /**
     * The examples a bench trains on, (dim, n) column-major. Their zeros matter: the CPU multiplies
     * the first layer's input sparsely when at most SparseColumns.MAX_DENSITY of it is nonzero.
     */
    public record Data(float[] x, int dim, int n, String description) {
        public double density() {
            long nz = 0;
            for (float v : x) if (v != 0f) nz++;
            return x.length == 0 ? 0 : (double) nz / x.length;
        }
    }

    /** Share of nonzero pixels in MNIST's training images (0.1918), the density of the synthetic data. */
    public static final double MNIST_DENSITY = 0.1918;

    /**
     * Synthetic examples from Philox: with density < 1, each pixel is nonzero with that probability
     * (value U(0,1]), at independent positions; with density 1, every pixel U[0,1).
     */
    public static Data synthetic(int dim, int n, double density) {
        float[] x = new float[Math.multiplyExact(dim, n)];
        Philox.uniforms(5, 0, x, 0, x.length);
        if (density < 1) {
            float[] keep = new float[x.length];
            Philox.uniforms(6, 0, keep, 0, keep.length);
            for (int i = 0; i < x.length; i++) x[i] = keep[i] < density ? 1f - x[i] : 0f;
        }
        return new Data(x, dim, n, density < 1 ? String.format(java.util.Locale.ROOT, "synthetic, %.0f %% nonzero pixels", 100 * density)
                : "synthetic, dense (every pixel U[0,1))");
    }

    /** firstLayerDensity: the share of the first layer's FLOPs the backend executes (its input's density when sparse, else 1). */
    public static Result run(Backend be, ModelConfig mc, TrainConfig tc, int batch, int warmup, int steps, int repeats,
                             double ceilingGflops, boolean profile, Data data, double firstLayerDensity, boolean cudaGraph) {
        if (data.dim() != mc.inputDim())
            throw new io.jvae.InvalidInputException("bench data has " + data.dim() + " features, the model " + mc.inputDim());
        ProfilingBackend prof = profile ? new ProfilingBackend(be) : null;
        Backend use = profile ? prof : be;
        Vae vae = new Vae(use, mc);
        vae.initParams(1);
        vae.workspace(batch, tc.samples());
        Optimizer opt = new Optimizer(vae, tc);
        int n = Math.max(data.n(), batch);
        Tensor dataT;
        if (data.n() >= batch) {
            dataT = use.constant(data.x(), mc.inputDim(), n); // as training's DeviceData: on the CPU the array itself
        } else {
            dataT = use.alloc(mc.inputDim(), n);
            for (int at = 0; at < n; at += data.n()) { // fewer examples than a batch: repeated
                int cols = Math.min(data.n(), n - at);
                use.upload(data.x(), 0, dataT.cols(at, cols));
            }
        }
        Tensor oneHot = mc.conditional() ? use.alloc(mc.classes(), n) : null;
        if (oneHot != null) {
            float[] oh = new float[mc.classes() * n];
            for (int i = 0; i < n; i++) oh[i * mc.classes() + i % mc.classes()] = 1f;
            use.upload(oh, 0, oneHot);
        }
        Tensor stats = use.alloc(4, 1);
        TrainingSteps ts = new TrainingSteps(vae, opt, tc, dataT, oneHot, stats, 7, 3, cudaGraph && !profile);
        ts.epoch(io.jvae.train.Seeds.permutation(1, 1, n)); // a shuffled epoch, as in training
        long[] step = {0};
        Runnable one = () -> {
            int start = (int) ((step[0] * batch) % (n - batch + 1));
            ts.step(step[0], start, batch, tc.beta());
            step[0]++;
        };
        for (int i = 0; i < warmup; i++) one.run();
        use.sync();
        if (prof != null) prof.reset();
        resetPeaks();
        CudaBackend cuda = be instanceof CudaBackend c ? c : null;
        CudaBackend.Counters before = cuda == null ? null : cuda.counters();
        double[] ms = new double[repeats];
        for (int r = 0; r < repeats; r++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < steps; i++) one.run();
            use.sync();
            ms[r] = (System.nanoTime() - t0) / 1e6 / steps;
        }
        Map<String, Double> perStep = null;
        if (cuda != null) {
            CudaBackend.Counters d = cuda.counters().minus(before);
            double k = (double) steps * repeats;
            perStep = new java.util.LinkedHashMap<>();
            perStep.put("launches_per_step", d.launches / k);
            perStep.put("graph_launches_per_step", d.graphLaunches / k);
            perStep.put("host_syncs_per_step", (d.hostSyncs - repeats) / k); // less the sync that ends each measurement
            perStep.put("device_allocs_per_step", d.allocs / k);
            perStep.put("copies_per_step", d.copies / k);
            perStep.put("h2d_bytes_per_step", d.h2dBytes / k);
            perStep.put("d2h_bytes_per_step", d.d2hBytes / k);
            perStep.put("gemms_per_step", d.gemms / k);
        }
        boolean replayed = ts.replayed();
        ts.close();
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        double med = sorted[repeats / 2];
        double gflops = Flops.perStep(mc, batch, tc.samples(), firstLayerDensity) / (med * 1e-3) / 1e9;
        double denseGflops = Flops.perStep(mc, batch, tc.samples()) / (med * 1e-3) / 1e9;
        return new Result(be.name(), batch, med, sorted[0], sorted[repeats - 1], batch / (med * 1e-3), gflops,
                ceilingGflops > 0 ? gflops / ceilingGflops : Double.NaN, denseGflops, peakHeap(), prof == null ? null : prof.totals(),
                prof == null ? null : prof.byOperation(), prof == null ? null : prof.byGemmShape(), steps * repeats, replayed, perStep, be.describe());
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

package io.jvae.cli;

import io.jvae.InvalidInputException;
import io.jvae.backend.Backend;
import io.jvae.backend.CpuBackend;
import io.jvae.backend.Gemm;
import io.jvae.backend.Parallel;
import io.jvae.backend.SparseColumns;
import io.jvae.backend.cuda.CudaProbe;
import io.jvae.bench.Bench;
import io.jvae.bench.ProfilingBackend;
import io.jvae.io.Json;
import io.jvae.model.ModelConfig;
import io.jvae.train.TrainConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Time training steps of a preset (or any sizes) at several batch sizes on each available backend.")
final class BenchCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--batches", split = ",", defaultValue = "128,1024", description = "batch sizes. Default: ${DEFAULT-VALUE}")
    List<Integer> batches;

    @Option(names = "--steps", defaultValue = "100", description = "steps per measurement. Default: ${DEFAULT-VALUE}")
    int steps;

    @Option(names = "--warmup-steps", defaultValue = "30", description = "steps before measuring (JIT, caches). Default: ${DEFAULT-VALUE}")
    int warmup;

    @Option(names = "--repeats", defaultValue = "5", description = "measurements per row (median, min, max). Default: ${DEFAULT-VALUE}")
    int repeats;

    @Option(names = "--devices", defaultValue = "all", description = "all (every available backend), cpu, or cuda. Default: ${DEFAULT-VALUE}")
    String devices;

    @Option(names = "--data", defaultValue = "auto", description = "what the steps train on: mnist (the training images; "
            + "fetched if needed), synthetic (random pixels, MNIST's 19 %% nonzero), dense (every pixel random), or auto "
            + "(mnist when it is in the cache, else synthetic). The CPU multiplies the first layer sparsely when the batch is "
            + "mostly zeros. Default: ${DEFAULT-VALUE}")
    String data;

    @Option(names = "--examples", defaultValue = "60000", description = "synthetic examples resident on the backend (batches are gathered from a shuffled order). Default: ${DEFAULT-VALUE}")
    int examples;

    @Option(names = "--cuda-graph", defaultValue = "on", description = "CUDA: on (each step replays one CUDA Graph), off (kernels launched one by one) or both (a row each). Default: ${DEFAULT-VALUE}")
    String cudaGraph;

    @Option(names = "--json", description = "one JSON object per row instead of the table")
    boolean json;

    @Option(names = "--noise", defaultValue = "0", paramLabel = "N", description = "also time the noise (Philox + Box-Muller in FP64) "
            + "against a plain write of the same N floats on each device: whether FP64 costs anything there (0: not timed). Default: ${DEFAULT-VALUE}")
    int noise;

    @Option(names = "--profile", description = "split a step into forward GEMMs, backward GEMMs, sums, element-wise work, optimizer, data")
    boolean profile;

    @Mixin
    ModelOptions opts = new ModelOptions();

    @Override
    public Integer call() {
        for (int b : batches) InvalidInputException.require(b >= 1 && b <= 65536, "--batches: each must be in [1, 65536], got %d", b);
        InvalidInputException.require(steps >= 1 && warmup >= 0 && repeats >= 1, "--steps, --repeats must be >= 1 and --warmup >= 0");
        InvalidInputException.require(examples >= 1, "--examples must be >= 1, got %d", examples);
        InvalidInputException.require(noise >= 0, "--noise must be >= 0, got %d", noise);
        List<Boolean> graphModes = switch (cudaGraph) {
            case "on" -> List.of(true);
            case "off" -> List.of(false);
            case "both" -> List.of(true, false);
            default -> throw new InvalidInputException("--cuda-graph must be on, off or both, got " + cudaGraph);
        };
        PrintWriter out = spec.commandLine().getOut();
        ModelConfig mc = opts.model(784, 10);
        Bench.Data bd = benchData(mc.inputDim());
        double density = bd.density();
        // FLOPs executed: the first layer's two GEMMs see only the nonzeros when the CPU multiplies sparsely
        double cpuDensity = CpuBackend.SPARSE_INPUT && density <= SparseColumns.MAX_DENSITY ? density : 1;
        TrainConfig tc = opts.train();
        List<String> backends = new ArrayList<>();
        String d = devices.toLowerCase(Locale.ROOT);
        if (d.equals("all") || d.equals("cpu")) backends.add("cpu");
        if (d.equals("all") || d.startsWith("cuda")) {
            if (CudaProbe.available()) backends.add(d.equals("all") ? "cuda" : d);
            else if (!d.equals("all")) throw new InvalidInputException("--devices " + devices + ": " + CudaProbe.reason());
            else if (!json) out.println("cuda: not available (" + CudaProbe.reason() + ")");
        }
        InvalidInputException.require(!backends.isEmpty(), "--devices must be all, cpu or cuda[:N], got '%s'", devices);
        double ceiling = Bench.cpuSgemmCeiling();
        if (!json) {
            out.printf(Locale.ROOT, "model %s, %s %s lr %s, J=%d; %d warm-up steps, %d x %d timed steps%n", mc.summary(),
                    tc.optimizer().name().toLowerCase(Locale.ROOT), tc.l2() > 0 ? "+L2" : "", tc.lr(), tc.samples(), warmup, repeats, steps);
            out.printf(Locale.ROOT, "cpu: %d cores, %s; sgemm ceiling (1024^3, measured now) %.1f GFLOP/s; Java %s; %s%n",
                    Runtime.getRuntime().availableProcessors(), Gemm.implementation(), ceiling, System.getProperty("java.version"),
                    io.jvae.backend.CpuBackend.alignment());
            out.printf(Locale.ROOT, "data: %s, %.1f %% nonzero; cpu first layer: %s; GEMM GFLOP/s counts the FLOPs executed, "
                    + "dense-equivalent GFLOP/s those of the dense GEMMs the step replaces%n",
                    bd.description(), 100 * density, cpuDensity < 1 ? "sparse (only the nonzero pixels; -Djvae.sparseInput=false: dense)"
                            : !CpuBackend.SPARSE_INPUT ? "dense (-Djvae.sparseInput=false)" : "dense (the data is not sparse enough)");
            out.println("| backend | batch | samples/s | ms/step median (min-max) | GEMM GFLOP/s | share of sgemm ceiling | dense-equivalent GFLOP/s | peak heap MiB |");
            out.println("|---|---|---|---|---|---|---|---|");
        }
        Map<Integer, Double> cpuRate = new LinkedHashMap<>();
        List<String> notes = new ArrayList<>(); // per-step counters of the CUDA rows, printed under the table
        for (String bn : backends) {
            for (int batch : batches) for (boolean graph : bn.equals("cpu") ? List.of(false) : graphModes) {
                Bench.Result r;
                try (Backend be = Devices.open(bn, new java.io.PrintStream(java.io.OutputStream.nullOutputStream()))) {
                    boolean cpu = be instanceof CpuBackend;
                    r = Bench.run(be, mc, tc, batch, warmup, steps, repeats, cpu ? ceiling : 0, profile, bd, cpu ? cpuDensity : 1, graph);
                }
                if (bn.equals("cpu")) cpuRate.put(batch, r.samplesPerSecond());
                Double base = cpuRate.get(batch);
                if (json) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("backend", r.backend());
                    if (r.perStep() != null) {
                        m.put("device", r.device());
                        m.put("cuda_graph", r.cudaGraph());
                        m.putAll(r.perStep());
                    }
                    m.put("model", mc.summary());
                    m.put("batch", batch);
                    m.put("samples_per_s", r.samplesPerSecond());
                    m.put("ms_median", r.msMedian());
                    m.put("ms_min", r.msMin());
                    m.put("ms_max", r.msMax());
                    m.put("gflops", r.gflops());
                    m.put("sgemm_ceiling_gflops", ceiling);
                    m.put("ceiling_share", r.ceilingShare());
                    m.put("dense_equivalent_gflops", r.denseGflops());
                    m.put("peak_heap_bytes", r.peakHeapBytes());
                    m.put("threads", Parallel.THREADS);
                    m.put("blas", Gemm.implementation());
                    m.put("data", bd.description());
                    m.put("data_density", density);
                    m.put("sparse_first_layer", bn.equals("cpu") && cpuDensity < 1);
                    if (bn.equals("cpu")) m.put("cpu_memory", io.jvae.backend.CpuBackend.alignment());
                    if (!bn.equals("cpu") && base != null) m.put("ratio_vs_cpu", r.samplesPerSecond() / base);
                    if (r.profile() != null) {
                        Map<String, Object> p = new LinkedHashMap<>();
                        r.profile().forEach((ph, v) -> p.put(ph.name().toLowerCase(Locale.ROOT), v[0] / 1e6 / r.profiledSteps()));
                        m.put("profile_ms_per_step", p);
                    }
                    out.println(Json.write(m));
                } else {
                    out.printf(Locale.ROOT, "| %s | %d | %.0f%s | %.2f (%.2f-%.2f) | %.1f | %s | %.1f | %d |%n",
                            r.backend() + (r.perStep() == null ? "" : r.cudaGraph() ? " graph" : " eager"), batch, r.samplesPerSecond(),
                            !bn.equals("cpu") && base != null ? String.format(Locale.ROOT, " (%.1fx cpu)", r.samplesPerSecond() / base) : "",
                            r.msMedian(), r.msMin(), r.msMax(), r.gflops(),
                            Double.isNaN(r.ceilingShare()) ? "-" : String.format(Locale.ROOT, "%.0f %%", 100 * r.ceilingShare()),
                            r.denseGflops(), r.peakHeapBytes() >> 20);
                    if (r.perStep() != null) {
                        StringBuilder sb = new StringBuilder("  per step on " + r.device() + ":");
                        r.perStep().forEach((k, v) -> sb.append(String.format(Locale.ROOT, " %s %.2f", k.replace("_per_step", ""), v)));
                        notes.add(sb.toString());
                    }
                    if (r.profile() != null) printProfile(out, r);
                }
                out.flush();
            }
        }
        for (String n : notes) out.println(n);
        if (noise > 0) for (String bn : backends) {
            Map<String, Object> row;
            try (Backend be = Devices.open(bn, new java.io.PrintStream(java.io.OutputStream.nullOutputStream()))) {
                row = io.jvae.bench.NoiseBench.run(be, noise, 10, repeats);
            }
            if (json) out.println(Json.write(row));
            else out.printf(Locale.ROOT, "noise on %s: %.3g normals/s (%.1f GB/s written) against %.1f GB/s for a plain write of the "
                    + "same floats: %.2f of the write speed (FP64 Box-Muller; near 1: FP32 could gain nothing here)%n", row.get("device"),
                    (double) row.get("normals_per_s"), (double) row.get("noise_gb_per_s"), (double) row.get("write_gb_per_s"),
                    (double) row.get("noise_vs_write"));
            out.flush();
        }
        return Jvae.OK;
    }

    private Bench.Data benchData(int dim) {
        String d = data.toLowerCase(Locale.ROOT);
        switch (d) {
            case "mnist", "auto" -> {
                if (d.equals("auto") && !io.jvae.data.Mnist.cached()) return Bench.synthetic(dim, examples, Bench.MNIST_DENSITY);
                io.jvae.data.Dataset train = io.jvae.data.Mnist.resolveAndLoad(null, System.err).train();
                InvalidInputException.require(train.dim() == dim, "MNIST has %d pixels, the model expects %d", train.dim(), dim);
                return new Bench.Data(train.x(), dim, train.n(), "MNIST training images");
            }
            case "synthetic" -> {
                return Bench.synthetic(dim, examples, Bench.MNIST_DENSITY);
            }
            case "dense" -> {
                return Bench.synthetic(dim, examples, 1);
            }
            default -> throw new InvalidInputException("--data must be auto, mnist, synthetic or dense, got '" + data + "'");
        }
    }

    static void printProfile(PrintWriter out, Bench.Result r) {
        long total = 0;
        for (long[] v : r.profile().values()) total += v[0];
        out.printf(Locale.ROOT, "  profile of %s batch %d (each call synced; %.2f ms/step profiled):%n", r.backend(), r.batch(), total / 1e6 / r.profiledSteps());
        for (Map.Entry<ProfilingBackend.Phase, long[]> e : r.profile().entrySet()) {
            long[] v = e.getValue();
            out.printf(Locale.ROOT, "    %-42s %7.3f ms/step %5.1f %%  %5.1f calls/step%n", e.getKey().label, v[0] / 1e6 / r.profiledSteps(),
                    total == 0 ? 0 : 100.0 * v[0] / total, (double) v[1] / r.profiledSteps());
        }
        out.println("    by Backend method:");
        r.profileByOp().entrySet().stream().sorted((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0])).forEach(e ->
                out.printf(Locale.ROOT, "      %-24s %7.3f ms/step %5.1f calls/step%n", e.getKey(), e.getValue()[0] / 1e6 / r.profiledSteps(),
                        (double) e.getValue()[1] / r.profiledSteps()));
        out.println("    by GEMM shape (op(A) op(B) m x n x k, in call order):");
        r.profileByGemm().forEach((shape, v) -> out.printf(Locale.ROOT, "      %-24s %7.3f ms/step %5.1f calls/step %7.1f GFLOP/s%n", shape,
                v[0] / 1e6 / r.profiledSteps(), (double) v[1] / r.profiledSteps(), v[0] == 0 ? 0 : v[1] * (double) v[2] / v[0]));
    }
}

package io.jvae.cli;

import io.jvae.InvalidInputException;
import io.jvae.backend.Backend;
import io.jvae.data.Dataset;
import io.jvae.data.Mnist;
import io.jvae.train.Warmup;
import io.jvae.data.Scaling;
import io.jvae.model.ModelConfig;
import io.jvae.train.TrainConfig;
import io.jvae.train.Trainer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train a VAE (or CVAE with --conditional) on MNIST or on your own data (--train); writes metrics and checkpoints into --out.")
final class TrainCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOptions opts = new ModelOptions();


    @Option(names = "--data", description = "directory with the MNIST IDX files (default: cache, fetched if missing)")
    Path data;

    @Option(names = "--train", description = "your own training data instead of MNIST: .npy, .npz, CSV or IDX (raw or .gz), one example per row")
    Path trainFile;

    @Option(names = "--test", description = "with --train: the test set (same format and features); default: --test-split of --train held out")
    Path testFile;

    @Option(names = "--labels", description = "with --train: class labels 0..C-1 for it (IDX, .npy, .npz or one integer per line)")
    Path labels;

    @Option(names = "--test-labels", description = "labels for --test")
    Path testLabels;

    @Option(names = "--test-split", description = "with --train and no --test: the fraction held out as the test set, drawn with --seed (default 0.1)")
    Double testSplit;

    @Option(names = "--scale", description = "with --train: standard, minmax or none (default): per-feature statistics of the training set, "
            + "applied to train and test and stored in the checkpoint (score and eval apply them)")
    String scale;

    @Mixin
    DataOptions dataOpts = new DataOptions();

    @Option(names = "--out", description = "run directory (default: runs/<preset>)")
    Path out;

    @Option(names = "--resume", description = "continue the run in --out from its state.safetensors")
    boolean resume;

    @Option(names = "--overwrite", description = "start a new run in --out even though it holds one (its files are replaced)")
    boolean overwrite;

    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu, cuda or cuda:N. Default: ${DEFAULT-VALUE}")
    String device;

    @Option(names = "--tf32", description = "CUDA: let cuBLAS use TF32 tensor cores for the GEMMs (faster, ~1e-3 relative error)")
    boolean tf32;

    @Option(names = "--cuda-graph", defaultValue = "on", description = "CUDA: on (each training step replays one CUDA Graph) or off (kernels launched one by one); same results. Default: ${DEFAULT-VALUE}")
    String cudaGraph;

    @Option(names = "--limit", description = "use only the first N training and N/6 test examples (quick runs)")
    Integer limit;

    @Option(names = "--no-progress", description = "no progress bar")
    boolean noProgress;

    @Option(names = "--snapshot-epochs", split = ",", description = "save the test-set latent scatter after these epochs, e.g. 3,5,10,30,50,60, and a combined panel")
    java.util.List<Integer> snapshotEpochs;

    @Override
    public Integer call() {
        TrainConfig tc = opts.train();
        boolean graphs = Devices.onOff("--cuda-graph", cudaGraph);
        Warmup warm = warmup(tc);
        try {
            return train(tc, graphs, warm);
        } finally {
            if (warm != null) warm.close(2000);
        }
    }

    private Integer train(TrainConfig tc, boolean graphs, Warmup warm) {
        var out0 = spec.commandLine().getOut();
        Sets sets = sets(tc, out0);
        Dataset train = sets.train(), test = sets.test();
        if (limit != null) {
            io.jvae.InvalidInputException.require(limit > 0, "--limit must be > 0, got %d", limit);
            train = train.head(limit);
            test = test.head(Math.max(1, limit / 6));
        }
        ModelConfig mc = opts.model(train.dim(), train.classes());
        Path dir = out != null ? out : Path.of("runs", opts.presetValue().name().toLowerCase(Locale.ROOT));
        try (Backend be = Devices.open(device, tf32, System.err)) {
            out0.printf("model %s; %d train / %d test examples; %s%n", mc.summary(), train.n(), test.n(), be.describe());
            out0.printf("train %s%n", tc.toJson());
            out0.flush();
            if (warm != null) warm.stop(); // it ends at its next backend call, beside the training (which it cannot change)
            Trainer t = new Trainer(be, mc, tc, train, test, dir, new java.io.PrintStream(new WriterStream(out0), true))
                    .progress(!noProgress && io.jvae.train.Progress.enabled()).cudaGraphs(graphs).overwrite(overwrite).metadata(sets.meta());
            LatentSnapshots snaps = snapshotEpochs == null ? null : new LatentSnapshots(snapshotEpochs, test, dir, out0);
            if (snaps != null) t.listener(snaps);
            Trainer.Result r;
            try (StopSignals signals = StopSignals.install(System.err)) {
                r = t.stopWhen(signals).run(resume);
                if (r.interrupted() != null) {
                    String where = r.stepInEpoch() > 0
                            ? String.format(Locale.ROOT, "in epoch %d after %d of %d steps", r.epoch(), r.stepInEpoch(), r.stepsPerEpoch())
                            : String.format(Locale.ROOT, "after epoch %d", r.epoch() - 1);
                    out0.printf(Locale.ROOT, "interrupted by %s %s; the state is saved in %s: the same command with --resume "
                            + "continues from there%n", r.interrupted(), where, t.stateFile());
                    out0.flush();
                    return signals.exitCode();
                }
                if (signals.get() != null)
                    out0.printf("%s came during the last epoch's evaluation or checkpoint: the run finished before the stop took effect%n",
                            signals.get());
            }
            if (snaps != null) snaps.combine();
            out0.printf(Locale.ROOT, "best test loss %.4f at epoch %d%s; model: %s%n", r.bestLoss(), r.bestEpoch(),
                    r.stoppedEarly() ? " (early stop)" : "", r.model());
        }
        return Jvae.OK;
    }

    /**
     * The JIT warm-up that runs while the data loads ({@link Warmup}), when training will run on the
     * CPU: a model of the kind the options describe, on MNIST's 784 inputs (any input size compiles
     * the same code). Null when it would not help, or when the options are bad (the command then
     * says so itself, as it would without a warm-up).
     */
    private Warmup warmup(TrainConfig tc) {
        if (!Warmup.enabled()) return null;
        boolean cpu = "cpu".equals(device) || "auto".equals(device) && !io.jvae.backend.cuda.CudaProbe.available();
        if (!cpu) return null;
        try {
            return Warmup.start(opts.model(28 * 28, opts.conditional ? 10 : 0), tc);
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** The training and test sets, and the metadata every checkpoint of the run carries (the data's scaling). */
    private record Sets(Dataset train, Dataset test, Map<String, String> meta) {}

    /** MNIST (--data, the cache or a download), or the user's own files (--train). */
    private Sets sets(TrainConfig tc, java.io.PrintWriter out) {
        if (trainFile == null) {
            String given = testFile != null ? "--test" : labels != null ? "--labels" : testLabels != null ? "--test-labels"
                    : testSplit != null ? "--test-split" : scale != null ? "--scale" : dataOpts.any() ? "--array/--labels-array/--label-column" : null;
            InvalidInputException.require(given == null, "%s applies to your own data: add --train FILE", given);
            Mnist.Splits mnist = Mnist.resolveAndLoad(data, System.err);
            return new Sets(mnist.train(), mnist.test(), Map.of());
        }
        InvalidInputException.require(data == null, "--data (an MNIST directory) and --train (your file): give one");
        UserData.ForTraining u = UserData.forTraining(trainFile, labels, testFile, testLabels, dataOpts.options(), testSplit, tc.seed(),
                scale == null ? Scaling.Kind.NONE : Scaling.Kind.parse(scale), opts.likelihood(), opts.conditional);
        out.println(u.summary());
        return new Sets(u.train(), u.test(), Map.of(Scaling.META_KEY, u.scaling().toJson()));
    }
}

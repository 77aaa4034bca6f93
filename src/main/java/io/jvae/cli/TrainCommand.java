package io.jvae.cli;

import io.jvae.backend.Backend;
import io.jvae.data.Mnist;
import io.jvae.model.ModelConfig;
import io.jvae.train.TrainConfig;
import io.jvae.train.Trainer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train a VAE (or CVAE with --conditional) on MNIST; writes metrics and checkpoints into --out.")
final class TrainCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOptions opts = new ModelOptions();


    @Option(names = "--data", description = "directory with the MNIST IDX files (default: cache, fetched if missing)")
    Path data;

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
        var out0 = spec.commandLine().getOut();
        TrainConfig tc = opts.train();
        boolean graphs = Devices.onOff("--cuda-graph", cudaGraph);
        Mnist.Splits mnist = Mnist.resolveAndLoad(data, System.err);
        var train = mnist.train();
        var test = mnist.test();
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
            Trainer t = new Trainer(be, mc, tc, train, test, dir, new java.io.PrintStream(new WriterStream(out0), true))
                    .progress(!noProgress && io.jvae.train.Progress.enabled()).cudaGraphs(graphs).overwrite(overwrite);
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
}

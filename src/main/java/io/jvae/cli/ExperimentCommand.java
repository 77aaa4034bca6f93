package io.jvae.cli;

import io.jvae.InvalidInputException;
import io.jvae.backend.Backend;
import io.jvae.data.Mnist;
import io.jvae.model.ModelConfig;
import io.jvae.train.Checkpoint;
import io.jvae.train.EarlyStopping;
import io.jvae.train.EpochMetrics;
import io.jvae.train.MetricsLog;
import io.jvae.train.TrainConfig;
import io.jvae.train.Trainer;
import io.jvae.viz.ExperimentFigures;
import io.jvae.viz.ImageGrid;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "experiment", mixinStandardHelpOptions = true,
        description = "The slides' multi-run experiments. Each run has its own directory; finished runs are skipped and an interrupted one resumes, so a long experiment can be stopped and restarted.",
        subcommands = {ExperimentCommand.Repeat.class, ExperimentCommand.LatentSweep.class})
final class ExperimentCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The stop request of the running experiment's signals (SIGINT, SIGTERM): every run of it polls this. */
    private static volatile java.util.function.Supplier<String> stop = () -> null;

    /** A run stopped by a signal: the experiment ends there (its message is the one line to print). */
    static final class Interrupted extends RuntimeException {
        Interrupted(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * An experiment's body with SIGINT/SIGTERM caught for its length: a signal stops the running
     * training after its step with its state saved, and the experiment exits with 130 / 143.
     */
    static int withSignals(PrintWriter out, java.util.concurrent.Callable<Integer> body) throws Exception {
        try (StopSignals signals = StopSignals.install(System.err)) {
            stop = signals;
            try {
                return body.call();
            } catch (Interrupted e) {
                out.println(e.getMessage());
                out.flush();
                return signals.exitCode();
            } finally {
                stop = () -> null;
            }
        }
    }

    /** Options every experiment shares. */
    static final class Common {
        @Option(names = "--data") Path data;
        @Option(names = "--device", defaultValue = "auto") String device;
        @Option(names = "--limit", description = "first N training and N/6 test examples (quick runs)") Integer limit;
    }

    /**
     * Runs one training in dir unless a finished marker (done.json) is there; resumes an
     * interrupted run from its state.safetensors. Returns its metrics.
     */
    static List<EpochMetrics> runOnce(Backend be, ModelConfig mc, TrainConfig tc, Mnist.Splits data, Integer limit, Path dir,
                                      PrintWriter out, String label) {
        Path done = dir.resolve("done.json");
        if (Files.isRegularFile(done)) {
            // finished: skip, unless it ran fewer epochs than now asked for and did not stop early
            java.util.Map<String, Object> d;
            try {
                d = io.jvae.io.Json.parseObject(Files.readString(done));
            } catch (IOException e) {
                throw new InvalidInputException("cannot read " + done + ": " + e.getMessage());
            } catch (InvalidInputException e) {
                throw new InvalidInputException(done + ": " + e.getMessage());
            }
            boolean extend = !Boolean.TRUE.equals(d.get("early_stop")) && io.jvae.io.Json.getLong(d, "epochs") < tc.epochs();
            if (!extend) {
                out.println(label + ": finished earlier, skipped");
                return MetricsLog.read(dir.resolve("metrics.csv"));
            }
            out.println(label + ": finished " + d.get("epochs") + " epochs earlier, continuing to " + tc.epochs());
        }
        var train = data.train();
        var test = data.test();
        if (limit != null) {
            InvalidInputException.require(limit > 0, "--limit must be > 0, got %d", limit);
            train = train.head(limit);
            test = test.head(Math.max(1, limit / 6));
        }
        boolean resume = Files.isRegularFile(dir.resolve("state.safetensors"));
        out.println(label + (resume ? ": resuming" : ": training") + " (" + mc.summary() + ")");
        out.flush();
        java.io.PrintStream quiet = new java.io.PrintStream(new WriterStream(out), true);
        Trainer.Result r;
        try (Backend.Scope run = be.scope()) { // the run's device memory goes back when it ends (F3)
            // a run folder without a state file never finished an epoch: it starts over, as before
            r = new Trainer(be, mc, tc, train, test, dir, quiet).progress(false).overwrite(!resume).stopWhen(stop).run(resume);
        }
        if (r.interrupted() != null)
            throw new Interrupted(String.format(Locale.ROOT, "%s: interrupted by %s %s; the state is saved in %s: the same command "
                    + "continues (finished runs are skipped, this one resumes)", label, r.interrupted(),
                    r.stepInEpoch() > 0 ? "in epoch " + r.epoch() + " after " + r.stepInEpoch() + " of " + r.stepsPerEpoch() + " steps"
                            : "after epoch " + (r.epoch() - 1), dir.resolve("state.safetensors")));
        ModelInput.writeCsv(done, String.format(Locale.ROOT, "{\"best_test_loss\":%.6f,\"best_epoch\":%d,\"epochs\":%d,\"early_stop\":%b}%n",
                r.bestLoss(), r.bestEpoch(), r.history().size(), r.stoppedEarly())); // whole or not at all; a failure is one line, exit 1
        return r.history();
    }

    /** l2 * sum W^2 of the weights in dir/best.safetensors (the best epoch's), what Keras 2 adds to val_loss; NaN without that file. */
    static double l2PenaltyOfBest(Backend be, Path dir, float l2) {
        Path best = dir.resolve("best.safetensors");
        if (!Files.isRegularFile(best)) return Double.NaN;
        try (Backend.Scope load = be.scope()) {
            return l2 * Checkpoint.loadModel(best, be).sumOfSquaredWeights();
        }
    }

    /** "mean M, sd S, min X" (sample standard deviation). */
    static String summary(double[] v) {
        double mean = java.util.Arrays.stream(v).average().orElse(Double.NaN);
        double sd = Math.sqrt(java.util.Arrays.stream(v).map(b -> (b - mean) * (b - mean)).sum() / Math.max(1, v.length - 1));
        return String.format(Locale.ROOT, "mean %.3f, sd %.3f, min %.3f", mean, sd, java.util.Arrays.stream(v).min().orElse(Double.NaN));
    }

    static double best(List<EpochMetrics> h) {
        return h.stream().mapToDouble(m -> m.test().loss()).min().orElse(Double.NaN);
    }

    @Command(name = "repeat", mixinStandardHelpOptions = true,
            description = "The same model trained with N seeds: every run's curves faint, per-epoch means bold; best test loss mean, sd, min.")
    static final class Repeat implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--runs", defaultValue = "30") int runs;
        @Option(names = "--replay-patience", defaultValue = "5",
                description = "also report each run's best with early stopping at this patience, replayed on its curve (0 = off). Default: ${DEFAULT-VALUE}")
        int replayPatience;
        @Option(names = "--out", defaultValue = "runs/repeat") Path out;
        @Mixin ModelOptions opts = new ModelOptions();
        @Mixin Common common = new Common();

        @Override
        public Integer call() throws Exception {
            return withSignals(spec.commandLine().getOut(), this::experiment);
        }

        private Integer experiment() {
            InvalidInputException.require(runs >= 1 && runs <= 1000, "--runs must be in [1, 1000], got %d", runs);
            opts.defaultPreset = "seed";
            PrintWriter o = spec.commandLine().getOut();
            Mnist.Splits data = Mnist.resolveAndLoad(common.data, System.err);
            TrainConfig base = opts.train();
            ModelConfig mc = opts.model(data.train().dim(), data.train().classes());
            List<List<EpochMetrics>> all = new ArrayList<>();
            try (Backend be = Devices.open(common.device, System.err)) {
                for (int i = 1; i <= runs; i++) {
                    TrainConfig tc = base.withSeed(base.seed() + i - 1);
                    all.add(runOnce(be, mc, tc, data, common.limit, out.resolve(String.format(Locale.ROOT, "run-%02d", i)), o,
                            String.format(Locale.ROOT, "run %d/%d (seed %d)", i, runs, tc.seed())));
                }
            }
            double[] bests = all.stream().mapToDouble(ExperimentCommand::best).toArray();
            Path png = out.resolve("repeat.png");
            ImageGrid.write(ExperimentFigures.repeat(all, mc.summary()), png);
            StringBuilder csv = new StringBuilder("run,seed,best_test_loss,best_epoch" + (replayPatience > 0 ? ",replayed_best,replayed_best_epoch,replayed_stopped_after" : "") + "\n");
            double[] replayed = new double[bests.length];
            int[] stops = new int[bests.length];
            for (int i = 0; i < bests.length; i++) {
                List<EpochMetrics> h = all.get(i);
                int be = h.stream().min(java.util.Comparator.comparingDouble(m -> m.test().loss())).map(EpochMetrics::epoch).orElse(0);
                csv.append(String.format(Locale.ROOT, "%d,%d,%.4f,%d", i + 1, base.seed() + i, bests[i], be));
                if (replayPatience > 0) {
                    EarlyStopping.Outcome r = EarlyStopping.replay(h, replayPatience);
                    replayed[i] = r.best();
                    stops[i] = r.stoppedAfter();
                    csv.append(String.format(Locale.ROOT, ",%.4f,%d,%d", r.best(), r.bestEpoch(), r.stoppedAfter()));
                }
                csv.append('\n');
            }
            ModelInput.writeCsv(out.resolve("repeat.csv"), csv.toString());
            o.printf(Locale.ROOT, "%d runs: best test loss %s; wrote %s%n", runs, summary(bests), png);
            if (replayPatience > 0) {
                long ranOut = java.util.Arrays.stream(stops).filter(e -> e == 0).count();
                int[] st = java.util.Arrays.stream(stops).filter(e -> e > 0).sorted().toArray();
                o.printf(Locale.ROOT, "the same runs with early stopping (patience %d, replayed on each curve): best %s; "
                                + "stopped after epoch %s (median), %d of %d ran out of epochs first%n", replayPatience, summary(replayed),
                        st.length == 0 ? "-" : Integer.toString(st[st.length / 2]), ranOut, runs);
            }
            return Jvae.OK;
        }
    }

    @Command(name = "latent-sweep", mixinStandardHelpOptions = true,
            description = "Latent sizes trained with early stopping (patience P, at most --epochs) and for a fixed --epochs; a figure per variant and a table of best test losses.")
    static final class LatentSweep implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--latents", split = ",", defaultValue = "2,3,5,10,15,20") List<Integer> latents;
        @Option(names = "--sweep-patience", defaultValue = "5", description = "patience of the early-stopping variant. Default: ${DEFAULT-VALUE}") int sweepPatience;
        @Option(names = "--variants", split = ",", defaultValue = "early,fixed", description = "early, fixed or both. Default: ${DEFAULT-VALUE}") List<String> variants;
        @Option(names = "--out", defaultValue = "runs/latent-sweep") Path out;
        @Mixin ModelOptions opts = new ModelOptions();
        @Mixin Common common = new Common();

        @Override
        public Integer call() throws Exception {
            return withSignals(spec.commandLine().getOut(), this::experiment);
        }

        private Integer experiment() {
            opts.defaultPreset = "seed";
            if (opts.epochs == null) opts.epochs = 70;
            for (String v : variants) InvalidInputException.require(v.equals("early") || v.equals("fixed"), "--variants: early or fixed, got '%s'", v);
            InvalidInputException.require(sweepPatience > 0, "--sweep-patience must be > 0, got %d", sweepPatience);
            PrintWriter o = spec.commandLine().getOut();
            Mnist.Splits data = Mnist.resolveAndLoad(common.data, System.err);
            TrainConfig base = opts.train();
            Map<String, Map<Integer, List<EpochMetrics>>> results = new LinkedHashMap<>();
            Map<String, Double> penalty = new LinkedHashMap<>(); // "variant/latent" -> l2 * sum W^2 of the best epoch's weights
            try (Backend be = Devices.open(common.device, System.err)) {
                for (String v : variants) {
                    Map<Integer, List<EpochMetrics>> byLatent = new LinkedHashMap<>();
                    for (int lat : latents) {
                        opts.latent = lat;
                        ModelConfig mc = opts.model(data.train().dim(), data.train().classes());
                        TrainConfig tc = base.withPatience(v.equals("early") ? sweepPatience : 0);
                        Path dir = out.resolve(v).resolve(String.format(Locale.ROOT, "latent-%02d", lat));
                        byLatent.put(lat, runOnce(be, mc, tc, data, common.limit, dir, o, v + " latent " + lat));
                        if (tc.l2() > 0) penalty.put(v + "/" + lat, l2PenaltyOfBest(be, dir, tc.l2()));
                    }
                    results.put(v, byLatent);
                    String title = v.equals("early")
                            ? "Test loss per epoch, early stopping (patience " + sweepPatience + ", at most " + base.epochs() + " epochs)"
                            : "Test loss per epoch, fixed " + base.epochs() + " epochs";
                    Path png = out.resolve("latent-sweep-" + v + ".png");
                    ImageGrid.write(ExperimentFigures.sweep(byLatent, title), png);
                    o.println("wrote " + png);
                }
            }
            // the fixed runs replayed with the sweep's patience: what early stopping gives on the same trajectory
            boolean replay = variants.contains("fixed");
            StringBuilder md = new StringBuilder("| latent |");
            boolean l2 = base.l2() > 0;
            for (String v : variants) {
                md.append(v.equals("early") ? " best test loss, early stopping (stopped at epoch) |" : " best test loss, " + base.epochs() + " epochs (at epoch) |");
                if (l2) md.append(" the same + L2 penalty (Keras 2's val_loss) |");
            }
            if (replay) md.append(" the fixed run with patience ").append(sweepPatience).append(" replayed: best (stopped after) |");
            md.append("\n|---|");
            md.append("---|".repeat(variants.size() * (l2 ? 2 : 1) + (replay ? 1 : 0))).append('\n');
            StringBuilder csv = new StringBuilder("variant,latent,best_test_loss,best_epoch,epochs_run,l2_penalty_at_best\n");
            for (int lat : latents) {
                md.append("| ").append(lat).append(" |");
                for (String v : variants) {
                    List<EpochMetrics> h = results.get(v).get(lat);
                    EpochMetrics b = h.stream().min(java.util.Comparator.comparingDouble(m -> m.test().loss())).orElseThrow();
                    md.append(String.format(Locale.ROOT, " %.2f (%s %d) |", b.test().loss(), v.equals("early") ? "stopped" : "best at", v.equals("early") ? h.size() : b.epoch()));
                    double pen = penalty.getOrDefault(v + "/" + lat, 0.0);
                    if (l2) md.append(String.format(Locale.ROOT, " %.2f (+%.2f) |", b.test().loss() + pen, pen));
                    csv.append(String.format(Locale.ROOT, "%s,%d,%.4f,%d,%d,%.6f%n", v, lat, b.test().loss(), b.epoch(), h.size(), pen));
                }
                if (replay) {
                    EarlyStopping.Outcome r = EarlyStopping.replay(results.get("fixed").get(lat), sweepPatience);
                    md.append(String.format(Locale.ROOT, " %.2f (%s) |", r.best(), r.stoppedAfter() > 0 ? Integer.toString(r.stoppedAfter()) : "ran out"));
                    csv.append(String.format(Locale.ROOT, "fixed-replayed-patience-%d,%d,%.4f,%d,%d,%s%n", sweepPatience, lat, r.best(), r.bestEpoch(),
                            r.stoppedAfter() > 0 ? r.stoppedAfter() : results.get("fixed").get(lat).size(), l2 ? "NaN" : "0.000000")); // no checkpoint of that epoch
                }
                md.append('\n');
            }
            ModelInput.writeCsv(out.resolve("latent-sweep.csv"), csv.toString());
            ModelInput.writeCsv(out.resolve("latent-sweep.md"), md.toString());
            o.print(md);
            return Jvae.OK;
        }
    }
}

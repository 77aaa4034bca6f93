package io.jvae.train;

import io.jvae.InvalidInputException;
import io.jvae.backend.Backend;
import io.jvae.backend.Indices;
import io.jvae.backend.Tensor;
import io.jvae.data.Dataset;
import io.jvae.model.ModelConfig;
import io.jvae.model.Vae;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The epoch loop. Data lives on the backend (uploaded once); each epoch shuffles the examples;
 * a step ({@link TrainingSteps}) gathers its batch, optionally binarizes it, runs the ELBO step and
 * one optimizer update, on CUDA as one CUDA Graph replay unless graphs are turned off. The loss
 * sums stay on the backend: every {@link #CHECK_EVERY} steps a readback of them starts without
 * waiting and is used once it has landed (progress and divergence check). On a GPU the host may be
 * tens of steps ahead of the device, so the progress bar and a divergence show some steps late;
 * the end of each epoch reads the sums in full before any checkpoint is written, so a divergence
 * is never saved as a state.
 *
 * <p>Early stopping (patience P > 0): after each epoch the test loss is compared with the best so
 * far; a strictly lower loss is a new best (its parameters are kept, best.safetensors written).
 * Training stops after epoch e when e - bestEpoch >= P, i.e. after P epochs in a row without a
 * new best (Keras' EarlyStopping with min_delta 0), and the best parameters are restored.
 *
 * <p>Files in the run directory: metrics.csv, metrics.jsonl (one row per epoch), state.safetensors
 * (everything --resume needs, rewritten atomically after every epoch), best.safetensors, and at
 * the end model.safetensors (the restored best with early stopping, else the last parameters).
 */
public final class Trainer {
    public static final int CHECK_EVERY = 20;

    /** Called after each epoch (figures, snapshots). */
    public interface Listener {
        void epochEnd(int epoch, Vae vae, EpochMetrics metrics);
    }

    /**
     * What a run gave. interrupted: null, or why it stopped before its end (the stop request's
     * reason, e.g. "SIGINT"); the state file then holds where it stopped and model is null.
     */
    public record Result(Vae vae, List<EpochMetrics> history, int bestEpoch, double bestLoss, boolean stoppedEarly,
                         Path model, String interrupted, int epoch, int stepInEpoch, int stepsPerEpoch) {}

    private final Backend be;
    private final ModelConfig mc;
    private final TrainConfig tc;
    private final Dataset train, test;
    private final Path out;
    private final PrintStream log;
    private boolean showProgress = Progress.enabled();
    private boolean cudaGraphs = true;
    private boolean overwrite;
    private Listener listener = (e, v, m) -> {};
    private java.util.function.Supplier<String> stopRequest = () -> null;
    private Map<String, String> extraMeta = Map.of();

    public Trainer(Backend be, ModelConfig mc, TrainConfig tc, Dataset train, Dataset test, Path out, PrintStream log) {
        this.be = be;
        this.mc = mc;
        this.tc = tc;
        this.train = train;
        this.test = test;
        this.out = out;
        this.log = log;
        InvalidInputException.require(train.dim() == mc.inputDim(), "training data has %d features per example, the model expects %d", train.dim(), mc.inputDim());
        InvalidInputException.require(test.dim() == mc.inputDim(), "test data has %d features per example, the model expects %d", test.dim(), mc.inputDim());
        InvalidInputException.require(train.n() > 0 && test.n() > 0, "empty dataset (train %d, test %d examples)", train.n(), test.n());
    }

    public Trainer listener(Listener l) {
        this.listener = l;
        return this;
    }

    /** Whether a new run may replace a run already in the output folder (else that is refused: --resume or --overwrite). */
    public Trainer overwrite(boolean on) {
        this.overwrite = on;
        return this;
    }

    /** Whether CUDA training replays each step as a CUDA Graph (default) or launches call by call. */
    public Trainer cudaGraphs(boolean on) {
        this.cudaGraphs = on;
        return this;
    }

    /**
     * Asked after every step: a non-null answer (the reason, e.g. "SIGTERM") ends the run after that
     * step with the state saved where it stopped (inside the epoch: --resume continues from that very
     * step, bit for bit on the same backend), and run() returns with Result.interrupted set.
     */
    public Trainer stopWhen(java.util.function.Supplier<String> request) {
        this.stopRequest = request;
        return this;
    }

    /**
     * Metadata written into every checkpoint and state of the run (the data's scaling,
     * {@code jvae.scaling}); --resume refuses a state file whose entries differ.
     */
    public Trainer metadata(Map<String, String> meta) {
        this.extraMeta = Map.copyOf(meta);
        return this;
    }

    /** The run's extra metadata with the epoch of a model file. */
    private Map<String, String> modelMeta(int epoch) {
        Map<String, String> m = new java.util.LinkedHashMap<>(extraMeta);
        m.put("jvae.epoch", Integer.toString(epoch));
        return m;
    }

    public Trainer progress(boolean show) {
        this.showProgress = show;
        return this;
    }

    public Path stateFile() {
        return out.resolve("state.safetensors");
    }

    public Result run(boolean resume) {
        try (RunLock lock = RunLock.acquire(out)) { // one process at a time in a run folder
            return runLocked(resume);
        }
    }

    private Result runLocked(boolean resume) {
        prepareOutDir();
        if (!resume && !overwrite) refuseToOverwrite();
        Run r = new Run();
        if (resume) r.restore();
        else r.start();
        return r.loop();
    }

    /**
     * One run's state: the model and optimizer, the data on the backend, the loop position and the
     * early-stopping record. start() or restore() sets it up, loop() trains epoch after epoch;
     * each epoch is trainEpoch() (the steps; a stop request inside it saves the state where it is)
     * then endEpoch() (evaluation, metrics, checkpoints, the listener, early stopping).
     */
    private final class Run {
        final Vae vae;
        final Optimizer opt;
        final Evaluator evaluator;
        final DeviceData dTrain, dTest;
        final Tensor stats;
        final LossSums sums;
        final MetricsLog metrics = new MetricsLog(out);
        final List<EpochMetrics> history = new ArrayList<>();
        final int n, bmax, stepsPerEpoch;
        int startEpoch = 1;
        long step;
        double bestLoss = Double.POSITIVE_INFINITY;
        int bestEpoch;
        float[] best;
        Checkpoint.State partial; // a state saved inside an epoch: that epoch continues

        // the epoch being trained
        long t0;
        float beta;
        double[] hs = new double[3];

        Run() {
            int batch = Math.min(tc.batch(), Math.max(train.n(), test.n()));
            double need = MemoryPlan.trainingBytes(mc, tc, batch, train.n(), test.n(), be.sharesHostArrays());
            MemoryPlan.checkFor(be, need, "training " + mc.summary() + " at batch " + batch);
            vae = new Vae(be, mc);
            vae.workspace(batch, tc.samples());
            opt = new Optimizer(vae, tc);
            evaluator = new Evaluator(vae);
            dTrain = new DeviceData(be, train, mc.classes());
            dTest = new DeviceData(be, test, mc.classes());
            stats = be.alloc(4, 1);
            sums = new LossSums(be, stats);
            n = train.n();
            bmax = vae.maxBatch();
            stepsPerEpoch = (n + bmax - 1) / bmax;
        }

        void start() {
            vae.initParams(Seeds.derive(tc.seed(), Seeds.INIT));
            metrics.open(0);
        }

        void restore() {
            if (!Files.isRegularFile(stateFile()))
                throw new InvalidInputException("--resume: no " + stateFile() + " (nothing to resume; drop --resume to start)");
            Checkpoint.Restored r = Checkpoint.loadState(stateFile(), vae, opt);
            for (var e : extraMeta.entrySet())
                if (!e.getValue().equals(r.metadata().get(e.getKey())))
                    throw new InvalidInputException("--resume: the run in " + out + " was saved with another " + e.getKey()
                            + " (other data or options); resume with the same data and options, or start over with --overwrite");
            if (!r.train().withEpochs(tc.epochs()).equals(tc))
                throw new InvalidInputException("--resume: the run in " + out + " used other settings (" + r.train().toJson()
                        + "); only --epochs may change");
            startEpoch = r.state().epoch() + 1;
            if (r.state().midEpoch()) partial = r.state();
            step = r.state().step();
            bestLoss = r.state().bestLoss();
            bestEpoch = r.state().bestEpoch();
            best = r.best();
            if (partial != null && partial.stepInEpoch() >= stepsPerEpoch)
                throw new InvalidInputException(stateFile() + ": stopped after step " + partial.stepInEpoch() + " of an epoch of " + stepsPerEpoch + " steps");
            if (partial != null && startEpoch > tc.epochs()) // the loop would not run: the partial epoch's steps would end up in the model
                throw new InvalidInputException(String.format(Locale.ROOT, "--resume: the run stopped inside epoch %d; --epochs must be at least %d, got %d",
                        startEpoch, startEpoch, tc.epochs()));
            for (EpochMetrics m : MetricsLog.readLenient(metrics.csv)) if (m.epoch() < startEpoch) history.add(m);
            metrics.open(startEpoch - 1);
            if (partial != null)
                log.printf(Locale.ROOT, "resuming %s inside epoch %d after its step %d (step %d, best test loss %.4f at epoch %d)%n",
                        out, startEpoch, partial.stepInEpoch(), step, bestLoss, bestEpoch);
            else
                log.printf(Locale.ROOT, "resuming %s after epoch %d (step %d, best test loss %.4f at epoch %d)%n",
                        out, startEpoch - 1, step, bestLoss, bestEpoch);
            String now = Checkpoint.numerics(be);
            if (r.backend() != null && !r.backend().equals(now))
                log.printf(Locale.ROOT, "resuming on %s; the run so far was on %s: it continues correctly, but not bit for bit%n", now, r.backend());
        }

        Result loop() {
            long noiseSeed = Seeds.derive(tc.seed(), Seeds.NOISE), binSeed = Seeds.derive(tc.seed(), Seeds.BINARIZE);
            boolean stopped = EarlyStopping.stops(startEpoch - 1, bestEpoch, tc.patience());
            try (TrainingSteps steps = new TrainingSteps(vae, opt, tc, dTrain.x, dTrain.oneHot, stats, noiseSeed, binSeed, cudaGraphs)) {
                for (int epoch = startEpoch; epoch <= tc.epochs() && !stopped; epoch++) {
                    Result interrupted = trainEpoch(steps, epoch);
                    if (interrupted == null) interrupted = endEpoch(epoch);
                    if (interrupted != null) return interrupted;
                    stopped = EarlyStopping.stops(epoch, bestEpoch, tc.patience());
                    if (stopped)
                        log.printf(Locale.ROOT, "early stop after epoch %d: no better test loss for %d epochs; restoring epoch %d (%.4f)%n",
                                epoch, tc.patience(), bestEpoch, bestLoss);
                }
            } // the step graphs and their buffers go, also when training fails
            if (tc.patience() > 0 && best != null) be.upload(best, 0, vae.params.values);
            Path model = out.resolve("model.safetensors");
            int lastEpoch = history.isEmpty() ? 0 : history.get(history.size() - 1).epoch();
            Checkpoint.saveModel(model, vae, modelMeta(tc.patience() > 0 ? bestEpoch : lastEpoch));
            return new Result(vae, history, bestEpoch, bestLoss, stopped, model, null, lastEpoch, 0, stepsPerEpoch);
        }

        /** The steps of one epoch (from where an interrupted one stopped); the interrupted Result if a stop was asked for. */
        Result trainEpoch(TrainingSteps steps, int epoch) {
            int s0 = partial != null ? partial.stepInEpoch() : 0;
            // t0 as if the epoch's earlier seconds (before an interruption) had just passed
            t0 = System.nanoTime() - (partial != null ? (long) (partial.seconds() * 1e9) : 0);
            steps.epoch(Seeds.permutation(tc.seed(), epoch, n));
            if (partial != null) sums.restore(partial.epochSums(), partial.chunk(), s0 / CHECK_EVERY * CHECK_EVERY);
            else sums.reset();
            partial = null;
            beta = tc.beta();
            opt.setLearningRate(tc.lrAt(epoch)); // the schedule's rate: every step of the epoch (replayed ones read it from the step block)
            try (Progress bar = Progress.start(String.format(Locale.ROOT, "epoch %d/%d", epoch, tc.epochs()), stepsPerEpoch, showProgress)) {
                for (int s = s0; s < stepsPerEpoch; s++) {
                    int start = s * bmax, b = Math.min(bmax, n - start);
                    beta = tc.betaAt(epoch - 1 + (double) s / stepsPerEpoch);
                    steps.step(step, start, b, beta);
                    step++;
                    if ((s + 1) % CHECK_EVERY == 0 && s < stepsPerEpoch - 1) {
                        sums.flush(s + 1); // a readback that lands without the host waiting (on the CPU at once)
                        int landed = sums.poll();
                        if (landed > 0) report(bar, epoch, landed, stepsPerEpoch, sums.landed(), n, bmax, t0);
                    }
                    String why = s < stepsPerEpoch - 1 ? stopRequest.get() : null; // after the last step: at the epoch's end
                    if (why != null) return stopInside(epoch, s + 1, why);
                }
                sums.flush(stepsPerEpoch);
                hs = sums.await(); // the epoch's sums in double (waits: once per epoch)
                report(bar, epoch, stepsPerEpoch, stepsPerEpoch, hs, n, bmax, t0);
            }
            return null;
        }

        /** A stop asked for after `done` steps of the epoch: the state saved there (never a diverged one). */
        Result stopInside(int epoch, int done, String why) {
            LossSums.Snapshot snap = sums.snapshot();
            double[] run = snap.done();
            Losses sofar = Losses.of(run[0] + snap.chunk()[0], run[1] + snap.chunk()[1], done * bmax);
            if (!sofar.finite()) throw diverged(epoch, done, stepsPerEpoch, sofar);
            if (tc.objective() == TrainConfig.Objective.IWAE && !Double.isFinite(run[2] + snap.chunk()[2]))
                throw diverged(epoch, done, stepsPerEpoch, new Losses((run[2] + snap.chunk()[2]) / (done * bmax), sofar.recon(), sofar.kl()));
            requireFolder(); // the state alone in a re-created folder would be a run without its metrics
            Checkpoint.saveState(stateFile(), vae, opt, best, tc, new Checkpoint.State(epoch - 1, step, bestLoss, bestEpoch,
                    done, run, snap.chunk(), (System.nanoTime() - t0) / 1e9), extraMeta);
            return new Result(vae, history, bestEpoch, bestLoss, false, null, why, epoch, done, stepsPerEpoch);
        }

        /**
         * The end of an epoch: test loss, metrics row, best and state checkpoints, the log line, the
         * listener; then a stop request (the interrupted Result, unless early stopping ends the run here).
         */
        Result endEpoch(int epoch) {
            double seconds = (System.nanoTime() - t0) / 1e9;
            Losses trainLoss = Losses.of(hs[0], hs[1], n);
            Losses testLoss = evaluator.evaluate(dTest, Seeds.derive(tc.seed(), Seeds.EVAL), tc.binarize());
            if (!testLoss.finite()) throw diverged(epoch, stepsPerEpoch, stepsPerEpoch, testLoss);
            EpochMetrics m = new EpochMetrics(epoch, trainLoss, testLoss, beta, seconds, n / seconds, opt.learningRate());
            metrics.append(m);
            history.add(m);
            boolean improved = testLoss.loss() < bestLoss;
            if (improved) {
                bestLoss = testLoss.loss();
                bestEpoch = epoch;
                if (best == null) best = new float[vae.params.total];
                be.download(vae.params.values, best, 0);
                Checkpoint.saveModel(out.resolve("best.safetensors"), vae, modelMeta(epoch));
            }
            Checkpoint.saveState(stateFile(), vae, opt, best, tc, new Checkpoint.State(epoch, step, bestLoss, bestEpoch), extraMeta);
            log.printf(Locale.ROOT, "epoch %3d  train %.4f (rec %.4f kl %.4f)%s  test %.4f (rec %.4f kl %.4f)%s  %.1fs  %.0f samples/s%n",
                    epoch, trainLoss.loss(), trainLoss.recon(), trainLoss.kl(),
                    tc.objective() == TrainConfig.Objective.IWAE ? String.format(Locale.ROOT, " iwae(k=%d) %.4f", tc.samples(), hs[2] / n) : "",
                    testLoss.loss(), testLoss.recon(), testLoss.kl(), improved ? " *" : "  ", seconds, n / seconds);
            listener.epochEnd(epoch, vae, m);
            String why = epoch < tc.epochs() ? stopRequest.get() : null; // after the listener: its figures are part of the epoch
            if (why != null && !EarlyStopping.stops(epoch, bestEpoch, tc.patience()))
                return new Result(vae, history, bestEpoch, bestLoss, false, null, why, epoch + 1, 0, stepsPerEpoch);
            return null;
        }
    }

    /** Progress and the divergence check from the loss sums after `done` steps of an epoch. */
    private void report(Progress bar, int epoch, int done, int steps, double[] sums, int n, int bmax, long t0) {
        int seen = Math.min(n, done * bmax);
        Losses run = Losses.of(sums[0], sums[1], seen);
        if (!run.finite()) throw diverged(epoch, done, steps, run);
        if (tc.objective() == TrainConfig.Objective.IWAE && !Double.isFinite(sums[2]))
            throw diverged(epoch, done, steps, new Losses(sums[2] / seen, run.recon(), run.kl())); // the loss IWAE trains on
        double sec = (System.nanoTime() - t0) / 1e9;
        bar.stepTo(done, String.format(Locale.ROOT, "loss %.2f  %.0f samples/s", run.loss(), seen / sec));
    }

    private TrainingDiverged diverged(int epoch, int step, int steps, Losses l) {
        Path keep = Files.isRegularFile(stateFile()) ? stateFile() : null;
        return new TrainingDiverged(String.format(Locale.ROOT,
                "training diverged: loss %s (recon %s, KL %s) at epoch %d, step %d of %d; %s; try a lower --lr (now %s)",
                l.loss(), l.recon(), l.kl(), epoch, step, steps,
                keep == null ? "no checkpoint was written yet" : "the last good checkpoint is " + keep + " (resume with --resume)",
                tc.lr()));
    }

    /** A new run into a folder that holds one (a checkpoint or metrics) would silently replace it: refused, one line. */
    private void refuseToOverwrite() {
        boolean finished = Files.isRegularFile(out.resolve("model.safetensors"));
        if (!finished && !Files.isRegularFile(stateFile()) && !Files.isRegularFile(out.resolve("metrics.csv"))) return;
        int epochs = 0;
        try {
            epochs = MetricsLog.readLenient(out.resolve("metrics.csv")).size();
        } catch (RuntimeException ignored) {
            // unreadable metrics: the run is there all the same
        }
        throw new InvalidInputException(String.format(Locale.ROOT, "%s holds a %s run (%d epoch%s): --resume continues it, --overwrite starts over",
                out, finished ? "finished" : "partial", epochs, epochs == 1 ? "" : "s"));
    }

    /** The run folder removed while the run was going: the write would re-create it half empty; one line instead. */
    private void requireFolder() {
        if (!Files.isDirectory(out))
            throw io.jvae.io.AtomicFiles.failure("writing", stateFile(), new java.nio.file.NoSuchFileException(out.toString()));
    }

    private void prepareOutDir() {
        try {
            Files.createDirectories(out);
            Path probe = Files.createTempFile(out, ".write-test", ".tmp");
            Files.delete(probe);
            // temp files of a write that a kill interrupted (Safetensors.write: ".NAME.*.tmp"); the real files are intact
            try (var s = Files.list(out)) {
                for (Path f : (Iterable<Path>) s::iterator) {
                    String n = f.getFileName().toString();
                    if (n.startsWith(".") && n.endsWith(".tmp") && n.contains(".safetensors.")) Files.deleteIfExists(f);
                }
            }
        } catch (IOException | SecurityException e) {
            throw new InvalidInputException("output directory " + out + " cannot be written: " + e.getMessage());
        }
    }
}

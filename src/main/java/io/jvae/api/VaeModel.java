package io.jvae.api;

import io.jvae.InvalidInputException;
import io.jvae.backend.Backend;
import io.jvae.backend.Philox;
import io.jvae.data.Dataset;
import io.jvae.eval.ImportanceSampling;
import io.jvae.eval.Inference;
import io.jvae.io.AtomicFiles;
import io.jvae.model.Likelihood;
import io.jvae.model.ModelConfig;
import io.jvae.model.Vae;
import io.jvae.train.Checkpoint;
import io.jvae.train.DeviceData;
import io.jvae.train.Evaluator;
import io.jvae.train.Losses;
import io.jvae.train.MemoryPlan;
import io.jvae.train.Seeds;
import io.jvae.train.TrainConfig;
import io.jvae.train.Trainer;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A VAE (Kingma and Welling 2014) or conditional VAE on a device: built by {@link #builder()} and
 * trained by {@link #fit}, or {@link #load loaded} from a checkpoint. Examples are rows: a
 * {@code float[n][inputSize]} holds n examples; labels (a conditional model's classes) are an
 * {@code int[n]}. Results come back as rows too.
 *
 * <p>The model holds its device (for CUDA, GPU memory) until {@link #close()}: use it in a
 * try-with-resources block. One thread at a time: the model is not thread-safe. Bad arguments
 * throw {@link InvalidInputException} (an IllegalArgumentException) with one line naming the
 * argument, the row and the numbers; a closed model throws IllegalStateException.
 */
public final class VaeModel implements AutoCloseable {
    /** Rows per pass of encode, decode, reconstruct (as the CLI's sample, encode, interpolate). */
    static final int INFERENCE_BATCH = 1024;
    /** Examples per pass of evaluate (as {@code jvae eval --batch}'s default). */
    static final int EVAL_BATCH = 1000;
    /** The most samples of z one pass of score holds per example (as {@code jvae score}). */
    static final int SCORE_CHUNK = 100;

    /** How fit runs: the run folder and its flags, the epoch callback, the log. */
    record Run(Path folder, boolean resume, boolean overwrite, Consumer<Epoch> onEpoch, PrintStream log) {}

    private final Backend be;
    private final ModelConfig mc;
    private final TrainConfig tc; // null for a loaded model: it has no training settings
    private final Run run;
    private final Vae vae;        // its parameters and workspace live outside every allocation scope
    private boolean closed;

    VaeModel(Backend be, ModelConfig mc, TrainConfig tc, Run run) {
        this.be = be;
        this.mc = mc;
        this.tc = tc;
        this.run = run;
        this.vae = new Vae(be, mc);
        vae.initParams(Seeds.derive(tc.seed(), Seeds.INIT)); // what the Trainer starts from
    }

    private VaeModel(Backend be, Vae loaded) {
        this.be = be;
        this.mc = loaded.cfg;
        this.tc = null;
        this.run = null;
        this.vae = loaded;
    }

    /** A builder that starts from the {@code pytorch} preset. */
    public static VaeBuilder builder() {
        return new VaeBuilder();
    }

    /** A checkpoint (.safetensors, as fit, {@link #save} and {@code jvae train} write) on device {@code auto}. */
    public static VaeModel load(Path checkpoint) {
        return load(checkpoint, "auto", new PrintStream(OutputStream.nullOutputStream()));
    }

    /** A checkpoint on a device (auto, cpu, cuda, cuda:N). */
    public static VaeModel load(Path checkpoint, String device) {
        return load(checkpoint, device, new PrintStream(OutputStream.nullOutputStream()));
    }

    /**
     * A checkpoint on a device, with the device line of {@code auto} on {@code log}. The loaded
     * model infers, scores and saves; it has no training settings, so it cannot {@link #fit}.
     *
     * @throws InvalidInputException a missing, corrupt or foreign file, or a device that cannot be used
     */
    public static VaeModel load(Path checkpoint, String device, PrintStream log) {
        InvalidInputException.require(checkpoint != null, "checkpoint is null");
        Backend be = io.jvae.backend.cuda.Devices.open("device", device, false, log);
        try {
            return new VaeModel(be, Checkpoint.loadModel(checkpoint, be));
        } catch (RuntimeException | Error e) {
            be.close();
            throw e;
        }
    }

    // ---- what it is ----

    /** Values per example, D. */
    public int inputSize() {
        return mc.inputDim();
    }

    /** Latent size, L. */
    public int latentSize() {
        return mc.latent();
    }

    /** Classes of a conditional model; 0 for a plain VAE. */
    public int classes() {
        return mc.classes();
    }

    /** The architecture in one line, e.g. "64-32-3 relu, bernoulli decoder". */
    public String describe() {
        return mc.summary();
    }

    /** What runs the math, e.g. "cpu: 2 threads, GEMM ..." or "cuda:0 ...". */
    public String device() {
        requireOpen();
        return be.describe();
    }

    // ---- training ----

    /** fit on the rows of x (a plain VAE), validated on the same rows. */
    public FitResult fit(float[][] x) {
        return fit(x, null, null, null);
    }

    /** fit on x with its labels (needed by a conditional model, ignored by a plain one), validated on the same rows. */
    public FitResult fit(float[][] x, int[] labels) {
        return fit(x, labels, null, null);
    }

    /**
     * Trains from the initial parameters (the builder's seed), replacing the current ones, with the
     * builder's settings; the validation loss of every epoch decides early stopping and the best
     * epoch. xVal null: the training rows serve as validation rows. Afterwards the model holds the
     * last epoch's parameters (the best epoch's with patience). A second fit trains afresh, or,
     * with a run folder and resume, continues the saved run.
     *
     * @throws InvalidInputException bad rows or labels, a run folder that holds a run (without resume
     *                               or overwrite), or a resume whose settings differ from the run's
     * @throws IllegalStateException a loaded model (it has no training settings) or a closed one
     * @throws io.jvae.train.TrainingDiverged the loss became NaN or infinite (try a lower learning rate)
     */
    public FitResult fit(float[][] x, int[] labels, float[][] xVal, int[] labelsVal) {
        requireTrainable();
        boolean unit = unitRange();
        float[] flat = Rows.flatten("x", x, mc.inputDim(), "input size", unit);
        Dataset train = Rows.dataset("training data", flat, mc.inputDim(), Rows.labels("labels", labels, x.length, mc.classes()), mc.classes());
        Dataset val = null;
        if (xVal != null) {
            float[] fv = Rows.flatten("xVal", xVal, mc.inputDim(), "input size", unit);
            val = Rows.dataset("validation data", fv, mc.inputDim(), Rows.labels("labelsVal", labelsVal, xVal.length, mc.classes()), mc.classes());
        }
        return train(train, val);
    }

    /** fit on a Dataset (x in [0, 1] for a Bernoulli decoder), validated on {@code validation}, or on train when that is null. */
    public FitResult fit(Dataset train, Dataset validation) {
        requireTrainable();
        Dataset tr = Rows.dataset("training data", train, mc.inputDim(), mc.classes(), unitRange());
        Dataset va = validation == null ? null : Rows.dataset("validation data", validation, mc.inputDim(), mc.classes(), unitRange());
        return train(tr, va);
    }

    private FitResult train(Dataset train, Dataset validation) {
        Path dir = run.folder();
        boolean temporary = dir == null;
        try {
            if (temporary) dir = Files.createTempDirectory("jvae-fit-");
        } catch (IOException e) {
            throw new UncheckedIOException("fit: cannot create a temporary run folder: " + e.getMessage(), e);
        }
        try (Backend.Scope s = be.scope()) { // the run's device memory goes back when it ends; the parameters are copied out first
            Trainer t = new Trainer(be, mc, tc, train, validation != null ? validation : train, dir, run.log())
                    .progress(false).overwrite(run.overwrite() || temporary)
                    .listener((epoch, v, m) -> run.onEpoch().accept(Epoch.of(m)));
            Trainer.Result r = t.run(run.resume());
            vae.copyParamsFrom(r.vae());
            List<Epoch> history = r.history().stream().map(Epoch::of).toList();
            return new FitResult(history, r.bestEpoch(), r.bestLoss(), r.stoppedEarly(), temporary ? null : r.model());
        } finally {
            if (temporary) AtomicFiles.deleteTree(dir);
        }
    }

    // ---- inference ----

    /** The posterior q(z|x) of each row of a plain VAE. */
    public Posterior encode(float[][] x) {
        return encode(x, null);
    }

    /** The posterior q(z|x, label) of each row: means and log-variances, (n, latent) each. */
    public Posterior encode(float[][] x, int[] labels) {
        requireOpen();
        float[] flat = Rows.flatten("x", x, mc.inputDim(), "input size", false);
        float[][] q = encodeFlat(flat, x.length, Rows.labels("labels", labels, x.length, mc.classes()));
        return new Posterior(Rows.unflatten(q[0], x.length, mc.latent()), Rows.unflatten(q[1], x.length, mc.latent()));
    }

    /** The posterior of every example of a Dataset (its labels for a conditional model). */
    public Posterior encode(Dataset data) {
        requireOpen();
        Dataset d = Rows.dataset("data", data, mc.inputDim(), mc.classes(), false);
        float[][] q = encodeFlat(d.x(), d.n(), d.labels());
        return new Posterior(Rows.unflatten(q[0], d.n(), mc.latent()), Rows.unflatten(q[1], d.n(), mc.latent()));
    }

    private float[][] encodeFlat(float[] x, int n, int[] labels) {
        int b = inferenceBatch(n);
        try (Backend.Scope s = be.scope()) {
            return new Inference(vae, b).encode(x, n, labels);
        }
    }

    /** The decoder's mean for each latent code of a plain VAE (pixel probabilities for a Bernoulli decoder). */
    public float[][] decode(float[][] z) {
        return decode(z, null);
    }

    /** The decoder's mean for each latent code (rows of length latentSize) and label: (n, inputSize). */
    public float[][] decode(float[][] z, int[] labels) {
        requireOpen();
        float[] flat = Rows.flatten("z", z, mc.latent(), "latent size", false);
        int n = z.length;
        int[] y = Rows.labels("labels", labels, n, mc.classes());
        int b = inferenceBatch(n);
        try (Backend.Scope s = be.scope()) {
            return Rows.unflatten(new Inference(vae, b).decode(flat, n, y), n, mc.inputDim());
        }
    }

    /** Reconstructions of a plain VAE's rows: the decoder mean at z = the posterior mean. */
    public float[][] reconstruct(float[][] x) {
        return reconstruct(x, null);
    }

    /** Reconstructions: the decoder mean at z = the posterior mean of each row (and its label). */
    public float[][] reconstruct(float[][] x, int[] labels) {
        requireOpen();
        float[] flat = Rows.flatten("x", x, mc.inputDim(), "input size", false);
        int n = x.length;
        int[] y = Rows.labels("labels", labels, n, mc.classes());
        int b = inferenceBatch(n);
        try (Backend.Scope s = be.scope()) {
            return Rows.unflatten(new Inference(vae, b).reconstruct(flat, n, y), n, mc.inputDim());
        }
    }

    /**
     * n latent codes from the prior at a temperature: z = t * eps, eps ~ N(0, I) drawn by Philox
     * from {@code seed} (the same numbers on every device and run), (n, latent). What
     * {@link #sample} decodes and {@code jvae sample --seed} writes to z.npy.
     */
    public float[][] prior(int n, long seed, double temperature) {
        InvalidInputException.require(n >= 1, "n must be >= 1, got %d", n);
        InvalidInputException.require((long) n * mc.latent() <= Rows.MAX_FLOATS, "n = %d samples do not fit one Java array", n);
        InvalidInputException.require(Double.isFinite(temperature) && temperature > 0, "temperature must be > 0, got %s", temperature);
        float t = (float) temperature;
        float[] z = new float[n * mc.latent()];
        Philox.normals(seed, 0, z, 0, z.length);
        for (int i = 0; i < z.length; i++) z[i] *= t;
        return Rows.unflatten(z, n, mc.latent());
    }

    /** n samples of a plain VAE from the prior at temperature 1. */
    public float[][] sample(int n, long seed) {
        return sample(n, seed, 1.0, null);
    }

    /**
     * n new examples: the decoder means of {@link #prior prior(n, seed, temperature)} ({@code t < 1}: more
     * typical samples), each conditioned on {@code label} for a conditional model (required
     * there; must be null for a plain VAE). The same seed gives the same samples.
     */
    public float[][] sample(int n, long seed, double temperature, Integer label) {
        requireOpen();
        if (mc.conditional()) {
            InvalidInputException.require(label != null, "this model is conditional on %d classes: a label is needed", mc.classes());
        } else {
            InvalidInputException.require(label == null, "label %d given, but this model is not conditional", label);
        }
        int[] labels = null;
        if (label != null) {
            labels = new int[n > 0 ? n : 0];
            java.util.Arrays.fill(labels, label);
        }
        float[][] z = prior(n, seed, temperature);
        return decode(z, labels);
    }

    // ---- likelihoods ----

    /** {@link #evaluate(float[][], int[], long)} with seed 1 (as {@code jvae eval}). */
    public Elbo evaluate(float[][] x, int[] labels) {
        return evaluate(x, labels, 1);
    }

    /**
     * The negative ELBO per example over the rows, one sample of z per row drawn from {@code seed}
     * (the same seed, the same number), in passes of 1000 rows: what {@code jvae eval --seed}
     * prints for the same examples.
     */
    public Elbo evaluate(float[][] x, int[] labels, long seed) {
        requireOpen();
        float[] flat = Rows.flatten("x", x, mc.inputDim(), "input size", unitRange());
        Dataset d = Rows.dataset("data", flat, mc.inputDim(), Rows.labels("labels", labels, x.length, mc.classes()), mc.classes());
        return evaluateChecked(d, seed);
    }

    /** As {@link #evaluate(float[][], int[], long)} over a Dataset. */
    public Elbo evaluate(Dataset data, long seed) {
        requireOpen();
        return evaluateChecked(Rows.dataset("data", data, mc.inputDim(), mc.classes(), unitRange()), seed);
    }

    private Elbo evaluateChecked(Dataset d, long seed) {
        int b = Math.min(EVAL_BATCH, d.n());
        MemoryPlan.checkFor(be, MemoryPlan.workspaceBytes(mc, b, 1), "evaluating " + mc.summary() + " in passes of " + b + " rows", "a smaller model");
        vae.workspace(b, 1); // outside the scope: the workspace stays with the model
        try (Backend.Scope s = be.scope()) {
            Losses l = new Evaluator(vae).evaluate(new DeviceData(be, d, mc.classes()), seed, false);
            return new Elbo(l.loss(), l.recon(), l.kl());
        }
    }

    /**
     * Per-row importance-sampled log p(x) and reconstruction log-probability with K samples of z
     * per row, drawn from {@code seed} (Burda et al. 2016; {@code jvae score} and
     * {@code jvae eval --iw K} compute the same). K = 5000 is the paper's; cost grows with K.
     */
    public Scores score(float[][] x, int[] labels, int k, long seed) {
        requireOpen();
        float[] flat = Rows.flatten("x", x, mc.inputDim(), "input size", unitRange());
        Dataset d = Rows.dataset("data", flat, mc.inputDim(), Rows.labels("labels", labels, x.length, mc.classes()), mc.classes());
        return scoreChecked(d, k, seed);
    }

    /** As {@link #score(float[][], int[], int, long)} over a Dataset. */
    public Scores score(Dataset data, int k, long seed) {
        requireOpen();
        return scoreChecked(Rows.dataset("data", data, mc.inputDim(), mc.classes(), unitRange()), k, seed);
    }

    private Scores scoreChecked(Dataset d, int k, long seed) {
        InvalidInputException.require(k >= 1 && k <= 100_000, "k (samples per example) must be in [1, 100000], got %d", k);
        int chunk = Math.min(k, SCORE_CHUNK), b = Math.max(1, Math.min(d.n(), 10_000 / chunk));
        MemoryPlan.checkFor(be, MemoryPlan.workspaceBytes(mc, b, chunk), "scoring with k = " + k + " in passes of " + chunk + " samples x " + b + " rows", "a smaller model");
        vae.workspace(b, chunk);
        try (Backend.Scope s = be.scope()) {
            ImportanceSampling.Result r = ImportanceSampling.estimate(vae, new DeviceData(be, d, mc.classes()), d.n(), k, seed);
            return new Scores(r.logPx(), r.reconLogProb(), k);
        }
    }

    // ---- files and lifetime ----

    /**
     * Writes the parameters as a safetensors checkpoint (PyTorch nn.Linear names and shapes, the
     * architecture in the metadata), atomically: {@link #load}, {@code jvae eval} and
     * {@code safetensors.torch.load_file} read it.
     *
     * @throws UncheckedIOException the file cannot be written (the message names it and the cause)
     */
    public void save(Path file) {
        requireOpen();
        InvalidInputException.require(file != null, "file is null");
        Path dir = file.toAbsolutePath().getParent();
        try {
            if (dir != null) Files.createDirectories(dir);
        } catch (IOException e) {
            throw AtomicFiles.failure("creating", dir, e);
        }
        Checkpoint.saveModel(file, vae, Map.of());
    }

    /** Frees the device (GPU memory); calling it again does nothing. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        be.close();
    }

    @Override
    public String toString() {
        return "VaeModel(" + mc.summary() + (closed ? ", closed" : "") + ")";
    }

    private boolean unitRange() {
        return mc.likelihood() == Likelihood.BERNOULLI;
    }

    /** The workspace for a pass of min(n, 1024) rows, set outside any allocation scope (it outlives the call). */
    private int inferenceBatch(int n) {
        int b = Math.min(n, INFERENCE_BATCH);
        vae.workspace(b, 1);
        return b;
    }

    private void requireOpen() {
        if (closed) throw new IllegalStateException("this VaeModel is closed");
    }

    private void requireTrainable() {
        requireOpen();
        if (tc == null)
            throw new IllegalStateException("a loaded model has no training settings: build the model with VaeModel.builder() to fit it "
                    + "(runFolder(dir).resume(true) continues a run that fit or jvae train saved)");
    }
}

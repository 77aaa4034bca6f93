package io.jvae.api;

import io.jvae.InvalidInputException;
import io.jvae.backend.Activation;
import io.jvae.backend.Backend;
import io.jvae.model.Init;
import io.jvae.model.Likelihood;
import io.jvae.model.ModelConfig;
import io.jvae.train.OptimizerKind;
import io.jvae.train.Preset;
import io.jvae.train.TrainConfig;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;

/**
 * The model, its training settings and its device, from {@link VaeModel#builder()}. Every setting
 * starts at the preset's value (the {@code pytorch} preset unless {@link #preset} says otherwise)
 * and any setter overrides it, in any order, as the options of {@code jvae train} do. Settings are
 * checked by {@link #build()}, which throws {@link InvalidInputException} (an
 * IllegalArgumentException) with one line naming the setter and the value, e.g. {@code latent must be > 0, got 0}.
 *
 * <pre>{@code
 * try (VaeModel vae = VaeModel.builder().inputSize(64).hidden(32).latent(3).epochs(20).device("cpu").build()) {
 *     vae.fit(rows);
 * }
 * }</pre>
 */
public final class VaeBuilder {
    private String preset = "pytorch";
    private Integer inputSize, latent, classes, epochs, batch, warmup, samples, patience;
    private List<Integer> hidden, decoderHidden;
    private String activation, decoder, init, optimizer, objective, lrSchedule;
    private boolean tf32;
    private Float learningRate, beta, l2;
    private Long seed;
    private Boolean binarize;
    private String device = "auto";
    private PrintStream log = new PrintStream(OutputStream.nullOutputStream());
    private Path runFolder;
    private boolean resume, overwrite;
    private Consumer<Epoch> onEpoch = e -> { };

    VaeBuilder() {}

    // ---- the model ----

    /**
     * The starting point for every setting not set here: {@code pytorch} (the PyTorch examples VAE:
     * 784-400-20 relu, Bernoulli decoder, Adam 1e-3, batch 128, 10 epochs; the default) or
     * {@code seed} (the slides' Keras model: 784-256-2 tanh, RMSprop 1e-3, L2 1e-4, batch 100, 50 epochs).
     */
    public VaeBuilder preset(String name) {
        Preset.parse(name); // an unknown name fails here, at the call that made it
        this.preset = name;
        return this;
    }

    /** Values per example (D): the length of every row given to fit, encode, score. Preset: 784. */
    public VaeBuilder inputSize(int d) {
        this.inputSize = d;
        return this;
    }

    /** Encoder hidden layer sizes, input side first; the decoder mirrors them unless {@link #decoderHidden}. None: no hidden layer. */
    public VaeBuilder hidden(int... sizes) {
        this.hidden = boxed(sizes);
        return this;
    }

    /** Decoder hidden layer sizes, latent side first (default: the encoder's, reversed). */
    public VaeBuilder decoderHidden(int... sizes) {
        this.decoderHidden = boxed(sizes);
        return this;
    }

    /** Latent size L. */
    public VaeBuilder latent(int l) {
        this.latent = l;
        return this;
    }

    /** Hidden activation: relu, tanh, leaky-relu or elu. */
    public VaeBuilder activation(String name) {
        this.activation = name;
        return this;
    }

    /**
     * p(x|z): {@code bernoulli} (sigmoid cross-entropy; every value must be in [0, 1]) or
     * {@code gaussian} (unit-variance Gaussian, i.e. L2; any finite values).
     */
    public VaeBuilder decoder(String name) {
        this.decoder = name;
        return this;
    }

    /**
     * A conditional VAE (Sohn et al. 2015) on {@code classes} classes: the one-hot label joins the
     * encoder's input and z, and every call then needs a label per row. 0: a plain VAE (the default).
     */
    public VaeBuilder conditional(int classes) {
        this.classes = classes;
        return this;
    }

    /** Weight initialisation: torch (nn.Linear's default) or glorot (Keras'). */
    public VaeBuilder init(String name) {
        this.init = name;
        return this;
    }

    // ---- training ----

    /** Maximum number of epochs (fewer with early stopping). */
    public VaeBuilder epochs(int n) {
        this.epochs = n;
        return this;
    }

    /** Examples per step (the last step of an epoch may have fewer). */
    public VaeBuilder batch(int n) {
        this.batch = n;
        return this;
    }

    /** The optimizer's learning rate. */
    public VaeBuilder learningRate(double lr) {
        this.learningRate = (float) lr;
        return this;
    }

    /**
     * The learning rate by epoch (what `jvae train --lr-schedule` takes): "iwae" (the IWAE paper's,
     * 3^i epochs at 1e-3 * 10^(-i/7) for i = 0..7; the iwae-paper preset's default), "none" (the
     * constant {@link #learningRate}), or "EPOCHS:LR,EPOCHS:LR,..." (after the last stage its rate
     * stays). Kept in the run's checkpoints, so {@link #resume} continues it.
     */
    public VaeBuilder lrSchedule(String spec) {
        this.lrSchedule = java.util.Objects.requireNonNull(spec, "lrSchedule");
        return this;
    }

    /**
     * On a CUDA device: let cuBLAS use TF32 tensor cores for the GEMMs (as `jvae train --tf32`;
     * faster on Ampere and newer, ~1e-3 relative error in the products). No effect on the CPU.
     */
    public VaeBuilder tf32(boolean on) {
        this.tf32 = on;
        return this;
    }

    /** adam or rmsprop (switching the preset's optimizer also switches eps to the new one's default). */
    public VaeBuilder optimizer(String name) {
        this.optimizer = name;
        return this;
    }

    /** Weight of the KL term (1: the ELBO; beta-VAE otherwise). */
    public VaeBuilder beta(double b) {
        this.beta = (float) b;
        return this;
    }

    /** Epochs over which beta rises linearly from 0 (0: off). */
    public VaeBuilder warmup(int epochs) {
        this.warmup = epochs;
        return this;
    }

    /** L2 penalty l2 * sum W^2 on the weights, not the biases (Keras' kernel_regularizer). */
    public VaeBuilder l2(double l2) {
        this.l2 = (float) l2;
        return this;
    }

    /** Monte-Carlo samples of z per example and step (J; with objective iwae the K of the bound). */
    public VaeBuilder samples(int j) {
        this.samples = j;
        return this;
    }

    /** elbo (the default) or iwae (the importance-weighted bound of Burda et al. 2016 with K = samples). */
    public VaeBuilder objective(String name) {
        this.objective = name;
        return this;
    }

    /** The seed of the initial parameters, the shuffling and the noise: the same seed, the same run. */
    public VaeBuilder seed(long s) {
        this.seed = s;
        return this;
    }

    /**
     * Early stopping: stop after this many epochs in a row without a lower validation loss and
     * restore the best epoch's parameters (0: off).
     */
    public VaeBuilder patience(int epochs) {
        this.patience = epochs;
        return this;
    }

    /** Dynamic binarization: each step trains on x ~ Bernoulli(x), drawn afresh. */
    public VaeBuilder binarize(boolean on) {
        this.binarize = on;
        return this;
    }

    // ---- where and how fit runs ----

    /**
     * auto (a CUDA GPU that passed jvae's self-check, else the CPU; the default), cpu, cuda or
     * cuda:N, as {@code --device} on the command line. The device is opened by {@link #build()}.
     */
    public VaeBuilder device(String name) {
        this.device = name;
        return this;
    }

    /**
     * Where jvae's log lines go: the device chosen by auto, one line per epoch, a resumed run.
     * Default: nowhere.
     */
    public VaeBuilder log(PrintStream out) {
        this.log = java.util.Objects.requireNonNull(out, "log");
        return this;
    }

    /**
     * The folder fit writes its run into, as {@code jvae train --out}: metrics.csv and
     * metrics.jsonl (a row per epoch), state.safetensors (after every epoch), best.safetensors and
     * model.safetensors. A folder that already holds a run is refused unless {@link #resume} or
     * {@link #overwrite}. Without a run folder (the default) fit writes into a temporary folder
     * that it deletes when it returns.
     */
    public VaeBuilder runFolder(Path dir) {
        this.runFolder = dir;
        return this;
    }

    /**
     * fit continues the run in the run folder from its state.safetensors (bit for bit on the same
     * CPU), as {@code jvae train --resume}: every setting must equal the run's except epochs.
     */
    public VaeBuilder resume(boolean on) {
        this.resume = on;
        return this;
    }

    /** fit may replace a run that the run folder already holds (its files are replaced). */
    public VaeBuilder overwrite(boolean on) {
        this.overwrite = on;
        return this;
    }

    /**
     * Called on the calling thread after each epoch of fit, once its state is saved: an exception
     * thrown here ends fit with it (with a run folder, {@link #resume} continues after that epoch).
     */
    public VaeBuilder onEpoch(Consumer<Epoch> callback) {
        this.onEpoch = java.util.Objects.requireNonNull(callback, "onEpoch");
        return this;
    }

    /**
     * Checks the settings, opens the device and builds the model with its initial parameters
     * (seeded: those fit starts from). Close the model to free the device.
     *
     * @throws InvalidInputException a setting out of range or unknown, or a device that cannot be used
     */
    public VaeModel build() {
        ModelConfig mc;
        TrainConfig tc;
        try {
            mc = model();
            tc = train();
        } catch (InvalidInputException e) { // the records word their checks as the CLI's options: name the setters instead
            throw new InvalidInputException(setterNames(e.getMessage()));
        }
        InvalidInputException.require(!resume || runFolder != null, "resume needs a runFolder to resume from");
        Backend be = io.jvae.backend.cuda.Devices.open("device", device, tf32, log);
        try {
            return new VaeModel(be, mc, tc, new VaeModel.Run(runFolder, resume, overwrite, onEpoch, log));
        } catch (RuntimeException | Error e) {
            be.close();
            throw e;
        }
    }

    // ---- preset + overrides (as the CLI's ModelOptions) ----

    ModelConfig model() {
        ModelConfig p = Preset.parse(preset).model;
        List<Integer> enc = hidden != null ? hidden : p.encoderHidden();
        List<Integer> dec;
        if (decoderHidden != null) dec = decoderHidden;
        else if (hidden != null) {
            dec = new ArrayList<>(hidden);
            Collections.reverse(dec);
        } else dec = p.decoderHidden();
        return new ModelConfig(inputSize != null ? inputSize : p.inputDim(), enc, latent != null ? latent : p.latent(), dec,
                activation != null ? Activation.parse(activation) : p.activation(),
                decoder != null ? Likelihood.parse(decoder) : p.likelihood(),
                classes != null ? classes : 0, init != null ? Init.parse(init) : p.init());
    }

    TrainConfig train() {
        TrainConfig t = Preset.parse(preset).train;
        OptimizerKind opt = optimizer != null ? OptimizerKind.parse(optimizer) : t.optimizer();
        float eps = optimizer != null && opt != t.optimizer() ? opt.defaultEps() : t.eps();
        return new TrainConfig(epochs != null ? epochs : t.epochs(), batch != null ? batch : t.batch(), opt,
                learningRate != null ? learningRate : t.lr(), t.beta1(), t.beta2(), t.rho(), eps, beta != null ? beta : t.beta(),
                warmup != null ? warmup : t.warmupEpochs(), l2 != null ? l2 : t.l2(), samples != null ? samples : t.samples(),
                seed != null ? seed : t.seed(), patience != null ? patience : t.patience(),
                binarize != null ? binarize : t.binarize(), objective != null ? TrainConfig.Objective.parse(objective) : t.objective(),
                lrSchedule != null ? lrSchedule : t.lrSchedule());
    }

    /** "--lr must be ..." -> "learningRate must be ...": the records' option names as this builder's setters. */
    static String setterNames(String message) {
        return message.replace("--lr-schedule", "lrSchedule").replace("--dec-hidden", "decoderHidden").replace("--lr", "learningRate")
                .replaceAll("--([a-z0-9]+)", "$1");
    }

    private static List<Integer> boxed(int[] a) {
        InvalidInputException.require(a != null, "hidden sizes are null");
        return java.util.Arrays.stream(a).boxed().toList();
    }
}

package io.jvae.cli;

import io.jvae.InvalidInputException;
import io.jvae.backend.Activation;
import io.jvae.model.Init;
import io.jvae.model.Likelihood;
import io.jvae.model.ModelConfig;
import io.jvae.train.Preset;
import io.jvae.train.OptimizerKind;
import io.jvae.train.TrainConfig;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Preset + overrides for the model and training settings (a picocli mixin shared by train and experiments). */
final class ModelOptions {
    @Option(names = "--preset", description = "seed (the slides' Keras model), pytorch (the PyTorch example) or iwae-paper (Burda et al. 2016's "
            + "one-layer MNIST model and schedule); train's default: pytorch, experiments': seed")
    String preset;

    /** The preset when --preset is not given (set by the command). */
    String defaultPreset = "pytorch";

    @Option(names = "--latent", description = "latent size")
    Integer latent;

    @Option(names = "--hidden", split = ",", description = "encoder hidden sizes, e.g. 512,256 (decoder mirrors them unless --dec-hidden)")
    List<Integer> hidden;

    @Option(names = "--dec-hidden", split = ",", description = "decoder hidden sizes")
    List<Integer> decHidden;

    @Option(names = "--activation", description = "relu, tanh, leaky-relu, elu")
    String activation;

    @Option(names = "--decoder", description = "bernoulli (sigmoid cross-entropy) or gaussian (L2)")
    String decoder;

    @Option(names = "--conditional", description = "CVAE: condition encoder and decoder on the one-hot label")
    boolean conditional;

    @Option(names = "--init", description = "torch or glorot")
    String init;

    @Option(names = "--epochs") Integer epochs;
    @Option(names = "--batch") Integer batch;
    @Option(names = "--optimizer", description = "adam or rmsprop") String optimizer;
    @Option(names = "--lr") Float lr;
    @Option(names = "--lr-schedule", description = "learning rate by epoch: iwae (the IWAE paper's: 3^i epochs at 1e-3 * 10^(-i/7), "
            + "i = 0..7), none, or EPOCHS:LR,EPOCHS:LR,... (the last rate stays); kept in the run's checkpoints, so --resume continues it")
    String lrSchedule;
    @Option(names = "--beta", description = "weight of the KL term") Float beta;
    @Option(names = "--warmup", description = "epochs of linear KL warm-up from 0 to --beta") Integer warmup;
    @Option(names = "--l2", description = "L2 penalty on weights (Keras l2)") Float l2;
    @Option(names = "--samples", description = "Monte-Carlo samples of z per input (J)") Integer samples;
    @Option(names = "--seed") Long seed;
    @Option(names = "--patience", description = "early stopping patience in epochs (0 = off)") Integer patience;
    @Option(names = "--binarize", description = "dynamic binarization of the pixels") Boolean binarize;
    @Option(names = "--objective", description = "elbo (default) or iwae (importance-weighted bound with K = --k samples)") String objective;
    @Option(names = "--k", description = "IWAE: importance samples per input (same as --samples)") Integer k;

    Preset presetValue() {
        return Preset.parse(preset != null ? preset : defaultPreset);
    }

    /** The decoder's likelihood: --decoder, else the preset's. */
    Likelihood likelihood() {
        return decoder != null ? Likelihood.parse(decoder) : presetValue().model.likelihood();
    }

    ModelConfig model(int inputDim, int classes) {
        ModelConfig p = presetValue().model;
        List<Integer> enc = hidden != null ? hidden : p.encoderHidden();
        List<Integer> dec;
        if (decHidden != null) dec = decHidden;
        else if (hidden != null) {
            dec = new ArrayList<>(hidden);
            Collections.reverse(dec);
        } else dec = p.decoderHidden();
        return new ModelConfig(inputDim, enc, latent != null ? latent : p.latent(), dec,
                activation != null ? Activation.parse(activation) : p.activation(),
                likelihood(),
                conditional ? classes : 0, init != null ? Init.parse(init) : p.init());
    }

    TrainConfig train() {
        TrainConfig t = presetValue().train;
        OptimizerKind opt = optimizer != null ? OptimizerKind.parse(optimizer) : t.optimizer();
        float eps = t.eps();
        if (optimizer != null && opt != t.optimizer()) eps = opt.defaultEps();
        if (lr != null && !(lr > 0)) throw new InvalidInputException("--lr must be a positive number, got " + lr);
        if (k != null && samples != null && !k.equals(samples)) throw new InvalidInputException("--k and --samples differ (" + k + ", " + samples + ")");
        if (k != null) samples = k;
        return new TrainConfig(epochs != null ? epochs : t.epochs(), batch != null ? batch : t.batch(), opt,
                lr != null ? lr : t.lr(), t.beta1(), t.beta2(), t.rho(), eps, beta != null ? beta : t.beta(),
                warmup != null ? warmup : t.warmupEpochs(), l2 != null ? l2 : t.l2(), samples != null ? samples : t.samples(),
                seed != null ? seed : t.seed(), patience != null ? patience : t.patience(),
                binarize != null ? binarize : t.binarize(), objective != null ? TrainConfig.Objective.parse(objective) : t.objective(),
                lrSchedule != null ? lrSchedule : t.lrSchedule());
    }
}

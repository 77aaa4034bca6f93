package io.jvae.train;

import io.jvae.InvalidInputException;
import io.jvae.backend.Activation;
import io.jvae.model.Init;
import io.jvae.model.Likelihood;
import io.jvae.model.ModelConfig;

import java.util.List;

/**
 * Named starting points; every field can be overridden on the command line.
 * <ul>
 *   <li>seed: the slides' Keras code: 784-256-2 tanh, RMSprop lr 1e-3 (rho 0.9, eps 1e-7), L2 1e-4 on
 *       weights, batch 100, 50 epochs, Glorot init, fresh noise every batch.</li>
 *   <li>pytorch: the PyTorch examples VAE: 784-400-20 relu, Adam lr 1e-3 (eps 1e-8), batch 128,
 *       10 epochs, nn.Linear's default init.</li>
 *   <li>iwae-paper: Burda, Grosse, Salakhutdinov 2016 (section 5, the one-stochastic-layer MNIST
 *       model): 784-200-200-50 tanh, Bernoulli decoder, Glorot init, dynamic binarization, Adam
 *       (0.9, 0.999, eps 1e-4) at batch 20 with the paper's schedule, 3^i epochs at 1e-3 * 10^(-i/7)
 *       for i = 0..7: 3,280 epochs. The VAE; `--objective iwae --k 5` its IWAE.</li>
 * </ul>
 */
public enum Preset {
    SEED(new ModelConfig(784, List.of(256), 2, List.of(256), Activation.TANH, Likelihood.BERNOULLI, 0, Init.GLOROT),
            new TrainConfig(50, 100, OptimizerKind.RMSPROP, 1e-3f, 0.9f, 0.999f, 0.9f, 1e-7f, 1f, 0, 1e-4f, 1, 1, 0, false)),
    PYTORCH(new ModelConfig(784, List.of(400), 20, List.of(400), Activation.RELU, Likelihood.BERNOULLI, 0, Init.TORCH),
            new TrainConfig(10, 128, OptimizerKind.ADAM, 1e-3f, 0.9f, 0.999f, 0.9f, 1e-8f, 1f, 0, 0f, 1, 1, 0, false)),
    IWAE_PAPER(new ModelConfig(784, List.of(200, 200), 50, List.of(200, 200), Activation.TANH, Likelihood.BERNOULLI, 0, Init.GLOROT),
            new TrainConfig(3280, 20, OptimizerKind.ADAM, 1e-3f, 0.9f, 0.999f, 0.9f, 1e-4f, 1f, 0, 0f, 1, 1, 0, true,
                    TrainConfig.Objective.ELBO, "iwae"));

    public final ModelConfig model;
    public final TrainConfig train;

    Preset(ModelConfig model, TrainConfig train) {
        this.model = model;
        this.train = train;
    }

    public static Preset parse(String s) {
        return switch (s.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "seed", "slides", "keras" -> SEED;
            case "pytorch", "torch" -> PYTORCH;
            case "iwae-paper", "iwae_paper" -> IWAE_PAPER;
            default -> throw new InvalidInputException("unknown preset '" + s + "' (seed, pytorch, iwae-paper)");
        };
    }
}

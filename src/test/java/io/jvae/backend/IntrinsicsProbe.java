package io.jvae.backend;

import io.jvae.bench.Bench;
import io.jvae.model.Init;
import io.jvae.model.Likelihood;
import io.jvae.model.ModelConfig;
import io.jvae.train.Preset;
import io.jvae.train.OptimizerKind;
import io.jvae.train.TrainConfig;

import java.util.List;

/**
 * The child JVM of {@link IntrinsicsTest}: trains a few hundred steps of each kind of model the
 * CPU backend runs, so that C2 compiles every SIMD kernel from a training profile: the pytorch
 * preset (ReLU, Adam, Bernoulli, sparse first layer) at batch 128, the slides' preset (tanh,
 * RMSprop with L2) at batch 100, a CVAE with a Gaussian decoder and leaky ReLU on dense input, and
 * IWAE with 5 samples.
 */
public final class IntrinsicsProbe {
    private IntrinsicsProbe() {}

    public static void main(String[] args) {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 600;
        Backend be = new CpuBackend();
        Bench.Data sparse = Bench.synthetic(784, 4096, Bench.MNIST_DENSITY), dense = Bench.synthetic(784, 4096, 1);
        TrainConfig adam = Preset.PYTORCH.train, rms = Preset.SEED.train;
        // twice the steps here: gather8 (the sparse forward product) runs long loops, so C2 reached
        // its standard (non-OSR) compilation late, and in one full-suite run of 2026-12-03 not at all
        run(be, Preset.PYTORCH.model, adam, 128, sparse, 2 * steps);
        run(be, Preset.SEED.model, rms, 100, sparse, steps);
        run(be, new ModelConfig(784, List.of(64), 8, List.of(64), Activation.LEAKY_RELU, Likelihood.GAUSSIAN, 10, Init.GLOROT),
                adam, 64, dense, steps);
        TrainConfig iwae = new TrainConfig(1, 64, OptimizerKind.ADAM, 1e-3f, 0.9f, 0.999f, 0.9f, 1e-8f, 1f, 0, 0f, 5, 1, 0, true,
                TrainConfig.Objective.IWAE);
        run(be, new ModelConfig(784, List.of(64), 8, List.of(64), Activation.TANH, Likelihood.BERNOULLI, 0, Init.GLOROT),
                iwae, 64, sparse, steps);
        System.out.println("probe done");
    }

    private static void run(Backend be, ModelConfig mc, TrainConfig tc, int batch, Bench.Data data, int steps) {
        Bench.Result r = Bench.run(be, mc, tc, batch, steps, 1, 1, 0, false, data, 1, false);
        System.out.printf(java.util.Locale.ROOT, "probe %s batch %d: %.2f ms/step%n", mc.activation(), batch, r.msMedian());
    }
}

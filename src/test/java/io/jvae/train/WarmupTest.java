package io.jvae.train;

import io.jvae.backend.Activation;
import io.jvae.backend.CpuBackend;
import io.jvae.data.Dataset;
import io.jvae.model.Init;
import io.jvae.model.Likelihood;
import io.jvae.model.ModelConfig;
import io.jvae.testing.Synthetic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The JIT warm-up that `jvae train` runs while its data loads (Warmup). */
class WarmupTest {
    @TempDir
    Path dir;

    static TrainConfig tc(int batch, OptimizerKind opt, boolean binarize, TrainConfig.Objective objective, int samples) {
        return new TrainConfig(2, batch, opt, 1e-3f, 0.9f, 0.999f, 0.9f, 1e-8f, 1f, 0, 0f, samples, 7, 0, binarize, objective);
    }

    @Test
    void aWarmupBesideTrainingChangesNoBit() throws Exception {
        assumeTrue(Warmup.enabled(), "one core: no warm-up to test");
        // wide enough that the real run's GEMMs and element-wise loops are split across the team
        ModelConfig mc = new ModelConfig(784, List.of(256), 8, List.of(256), Activation.RELU, Likelihood.BERNOULLI, 0, Init.GLOROT);
        TrainConfig t = tc(128, OptimizerKind.ADAM, false, TrainConfig.Objective.ELBO, 1);
        Dataset train = Synthetic.dataset("train", 640, 28, 1), test = Synthetic.dataset("test", 128, 28, 2);
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        new Trainer(new CpuBackend(), mc, t, train, test, dir.resolve("alone"), quiet).progress(false).run(false);

        Warmup w = Warmup.start(mc, t);
        int atStart = w.steps();
        new Trainer(new CpuBackend(), mc, t, train, test, dir.resolve("beside"), quiet).progress(false).run(false);
        int steps = w.finish();
        assertNull(w.failure());
        assertTrue(atStart < Warmup.MAX_STEPS && steps > atStart, "the warm-up ran while the model trained: " + atStart + " -> " + steps);
        assertArrayEquals(Files.readAllBytes(dir.resolve("alone/model.safetensors")), Files.readAllBytes(dir.resolve("beside/model.safetensors")),
                "the same model, bit for bit, with a warm-up running beside the training");
    }

    @Test
    void everyKindOfModelWarmsUpWithoutFailing() {
        assumeTrue(Warmup.enabled(), "one core: no warm-up to test");
        ModelConfig relu = new ModelConfig(784, List.of(64), 4, List.of(64), Activation.RELU, Likelihood.BERNOULLI, 0, Init.GLOROT);
        ModelConfig cvae = new ModelConfig(784, List.of(64, 32), 2, List.of(32, 64), Activation.TANH, Likelihood.BERNOULLI, 10, Init.GLOROT);
        ModelConfig gauss = new ModelConfig(784, List.of(64), 4, List.of(64), Activation.TANH, Likelihood.GAUSSIAN_LEARNED, 0, Init.GLOROT);
        record Case(ModelConfig mc, TrainConfig tc) {}
        for (Case c : List.of(new Case(relu, tc(128, OptimizerKind.ADAM, false, TrainConfig.Objective.ELBO, 1)),
                new Case(relu, tc(20, OptimizerKind.ADAM, true, TrainConfig.Objective.IWAE, 5)),
                new Case(cvae, tc(100, OptimizerKind.RMSPROP, false, TrainConfig.Objective.ELBO, 2)),
                new Case(gauss, tc(64, OptimizerKind.ADAM, false, TrainConfig.Objective.ELBO, 1)))) {
            Warmup w = Warmup.start(c.mc(), c.tc());
            long until = System.nanoTime() + 60_000_000_000L;
            while (w.steps() < 20 && w.failure() == null && System.nanoTime() < until) Thread.onSpinWait();
            int steps = w.finish();
            assertNull(w.failure(), c.toString());
            assertTrue(steps >= 20, c + ": " + steps + " steps");
        }
    }
}

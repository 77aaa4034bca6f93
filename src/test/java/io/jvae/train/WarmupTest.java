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

    record Case(String name, ModelConfig mc, TrainConfig tc) {}

    /** Each kind of step: wide enough (784-256) that the real run's GEMMs and element-wise loops are split across the team. */
    static final List<Case> CASES = List.of(
            new Case("relu, adam", new ModelConfig(784, List.of(256), 8, List.of(256), Activation.RELU, Likelihood.BERNOULLI, 0, Init.GLOROT),
                    tc(128, OptimizerKind.ADAM, false, TrainConfig.Objective.ELBO, 1)),
            new Case("tanh, iwae k=5, binarized", new ModelConfig(784, List.of(256), 8, List.of(256), Activation.TANH, Likelihood.BERNOULLI, 0, Init.GLOROT),
                    tc(32, OptimizerKind.ADAM, true, TrainConfig.Objective.IWAE, 5)),
            new Case("cvae, rmsprop, 2 samples", new ModelConfig(784, List.of(256, 64), 2, List.of(64, 256), Activation.TANH, Likelihood.BERNOULLI, 10, Init.GLOROT),
                    tc(100, OptimizerKind.RMSPROP, false, TrainConfig.Objective.ELBO, 2)),
            new Case("learned-variance gaussian", new ModelConfig(784, List.of(256), 4, List.of(256), Activation.TANH, Likelihood.GAUSSIAN_LEARNED, 0, Init.GLOROT),
                    tc(64, OptimizerKind.ADAM, false, TrainConfig.Objective.ELBO, 1)));

    /**
     * The same model, bit for bit, with a warm-up of the same kind training beside it: each kind of
     * step (the scratch buffers of the tanh and loss kernels, the sparse first layer, IWAE, the
     * optimizers). The run beside the warm-up goes first, while the kernels are still interpreted
     * (in a fresh JVM: the first test class to train), so compiled and interpreted code are compared too.
     */
    @Test
    void aWarmupBesideTrainingChangesNoBit() throws Exception {
        assumeTrue(Warmup.enabled(), "one core: no warm-up to test");
        Dataset train = Synthetic.dataset("train", 640, 28, 1), test = Synthetic.dataset("test", 128, 28, 2);
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        for (Case c : CASES) {
            Path beside = dir.resolve(c.name().replaceAll("\\W+", "-") + "-beside"), alone = dir.resolve(c.name().replaceAll("\\W+", "-") + "-alone");
            Warmup w = Warmup.start(c.mc(), c.tc());
            assertNotNull(w, c.name() + ": a warm-up this size fits");
            int atStart = w.steps();
            new Trainer(new CpuBackend(), c.mc(), c.tc(), train, test, beside, quiet).progress(false).run(false);
            int steps = w.finish();
            new Trainer(new CpuBackend(), c.mc(), c.tc(), train, test, alone, quiet).progress(false).run(false);
            assertNull(w.failure(), c.name());
            assertTrue(w.ranAlone(), c.name() + ": the warm-up's loops never take the team (Parallel.alone)");
            assertTrue(atStart < Warmup.MAX_STEPS && steps > atStart, c.name() + ": the warm-up ran while the model trained: " + atStart + " -> " + steps);
            assertArrayEquals(Files.readAllBytes(alone.resolve("model.safetensors")), Files.readAllBytes(beside.resolve("model.safetensors")),
                    c.name() + ": the same model, bit for bit, with a warm-up running beside the training");
        }
    }

    /**
     * Told to stop, the warm-up leaves at its next backend call, in the middle of a step, and
     * finishes no further step: run to the end of its step, the first one (most of a second in the
     * interpreter) took a core from the training's own first step. A step of this model takes
     * milliseconds even compiled, and the only way out without a backend call is the microsecond
     * between two steps: the stop lands inside a step.
     */
    @Test
    void aStopEndsTheWarmupInTheMiddleOfItsStep() throws Exception {
        assumeTrue(Warmup.enabled(), "one core: no warm-up to test");
        ModelConfig wide = new ModelConfig(784, List.of(1024), 20, List.of(1024), Activation.RELU, Likelihood.BERNOULLI, 0, Init.GLOROT);
        Warmup w = Warmup.start(wide, tc(64, OptimizerKind.ADAM, false, TrainConfig.Objective.ELBO, 1));
        assertNotNull(w);
        for (long t0 = System.nanoTime(); w.steps() < 2 && System.nanoTime() - t0 < 60_000_000_000L; ) Thread.sleep(1);
        assertTrue(w.steps() >= 2, "the warm-up runs steps");
        w.stop();
        int atStop = w.steps();
        int finished = w.finish();
        assertNull(w.failure());
        assertTrue(w.leftMidStep(), "it left at a backend call, inside a step");
        assertTrue(finished - atStop <= 1 && finished < Warmup.MAX_STEPS, atStop + " -> " + finished);
    }

    @Test
    void theThrowawayModelNeverNeedsMoreColumnsThanTheRealRun() {
        for (int[] bk : new int[][] {{1, 4096}, {20, 50}, {20, 5}, {1024, 1}, {3, 1}, {20, 64}, {2, 100}}) {
            TrainConfig t = tc(bk[0], OptimizerKind.ADAM, false, TrainConfig.Objective.IWAE, bk[1]);
            int b = Warmup.batchFor(t);
            assertTrue(b >= 1 && (long) b * bk[1] <= Math.max(Warmup.BATCH, bk[1]) && b <= bk[0], "batch " + bk[0] + ", k " + bk[1] + ": " + b);
        }
        // and a model too big for its share of the heap gets none
        ModelConfig huge = new ModelConfig(784, List.of(16384, 16384), 50, List.of(16384, 16384), Activation.TANH, Likelihood.BERNOULLI, 0, Init.GLOROT);
        assumeTrue(Warmup.bytes(huge, tc(20, OptimizerKind.ADAM, false, TrainConfig.Objective.ELBO, 1)) > Runtime.getRuntime().maxMemory() * Warmup.MAX_HEAP_SHARE);
        assertNull(Warmup.start(huge, tc(20, OptimizerKind.ADAM, false, TrainConfig.Objective.ELBO, 1)));
    }
}

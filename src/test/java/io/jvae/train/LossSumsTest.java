package io.jvae.train;

import io.jvae.backend.Backend;
import io.jvae.backend.CpuBackend;
import io.jvae.backend.Tensor;
import io.jvae.data.Dataset;
import io.jvae.model.ModelConfig;
import io.jvae.testing.Synthetic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Proxy;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** Epoch loss sums exact to double (issue #23), and a NaN in the loss IWAE trains on stops training. */
class LossSumsTest {
    @TempDir
    Path dir;

    /** 470 steps of ~13,000 nats each (an epoch of MNIST at batch 128), added on the backend as the model does. */
    @Test
    void chunkedSumsAreExactToDoubleWhereAFloatEpochSumIsNot() {
        Backend be = new CpuBackend();
        Tensor stats = be.alloc(4, 1), ones = be.alloc(1, 1), step = be.alloc(4, 1);
        be.fill(ones, 1f);
        LossSums sums = new LossSums(be, stats);
        sums.reset();
        Tensor floatEpoch = be.alloc(4, 1); // the old way: one float32 sum over the epoch
        double exact = 0;
        float[] v = new float[4];
        for (int s = 0; s < 470; s++) {
            v[0] = 13_000f + 0.37f * s + (s % 7) * 0.013f;
            exact += v[0];
            be.upload(v, 0, step);
            be.gemv(true, 1, 1, 1f, step.view(0, 1, 1), 1, ones, 1f, stats.view(0, 1, 1)); // stats[0] += step[0], as Vae.accumulate's gemv
            be.gemv(true, 1, 1, 1f, step.view(0, 1, 1), 1, ones, 1f, floatEpoch.view(0, 1, 1));
            if ((s + 1) % Trainer.CHECK_EVERY == 0) sums.flush(s + 1);
        }
        sums.flush(470);
        double chunked = sums.await()[0];
        float[] f = new float[4];
        be.download(floatEpoch, f, 0);
        // a float's ulp at 6.1e6 is 0.5: the epoch-long float sum drifts by a few ulps; 20-step chunks
        // stay below 2.7e5 (ulp 0.03) and are added in double: within 24 chunk roundings of 0.016
        assertTrue(Math.abs(f[0] - exact) > 0.5, "the float32 epoch sum is off (else this test proves nothing): " + f[0] + " vs " + exact);
        assertEquals(exact, chunked, 24 * 0.016, "chunks added in double");
    }

    @Test
    void aNanInTheIwaeLossStopsTrainingEvenWhenTheElboTermsAreFinite() {
        ModelConfig m = TrainerTest.MODEL;
        TrainConfig t = new TrainConfig(1, 50, OptimizerKind.ADAM, 1e-3f, 0.9f, 0.999f, 0.9f, 1e-8f, 1f, 0, 0f, 3, 7, 0, false,
                TrainConfig.Objective.IWAE);
        CpuBackend cpu = new CpuBackend();
        // a backend whose IWAE log-mean-exp comes out NaN: everything else computes normally
        Backend nanIwae = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, (p, method, args) -> {
            Object r;
            try {
                r = method.invoke(cpu, args);
            } catch (java.lang.reflect.InvocationTargetException e) {
                throw e.getCause();
            }
            if (method.getName().equals("iwaeWeights")) cpu.fill((Tensor) args[3], Float.NaN);
            return r;
        });
        Dataset tr = Synthetic.dataset("train", 600, 8, 1), te = Synthetic.dataset("test", 200, 8, 2);
        Trainer trainer = new Trainer(nanIwae, m, t, tr, te, dir, new PrintStream(new ByteArrayOutputStream())).progress(false);
        TrainingDiverged e = assertThrows(TrainingDiverged.class, () -> trainer.run(false));
        assertTrue(e.getMessage().contains("training diverged: loss NaN"), e.getMessage());
    }
}

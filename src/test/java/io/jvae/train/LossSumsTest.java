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

    /**
     * The test loss adds its batches as training adds its steps: float32 on the backend for 20
     * batches at most, then double. 10,000 examples at batch 5 (2,000 batches of ~2,700 nats,
     * an untrained 784-pixel Bernoulli model): the Evaluator must give the chunked sum, which is
     * nearer the exact sum of the batches' sums than one float32 sum over all batches (the old way).
     */
    @Test
    void theTestLossAddsItsBatchesInDoubleAfterChunksOfTwenty() {
        Backend be = new CpuBackend();
        ModelConfig m = new ModelConfig(784, java.util.List.of(16), 2, java.util.List.of(16), io.jvae.backend.Activation.TANH,
                io.jvae.model.Likelihood.BERNOULLI, 0, io.jvae.model.Init.GLOROT);
        io.jvae.model.Vae vae = new io.jvae.model.Vae(be, m);
        vae.initParams(3);
        vae.workspace(5, 1);
        DeviceData d = new DeviceData(be, Synthetic.dataset("test", 10_000, 28, 5), 0);
        Losses l = new Evaluator(vae).evaluate(d, 11, false);

        // the same batches three ways: each alone (added in double: the exact sum of the batches' sums),
        // in chunks of 20 on the backend added in double, and all in one float32 sum (the old way)
        Tensor alone = be.alloc(4, 1), chunk = be.alloc(4, 1), whole = be.alloc(4, 1);
        be.fill(chunk, 0f);
        be.fill(whole, 0f);
        float[] v = new float[4];
        double exact = 0, chunked = 0;
        for (int start = 0, step = 0; start < d.n(); start += 5, step++) {
            vae.loadBatch(d.x, d.oneHot, d.identity.slice(start, 5));
            be.fill(alone, 0f);
            for (Tensor t : new Tensor[] {alone, chunk, whole}) vae.evalStep(Seeds.derive(11, Seeds.NOISE), step * vae.noisePerStep(), t);
            be.download(alone, v, 0);
            exact += v[0];
            if ((step + 1) % Trainer.CHECK_EVERY == 0 || start + 5 >= d.n()) {
                be.download(chunk, v, 0);
                chunked += v[0];
                be.fill(chunk, 0f);
            }
        }
        be.download(whole, v, 0);
        float oneFloat = v[0];
        assertEquals(chunked, l.recon() * d.n(), 1e-9 * chunked, "the Evaluator's sum is the chunked one");
        assertTrue(Math.abs(oneFloat - exact) > 4 * Math.abs(chunked - exact),
                "one float32 sum is further off (else this test proves nothing): whole " + oneFloat + ", chunked " + chunked + ", exact " + exact);
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

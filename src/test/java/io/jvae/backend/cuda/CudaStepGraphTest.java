package io.jvae.backend.cuda;

import io.jvae.backend.Backend;
import io.jvae.backend.CpuBackend;
import io.jvae.backend.StepReplay;
import io.jvae.backend.Tensor;
import io.jvae.bench.Bench;
import io.jvae.model.ModelConfig;
import io.jvae.train.Preset;
import io.jvae.model.Vae;
import io.jvae.testing.Close;
import io.jvae.train.Optimizer;
import io.jvae.train.Seeds;
import io.jvae.train.TrainConfig;
import io.jvae.train.TrainingSteps;
import jcuda.driver.JCudaDriver;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Training steps replayed as CUDA Graphs ({@link CudaStepGraph}) against the same steps launched
 * call by call and against the CPU, on the CPU stand-ins (or a card with -Djvae.cuda=card), and the
 * structure of a replayed step as both the backend's own counters and the stand-in's count it: in
 * the steady state one graph launch and one small copy per step, no host synchronisation, no
 * allocation.
 *
 * <p>Tolerances: graph and eager run the same kernels and cuBLAS calls in the same order on the
 * same data, so their parameters must be bit-identical (on a card too: a graph replays the same
 * kernels; cuBLAS picks its algorithm per shape, not per launch mode). Against the CPU: GEMMs in
 * another order and the C library's expf (KernelEmulationTest), compounded through Adam over 30
 * steps: 1e-4 relative on the loss sums, as CudaBackendGpuTest's training trace.
 */
class CudaStepGraphTest {
    static final int N = 600, BATCH = 64; // 600 = 9 x 64 + 24: a partial last batch, a second record

    @BeforeAll
    static void cuda() {
        StandIn.load();
        assumeTrue(CudaProbe.available(), () -> "no CUDA: " + CudaProbe.reason() + "; stand-ins: " + StandIn.reason());
    }

    static ModelConfig model() {
        ModelConfig p = Preset.PYTORCH.model;
        return new ModelConfig(p.inputDim(), java.util.List.of(64), 8, java.util.List.of(64), p.activation(), p.likelihood(), 0, p.init());
    }

    /** Trains `epochs` epochs of N synthetic MNIST-like examples; returns {parameters..., loss sums of the last epoch}. */
    static float[][] train(Backend be, TrainConfig tc, boolean graphs, int epochs) {
        return train(be, tc, graphs, epochs, BATCH);
    }

    static float[][] train(Backend be, TrainConfig tc, boolean graphs, int epochs, int batch) {
        ModelConfig mc = model();
        Bench.Data data = Bench.synthetic(mc.inputDim(), N, Bench.MNIST_DENSITY);
        Vae vae = new Vae(be, mc);
        vae.initParams(11);
        vae.workspace(batch, tc.samples());
        Optimizer opt = new Optimizer(vae, tc);
        Tensor x = be.constant(data.x(), mc.inputDim(), N), stats = be.alloc(4, 1);
        long step = 0;
        float[] sums = new float[4];
        try (TrainingSteps ts = new TrainingSteps(vae, opt, tc, x, null, stats, 5, 6, graphs)) {
            assertEquals(graphs && be instanceof CudaBackend, ts.replayed());
            for (int e = 1; e <= epochs; e++) {
                opt.setLearningRate(tc.lrAt(e)); // as the Trainer does: the schedule's rate for the epoch
                ts.epoch(Seeds.permutation(3, e, N));
                be.fill(stats, 0f);
                int steps = (N + batch - 1) / batch;
                for (int s = 0; s < steps; s++, step++) ts.step(step, s * batch, Math.min(batch, N - s * batch), tc.betaAt(e - 1 + (double) s / steps));
                be.download(stats, sums, 0);
            }
        }
        float[] p = new float[vae.params.total];
        be.download(vae.params.values, p, 0);
        assertEquals(step, opt.steps(), "the optimizer counted every step, replayed or not");
        return new float[][] {p, sums};
    }

    static void assertSameBits(String what, float[] a, float[] b) {
        assertEquals(a.length, b.length);
        for (int i = 0; i < a.length; i++)
            if (Float.floatToIntBits(a[i]) != Float.floatToIntBits(b[i]))
                fail(what + "[" + i + "]: " + a[i] + " vs " + b[i]);
    }

    @Test
    void replayedStepsEqualEagerStepsBitForBitAndTheCpuWithinTolerance() {
        // Adam with KL warm-up (beta changes every step) and dynamic binarization: every step-block slot is exercised
        TrainConfig tc = Preset.PYTORCH.train.withEpochs(2);
        tc = new TrainConfig(2, BATCH, tc.optimizer(), tc.lr(), tc.beta1(), tc.beta2(), tc.rho(), tc.eps(), 1f, 1, 0f, 1, 1, 0, true,
                TrainConfig.Objective.ELBO);
        float[][] cpu = train(new CpuBackend(), tc, false, 2);
        float[][] eager, graph;
        try (CudaBackend be = CudaBackend.open(0, false)) {
            eager = train(be, tc, false, 2);
        }
        try (CudaBackend be = CudaBackend.open(0, false)) {
            graph = train(be, tc, true, 2);
        }
        assertSameBits("parameters, graph vs eager", eager[0], graph[0]);
        assertSameBits("loss sums, graph vs eager", eager[1], graph[1]);
        Close.assertAllClose("loss sums, graph vs cpu", cpu[1], graph[1], 0f, 1e-4f);
    }

    @Test
    void aLearningRateScheduleReachesReplayedStepsThroughTheStepBlock() {
        // the graph is recorded in epoch 1; epoch 2's rate (30x lower) must come from the step block,
        // for Adam and for RMSprop (each reads STEP_LR), or graph and eager parameters part
        for (TrainConfig base : new TrainConfig[] {Preset.PYTORCH.train, Preset.SEED.train}) {
            TrainConfig tc = base.withEpochs(2).withLrSchedule("1:3e-3,1:1e-4");
            float[][] eager, graph, constant;
            try (CudaBackend be = CudaBackend.open(0, false)) {
                eager = train(be, tc, false, 2);
            }
            try (CudaBackend be = CudaBackend.open(0, false)) {
                graph = train(be, tc, true, 2);
            }
            try (CudaBackend be = CudaBackend.open(0, false)) {
                constant = train(be, tc.withLrSchedule("1:3e-3"), true, 2);
            }
            assertSameBits(tc.optimizer() + " parameters with a schedule, graph vs eager", eager[0], graph[0]);
            assertFalse(java.util.Arrays.equals(graph[0], constant[0]), tc.optimizer() + ": the second epoch's rate changed the step");
        }
    }

    /**
     * A run on the device stopped inside an epoch (and at an epoch's end) and resumed by a new
     * backend: the resumed run records its graphs anew and ends bit for bit where an uninterrupted
     * device run ends (the stand-in is deterministic), with a schedule changing the rate mid-run.
     */
    @Test
    void aDeviceRunStoppedAndResumedEqualsAnUninterruptedOne(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) {
        ModelConfig mc = new ModelConfig(64, java.util.List.of(32), 3, java.util.List.of(32), io.jvae.backend.Activation.TANH,
                io.jvae.model.Likelihood.BERNOULLI, 0, io.jvae.model.Init.GLOROT);
        io.jvae.data.Dataset train = io.jvae.testing.Synthetic.dataset("train", 600, 8, 1), test = io.jvae.testing.Synthetic.dataset("test", 100, 8, 2);
        TrainConfig tc = new TrainConfig(3, 10, io.jvae.train.OptimizerKind.ADAM, 3e-3f, 0.9f, 0.999f, 0.9f, 1e-8f, 1f, 1, 0f, 1, 7, 0, true)
                .withLrSchedule("1:3e-3,2:1e-3");
        java.util.function.BiFunction<java.nio.file.Path, java.util.function.Supplier<String>, io.jvae.train.Trainer.Result> run = (dir, stop) -> {
            CudaBackend be = CudaBackend.open(0, false);
            io.jvae.train.Trainer.Result r = new io.jvae.train.Trainer(be, mc, tc, train, test, dir,
                    new java.io.PrintStream(new java.io.ByteArrayOutputStream())).progress(false).stopWhen(stop).run(java.nio.file.Files.exists(dir.resolve("state.safetensors")));
            float[] p = new float[r.vae().params.total];
            be.download(r.vae().params.values, p, 0);
            be.close();
            lastParams = p;
            return r;
        };
        run.apply(tmp.resolve("a"), () -> null);
        float[] straight = lastParams;
        int[] polls = {0, 0};
        io.jvae.train.Trainer.Result first = run.apply(tmp.resolve("b"), () -> ++polls[0] == 23 ? "STOP" : null);
        assertEquals(List.of("STOP", 1, 23), List.of(first.interrupted(), first.epoch(), first.stepInEpoch()), "inside epoch 1");
        io.jvae.train.Trainer.Result second = run.apply(tmp.resolve("b"), () -> ++polls[1] == 37 ? "STOP" : null);
        assertEquals(List.of("STOP", 2, 0), List.of(second.interrupted(), second.epoch(), second.stepInEpoch()), "at the end of epoch 1");
        assertNull(run.apply(tmp.resolve("b"), () -> null).interrupted());
        assertSameBits("parameters after two stops and resumes on the device", straight, lastParams);
    }

    static float[] lastParams;

    @Test
    void moreStepsThanTheRingHasSlotsReplayAsTheyRunEagerly() {
        // batch 8: 75 steps an epoch, past the 64-slot page-locked ring: every slot is rewritten once
        // its earlier copy has run (the stand-in reports a host write before a queued copy as a race)
        TrainConfig tc = Preset.PYTORCH.train;
        float[][] eager, graph;
        try (CudaBackend be = CudaBackend.open(0, false)) {
            eager = train(be, tc, false, 1, 8);
        }
        try (CudaBackend be = CudaBackend.open(0, false)) {
            graph = train(be, tc, true, 1, 8);
        }
        assertSameBits("parameters after 75 steps, graph vs eager", eager[0], graph[0]);
    }

    @Test
    void readbacksLandInTheirOwnSlotAndRefuseToBeReadAfterClose() {
        CudaBackend be = CudaBackend.open(0, false);
        Tensor t = be.alloc(4, 1);
        Backend.Readback[] r = new Backend.Readback[3];
        for (int i = 0; i < 3; i++) {
            be.fill(t, i + 1);
            r[i] = be.readback(t); // the third reuses the first one's page-locked slot
        }
        for (int i = 0; i < 3; i++) assertArrayEquals(new float[] {i + 1, i + 1, i + 1, i + 1}, r[i].await(), "readback " + i);
        be.fill(t, 9);
        Backend.Readback late = be.readback(t);
        be.close();
        assertThrows(IllegalStateException.class, late::done, "its page-locked memory is gone with the backend");
    }

    @Test
    void rmspropWithL2AndIwaeReplayAsTheyRunEagerly() {
        TrainConfig seed = Preset.SEED.train;
        TrainConfig rms = new TrainConfig(1, BATCH, seed.optimizer(), seed.lr(), seed.beta1(), seed.beta2(), seed.rho(), seed.eps(), 1f, 0,
                1e-4f, 1, 1, 0, false, TrainConfig.Objective.ELBO);
        TrainConfig iwae = new TrainConfig(1, BATCH, Preset.PYTORCH.train.optimizer(), 1e-3f, 0.9f, 0.999f, 0.9f, 1e-8f, 1f, 0, 0f, 3, 1, 0,
                false, TrainConfig.Objective.IWAE);
        for (TrainConfig tc : new TrainConfig[] {rms, iwae}) {
            float[][] eager, graph;
            try (CudaBackend be = CudaBackend.open(0, false)) {
                eager = train(be, tc, false, 1);
            }
            try (CudaBackend be = CudaBackend.open(0, false)) {
                graph = train(be, tc, true, 1);
            }
            assertSameBits(tc.optimizer() + " " + tc.objective() + " parameters", eager[0], graph[0]);
        }
    }

    @Test
    void aReplayedStepLaunchesOneGraphAndCopiesOnceWithoutWaitingOrAllocating() throws Exception {
        TrainConfig tc = Preset.PYTORCH.train;
        try (CudaBackend be = CudaBackend.open(0, false)) {
            try (TrainingSteps ts = steps(be, tc, true)) {
                ts.step(0, 0, BATCH, 1f); // the first step of a batch size runs call by call (kernels load lazily)
                ts.step(1, BATCH, BATCH, 1f); // the second records the graph
                be.sync();
                JCudaDriver.cuCtxSynchronize(); // the stand-in writes its counters file at a context synchronisation
                CudaBackend.Counters before = be.counters();
                Map<String, Long> sBefore = counters();
                int steps = 40;
                for (int s = 2; s < steps + 2; s++) ts.step(s, (s * BATCH) % (N - BATCH), BATCH, 1f);
                CudaBackend.Counters d = be.counters().minus(before);
                JCudaDriver.cuCtxSynchronize();
                Map<String, Long> sAfter = counters();
                assertEquals(steps, d.graphLaunches, "one graph launch per step");
                assertEquals(0, d.launches, "no kernel launched one by one");
                assertEquals(0, d.hostSyncs, "no host synchronisation");
                assertEquals(0, d.allocs, "no device allocation");
                assertEquals(steps, d.copies, "one copy per step: the step block");
                assertEquals(steps * 4L * (CudaStepGraph.WORDS + BATCH), d.h2dBytes, "the step block: its 8 words and the batch's indices");
                assertEquals(0, d.d2hBytes);
                if (sBefore != null) { // the stand-in counts independently
                    assertEquals(steps, delta(sBefore, sAfter, "graph_launches"), sAfter.toString());
                    assertEquals(0, delta(sBefore, sAfter, "launches"), sAfter.toString());
                    assertEquals(1, delta(sBefore, sAfter, "host_syncs"), "only the test's own cuCtxSynchronize: " + sAfter);
                    assertEquals(0, delta(sBefore, sAfter, "device_allocs"), sAfter.toString());
                    assertEquals(d.h2dBytes, delta(sBefore, sAfter, "h2d_bytes"), sAfter.toString());
                }
                assertEquals(1, ((StepReplay) replayOf(ts)).records(), "one record for one batch size");
            }
        }
    }

    @Test
    void eagerStepsLaunchTheKernelsOneByOneAndNeverWait() {
        // the slides' recipe has L2 decay: fused into the optimizer, it launches no kernel of its own (it was 5 axpy)
        for (TrainConfig tc : new TrainConfig[] {Preset.PYTORCH.train, Preset.SEED.train})
            eagerLaunches(tc);
    }

    static void eagerLaunches(TrainConfig tc) {
        try (CudaBackend be = CudaBackend.open(0, false)) {
            try (TrainingSteps ts = steps(be, tc, false)) {
                CudaBackend.Counters before = be.counters();
                for (int s = 0; s < 9; s++) ts.step(s, s * BATCH, BATCH, 1f);
                CudaBackend.Counters d = be.counters().minus(before);
                // gather, 2 x (hidden bias+relu), mu and lv biases, reparam, loss (with the output bias), 2 x relu backward,
                // KL backward, Adam
                assertEquals(11 * 9, d.launches, "kernels per step of a one-hidden-layer VAE, " + tc.optimizer() + " l2 " + tc.l2());
                assertEquals(0, d.hostSyncs);
                assertEquals(0, d.allocs);
                assertEquals(0, d.graphLaunches);
            }
        }
    }

    @Test
    void aStepThatWouldFreezeAStepVaryingValueIsRefusedWhileCaptured() {
        try (CudaBackend be = CudaBackend.open(0, false)) {
            StepReplay r = be.stepReplay(4);
            Tensor mu = be.alloc(2, 4), lv = be.alloc(2, 4), eps = be.alloc(2, 4), z = be.alloc(2, 4);
            StepReplay.Values v = new StepReplay.Values(100, 0, 1f, 1f, 1f, 1e-3f);
            r.run(v, new int[] {0, 1, 2, 3}, 0, 4, () -> be.reparamForward(mu, lv, eps, z, 9, 100)); // the first runs call by call
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> r.run(v, new int[] {0, 1, 2, 3}, 0, 4, () -> be.reparamForward(mu, lv, eps, z, 9, 101)));
            assertTrue(e.getMessage().contains("reparamForward's offset is 101 but the step's value is 100"), e.getMessage());
            IllegalStateException d = assertThrows(IllegalStateException.class,
                    () -> r.run(v, new int[] {0, 1, 2, 3}, 0, 4, () -> be.download(mu, new float[8], 0)));
            assertTrue(d.getMessage().contains("download inside a captured training step"), d.getMessage());
            // the backend is still usable after a refused capture
            r.run(v, new int[] {0, 1, 2, 3}, 0, 4, () -> be.reparamForward(mu, lv, eps, z, 9, 100));
            be.sync();
            r.close();
        }
    }

    /** Training steps of model() at BATCH on N synthetic examples, in the epoch order of seed 1. */
    static TrainingSteps steps(CudaBackend be, TrainConfig tc, boolean graphs) {
        ModelConfig mc = model();
        Vae vae = new Vae(be, mc);
        vae.initParams(1);
        vae.workspace(BATCH, 1);
        Optimizer opt = new Optimizer(vae, tc);
        Tensor x = be.constant(Bench.synthetic(mc.inputDim(), N, Bench.MNIST_DENSITY).x(), mc.inputDim(), N), stats = be.alloc(4, 1);
        TrainingSteps ts = new TrainingSteps(vae, opt, tc, x, null, stats, 5, 6, graphs);
        ts.epoch(Seeds.permutation(1, 1, N));
        return ts;
    }

    static Object replayOf(TrainingSteps ts) throws Exception {
        var f = TrainingSteps.class.getDeclaredField("replay");
        f.setAccessible(true);
        return f.get(ts);
    }

    static Map<String, Long> counters() throws Exception {
        java.nio.file.Path f = StandIn.countersFile();
        return f == null || StandIn.onCard() || !java.nio.file.Files.exists(f) ? null : StandIn.readCounters(f);
    }

    static long delta(Map<String, Long> a, Map<String, Long> b, String k) {
        return b.getOrDefault(k, 0L) - a.getOrDefault(k, 0L);
    }
}

package io.jvae.train;

import io.jvae.backend.CpuBackend;
import io.jvae.io.Safetensors;
import io.jvae.model.Vae;
import io.jvae.testing.Synthetic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A run asked to stop (Trainer.stopWhen: what SIGINT/SIGTERM do in `jvae train`) saves its state
 * where it is, inside an epoch too, and --resume continues from that very step: the parameters
 * and every epoch's losses equal those of an uninterrupted run bit for bit (CPU). Then the same
 * with real signals to a `jvae train` child process: exit 130 / 143, one line, resumable.
 */
class StopResumeTest {
    @TempDir
    Path tmp;

    static TrainConfig tc() { // 600 examples at batch 10: 60 steps an epoch, three loss-sum chunks of 20
        return new TrainConfig(3, 10, OptimizerKind.ADAM, 3e-3f, 0.9f, 0.999f, 0.9f, 1e-8f, 1f, 1, 0f, 1, 7, 0, true);
    }

    Trainer trainer(Path out) {
        return trainer(out, tc());
    }

    Trainer trainer(Path out, TrainConfig t) {
        return new Trainer(new CpuBackend(), TrainerTest.MODEL, t, TrainerTest.TRAIN, TrainerTest.TEST, out,
                new PrintStream(new ByteArrayOutputStream())).progress(false);
    }

    static Supplier<String> afterPolls(int n) {
        int[] polls = {0};
        return () -> ++polls[0] >= n ? "TEST" : null;
    }

    @Test
    void stoppedInsideEpochsAndAtAnEpochsEndThenResumedEqualsUninterrupted() {
        Trainer.Result straight = trainer(tmp.resolve("a")).run(false);
        Path out = tmp.resolve("b");
        // stops after steps 7 (inside the first loss chunk), 20 (on a chunk boundary), 33, then at
        // the end of epoch 1 (the 27th poll: 26 steps, then the epoch's end), then 5 steps into epoch 3
        // (59 polls after the steps of epoch 2 but its last, 1 at its end, 5 in epoch 3)
        int[][] stops = {{7, 1, 7}, {13, 1, 20}, {13, 1, 33}, {27, 2, 0}, {65, 3, 5}};
        boolean resume = false;
        for (int[] s : stops) {
            Trainer.Result r = trainer(out).stopWhen(afterPolls(s[0])).run(resume);
            assertEquals("TEST", r.interrupted());
            assertNull(r.model(), "no model.safetensors for an interrupted run");
            assertEquals(s[1], r.epoch(), "epoch the run stopped in");
            assertEquals(s[2], r.stepInEpoch(), "steps of that epoch done");
            assertFalse(Files.exists(out.resolve("model.safetensors")));
            resume = true;
        }
        Trainer.Result done = trainer(out).run(true);
        assertNull(done.interrupted());
        float[] a = TrainerTest.params(straight), b = TrainerTest.params(done);
        assertArrayEquals(a, b, "parameters bit for bit after five stops and resumes");
        List<EpochMetrics> ma = MetricsLog.read(tmp.resolve("a/metrics.csv")), mb = MetricsLog.read(out.resolve("metrics.csv"));
        assertEquals(3, mb.size());
        for (int e = 0; e < 3; e++) {
            assertEquals(ma.get(e).train(), mb.get(e).train(), "train losses of epoch " + (e + 1) + " (the sums restored as they were)");
            assertEquals(ma.get(e).test(), mb.get(e).test(), "test losses of epoch " + (e + 1));
        }
    }

    // ---- real signals to a child `jvae train` ----

    List<String> cmd(Path data, Path out, String... more) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> c = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector", "-Xmx1g", "-cp",
                System.getProperty("java.class.path"), "io.jvae.cli.Jvae", "train", "--data", data.toString(), "--out", out.toString(),
                "--epochs", "8", "--batch", "20", "--hidden", "128", "--latent", "4", "--device", "cpu", "--no-progress"));
        c.addAll(List.of(more));
        return c;
    }

    record Ran(int code, String out) {}

    Ran run(List<String> cmd, String signal, int count) throws Exception {
        Path log = tmp.resolve("log-" + System.nanoTime() + ".txt");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (signal != null) {
            // after the run's first epoch line: the handlers are in place and training runs
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (p.isAlive() && !Files.readString(log).contains("  train ") && System.nanoTime() < deadline) Thread.sleep(5);
            for (int i = 0; i < count; i++) {
                Process k = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).start();
                assertEquals(0, k.waitFor(), "kill -" + signal);
            }
        }
        assertTrue(p.waitFor(300, TimeUnit.SECONDS));
        return new Ran(p.exitValue(), Files.readString(log));
    }

    /** Whether this process ignores SIGINT (a background job's does; its children inherit it, and the JVM then leaves it ignored). */
    static boolean sigintIgnored() throws Exception {
        for (String l : Files.readAllLines(Path.of("/proc/self/status")))
            if (l.startsWith("SigIgn:")) return (Long.parseUnsignedLong(l.substring(7).trim(), 16) & 0x2) != 0;
        return false;
    }

    @Test
    void sigtermAndSigintSaveTheStateExitWithTheirStatusAndResumeBitForBit() throws Exception {
        Path data = tmp.resolve("data");
        Files.createDirectories(data);
        Synthetic.writeMnistLike(data, 3000, 300);
        Ran straight = run(cmd(data, tmp.resolve("straight")), null, 0);
        assertEquals(0, straight.code(), straight.out());

        Path out = tmp.resolve("signalled");
        Ran term = run(cmd(data, out), "TERM", 1);
        assertEquals(143, term.code(), term.out());
        assertTrue(term.out().contains("interrupted by SIGTERM"), term.out());
        assertTrue(term.out().contains("the same command with --resume continues"), term.out());
        assertFalse(term.out().contains("Exception"), term.out());
        if (sigintIgnored()) {
            System.out.println("StopResumeTest: SIGINT is ignored in this process group (a background job): its case is not run");
        } else {
            Ran intr = run(cmd(data, out, "--resume"), "INT", 1);
            assertEquals(130, intr.code(), intr.out());
            assertTrue(intr.out().contains("interrupted by SIGINT"), intr.out());
        }
        Ran rest = run(cmd(data, out, "--resume"), null, 0);
        assertEquals(0, rest.code(), rest.out());

        Safetensors.File a = Safetensors.read(tmp.resolve("straight/model.safetensors")), b = Safetensors.read(out.resolve("model.safetensors"));
        for (String name : a.tensors().keySet())
            assertArrayEquals(a.tensors().get(name).data(), b.tensors().get(name).data(), name + " bit for bit after the signals and resumes");
        List<EpochMetrics> ma = MetricsLog.read(tmp.resolve("straight/metrics.csv")), mb = MetricsLog.read(out.resolve("metrics.csv"));
        assertEquals(ma.size(), mb.size());
        for (int e = 0; e < ma.size(); e++) assertEquals(ma.get(e).train(), mb.get(e).train(), "train losses of epoch " + (e + 1));
    }

    @Test
    void anExperimentStopsOnSigtermAndTheSameCommandFinishesItBitForBit() throws Exception {
        Path data = tmp.resolve("exp-data");
        Files.createDirectories(data);
        Synthetic.writeMnistLike(data, 3000, 300);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        java.util.function.Function<Path, List<String>> exp = out -> List.of(java, "--add-modules", "jdk.incubator.vector", "-Xmx1g", "-cp",
                System.getProperty("java.class.path"), "io.jvae.cli.Jvae", "experiment", "repeat", "--runs", "2", "--epochs", "4",
                "--batch", "20", "--data", data.toString(), "--out", out.toString(), "--device", "cpu");
        Ran straight = run(exp.apply(tmp.resolve("exp-a")), null, 0);
        assertEquals(0, straight.code(), straight.out());
        Ran term = run(exp.apply(tmp.resolve("exp-b")), "TERM", 1);
        assertEquals(143, term.code(), term.out());
        assertTrue(term.out().contains("interrupted by SIGTERM") && term.out().contains("the same command continues"), term.out());
        Ran rest = run(exp.apply(tmp.resolve("exp-b")), null, 0);
        assertEquals(0, rest.code(), rest.out());
        for (String r : new String[] {"run-01", "run-02"}) {
            Safetensors.File a = Safetensors.read(tmp.resolve("exp-a").resolve(r).resolve("model.safetensors"));
            Safetensors.File b = Safetensors.read(tmp.resolve("exp-b").resolve(r).resolve("model.safetensors"));
            for (String name : a.tensors().keySet())
                assertArrayEquals(a.tensors().get(name).data(), b.tensors().get(name).data(), r + " " + name);
        }
    }

    @Test
    void aSecondSignalHaltsAtOnce() throws Exception {
        // in this JVM, with the halt recorded instead of done: sun.misc.Signal.raise delivers to the installed handler
        java.util.concurrent.LinkedBlockingQueue<Integer> halts = new java.util.concurrent.LinkedBlockingQueue<>();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (var signals = io.jvae.cli.StopSignalsAccess.install(new PrintStream(err, true), halts::add)) {
            sun.misc.Signal.raise(new sun.misc.Signal("TERM"));
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!err.toString().contains("stopping after this step") && System.nanoTime() < deadline) Thread.sleep(5); // printed after the flag is set
            assertEquals("SIGTERM", signals.get());
            assertTrue(err.toString().contains("stopping after this step"), err.toString());
            assertTrue(halts.isEmpty(), "the first signal only asks");
            sun.misc.Signal.raise(new sun.misc.Signal("TERM"));
            assertEquals(143, halts.poll(10, TimeUnit.SECONDS), "the second one halts with 128 + 15");
        }
    }

    @Test
    void aStateSavedInsideAnEpochIsRefusedByOlderReadersAndNeedsEnoughEpochs() {
        Path out = tmp.resolve("partial");
        Trainer.Result r = trainer(out).stopWhen(afterPolls(70)).run(false); // 10 steps into epoch 2
        assertEquals(2, r.epoch());
        Safetensors.File f = Safetensors.read(out.resolve("state.safetensors"));
        assertNull(f.metadata().get("jvae.state"), "older jvae requires jvae.state: it refuses this file instead of misreading it");
        assertTrue(f.metadata().get("jvae.partial_state").contains("\"step_in_epoch\":10"), f.metadata().toString());
        TrainConfig one = new TrainConfig(1, 10, OptimizerKind.ADAM, 3e-3f, 0.9f, 0.999f, 0.9f, 1e-8f, 1f, 1, 0f, 1, 7, 0, true);
        io.jvae.InvalidInputException e = assertThrows(io.jvae.InvalidInputException.class, () -> new Trainer(new CpuBackend(),
                TrainerTest.MODEL, one, TrainerTest.TRAIN, TrainerTest.TEST, out, new PrintStream(new ByteArrayOutputStream())).progress(false).run(true));
        assertEquals("--resume: the run stopped inside epoch 2; --epochs must be at least 2, got 1", e.getMessage());
    }

    @Test
    void iwaeEarlyStoppingAndScheduledRunsStopAndResumeBitForBit() throws Exception {
        // IWAE: the open chunk carries the IWAE sum too; patience: a stop at an epoch's end keeps the early-stopping record
        TrainConfig iwae = new TrainConfig(2, 10, OptimizerKind.ADAM, 3e-3f, 0.9f, 0.999f, 0.9f, 1e-8f, 1f, 0, 0f, 3, 7, 0, true,
                TrainConfig.Objective.IWAE);
        TrainConfig patient = new TrainConfig(4, 10, OptimizerKind.ADAM, 3e-3f, 0.9f, 0.999f, 0.9f, 1e-8f, 1f, 0, 0f, 1, 7, 1, false);
        TrainConfig scheduled = tc().withLrSchedule("1:3e-3,1:1e-3,1:3e-4"); // the rate changes at each epoch: resumed by epoch
        for (TrainConfig t : new TrainConfig[] {iwae, patient, scheduled}) {
            String k = t.objective() + "-" + t.patience();
            Trainer.Result straight = trainer(tmp.resolve(k + "-a"), t).run(false);
            Path out = tmp.resolve(k + "-b");
            assertNotNull(trainer(out, t).stopWhen(afterPolls(13)).run(false).interrupted());
            assertNotNull(trainer(out, t).stopWhen(afterPolls(47)).run(true).interrupted()); // the end of epoch 1
            Trainer.Result done = trainer(out, t).run(true);
            assertArrayEquals(TrainerTest.params(straight), TrainerTest.params(done), k + ": parameters bit for bit");
            assertEquals(straight.bestEpoch(), done.bestEpoch(), k);
            assertEquals(straight.stoppedEarly(), done.stoppedEarly(), k);
            List<EpochMetrics> ma = MetricsLog.read(tmp.resolve(k + "-a/metrics.csv")), mb = MetricsLog.read(out.resolve("metrics.csv"));
            assertEquals(ma.size(), mb.size(), k);
            for (int e = 0; e < ma.size(); e++) assertEquals(ma.get(e).train(), mb.get(e).train(), k + " train losses of epoch " + (e + 1));
        }
        // the scheduled run's metrics.jsonl records each epoch's rate
        List<String> rows = Files.readAllLines(tmp.resolve("ELBO-0-b/metrics.jsonl"));
        String[] want = {"\"lr\":0.003", "\"lr\":0.001", "\"lr\":3.0E-4"};
        assertEquals(3, rows.size());
        for (int e = 0; e < 3; e++) assertTrue(rows.get(e).endsWith(want[e] + "}"), rows.get(e));
    }
}

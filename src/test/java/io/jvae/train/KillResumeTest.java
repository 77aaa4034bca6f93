package io.jvae.train;

import io.jvae.backend.CpuBackend;
import io.jvae.io.Safetensors;
import io.jvae.model.Vae;
import io.jvae.testing.Synthetic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A training process is killed with SIGKILL at 20 random moments (seeded). After every kill the
 * last checkpoint must load, and `train --resume` continues; the final parameters must equal,
 * bit for bit, those of an uninterrupted run with the same seed (the CPU path is deterministic).
 */
class KillResumeTest {
    @TempDir
    Path tmp;

    static final int KILLS = 20;

    List<String> cmd(Path data, Path out, boolean resume) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> c = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector", "-Xmx1g", "-cp",
                System.getProperty("java.class.path"), "io.jvae.cli.Jvae", "train", "--data", data.toString(), "--out", out.toString(),
                "--epochs", "60", "--batch", "50", "--hidden", "128", "--latent", "4", "--device", "cpu", "--no-progress"));
        // a kill before the first state file leaves metrics but nothing to resume: that run starts over
        c.add(resume ? "--resume" : "--overwrite");
        return c;
    }

    Process start(Path data, Path out, boolean resume) throws Exception {
        return new ProcessBuilder(cmd(data, out, resume)).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("log-" + System.nanoTime() + ".txt").toFile()).start();
    }

    static int metricRows(Path dir) {
        try {
            return (int) Math.max(0, Files.readAllLines(dir.resolve("metrics.csv")).stream().filter(l -> !l.isBlank()).count() - 1);
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    @Test
    void killedTwentyTimesThenResumedEqualsUninterrupted() throws Exception {
        Path data = tmp.resolve("data");
        Files.createDirectories(data);
        Synthetic.writeMnistLike(data, 2000, 300);

        Path straight = tmp.resolve("straight");
        long t0 = System.nanoTime();
        Process p = start(data, straight, false);
        double firstCheckpoint = -1; // seconds from start until state.safetensors appears (JVM start-up + epoch 1)
        while (p.isAlive()) {
            if (firstCheckpoint < 0 && Files.isRegularFile(straight.resolve("state.safetensors"))) firstCheckpoint = (System.nanoTime() - t0) / 1e9;
            Thread.sleep(5);
        }
        assertEquals(0, p.exitValue(), "uninterrupted run");
        double fullSeconds = (System.nanoTime() - t0) / 1e9;
        if (firstCheckpoint < 0) firstCheckpoint = fullSeconds;
        double epochSeconds = Math.max(0.01, (fullSeconds - firstCheckpoint) / 59);

        Path killed = tmp.resolve("killed");
        Random rnd = new Random(20261124);
        int loadsChecked = 0, kills = 0, finished = 0;
        while (kills < KILLS) {
            boolean resume = Files.isRegularFile(killed.resolve("state.safetensors"));
            int rowsBefore = metricRows(killed);
            Process q = start(data, killed, resume);
            // event-driven, so machine load does not matter: wait for the process to finish one more
            // epoch (its metrics row is appended just before the checkpoint is written), then kill it a
            // random time later, from "during that checkpoint write" to "in the middle of the next epoch"
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (q.isAlive() && metricRows(killed) <= rowsBefore && System.nanoTime() < deadline) Thread.sleep(2);
            // the delay comes from the uninterrupted run's epoch time, which the machine's load can
            // make unrepresentative: never let a run get more than one further epoch past that row,
            // so 20 kills cannot use up the 60 epochs
            long until = System.nanoTime() + (long) (rnd.nextDouble() * 1.2 * epochSeconds * 1e9);
            while (q.isAlive() && System.nanoTime() < until && metricRows(killed) <= rowsBefore + 1) Thread.sleep(1);
            if (!q.isAlive()) {
                assertEquals(0, q.exitValue(), "a run that finished before its kill");
                assertTrue(++finished < 100, "runs keep finishing before their kill");
                continue;
            }
            q.destroyForcibly(); // SIGKILL
            kills++;
            assertTrue(q.waitFor(30, TimeUnit.SECONDS));
            Path state = killed.resolve("state.safetensors");
            if (Files.isRegularFile(state)) { // the last checkpoint always loads
                Safetensors.File f = Safetensors.read(state);
                Vae vae = new Vae(new CpuBackend(), Checkpoint.config(f, state));
                Checkpoint.Restored r = Checkpoint.loadState(state, vae,
                        new Optimizer(vae, TrainConfig.fromJson(f.metadata().get("jvae.train"))));
                assertTrue(r.state().epoch() >= 1);
                loadsChecked++;
            }
        }
        Process last = start(data, killed, Files.isRegularFile(killed.resolve("state.safetensors")));
        assertTrue(last.waitFor(300, TimeUnit.SECONDS));
        assertEquals(0, last.exitValue(), "the final resume");
        System.out.printf("KillResumeTest: %d SIGKILLs (%d after the first checkpoint, each followed by a successful load), %d runs finished before their kill; uninterrupted run %.1f s, first checkpoint at %.1f s%n",
                kills, loadsChecked, finished, fullSeconds, firstCheckpoint);
        assertTrue(loadsChecked >= KILLS - 1, "kills landed after the first checkpoint only " + loadsChecked + " times");

        Safetensors.File a = Safetensors.read(straight.resolve("model.safetensors")), b = Safetensors.read(killed.resolve("model.safetensors"));
        assertEquals(a.tensors().keySet(), b.tensors().keySet());
        for (String name : a.tensors().keySet())
            assertArrayEquals(a.tensors().get(name).data(), b.tensors().get(name).data(), name + " bitwise equal after kills and resumes");
        List<EpochMetrics> ma = MetricsLog.read(straight.resolve("metrics.csv")), mb = MetricsLog.read(killed.resolve("metrics.csv"));
        assertEquals(ma.size(), mb.size());
        for (int e = 0; e < ma.size(); e++) assertEquals(ma.get(e).test(), mb.get(e).test(), "test losses of epoch " + (e + 1));
    }
}

package io.jvae.cli;

import io.jvae.backend.CpuBackend;
import io.jvae.io.Safetensors;
import io.jvae.model.Vae;
import io.jvae.testing.Synthetic;
import io.jvae.train.Checkpoint;
import io.jvae.train.Optimizer;
import io.jvae.train.TrainConfig;
import io.jvae.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Writes that fail: a file-size limit (`ulimit -f`, the same failing write(2) as a full disk) on a
 * checkpoint and on a figure, and the run folder removed mid-run. Each gives one line naming the
 * file and the cause, exit 1, no temp file left, and the previous checkpoint still loads.
 */
class WriteFailureTest {
    @TempDir
    Path tmp;

    record Ran(int code, String out) {}

    /** jvae in a child JVM under `ulimit -f KB` (0: no limit). */
    Ran jvae(int ulimitKb, String... args) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> c = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector", "-Xmx1g", "-cp",
                System.getProperty("java.class.path"), "io.jvae.cli.Jvae"));
        c.addAll(List.of(args));
        StringBuilder sh = new StringBuilder(ulimitKb > 0 ? "ulimit -f " + ulimitKb + "; exec" : "exec");
        for (String a : c) sh.append(" '").append(a.replace("'", "'\\''")).append("'");
        Process p = new ProcessBuilder("bash", "-c", sh.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(300, TimeUnit.SECONDS));
        return new Ran(p.exitValue(), out);
    }

    static List<String> errorLines(String out) {
        return out.lines().filter(l -> l.startsWith("jvae: ") || l.contains("Exception") || l.contains("\tat ")).toList();
    }

    @Test
    void aFileSizeLimitOnTheStateOrAFigureIsOneLineAndTheLastCheckpointLoads() throws Exception {
        Path data = tmp.resolve("data"), run = tmp.resolve("run");
        Files.createDirectories(data);
        Synthetic.writeMnistLike(data, 600, 100);
        String[] train = {"train", "--data", data.toString(), "--out", run.toString(), "--device", "cpu", "--no-progress", "--batch", "100"};
        Ran first = jvae(0, concat(train, "--epochs", "1"));
        assertEquals(0, first.code(), first.out());
        byte[] before = Files.readAllBytes(run.resolve("state.safetensors"));
        // the pytorch preset's state is ~10 MB, its model 2.6 MB: a 4 MB limit fails the state write
        Ran limited = jvae(4000, concat(train, "--epochs", "2", "--resume"));
        assertEquals(1, limited.code(), limited.out());
        assertEquals(List.of("jvae: writing " + run.resolve("state.safetensors") + ": File too large"), errorLines(limited.out()));
        assertArrayEquals(before, Files.readAllBytes(run.resolve("state.safetensors")), "the previous state, untouched");
        try (var s = Files.list(run)) {
            assertTrue(s.noneMatch(f -> f.getFileName().toString().endsWith(".tmp")), "no temp file left");
        }
        Safetensors.File f = Safetensors.read(run.resolve("state.safetensors"));
        Vae vae = new Vae(new CpuBackend(), Checkpoint.config(f, run.resolve("state.safetensors")));
        Checkpoint.Restored r = Checkpoint.loadState(run.resolve("state.safetensors"), vae,
                new Optimizer(vae, TrainConfig.fromJson(f.metadata().get("jvae.train"))));
        assertEquals(1, r.state().epoch());
        Ran resumed = jvae(0, concat(train, "--epochs", "2", "--resume"));
        assertEquals(0, resumed.code(), resumed.out());
        assertTrue(resumed.out().contains("epoch   2"), resumed.out());

        // a figure: 1 KB is less than the manifold's PNG
        Path figs = tmp.resolve("figs");
        Ran fig = jvae(1, "manifold", run.resolve("model.safetensors").toString(), "--n", "5", "--data", data.toString(),
                "--out", figs.toString(), "--device", "cpu");
        assertEquals(1, fig.code(), fig.code() + ": " + fig.out());
        // (a 1 KB limit also keeps JavaCPP from unpacking OpenBLAS's JNI library: its one-line warning is the other jvae: line)
        List<String> lines = errorLines(fig.out()).stream().filter(l -> !l.contains("no native BLAS")).toList();
        assertEquals(1, lines.size(), fig.out());
        assertTrue(lines.get(0).matches("jvae: writing " + java.util.regex.Pattern.quote(figs.toString()) + "/manifold\\.(png|csv): File too large"),
                fig.out());
    }

    @Test
    void aRunFolderRemovedMidRunStopsTheRunWithOneLine() {
        Path out = tmp.resolve("gone");
        Trainer t = new Trainer(new CpuBackend(), io.jvae.train.TrainerTestAccess.MODEL, io.jvae.train.TrainerTestAccess.tc(3),
                io.jvae.train.TrainerTestAccess.TRAIN, io.jvae.train.TrainerTestAccess.TEST, out, new PrintStream(new ByteArrayOutputStream()))
                .progress(false).listener((epoch, vae, m) -> {
                    if (epoch == 1) io.jvae.io.AtomicFiles.deleteTree(out);
                });
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> t.run(false));
        assertEquals("writing " + out.resolve("metrics.csv") + ": the folder " + out.toAbsolutePath() + " is gone", e.getMessage());
        assertFalse(Files.exists(out), "not re-created half empty");
    }

    static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}

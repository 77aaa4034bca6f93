package io.jvae.backend.cuda;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Rebuilds the PTX with kernels/build-ptx.sh (nvcc + ptxas for sm_75/80/90) and fails if the committed file is stale. */
class PtxFreshnessTest {
    @TempDir
    Path tmp;

    static boolean onPath(String exe) {
        String path = System.getenv("PATH");
        if (path == null) return false;
        for (String d : path.split(java.io.File.pathSeparator)) if (Files.isExecutable(Path.of(d, exe))) return true;
        return false;
    }

    @Test
    void committedPtxIsWhatTheSourceBuildsTo() throws Exception {
        Assumptions.assumeTrue(onPath("nvcc") && onPath("ptxas"), "nvcc/ptxas not on the PATH: PTX freshness not checked");
        Path out = tmp.resolve("vae_kernels.ptx");
        Process p = new ProcessBuilder("bash", "kernels/build-ptx.sh", out.toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "build-ptx.sh timed out");
        assertEquals(0, p.exitValue(), "build-ptx.sh failed (ptxas rejected it for sm_75/80/90?):\n" + log);
        String fresh = Files.readString(out), committed = Files.readString(Path.of("src/main/resources/io/jvae/cuda/vae_kernels.ptx"));
        assertEquals(fresh, committed, "src/main/resources/io/jvae/cuda/vae_kernels.ptx is stale: run kernels/build-ptx.sh and commit it");
    }
}

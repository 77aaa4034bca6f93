package io.jvae.train;

import io.jvae.backend.CpuBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** What a training run leaves on disk: the files' permissions. */
class CheckpointTest {
    @TempDir
    Path dir;

    static String perms(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    /**
     * Checkpoints are written to a temp file and renamed; they must end up with the permissions
     * any new file gets under the process umask (rw-r--r-- under umask 022), as metrics.csv does,
     * not Files.createTempFile's rw-------.
     */
    @Test
    void checkpointsGetTheUmasksPermissionsLikeAnyNewFile() throws Exception {
        assumeTrue(Files.getFileAttributeView(dir, PosixFileAttributeView.class) != null, "no POSIX permissions on this file system");
        Path probe = Files.createFile(dir.resolve("probe"));
        String plain = perms(probe);
        assumeTrue(plain.equals("rw-r--r--"), () -> "this test assumes umask 022, but a new file here is " + plain);
        Files.delete(probe);

        Path out = dir.resolve("run");
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        new Trainer(new CpuBackend(), TrainerTest.MODEL, TrainerTest.tc(1, 0, 1e-3f), TrainerTest.TRAIN, TrainerTest.TEST, out, quiet)
                .progress(false).run(false);
        for (String f : new String[] {"model.safetensors", "best.safetensors", "state.safetensors", "metrics.csv", "metrics.jsonl"})
            assertEquals("rw-r--r--", perms(out.resolve(f)), f);
        try (var s = Files.list(out)) {
            assertEquals(0, s.filter(p -> p.getFileName().toString().startsWith(".") && !p.getFileName().toString().equals(RunLock.NAME)).count(),
                    "no temp file left behind (the run lock's file stays)");
        }
    }
}

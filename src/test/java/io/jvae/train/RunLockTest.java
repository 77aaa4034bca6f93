package io.jvae.train;

import io.jvae.InvalidInputException;
import io.jvae.backend.CpuBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** One process at a time in a run folder (issue #20): a second one fails at once naming the holder; a killed holder leaves no lock. */
class RunLockTest {
    @TempDir
    Path dir;

    /** A child JVM that holds the lock of args[0] until it is killed. */
    public static void main(String[] args) throws Exception {
        RunLock.acquire(Path.of(args[0]));
        System.out.println("locked");
        System.out.flush();
        Thread.sleep(600_000);
    }

    @Test
    void aSecondTrainingInTheSameFolderFailsAtOnceNamingTheProcessThatHoldsIt() throws Exception {
        Path run = dir.resolve("run");
        Process holder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), RunLockTest.class.getName(), run.toString()).redirectErrorStream(true).start();
        try {
            assertEquals("locked", new java.io.BufferedReader(new java.io.InputStreamReader(holder.getInputStream())).readLine());
            Trainer t = new Trainer(new CpuBackend(), TrainerTest.MODEL, TrainerTest.tc(1, 0, 1e-3f), TrainerTest.TRAIN, TrainerTest.TEST, run,
                    new PrintStream(new ByteArrayOutputStream())).progress(false);
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> t.run(false));
            assertTrue(e.getMessage().contains("is in use by another jvae run (pid " + holder.pid() + " "), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), "one line");
        } finally {
            holder.destroyForcibly();
            assertTrue(holder.waitFor(30, TimeUnit.SECONDS));
        }
        // killed: the OS dropped its lock, nothing stale is left to clean up
        try (RunLock l = RunLock.acquire(run)) {
            assertNotNull(l);
        }
    }

    @Test
    void twoRunsInOneJvmCannotShareAFolderEither() {
        try (RunLock l = RunLock.acquire(dir)) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> RunLock.acquire(dir));
            assertTrue(e.getMessage().contains("(pid " + ProcessHandle.current().pid()), e.getMessage());
        }
        try (RunLock again = RunLock.acquire(dir)) { // released by close
            assertNotNull(again);
        }
    }
}

package io.jvae.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Files replaced whole: the new content goes to a temp file beside the target, is forced to disk,
 * then renamed over the target, and the directory is forced too, so a crash or a failed write leaves
 * either the old file or the new one, never half of one, and a finished write stays after a power
 * cut. Checkpoints, metrics rewritten on --resume and figures go through here.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    private static final AtomicLong DIRECTORY_SYNCS = new AtomicLong();

    /** Writes the new content into the temp file's channel; may throw midway (the target is then untouched). */
    @FunctionalInterface
    public interface Body {
        void write(FileChannel ch) throws IOException;
    }

    /**
     * A failed write as one line for the user: "writing FILE: CAUSE", the cause in words (a full
     * disk, a file-size limit, a folder removed or not writable), for the CLI's exit 1.
     */
    public static java.io.UncheckedIOException failure(String doing, Path file, IOException e) {
        return new java.io.UncheckedIOException(doing + " " + file + ": " + cause(file, e), e);
    }

    /** What went wrong, in words: java.nio's exceptions often carry only the path. */
    public static String cause(Path file, IOException e) {
        Path dir = file.toAbsolutePath().getParent();
        if (e instanceof java.nio.file.NoSuchFileException)
            return dir != null && !Files.isDirectory(dir) ? "the folder " + dir + " is gone" : "no such file or directory";
        if (e instanceof java.nio.file.AccessDeniedException) return "permission denied";
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) return f.getReason();
        // the innermost message: a wrapper's (ImageIO's "I/O error writing PNG file!") hides the system's ("File too large")
        String m = null;
        for (Throwable t = e; t != null && t != t.getCause(); t = t.getCause())
            if (t.getMessage() != null && !t.getMessage().isBlank()) m = t.getMessage();
        return m == null ? e.getClass().getSimpleName() : m;
    }

    /** Replaces target with what body writes (creating the directory if needed). */
    public static void write(Path target, Body body) throws IOException {
        try (Pending p = prepare(target, body)) {
            p.commit();
        }
    }

    /**
     * Writes and forces the temp file but leaves the target alone until commit(), so that several
     * files can be written first and renamed only when all were written. close() deletes the temp
     * file unless it was committed.
     */
    public static Pending prepare(Path target, Body body) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = newTempFile(dir, target.getFileName().toString());
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            body.write(ch);
            ch.force(true);
        } catch (IOException | RuntimeException | Error e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return new Pending(tmp, target, dir);
    }

    /** A written temp file waiting to be renamed over its target. */
    public static final class Pending implements AutoCloseable {
        private final Path tmp, target, dir;
        private boolean committed;

        private Pending(Path tmp, Path target, Path dir) {
            this.tmp = tmp;
            this.target = target;
            this.dir = dir;
        }

        /** Renames the temp file over the target, then syncs the directory so the rename survives a power cut. */
        public void commit() throws IOException {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            committed = true;
            syncDirectory(dir);
        }

        @Override
        public void close() throws IOException {
            if (!committed) Files.deleteIfExists(tmp);
        }
    }

    /**
     * A new empty ".NAME.RANDOM.tmp" in dir, created as any plain new file is (Files.createFile:
     * open with O_CREAT|O_EXCL and mode 0666), so the OS applies the process umask, and a default
     * ACL of the directory, exactly as it does for metrics.csv: rw-r--r-- under umask 022. The rename
     * keeps these permissions. (Files.createTempFile would give rw------- whatever the umask.)
     * O_EXCL also refuses a name that exists, even as a symlink; another random name is then tried.
     */
    static Path newTempFile(Path dir, String name) throws IOException {
        for (int attempt = 1; ; attempt++) {
            Path p = dir.resolve("." + name + "." + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36) + ".tmp");
            try {
                return Files.createFile(p);
            } catch (FileAlreadyExistsException e) {
                if (attempt == 100) throw e;
            }
        }
    }

    /**
     * fsync(2) of a directory (POSIX: what makes a rename into it durable): opened with
     * FileChannel.open(dir, READ), then force(true). Returns false where the platform refuses:
     * Windows cannot open a directory as a channel, and some file systems reject fsync on one
     * (EINVAL). That failure is ignored silently, on purpose: the file's data were forced before the
     * rename, so all a missed directory sync can cost after a crash is the rename itself (the
     * previous file, whole, is then still there), and failing a finished write for it would be worse.
     */
    public static boolean syncDirectory(Path dir) {
        DIRECTORY_SYNCS.incrementAndGet();
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** How many times syncDirectory has been called in this JVM (tests check that writes call it). */
    static long directorySyncs() {
        return DIRECTORY_SYNCS.get();
    }

    /** Removes a temp directory tree, best effort: a leftover one is harmless. */
    public static void deleteTree(Path p) {
        if (!Files.exists(p)) return;
        try (var s = Files.walk(p)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(q -> q.toFile().delete());
        } catch (IOException ignored) {
            // best effort
        }
    }
}

package io.jvae.train;

import io.jvae.InvalidInputException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One process at a time in a run folder: an OS file lock on {@code .jvae.lock} (fcntl on Linux),
 * which the kernel drops when the process ends however it ends, so a killed run never leaves a
 * lock behind. The holder writes its pid and command into the file, so a second run can say who
 * holds it. A second run in the same JVM (two trainers on one folder) is refused too.
 */
final class RunLock implements AutoCloseable {
    static final String NAME = ".jvae.lock";
    private final FileChannel channel;
    private final FileLock lock;

    private RunLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** Locks dir (created if needed) or fails with one line naming the holder. */
    public static RunLock acquire(Path dir) {
        Path f = dir.resolve(NAME);
        FileChannel ch = null;
        try {
            Files.createDirectories(dir);
            ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock l;
            try {
                l = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                l = null; // held by this JVM
            }
            if (l == null) {
                String holder = holder(ch);
                ch.close();
                throw new InvalidInputException(dir + " is in use by another jvae run (" + holder + "); wait for it to finish, or use another --out");
            }
            ProcessHandle me = ProcessHandle.current();
            byte[] who = ("pid " + me.pid() + " " + me.info().commandLine().orElse("java") + "\n").getBytes(StandardCharsets.UTF_8);
            ch.truncate(0);
            ch.write(ByteBuffer.wrap(who), 0);
            ch.force(false);
            return new RunLock(ch, l);
        } catch (IOException e) {
            try {
                if (ch != null) ch.close();
            } catch (IOException ignored) {
                // the lock attempt's error is the one to report
            }
            throw new InvalidInputException("output directory " + dir + " cannot be written: " + e.getMessage());
        }
    }

    private static String holder(FileChannel ch) {
        try {
            ByteBuffer b = ByteBuffer.allocate(512);
            int n = ch.read(b, 0);
            String s = n <= 0 ? "" : new String(b.array(), 0, n, StandardCharsets.UTF_8).strip();
            s = s.lines().findFirst().orElse("");
            return s.isEmpty() ? "pid unknown" : s.length() > 160 ? s.substring(0, 160) + "..." : s;
        } catch (IOException e) {
            return "pid unknown";
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException ignored) {
            // the OS drops the lock with the channel or the process anyway
        }
    }
}

package io.jvae.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class AtomicFilesTest {
    @TempDir
    Path dir;

    static String perms(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    /** Skips unless a plain new file here is rw-r--r-- (POSIX file system, umask 022). */
    void assumeUmask022() throws IOException {
        assumeTrue(Files.getFileAttributeView(dir, PosixFileAttributeView.class) != null, "no POSIX permissions on this file system");
        Path probe = Files.createFile(dir.resolve("probe"));
        String plain = perms(probe);
        Files.delete(probe);
        assumeTrue(plain.equals("rw-r--r--"), () -> "this test assumes umask 022, but a new file here is " + plain);
    }

    static long files(Path d) throws IOException {
        try (var s = Files.list(d)) {
            return s.count();
        }
    }

    @Test
    void replacedFilesGetThePermissionsOfAPlainNewFile() throws Exception {
        assumeUmask022();
        Path st = dir.resolve("m.safetensors");
        Safetensors.write(st, Map.of("w", new Safetensors.Entry(new long[] {1}, new float[] {1f})), null);
        assertEquals("rw-r--r--", perms(st), "safetensors");
        Path png = dir.resolve("fig.png");
        io.jvae.viz.ImageGrid.write(new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB), png);
        assertEquals("rw-r--r--", perms(png), "figure");
        assertEquals(2, files(dir), "no temp file left behind");
    }

    @Test
    void syncDirectoryForcesANormalDirectoryAndToleratesRefusal() {
        assertTrue(AtomicFiles.syncDirectory(dir) || System.getProperty("os.name").startsWith("Windows"),
                "fsync of a directory works on Linux and macOS");
        assertFalse(AtomicFiles.syncDirectory(dir.resolve("missing")), "cannot open: false, no exception");
    }

    @Test
    void aReplacedFileSyncsItsDirectoryAfterTheRename() throws Exception {
        long before = AtomicFiles.directorySyncs();
        Path st = dir.resolve("m.safetensors");
        Safetensors.write(st, Map.of("w", new Safetensors.Entry(new long[] {1}, new float[] {1f})), null);
        assertEquals(before + 1, AtomicFiles.directorySyncs(), "one directory sync per replaced file");
    }

    @Test
    void aBodyThatFailsMidwayLeavesTheTargetAndNoTempFile() throws Exception {
        Path t = dir.resolve("t.txt");
        Files.writeString(t, "old");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(t, ch -> {
            ch.write(ByteBuffer.wrap("new, half".getBytes()));
            throw new IOException("injected");
        }));
        assertEquals("injected", e.getMessage());
        assertEquals("old", Files.readString(t));
        assertEquals(1, files(dir), "no temp file left behind");
        AtomicFiles.write(t, ch -> ch.write(ByteBuffer.wrap("new".getBytes())));
        assertEquals("new", Files.readString(t));
        assertEquals(1, files(dir));
    }
}

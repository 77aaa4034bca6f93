package io.jvae.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class MetricsLogTest {
    @TempDir
    Path dir;

    static EpochMetrics row(int epoch) {
        return new EpochMetrics(epoch, new Losses(100 - epoch, 90 - epoch, 10), new Losses(101 - epoch, 91 - epoch, 10), 1f, 2.5, 1000);
    }

    /** Passes the first `limit` bytes, then fails as a full disk would. */
    static OutputStream failingAfter(OutputStream out, int limit) {
        return new FilterOutputStream(out) {
            int written;

            @Override
            public void write(int b) throws IOException {
                if (++written > limit) throw new IOException("No space left on device (injected after " + limit + " bytes)");
                super.write(b);
            }
        };
    }

    @Test
    void aResumeRewriteThatFailsMidwayLeavesTheOldFilesWhole() throws Exception {
        MetricsLog log = new MetricsLog(dir);
        log.open(0);
        for (int e = 1; e <= 3; e++) log.append(row(e));
        byte[] csv = Files.readAllBytes(log.csv), jsonl = Files.readAllBytes(log.jsonl);

        log.rewriteStream = o -> failingAfter(o, 20); // 20 bytes: inside the csv header, and inside the first jsonl row
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> log.open(2));
        assertTrue(e.getMessage().contains("metrics.csv") && e.getMessage().contains("No space left"), e.getMessage());
        assertArrayEquals(csv, Files.readAllBytes(log.csv), "metrics.csv as before the failed rewrite");
        assertArrayEquals(jsonl, Files.readAllBytes(log.jsonl), "metrics.jsonl as before the failed rewrite");
        try (var s = Files.list(dir)) {
            assertEquals(List.of("metrics.csv", "metrics.jsonl"), s.map(p -> p.getFileName().toString()).sorted().toList(), "no temp file left behind");
        }

        // metrics.csv written whole, metrics.jsonl fails: neither file is replaced, the two stay in step
        int[] opened = {0};
        log.rewriteStream = o -> ++opened[0] == 2 ? failingAfter(o, 20) : o;
        assertThrows(UncheckedIOException.class, () -> log.open(2));
        assertEquals(2, opened[0]);
        assertArrayEquals(csv, Files.readAllBytes(log.csv), "metrics.csv not replaced when metrics.jsonl failed");
        assertArrayEquals(jsonl, Files.readAllBytes(log.jsonl));
        try (var s = Files.list(dir)) {
            assertEquals(2, s.count(), "no temp file left behind");
        }

        log.rewriteStream = o -> o;
        log.open(2);
        assertEquals(List.of(1, 2), MetricsLog.read(log.csv).stream().map(EpochMetrics::epoch).toList());
        assertEquals(2, Files.readAllLines(log.jsonl).size());
        log.append(row(3));
        assertEquals(List.of(1, 2, 3), MetricsLog.read(log.csv).stream().map(EpochMetrics::epoch).toList());
    }
}

package io.jvae.train;

import io.jvae.InvalidInputException;
import io.jvae.io.AtomicFiles;
import io.jvae.io.Json;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/** metrics.csv and metrics.jsonl in a run directory: one row per epoch, appended and flushed. */
public final class MetricsLog {
    public final Path csv, jsonl;

    /** Wraps the output of each file open() rewrites; tests inject a stream that fails midway. */
    UnaryOperator<OutputStream> rewriteStream = UnaryOperator.identity();

    public MetricsLog(Path dir) {
        this.csv = dir.resolve("metrics.csv");
        this.jsonl = dir.resolve("metrics.jsonl");
    }

    /**
     * Starts fresh files, or on resume keeps the rows of epochs <= keepThrough and drops later ones.
     * Both files are rewritten through temp files and renamed (AtomicFiles), so a failure midway
     * (a full disk, a kill) leaves the old rows in place for the next --resume.
     */
    public void open(int keepThrough) {
        List<EpochMetrics> kept = new ArrayList<>();
        if (keepThrough > 0) for (EpochMetrics m : readLenient(csv)) if (m.epoch() <= keepThrough) kept.add(m);
        // the JSON lines as they were written (they carry fields the CSV has not, the epoch's lr), by epoch
        java.util.Map<Long, String> jsonRows = new java.util.HashMap<>();
        if (keepThrough > 0) {
            try {
                for (String l : Files.readAllLines(jsonl)) {
                    try {
                        jsonRows.put(Json.getLong(Json.parseObject(l), "epoch"), l.trim());
                    } catch (InvalidInputException e) {
                        // a line cut short by a kill: its epoch is re-run (and the CSV row written again)
                    }
                }
            } catch (IOException e) {
                // no metrics.jsonl: its rows are made from the CSV's
            }
        }
        StringBuilder c = new StringBuilder(EpochMetrics.CSV_HEADER).append('\n');
        StringBuilder j = new StringBuilder();
        for (EpochMetrics m : kept) {
            c.append(m.csv()).append('\n');
            j.append(jsonRows.getOrDefault((long) m.epoch(), Json.write(m.toMap()))).append('\n');
        }
        // both files written to temp files first, renamed only when both were: a failure leaves both as they were
        try (AtomicFiles.Pending pc = AtomicFiles.prepare(csv, rewrite(c.toString()));
             AtomicFiles.Pending pj = AtomicFiles.prepare(jsonl, rewrite(j.toString()))) {
            pc.commit();
            pj.commit();
        } catch (IOException e) {
            throw io.jvae.io.AtomicFiles.failure("rewriting " + jsonl.getFileName() + " and", csv, e);
        }
    }

    private AtomicFiles.Body rewrite(String text) {
        return ch -> {
            OutputStream o = rewriteStream.apply(Channels.newOutputStream(ch)); // not closed: AtomicFiles forces and closes ch
            o.write(text.getBytes(StandardCharsets.UTF_8));
            o.flush();
        };
    }

    public void append(EpochMetrics m) {
        append(csv, m.csv() + "\n");
        append(jsonl, Json.write(m.toMap()) + "\n");
    }

    private static void append(Path p, String s) {
        try {
            Files.writeString(p, s, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.SYNC);
        } catch (IOException e) {
            throw io.jvae.io.AtomicFiles.failure("writing", p, e);
        }
    }

    /**
     * Reads the rows of a run being resumed: a last line cut short by a kill is dropped (the
     * epoch it belonged to is re-run), anything else malformed is an error.
     */
    public static List<EpochMetrics> readLenient(Path csv) {
        List<String> lines;
        try {
            lines = Files.readAllLines(csv);
        } catch (IOException e) {
            return List.of();
        }
        List<EpochMetrics> out = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            String l = lines.get(i).trim();
            if (l.isEmpty()) continue;
            try {
                out.add(EpochMetrics.parseCsv(l));
            } catch (InvalidInputException e) {
                if (i != lines.size() - 1) throw new InvalidInputException(csv + ": line " + (i + 1) + ": " + e.getMessage());
            }
        }
        return out;
    }

    /** Reads a metrics.csv (header line first). */
    public static List<EpochMetrics> read(Path csv) {
        List<String> lines;
        try {
            lines = Files.readAllLines(csv);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new InvalidInputException(csv + ": no such file");
        } catch (IOException e) {
            throw new InvalidInputException(csv + ": cannot read (" + e.getMessage() + ")");
        }
        if (lines.isEmpty() || !lines.get(0).trim().equals(EpochMetrics.CSV_HEADER))
            throw new InvalidInputException(csv + ": not a jvae metrics.csv (header should be " + EpochMetrics.CSV_HEADER + ")");
        List<EpochMetrics> out = new ArrayList<>();
        for (String l : lines.subList(1, lines.size())) if (!l.isBlank()) out.add(EpochMetrics.parseCsv(l.trim()));
        return out;
    }
}

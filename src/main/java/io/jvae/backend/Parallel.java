package io.jvae.backend;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;

/**
 * Splits large element-wise loops across cores; small ones run on the caller (a hand-off costs
 * a few microseconds, a 64K-element loop about 30). Chunk boundaries depend only on n and the
 * thread count, and each element is written by exactly one chunk, so results are deterministic.
 */
public final class Parallel {
    private Parallel() {}

    /** Below this many elements a loop stays on the calling thread (a hand-off costs a few microseconds). */
    public static final int GRAIN = 1 << 14;

    /**
     * Threads for element-wise loops: -Djvae.threads=N, else 1 when the GEMMs run on a
     * multi-threaded OpenBLAS, else every core. OpenBLAS' threads keep spinning on the other cores
     * for a while after each GEMM, so a second Java thread there waits for a time slice: at the
     * pytorch preset, batch 128, one thread trains 8 % faster than two (median of 5 interleaved
     * pairs of `jvae bench`), and equally fast at batch 1024 (bench/RESULTS.md). PyTorch on
     * this machine is fastest the same way: one intra-op thread, OpenBLAS on both cores.
     */
    public static final int THREADS = Math.max(1, Integer.getInteger("jvae.threads", defaultThreads()));

    /** Why THREADS has its value, for `jvae info`. */
    public static final String THREADS_REASON = Integer.getInteger("jvae.threads") != null ? "-Djvae.threads"
            : defaultThreads() == 1 && Runtime.getRuntime().availableProcessors() > 1
            ? "the other cores run OpenBLAS's threads; -Djvae.threads=N to change" : "one per core";

    private static int defaultThreads() {
        int cores = Runtime.getRuntime().availableProcessors();
        return cores > 1 && Gemm.threadedNative() ? 1 : cores;
    }

    private static final ForkJoinPool POOL = THREADS > 1 ? new ForkJoinPool(THREADS - 1) : null;

    @FunctionalInterface
    public interface Range {
        void run(int lo, int hi);
    }

    /** Runs body over [0, n) in up to THREADS contiguous chunks. */
    public static void forRange(int n, Range body) {
        forRange(n, GRAIN, body);
    }

    /** The same with a grain in units of n (e.g. columns of `rows` elements: GRAIN / rows). */
    public static void forRange(int n, int grain, Range body) {
        int chunks = Math.min(THREADS, Math.max(1, n / Math.max(1, grain)));
        if (chunks <= 1 || POOL == null) {
            body.run(0, n);
            return;
        }
        ForkJoinTask<?>[] tasks = new ForkJoinTask<?>[chunks - 1];
        for (int c = 1; c < chunks; c++) {
            int lo = (int) ((long) n * c / chunks), hi = (int) ((long) n * (c + 1) / chunks);
            tasks[c - 1] = POOL.submit(() -> body.run(lo, hi));
        }
        body.run(0, (int) ((long) n / chunks));
        for (ForkJoinTask<?> t : tasks) t.join();
    }
}

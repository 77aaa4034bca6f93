package io.jvae.backend;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Splits loops across cores: element-wise loops, and GEMMs when the BLAS itself runs on one thread
 * ({@link Gemm#sgemm}). A region is cut into chunks that the calling thread and {@link #THREADS} - 1
 * resident workers claim one at a time, so a thread that gets less of its core (another process on
 * it, a second jvae) simply runs fewer chunks, and a chunk nobody has started yet is run by the
 * caller instead of waited for. Element-wise loops get up to {@link #PIECES} chunks per thread for
 * that balance; GEMM splits one per thread (a thinner block wastes the BLAS kernel's tiles).
 * A training step opens ~25 parallel regions, each 10-500 microseconds, so the hand-off has to
 * cost far less than a ForkJoinPool's park/unpark (5-20 microseconds): idle workers spin on a
 * volatile field for {@link #SPIN_NANOS} before they park, as OpenBLAS's own threads do, and every
 * wait yields the core now and then, so a thread that spins never keeps the one it waits for
 * (or another program) off a shared core. Small loops stay on the caller.
 *
 * <p>Chunk boundaries depend only on n and the chunk count, and each element is written by exactly
 * one chunk, so results are deterministic for a given thread count, whichever thread runs a chunk.
 * A region opened while another runs (from a chunk, or from a second application thread) runs on
 * its caller alone.
 */
public final class Parallel {
    private Parallel() {}

    /** Below this many elements a loop stays on the calling thread (a hand-off costs ~1 microsecond). */
    public static final int GRAIN = 1 << 14;

    /** The grain of loops that cost ~5-30 ns per element (Philox normals, exp): 512 elements, ~10 microseconds. */
    public static final int GRAIN_COSTLY = 1 << 9;

    /** How long an idle worker spins before parking: longer than the gaps inside a training step. */
    static final long SPIN_NANOS = 200_000;

    /** Spin iterations between two Thread.yield() calls while waiting (a yield is ~0.2 us when the core is free). */
    static final int YIELD_EVERY = 256;

    /** Chunks per thread of an element-wise loop (forRange): finer chunks balance threads that get unequal shares of their cores. */
    public static final int PIECES = 4;

    /**
     * Threads: -Djvae.threads=N, else 1 when the GEMMs run on a multi-threaded OpenBLAS, else every
     * core. OpenBLAS' threads keep spinning on the other cores for a while after each GEMM, so a
     * second Java thread there waits for a time slice: with OpenBLAS on both cores, one Java thread
     * trains the pytorch preset 8 % faster than two at batch 128 (bench/RESULTS.md). The ./jvae
     * launcher sets OPENBLAS_NUM_THREADS=1 instead, and jvae splits the GEMMs itself across these
     * threads, so that element-wise work, the optimizer and the GEMMs all use every core.
     */
    public static final int THREADS = Math.max(1, Integer.getInteger("jvae.threads", defaultThreads()));

    /** Why THREADS has its value, for `jvae info`. */
    public static final String THREADS_REASON = Integer.getInteger("jvae.threads") != null ? "-Djvae.threads"
            : THREADS == 1 && Runtime.getRuntime().availableProcessors() > 1
            ? "OpenBLAS's own threads run the GEMMs on the other cores; OPENBLAS_NUM_THREADS=1 lets jvae use them all"
            : "one per core";

    private static int defaultThreads() {
        int cores = Runtime.getRuntime().availableProcessors();
        return cores > 1 && Gemm.threadedNative() ? 1 : cores;
    }

    @FunctionalInterface
    public interface Range {
        void run(int lo, int hi);
    }

    private static final Team TEAM = THREADS > 1 ? new Team(THREADS - 1) : null;

    /** Runs body over [0, n) in up to THREADS contiguous chunks. */
    public static void forRange(int n, Range body) {
        forRange(n, GRAIN, body);
    }

    /** The same with a grain in units of n (e.g. columns of `rows` elements: GRAIN / rows). */
    public static void forRange(int n, int grain, Range body) {
        int byGrain = Math.max(1, n / Math.max(1, grain));
        if (byGrain < 2 || THREADS == 1) body.run(0, n);
        else pieces(n, Math.min(THREADS * PIECES, byGrain), body);
    }

    /** Runs body over [0, n) in exactly min(chunks, THREADS, n) contiguous chunks (1 when a region is already open). */
    public static void chunks(int n, int chunks, Range body) {
        pieces(n, Math.min(chunks, THREADS), body);
    }

    /** Runs body over [0, n) in exactly min(chunks, n) contiguous chunks, claimed by whichever thread is free (1 when a region is open). */
    static void pieces(int n, int chunks, Range body) {
        chunks = Math.min(chunks, n);
        // not a ReentrantLock: a region opened from the caller's own chunk must not re-enter the team
        if (chunks <= 1 || TEAM == null || ALONE.get() || !TEAM.busy.compareAndSet(false, true)) {
            body.run(0, n);
            return;
        }
        try {
            TEAM.run(n, chunks, body);
        } finally {
            TEAM.busy.set(false);
        }
    }

    private static final ThreadLocal<Boolean> ALONE = ThreadLocal.withInitial(() -> false);

    /**
     * Runs body with every region it opens on the calling thread alone: work beside the real work
     * (the JIT warm-up, {@code io.jvae.train.Warmup}) never takes the team from it, so the real
     * work's loops are cut as they would be without it.
     */
    public static void alone(Runnable body) {
        boolean was = ALONE.get();
        ALONE.set(true);
        try {
            body.run();
        } finally {
            ALONE.set(was);
        }
    }

    /** Whether the calling thread is inside {@link #alone}. */
    public static boolean isAlone() {
        return ALONE.get();
    }

    /** Resident workers and one region at a time. */
    static final class Team {
        final java.util.concurrent.atomic.AtomicBoolean busy = new java.util.concurrent.atomic.AtomicBoolean();
        private final Thread[] workers;
        private final Region none = new Region(null, 0, 1, 0);
        private volatile Region region = none; // the latest region, published whole
        private volatile int parkedCount;

        /** One parallel loop: immutable but for its counters, so a late worker never mixes two regions. */
        private static final class Region {
            final Range body;
            final int n, chunks;
            final AtomicInteger next = new AtomicInteger(); // the next chunk to claim
            final AtomicInteger pending;                     // chunks not finished
            volatile Throwable failure;

            Region(Range body, int n, int chunks, int pending) {
                this.body = body;
                this.n = n;
                this.chunks = chunks;
                this.pending = new AtomicInteger(pending);
            }

            /** Claims and runs chunks until none is left. */
            void drain() {
                for (int c; (c = next.getAndIncrement()) < chunks; ) {
                    try {
                        body.run((int) ((long) n * c / chunks), (int) ((long) n * (c + 1) / chunks));
                    } catch (Throwable t) {
                        synchronized (this) { // a second chunk's failure rides along with the first
                            if (failure == null) failure = t;
                            else if (failure != t) failure.addSuppressed(t);
                        }
                    } finally {
                        pending.decrementAndGet();
                    }
                }
            }
        }

        Team(int size) {
            workers = new Thread[size];
            for (int w = 0; w < size; w++) {
                int id = w;
                workers[w] = new Thread(() -> work(id), "jvae-worker-" + (w + 1));
                workers[w].setDaemon(true);
                workers[w].setPriority(Thread.NORM_PRIORITY); // not the priority of whichever thread first opened a region
                workers[w].start();
            }
        }

        void run(int n, int chunks, Range body) {
            Region r = new Region(body, n, chunks, chunks);
            region = r;
            if (parkedCount > 0) for (int w = 0; w < Math.min(workers.length, chunks - 1); w++) LockSupport.unpark(workers[w]);
            r.drain();
            // chunks other threads claimed and have not finished: wait, yielding now and then so that a
            // worker descheduled on this core gets it back instead of this thread spinning its slice away
            for (int spins = 0; r.pending.get() != 0; )
                if (++spins % YIELD_EVERY == 0) Thread.yield();
                else Thread.onSpinWait();
            Throwable f = r.failure;
            if (f instanceof RuntimeException re) throw re;
            if (f instanceof Error e) throw e;
        }

        private void work(int id) {
            Region seen = none; // not `region`: a worker that starts late must still see the first region as new
            while (true) {
                long t0 = System.nanoTime();
                int spins = 0;
                while (region == seen) {
                    Thread.onSpinWait();
                    if (++spins % YIELD_EVERY == 0) Thread.yield(); // another runnable thread on this core goes first
                    if ((spins & 1023) == 0 && System.nanoTime() - t0 > SPIN_NANOS) {
                        synchronized (this) {
                            parkedCount++;
                        }
                        while (region == seen) {
                            LockSupport.park(this);
                            Thread.interrupted(); // an interrupt would make park return at once, forever: workers ignore it
                        }
                        synchronized (this) {
                            parkedCount--;
                        }
                        t0 = System.nanoTime();
                    }
                }
                Region r = region;
                seen = r;
                r.drain();
            }
        }
    }
}

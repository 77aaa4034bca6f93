package io.jvae.backend;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/** The resident worker team behind Parallel (the tests run with -Djvae.threads=2, see pom.xml). */
class ParallelTest {
    @Test
    void everyIndexExactlyOnceOverManyRegions() {
        assertTrue(Parallel.THREADS >= 2, "surefire sets -Djvae.threads=2: these tests need the team");
        java.util.Set<String> threads = java.util.concurrent.ConcurrentHashMap.newKeySet();
        for (int rep = 0; rep < 5_000; rep++) { // regions back to back, as in a training step; n and chunks vary
            int n = 1 + rep % 97;
            int[] hits = new int[n];
            Parallel.chunks(n, 1 + rep % 3, (lo, hi) -> {
                threads.add(Thread.currentThread().getName());
                for (int i = lo; i < hi; i++) hits[i]++;
            });
            for (int i = 0; i < n; i++) assertEquals(1, hits[i], "rep " + rep + " index " + i);
        }
        // whether those tiny regions reached the worker depends on the machine's load (the caller may
        // claim every chunk first); a region whose two chunks wait for each other shares by necessity
        java.util.Set<String> pair = twoChunksThatWaitForEachOther("the other chunk never ran on another thread");
        assertEquals(2, pair.size(), "two chunks that wait for each other ran on two threads: " + pair);
    }

    /** Runs a region of two chunks that each wait for the other (30 s at most): the names of the threads that ran them. */
    static java.util.Set<String> twoChunksThatWaitForEachOther(String ifNot) {
        java.util.concurrent.CountDownLatch both = new java.util.concurrent.CountDownLatch(2);
        java.util.Set<String> names = java.util.concurrent.ConcurrentHashMap.newKeySet();
        Parallel.chunks(2, 2, (lo, hi) -> {
            names.add(Thread.currentThread().getName());
            both.countDown();
            try {
                assertTrue(both.await(30, java.util.concurrent.TimeUnit.SECONDS), ifNot);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        return names;
    }

    @Test
    void aWorkersExceptionReachesTheCaller() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Parallel.chunks(10, 2, (lo, hi) -> {
            if (lo > 0) throw new IllegalStateException("chunk " + lo);
        }));
        assertEquals("chunk 5", e.getMessage());
        int[] hits = new int[10]; // and the team still works afterwards
        Parallel.chunks(10, 2, (lo, hi) -> { for (int i = lo; i < hi; i++) hits[i]++; });
        assertArrayEquals(new int[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, hits);
    }

    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a deadlock fails instead of hanging
    void aRegionOpenedFromTheCallersOwnChunkRunsInline() {
        // the caller runs chunk 0; a region it opens there must not be handed to the team, whose
        // worker may not have picked up the outer region yet (it would skip it: a deadlock)
        for (int rep = 0; rep < 2000; rep++) {
            int[] hits = new int[64];
            Parallel.chunks(2, 2, (lo, hi) -> {
                for (int q = lo; q < hi; q++) {
                    int base = q * 32;
                    Parallel.chunks(32, 2, (a, b) -> { for (int i = a; i < b; i++) hits[base + i]++; });
                }
            });
            for (int h : hits) assertEquals(1, h, "rep " + rep);
        }
    }

    @Test
    void nestedAndConcurrentRegionsRunOnTheirCaller() throws Exception {
        int[] hits = new int[100];
        Parallel.chunks(4, 2, (lo, hi) -> {
            for (int q = lo; q < hi; q++) {
                int base = q * 25;
                Parallel.chunks(25, 2, (a, b) -> { for (int i = a; i < b; i++) hits[base + i]++; }); // inline: the team is busy
            }
        });
        for (int h : hits) assertEquals(1, h);
        // two application threads opening regions at once: one gets the team, the other runs alone
        AtomicInteger sum = new AtomicInteger();
        Thread[] ts = new Thread[2];
        for (int t = 0; t < 2; t++) {
            ts[t] = new Thread(() -> {
                for (int rep = 0; rep < 2000; rep++) Parallel.chunks(50, 2, (lo, hi) -> sum.addAndGet(hi - lo));
            });
            ts[t].start();
        }
        for (Thread t : ts) t.join();
        assertEquals(2 * 2000 * 50, sum.get());
    }

    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void workAloneNeverTakesTheTeamFromAnotherThread() throws Exception {
        // inside alone(), a region runs on its caller, as one chunk
        java.util.List<int[]> cuts = new java.util.ArrayList<>();
        Thread caller = Thread.currentThread();
        Parallel.alone(() -> Parallel.chunks(100, 2, (lo, hi) -> {
            assertSame(caller, Thread.currentThread());
            synchronized (cuts) { cuts.add(new int[] {lo, hi}); }
        }));
        assertEquals(1, cuts.size());
        assertArrayEquals(new int[] {0, 100}, cuts.get(0));
        // a thread working alone inside a long region leaves the team free: another thread's region,
        // whose two chunks wait for each other, still gets a worker (with the team taken it would run
        // both chunks on its caller and wait forever)
        java.util.concurrent.CountDownLatch inside = new java.util.concurrent.CountDownLatch(1), done = new java.util.concurrent.CountDownLatch(1);
        Thread solo = new Thread(() -> Parallel.alone(() -> Parallel.chunks(2, 2, (lo, hi) -> {
            inside.countDown();
            try {
                done.await(30, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        })));
        solo.start();
        assertTrue(inside.await(30, java.util.concurrent.TimeUnit.SECONDS));
        java.util.Set<String> names = twoChunksThatWaitForEachOther("the team was not free: the other chunk never ran");
        done.countDown();
        solo.join();
        assertEquals(2, names.size(), "two threads ran the two chunks: " + names);
    }

    @Test
    void workersRunAtNormalPriorityWhoeverStartedTheTeam() throws Exception {
        // a fresh JVM (the team is made once per JVM), whose first region comes from a thread of the lowest priority
        Process p = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-Djvae.threads=2", "-cp", System.getProperty("java.class.path"),
                PriorityProbe.class.getName()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("jvae-worker-1 priority " + Thread.NORM_PRIORITY), out);
    }

    @Test
    void idleWorkersParkAndWakeUp() throws Exception {
        Thread.sleep(5 * Parallel.SPIN_NANOS / 1_000_000 + 50); // longer than the spin: the workers park
        int[] hits = new int[64];
        Parallel.chunks(64, 2, (lo, hi) -> { for (int i = lo; i < hi; i++) hits[i]++; });
        for (int h : hits) assertEquals(1, h);
    }

    @Test
    void aSecondFailingChunkIsAttachedToTheFirstNotDropped() {
        RuntimeException e = assertThrows(RuntimeException.class, () -> Parallel.chunks(2, 2, (lo, hi) -> {
            try {
                Thread.sleep(50); // both chunks are running when either throws
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("chunk " + lo);
        }));
        assertTrue(e.getMessage().startsWith("chunk "), e.getMessage());
        assertEquals(1, e.getSuppressed().length, "the other chunk's failure rides along");
    }

    @Test
    void anInterruptedIdleWorkerParksInsteadOfSpinning() throws Exception {
        Parallel.forRange(1 << 20, (lo, hi) -> { }); // the team exists and has run
        Thread worker = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("jvae-worker-1")).findFirst().orElseThrow();
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        org.junit.jupiter.api.Assumptions.assumeTrue(mx.isThreadCpuTimeSupported(), "no per-thread CPU time on this JVM");
        worker.interrupt();
        Thread.sleep(50); // past the spin phase (200 us): parked, or spinning if park keeps returning
        long t0 = mx.getThreadCpuTime(worker.getId());
        Thread.sleep(300);
        long used = mx.getThreadCpuTime(worker.getId()) - t0;
        // a parked thread uses ~0 CPU; a worker spinning on an interrupted park would use ~300 ms (a
        // busy machine gives it less, but far more than 60 ms)
        assertTrue(used < 60_000_000L, "an idle worker used " + used / 1e6 + " ms of CPU in 300 ms");
        Parallel.forRange(1 << 20, (lo, hi) -> { }); // and still works
    }
}

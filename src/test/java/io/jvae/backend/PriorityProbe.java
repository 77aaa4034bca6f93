package io.jvae.backend;

/** Run by ParallelTest in a child JVM: the first parallel region opened from a thread of the lowest priority (as the warm-up's could be). */
public final class PriorityProbe {
    public static void main(String[] args) throws Exception {
        Thread low = new Thread(() -> Parallel.chunks(2, 2, (lo, hi) -> {}));
        low.setPriority(Thread.MIN_PRIORITY);
        low.start();
        low.join();
        for (Thread t : Thread.getAllStackTraces().keySet())
            if (t.getName().startsWith("jvae-worker-")) System.out.println(t.getName() + " priority " + t.getPriority());
    }
}

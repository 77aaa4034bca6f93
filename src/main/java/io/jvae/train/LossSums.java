package io.jvae.train;

import io.jvae.backend.Backend;
import io.jvae.backend.Tensor;

import java.util.ArrayDeque;

/**
 * An epoch's loss sums (or an evaluation's, over its batches: Evaluator), exact to double: the backend adds each step's sums into a float32 tensor
 * (stats: reconstruction, KL, IWAE loss, -) for at most one chunk of steps; {@link #flush} starts
 * a readback of the chunk and zeroes the tensor (both queued in order on the backend, so no step
 * is lost or counted twice), and the chunks are added in double on the host as their readbacks
 * land. Summing a whole epoch in float32 on the device was off by up to ~1e-4 nat per example
 * (470 steps of ~13,000 nats at batch 128: a float's ulp at 6e6 is 0.5); chunks of 20 steps stay
 * below 2.6e5, where a float's ulp is 0.03.
 */
final class LossSums {
    private final Backend be;
    private final Tensor stats;              // (4, 1) the running chunk on the backend
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private final double[] landed = new double[3];
    private int landedSteps, flushedSteps;

    private record Pending(Backend.Readback r, int steps) {}

    LossSums(Backend be, Tensor stats) {
        this.be = be;
        this.stats = stats;
    }

    /** The (4, 1) tensor the steps add their sums into: {@link #flush} empties it. */
    Tensor stats() {
        return stats;
    }

    /** A new epoch: nothing counted, the backend's chunk zeroed. */
    void reset() {
        pending.clear();
        java.util.Arrays.fill(landed, 0);
        landedSteps = flushedSteps = 0;
        be.fill(stats, 0f);
    }

    /** Ends the chunk after `steps` steps of the epoch: its readback starts, the backend's sums restart from 0. */
    void flush(int steps) {
        if (steps == flushedSteps) return;
        pending.add(new Pending(be.readback(stats), steps));
        be.fill(stats, 0f);
        flushedSteps = steps;
    }

    /** Adds the chunks whose readbacks have landed, without waiting; returns the steps they cover. */
    int poll() {
        while (!pending.isEmpty() && pending.peek().r().done()) take(pending.poll());
        return landedSteps;
    }

    /** Waits for every chunk; the epoch's sums {recon, KL, IWAE loss} in double. */
    double[] await() {
        while (!pending.isEmpty()) take(pending.poll());
        return landed.clone();
    }

    /**
     * Where the epoch's sums stand, for a state saved inside an epoch: the
     * chunks flushed so far in double (waits for them) and the float32 chunk still on the backend
     * (read, not flushed), so that {@link #restore} puts both back as they were.
     */
    Snapshot snapshot() {
        double[] done = await();
        float[] chunk = new float[4];
        be.download(stats, chunk, 0);
        return new Snapshot(done, chunk);
    }

    record Snapshot(double[] done, float[] chunk) {}

    /** A resumed epoch: the sums and the open chunk as {@link #snapshot} saw them, `flushed` steps in landed chunks. */
    void restore(double[] done, float[] chunk, int flushed) {
        reset();
        System.arraycopy(done, 0, landed, 0, landed.length);
        landedSteps = flushedSteps = flushed;
        be.upload(chunk, 0, stats);
    }

    /** The sums landed so far (poll first). */
    double[] landed() {
        return landed.clone();
    }

    private void take(Pending p) {
        float[] v = p.r().await();
        for (int i = 0; i < landed.length; i++) landed[i] += v[i];
        landedSteps = p.steps();
    }
}

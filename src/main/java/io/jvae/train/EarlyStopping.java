package io.jvae.train;

import java.util.List;

/**
 * The early-stopping rule of {@link Trainer}: a strictly lower test loss is a new best; training
 * stops after epoch e when e - bestEpoch >= patience (Keras' EarlyStopping, min_delta 0).
 *
 * <p>A run with patience P follows exactly the trajectory of the same run without it (same seed:
 * the same initial weights, batches and noise) until it stops, so {@link #replay} gives what any
 * patience would have given from one fixed-epoch run's test losses (TrainerTest checks this
 * against real early-stopped runs). That is how docs/experiments.md compares patience 5 across
 * seeds without training every seed twice.
 */
public final class EarlyStopping {
    private EarlyStopping() {}

    /** Whether a run with this patience stops after `epoch`, its best so far being at `bestEpoch`. */
    public static boolean stops(int epoch, int bestEpoch, int patience) {
        return patience > 0 && bestEpoch > 0 && epoch - bestEpoch >= patience;
    }

    /** A replayed run: its best test loss and epoch, and the epoch it stopped after (0: it ran out of epochs first). */
    public record Outcome(double best, int bestEpoch, int stoppedAfter) {}

    public static Outcome replay(List<EpochMetrics> history, int patience) {
        double best = Double.POSITIVE_INFINITY;
        int bestEpoch = 0;
        for (EpochMetrics m : history) {
            if (m.test().loss() < best) {
                best = m.test().loss();
                bestEpoch = m.epoch();
            }
            if (stops(m.epoch(), bestEpoch, patience)) return new Outcome(best, bestEpoch, m.epoch());
        }
        return new Outcome(best, bestEpoch, 0);
    }
}

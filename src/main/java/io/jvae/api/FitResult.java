package io.jvae.api;

import java.nio.file.Path;
import java.util.List;

/**
 * What {@link VaeModel#fit} did.
 *
 * @param history      every epoch of the run, oldest first (with a resumed run folder, also the
 *                     epochs of the earlier runs, read back from its metrics.csv: 6 decimals)
 * @param bestEpoch    the epoch with the lowest validation loss
 * @param bestLoss     that loss
 * @param stoppedEarly whether early stopping ended the run (the model then holds the best epoch's
 *                     parameters)
 * @param checkpoint   the run folder's model.safetensors, or null when fit ran without a run folder
 */
public record FitResult(List<Epoch> history, int bestEpoch, double bestLoss, boolean stoppedEarly, Path checkpoint) {
    /** The history is copied: the record cannot change afterwards. */
    public FitResult {
        history = List.copyOf(history);
    }

    /** The last epoch, or null when the run had nothing left to do (a resumed run that was finished). */
    public Epoch last() {
        return history.isEmpty() ? null : history.get(history.size() - 1);
    }
}

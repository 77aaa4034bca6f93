package io.jvae.train;

/** The loss or a gradient became NaN/Inf. The message names where, the checkpoint kept, and what to try. */
public final class TrainingDiverged extends RuntimeException {
    public TrainingDiverged(String message) {
        super(message);
    }
}

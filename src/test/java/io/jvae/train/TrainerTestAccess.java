package io.jvae.train;

import io.jvae.data.Dataset;
import io.jvae.model.ModelConfig;

/** TrainerTest's small model, data and settings for tests in other packages. */
public final class TrainerTestAccess {
    private TrainerTestAccess() {}

    public static final ModelConfig MODEL = TrainerTest.MODEL;
    public static final Dataset TRAIN = TrainerTest.TRAIN, TEST = TrainerTest.TEST;

    public static TrainConfig tc(int epochs) {
        return TrainerTest.tc(epochs, 0, 1e-3f);
    }
}

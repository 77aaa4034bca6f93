package io.jvae.train;

import io.jvae.InvalidInputException;

/** The optimizers of the flat parameter buffer (Optimizer). */
public enum OptimizerKind {
    ADAM, RMSPROP;

    /** eps when a preset's optimizer is swapped for this one: PyTorch's Adam 1e-8, Keras' RMSprop 1e-7. */
    public float defaultEps() {
        return this == ADAM ? 1e-8f : 1e-7f;
    }

    public static OptimizerKind parse(String s) {
        return switch (s.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "adam" -> ADAM;
            case "rmsprop" -> RMSPROP;
            default -> throw new InvalidInputException("unknown optimizer '" + s + "' (adam, rmsprop)");
        };
    }
}

package io.jvae.train;

import io.jvae.InvalidInputException;

public enum OptimizerKind {
    ADAM, RMSPROP;

    public static OptimizerKind parse(String s) {
        return switch (s.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "adam" -> ADAM;
            case "rmsprop" -> RMSPROP;
            default -> throw new InvalidInputException("unknown optimizer '" + s + "' (adam, rmsprop)");
        };
    }
}

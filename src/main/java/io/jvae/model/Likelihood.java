package io.jvae.model;

import io.jvae.InvalidInputException;

/** The decoder's p(x|z): Bernoulli (sigmoid cross-entropy from logits) or unit-variance Gaussian (L2). */
public enum Likelihood {
    BERNOULLI, GAUSSIAN;

    public static Likelihood parse(String s) {
        return switch (s.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "bernoulli", "bce" -> BERNOULLI;
            case "gaussian", "l2", "mse" -> GAUSSIAN;
            default -> throw new InvalidInputException("unknown decoder '" + s + "' (bernoulli, gaussian)");
        };
    }
}

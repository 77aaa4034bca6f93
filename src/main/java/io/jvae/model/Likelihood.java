package io.jvae.model;

import io.jvae.InvalidInputException;

/**
 * The decoder's p(x|z): Bernoulli (sigmoid cross-entropy from logits), unit-variance Gaussian (L2),
 * or Gaussian with a learned per-feature log-variance (a parameter vector of the model, the
 * choice for real-valued data whose features differ in scale or noise).
 */
public enum Likelihood {
    BERNOULLI, GAUSSIAN, GAUSSIAN_LEARNED;

    /** Whether the decoder's output is a mean (Gaussian) rather than logits (Bernoulli). */
    public boolean gaussian() {
        return this != BERNOULLI;
    }

    public static Likelihood parse(String s) {
        return switch (s.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "bernoulli", "bce" -> BERNOULLI;
            case "gaussian", "l2", "mse" -> GAUSSIAN;
            case "gaussian-learned", "gaussian_learned" -> GAUSSIAN_LEARNED;
            default -> throw new InvalidInputException("unknown decoder '" + s + "' (bernoulli, gaussian, gaussian-learned)");
        };
    }
}

package io.jvae.model;

import io.jvae.InvalidInputException;

/**
 * Weight initialisation. TORCH: nn.Linear's default, W and b ~ U(-1/sqrt(in), 1/sqrt(in)).
 * GLOROT: Keras' Dense default, W ~ U(-sqrt(6/(in+out)), +), b = 0 (Glorot and Bengio 2010).
 */
public enum Init {
    TORCH, GLOROT;

    public static Init parse(String s) {
        return switch (s.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "torch", "pytorch" -> TORCH;
            case "glorot", "keras", "xavier" -> GLOROT;
            default -> throw new InvalidInputException("unknown init '" + s + "' (torch, glorot)");
        };
    }
}

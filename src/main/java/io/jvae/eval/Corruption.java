package io.jvae.eval;

import io.jvae.InvalidInputException;
import io.jvae.backend.Philox;

/**
 * Ways to damage inputs for imputation and denoising. Each returns the corrupted copy and a mask
 * of the pixels that are still known (true = known).
 * <ul>
 *   <li>band: flattened pixels [300, 400) set to 0, as the slides' code.</li>
 *   <li>mask: each pixel hidden (set to 0) with probability `fraction`.</li>
 *   <li>salt-pepper: x b1 + b2, clipped to 1, with b1, b2 ~ Bernoulli(0.5) per pixel, as in the
 *       CVAE slides; no pixel is trusted.</li>
 * </ul>
 */
public enum Corruption {
    BAND, MASK, SALT_PEPPER;

    public static Corruption parse(String s) {
        return switch (s.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "band" -> BAND;
            case "mask" -> MASK;
            case "salt-pepper", "salt_pepper", "saltpepper" -> SALT_PEPPER;
            default -> throw new InvalidInputException("unknown corruption '" + s + "' (band, mask, salt-pepper)");
        };
    }

    public record Result(float[] x, boolean[] known) {}

    /** x is (D, n) column-major; uniforms come from Philox(seed). */
    public Result apply(float[] x, int d, int n, double fraction, long seed) {
        float[] out = x.clone();
        boolean[] known = new boolean[x.length];
        java.util.Arrays.fill(known, true);
        switch (this) {
            case BAND -> {
                if (d < 400) throw new InvalidInputException("band corruption needs >= 400 pixels, images have " + d);
                for (int j = 0; j < n; j++)
                    for (int p = 300; p < 400; p++) {
                        out[j * d + p] = 0f;
                        known[j * d + p] = false;
                    }
            }
            case MASK -> {
                if (!(fraction > 0 && fraction < 1)) throw new InvalidInputException("--fraction must be in (0, 1), got " + fraction);
                float[] u = new float[x.length];
                Philox.uniforms(seed, 0, u, 0, u.length);
                for (int i = 0; i < x.length; i++)
                    if (u[i] < fraction) {
                        out[i] = 0f;
                        known[i] = false;
                    }
            }
            case SALT_PEPPER -> {
                float[] u = new float[2 * x.length];
                Philox.uniforms(seed, 0, u, 0, u.length);
                for (int i = 0; i < x.length; i++) {
                    float b1 = u[2 * i] < 0.5f ? 1f : 0f, b2 = u[2 * i + 1] < 0.5f ? 1f : 0f;
                    out[i] = Math.min(1f, x[i] * b1 + b2);
                    known[i] = false;
                }
            }
        }
        return new Result(out, known);
    }

    /**
     * Iterative imputation: reconstruct, keep the known pixels, re-encode; `rounds` passes
     * (1 = a single reconstruction).
     */
    public static float[] impute(Inference inf, Result r, int n, int[] labels, int rounds) {
        if (rounds < 1) throw new InvalidInputException("--rounds must be >= 1, got " + rounds);
        float[] cur = r.x().clone();
        float[] rec = null;
        for (int k = 0; k < rounds; k++) {
            rec = inf.reconstruct(cur, n, labels);
            for (int i = 0; i < cur.length; i++) cur[i] = r.known()[i] ? r.x()[i] : rec[i];
        }
        boolean anyKnown = false;
        for (boolean b : r.known()) anyKnown |= b;
        return anyKnown ? cur : rec;
    }
}

package io.jvae.cli;

import io.jvae.InvalidInputException;
import io.jvae.model.Vae;

/** The --label option of the commands that generate: required by a CVAE, refused by a plain VAE. */
final class Labels {
    private Labels() {}

    /** n copies of label for a conditional model (null for a plain one); one clear line when it does not fit. */
    static int[] forAll(Vae vae, Integer label, int n) {
        return forAll(vae.cfg.classes(), label, n);
    }

    /** The same for a model with c classes (0: a plain VAE). */
    static int[] forAll(int c, Integer label, int n) {
        if (c == 0) {
            InvalidInputException.require(label == null, "--label needs a conditional model (train --conditional)");
            return null;
        }
        InvalidInputException.require(label != null, "this is a CVAE: pass --label N (0..%d)", c - 1);
        InvalidInputException.require(label >= 0 && label < c, "--label must be in 0..%d, got %d", c - 1, label);
        int[] labels = new int[n];
        java.util.Arrays.fill(labels, label);
        return labels;
    }
}

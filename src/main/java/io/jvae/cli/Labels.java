package io.jvae.cli;

import io.jvae.InvalidInputException;
import io.jvae.model.Vae;

/** The --label option of the commands that generate: required by a CVAE, refused by a plain VAE. */
final class Labels {
    private Labels() {}

    /** n copies of label for a conditional model (null for a plain one); one clear line when it does not fit. */
    static int[] forAll(Vae vae, Integer label, int n) {
        if (!vae.cfg.conditional()) {
            InvalidInputException.require(label == null, "--label needs a conditional model (train --conditional)");
            return null;
        }
        int c = vae.cfg.classes();
        InvalidInputException.require(label != null, "this is a CVAE: pass --label N (0..%d)", c - 1);
        InvalidInputException.require(label >= 0 && label < c, "--label must be in 0..%d, got %d", c - 1, label);
        int[] labels = new int[n];
        java.util.Arrays.fill(labels, label);
        return labels;
    }
}

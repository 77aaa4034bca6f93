package io.jvae.cli;

import io.jvae.InvalidInputException;
import io.jvae.backend.Backend;
import io.jvae.data.Dataset;
import io.jvae.eval.Corruption;
import io.jvae.eval.Inference;
import io.jvae.model.Vae;
import io.jvae.viz.ImageGrid;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "denoise", mixinStandardHelpOptions = true,
        description = "Salt-and-pepper noise (x b1 + b2, b ~ Bernoulli(0.5)) on test digits, restored by a CVAE and by a plain VAE: four 10x10 grids.")
final class DenoiseCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--cvae", required = true, description = "checkpoint of a conditional model (train --conditional)")
    Path cvae;

    @Option(names = "--vae", required = true, description = "checkpoint of a plain VAE")
    Path vae;

    @Option(names = "--count", defaultValue = "100", description = "test digits, a multiple of 10. Default: ${DEFAULT-VALUE}")
    int count;

    @Option(names = "--seed", defaultValue = "1")
    long seed;

    @Mixin
    ModelInput in = new ModelInput();

    @Override
    public Integer call() {
        InvalidInputException.require(count >= 10 && count <= 1000 && count % 10 == 0, "--count must be a multiple of 10 in [10, 1000], got %d", count);
        try (Backend be = in.backend()) {
            Dataset test = in.test().head(count);
            Vae c = ModelInput.load(cvae, be, test), v = ModelInput.load(vae, be, test);
            InvalidInputException.require(c.cfg.conditional(), "--cvae %s is not a conditional model", cvae);
            InvalidInputException.require(!v.cfg.conditional(), "--vae %s is a conditional model; pass a plain VAE", vae);
            int d = test.dim();
            Corruption.Result noisy = Corruption.SALT_PEPPER.apply(test.x(), d, count, 0, seed);
            float[] byC = new Inference(c, Math.min(count, 500)).reconstruct(noisy.x(), count, test.labels());
            float[] byV = new Inference(v, Math.min(count, 500)).reconstruct(noisy.x(), count, test.labels());
            double mseNoisy = mse(test.x(), noisy.x()), mseC = mse(test.x(), byC), mseV = mse(test.x(), byV);
            double bceC = bce(test.x(), byC, count), bceV = bce(test.x(), byV, count);
            int side = ImageGrid.side(d), rows = count / 10;
            List<BufferedImage> panels = List.of(
                    panel(test.x(), d, rows, side, "original"),
                    panel(noisy.x(), d, rows, side, String.format(Locale.ROOT, "noisy, MSE %.3f", mseNoisy)),
                    panel(byC, d, rows, side, String.format(Locale.ROOT, "CVAE, MSE %.3f", mseC)),
                    panel(byV, d, rows, side, String.format(Locale.ROOT, "VAE, MSE %.3f", mseV)));
            Path png = in.file("denoise.png");
            ImageGrid.write(ImageGrid.combine(panels, 4), png);
            ModelInput.writeCsv(in.file("denoise.csv"), String.format(Locale.ROOT,
                    "input,pixel_mse,bce_nats_per_digit%nnoisy,%.6f,%n" + "cvae,%.6f,%.4f%nvae,%.6f,%.4f%n", mseNoisy, mseC, bceC, mseV, bceV));
            spec.commandLine().getOut().printf(Locale.ROOT, "wrote %s; vs the originals: pixel MSE noisy %.4f, CVAE %.4f, VAE %.4f; "
                    + "cross-entropy of the originals under the restoration CVAE %.2f, VAE %.2f nats/digit%n", png, mseNoisy, mseC, mseV, bceC, bceV);
        }
        return Jvae.OK;
    }

    static double mse(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (a[i] - b[i]) * (double) (a[i] - b[i]);
        return s / a.length;
    }

    /** -sum x log q + (1-x) log(1-q) per digit: how well the restoration predicts the clean digit. */
    static double bce(float[] x, float[] q, int n) {
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            double p = Math.min(Math.max(q[i], 1e-6), 1 - 1e-6);
            s -= x[i] * Math.log(p) + (1 - x[i]) * Math.log(1 - p);
        }
        return s / n;
    }

    static BufferedImage panel(float[] x, int d, int rows, int side, String title) {
        return ImageGrid.render(ImageGrid.rows(x, d, rows, 10), side, 1, title, null, null);
    }
}

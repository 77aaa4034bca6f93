package io.jvae.cli;

import io.jvae.InvalidInputException;
import io.jvae.backend.Backend;
import io.jvae.eval.Inference;
import io.jvae.eval.LatentGrid;
import io.jvae.model.Vae;
import io.jvae.train.Checkpoint;
import io.jvae.viz.ImageGrid;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "manifold", mixinStandardHelpOptions = true,
        description = "Decode a grid z = Phi^-1(linspace(0.05, 0.95, N)) over two latent dimensions (others 0): the digit manifold.")
final class ManifoldCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", description = "checkpoint (.safetensors)")
    Path checkpoint;

    @Option(names = "--n", defaultValue = "20", description = "grid size N (N x N digits). Default: ${DEFAULT-VALUE}")
    int n;

    @Option(names = "--dims", split = ",", defaultValue = "0,1", description = "the two latent dimensions (x, y). Default: ${DEFAULT-VALUE}")
    List<Integer> dims;

    @Option(names = "--label", description = "CVAE: the digit to condition on")
    Integer label;

    @Mixin
    ModelInput in = new ModelInput();

    @Override
    public Integer call() {
        InvalidInputException.require(n >= 2 && n <= 100, "--n must be in [2, 100], got %d", n);
        InvalidInputException.require(dims.size() == 2, "--dims takes two latent dimensions, got %s", dims);
        try (Backend be = in.backend()) {
            Vae vae = Checkpoint.loadModel(checkpoint, be);
            int lat = vae.cfg.latent(), dx = dims.get(0), dy = dims.get(1);
            InvalidInputException.require(lat >= 2, "the manifold needs latent >= 2, the model has %d", lat);
            InvalidInputException.require(dx >= 0 && dx < lat && dy >= 0 && dy < lat && dx != dy,
                    "--dims must be two different dimensions in [0, %d), got %s", lat, dims);
            int[] labels = null;
            if (vae.cfg.conditional()) {
                InvalidInputException.require(label != null, "this is a CVAE: pass --label N (0..%d)", vae.cfg.classes() - 1);
                labels = new int[n * n];
                java.util.Arrays.fill(labels, label);
            } else {
                InvalidInputException.require(label == null, "--label needs a conditional model (train --conditional)");
            }
            float[] z = LatentGrid.codes(lat, n, dx, dy);
            Inference inf = new Inference(vae, Math.min(n * n, 1024));
            float[] img = inf.decode(z, n * n, labels);
            int d = vae.cfg.inputDim(), side = ImageGrid.side(d);
            float[][][] grid = ImageGrid.rows(img, d, n, n);
            String title = String.format(Locale.ROOT, "Decoded manifold: z%d (left to right) and z%d (bottom to top) over Phi^-1(0.05 .. 0.95)%s",
                    dx, dy, label == null ? "" : ", label " + label);
            String name = label == null ? "manifold" : "manifold-label-" + label;
            Path png = in.file(name + ".png");
            ImageGrid.write(ImageGrid.render(grid, side, ImageGrid.scaleFor(side), title, null, null), png);
            StringBuilder csv = new StringBuilder("row,col,z" + dx + ",z" + dy + "\n");
            for (int r = 0; r < n; r++)
                for (int c = 0; c < n; c++)
                    csv.append(String.format(Locale.ROOT, "%d,%d,%.6f,%.6f%n", r, c, z[(r * n + c) * lat + dx], z[(r * n + c) * lat + dy]));
            ModelInput.writeCsv(in.file(name + ".csv"), csv.toString());
            spec.commandLine().getOut().println("wrote " + png);
        }
        return Jvae.OK;
    }
}

package io.jvae.cli;

import io.jvae.InvalidInputException;
import io.jvae.backend.Backend;
import io.jvae.data.Dataset;
import io.jvae.eval.Inference;
import io.jvae.model.Vae;
import io.jvae.viz.ImageGrid;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "interpolate", mixinStandardHelpOptions = true,
        description = "Walk the latent space in a straight line from one test example's posterior mean to another's and "
                + "decode each point: interpolate.npy ([steps, D]), interpolate.csv, and a PNG strip for square images.")
final class InterpolateCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", description = "checkpoint (.safetensors)")
    Path checkpoint;

    @Option(names = "--from", required = true, description = "index of the first test example")
    int from;

    @Option(names = "--to", required = true, description = "index of the last test example")
    int to;

    @Option(names = "--steps", defaultValue = "10", description = "points on the line, both ends included. Default: ${DEFAULT-VALUE}")
    int steps;

    @Option(names = "--label", description = "CVAE: the class to decode every point with (each end is encoded with its own label)")
    Integer label;

    @Mixin
    ModelInput in = new ModelInput();

    @Override
    public Integer call() {
        InvalidInputException.require(steps >= 2 && steps <= 1000, "--steps must be in [2, 1000], got %d", steps);
        Dataset test = in.test();
        InvalidInputException.require(from >= 0 && from < test.n() && to >= 0 && to < test.n(),
                "--from and --to must be in [0, %d), got %d and %d", test.n(), from, to);
        try (Backend be = in.backend()) {
            Vae vae = ModelInput.load(checkpoint, be, test);
            int lat = vae.cfg.latent(), d = vae.cfg.inputDim();
            Inference inf = new Inference(vae, Math.max(2, Math.min(steps, 1024)));
            float[] ends = new float[2 * d];
            System.arraycopy(test.x(), from * d, ends, 0, d);
            System.arraycopy(test.x(), to * d, ends, d, d);
            int[] endLabels = vae.cfg.conditional() ? new int[] {test.labels()[from], test.labels()[to]} : null;
            float[] mu = inf.encodeMu(ends, 2, endLabels);
            float[] z = new float[lat * steps];
            for (int k = 0; k < steps; k++) {
                float a = (float) k / (steps - 1);
                for (int l = 0; l < lat; l++) z[k * lat + l] = (1 - a) * mu[l] + a * mu[lat + l];
            }
            float[] x = inf.decode(z, steps, Labels.forAll(vae, label, steps));
            in.file("interpolate.npy");
            ModelInput.writeRows(in.out, "interpolate", x, steps, d, "x");
            String wrote = in.file("interpolate.npy") + ", " + in.file("interpolate.csv");
            if (ImageGrid.isSquare(d)) {
                Path png = in.file("interpolate.png");
                ImageGrid.write(ImageGrid.render(ImageGrid.rows(x, d, 1, steps), ImageGrid.side(d), ImageGrid.scaleFor(ImageGrid.side(d)),
                        String.format(Locale.ROOT, "From test example %d to %d in %d steps (posterior means)", from, to, steps),
                        null, null), png);
                wrote += ", " + png;
            }
            spec.commandLine().getOut().println("wrote " + wrote);
        }
        return Jvae.OK;
    }
}

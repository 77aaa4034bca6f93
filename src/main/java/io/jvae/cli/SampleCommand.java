package io.jvae.cli;

import io.jvae.InvalidInputException;
import io.jvae.api.VaeModel;
import io.jvae.viz.ImageGrid;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "sample", mixinStandardHelpOptions = true,
        description = "New examples from the prior: z ~ N(0, t^2 I) decoded to the decoder's mean. Writes samples.npy "
                + "([n, D] float32), samples.csv, z.npy, and samples.png when the examples are square images.")
final class SampleCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", description = "checkpoint (.safetensors)")
    Path checkpoint;

    @Option(names = "--n", defaultValue = "64", description = "how many samples. Default: ${DEFAULT-VALUE}")
    int n;

    @Option(names = "--temperature", defaultValue = "1", description = "t: the prior's standard deviation is scaled by t (< 1: "
            + "more typical samples). Default: ${DEFAULT-VALUE}")
    float temperature;

    @Option(names = "--label", description = "CVAE: the class to condition every sample on")
    Integer label;

    @Option(names = "--seed", defaultValue = "1", description = "seed of z (Philox, the same numbers on every device). Default: ${DEFAULT-VALUE}")
    long seed;

    @Mixin
    ModelInput in = new ModelInput();

    @Override
    public Integer call() {
        InvalidInputException.require(n >= 1 && n <= 100_000, "--n must be in [1, 100000], got %d", n);
        InvalidInputException.require(Float.isFinite(temperature) && temperature > 0, "--temperature must be > 0, got %s", temperature);
        try (VaeModel model = in.model(checkpoint)) {
            int lat = model.latentSize(), d = model.inputSize();
            int[] labels = Labels.forAll(model.classes(), label, n);
            float[][] zRows = model.prior(n, seed, temperature); // Philox normals of the seed, times t
            float[] z = ModelInput.flat(zRows), xm = ModelInput.flat(model.decode(zRows, labels));
            float[] x = UserData.scaling(checkpoint).invert(xm, d); // the files in the data's units, the picture as the model sees it
            in.file("samples.npy"); // creates --out
            ModelInput.writeRows(in.out, "samples", x, n, d, "x");
            io.jvae.io.NpyWriter.write(in.file("z.npy"), z, n, lat);
            String wrote = in.file("samples.npy") + ", " + in.file("samples.csv") + ", " + in.file("z.npy");
            if (ImageGrid.isSquare(d)) {
                Path png = in.file("samples.png");
                ImageGrid.write(ImageGrid.square(xm, d, n, String.format(Locale.ROOT, "%d samples from the prior, temperature %s%s", n,
                        temperature, label == null ? "" : ", label " + label)), png);
                wrote += ", " + png;
            }
            spec.commandLine().getOut().println("wrote " + wrote);
        }
        return Jvae.OK;
    }
}

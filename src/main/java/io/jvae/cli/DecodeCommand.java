package io.jvae.cli;

import io.jvae.InvalidInputException;
import io.jvae.backend.Backend;
import io.jvae.data.DataFiles;
import io.jvae.data.Table;
import io.jvae.eval.Inference;
import io.jvae.model.Vae;
import io.jvae.train.Checkpoint;
import io.jvae.viz.ImageGrid;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "decode", mixinStandardHelpOptions = true,
        description = "Decode latent codes to the decoder's mean, in the units of the training data (its --scale undone): "
                + "decoded.npy ([n, D] float32), decoded.csv, and decoded.png when the examples are square images. The codes: a "
                + ".npy, .npz, CSV or IDX file with L values per row, or 2L (what encode writes: the means are used).")
final class DecodeCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", description = "checkpoint (.safetensors)")
    Path checkpoint;

    @Option(names = "--input", required = true, description = "the latent codes, one per row")
    Path input;

    @Option(names = "--label", description = "CVAE: the class to decode every code with")
    Integer label;

    @Mixin
    DataOptions dataOptions = new DataOptions();

    @Mixin
    ModelInput in = new ModelInput();

    @Override
    public Integer call() {
        Table t = DataFiles.read(input, null, dataOptions.options()).requireFinite();
        try (Backend be = in.backend()) {
            Vae vae = Checkpoint.loadModel(checkpoint, be);
            int lat = vae.cfg.latent(), d = vae.cfg.inputDim(), n = t.n();
            InvalidInputException.require(t.dim() == lat || t.dim() == 2 * lat,
                    "%s has %d values per row; the model's latent size is %d (or %d: means and log-variances, as encode writes)",
                    t.name(), t.dim(), lat, 2 * lat);
            float[] z = t.x();
            if (t.dim() == 2 * lat) { // encode's rows: the means first
                z = new float[lat * n];
                for (int j = 0; j < n; j++) System.arraycopy(t.x(), j * 2 * lat, z, j * lat, lat);
            }
            float[] xm = new Inference(vae, Math.max(1, Math.min(n, 1024))).decode(z, n, Labels.forAll(vae, label, n));
            float[] x = UserData.scaling(checkpoint).invert(xm, d); // the files in the data's units, the picture as the model sees it
            in.file("decoded.npy");
            ModelInput.writeRows(in.out, "decoded", x, n, d, "x");
            String wrote = in.file("decoded.npy") + ", " + in.file("decoded.csv");
            if (ImageGrid.isSquare(d)) {
                Path png = in.file("decoded.png");
                ImageGrid.write(ImageGrid.square(xm, d, n, n + " decoded codes from " + input.getFileName()), png);
                wrote += ", " + png;
            }
            spec.commandLine().getOut().println("wrote " + wrote);
        }
        return Jvae.OK;
    }
}

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
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "reconstruct", mixinStandardHelpOptions = true, description = "The first test digits above their reconstructions (decoder mean at z = mu).")
final class ReconstructCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", description = "checkpoint (.safetensors)")
    Path checkpoint;

    @Option(names = "--count", defaultValue = "20", description = "how many test digits. Default: ${DEFAULT-VALUE}")
    int count;

    @Mixin
    ModelInput in = new ModelInput();

    @Override
    public Integer call() {
        InvalidInputException.require(count >= 1 && count <= 200, "--count must be in [1, 200], got %d", count);
        try (Backend be = in.backend()) {
            Dataset test = in.test().head(count);
            Vae vae = ModelInput.load(checkpoint, be, test);
            float[] rec = new Inference(vae, count).reconstruct(test.x(), count, test.labels());
            int d = test.dim();
            float[][][] grid = {ImageGrid.split(test.x(), d, count), ImageGrid.split(rec, d, count)};
            List<String> cols = new ArrayList<>();
            for (int l : test.labels()) cols.add(Integer.toString(l));
            Path png = in.file("reconstruct.png");
            ImageGrid.write(ImageGrid.render(grid, ImageGrid.side(d), 2, "First " + count + " test digits and their reconstructions ("
                    + vae.cfg.summary() + ")", List.of("original", "reconstructed"), cols), png);
            StringBuilder csv = new StringBuilder("index,label,bce_nats,mse\n");
            for (int j = 0; j < count; j++) {
                double bce = 0, mse = 0;
                for (int p = 0; p < d; p++) {
                    double x = test.x()[j * d + p], q = Math.min(Math.max(rec[j * d + p], 1e-7), 1 - 1e-7);
                    bce -= x * Math.log(q) + (1 - x) * Math.log(1 - q);
                    mse += (x - rec[j * d + p]) * (x - rec[j * d + p]) / d;
                }
                csv.append(String.format(Locale.ROOT, "%d,%d,%.4f,%.6f%n", j, test.labels()[j], bce, mse));
            }
            ModelInput.writeCsv(in.file("reconstruct.csv"), csv.toString());
            spec.commandLine().getOut().println("wrote " + png);
        }
        return Jvae.OK;
    }
}

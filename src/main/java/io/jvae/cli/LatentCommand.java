package io.jvae.cli;

import io.jvae.InvalidInputException;
import io.jvae.backend.Backend;
import io.jvae.data.Dataset;
import io.jvae.eval.Inference;
import io.jvae.model.Vae;
import io.jvae.viz.ImageGrid;
import io.jvae.viz.LatentFigures;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "latent", mixinStandardHelpOptions = true,
        description = "Test-set latent means as a scatter coloured by digit (2-D; plus a 3-D view for latent 3).")
final class LatentCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", description = "checkpoint (.safetensors)")
    Path checkpoint;

    @Option(names = "--dims", split = ",", defaultValue = "0,1", description = "the two dimensions of the 2-D scatter. Default: ${DEFAULT-VALUE}")
    List<Integer> dims;

    @Option(names = "--count", description = "use the first N test examples (default all)")
    Integer count;

    @Mixin
    ModelInput in = new ModelInput();

    @Override
    public Integer call() {
        try (Backend be = in.backend()) {
            Dataset test = in.test();
            if (count != null) {
                InvalidInputException.require(count > 0, "--count must be > 0, got %d", count);
                test = test.head(count);
            }
            Vae vae = ModelInput.load(checkpoint, be, test);
            int lat = vae.cfg.latent();
            InvalidInputException.require(dims.size() == 2 && dims.get(0) >= 0 && dims.get(1) >= 0 && dims.get(0) < lat
                    && dims.get(1) < lat && !dims.get(0).equals(dims.get(1)), "--dims must be two different dimensions in [0, %d), got %s", lat, dims);
            float[] mu = new Inference(vae, 1000).encodeMu(test.x(), test.n(), test.labels());
            var out = spec.commandLine().getOut();
            Path png = in.file("latent.png");
            ImageGrid.write(LatentFigures.scatter2d(mu, lat, test.labels(), dims.get(0), dims.get(1),
                    "Latent means of " + test.n() + " test digits (" + vae.cfg.summary() + ")"), png);
            out.println("wrote " + png);
            if (lat == 3) {
                Path p3 = in.file("latent-3d.png");
                ImageGrid.write(LatentFigures.scatter3d(mu, test.labels(), "3-D latent space of " + test.n() + " test digits"), p3);
                out.println("wrote " + p3);
            }
            StringBuilder csv = new StringBuilder("index,label");
            for (int k = 0; k < lat; k++) csv.append(",mu").append(k);
            csv.append('\n');
            for (int i = 0; i < test.n(); i++) {
                csv.append(i).append(',').append(test.labels()[i]);
                for (int k = 0; k < lat; k++) csv.append(String.format(Locale.ROOT, ",%.5f", mu[i * lat + k]));
                csv.append('\n');
            }
            ModelInput.writeCsv(in.file("latent.csv"), csv.toString());
        }
        return Jvae.OK;
    }
}

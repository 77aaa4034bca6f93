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
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "impute", mixinStandardHelpOptions = true,
        description = "Corrupt the first test digits and restore them: original / corrupted / reconstructed.")
final class ImputeCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", description = "checkpoint (.safetensors)")
    Path checkpoint;

    @Option(names = "--corruption", defaultValue = "band", description = "band (pixels 300-399 set to 0), mask, salt-pepper. Default: ${DEFAULT-VALUE}")
    String corruption;

    @Option(names = "--fraction", defaultValue = "0.5", description = "mask: fraction of hidden pixels. Default: ${DEFAULT-VALUE}")
    double fraction;

    @Option(names = "--rounds", defaultValue = "1", description = "iterative imputation: re-encode K times keeping known pixels. Default: ${DEFAULT-VALUE}")
    int rounds;

    @Option(names = "--count", defaultValue = "20")
    int count;

    @Option(names = "--seed", defaultValue = "1")
    long seed;

    @Mixin
    ModelInput in = new ModelInput();

    @Override
    public Integer call() {
        InvalidInputException.require(count >= 1 && count <= 200, "--count must be in [1, 200], got %d", count);
        Corruption kind = Corruption.parse(corruption);
        InvalidInputException.require(kind == Corruption.MASK || !spec.commandLine().getParseResult().hasMatchedOption("--fraction"),
                "--fraction applies to --corruption mask only, not %s", corruption);
        InvalidInputException.require(rounds >= 1 && rounds <= 1000, "--rounds must be in [1, 1000], got %d", rounds);
        try (Backend be = in.backend()) {
            Dataset test = in.test().head(count);
            Vae vae = ModelInput.load(checkpoint, be, test);
            int d = test.dim();
            Corruption.Result c = kind.apply(test.x(), d, count, fraction, seed);
            float[] restored = Corruption.impute(new Inference(vae, count), c, count, test.labels(), rounds);
            float[][][] grid = {ImageGrid.split(test.x(), d, count), ImageGrid.split(c.x(), d, count), ImageGrid.split(restored, d, count)};
            List<String> cols = new ArrayList<>();
            for (int l : test.labels()) cols.add(Integer.toString(l));
            String name = "impute-" + kind.name().toLowerCase(Locale.ROOT).replace('_', '-');
            Path png = in.file(name + ".png");
            ImageGrid.write(ImageGrid.render(grid, ImageGrid.side(d), 2, String.format(Locale.ROOT, "Imputation, %s corruption, %d round%s",
                    kind.name().toLowerCase(Locale.ROOT).replace('_', '-'), rounds, rounds == 1 ? "" : "s"),
                    List.of("original", "corrupted", "reconstructed"), cols), png);
            StringBuilder csv = new StringBuilder("index,label,mse_corrupted,mse_restored\n");
            double sc = 0, sr = 0;
            for (int j = 0; j < count; j++) {
                double mc = 0, mr = 0;
                for (int p = 0; p < d; p++) {
                    double x = test.x()[j * d + p];
                    mc += (x - c.x()[j * d + p]) * (x - c.x()[j * d + p]) / d;
                    mr += (x - restored[j * d + p]) * (x - restored[j * d + p]) / d;
                }
                sc += mc / count;
                sr += mr / count;
                csv.append(String.format(Locale.ROOT, "%d,%d,%.6f,%.6f%n", j, test.labels()[j], mc, mr));
            }
            ModelInput.writeCsv(in.file(name + ".csv"), csv.toString());
            spec.commandLine().getOut().printf(Locale.ROOT, "wrote %s (pixel MSE: corrupted %.4f, restored %.4f)%n", png, sc, sr);
        }
        return Jvae.OK;
    }
}

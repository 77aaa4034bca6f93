package io.jvae.cli;

import io.jvae.InvalidInputException;
import io.jvae.backend.Backend;
import io.jvae.data.Dataset;
import io.jvae.data.Idx;
import io.jvae.eval.ImportanceSampling;
import io.jvae.model.Vae;
import io.jvae.train.DeviceData;
import io.jvae.viz.ImageGrid;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;

@Command(name = "score", mixinStandardHelpOptions = true,
        description = "Anomaly scores: per-example reconstruction log-probability log (1/L) sum_l p(x|z_l), z_l ~ q(z|x), as CSV; "
                + "and the most and least anomalous examples as a figure.")
final class ScoreCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", description = "checkpoint (.safetensors)")
    Path checkpoint;

    @Option(names = "--input", description = "IDX images to score (raw or .gz; default: the MNIST test set)")
    Path input;

    @Option(names = "--labels", description = "IDX labels for --input (needed by a conditional model)")
    Path labels;

    @Option(names = "--samples", defaultValue = "100", description = "L, samples of z per example. Default: ${DEFAULT-VALUE}")
    int samples;

    @Option(names = "--seed", defaultValue = "1")
    long seed;

    @Mixin
    ModelInput in = new ModelInput();

    @Override
    public Integer call() {
        InvalidInputException.require(samples >= 1 && samples <= 100_000, "--samples must be in [1, 100000], got %d", samples);
        try (Backend be = in.backend()) {
            Dataset d;
            if (input == null) d = in.test();
            else {
                Idx.Data img = Idx.read(input);
                if (labels != null) d = Dataset.fromIdx(input.getFileName().toString(), img, Idx.read(labels));
                else {
                    float[] x = new float[img.bytes().length];
                    for (int i = 0; i < x.length; i++) x[i] = (img.bytes()[i] & 0xFF) / 255f;
                    d = new Dataset(input.getFileName().toString(), x, img.itemSize(), img.count(), null, 0);
                }
            }
            Vae vae = ModelInput.load(checkpoint, be, d);
            int chunk = Math.min(samples, 100), b = Math.max(1, Math.min(d.n(), 10_000 / chunk));
            vae.workspace(b, chunk);
            ImportanceSampling.Result r;
            try (io.jvae.train.Progress p = io.jvae.train.Progress.start("scoring, L=" + samples, d.n(), io.jvae.train.Progress.enabled())) {
                r = ImportanceSampling.estimate(vae, new DeviceData(be, d, vae.cfg.classes()), d.n(), samples, seed, done -> p.stepTo(done, ""));
            }
            StringBuilder csv = new StringBuilder("index,label,recon_log_prob,log_px_iw\n");
            for (int i = 0; i < d.n(); i++)
                csv.append(String.format(Locale.ROOT, "%d,%s,%.4f,%.4f%n", i, d.labels() == null ? "" : Integer.toString(d.labels()[i]),
                        r.reconLogProb()[i], r.logPx()[i]));
            Path csvFile = in.file("scores.csv");
            ModelInput.writeCsv(csvFile, csv.toString());
            List<Integer> order = new ArrayList<>(IntStream.range(0, d.n()).boxed().toList());
            order.sort(Comparator.comparingDouble(i -> r.reconLogProb()[i]));
            int k = Math.min(10, d.n());
            float[][][] grid = new float[2][k][];
            List<String> rowLabels = List.of("most anomalous", "least anomalous");
            for (int j = 0; j < k; j++) {
                int worst = order.get(j), best = order.get(d.n() - 1 - j);
                grid[0][j] = java.util.Arrays.copyOfRange(d.x(), worst * d.dim(), (worst + 1) * d.dim());
                grid[1][j] = java.util.Arrays.copyOfRange(d.x(), best * d.dim(), (best + 1) * d.dim());
            }
            Path png = in.file("anomalies.png");
            ImageGrid.write(ImageGrid.render(grid, ImageGrid.side(d.dim()), 2,
                    "Lowest and highest reconstruction log-probability (" + samples + " samples of z)", rowLabels, null), png);
            spec.commandLine().getOut().printf(Locale.ROOT, "wrote %s and %s (%d examples; lowest score %.2f, highest %.2f nats)%n",
                    csvFile, png, d.n(), r.reconLogProb()[order.get(0)], r.reconLogProb()[order.get(d.n() - 1)]);
        }
        return Jvae.OK;
    }
}

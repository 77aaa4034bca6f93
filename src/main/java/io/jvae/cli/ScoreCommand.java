package io.jvae.cli;

import io.jvae.InvalidInputException;
import io.jvae.backend.Backend;
import io.jvae.data.Dataset;
import io.jvae.eval.ImportanceSampling;
import io.jvae.model.Vae;
import io.jvae.train.Checkpoint;
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

    @Option(names = "--input", description = "data to score: .npy, .npz, CSV or IDX (raw or .gz) with the model's features (default: the MNIST test set); "
            + "the scaling the model was trained with is applied")
    Path input;

    @Option(names = "--labels", description = "labels for --input (IDX, .npy, .npz or one integer per line; needed by a conditional model)")
    Path labels;

    @Mixin
    DataOptions dataOpts = new DataOptions();

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
            Vae vae = Checkpoint.loadModel(checkpoint, be);
            InvalidInputException.require(input != null || (labels == null && !dataOpts.any()), "--labels, --array, --labels-array and --label-column apply to --input FILE");
            UserData.ForModel m = input != null ? UserData.input(input, labels, dataOpts.options(), checkpoint, vae.cfg)
                    : UserData.dataset(in.test(), checkpoint, vae.cfg);
            Dataset d = m.data();
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
            String range = String.format(Locale.ROOT, "%d examples; lowest score %.2f, highest %.2f nats", d.n(),
                    r.reconLogProb()[order.get(0)], r.reconLogProb()[order.get(d.n() - 1)]);
            int side = (int) Math.round(Math.sqrt(d.dim()));
            if (side * side != d.dim()) { // not images: the scores only
                spec.commandLine().getOut().printf(Locale.ROOT, "wrote %s (%s); no anomalies.png: %d features are not a square image%n", csvFile, range, d.dim());
                return Jvae.OK;
            }
            int k = Math.min(10, d.n());
            float[][][] grid = new float[2][k][];
            List<String> rowLabels = List.of("most anomalous", "least anomalous");
            for (int j = 0; j < k; j++) { // the inputs as they are in the file (before the model's scaling)
                int worst = order.get(j), best = order.get(d.n() - 1 - j);
                grid[0][j] = java.util.Arrays.copyOfRange(m.raw(), worst * d.dim(), (worst + 1) * d.dim());
                grid[1][j] = java.util.Arrays.copyOfRange(m.raw(), best * d.dim(), (best + 1) * d.dim());
            }
            Path png = in.file("anomalies.png");
            ImageGrid.write(ImageGrid.render(grid, side, ImageGrid.scaleFor(side),
                    "Lowest and highest reconstruction log-probability (" + samples + " samples of z)", rowLabels, null), png);
            spec.commandLine().getOut().printf(Locale.ROOT, "wrote %s and %s (%s)%n", csvFile, png, range);
        }
        return Jvae.OK;
    }
}

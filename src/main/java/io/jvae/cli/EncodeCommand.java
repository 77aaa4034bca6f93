package io.jvae.cli;

import io.jvae.InvalidInputException;
import io.jvae.api.Posterior;
import io.jvae.api.VaeModel;
import io.jvae.data.Dataset;
import io.jvae.data.Mnist;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "encode", mixinStandardHelpOptions = true,
        description = "The latent codes of a data set: each example's posterior mean and log-variance (the embedding a "
                + "downstream model uses). --out z.npy: float32 [n, 2L], the L means then the L log-variances; --out z.csv: "
                + "columns mu0.., logvar0.. and the label when there is one.")
final class EncodeCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", description = "checkpoint (.safetensors)")
    Path checkpoint;

    @Option(names = "--out", required = true, description = "the file to write: .npy or .csv")
    Path out;

    @Option(names = "--data", description = "MNIST directory (default: cache, fetched if missing)")
    Path data;

    @Option(names = "--split", defaultValue = "test", description = "test or train. Default: ${DEFAULT-VALUE}")
    String split;

    @Option(names = "--limit", description = "only the first N examples")
    Integer limit;

    @Option(names = "--input", description = "the examples to encode: a .npy, .npz, CSV or IDX file (default: MNIST's --split); "
            + "the model's --scale is applied to them")
    Path input;

    @Option(names = "--labels", description = "labels for --input (a conditional model needs them; CSV: --label-column)")
    Path labels;

    @picocli.CommandLine.Mixin
    DataOptions dataOptions = new DataOptions();

    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu, cuda or cuda:N. Default: ${DEFAULT-VALUE}")
    String device;

    @Override
    public Integer call() {
        String name = out.getFileName() == null ? "" : out.getFileName().toString().toLowerCase(Locale.ROOT);
        boolean npy = name.endsWith(".npy");
        InvalidInputException.require(npy || name.endsWith(".csv"), "--out must end in .npy or .csv, got %s", out);
        io.jvae.model.ModelConfig cfg = io.jvae.train.Checkpoint.config(checkpoint); // the header only: the model loads below
        Dataset ds;
        if (input != null) {
            ds = UserData.input(input, labels, dataOptions.options(), checkpoint, cfg).data();
        } else {
            Mnist.Splits m = Mnist.resolveAndLoad(data, System.err);
            ds = switch (split) {
                case "test" -> m.test();
                case "train" -> m.train();
                default -> throw new InvalidInputException("--split must be test or train, got " + split);
            };
            ds = UserData.dataset(ds, checkpoint, cfg).data(); // the model's --scale, if it was trained with one
        }
        if (limit != null) {
            InvalidInputException.require(limit > 0, "--limit must be > 0, got %d", limit);
            ds = ds.head(limit);
        }
        try (VaeModel model = Devices.model(checkpoint, device)) {
            InvalidInputException.require(ds.dim() == model.inputSize(), "%s has %d pixels per image, the model %s expects %d",
                    ds.name(), ds.dim(), checkpoint, model.inputSize());
            int lat = model.latentSize(), n = ds.n();
            Posterior q = model.encode(ds);
            float[] rows = new float[2 * lat * n]; // per example: mu_0..mu_{L-1}, lv_0..lv_{L-1}
            for (int j = 0; j < n; j++) {
                System.arraycopy(q.mean()[j], 0, rows, 2 * lat * j, lat);
                System.arraycopy(q.logVar()[j], 0, rows, 2 * lat * j + lat, lat);
            }
            Path dir = out.toAbsolutePath().getParent();
            try {
                java.nio.file.Files.createDirectories(dir);
            } catch (java.io.IOException e) {
                throw io.jvae.io.AtomicFiles.failure("creating", dir, e);
            }
            if (npy) {
                io.jvae.io.NpyWriter.write(out, rows, n, 2 * lat);
            } else {
                String[] header = new String[2 * lat];
                for (int l = 0; l < lat; l++) {
                    header[l] = "mu" + l;
                    header[lat + l] = "logvar" + l;
                }
                ModelInput.writeCsvRows(out, header, rows, n, ds.labels());
            }
            spec.commandLine().getOut().printf(Locale.ROOT, "wrote %s: %d examples x (%d means, %d log-variances)%n", out, n, lat, lat);
        }
        return Jvae.OK;
    }
}

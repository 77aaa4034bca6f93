package io.jvae.cli;

import io.jvae.InvalidInputException;
import io.jvae.backend.Backend;
import io.jvae.data.Dataset;
import io.jvae.data.Mnist;
import io.jvae.model.Vae;
import io.jvae.train.Checkpoint;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;

/** Options shared by the figure commands: data, device, output directory. */
final class ModelInput {
    @Option(names = "--data", description = "MNIST directory (default: cache, fetched if missing)")
    Path data;

    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu, cuda or cuda:N. Default: ${DEFAULT-VALUE}")
    String device;

    @Option(names = "--out", defaultValue = "figures", description = "directory for the PNG and CSV files. Default: ${DEFAULT-VALUE}")
    Path out;

    Backend backend() {
        return Devices.open(device, System.err);
    }

    /** The checkpoint as io.jvae.api's model on --device (messages as {@link #backend}'s). */
    io.jvae.api.VaeModel model(Path checkpoint) {
        return Devices.model(checkpoint, device);
    }

    /** n rows of equal length as one row-major array (what the writers take). */
    static float[] flat(float[][] rows) {
        int d = rows.length == 0 ? 0 : rows[0].length;
        float[] out = new float[rows.length * d];
        for (int i = 0; i < rows.length; i++) System.arraycopy(rows[i], 0, out, i * d, d);
        return out;
    }

    Dataset test() {
        return Mnist.resolveAndLoad(data, System.err).test();
    }

    static Vae load(Path ckpt, Backend be, Dataset d) {
        Vae vae = Checkpoint.loadModel(ckpt, be);
        UserData.requireUnscaled(ckpt);
        InvalidInputException.require(d.dim() == vae.cfg.inputDim(), "%s has %d pixels per image, the model %s expects %d",
                d.name(), d.dim(), ckpt, vae.cfg.inputDim());
        return vae;
    }

    Path file(String name) {
        try {
            Files.createDirectories(out);
        } catch (Exception e) {
            throw new InvalidInputException("output directory " + out + " cannot be created: " + e.getMessage());
        }
        return out.resolve(name);
    }

    static void writeCsv(Path file, String text) {
        byte[] bytes = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try {
            io.jvae.io.AtomicFiles.write(file, ch -> {
                java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) ch.write(b);
            });
        } catch (java.io.IOException e) {
            throw io.jvae.io.AtomicFiles.failure("writing", file, e);
        }
    }

    /**
     * n rows of d values (row j at data[j*d ..]) as FILE.npy (float32, shape [n, d]) and FILE.csv
     * (a header of `prefix0, prefix1, ...`, 7 significant digits): what numpy and a spreadsheet read.
     */
    static void writeRows(Path dir, String name, float[] data, int n, int d, String prefix) {
        io.jvae.io.NpyWriter.write(dir.resolve(name + ".npy"), data, n, d);
        String[] header = new String[d];
        for (int c = 0; c < d; c++) header[c] = prefix + c;
        writeCsvRows(dir.resolve(name + ".csv"), header, data, n, null);
    }

    /** n rows of header.length values as a CSV with that header, 7 significant digits, and a last column `label` when labels are given. */
    static void writeCsvRows(Path file, String[] header, float[] data, int n, int[] labels) {
        int d = header.length;
        StringBuilder csv = new StringBuilder(String.join(",", header)).append(labels != null ? ",label\n" : "\n");
        for (int j = 0; j < n; j++) {
            for (int c = 0; c < d; c++) {
                if (c > 0) csv.append(',');
                csv.append(String.format(java.util.Locale.ROOT, "%.7g", data[j * d + c]));
            }
            if (labels != null) csv.append(',').append(labels[j]);
            csv.append('\n');
        }
        writeCsv(file, csv.toString());
    }
}

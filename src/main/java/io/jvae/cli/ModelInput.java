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
        try {
            Files.writeString(file, text);
        } catch (java.io.IOException e) {
            throw new InvalidInputException("cannot write " + file + ": " + e.getMessage());
        }
    }
}

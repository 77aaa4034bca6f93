package io.jvae.cli;

import io.jvae.InvalidInputException;
import io.jvae.backend.Backend;
import io.jvae.data.Dataset;
import io.jvae.data.Mnist;
import io.jvae.model.Vae;
import io.jvae.train.Checkpoint;
import io.jvae.train.DeviceData;
import io.jvae.train.Evaluator;
import io.jvae.train.Losses;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "eval", mixinStandardHelpOptions = true, description = "Test loss (-ELBO per example in nats, with its two terms) of a checkpoint.")
final class EvalCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", description = "checkpoint (.safetensors)")
    Path checkpoint;

    @Option(names = "--data", description = "MNIST directory (default: cache, fetched if missing)")
    Path data;

    @Option(names = "--split", defaultValue = "test", description = "test or train. Default: ${DEFAULT-VALUE}")
    String split;

    @Option(names = "--batch", defaultValue = "1000")
    int batch;

    @Option(names = "--seed", defaultValue = "1", description = "seed of the z samples")
    long seed;

    @Option(names = "--binarize", description = "evaluate on dynamically binarized pixels")
    boolean binarize;

    @Option(names = "--device", defaultValue = "auto")
    String device;

    @Override
    public Integer call() {
        InvalidInputException.require(batch > 0, "--batch must be > 0, got %d", batch);
        InvalidInputException.require(split.equals("test") || split.equals("train"), "--split must be test or train, got '%s'", split);
        var out = spec.commandLine().getOut();
        try (Backend be = Devices.open(device, System.err)) {
            Vae vae = Checkpoint.loadModel(checkpoint, be);
            Mnist.Splits m = Mnist.resolveAndLoad(data, System.err);
            Dataset d = split.equals("test") ? m.test() : m.train();
            InvalidInputException.require(d.dim() == vae.cfg.inputDim(), "%s has %d pixels per image, the model expects %d", d.name(), d.dim(), vae.cfg.inputDim());
            vae.workspace(Math.min(batch, d.n()), 1);
            Losses l = new Evaluator(vae).evaluate(new DeviceData(be, d, vae.cfg.classes()), seed, binarize);
            out.printf(Locale.ROOT, "model  %s%n", vae.cfg.summary());
            out.printf(Locale.ROOT, "%s   %d examples: loss %.4f  (reconstruction %.4f + KL %.4f) nats/example%n", split, d.n(), l.loss(), l.recon(), l.kl());
        }
        return Jvae.OK;
    }
}

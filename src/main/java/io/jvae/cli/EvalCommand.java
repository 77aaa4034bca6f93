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
import io.jvae.eval.ImportanceSampling;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Test loss (-ELBO per example in nats, with its two terms), active units and KL per latent dimension; with --iw K the importance-sampled log p(x).")
final class EvalCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", description = "checkpoint (.safetensors)")
    Path checkpoint;

    @Option(names = "--data", description = "MNIST directory (default: cache, fetched if missing)")
    Path data;

    @Option(names = "--split", defaultValue = "test", description = "MNIST: test or train. Default: ${DEFAULT-VALUE}")
    String split;

    @Option(names = "--input", description = "evaluate on this file instead of MNIST: .npy, .npz, CSV or IDX (raw or .gz); the model's scaling is applied")
    Path input;

    @Option(names = "--labels", description = "labels for --input (needed by a conditional model)")
    Path labels;

    @picocli.CommandLine.Mixin
    DataOptions dataOpts = new DataOptions();

    @Option(names = "--batch", defaultValue = "1000")
    int batch;

    @Option(names = "--seed", defaultValue = "1", description = "seed of the z samples")
    long seed;

    @Option(names = "--binarize", description = "evaluate on one stochastic binarization of the pixels (seeded by --seed)")
    boolean binarize;

    @Option(names = "--device", defaultValue = "auto")
    String device;

    @Option(names = "--iw", defaultValue = "0", description = "importance-sampled log p(x) with K samples per example (5000 in the IWAE paper); 0 = off")
    int iw;

    @Option(names = "--iw-chunk", defaultValue = "100", description = "samples per pass for --iw (memory: batch x chunk decoder columns). Default: ${DEFAULT-VALUE}")
    int iwChunk;

    @Option(names = "--l2", description = "also print the loss plus the L2 penalty l2 * sum W^2 (weights, not biases), "
            + "which is what Keras 2 reports as val_loss for a model trained with kernel_regularizer=l2(l2); the seed preset's is 1e-4")
    Float l2;

    @Option(names = "--count", description = "only the first N examples")
    Integer count;

    @Override
    public Integer call() {
        InvalidInputException.require(batch > 0, "--batch must be > 0, got %d", batch);
        InvalidInputException.require(l2 == null || (Float.isFinite(l2) && l2 >= 0), "--l2 must be >= 0, got %s", l2);
        InvalidInputException.require(split.equals("test") || split.equals("train"), "--split must be test or train, got '%s'", split);
        var out = spec.commandLine().getOut();
        try (Backend be = Devices.open(device, System.err)) {
            Vae vae = Checkpoint.loadModel(checkpoint, be);
            Dataset d = data(vae);
            if (count != null) {
                InvalidInputException.require(count > 0, "--count must be > 0, got %d", count);
                d = d.head(count);
            }
            InvalidInputException.require(iw >= 0, "--iw must be >= 0, got %d", iw);
            InvalidInputException.require(iwChunk >= 1, "--iw-chunk must be >= 1, got %d", iwChunk);
            io.jvae.train.MemoryPlan.checkFor(be, io.jvae.train.MemoryPlan.workspaceBytes(vae.cfg, Math.min(batch, d.n()), 1),
                    "evaluating " + vae.cfg.summary() + " at --batch " + batch, "a smaller --batch");
            vae.workspace(Math.min(batch, d.n()), 1);
            if (binarize) { // one fixed stochastic binarization of the evaluated set (Philox, seeded), so every estimate sees the same inputs
                float[] u = new float[d.x().length], xb = new float[d.x().length];
                io.jvae.backend.Philox.uniforms(io.jvae.train.Seeds.derive(seed, io.jvae.train.Seeds.BINARIZE), 0, u, 0, u.length);
                for (int i = 0; i < u.length; i++) xb[i] = u[i] < d.x()[i] ? 1f : 0f;
                d = new Dataset(d.name() + " (binarized)", xb, d.dim(), d.n(), d.labels(), d.classes());
            }
            DeviceData dd = new DeviceData(be, d, vae.cfg.classes()); // once: the binarized set replaces the original (F3)
            Losses l = new Evaluator(vae).evaluate(dd, seed, false);
            out.printf(Locale.ROOT, "model  %s%n", vae.cfg.summary());
            out.printf(Locale.ROOT, "%s   %d examples: loss %.4f  (reconstruction %.4f + KL %.4f) nats/example%n",
                    input != null ? input.getFileName() : split, d.n(), l.loss(), l.recon(), l.kl());
            if (l2 != null) {
                double sq = vae.sumOfSquaredWeights();
                out.printf(Locale.ROOT, "with L2  loss + %s * sum W^2 = %.4f (penalty %.4f, sum W^2 %.4f), as Keras' val_loss%n",
                        new java.math.BigDecimal(Float.toString(l2)).stripTrailingZeros().toPlainString(), l.loss() + l2 * sq, l2 * sq, sq);
            }
            ImportanceSampling.Units u = ImportanceSampling.units(vae, dd, d.n());
            StringBuilder kl = new StringBuilder();
            for (double v : u.klPerDim()) kl.append(String.format(Locale.ROOT, " %.2f", v));
            out.printf(Locale.ROOT, "latent %d of %d units active (Var_x E[z] > 0.01); KL per dimension:%s%n", u.active(), vae.cfg.latent(), kl);
            if (iw > 0) {
                int chunk = Math.min(iwChunk, iw), b = Math.max(1, Math.min(d.n(), 10_000 / chunk));
                io.jvae.train.MemoryPlan.checkFor(be, io.jvae.train.MemoryPlan.workspaceBytes(vae.cfg, b, chunk),
                        "--iw " + iw + " in passes of " + chunk + " samples x " + b + " examples", "a smaller --iw-chunk");
                vae.workspace(b, chunk);
                long t0 = System.nanoTime();
                ImportanceSampling.Result r;
                try (io.jvae.train.Progress p = io.jvae.train.Progress.start("log p(x), K=" + iw, d.n(), io.jvae.train.Progress.enabled())) {
                    r = ImportanceSampling.estimate(vae, dd, d.n(), iw, seed, done -> p.stepTo(done, ""));
                }
                out.printf(Locale.ROOT, "NLL    -log p(x) ~ %.4f +- %.4f (standard error) nats/example, importance-sampled with K=%d (%.0f s); ELBO bound %.4f%n",
                        r.meanNll(), r.stdErr(), iw, (System.nanoTime() - t0) / 1e9, l.loss());
            }
        }
        return Jvae.OK;
    }

    /** The set to evaluate: --input's file or MNIST's --split, scaled as the model was trained. */
    private Dataset data(Vae vae) {
        if (input != null) {
            InvalidInputException.require(data == null, "--data (MNIST) and --input (your file): give one");
            InvalidInputException.require(split.equals("test"), "--split applies to MNIST; --input is evaluated as it is");
            return UserData.input(input, labels, dataOpts.options(), checkpoint, vae.cfg).data();
        }
        InvalidInputException.require(labels == null && !dataOpts.any(), "--labels, --array, --labels-array and --label-column apply to --input FILE");
        Mnist.Splits m = Mnist.resolveAndLoad(data, System.err);
        return UserData.dataset(split.equals("test") ? m.test() : m.train(), checkpoint, vae.cfg).data();
    }
}

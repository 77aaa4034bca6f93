package io.jvae.cli;

import io.jvae.InvalidInputException;
import io.jvae.data.ClassLabels;
import io.jvae.data.DataFiles;
import io.jvae.data.Dataset;
import io.jvae.data.Scaling;
import io.jvae.data.Table;
import io.jvae.model.Likelihood;
import io.jvae.model.ModelConfig;
import io.jvae.train.Checkpoint;
import io.jvae.train.Seeds;

import java.nio.file.Path;
import java.util.Locale;

/**
 * The user's data files on their way to a model: read (DataFiles), split, scaled (Scaling) and
 * checked against the decoder and the model, each failure one line.
 */
final class UserData {
    private UserData() {}

    /** What train gets: the two sets scaled, the scaling to store, and a line that says what was read. */
    record ForTraining(Dataset train, Dataset test, Scaling scaling, String summary) {}

    /**
     * --train FILE [--labels FILE] [--test FILE [--test-labels FILE] | --test-split F]: the test set is
     * the --test file, else a fraction of the training file held out with a generator seeded by
     * `seed`. Scaling is fitted on the training part only.
     */
    static ForTraining forTraining(Path trainFile, Path labels, Path testFile, Path testLabels, DataFiles.Options o,
                                   Double testSplit, long seed, Scaling.Kind kind, Likelihood lik, boolean conditional) {
        Table train = DataFiles.read(trainFile, labels, o), test;
        String held;
        if (testFile != null) {
            InvalidInputException.require(testSplit == null, "--test and --test-split: give one (a test file, or a fraction of --train held out)");
            test = DataFiles.read(testFile, testLabels, o);
            InvalidInputException.require(test.dim() == train.dim(), "%s has %d features per example, %s has %d: the test file must have the training file's features",
                    test.name(), test.dim(), train.name(), train.dim());
            held = "test file " + test.name();
        } else {
            InvalidInputException.require(testLabels == null, "--test-labels needs --test FILE");
            double f = testSplit == null ? 0.1 : testSplit;
            DataFiles.Split s = DataFiles.split(train, f, Seeds.derive(seed, Seeds.SPLIT));
            train = s.train();
            test = s.test();
            held = String.format(Locale.ROOT, "held out with --test-split %s, seed %d", f, seed);
        }
        if (conditional)
            InvalidInputException.require(train.labels() != null && test.labels() != null,
                    "--conditional needs labels for the training and the test set: --labels/--test-labels FILE, --label-column (CSV) or --labels-array (.npz)");
        int classes = Math.max(train.maxLabel(), test.maxLabel()) + 1; // 0 without labels
        Scaling s = Scaling.fit(kind, train.x(), train.dim(), train.n(), kind == Scaling.Kind.MINMAX && lik == Likelihood.BERNOULLI);
        float[] xTrain = s.apply(train.x(), train.dim(), train.name()), xTest = s.apply(test.x(), test.dim(), test.name());
        if (lik == Likelihood.BERNOULLI) {
            String hint = kind == Scaling.Kind.NONE ? "use --decoder gaussian, or --scale minmax"
                    : "this is after --scale " + kind.cliName() + ": use --decoder gaussian, or --scale minmax";
            DataFiles.requireUnitRange(train, xTrain, hint);
            DataFiles.requireUnitRange(test, xTest, hint);
        }
        String summary = String.format(Locale.ROOT, "data %s: %d train / %d test examples (%s), %d features, %s; scaling %s",
                trainFile.getFileName(), train.n(), test.n(), held, train.dim(),
                classes > 0 ? "labels 0.." + (classes - 1) : "no labels", s.describe());
        return new ForTraining(train.dataset(xTrain, classes), test.dataset(xTest, classes), s, summary);
    }

    /** The scaling a checkpoint was trained with (none for MNIST runs and older files). */
    static Scaling scaling(Path checkpoint) {
        try {
            return Scaling.fromJson(Checkpoint.metadata(checkpoint).get(Scaling.META_KEY));
        } catch (InvalidInputException e) {
            throw new InvalidInputException(checkpoint + ": bad " + Scaling.META_KEY + " in the metadata, " + e.getMessage());
        }
    }

    /** A set for a trained model (score, eval): raw values (for figures) and the model's view. */
    record ForModel(Dataset data, float[] raw, Scaling scaling) {}

    /** --input FILE [--labels FILE]: read, scaled as the checkpoint says, checked against the model. */
    static ForModel input(Path input, Path labels, DataFiles.Options o, Path checkpoint, ModelConfig cfg) {
        return forModel(DataFiles.read(input, labels, o), checkpoint, cfg);
    }

    /** A dataset already in memory (MNIST's) for a trained model: scaled as the checkpoint says. */
    static ForModel dataset(Dataset d, Path checkpoint, ModelConfig cfg) {
        return forModel(new Table(d.name(), d.x(), d.dim(), d.n(), d.labels(), (e, f) -> "example " + e + ", feature " + f + " (0-based)",
                e -> "example " + e + " (0-based)"), checkpoint, cfg);
    }

    private static ForModel forModel(Table t, Path checkpoint, ModelConfig cfg) {
        InvalidInputException.require(t.dim() == cfg.inputDim(), "%s has %d features per example, the model expects %d (%s)",
                t.name(), t.dim(), cfg.inputDim(), checkpoint);
        Scaling s = scaling(checkpoint);
        float[] x = s.apply(t.x(), t.dim(), t.name());
        if (cfg.likelihood() == Likelihood.BERNOULLI)
            DataFiles.requireUnitRange(t, x, "the model's decoder needs values in [0, 1]"
                    + (s.kind() == Scaling.Kind.NONE ? " (it was trained without --scale)" : " (after its --scale " + s.kind().cliName() + ")"));
        int classes = t.maxLabel() + 1;
        if (cfg.conditional()) {
            InvalidInputException.require(t.labels() != null, "%s: the model is conditional (a CVAE): it needs labels (--labels FILE, --label-column or --labels-array)", t.name());
            ClassLabels.requireBelow(t.labels(), cfg.classes(), t.name(), t.labelAt(), "the model");
            classes = cfg.classes();
        }
        return new ForModel(t.dataset(x, classes), t.x(), s);
    }

    /** For commands that read MNIST unscaled: a checkpoint trained with --scale is refused (its inputs would be wrong). */
    static void requireUnscaled(Path checkpoint) {
        Scaling s = scaling(checkpoint);
        InvalidInputException.require(s.kind() == Scaling.Kind.NONE, "%s was trained with --scale %s; this command feeds it unscaled MNIST: "
                + "use score or eval (they apply the model's scaling)", checkpoint, s.kind().cliName());
    }
}

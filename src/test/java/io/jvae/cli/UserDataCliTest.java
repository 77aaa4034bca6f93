package io.jvae.cli;

import io.jvae.data.DataFiles;
import io.jvae.data.Scaling;
import io.jvae.io.Safetensors;
import io.jvae.testing.DataBytes;
import io.jvae.testing.Rand;
import io.jvae.train.Seeds;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.jvae.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.*;

/** train --train / score --input / eval --input on files written here: the whole path, the stored scaling, the one-line errors. */
class UserDataCliTest {
    @TempDir
    static Path tmp;
    static Path npy, csv, csvNoLabels;
    static final int N = 120;

    /** x.npy: 120 examples of 4x4 values in [0, 1]; d.csv: 6 features in [-5, 20] and a label column (0..2) in the middle. */
    @BeforeAll
    static void files() throws Exception {
        Rand r = new Rand(3);
        npy = tmp.resolve("x.npy");
        Files.write(npy, DataBytes.npyF4(r.uniform(N * 16, 0, 1), N, 16));
        StringBuilder s = new StringBuilder("a,b,c,label,d,e,f\n"), u = new StringBuilder("a,b,c,d,e,f\n");
        for (int i = 0; i < N; i++) {
            float[] v = r.uniform(6, -5, 20);
            for (int f = 0; f < 6; f++) {
                s.append(f == 3 ? (i % 3) + "," : "").append(v[f]).append(f < 5 ? "," : "\n");
                u.append(v[f]).append(f < 5 ? "," : "\n");
            }
        }
        csv = Files.writeString(tmp.resolve("d.csv"), s.toString());
        csvNoLabels = Files.writeString(tmp.resolve("u.csv"), u.toString());
    }

    static CliTest.Run ok(String... args) {
        CliTest.Run r = run(args);
        assertEquals(0, r.code(), String.join(" ", args) + "\n" + r.err() + r.out());
        return r;
    }

    static String[] train(Path out, String... extra) {
        List<String> a = new java.util.ArrayList<>(List.of("train", "--out", out.toString(), "--batch", "20",
                "--hidden", "16", "--latent", "2", "--device", "cpu", "--no-progress", "--seed", "5"));
        a.addAll(List.of(extra));
        if (!a.contains("--epochs")) a.addAll(List.of("--epochs", "2"));
        return a.toArray(String[]::new);
    }

    /** The exact single line on stderr, exit 2. */
    static void badInput(String line, String... args) {
        CliTest.Run r = run(args);
        assertEquals(2, r.code(), r.err() + r.out());
        assertEquals("jvae: " + line + "\n", r.err().replace("\r\n", "\n"), String.join(" ", args));
    }

    @Test
    void trainsOnNpyAndCsvThenScoresAndEvaluatesThem() throws Exception {
        Path run1 = tmp.resolve("npy-run");
        CliTest.Run t = ok(train(run1, "--train", npy.toString()));
        assertTrue(t.out().contains("data x.npy: 108 train / 12 test examples (held out with --test-split 0.1, seed 5), 16 features, no labels; scaling none"), t.out());
        assertTrue(t.out().contains("model 16-16-2 relu, bernoulli decoder; 108 train / 12 test") && t.out().contains("epoch   2"), t.out());
        Path figs = tmp.resolve("npy-figs");
        CliTest.Run s = ok("score", run1.resolve("model.safetensors").toString(), "--input", npy.toString(), "--samples", "3", "--device", "cpu", "--out", figs.toString());
        assertTrue(s.out().startsWith("wrote " + figs.resolve("scores.csv") + " and " + figs.resolve("anomalies.png") + " (120 examples;"), s.out());
        assertEquals(N + 1, Files.readAllLines(figs.resolve("scores.csv")).size());

        Path run2 = tmp.resolve("csv-run");
        t = ok(train(run2, "--train", csv.toString(), "--label-column", "label", "--scale", "minmax", "--conditional"));
        assertTrue(t.out().contains("data d.csv: 108 train / 12 test examples (held out with --test-split 0.1, seed 5), 6 features, labels 0..2; "
                + "scaling minmax (per-feature min and range of the training set; clipped to [0, 1] for the Bernoulli decoder)"), t.out());
        assertTrue(t.out().contains("6-16-2 relu, bernoulli decoder, conditional on 3 classes"), t.out());
        Path m2 = run2.resolve("model.safetensors"), figs2 = tmp.resolve("csv-figs");
        s = ok("score", m2.toString(), "--input", csv.toString(), "--label-column", "4", "--samples", "3", "--device", "cpu", "--out", figs2.toString());
        assertTrue(s.out().endsWith("; no anomalies.png: 6 features are not a square image\n"), s.out());
        List<String> rows = Files.readAllLines(figs2.resolve("scores.csv"));
        for (int i = 0; i < N; i++) assertTrue(rows.get(i + 1).startsWith(i + "," + (i % 3) + ","), "the file's labels: " + rows.get(i + 1));
        CliTest.Run e = ok("eval", m2.toString(), "--input", csv.toString(), "--label-column", "label", "--device", "cpu");
        assertTrue(e.out().matches("(?s).*d\\.csv\\s+120 examples: loss \\d+\\.\\d+ .*"), e.out());
        badInput("u.csv: the model is conditional (a CVAE): it needs labels (--labels FILE, --label-column or --labels-array)",
                "eval", m2.toString(), "--input", csvNoLabels.toString(), "--device", "cpu");
        badInput("d.csv has 7 features per example, the model expects 6 (" + m2 + ")", "eval", m2.toString(), "--input", csv.toString(), "--device", "cpu");
        Path bad = Files.writeString(tmp.resolve("bad-labels.txt"), "0\n1\n2\n".repeat(N / 3).replaceFirst("2\n$", "3\n"));
        badInput("u.csv: label 3 at bad-labels.txt line 120, column 1 (1-based) is out of range: the model has classes 0..2",
                "score", m2.toString(), "--input", csvNoLabels.toString(), "--labels", bad.toString(), "--device", "cpu", "--out", figs2.toString());
    }

    @Test
    void theScalingIsStoredAndReappliedByScoreAndEval() throws Exception {
        Path run = tmp.resolve("scaled");
        ok(train(run, "--train", csv.toString(), "--label-column", "label", "--scale", "standard", "--decoder", "gaussian"));
        Path model = run.resolve("model.safetensors");
        // stored: the statistics of the training part (the same seeded split), bit for bit, in every checkpoint
        DataFiles.Split split = DataFiles.split(DataFiles.read(csv, null, new DataFiles.Options(null, null, "label")), 0.1, Seeds.derive(5, Seeds.SPLIT));
        Scaling want = Scaling.fit(Scaling.Kind.STANDARD, split.train().x(), 6, split.train().n(), false);
        for (String f : new String[] {"model.safetensors", "best.safetensors", "state.safetensors"})
            assertEquals(want, Scaling.fromJson(Safetensors.read(run.resolve(f)).metadata().get(Scaling.META_KEY)), f);

        // re-applied: the model on the raw file == the same weights without the key on the file scaled here
        var all = DataFiles.read(csv, null, new DataFiles.Options(null, null, "label"));
        Path scaled = tmp.resolve("scaled.npy"), bare = tmp.resolve("bare.safetensors");
        Files.write(scaled, DataBytes.npyF4(want.apply(all.x(), 6, "d.csv"), N, 6));
        Safetensors.File f = Safetensors.read(model);
        Map<String, String> meta = new LinkedHashMap<>(f.metadata());
        meta.remove(Scaling.META_KEY);
        Safetensors.write(bare, f.tensors(), meta);
        StringBuilder y = new StringBuilder();
        for (int i = 0; i < N; i++) y.append(i % 3).append('\n');
        Path labels = Files.writeString(tmp.resolve("labels.txt"), y.toString());
        String viaModel = score(model, csv, "--label-column", "label"), viaHand = score(bare, scaled, "--labels", labels.toString());
        assertEquals(viaHand, viaModel, "scores of the raw file through the stored scaling == scores of the file scaled by hand");
        assertNotEquals(viaModel, score(bare, csv, "--label-column", "label"), "without the scaling the raw file scores differently (the check above can fail)");
        String evalModel = ok("eval", model.toString(), "--input", csv.toString(), "--label-column", "label", "--device", "cpu").out();
        String evalHand = ok("eval", bare.toString(), "--input", scaled.toString(), "--labels", labels.toString(), "--device", "cpu").out();
        assertEquals(evalHand.replace("scaled.npy", "d.csv"), evalModel);
        // and a resumed run must see the same scaling
        badInput("--resume: the run in " + run + " was saved with another jvae.scaling (other data or options); "
                        + "resume with the same data and options, or start over with --overwrite",
                train(run, "--train", csv.toString(), "--label-column", "label", "--scale", "minmax", "--decoder", "gaussian", "--resume", "--epochs", "3"));
        // commands that feed the model unscaled MNIST refuse it
        Path mnist = tmp.resolve("mnist");
        Files.createDirectories(mnist);
        io.jvae.testing.Synthetic.writeMnistLike(mnist, 20, 10);
        badInput(model + " was trained with --scale standard; this command feeds it unscaled MNIST: use score or eval (they apply the model's scaling)",
                "reconstruct", model.toString(), "--data", mnist.toString(), "--device", "cpu", "--out", tmp.resolve("rec").toString());
    }

    static String score(Path model, Path input, String... extra) throws Exception {
        Path out = Files.createTempDirectory(tmp, "score");
        List<String> a = new java.util.ArrayList<>(List.of("score", model.toString(), "--input", input.toString(), "--samples", "4", "--seed", "9",
                "--device", "cpu", "--out", out.toString()));
        a.addAll(List.of(extra));
        ok(a.toArray(String[]::new));
        return Files.readString(out.resolve("scores.csv"));
    }

    @Test
    void badDataGivesOneLineAndExit2() throws Exception {
        Path d = tmp.resolve("bad");
        Files.createDirectories(d);
        Path two = Files.writeString(d.resolve("two.csv"), "a,b\n0.5,0.5\n0,1\n1,0\n");
        Path three = Files.writeString(d.resolve("three.csv"), "0,0,0\n1,1,1\n");
        Path ragged = Files.writeString(d.resolve("ragged.csv"), "a,b\n0,1\n0,1,1\n");
        Path nan = Files.writeString(d.resolve("nan.csv"), "a,b\n0,1\n0,nan\n");
        Path big = Files.writeString(d.resolve("big.csv"), "a,b\n0,1\n0,2.5\n");
        Path neg = Files.writeString(d.resolve("neg.txt"), "0\n-1\n1\n");
        Path empty = Files.write(d.resolve("empty.npy"), new byte[0]);
        String o = tmp.resolve("bad-run").toString();
        badInput("three.csv has 3 features per example, two.csv has 2: the test file must have the training file's features",
                train(Path.of(o), "--train", two.toString(), "--test", three.toString()));
        badInput("ragged.csv: line 3 has 3 fields, line 1 has 2 (comma-separated; quoted commas are not supported)", train(Path.of(o), "--train", ragged.toString()));
        badInput("nan.csv: nan at line 3, column 2 'b' (1-based): remove or impute missing values first", train(Path.of(o), "--train", nan.toString()));
        badInput("big.csv (train part): 2.5 at line 3, column 2 'b' (1-based) is outside [0, 1], the range of the Bernoulli decoder: use --decoder gaussian, or --scale minmax",
                train(Path.of(o), "--train", big.toString()));
        badInput("neg.txt: label -1 at line 2, column 1 (1-based) is negative (labels are class numbers 0..C-1)",
                train(Path.of(o), "--train", two.toString(), "--labels", neg.toString()));
        badInput(empty + ": empty file", train(Path.of(o), "--train", empty.toString()));
        badInput("--conditional needs labels for the training and the test set: --labels/--test-labels FILE, --label-column (CSV) or --labels-array (.npz)",
                train(Path.of(o), "--train", two.toString(), "--conditional"));
        badInput("--test and --test-split: give one (a test file, or a fraction of --train held out)",
                train(Path.of(o), "--train", two.toString(), "--test", two.toString(), "--test-split", "0.2"));
        badInput("--data (an MNIST directory) and --train (your file): give one", train(Path.of(o), "--train", two.toString(), "--data", d.toString()));
        badInput("unknown --scale 'zscore' (standard, minmax, none)", train(Path.of(o), "--train", two.toString(), "--scale", "zscore"));
        badInput("--scale applies to your own data: add --train FILE", train(Path.of(o), "--scale", "standard"));
        badInput("--test-split must be in (0, 1), got 0.0", train(Path.of(o), "--train", two.toString(), "--test-split", "0"));
        ok(train(Path.of(o), "--train", two.toString(), "--epochs", "1"));
        badInput("three.csv has 3 features per example, the model expects 2 (" + Path.of(o, "model.safetensors") + ")",
                "score", Path.of(o, "model.safetensors").toString(), "--input", three.toString(), "--device", "cpu", "--out", tmp.resolve("f").toString());
        badInput("--split applies to MNIST; --input is evaluated as it is",
                "eval", Path.of(o, "model.safetensors").toString(), "--input", two.toString(), "--split", "train", "--device", "cpu");
    }
}

package io.jvae.api;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The Java API as a user sees it: only io.jvae.api and java.* (the test lives in io.jvae.api for
 * Maven's layout and uses nothing package-private). Data: noisy copies of 4 random binary
 * prototypes of 64 values (0.1 / 0.9, plus uniform noise of +-0.1), so a model that learned
 * must reconstruct, encode, sample and score by prototype.
 *
 * <p>Where two computations take the same CPU code path on the same numbers (encode after load,
 * reconstruct vs decode(encode), a seeded sample twice), results are compared exactly: anything
 * else is a bug, not rounding. Margins on learned quantities are stated at each assertion.
 */
class ApiTest {
    static final int D = 64, PROTOTYPES = 4, LATENT = 2, EPOCHS = 30;

    @TempDir
    static Path tmp;

    static float[][] protos = new float[PROTOTYPES][D];
    static float[][] xTrain, xVal;
    static int[] yTrain, yVal;
    static VaeModel trained;
    static FitResult fit;
    static final List<Epoch> seen = new ArrayList<>();

    @BeforeAll
    static void fitOnce() {
        data();
        trained = plain().onEpoch(seen::add).build();
        fit = trained.fit(xTrain, null, xVal, null);
    }

    @AfterAll
    static void close() {
        trained.close();
    }

    /** 400 training and 100 validation rows, prototype i % 4 each (also ApiStandInTest's data). */
    static void data() {
        SplittableRandom r = new SplittableRandom(3);
        for (float[] p : protos) for (int j = 0; j < D; j++) p[j] = r.nextBoolean() ? 0.9f : 0.1f;
        yTrain = new int[400];
        yVal = new int[100];
        xTrain = rows(r, yTrain);
        xVal = rows(r, yVal);
    }

    static float[][] rows(SplittableRandom r, int[] labels) {
        float[][] x = new float[labels.length][D];
        for (int i = 0; i < x.length; i++) {
            labels[i] = i % PROTOTYPES;
            for (int j = 0; j < D; j++) x[i][j] = protos[labels[i]][j] + (float) (0.2 * r.nextDouble() - 0.1);
        }
        return x;
    }

    static VaeBuilder plain() {
        return VaeModel.builder().preset("pytorch").inputSize(D).hidden(32).latent(LATENT)
                .epochs(EPOCHS).batch(50).learningRate(3e-3).seed(7).device("cpu");
    }

    // ---- fit ----

    @Test
    void fitLearnsThePrototypes() {
        // What a model that ignores its input can reach: each value's cross-entropy under the mean
        // training row (38.0 nats a row here); what one that knows the prototype pays: the
        // cross-entropy under its own prototype's mean row plus ln 4 nats to code which one (22.3).
        // The untrained model (the same builder, no fit) is at 44.4, the trained one at 24.1: it
        // must close at least half of the gap between the baseline and the oracle (< 30.1).
        double baseline = crossEntropy(xVal, i -> mean(xTrain, k -> true));
        double oracle = crossEntropy(xVal, i -> mean(xTrain, k -> yTrain[k] == yVal[i])) + Math.log(PROTOTYPES);
        double after = trained.evaluate(xVal, null).loss();
        double before;
        try (VaeModel untrained = plain().build()) {
            before = untrained.evaluate(xVal, null).loss();
        }
        String numbers = "trained " + after + ", untrained " + before + ", mean-row baseline " + baseline + ", prototype oracle " + oracle;
        assertTrue(after < oracle + 0.5 * (baseline - oracle), numbers);
        assertTrue(before > baseline, "an untrained model does no better than ignoring the input: " + numbers);

        assertEquals(EPOCHS, fit.history().size());
        assertEquals(fit.history(), seen, "onEpoch saw every epoch, in order, as the history has it");
        for (int e = 0; e < EPOCHS; e++) assertEquals(e + 1, seen.get(e).epoch());
        assertNull(fit.checkpoint(), "no run folder: nothing kept");
        assertEquals(fit.history().stream().mapToDouble(Epoch::validationLoss).min().orElseThrow(), fit.bestLoss());
        // the last epoch's validation loss is the Trainer's evaluation of the same parameters on the
        // same rows, but at the training batch (50) with the run's evaluation seed: another draw of
        // z than evaluate's, so only close. The 100-row one-sample ELBO varies by 0.11 nats (sd
        // over 20 seeds, measured): 1 nat is 9 of those
        assertEquals(fit.last().validationLoss(), after, 1.0);
    }

    /** A float32 C-order .npy, written with java.* only (what numpy.save writes for float32). */
    static void writeNpy(Path p, float[][] rows) throws Exception {
        int n = rows.length, d = rows[0].length;
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + n + ", " + d + "), }";
        int total = (10 + dict.length() + 1 + 63) / 64 * 64;
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(total + 4 * n * d).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        b.putShort((short) (total - 10)).put((dict + " ".repeat(total - 11 - dict.length()) + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        for (float[] r : rows) for (float v : r) b.putFloat(v);
        Files.write(p, b.array());
    }

    @Test
    void filesReadThroughTheApiTrainSampleEncodeAndScore() throws Exception {
        // the same rows as a .npy and as a CSV with a header and a label column: the two reads agree exactly
        Path npy = tmp.resolve("x.npy"), csv = tmp.resolve("x.csv");
        writeNpy(npy, xTrain);
        StringBuilder text = new StringBuilder();
        for (int j = 0; j < D; j++) text.append("f").append(j).append(',');
        text.append("digit\n");
        for (int i = 0; i < xTrain.length; i++) {
            for (float v : xTrain[i]) text.append(v).append(','); // Float.toString: read back exactly
            text.append(yTrain[i]).append('\n');
        }
        Files.writeString(csv, text);
        DataFile a = DataFile.read(npy), b = DataFile.read(csv, null, "digit", null, null);
        assertEquals(D, a.features());
        assertNull(a.labels());
        assertArrayEquals(yTrain, b.labels());
        for (int i = 0; i < xTrain.length; i++) {
            assertArrayEquals(xTrain[i], a.rows()[i], "npy row " + i);
            assertArrayEquals(xTrain[i], b.rows()[i], "csv row " + i);
        }
        // a conditional model from the CSV's labels, a plain one from the .npy; each samples, encodes and scores
        try (VaeModel fromNpy = plain().epochs(5).build(); VaeModel fromCsv = plain().epochs(5).conditional(PROTOTYPES).build()) {
            fromNpy.fit(a.rows());
            fromCsv.fit(b.rows(), b.labels());
            assertEquals(10, fromNpy.sample(10, 1).length);
            assertEquals(D, fromCsv.sample(10, 1, 1.0, 2)[0].length);
            assertEquals(LATENT, fromNpy.encode(a.rows()).mean()[0].length);
            assertEquals(xTrain.length, fromCsv.encode(b.rows(), b.labels()).mean().length);
            double npyNll = fromNpy.score(xVal, null, 20, 1).meanNll(), csvNll = fromCsv.score(xVal, yVal, 20, 1).meanNll();
            assertTrue(Double.isFinite(npyNll) && Double.isFinite(csvNll), npyNll + " " + csvNll);
        }
        io.jvae.InvalidInputException e = assertThrows(io.jvae.InvalidInputException.class, () -> DataFile.read(csv, null, "nope", null, null));
        assertTrue(e.getMessage().contains("nope"), e.getMessage());
    }

    @Test
    void runFolderKeepsTheRunAndResumeContinuesIt() {
        Path dir = tmp.resolve("run");
        List<Epoch> later = new ArrayList<>();
        FitResult first;
        try (VaeModel m = plain().epochs(3).runFolder(dir).build()) {
            first = m.fit(xTrain);
            assertEquals(dir.resolve("model.safetensors"), first.checkpoint());
            for (String f : new String[] {"metrics.csv", "metrics.jsonl", "state.safetensors", "best.safetensors", "model.safetensors"})
                assertTrue(Files.isRegularFile(dir.resolve(f)), f);
            try (VaeModel fromFile = VaeModel.load(first.checkpoint(), "cpu")) {
                assertRowsEqual(m.encode(xVal).mean(), fromFile.encode(xVal).mean(), "the checkpoint holds the fitted parameters");
            }
            IllegalArgumentException again = assertThrows(IllegalArgumentException.class, () -> m.fit(xTrain));
            assertEquals(dir + " holds a finished run (3 epochs): --resume continues it, --overwrite starts over", again.getMessage());
        }
        try (VaeModel m = plain().epochs(5).runFolder(dir).resume(true).onEpoch(later::add).build()) {
            FitResult r = m.fit(xTrain);
            assertEquals(5, r.history().size(), "3 saved + 2 new epochs");
            for (int e = 0; e < 3; e++) { // read back from metrics.csv, written with 6 decimals: within 5e-7
                Epoch a = first.history().get(e), b = r.history().get(e);
                assertEquals(a.epoch(), b.epoch());
                assertEquals(a.trainLoss(), b.trainLoss(), 1e-6, "saved train loss, epoch " + a.epoch());
                assertEquals(a.validationLoss(), b.validationLoss(), 1e-6, "saved validation loss, epoch " + a.epoch());
            }
            assertEquals(List.of(4, 5), later.stream().map(Epoch::epoch).toList(), "the callback sees only the new epochs");
        }
        try (VaeModel m = plain().epochs(5).learningRate(1e-2).runFolder(dir).resume(true).build()) {
            IllegalArgumentException other = assertThrows(IllegalArgumentException.class, () -> m.fit(xTrain));
            assertTrue(other.getMessage().contains("used other settings"), other.getMessage());
        }
    }

    @Test
    void theLearningRateScheduleOfAPresetOrTheCallerIsTrainedWith() throws Exception {
        // the iwae-paper preset brings its schedule (the builder once dropped it: a constant 1e-3 for 3,280 epochs)
        assertEquals("iwae", VaeModel.builder().preset("iwae-paper").train().lrSchedule());
        assertEquals("", VaeModel.builder().preset("iwae-paper").lrSchedule("none").train().lrSchedule());
        assertEquals("", VaeModel.builder().preset("pytorch").train().lrSchedule());
        // the rates a fit uses, read back from the run's metrics.jsonl: 2 epochs at 1e-2, then 1e-3 from epoch 3 on
        Path dir = tmp.resolve("schedule");
        try (VaeModel m = plain().epochs(4).lrSchedule("2:1e-2, 1:1e-3").runFolder(dir).build()) {
            assertEquals(4, m.fit(xTrain).history().size());
        }
        List<String> rows = Files.readAllLines(dir.resolve("metrics.jsonl"));
        double[] want = {1e-2, 1e-2, 1e-3, 1e-3};
        for (int e = 0; e < 4; e++) {
            java.util.regex.Matcher lr = java.util.regex.Pattern.compile("\"lr\":([0-9.eE-]+)").matcher(rows.get(e));
            assertTrue(lr.find(), rows.get(e));
            assertEquals(want[e], Double.parseDouble(lr.group(1)), want[e] * 1e-6, "epoch " + (e + 1) + " (float rates: 1e-6 relative)");
        }
        assertEquals("lrSchedule must be iwae, none, or EPOCHS:LR,EPOCHS:LR,... (e.g. 3:1e-3,9:5e-4), got '2:fast'",
                message(() -> plain().lrSchedule("2:fast").build()));
    }

    @Test
    void fitWithoutARunFolderLeavesNoFilesBehind() throws Exception {
        Path sys = Path.of(System.getProperty("java.io.tmpdir"));
        long before = countFitFolders(sys);
        try (VaeModel m = plain().epochs(1).build()) {
            m.fit(xTrain);
        }
        assertEquals(before, countFitFolders(sys), "the temporary run folder is deleted");
    }

    static long countFitFolders(Path dir) throws Exception {
        try (var s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("jvae-fit-")).count();
        }
    }

    // ---- encode, decode, reconstruct ----

    @Test
    void encodingsSeparateThePrototypes() {
        Posterior q = trained.encode(xVal);
        assertEquals(xVal.length, q.mean().length);
        assertEquals(LATENT, q.mean()[0].length);
        assertEquals(LATENT, q.logVar()[0].length);
        // nearest centroid in latent space (centroids of the training rows' means) names the
        // prototype of every validation row: the prototypes are 40 % apart, the noise is +-0.1
        float[][] mTrain = trained.encode(xTrain).mean();
        double[][] c = new double[PROTOTYPES][LATENT];
        for (int i = 0; i < xTrain.length; i++)
            for (int l = 0; l < LATENT; l++) c[yTrain[i]][l] += mTrain[i][l] / (xTrain.length / PROTOTYPES);
        for (int i = 0; i < xVal.length; i++) assertEquals(yVal[i], nearest(c, q.mean()[i]), "row " + i);
    }

    @Test
    void reconstructIsTheDecodedPosteriorMeanAndCloseToTheInput() {
        float[][] rec = trained.reconstruct(xVal);
        assertRowsEqual(trained.decode(trained.encode(xVal).mean()), rec, "reconstruct = decode(encode().mean()), one code path");
        // each reconstruction is nearer its own prototype than the mean row is: the mean squared
        // error to the prototype must fall below a twentieth of the mean row's (0.114 per value;
        // the trained model's is 2e-4)
        double mseRec = 0, mseMean = 0;
        double[] m = mean(xTrain, k -> true);
        for (int i = 0; i < xVal.length; i++)
            for (int j = 0; j < D; j++) {
                double p = protos[yVal[i]][j];
                mseRec += sq(rec[i][j] - p) / (xVal.length * D);
                mseMean += sq(m[j] - p) / (xVal.length * D);
            }
        assertTrue(mseRec < mseMean / 20, "reconstruction MSE " + mseRec + " vs mean row " + mseMean);
    }

    // ---- sample ----

    @Test
    void samplesAreSeededAndDecodeThePrior() {
        float[][] a = trained.sample(16, 5), b = trained.sample(16, 5), c = trained.sample(16, 6);
        assertRowsEqual(a, b, "same seed, same samples");
        assertFalse(java.util.Arrays.deepEquals(a, c), "another seed, other samples");
        assertEquals(16, a.length);
        assertEquals(D, a[0].length);
        float[][] z = trained.prior(16, 5, 0.5), z1 = trained.prior(16, 5, 1.0);
        for (int i = 0; i < 16; i++)
            for (int l = 0; l < LATENT; l++) assertEquals(0.5f * z1[i][l], z[i][l], "temperature scales z (x 0.5 is exact in float)");
        assertRowsEqual(trained.decode(z), trained.sample(16, 5, 0.5, null), "sample = decode(prior)");
        for (float[] row : a) for (float v : row) assertTrue(v > 0 && v < 1, "a Bernoulli decoder's mean is a probability: " + v);
    }

    // ---- score, evaluate ----

    @Test
    void scoresRankOutliersBelowEveryValidationRow() {
        SplittableRandom r = new SplittableRandom(11);
        float[][] noise = new float[20][D];
        for (float[] row : noise) for (int j = 0; j < D; j++) row[j] = (float) r.nextDouble();
        Scores in = trained.score(xVal, null, 50, 1), out = trained.score(noise, null, 50, 1);
        assertEquals(50, in.samples());
        assertEquals(xVal.length, in.logPx().length);
        // rows of uniform noise score about -51 nats (the highest -47), validation rows about -24
        // (the lowest -27): every outlier must score lower than every validation row
        double worstIn = java.util.Arrays.stream(in.logPx()).min().orElseThrow();
        double bestOut = java.util.Arrays.stream(out.logPx()).max().orElseThrow();
        assertTrue(bestOut < worstIn, "outlier log p(x) up to " + bestOut + ", validation rows from " + worstIn);
        assertArrayEquals(in.logPx(), trained.score(xVal, null, 50, 1).logPx(), "same seed, same scores");
        // log p(x) >= E_q[log p(x|z)] - KL = -ELBO: averaged over 100 rows the importance-sampled
        // NLL (24.16) must not exceed the one-sample ELBO loss (24.30) by more than that loss's
        // noise: 0.5 nats is over 4 times its sd over seeds (0.11, measured)
        assertTrue(in.meanNll() < trained.evaluate(xVal, null).loss() + 0.5,
                "NLL " + in.meanNll() + " vs ELBO loss " + trained.evaluate(xVal, null).loss());
        assertEquals(trained.evaluate(xVal, null, 3), trained.evaluate(xVal, null, 3), "evaluate is seeded");
        assertNotEquals(trained.evaluate(xVal, null, 3), trained.evaluate(xVal, null, 4), "and the seed draws z");
    }

    // ---- save, load ----

    @Test
    void saveAndLoadGiveTheSameModel() {
        Path file = tmp.resolve("models/plain.safetensors");
        trained.save(file);
        try (VaeModel loaded = VaeModel.load(file, "cpu")) {
            assertEquals(D, loaded.inputSize());
            assertEquals(LATENT, loaded.latentSize());
            assertEquals(0, loaded.classes());
            assertEquals(trained.describe(), loaded.describe());
            Posterior a = trained.encode(xVal), b = loaded.encode(xVal);
            assertRowsEqual(a.mean(), b.mean(), "means after load");
            assertRowsEqual(a.logVar(), b.logVar(), "log-variances after load");
            assertRowsEqual(trained.sample(8, 2), loaded.sample(8, 2), "samples after load");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> loaded.fit(xTrain));
            assertTrue(e.getMessage().startsWith("a loaded model has no training settings"), e.getMessage());
        }
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> VaeModel.load(tmp.resolve("none.safetensors"), "cpu"));
        assertTrue(missing.getMessage().contains("none.safetensors"), missing.getMessage());
    }

    // ---- conditional ----

    @Test
    void conditionalModelSamplesTheAskedPrototype() {
        // 60 epochs: by then the label alone tells the decoder the prototype, so the KL term has
        // driven z out of use (KL < 0.05 nats) and every sample must be its label's prototype
        try (VaeModel cvae = plain().epochs(60).conditional(PROTOTYPES).build()) {
            assertEquals(PROTOTYPES, cvae.classes());
            IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> cvae.fit(xTrain));
            assertEquals("this model is conditional on 4 classes: labels are needed", none.getMessage());
            FitResult f = cvae.fit(xTrain, yTrain, xVal, yVal);
            assertTrue(f.last().validationKl() < 0.05, "KL " + f.last().validationKl());
            // given the label, the decoder knows the prototype: every sample must be nearest to it
            for (int c = 0; c < PROTOTYPES; c++) {
                float[][] s = cvae.sample(10, 1, 1.0, c);
                for (int i = 0; i < s.length; i++) assertEquals(c, nearestRow(protos, s[i]), "label " + c + ", sample " + i);
            }
            assertEquals(xVal.length, cvae.encode(xVal, yVal).mean().length);
            assertEquals("this model is conditional on 4 classes: a label is needed",
                    assertThrows(IllegalArgumentException.class, () -> cvae.sample(3, 1)).getMessage());
            assertEquals("labels[0] = 7 is outside 0..3 (the model's 4 classes)",
                    assertThrows(IllegalArgumentException.class, () -> cvae.encode(new float[][] {xVal[0]}, new int[] {7})).getMessage());
            assertEquals("3 labels for 4 rows",
                    assertThrows(IllegalArgumentException.class, () -> cvae.reconstruct(java.util.Arrays.copyOf(xVal, 4), new int[3])).getMessage());
            Path file = tmp.resolve("cvae.safetensors");
            cvae.save(file);
            try (VaeModel loaded = VaeModel.load(file, "cpu")) {
                assertRowsEqual(cvae.encode(xVal, yVal).mean(), loaded.encode(xVal, yVal).mean(), "a loaded CVAE encodes the same");
            }
        }
    }

    // ---- bad input ----

    @Test
    void badInputIsOneClearLine() {
        float[][] shortRow = {xVal[0], java.util.Arrays.copyOf(xVal[1], D - 1)};
        assertEquals("x[1] has 63 values, the model's input size is 64", message(() -> trained.encode(shortRow)));
        float[][] nan = {xVal[0].clone(), xVal[1].clone(), xVal[2].clone()};
        nan[2][5] = Float.NaN;
        assertEquals("x[2][5] is NaN: every value must be a finite number", message(() -> trained.encode(nan)));
        float[][] big = {xVal[0].clone()};
        big[0][3] = 2.5f;
        assertEquals("x[0][3] = 2.5 is outside [0, 1], which a bernoulli decoder needs: scale the data to [0, 1] "
                + "or build the model with decoder(\"gaussian\")", message(() -> trained.score(big, null, 10, 1)));
        assertEquals("x has no rows", message(() -> trained.encode(new float[0][])));
        assertEquals("x is null", message(() -> trained.reconstruct(null)));
        assertEquals("z[0] has 3 values, the model's latent size is 2", message(() -> trained.decode(new float[][] {{0, 0, 0}})));
        assertEquals("label 1 given, but this model is not conditional", message(() -> trained.sample(2, 1, 1.0, 1)));
        assertEquals("temperature must be > 0, got 0.0", message(() -> trained.sample(2, 1, 0.0, null)));
        assertEquals("k (samples per example) must be in [1, 100000], got 0", message(() -> trained.score(xVal, null, 0, 1)));
        assertEquals("latent must be > 0, got 0", message(() -> plain().latent(0).build()));
        assertEquals("learningRate must be a positive number, got -1.0", message(() -> plain().learningRate(-1).build()));
        assertEquals("device must be auto, cpu, cuda or cuda:N, got 'tpu'", message(() -> plain().device("tpu").build()));
        assertEquals("unknown preset 'keras2' (seed, pytorch, iwae-paper)", message(() -> VaeModel.builder().preset("keras2")));
        assertEquals("resume needs a runFolder to resume from", message(() -> plain().resume(true).build()));
        // a gaussian decoder takes any finite values
        try (VaeModel g = plain().decoder("gaussian").epochs(1).build()) {
            assertEquals(1, g.fit(big).history().size());
        }
        VaeModel closed = plain().build();
        closed.close();
        closed.close(); // twice is fine
        assertEquals("this VaeModel is closed", assertThrows(IllegalStateException.class, () -> closed.encode(xVal)).getMessage());
    }

    // ---- helpers ----

    static String message(org.junit.jupiter.api.function.Executable call) {
        return assertThrows(IllegalArgumentException.class, call).getMessage();
    }

    static void assertRowsEqual(float[][] want, float[][] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) assertArrayEquals(want[i], got[i], what + ", row " + i);
    }

    /** The mean of the training rows k with keep(k). */
    static double[] mean(float[][] x, java.util.function.IntPredicate keep) {
        double[] m = new double[D];
        int n = 0;
        for (int k = 0; k < x.length; k++) {
            if (!keep.test(k)) continue;
            n++;
            for (int j = 0; j < D; j++) m[j] += x[k][j];
        }
        for (int j = 0; j < D; j++) m[j] /= n;
        return m;
    }

    /** Mean over rows i of the cross-entropy of row i under probabilities p(i), in nats. */
    static double crossEntropy(float[][] x, Function<Integer, double[]> p) {
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            double[] q = p.apply(i);
            for (int j = 0; j < D; j++) s -= x[i][j] * Math.log(q[j]) + (1 - x[i][j]) * Math.log(1 - q[j]);
        }
        return s / x.length;
    }

    static int nearest(double[][] centroids, float[] v) {
        int best = -1;
        double bd = Double.POSITIVE_INFINITY;
        for (int c = 0; c < centroids.length; c++) {
            double d = 0;
            for (int l = 0; l < v.length; l++) d += sq(v[l] - centroids[c][l]);
            if (d < bd) {
                bd = d;
                best = c;
            }
        }
        return best;
    }

    static int nearestRow(float[][] rows, float[] v) {
        double[][] d = new double[rows.length][];
        for (int c = 0; c < rows.length; c++) {
            d[c] = new double[v.length];
            for (int j = 0; j < v.length; j++) d[c][j] = rows[c][j];
        }
        return nearest(d, v);
    }

    static double sq(double v) {
        return v * v;
    }
}

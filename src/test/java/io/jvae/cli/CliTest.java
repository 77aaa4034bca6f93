package io.jvae.cli;

import io.jvae.testing.Synthetic;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** The commands through CommandLine.execute: exit codes, one-line errors, files written. */
class CliTest {
    @TempDir
    static Path tmp;
    static Path data;

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        var cl = Jvae.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @BeforeAll
    static void syntheticMnist() throws Exception {
        data = tmp.resolve("data");
        Files.createDirectories(data);
        Synthetic.writeMnistLike(data, 300, 60);
    }

    /** Sum of squares of a checkpoint's *.weight tensors, read from the file itself (not through Vae). */
    static double sumOfSquaredWeights(Path checkpoint) {
        double sq = 0;
        for (var en : io.jvae.io.Safetensors.read(checkpoint).tensors().entrySet())
            if (en.getKey().endsWith(".weight")) for (float w : en.getValue().data()) sq += (double) w * w;
        return sq;
    }

    static void assertBadInput(Run r, String fragment) {
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(fragment), "expected '" + fragment + "' in: " + r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    }

    @Test
    void badScheduleNoiseAndPresetAreOneLine() {
        Run sched = run("train", "--data", data.toString(), "--lr-schedule", "3:fast", "--device", "cpu", "--out", tmp.resolve("bad").toString());
        assertEquals(2, sched.code());
        assertEquals("jvae: --lr-schedule must be iwae, none, or EPOCHS:LR,EPOCHS:LR,... (e.g. 3:1e-3,9:5e-4), got '3:fast'", sched.err().strip());
        Run noise = run("bench", "--devices", "cpu", "--noise", "-1");
        assertEquals(2, noise.code());
        assertEquals("jvae: --noise must be >= 0, got -1", noise.err().strip());
        Run preset = run("train", "--data", data.toString(), "--preset", "iwae", "--device", "cpu", "--out", tmp.resolve("bad").toString());
        assertEquals(2, preset.code());
        assertEquals("jvae: unknown preset 'iwae' (seed, pytorch, iwae-paper)", preset.err().strip());
    }

    @Test
    void helpAndVersion() {
        assertEquals(0, run("--help").code());
        Run v = run("--version");
        assertEquals(0, v.code());
        assertTrue(v.out().contains("jvae"));
        for (String c : new String[] {"train", "eval", "reconstruct", "impute", "manifold", "latent", "denoise", "plot", "experiment", "score", "bench", "data", "info"})
            assertEquals(0, run(c, "--help").code(), c);
        assertEquals(0, run("experiment", "repeat", "--help").code());
        assertEquals(0, run("experiment", "latent-sweep", "--help").code());
    }

    @Test
    void trainThenEval() {
        Path out = tmp.resolve("run");
        Run t = run("train", "--data", data.toString(), "--out", out.toString(), "--epochs", "2", "--batch", "50",
                "--hidden", "32", "--latent", "2", "--device", "cpu", "--no-progress");
        assertEquals(0, t.code(), t.err() + t.out());
        assertTrue(t.out().contains("epoch   2"), t.out());
        assertTrue(Files.isRegularFile(out.resolve("model.safetensors")));
        Run e = run("eval", out.resolve("model.safetensors").toString(), "--data", data.toString(), "--device", "cpu");
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().matches("(?s).*test\\s+60 examples: loss \\d+\\.\\d+.*"), e.out());
        // --l2: the loss plus l2 * sum W^2 over the weights of the checkpoint (biases excluded), as Keras' val_loss
        Run k = run("eval", out.resolve("model.safetensors").toString(), "--data", data.toString(), "--device", "cpu", "--l2", "0.001");
        assertEquals(0, k.code(), k.err());
        java.util.regex.Matcher lm = java.util.regex.Pattern.compile("loss (\\d+\\.\\d+) ").matcher(k.out());
        java.util.regex.Matcher pm = java.util.regex.Pattern.compile(
                "with L2  loss \\+ 0\\.001 \\* sum W\\^2 = (\\d+\\.\\d+) \\(penalty (\\d+\\.\\d+), sum W\\^2 (\\d+\\.\\d+)\\)").matcher(k.out());
        assertTrue(lm.find() && pm.find(), k.out());
        double sq = sumOfSquaredWeights(out.resolve("model.safetensors"));
        assertTrue(sq > 1, "weights of a trained 784-32-2 model: sum W^2 " + sq);
        // printed with 4 decimals: the sum to 5e-5, the penalty to 5e-5, loss + penalty to 1e-4 (two roundings)
        assertEquals(sq, Double.parseDouble(pm.group(3)), 5e-5 + 1e-6 * sq, k.out());
        assertEquals(0.001 * sq, Double.parseDouble(pm.group(2)), 5.1e-5, k.out());
        assertEquals(Double.parseDouble(lm.group(1)) + 0.001 * sq, Double.parseDouble(pm.group(1)), 1.1e-4, k.out());
        assertBadInput(run("eval", out.resolve("model.safetensors").toString(), "--data", data.toString(), "--device", "cpu", "--l2", "-1"), "--l2 must be >= 0");
        Run resumed = run("train", "--data", data.toString(), "--out", out.toString(), "--epochs", "3", "--batch", "50",
                "--hidden", "32", "--latent", "2", "--device", "cpu", "--no-progress", "--resume");
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.out().contains("resuming") && resumed.out().contains("epoch   3") && !resumed.out().contains("epoch   1 "), resumed.out());
    }

    @Test
    void iwaeTraining() {
        Run t = run("train", "--data", data.toString(), "--out", tmp.resolve("iwae").toString(), "--epochs", "2", "--batch", "50",
                "--hidden", "32", "--latent", "2", "--objective", "iwae", "--k", "4", "--device", "cpu", "--no-progress");
        assertEquals(0, t.code(), t.err() + t.out());
        assertTrue(t.out().contains("iwae(k=4)") && t.out().contains("\"objective\":\"iwae\""), t.out());
        assertBadInput(run("train", "--data", data.toString(), "--objective", "iwae", "--beta", "0.5", "--device", "cpu"), "--beta must be 1");
        assertBadInput(run("train", "--data", data.toString(), "--objective", "wake-sleep", "--device", "cpu"), "unknown objective");
    }

    @Test
    void badValuesGiveOneLineAndExit2() {
        String d = data.toString();
        assertBadInput(run("train", "--bogus"), "Unknown option");
        assertBadInput(run("train", "--data", d, "--batch", "0", "--device", "cpu"), "--batch must be");
        assertBadInput(run("train", "--data", d, "--latent", "0", "--device", "cpu"), "--latent must be > 0");
        assertBadInput(run("train", "--data", d, "--lr", "NaN", "--device", "cpu"), "--lr must be a positive number");
        assertBadInput(run("train", "--data", d, "--lr", "-1", "--device", "cpu"), "--lr must be a positive number");
        assertBadInput(run("train", "--data", d, "--patience", "-1", "--device", "cpu"), "--patience must be >= 0");
        assertBadInput(run("train", "--data", d, "--activation", "swish", "--device", "cpu"), "unknown activation");
        assertBadInput(run("train", "--data", tmp.resolve("nope").toString(), "--device", "cpu"), "not a directory");
        assertBadInput(run("train", "--data", d, "--device", "tpu"), "--device must be");
        assertBadInput(run("eval", tmp.resolve("missing.safetensors").toString(), "--data", d), "no such file");
        assertBadInput(run("train", "--data", d, "--out", "/proc/jvae-cannot-write", "--epochs", "1", "--device", "cpu", "--no-progress"), "cannot be written");
        assertBadInput(run("train", "--data", d, "--out", tmp.resolve("fresh").toString(), "--resume", "--device", "cpu"), "nothing to resume");
    }

    @Test
    void tooLargeFailsUpFrontWithTheNumbers() {
        // 784-30000-30000-.. has ~1.9e9 parameters: ~14 GiB with gradients and Adam, the test heap is 6 GiB
        Run r = run("train", "--data", data.toString(), "--hidden", "30000,30000", "--device", "cpu", "--no-progress", "--out", tmp.resolve("big").toString());
        assertBadInput(r, "MiB but the Java heap has");
        Run big = run("train", "--data", data.toString(), "--hidden", "40000,40000,40000", "--device", "cpu", "--out", tmp.resolve("big2").toString());
        assertEquals(2, big.code(), big.err());
    }

    @Test
    void evalAndImputeRefuseWhatTheyCannotDo() {
        Path small = tmp.resolve("eval-small.safetensors");
        io.jvae.model.ModelConfig cfg = new io.jvae.model.ModelConfig(784, java.util.List.of(8), 2, java.util.List.of(8),
                io.jvae.backend.Activation.RELU, io.jvae.model.Likelihood.BERNOULLI, 0, io.jvae.model.Init.TORCH);
        io.jvae.model.Vae v = new io.jvae.model.Vae(new io.jvae.backend.CpuBackend(), cfg);
        v.initParams(1);
        io.jvae.train.Checkpoint.saveModel(small, v, null);
        String m = small.toString(), d = data.toString();
        // 2,000,000 samples in one pass: 784 x 2e6 floats of decoder output alone, 6.3 GB, over the 6 GiB test heap
        assertBadInput(run("eval", m, "--data", d, "--device", "cpu", "--count", "1", "--iw", "2000000", "--iw-chunk", "2000000"),
                "MiB but the Java heap has");
        assertTrue(run("eval", m, "--data", d, "--device", "cpu", "--count", "1", "--iw", "2000000", "--iw-chunk", "2000000").err()
                .contains("use a smaller --iw-chunk"), "the advice names the option that helps");
        Run ok = run("eval", m, "--data", d, "--device", "cpu", "--count", "3", "--iw", "10");
        assertEquals(0, ok.code(), ok.err());
        assertTrue(ok.out().contains("importance-sampled with K=10"), ok.out());
        assertBadInput(run("impute", m, "--data", d, "--device", "cpu", "--fraction", "2", "--out", tmp.resolve("imp").toString()),
                "--fraction applies to --corruption mask only");
        assertBadInput(run("impute", m, "--data", d, "--device", "cpu", "--corruption", "mask", "--fraction", "2",
                "--out", tmp.resolve("imp").toString()), "--fraction must be in (0, 1)");
        assertBadInput(run("impute", m, "--data", d, "--device", "cpu", "--rounds", "0", "--out", tmp.resolve("imp").toString()),
                "--rounds must be in [1, 1000]");
    }

    @Test
    void checkpointOfAnotherModelIsRefused() {
        Path out = tmp.resolve("arch");
        assertEquals(0, run("train", "--data", data.toString(), "--out", out.toString(), "--epochs", "1", "--batch", "50", "--hidden", "32",
                "--latent", "2", "--device", "cpu", "--no-progress").code());
        assertBadInput(run("train", "--data", data.toString(), "--out", out.toString(), "--epochs", "2", "--batch", "50", "--hidden", "64",
                "--latent", "2", "--device", "cpu", "--no-progress", "--resume"), "state of another model");
        // a model for 8x8 images evaluated on 28x28 data
        Path small = tmp.resolve("small.safetensors");
        io.jvae.model.ModelConfig cfg = new io.jvae.model.ModelConfig(64, java.util.List.of(8), 2, java.util.List.of(8),
                io.jvae.backend.Activation.RELU, io.jvae.model.Likelihood.BERNOULLI, 0, io.jvae.model.Init.TORCH);
        io.jvae.model.Vae v = new io.jvae.model.Vae(new io.jvae.backend.CpuBackend(), cfg);
        v.initParams(1);
        io.jvae.train.Checkpoint.saveModel(small, v, null);
        assertBadInput(run("eval", small.toString(), "--data", data.toString(), "--device", "cpu"), "the model expects 64");
        assertBadInput(run("reconstruct", small.toString(), "--data", data.toString(), "--device", "cpu", "--out", tmp.resolve("f").toString()), "expects 64");
    }

    @Test
    void safetensorsShapesThatOverflowGiveOneLineAndExit2() throws Exception {
        for (String[] c : io.jvae.io.SafetensorsTest.OVERFLOWING_SHAPES) {
            Path f = tmp.resolve("overflow.safetensors");
            Files.write(f, io.jvae.io.SafetensorsTest.overflowFile(c[0], Integer.parseInt(c[1])));
            Run r = run("eval", f.toString(), "--device", "cpu");
            assertBadInput(r, c[0]);
            assertEquals(1, r.err().strip().lines().count(), c[0] + ": one line: " + r.err());
        }
    }

    @Test
    void corruptFilesGiveOneLineAndExit2() throws Exception {
        Path junk = tmp.resolve("junk.safetensors");
        Files.write(junk, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
        assertBadInput(run("eval", junk.toString(), "--data", data.toString(), "--device", "cpu"), "junk.safetensors");
        Path broken = tmp.resolve("broken");
        Files.createDirectories(broken);
        for (String f : io.jvae.data.Mnist.FILES) Files.copy(data.resolve(f), broken.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        byte[] img = Files.readAllBytes(broken.resolve(io.jvae.data.Mnist.TEST_IMAGES));
        Files.write(broken.resolve(io.jvae.data.Mnist.TEST_IMAGES), java.util.Arrays.copyOf(img, img.length - 100));
        assertBadInput(run("train", "--data", broken.toString(), "--device", "cpu"), "truncated");
    }

    @Test
    void cudaRequestedWithoutCudaExits2WithTheReason() {
        org.junit.jupiter.api.Assumptions.assumeFalse(io.jvae.backend.cuda.CudaProbe.available(), "this machine has CUDA");
        assertBadInput(run("train", "--data", data.toString(), "--device", "cuda"), "--device cuda: " + io.jvae.backend.cuda.CudaProbe.reason());
        assertBadInput(run("bench", "--devices", "cuda", "--steps", "1"), "--devices cuda: ");
    }

    @Test
    void benchProfileCountsEveryGemmOfAStepByShape() {
        // synthetic data at MNIST's density: the first layer's forward and dW run sparse; every pixel nonzero: all dense
        for (String data : new String[] {"synthetic", "dense"}) {
            Run b = run("bench", "--preset", "pytorch", "--batches", "16", "--steps", "4", "--warmup-steps", "1", "--repeats", "1",
                    "--data", data, "--examples", "64", "--devices", "cpu", "--profile");
            assertEquals(0, b.code(), b.err() + b.out());
            String out = b.out();
            assertTrue(out.contains("by GEMM shape"), out);
            // 784-400-20: forward = encoder, mu, log-variance, decoder hidden, decoder output (5);
            // backward = two per layer but none for the input's gradient (9)
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\n\\s+([NT]{2}) (\\d+)x(\\d+)x(\\d+)( sparse)?\\s+[\\d.]+ ms/step\\s+([\\d.]+) calls/step").matcher(out);
            double calls = 0;
            java.util.Set<String> shapes = new java.util.HashSet<>();
            while (m.find()) {
                calls += Double.parseDouble(m.group(6));
                shapes.add(m.group(1) + " " + m.group(2) + "x" + m.group(3) + "x" + m.group(4) + (m.group(5) == null ? "" : m.group(5)));
            }
            assertEquals(14.0, calls, 1e-9, out);
            String first = data.equals("dense") ? "" : " sparse";
            assertTrue(shapes.containsAll(java.util.List.of("NN 400x16x784" + first, "NN 784x16x400", "NT 784x400x16", "NT 400x784x16" + first)), shapes.toString());
            assertFalse(shapes.contains("TN 784x16x400"), "no gradient for the input: " + shapes);
            assertTrue(out.contains(data.equals("dense") ? "cpu first layer: dense" : "cpu first layer: sparse"), out);
            assertTrue(out.contains("on 64-byte lines") || out.contains("not line-aligned"), "the header says where tensors lie: " + out);
        }
        assertEquals(2, run("bench", "--data", "noise").code(), "an unknown --data is refused");
        // fewer examples than a batch: repeated on the backend (the larger set is used in place)
        Run few = run("bench", "--preset", "pytorch", "--batches", "16", "--steps", "2", "--warmup-steps", "1", "--repeats", "1",
                "--data", "synthetic", "--examples", "5", "--devices", "cpu");
        assertEquals(0, few.code(), few.err() + few.out());
        assertTrue(few.out().contains("| cpu | 16 |"), few.out());
    }

    @Test
    void infoAndDataVerify() {
        Run i = run("info");
        assertEquals(0, i.code());
        assertTrue(i.out().contains("GEMM") && i.out().contains("cuda"), i.out());
        Run v = run("data", "verify", "--dir", data.toString());
        assertEquals(2, v.code(), "synthetic files do not match MNIST's SHA-256");
        assertTrue(v.out().contains("MISMATCH"), v.out());
    }
}

package io.jvae.cli;

import io.jvae.backend.CpuBackend;
import io.jvae.backend.Philox;
import io.jvae.data.Mnist;
import io.jvae.eval.Inference;
import io.jvae.model.Vae;
import io.jvae.testing.Synthetic;
import io.jvae.train.Checkpoint;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.jvae.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.*;

/**
 * sample, encode and interpolate on a small model trained on synthetic MNIST-shaped data: what
 * they write equals what the model computes in-process (same CPU code path: equal to 1e-6, the
 * CSV's 7 significant digits), the .npy files are what numpy reads, and bad options are one line.
 */
class GenerateCommandsTest {
    @TempDir
    static Path tmp;
    static Path data, vae, cvae;

    @BeforeAll
    static void models() throws Exception {
        data = tmp.resolve("data");
        Files.createDirectories(data);
        Synthetic.writeMnistLike(data, 300, 60);
        vae = train("gen-vae", "--latent", "3");
        cvae = train("gen-cvae", "--latent", "2", "--conditional");
    }

    static Path train(String name, String... extra) {
        String[] base = {"train", "--data", data.toString(), "--out", tmp.resolve(name).toString(), "--epochs", "2", "--batch", "50",
                "--hidden", "32", "--device", "cpu", "--no-progress"};
        String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(base), java.util.Arrays.stream(extra)).toArray(String[]::new);
        CliTest.Run r = run(args);
        assertEquals(0, r.code(), r.err() + r.out());
        return tmp.resolve(name).resolve("model.safetensors");
    }

    /** A float32 C-order .npy as numpy writes it: magic, version 1.0, a 64-byte-aligned header, the data. */
    static float[] readNpy(Path p, int... shape) throws Exception {
        byte[] all = Files.readAllBytes(p);
        assertEquals((byte) 0x93, all[0]);
        assertEquals("NUMPY", new String(all, 1, 5, StandardCharsets.US_ASCII));
        assertEquals(1, all[6]);
        int hlen = (all[8] & 0xFF) | (all[9] & 0xFF) << 8;
        assertEquals(0, (10 + hlen) % 64, "data 64-byte aligned");
        String header = new String(all, 10, hlen, StandardCharsets.US_ASCII);
        StringBuilder dims = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) dims.append(i == 0 ? "" : ", ").append(shape[i]);
        dims.append(shape.length == 1 ? ",)" : ")");
        assertTrue(header.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': " + dims + ", }"), header);
        assertTrue(header.endsWith("\n"));
        int n = 1;
        for (int s : shape) n *= s;
        assertEquals(10 + hlen + 4L * n, all.length);
        float[] v = new float[n];
        ByteBuffer.wrap(all, 10 + hlen, 4 * n).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        return v;
    }

    static float[] readCsv(Path p, int cols, boolean header) throws Exception {
        List<String> lines = Files.readAllLines(p);
        List<String> rows = header ? lines.subList(1, lines.size()) : lines;
        float[] v = new float[rows.size() * cols];
        for (int r = 0; r < rows.size(); r++) {
            String[] f = rows.get(r).split(",");
            assertEquals(cols, f.length, "line " + (r + 2));
            for (int c = 0; c < cols; c++) v[r * cols + c] = Float.parseFloat(f[c]);
        }
        return v;
    }

    static void close(String what, float[] want, float[] got, double tol) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++)
            assertEquals(want[i], got[i], tol * Math.max(1, Math.abs(want[i])), what + "[" + i + "]");
    }

    @Test
    void sampleDecodesPhiloxNormalsScaledByTheTemperature() throws Exception {
        Path out = tmp.resolve("samples");
        CliTest.Run r = run("sample", vae.toString(), "--n", "10", "--temperature", "0.5", "--seed", "9", "--out", out.toString(), "--device", "cpu");
        assertEquals(0, r.code(), r.err());
        float[] z = new float[3 * 10];
        Philox.normals(9, 0, z, 0, z.length);
        for (int i = 0; i < z.length; i++) z[i] *= 0.5f;
        assertArrayEquals(z, readNpy(out.resolve("z.npy"), 10, 3), "z = 0.5 N(0, I), Philox seed 9");
        Vae m = Checkpoint.loadModel(vae, new CpuBackend());
        float[] x = new Inference(m, 10).decode(z, 10, null);
        close("samples.npy", x, readNpy(out.resolve("samples.npy"), 10, 784), 1e-6);
        close("samples.csv", x, readCsv(out.resolve("samples.csv"), 784, true), 1e-6);
        var png = FigureCommandsTest.png(out.resolve("samples.png"));
        assertTrue(png.getWidth() >= 4 * 28 * 2 && png.getHeight() >= 3 * 28 * 2, "a 4 x 3 grid of 2x images");
        // the same seed gives the same samples; another seed others
        run("sample", vae.toString(), "--n", "10", "--temperature", "0.5", "--seed", "10", "--out", tmp.resolve("s2").toString(), "--device", "cpu");
        assertFalse(java.util.Arrays.equals(readNpy(out.resolve("z.npy"), 10, 3), readNpy(tmp.resolve("s2/z.npy"), 10, 3)));
    }

    @Test
    void labelsAndBadOptionsAreOneLine() {
        CliTest.Run noLabel = run("sample", cvae.toString(), "--out", tmp.resolve("x").toString(), "--device", "cpu");
        assertEquals(2, noLabel.code());
        assertEquals("jvae: this is a CVAE: pass --label N (0..9)", noLabel.err().strip());
        CliTest.Run outOfRange = run("sample", cvae.toString(), "--label", "10", "--out", tmp.resolve("x").toString(), "--device", "cpu");
        assertEquals("jvae: --label must be in 0..9, got 10", outOfRange.err().strip());
        CliTest.Run plain = run("sample", vae.toString(), "--label", "1", "--out", tmp.resolve("x").toString(), "--device", "cpu");
        assertEquals("jvae: --label needs a conditional model (train --conditional)", plain.err().strip());
        assertEquals(2, run("sample", vae.toString(), "--temperature", "0", "--device", "cpu").code());
        assertEquals(0, run("sample", cvae.toString(), "--label", "3", "--n", "4", "--out", tmp.resolve("c3").toString(), "--device", "cpu").code());
        CliTest.Run ext = run("encode", vae.toString(), "--data", data.toString(), "--out", tmp.resolve("z.txt").toString(), "--device", "cpu");
        assertEquals("jvae: --out must end in .npy or .csv, got " + tmp.resolve("z.txt"), ext.err().strip());
        CliTest.Run far = run("interpolate", vae.toString(), "--data", data.toString(), "--from", "0", "--to", "60", "--device", "cpu");
        assertEquals("jvae: --from and --to must be in [0, 60), got 0 and 60", far.err().strip());
    }

    @Test
    void encodeWritesPosteriorMeansAndLogVariances() throws Exception {
        Path npy = tmp.resolve("enc/z.npy"), csv = tmp.resolve("enc/z.csv");
        assertEquals(0, run("encode", cvae.toString(), "--data", data.toString(), "--out", npy.toString(), "--device", "cpu").code());
        assertEquals(0, run("encode", cvae.toString(), "--data", data.toString(), "--out", csv.toString(), "--device", "cpu").code());
        var test = Mnist.load(data).test();
        Vae m = Checkpoint.loadModel(cvae, new CpuBackend());
        float[][] q = new Inference(m, 60).encode(test.x(), 60, test.labels());
        float[] rows = readNpy(npy, 60, 4);
        for (int j = 0; j < 60; j++)
            for (int l = 0; l < 2; l++) {
                assertEquals(q[0][j * 2 + l], rows[j * 4 + l], 1e-6f, "mu");
                assertEquals(q[1][j * 2 + l], rows[j * 4 + 2 + l], 1e-6f, "logvar");
            }
        List<String> lines = Files.readAllLines(csv);
        assertEquals("mu0,mu1,logvar0,logvar1,label", lines.get(0));
        assertEquals(61, lines.size());
        for (int j = 0; j < 60; j++) assertTrue(lines.get(j + 1).endsWith("," + test.labels()[j]), lines.get(j + 1));
    }

    @Test
    void decodeTakesEncodesOutputOrPlainCodes() throws Exception {
        Path z = tmp.resolve("dec/z.npy"), out = tmp.resolve("dec/out"), plain = tmp.resolve("dec/z.csv");
        assertEquals(0, run("encode", vae.toString(), "--data", data.toString(), "--limit", "7", "--out", z.toString(), "--device", "cpu").code());
        CliTest.Run r = run("decode", vae.toString(), "--input", z.toString(), "--out", out.toString(), "--device", "cpu");
        assertEquals(0, r.code(), r.err());
        var test = Mnist.load(data).test();
        Vae m = Checkpoint.loadModel(vae, new CpuBackend());
        Inference inf = new Inference(m, 7);
        float[] mu = inf.encodeMu(java.util.Arrays.copyOf(test.x(), 7 * 784), 7, null);
        float[] want = inf.decode(mu, 7, null);
        close("decode of encode's means", want, readNpy(out.resolve("decoded.npy"), 7, 784), 1e-6);
        FigureCommandsTest.png(out.resolve("decoded.png"));
        // plain codes, L per row, as a CSV with a header
        StringBuilder csv = new StringBuilder("a,b,c\n");
        for (int j = 0; j < 7; j++) csv.append(mu[3 * j]).append(',').append(mu[3 * j + 1]).append(',').append(mu[3 * j + 2]).append('\n');
        Files.writeString(plain, csv);
        assertEquals(0, run("decode", vae.toString(), "--input", plain.toString(), "--out", tmp.resolve("dec/out2").toString(), "--device", "cpu").code());
        close("decode of a CSV of codes", want, readNpy(tmp.resolve("dec/out2/decoded.npy"), 7, 784), 1e-6);
        CliTest.Run wide = run("decode", cvae.toString(), "--input", plain.toString(), "--label", "1", "--device", "cpu");
        assertEquals(2, wide.code());
        assertEquals("jvae: z.csv has 3 values per row; the model's latent size is 2 (or 4: means and log-variances, as encode writes)",
                wide.err().strip().replace(plain.toString(), "z.csv"));
    }

    /**
     * Real-valued data of very different scales, a learned-variance Gaussian decoder and --scale
     * standard: samples come back in the data's units, and encode --input applies the stored scaling.
     */
    @Test
    void scaledRealValuedDataSampleAndEncodeInTheUsersUnits() throws Exception {
        int n = 400, d = 6;
        float[] x = new float[n * d];
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        StringBuilder csv = new StringBuilder("f0,f1,f2,f3,f4,f5\n");
        for (int j = 0; j < n; j++) {
            double a = r.nextGaussian(), b = r.nextGaussian(); // two latent factors
            for (int k = 0; k < d; k++) {
                x[j * d + k] = (float) (100.0 * k + (k + 1) * (a + (k % 2 == 0 ? b : -b)) + 0.1 * (k + 1) * r.nextGaussian());
                csv.append(k == 0 ? "" : ",").append(x[j * d + k]);
            }
            csv.append('\n');
        }
        Path file = tmp.resolve("real.csv"), run = tmp.resolve("real-run");
        Files.writeString(file, csv);
        CliTest.Run t = run("train", "--train", file.toString(), "--test-split", "0.1", "--scale", "standard", "--decoder", "gaussian-learned",
                "--hidden", "16", "--latent", "2", "--epochs", "30", "--batch", "20", "--lr", "3e-3", "--out", run.toString(), "--device", "cpu", "--no-progress");
        assertEquals(0, t.code(), t.err() + t.out());
        Path model = run.resolve("model.safetensors");
        var f = io.jvae.io.Safetensors.read(model);
        assertTrue(f.tensors().containsKey("decoder.out.logvar"), "the learned log-variance is in the checkpoint");
        // samples: their feature means sit near the data's (100 k apart), not near the standardized 0
        Path out = tmp.resolve("real-samples");
        assertEquals(0, run("sample", model.toString(), "--n", "500", "--out", out.toString(), "--device", "cpu").code());
        float[] smp = readNpy(out.resolve("samples.npy"), 500, d);
        for (int k = 0; k < d; k++) {
            double ms = 0, md = 0;
            for (int j = 0; j < 500; j++) ms += smp[j * d + k] / 500.0;
            for (int j = 0; j < n; j++) md += x[j * d + k] / (double) n;
            // the feature's spread is about sqrt(2) (k + 1); the decoded means of prior samples average near the data mean
            assertEquals(md, ms, 0.5 * Math.sqrt(2) * (k + 1), "feature " + k + " in the data's units");
        }
        // encode --input: the stored scaling applied, then the encoder
        Path z = tmp.resolve("real-z.npy");
        assertEquals(0, run("encode", model.toString(), "--input", file.toString(), "--out", z.toString(), "--device", "cpu").code());
        io.jvae.data.Scaling sc = io.jvae.data.Scaling.fromJson(f.metadata().get(io.jvae.data.Scaling.META_KEY));
        Vae m = Checkpoint.loadModel(model, new CpuBackend());
        float[][] q = new Inference(m, 100).encode(sc.apply(x, d, "x"), n, null);
        float[] rows = readNpy(z, n, 4);
        for (int j = 0; j < n; j++)
            for (int l = 0; l < 2; l++) assertEquals(q[0][j * 2 + l], rows[j * 4 + l], 1e-5f, "mu of row " + j);
        // the same rows as a .npy: the same codes
        Path npy = tmp.resolve("real.npy"), z2 = tmp.resolve("real-z2.npy");
        io.jvae.io.NpyWriter.write(npy, x, n, d);
        assertEquals(0, run("encode", model.toString(), "--input", npy.toString(), "--out", z2.toString(), "--device", "cpu").code());
        assertArrayEquals(rows, readNpy(z2, n, 4), "encode of the .npy equals encode of the CSV");
    }

    @Test
    void interpolateRunsFromOnePosteriorMeanToTheOther() throws Exception {
        Path out = tmp.resolve("interp");
        assertEquals(0, run("interpolate", vae.toString(), "--data", data.toString(), "--from", "3", "--to", "7", "--steps", "5",
                "--out", out.toString(), "--device", "cpu").code());
        var test = Mnist.load(data).test();
        Vae m = Checkpoint.loadModel(vae, new CpuBackend());
        Inference inf = new Inference(m, 5);
        float[] ends = new float[2 * 784];
        System.arraycopy(test.x(), 3 * 784, ends, 0, 784);
        System.arraycopy(test.x(), 7 * 784, ends, 784, 784);
        float[] mu = inf.encodeMu(ends, 2, null), mid = new float[3];
        for (int l = 0; l < 3; l++) mid[l] = 0.5f * mu[l] + 0.5f * mu[3 + l];
        float[] want = inf.decode(new float[] {mu[0], mu[1], mu[2], mid[0], mid[1], mid[2], mu[3], mu[4], mu[5]}, 3, null);
        float[] got = readNpy(out.resolve("interpolate.npy"), 5, 784);
        close("first point: the decoded mean of example 3", java.util.Arrays.copyOfRange(want, 0, 784), java.util.Arrays.copyOfRange(got, 0, 784), 1e-6);
        close("middle point", java.util.Arrays.copyOfRange(want, 784, 1568), java.util.Arrays.copyOfRange(got, 2 * 784, 3 * 784), 1e-6);
        close("last point: example 7", java.util.Arrays.copyOfRange(want, 1568, 2352), java.util.Arrays.copyOfRange(got, 4 * 784, 5 * 784), 1e-6);
        var png = FigureCommandsTest.png(out.resolve("interpolate.png"));
        assertTrue(png.getWidth() >= 5 * 28 * 2, "5 images in a row");
    }
}

package io.jvae.cli;

import io.jvae.testing.Synthetic;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;

import static io.jvae.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.*;

/** The figure and experiment commands on synthetic MNIST-shaped data: exit codes, files, image sizes. */
class FigureCommandsTest {
    @TempDir
    static Path tmp;
    static Path data, vae2, vae3, cvae;

    @BeforeAll
    static void models() throws Exception {
        data = tmp.resolve("data");
        Files.createDirectories(data);
        Synthetic.writeMnistLike(data, 300, 120);
        vae2 = train("vae2", "--latent", "2");
        vae3 = train("vae3", "--latent", "3");
        cvae = train("cvae", "--latent", "2", "--conditional");
    }

    static Path train(String name, String... extra) {
        String[] base = {"train", "--data", data.toString(), "--out", tmp.resolve(name).toString(), "--epochs", "2", "--batch", "50",
                "--hidden", "32", "--device", "cpu", "--no-progress", "--snapshot-epochs", "1,2"};
        String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(base), java.util.Arrays.stream(extra)).toArray(String[]::new);
        CliTest.Run r = run(args);
        assertEquals(0, r.code(), r.err() + r.out());
        return tmp.resolve(name).resolve("model.safetensors");
    }

    static BufferedImage png(Path p) throws Exception {
        assertTrue(Files.isRegularFile(p), p + " written");
        BufferedImage img = ImageIO.read(p.toFile());
        assertNotNull(img, p + " is a PNG");
        return img;
    }

    @Test
    void snapshotsDuringTraining() throws Exception {
        png(tmp.resolve("vae2/latent-epoch-001.png"));
        png(tmp.resolve("vae2/latent-epoch-002.png"));
        BufferedImage all = png(tmp.resolve("vae2/latent-epochs.png"));
        assertTrue(all.getWidth() > png(tmp.resolve("vae2/latent-epoch-001.png")).getWidth(), "panels side by side");
    }

    @Test
    void figuresOfOneModel() throws Exception {
        Path out = tmp.resolve("fig");
        String d = data.toString(), o = out.toString();
        assertEquals(0, run("reconstruct", vae2.toString(), "--data", d, "--out", o, "--device", "cpu").code());
        BufferedImage rec = png(out.resolve("reconstruct.png"));
        assertTrue(rec.getWidth() > 20 * 56 && rec.getHeight() > 2 * 56, "2 x 20 digits at 2x scale");
        assertEquals(21, Files.readAllLines(out.resolve("reconstruct.csv")).size());
        for (String c : new String[] {"band", "mask", "salt-pepper"}) {
            CliTest.Run r = run("impute", vae2.toString(), "--corruption", c, "--rounds", "3", "--data", d, "--out", o, "--device", "cpu");
            assertEquals(0, r.code(), r.err());
            png(out.resolve("impute-" + c + ".png"));
        }
        assertEquals(0, run("manifold", vae2.toString(), "--n", "5", "--data", d, "--out", o, "--device", "cpu").code());
        png(out.resolve("manifold.png"));
        assertEquals(26, Files.readAllLines(out.resolve("manifold.csv")).size());
        assertEquals(0, run("latent", vae3.toString(), "--data", d, "--out", o, "--device", "cpu").code());
        png(out.resolve("latent.png"));
        png(out.resolve("latent-3d.png"));
        assertEquals(121, Files.readAllLines(out.resolve("latent.csv")).size());
        assertEquals(0, run("plot", tmp.resolve("vae2/metrics.csv").toString()).code());
        png(tmp.resolve("vae2/loss-curves.png"));
    }

    @Test
    void scoresAndImportanceSampledEval() throws Exception {
        Path out = tmp.resolve("score");
        CliTest.Run r = run("score", vae2.toString(), "--samples", "20", "--data", data.toString(), "--out", out.toString(), "--device", "cpu");
        assertEquals(0, r.code(), r.err());
        assertEquals(121, Files.readAllLines(out.resolve("scores.csv")).size());
        png(out.resolve("anomalies.png"));
        CliTest.Run other = run("score", vae2.toString(), "--input", data.resolve(io.jvae.data.Mnist.TRAIN_IMAGES).toString(), "--samples", "5",
                "--out", out.resolve("train").toString(), "--device", "cpu", "--data", data.toString());
        assertEquals(0, other.code(), other.err());
        assertEquals(301, Files.readAllLines(out.resolve("train/scores.csv")).size());
        CliTest.Run e = run("eval", vae2.toString(), "--iw", "50", "--data", data.toString(), "--device", "cpu");
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains("units active") && e.out().contains("importance-sampled with K=50"), e.out());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("loss (\\d+\\.\\d+)").matcher(e.out());
        java.util.regex.Matcher n = java.util.regex.Pattern.compile("p\\(x\\) ~ (\\d+\\.\\d+)").matcher(e.out());
        assertTrue(m.find() && n.find(), e.out());
        assertTrue(Double.parseDouble(n.group(1)) <= Double.parseDouble(m.group(1)) + 0.5, "NLL estimate below the -ELBO: " + e.out());
    }

    @Test
    void conditionalModel() throws Exception {
        Path out = tmp.resolve("cfig");
        String d = data.toString();
        CliTest.Run r = run("denoise", "--cvae", cvae.toString(), "--vae", vae2.toString(), "--count", "20", "--data", d, "--out", out.toString(), "--device", "cpu");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("CVAE") && r.out().contains("VAE"), r.out());
        png(out.resolve("denoise.png"));
        assertEquals(0, run("manifold", cvae.toString(), "--label", "3", "--n", "4", "--data", d, "--out", out.toString(), "--device", "cpu").code());
        png(out.resolve("manifold-label-3.png"));
        CliTest.assertBadInput(run("manifold", cvae.toString(), "--data", d, "--out", out.toString(), "--device", "cpu"), "--label");
        CliTest.assertBadInput(run("denoise", "--cvae", vae2.toString(), "--vae", vae2.toString(), "--data", d, "--device", "cpu"), "not a conditional");
        CliTest.assertBadInput(run("impute", vae2.toString(), "--corruption", "blur", "--data", d, "--device", "cpu"), "unknown corruption");
    }

    @Test
    void experimentsSkipFinishedRuns() throws Exception {
        Path out = tmp.resolve("rep");
        String[] args = {"experiment", "repeat", "--runs", "2", "--epochs", "2", "--batch", "50", "--hidden", "16", "--data", data.toString(),
                "--out", out.toString(), "--device", "cpu"};
        CliTest.Run r = run(args);
        assertEquals(0, r.code(), r.err() + r.out());
        assertTrue(r.out().contains("2 runs: best test loss mean"), r.out());
        assertTrue(r.out().contains("with early stopping (patience 5, replayed on each curve)") && r.out().contains("2 of 2 ran out"), r.out());
        png(out.resolve("repeat.png"));
        CliTest.Run again = run(args);
        assertEquals(2, again.out().split("finished earlier, skipped", -1).length - 1, again.out());
        String[] longer = args.clone();
        longer[5] = "3"; // --epochs 3: both runs continue from their state
        CliTest.Run more = run(longer);
        assertEquals(0, more.code(), more.err());
        assertEquals(2, more.out().split("continuing to 3", -1).length - 1, more.out());
        assertEquals(3, io.jvae.train.MetricsLog.read(out.resolve("run-01/metrics.csv")).size());

        Path sw = tmp.resolve("sweep");
        CliTest.Run s = run("experiment", "latent-sweep", "--latents", "2,3", "--epochs", "2", "--batch", "50", "--hidden", "16",
                "--data", data.toString(), "--out", sw.toString(), "--device", "cpu");
        assertEquals(0, s.code(), s.err() + s.out());
        png(sw.resolve("latent-sweep-early.png"));
        png(sw.resolve("latent-sweep-fixed.png"));
        java.util.List<String> rows = Files.readAllLines(sw.resolve("latent-sweep.csv"));
        assertEquals(7, rows.size(), "header + early, fixed and the fixed run replayed with patience 5, for 2 latents: " + rows);
        for (String lat : new String[] {"2", "3"}) { // 2 epochs < patience 5: the replay runs out, same best as the fixed run
            String fixedBest = rows.stream().filter(l -> l.startsWith("fixed," + lat + ",")).findFirst().orElseThrow().split(",")[2];
            String replayed = rows.stream().filter(l -> l.startsWith("fixed-replayed-patience-5," + lat + ",")).findFirst().orElseThrow().split(",")[2];
            assertEquals(fixedBest, replayed, rows.toString());
        }
        assertTrue(Files.readString(sw.resolve("latent-sweep.md")).contains("(ran out)"), Files.readString(sw.resolve("latent-sweep.md")));
        // the seed preset's L2 1e-4: each run's penalty at its best epoch is l2 * sum W^2 of its best.safetensors
        for (String row : rows.subList(1, rows.size())) {
            String[] f = row.split(",");
            if (f[0].startsWith("fixed-replayed")) { assertEquals("NaN", f[5], row); continue; }
            double sq = CliTest.sumOfSquaredWeights(sw.resolve(f[0]).resolve(String.format(java.util.Locale.ROOT, "latent-%02d", Integer.parseInt(f[1]))).resolve("best.safetensors"));
            assertTrue(sq > 1, row);
            assertEquals(1e-4 * sq, Double.parseDouble(f[5]), 5e-7 + 1e-6 * sq * 1e-4, row); // written with 6 decimals; float l2 and summation order: 1e-6 relative
        }
        assertTrue(Files.readString(sw.resolve("latent-sweep.md")).contains("+ L2 penalty (Keras 2's val_loss)"), Files.readString(sw.resolve("latent-sweep.md")));
    }
}

package io.jvae.cli;

import io.jvae.InvalidInputException;
import io.jvae.data.Dataset;
import io.jvae.eval.Inference;
import io.jvae.model.Vae;
import io.jvae.train.EpochMetrics;
import io.jvae.train.Trainer;
import io.jvae.viz.ImageGrid;
import io.jvae.viz.LatentFigures;

import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/** train --snapshot-epochs: the test-set latent scatter after chosen epochs, then one combined panel. */
final class LatentSnapshots implements Trainer.Listener {
    private final TreeSet<Integer> epochs;
    private final Dataset test;
    private final Path dir;
    private final PrintWriter out;
    private Vae copy;
    private Inference inf;

    LatentSnapshots(List<Integer> epochs, Dataset test, Path dir, PrintWriter out) {
        for (int e : epochs) InvalidInputException.require(e > 0, "--snapshot-epochs must be positive, got %d", e);
        this.epochs = new TreeSet<>(epochs);
        this.test = test;
        this.dir = dir;
        this.out = out;
    }

    static Path file(Path dir, int epoch) {
        return dir.resolve(String.format(Locale.ROOT, "latent-epoch-%03d.png", epoch));
    }

    @Override
    public void epochEnd(int epoch, Vae vae, EpochMetrics m) {
        if (!epochs.contains(epoch)) return;
        if (copy == null) { // its own workspace: the training buffers stay untouched
            copy = new Vae(vae.be, vae.cfg);
            inf = new Inference(copy, 1000);
        }
        copy.copyParamsFrom(vae);
        float[] mu = inf.encodeMu(test.x(), test.n(), test.labels());
        String title = String.format(Locale.ROOT, "Epoch %d: latent means of %d test digits (test loss %.2f)", epoch, test.n(), m.test().loss());
        Path f = file(dir, epoch);
        int[] labels = test.labels() != null ? test.labels() : new int[test.n()]; // a data file without labels: one colour
        if (vae.cfg.latent() >= 2) ImageGrid.write(LatentFigures.scatter2d(mu, vae.cfg.latent(), labels, 0, 1, title), f);
        out.println("wrote " + f);
        out.flush();
    }

    /** All snapshots that exist (this run or an earlier, resumed one) side by side. */
    void combine() {
        List<BufferedImage> panels = new ArrayList<>();
        for (int e : epochs) {
            Path f = file(dir, e);
            if (!Files.isRegularFile(f)) continue;
            try {
                panels.add(javax.imageio.ImageIO.read(f.toFile()));
            } catch (java.io.IOException ex) {
                throw new InvalidInputException("cannot read " + f + ": " + ex.getMessage());
            }
        }
        if (panels.isEmpty()) return;
        Path all = dir.resolve("latent-epochs.png");
        ImageGrid.write(ImageGrid.combine(panels, 3), all);
        out.println("wrote " + all);
    }
}

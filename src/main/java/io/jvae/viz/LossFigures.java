package io.jvae.viz;

import io.jvae.train.EpochMetrics;
import org.knowm.xchart.XYChart;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.function.ToDoubleFunction;

/** Train vs test curves per epoch: total -ELBO, KL, reconstruction cross-entropy, side by side. */
public final class LossFigures {
    private LossFigures() {}

    static final Color TRAIN = new Color(31, 119, 180), TEST = new Color(214, 39, 40);

    public static BufferedImage curves(List<EpochMetrics> rows, String run) {
        double[] ep = rows.stream().mapToDouble(EpochMetrics::epoch).toArray();
        BufferedImage a = panel("Total loss (-ELBO) - " + run, "nats / example", ep, rows, m -> m.train().loss(), m -> m.test().loss());
        BufferedImage b = panel("KL(q(z|x) || p(z))", "nats / example", ep, rows, m -> m.train().kl(), m -> m.test().kl());
        BufferedImage c = panel("Reconstruction cross-entropy", "nats / example", ep, rows, m -> m.train().recon(), m -> m.test().recon());
        return ImageGrid.combine(List.of(a, b, c), 3);
    }

    static BufferedImage panel(String title, String y, double[] ep, List<EpochMetrics> rows,
                               ToDoubleFunction<EpochMetrics> train, ToDoubleFunction<EpochMetrics> test) {
        XYChart c = Plots.lineChart(title, "epoch", y, 560, 420);
        Plots.line(c, "train", ep, rows.stream().mapToDouble(train).toArray(), TRAIN, 2f);
        Plots.line(c, "test", ep, rows.stream().mapToDouble(test).toArray(), TEST, 2f);
        return Plots.image(c);
    }
}

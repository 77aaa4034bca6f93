package io.jvae.viz;

import io.jvae.train.EpochMetrics;
import org.knowm.xchart.XYChart;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Map;

/** Figures of the multi-run experiments. */
public final class ExperimentFigures {
    private ExperimentFigures() {}

    /** Every run's train/test loss faint, the per-epoch mean over runs bold. */
    public static BufferedImage repeat(List<List<EpochMetrics>> runs, String model) {
        XYChart c = Plots.lineChart(runs.size() + " runs of " + model + ": loss per epoch", "epoch", "-ELBO (nats / example)", 900, 600);
        Color trainFaint = new Color(31, 119, 180, 50), testFaint = new Color(214, 39, 40, 50);
        int maxEp = 0;
        for (int i = 0; i < runs.size(); i++) {
            List<EpochMetrics> h = runs.get(i);
            if (h.isEmpty()) continue;
            maxEp = Math.max(maxEp, h.size());
            double[] ep = h.stream().mapToDouble(EpochMetrics::epoch).toArray();
            var a = Plots.line(c, "train run " + (i + 1), ep, h.stream().mapToDouble(m -> m.train().loss()).toArray(), trainFaint, 1f);
            var b = Plots.line(c, "test run " + (i + 1), ep, h.stream().mapToDouble(m -> m.test().loss()).toArray(), testFaint, 1f);
            a.setShowInLegend(false);
            b.setShowInLegend(false);
        }
        double[][] mean = new double[2][maxEp];
        int[] cnt = new int[maxEp];
        for (List<EpochMetrics> h : runs)
            for (EpochMetrics m : h) {
                mean[0][m.epoch() - 1] += m.train().loss();
                mean[1][m.epoch() - 1] += m.test().loss();
                cnt[m.epoch() - 1]++;
            }
        int full = 0;
        while (full < maxEp && cnt[full] > 0) full++;
        double[] ep = new double[full], tr = new double[full], te = new double[full];
        for (int e = 0; e < full; e++) {
            ep[e] = e + 1;
            tr[e] = mean[0][e] / cnt[e];
            te[e] = mean[1][e] / cnt[e];
        }
        if (full > 0) {
            Plots.line(c, "train, mean over runs", ep, tr, new Color(31, 119, 180), 3f);
            Plots.line(c, "test, mean over runs", ep, te, new Color(214, 39, 40), 3f);
        }
        return Plots.image(c);
    }

    /** Test loss per epoch, one line per latent size. */
    public static BufferedImage sweep(Map<Integer, List<EpochMetrics>> byLatent, String title) {
        XYChart c = Plots.lineChart(title, "epoch", "test -ELBO (nats / example)", 900, 600);
        int k = 0;
        for (Map.Entry<Integer, List<EpochMetrics>> e : byLatent.entrySet()) {
            List<EpochMetrics> h = e.getValue();
            if (h.isEmpty()) continue;
            Plots.line(c, "latent " + e.getKey(), h.stream().mapToDouble(EpochMetrics::epoch).toArray(),
                    h.stream().mapToDouble(m -> m.test().loss()).toArray(), Plots.DIGIT[k++ % 10], 2f);
        }
        return Plots.image(c);
    }
}

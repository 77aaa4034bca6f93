package io.jvae.viz;

import io.jvae.InvalidInputException;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Path;

/** XChart helpers: line charts of losses, latent scatters coloured by digit. */
final class Plots {
    private Plots() {}

    static {
        System.setProperty("java.awt.headless", "true");
    }

    /** Ten distinguishable colours for digits 0-9 (tab10). */
    public static final Color[] DIGIT = {
            new Color(31, 119, 180), new Color(255, 127, 14), new Color(44, 160, 44), new Color(214, 39, 40),
            new Color(148, 103, 189), new Color(140, 86, 75), new Color(227, 119, 194), new Color(127, 127, 127),
            new Color(188, 189, 34), new Color(23, 190, 207)};

    public static XYChart lineChart(String title, String xLabel, String yLabel, int w, int h) {
        XYChart c = new XYChartBuilder().width(w).height(h).title(title).xAxisTitle(xLabel).yAxisTitle(yLabel).build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        c.getStyler().setMarkerSize(0);
        c.getStyler().setChartBackgroundColor(Color.WHITE);
        c.getStyler().setPlotGridLinesColor(new Color(225, 225, 225));
        return c;
    }

    public static XYSeries line(XYChart c, String name, double[] x, double[] y, Color color, float width) {
        XYSeries s = c.addSeries(name, x, y);
        s.setMarker(SeriesMarkers.NONE);
        s.setLineColor(color);
        s.setLineStyle(new BasicStroke(width));
        return s;
    }

    /** Scatter of points (x, y) coloured by label 0..9, with a legend of digits. */
    public static XYChart latentScatter(String title, String xLabel, String yLabel, double[] x, double[] y, int[] labels, int w, int h) {
        XYChart c = new XYChartBuilder().width(w).height(h).title(title).xAxisTitle(xLabel).yAxisTitle(yLabel).build();
        c.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        c.getStyler().setMarkerSize(3);
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        c.getStyler().setChartBackgroundColor(Color.WHITE);
        for (int d = 0; d < 10; d++) {
            int cnt = 0;
            for (int l : labels) if (l == d) cnt++;
            if (cnt == 0) continue;
            double[] xs = new double[cnt], ys = new double[cnt];
            int k = 0;
            for (int i = 0; i < labels.length; i++)
                if (labels[i] == d) {
                    xs[k] = x[i];
                    ys[k++] = y[i];
                }
            XYSeries s = c.addSeries("digit " + d, xs, ys);
            s.setMarker(SeriesMarkers.CIRCLE);
            s.setMarkerColor(new Color(DIGIT[d].getRed(), DIGIT[d].getGreen(), DIGIT[d].getBlue(), 160));
        }
        return c;
    }

    public static BufferedImage image(XYChart c) {
        return BitmapEncoder.getBufferedImage(c);
    }

    public static void write(XYChart c, Path file) {
        ImageGrid.write(image(c), file);
    }

    static void require(boolean ok, String msg) {
        if (!ok) throw new InvalidInputException(msg);
    }
}

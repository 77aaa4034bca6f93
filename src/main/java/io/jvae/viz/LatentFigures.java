package io.jvae.viz;

import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.image.BufferedImage;

/** Latent-space scatters of test-set means coloured by digit: 2-D, and an oblique 3-D view. */
public final class LatentFigures {
    private LatentFigures() {}

    /** mu is (L, n) column-major. */
    public static BufferedImage scatter2d(float[] mu, int lat, int[] labels, int dx, int dy, String title) {
        int n = labels.length;
        double[] x = new double[n], y = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = mu[i * lat + dx];
            y[i] = mu[i * lat + dy];
        }
        XYChart c = Plots.latentScatter(title, "z" + dx + " (mean of q(z|x))", "z" + dy, x, y, labels, 760, 620);
        return Plots.image(c);
    }

    /**
     * An oblique projection of (z0, z1, z2): screen x = z0 - 0.5 z2 cos 30deg... drawn with the three
     * axes as labelled lines through the origin, so depth reads at a glance.
     */
    public static BufferedImage scatter3d(float[] mu, int[] labels, String title) {
        int n = labels.length;
        double az = Math.toRadians(35), el = Math.toRadians(25);
        double[] x = new double[n], y = new double[n];
        double ext = 0;
        for (int i = 0; i < n; i++) {
            double[] p = project(mu[i * 3], mu[i * 3 + 1], mu[i * 3 + 2], az, el);
            x[i] = p[0];
            y[i] = p[1];
            ext = Math.max(ext, Math.max(Math.abs(mu[i * 3]), Math.max(Math.abs(mu[i * 3 + 1]), Math.abs(mu[i * 3 + 2]))));
        }
        XYChart c = Plots.latentScatter(title, "projection (azimuth 35 deg, elevation 25 deg)", "", x, y, labels, 760, 620);
        String[] names = {"z0 axis", "z1 axis", "z2 axis"};
        for (int a = 0; a < 3; a++) {
            double[] e = new double[3];
            e[a] = ext;
            double[] p0 = project(-e[0], -e[1], -e[2], az, el), p1 = project(e[0], e[1], e[2], az, el);
            XYSeries s = c.addSeries(names[a], new double[] {p0[0], p1[0]}, new double[] {p0[1], p1[1]});
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
            s.setMarker(SeriesMarkers.NONE);
            s.setLineColor(a == 0 ? Color.BLACK : a == 1 ? Color.DARK_GRAY : Color.GRAY);
            s.setLineStyle(new BasicStroke(a == 2 ? 1.5f : 2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                    a == 1 ? new float[] {6f, 4f} : a == 2 ? new float[] {2f, 3f} : null, 0f));
        }
        return Plots.image(c);
    }

    static double[] project(double a, double b, double c, double az, double el) {
        double x = a * Math.cos(az) - b * Math.sin(az);
        double depth = a * Math.sin(az) + b * Math.cos(az);
        double y = c * Math.cos(el) - depth * Math.sin(el);
        return new double[] {x, y};
    }
}

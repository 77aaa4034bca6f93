package io.jvae.viz;

import io.jvae.InvalidInputException;
import org.knowm.xchart.XYChart;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Line charts of any CSV with a header (`jvae plot FILE --x COL --y COL`): one or more y columns
 * against an x column, one line per value of a series column, the points of each line in x order.
 * An empty cell leaves its point out; anything else that is not a finite number is refused with its
 * place in the file.
 */
public final class CsvFigures {
    private CsvFigures() {}

    /**
     * The chart of `text` (the file's contents; name for messages). x: a column, or null for the
     * first one; series: a column, or null (one line per y column).
     */
    public static BufferedImage lines(String text, String name, String x, List<String> ys, String series, boolean logX, String title) {
        if (text.startsWith("\uFEFF")) text = text.substring(1); // the byte-order mark of spreadsheets' "CSV UTF-8"
        String[] lines = text.replace("\r", "").split("\n");
        InvalidInputException.require(lines.length > 0 && !lines[0].isBlank(), "%s: empty file: a header line is needed", name);
        List<String> header = fields(lines[0], name, 0);
        if (x == null) x = header.get(0);
        int xi = column(header, x, name), si = series == null ? -1 : column(header, series, name);
        int[] yi = new int[ys.size()];
        for (int i = 0; i < yi.length; i++) yi[i] = column(header, ys.get(i), name);
        // per line of the chart (series value, y column): its points
        Map<String, List<double[]>> byLine = new LinkedHashMap<>();
        for (int l = 1; l < lines.length; l++) {
            if (lines[l].isBlank()) continue;
            List<String> f = fields(lines[l], name, l);
            if (f.size() != header.size())
                throw new InvalidInputException(name + ": line " + (l + 1) + " has " + f.size() + " fields, the header " + header.size());
            String xs = f.get(xi);
            if (xs.isEmpty()) continue;
            double xv = number(xs, name, l, x);
            if (logX && !(xv > 0))
                throw new InvalidInputException(name + ": line " + (l + 1) + ": " + x + " = " + xs + " cannot go on a logarithmic axis (not above 0)");
            String group = si < 0 ? null : f.get(si).isEmpty() ? "(empty)" : f.get(si);
            for (int i = 0; i < yi.length; i++) {
                String v = f.get(yi[i]);
                if (v.isEmpty()) continue;
                double yv = number(v, name, l, ys.get(i));
                String key = si < 0 ? ys.get(i) : yi.length == 1 ? group : group + " " + ys.get(i);
                byLine.computeIfAbsent(key, k -> new ArrayList<>()).add(new double[] {xv, yv});
            }
        }
        InvalidInputException.require(!byLine.isEmpty(), "%s: no row has both %s and %s", name, x, String.join(" or ", ys));
        XYChart c = Plots.lineChart(title != null ? title : String.join(", ", ys) + " against " + x, x, ys.size() == 1 ? ys.get(0) : "", 900, 560);
        c.getStyler().setXAxisLogarithmic(logX);
        int colour = 0;
        for (Map.Entry<String, List<double[]>> e : byLine.entrySet()) {
            double[][] pts = e.getValue().toArray(new double[0][]);
            Arrays.sort(pts, (a, b) -> Double.compare(a[0], b[0]));
            double[] xv = new double[pts.length], yv = new double[pts.length];
            for (int i = 0; i < pts.length; i++) {
                xv[i] = pts[i][0];
                yv[i] = pts[i][1];
            }
            Plots.line(c, e.getKey(), xv, yv, Plots.DIGIT[colour++ % Plots.DIGIT.length], 2f);
        }
        return Plots.image(c);
    }

    private static int column(List<String> header, String col, String name) {
        int i = header.indexOf(col);
        if (i < 0) throw new InvalidInputException(name + ": no column '" + col + "' (the header has " + String.join(", ", header) + ")");
        if (header.lastIndexOf(col) != i)
            throw new InvalidInputException(name + ": the header names column '" + col + "' twice (columns " + (i + 1) + " and "
                    + (header.lastIndexOf(col) + 1) + "): which one is meant is not clear");
        return i;
    }

    /** A decimal number (io.jvae.data.Csv's rule: no hex, no 'f'/'d' suffixes) that is finite as a double. */
    private static double number(String s, String name, int line, String col) {
        double v = io.jvae.data.Csv.decimal(s) ? Double.parseDouble(s) : Double.NaN;
        if (!Double.isFinite(v))
            throw new InvalidInputException(name + ": line " + (line + 1) + ", column " + col + ": '" + s + "' is not a finite number");
        return v;
    }

    /**
     * The fields of one line, RFC 4180 style: split at commas outside double quotes; a quoted field
     * may hold commas and doubled quotes (""); fields trimmed (inside the quotes too).
     */
    static List<String> fields(String line, String name, int l) {
        List<String> out = new ArrayList<>();
        StringBuilder f = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char ch = line.charAt(i);
            if (quoted) {
                if (ch != '"') f.append(ch);
                else if (i + 1 < line.length() && line.charAt(i + 1) == '"') f.append(line.charAt(++i));
                else quoted = false;
            } else if (ch == '"' && f.toString().isBlank()) {
                quoted = true;
                f.setLength(0);
            } else if (ch == ',') {
                out.add(f.toString().strip());
                f.setLength(0);
            } else f.append(ch);
        }
        if (quoted) throw new InvalidInputException(name + ": line " + (l + 1) + ": a double quote opens a field and none closes it");
        out.add(f.toString().strip());
        return out;
    }
}

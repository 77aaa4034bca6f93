package io.jvae.viz;

import io.jvae.InvalidInputException;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Grids of grayscale images (pixels in [0,1], each image side x side, row-major) with an optional
 * title, row labels on the left and column labels on top, scaled up for readability.
 */
public final class ImageGrid {
    private ImageGrid() {}

    /**
     * images[r][c] is a side*side array or null (left blank). Returns the picture.
     */
    public static BufferedImage render(float[][][] images, int side, int scale, String title, List<String> rowLabels,
                                       List<String> colLabels) {
        int rows = images.length, cols = images[0].length;
        int cell = side * scale, gap = 2;
        int left = rowLabels == null ? 4 : 16 + labelWidth(rowLabels), top = (title == null ? 4 : 30) + (colLabels == null ? 0 : 18);
        int w = left + cols * (cell + gap) + 4, h = top + rows * (cell + gap) + 4;
        if (title != null) w = Math.max(w, 12 + textWidth(TITLE_FONT, List.of(title))); // a narrow grid does not cut its title
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        g.setColor(Color.BLACK);
        if (title != null) {
            g.setFont(TITLE_FONT);
            g.drawString(title, 6, 21);
        }
        g.setFont(LABEL_FONT);
        if (colLabels != null)
            for (int c = 0; c < cols && c < colLabels.size(); c++)
                g.drawString(colLabels.get(c), left + c * (cell + gap) + cell / 2 - 4 * colLabels.get(c).length(), top - 5);
        for (int r = 0; r < rows; r++) {
            int y0 = top + r * (cell + gap);
            g.setColor(Color.BLACK);
            if (rowLabels != null && r < rowLabels.size()) g.drawString(rowLabels.get(r), 6, y0 + cell / 2 + 5);
            for (int c = 0; c < cols; c++) {
                float[] im = images[r][c];
                if (im == null) continue;
                int x0 = left + c * (cell + gap);
                for (int y = 0; y < side; y++)
                    for (int x = 0; x < side; x++) {
                        float v = Math.max(0f, Math.min(1f, im[y * side + x]));
                        int gray = 255 - Math.round(v * 255); // ink is dark on white
                        g.setColor(new Color(gray, gray, gray));
                        g.fillRect(x0 + x * scale, y0 + y * scale, scale, scale);
                    }
            }
        }
        g.dispose();
        return img;
    }

    private static final Font LABEL_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 13), TITLE_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 16);

    /** Pixel width of the widest row label in the label font. */
    static int labelWidth(List<String> labels) {
        return textWidth(LABEL_FONT, labels);
    }

    /** Pixel width of the widest of the strings in a font. */
    static int textWidth(Font font, List<String> labels) {
        Graphics2D g = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB).createGraphics();
        java.awt.FontMetrics fm = g.getFontMetrics(font);
        int w = 0;
        for (String l : labels) w = Math.max(w, fm.stringWidth(l));
        g.dispose();
        return w;
    }

    public static void write(BufferedImage img, Path file) {
        try {
            io.jvae.io.AtomicFiles.write(file, ch -> { // encoded in memory (no cache file in java.io.tmpdir), then into ch
                try (var png = new javax.imageio.stream.MemoryCacheImageOutputStream(java.nio.channels.Channels.newOutputStream(ch))) {
                    if (!ImageIO.write(img, "png", png)) throw new IOException("no PNG writer");
                }
            });
        } catch (IOException e) {
            throw io.jvae.io.AtomicFiles.failure("writing", file, e);
        }
    }

    /** Cuts a (D, n) column-major block of images into n arrays. */
    public static float[][] split(float[] cols, int d, int n) {
        float[][] out = new float[n][];
        for (int j = 0; j < n; j++) out[j] = java.util.Arrays.copyOfRange(cols, j * d, (j + 1) * d);
        return out;
    }

    /** The first rows x perRow images of cols (d pixels each, column-major), row by row, as render() takes them. */
    public static float[][][] rows(float[] cols, int d, int rows, int perRow) {
        float[][] all = split(cols, d, rows * perRow);
        float[][][] g = new float[rows][][];
        for (int r = 0; r < rows; r++) g[r] = java.util.Arrays.copyOfRange(all, r * perRow, (r + 1) * perRow);
        return g;
    }

    /**
     * n square images of d pixels (column j at x[j*d ..]) in a near-square grid, ceil(sqrt n) per
     * row, blank cells after the last, each drawn at {@link #scaleFor} its side.
     */
    public static BufferedImage square(float[] x, int d, int n, String title) {
        int perRow = (int) Math.ceil(Math.sqrt(n)), rows = (n + perRow - 1) / perRow, side = side(d);
        float[][][] g = rows(java.util.Arrays.copyOf(x, rows * perRow * d), d, rows, perRow);
        for (int c = n % perRow == 0 ? perRow : n % perRow; c < perRow; c++) g[rows - 1][c] = null; // blank, not black
        return render(g, side, scaleFor(side), title, null, null);
    }

    /** Screen pixels per image pixel: 2 for MNIST's 28 x 28, more for small images (8 x 8 digits: 7), so each is ~56 px wide. */
    public static int scaleFor(int side) {
        return Math.max(2, (56 + side - 1) / side);
    }

    /** Whether d pixels make a square image. */
    public static boolean isSquare(int d) {
        int s = (int) Math.round(Math.sqrt(d));
        return d > 0 && s * s == d;
    }

    /** Side of a square image of d pixels, or an error. */
    public static int side(int d) {
        int s = (int) Math.round(Math.sqrt(d));
        if (s * s != d) throw new InvalidInputException("images of " + d + " pixels are not square");
        return s;
    }

    /** Stacks PNG panels into a grid with `cols` columns (for combined figures). */
    public static BufferedImage combine(List<BufferedImage> panels, int cols) {
        int w = 0, h = 0;
        for (BufferedImage p : panels) {
            w = Math.max(w, p.getWidth());
            h = Math.max(h, p.getHeight());
        }
        int rows = (panels.size() + cols - 1) / cols;
        BufferedImage out = new BufferedImage(w * Math.min(cols, panels.size()), h * rows, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, out.getWidth(), out.getHeight());
        for (int i = 0; i < panels.size(); i++) g.drawImage(panels.get(i), (i % cols) * w, (i / cols) * h, null);
        g.dispose();
        return out;
    }

}

package io.jvae.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;

import static io.jvae.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.*;

/** `jvae plot CSV --y ...`: columns of any CSV with a header, a line per series; bad input refused in one line. */
class PlotCsvTest {
    @TempDir
    Path tmp;

    private Path csv(String name, String text) throws Exception {
        Path p = tmp.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    /**
     * Whether a line of this colour (Plots.DIGIT[0], [1], ...) is drawn: more pixels of it than the
     * legend's sample of the series alone has (a short stroke, under 100 pixels at 2 px width).
     */
    private static boolean has(BufferedImage img, int rgb) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) for (int x = 0; x < img.getWidth(); x++) if ((img.getRGB(x, y) & 0xffffff) == rgb) n++;
        return n > 300;
    }

    @Test
    void drawsALinePerSeriesAndSkipsEmptyCells() throws Exception {
        Path p = csv("curve.csv", "run,epochs,nll\nvae,10,90.5\niwae,10,89.0\nvae,100,\"88.1\"\niwae,100,86.2\nvae,1000,\n");
        CliTest.Run r = run("plot", p.toString(), "--x", "epochs", "--y", "nll", "--series", "run", "--log-x", "--title", "NLL");
        assertEquals(0, r.code(), r.err());
        BufferedImage img = FigureCommandsTest.png(tmp.resolve("curve.png"));
        assertTrue(img.getWidth() >= 800 && img.getHeight() >= 500);
        assertTrue(has(img, 0x1f77b4) && has(img, 0xff7f0e), "both series drawn in their colours");
        // without --series: one line per y column; x defaults to the first column
        Path q = csv("xy.csv", "step,a,b\n1,2,3\n2,3,1\n");
        Path png = tmp.resolve("out/xy-custom.png");
        Files.createDirectories(png.getParent());
        assertEquals(0, run("plot", q.toString(), "--y", "a,b", "--out", png.toString()).code());
        BufferedImage two = FigureCommandsTest.png(png);
        assertTrue(has(two, 0x1f77b4) && has(two, 0xff7f0e), "a line per y column");
        assertFalse(has(two, 0x2ca02c), "no third line");
        // a spreadsheet's export: byte-order mark, CRLF, quoted names with commas and doubled quotes, an empty series cell
        Path x = csv("excel.csv", "\uFEFFstep,\"model, k\",v\r\n1,\"vae, \"\"k=1\"\"\",5\r\n2,\"vae, \"\"k=1\"\"\",4\r\n1,,3\r\n2,,1\r\n");
        CliTest.Run e = run("plot", x.toString(), "--y", "v", "--series", "model, k");
        assertEquals(0, e.code(), e.err());
        BufferedImage ex = FigureCommandsTest.png(tmp.resolve("excel.png"));
        assertTrue(has(ex, 0x1f77b4) && has(ex, 0xff7f0e), "the named series and the one of empty cells");
    }

    @Test
    void badInputIsOneLineAndExitCode2() throws Exception {
        Path p = csv("c.csv", "run,epochs,nll\nvae,10,90.5\nvae,0,x1\n");
        String[][] cases = {
                {"--y", "nope"}, // no such column
                {"--x", "epochs", "--y", "nll"}, // 'x1' is not a number
                {"--x", "epochs", "--y", "epochs", "--log-x"}, // 0 on a log axis
                {"--series", "run"}, // --series without --y
        };
        String[] expect = {"no column 'nope'", "line 3, column nll: 'x1' is not a finite number", "cannot go on a logarithmic axis", "go with --y"};
        for (int i = 0; i < cases.length; i++) {
            String[] args = new String[cases[i].length + 2];
            args[0] = "plot";
            args[1] = p.toString();
            System.arraycopy(cases[i], 0, args, 2, cases[i].length);
            CliTest.Run r = run(args);
            assertEquals(2, r.code(), String.join(" ", args));
            assertTrue(r.err().contains(expect[i]), r.err());
            assertEquals(1, r.err().strip().lines().filter(l -> !l.startsWith("WARNING")).count(), "one line: " + r.err());
        }
        assertTrue(run("plot", csv("ragged.csv", "a,b\n1,2\n3\n").toString(), "--y", "b").err().contains("line 3 has 1 fields, the header 2"));
        assertTrue(run("plot", csv("twice.csv", "a,b,a\n1,2,3\n").toString(), "--y", "a").err().contains("names column 'a' twice (columns 1 and 3)"));
        assertTrue(run("plot", csv("open.csv", "a,b\n1,\"2\n").toString(), "--y", "b").err().contains("line 2: a double quote opens a field and none closes it"));
        assertTrue(run("plot", csv("nan.csv", "a,b\n1,NaN\n").toString(), "--y", "b").err().contains("not a finite number"));
        assertTrue(run("plot", csv("empty.csv", "").toString(), "--y", "b").err().contains("empty file"));
        assertTrue(run("plot", csv("none.csv", "a,b\n1,\n").toString(), "--y", "b").err().contains("no row has both a and b"));
        assertTrue(run("plot", tmp.resolve("missing.csv").toString(), "--y", "b").err().contains("no such file"));
        Path bin = tmp.resolve("bin.csv");
        Files.write(bin, new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1});
        assertTrue(run("plot", bin.toString(), "--y", "b").err().contains("not a text file"));
    }
}

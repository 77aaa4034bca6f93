package io.jvae.cli;

import io.jvae.train.EpochMetrics;
import io.jvae.train.MetricsLog;
import io.jvae.viz.CsvFigures;
import io.jvae.viz.ImageGrid;
import io.jvae.viz.LossFigures;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "plot", mixinStandardHelpOptions = true, description = {
        "Loss curves of a run: total, KL and cross-entropy per epoch, train vs test (a run's metrics.csv).",
        "With --y: any CSV with a header, columns against a column, a line per value of --series."})
final class PlotCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", description = "metrics.csv of a run, or any CSV with a header (with --y)")
    Path metrics;

    @CommandLine.Option(names = "--out", description = "PNG file (default: loss-curves.png beside the CSV; with --y: the CSV's name with .png)")
    Path out;

    @CommandLine.Option(names = "--y", split = ",", paramLabel = "COLUMN", description = "columns to draw (header names); plots the CSV instead of a run's losses")
    List<String> y;

    @CommandLine.Option(names = "--x", paramLabel = "COLUMN", description = "the column along x (with --y). Default: the first column")
    String x;

    @CommandLine.Option(names = "--series", paramLabel = "COLUMN", description = "one line per value of this column (with --y)")
    String series;

    @CommandLine.Option(names = "--log-x", description = "logarithmic x axis (with --y)")
    boolean logX;

    @CommandLine.Option(names = "--title", description = "chart title (with --y)")
    String title;

    @Override
    public Integer call() {
        if (y != null) return csv();
        io.jvae.InvalidInputException.require(x == null && series == null && !logX && title == null,
                "--x, --series, --log-x and --title go with --y (columns of a CSV to plot)");
        List<EpochMetrics> rows = MetricsLog.read(metrics);
        io.jvae.InvalidInputException.require(!rows.isEmpty(), "%s has no epochs yet", metrics);
        Path png = out != null ? out : metrics.toAbsolutePath().getParent().resolve("loss-curves.png");
        ImageGrid.write(LossFigures.curves(rows, metrics.toAbsolutePath().getParent().getFileName().toString()), png);
        spec.commandLine().getOut().println("wrote " + png);
        return Jvae.OK;
    }

    private Integer csv() {
        String text;
        try {
            text = java.nio.file.Files.readString(metrics);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new io.jvae.InvalidInputException(metrics + ": no such file");
        } catch (java.nio.charset.MalformedInputException e) {
            throw new io.jvae.InvalidInputException(metrics + ": not a text file (not UTF-8)");
        } catch (java.io.IOException e) {
            throw new io.jvae.InvalidInputException("cannot read " + metrics + ": " + e.getMessage());
        }
        String file = metrics.getFileName().toString();
        Path png = out != null ? out : metrics.toAbsolutePath().resolveSibling(file.replaceFirst("\\.[^.]*$", "") + ".png");
        ImageGrid.write(CsvFigures.lines(text, metrics.toString(), x, y, series, logX, title), png);
        spec.commandLine().getOut().println("wrote " + png);
        return Jvae.OK;
    }
}

package io.jvae.cli;

import io.jvae.train.EpochMetrics;
import io.jvae.train.MetricsLog;
import io.jvae.viz.ImageGrid;
import io.jvae.viz.LossFigures;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "plot", mixinStandardHelpOptions = true, description = "Loss curves of a run: total, KL and cross-entropy per epoch, train vs test.")
final class PlotCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", description = "metrics.csv of a run")
    Path metrics;

    @CommandLine.Option(names = "--out", description = "PNG file (default: loss-curves.png beside the CSV)")
    Path out;

    @Override
    public Integer call() {
        List<EpochMetrics> rows = MetricsLog.read(metrics);
        io.jvae.InvalidInputException.require(!rows.isEmpty(), "%s has no epochs yet", metrics);
        Path png = out != null ? out : metrics.toAbsolutePath().getParent().resolve("loss-curves.png");
        ImageGrid.write(LossFigures.curves(rows, metrics.toAbsolutePath().getParent().getFileName().toString()), png);
        spec.commandLine().getOut().println("wrote " + png);
        return Jvae.OK;
    }
}

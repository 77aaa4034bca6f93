package io.jvae.train;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** A progress bar on stderr when a terminal is attached (samples/s, running loss); silent otherwise. */
public final class Progress implements AutoCloseable {
    private final ProgressBar bar;

    private Progress(ProgressBar bar) {
        this.bar = bar;
    }

    /** Whether bars are drawn: a console is attached and JVAE_PROGRESS is not 0. */
    public static boolean enabled() {
        return System.console() != null && !"0".equals(System.getenv("JVAE_PROGRESS"));
    }

    public static Progress start(String task, long max, boolean show) {
        if (!show) return new Progress(null);
        return new Progress(new ProgressBarBuilder().setTaskName(task).setInitialMax(max)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250).continuousUpdate()
                .setConsumer(new ConsoleProgressBarConsumer(System.err)).build());
    }

    public void stepTo(long n, String message) {
        if (bar == null) return;
        bar.stepTo(n);
        bar.setExtraMessage(message);
    }

    @Override
    public void close() {
        if (bar != null) bar.close();
    }
}

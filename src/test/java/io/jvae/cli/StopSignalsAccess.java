package io.jvae.cli;

import java.io.PrintStream;
import java.util.function.IntConsumer;
import java.util.function.Supplier;

/** StopSignals for tests in other packages. */
public final class StopSignalsAccess {
    private StopSignalsAccess() {}

    public interface Installed extends Supplier<String>, AutoCloseable {
        @Override
        void close();
    }

    public static Installed install(PrintStream err, IntConsumer halt) {
        StopSignals s = StopSignals.install(err, halt);
        return new Installed() {
            @Override
            public String get() {
                return s.get();
            }

            @Override
            public void close() {
                s.close();
            }
        };
    }
}

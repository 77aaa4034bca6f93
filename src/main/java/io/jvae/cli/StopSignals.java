package io.jvae.cli;

import sun.misc.Signal;
import sun.misc.SignalHandler;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * SIGINT (Ctrl-C) and SIGTERM (a scheduler's stop) for the length of a training run: the first one
 * asks the trainer to stop after the step it is on and save its state (it polls {@link #get}); a
 * second one ends the process at once with 128 + the signal's number (the state of the last epoch
 * is intact: checkpoints are replaced atomically). The JVM's own handlers come back on close.
 * Uses sun.misc.Signal (module jdk.unsupported, in every JDK); where a signal cannot be caught
 * (-Xrs) it keeps its default, which ends the JVM as before, and a signal the process was started
 * ignoring (SIGINT of a background job) stays ignored, as the shell meant.
 */
final class StopSignals implements Supplier<String>, AutoCloseable {
    private final AtomicReference<Signal> got = new AtomicReference<>();
    private final Map<Signal, SignalHandler> previous = new LinkedHashMap<>();

    private StopSignals() {}

    static StopSignals install(PrintStream err) {
        return install(err, code -> Runtime.getRuntime().halt(code));
    }

    /** With the action of a second signal given (tests: record it instead of ending the JVM). */
    static StopSignals install(PrintStream err, java.util.function.IntConsumer halt) {
        StopSignals s = new StopSignals();
        for (String name : new String[] {"INT", "TERM"}) {
            Signal sig = new Signal(name);
            try {
                s.previous.put(sig, Signal.handle(sig, caught -> {
                    if (!s.got.compareAndSet(null, caught)) {
                        halt.accept(128 + caught.getNumber());
                        return;
                    }
                    err.println("jvae: SIG" + caught.getName() + ": stopping after this step and saving the state "
                            + "(a second signal quits at once, losing the running epoch)");
                    err.flush();
                }));
            } catch (IllegalArgumentException e) {
                // this JVM does not let us catch it (-Xrs, or in use): its default stays
            }
        }
        return s;
    }

    /** "SIGINT" / "SIGTERM" once one arrived, else null. */
    @Override
    public String get() {
        Signal s = got.get();
        return s == null ? null : "SIG" + s.getName();
    }

    /** The exit status a process ended by that signal reports: 128 + its number (130, 143). */
    int exitCode() {
        Signal s = got.get();
        return s == null ? 0 : 128 + s.getNumber();
    }

    @Override
    public void close() {
        previous.forEach(Signal::handle);
    }
}

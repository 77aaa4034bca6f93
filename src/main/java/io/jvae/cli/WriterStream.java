package io.jvae.cli;

import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;

/** A PrintStream-able view of a picocli PrintWriter, so library code can log to the command's output. */
final class WriterStream extends OutputStream {
    private final PrintWriter w;
    private final java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();

    WriterStream(PrintWriter w) {
        this.w = w;
    }

    @Override
    public void write(int b) {
        buf.write(b);
        if (b == '\n') flush();
    }

    @Override
    public void flush() {
        w.print(buf.toString(StandardCharsets.UTF_8));
        w.flush();
        buf.reset();
    }
}

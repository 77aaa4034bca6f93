package io.jvae.backend.cuda;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs kernels of vae_kernels.cu compiled for the CPU by g++ (kernels/emulate/driver.cpp), one
 * process serving many calls. Arguments are checked against the {@link Kernel} declaration, the
 * same one CudaBackend launches with: float[]/int[] for pointers (null for a null pointer),
 * Float, Integer, Long for scalars. Returns the pointer arguments after the kernel ran.
 */
final class Emulator implements AutoCloseable {
    private final Process proc;
    private final OutputStream in;
    private final DataInputStream out;

    private Emulator(Process proc) {
        this.proc = proc;
        this.in = proc.getOutputStream();
        this.out = new DataInputStream(new java.io.BufferedInputStream(proc.getInputStream(), 1 << 16));
    }

    /** Builds the driver into target/emulate (g++ must be on the PATH) and starts it. */
    static Emulator start() throws IOException, InterruptedException {
        Path driver = Path.of("target", "emulate", "driver").toAbsolutePath();
        Process b = new ProcessBuilder("bash", "kernels/emulate/build.sh", driver.toString()).redirectErrorStream(true).start();
        String log = new String(b.getInputStream().readAllBytes());
        if (!b.waitFor(300, TimeUnit.SECONDS) || b.exitValue() != 0) throw new IOException("g++ build of the kernel emulation failed:\n" + log);
        if (!Files.isExecutable(driver)) throw new IOException("no driver at " + driver);
        return new Emulator(new ProcessBuilder(driver.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start());
    }

    List<Object> call(Kernel k, int grid, int block, Object... args) throws IOException {
        if (args.length != k.params.size()) throw new IllegalArgumentException(k.symbol + ": " + args.length + " args for " + k.params);
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        byte[] name = k.symbol.getBytes(StandardCharsets.US_ASCII);
        buf.write(le(4).putInt(name.length).array());
        buf.write(name);
        buf.write(le(12).putInt(grid).putInt(block).putInt(args.length).array());
        for (int i = 0; i < args.length; i++) {
            Kernel.Param p = k.params.get(i);
            Object a = args[i];
            if (p.pointer() && a == null) {
                buf.write('n');
            } else if (p == Kernel.Param.F32_PTR && a instanceof float[] f) {
                ByteBuffer bb = le(1 + 4 + 4 * f.length).put((byte) 'f').putInt(f.length);
                bb.asFloatBuffer();
                for (float v : f) bb.putFloat(v);
                buf.write(bb.array());
            } else if (p == Kernel.Param.I32_PTR && a instanceof int[] ia) {
                ByteBuffer bb = le(1 + 4 + 4 * ia.length).put((byte) 'i').putInt(ia.length);
                for (int v : ia) bb.putInt(v);
                buf.write(bb.array());
            } else if (p == Kernel.Param.F32 && a instanceof Float f) {
                buf.write(le(5).put((byte) 'F').putFloat(f).array());
            } else if (p == Kernel.Param.I32 && a instanceof Integer v) {
                buf.write(le(5).put((byte) 'I').putInt(v).array());
            } else if (p == Kernel.Param.U64 && a instanceof Long v) {
                buf.write(le(9).put((byte) 'U').putLong(v).array());
            } else {
                throw new IllegalArgumentException(k.symbol + " arg " + i + ": " + (a == null ? "null" : a.getClass().getSimpleName()) + " for " + p);
            }
        }
        in.write(buf.toByteArray());
        in.flush();
        int status = readInt();
        if (status != 0) throw new IOException(k.symbol + ": driver status " + status);
        List<Object> outs = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (!k.params.get(i).pointer() || args[i] == null) continue;
            int n = readInt();
            byte[] raw = new byte[4 * n];
            out.readFully(raw);
            ByteBuffer bb = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
            if (k.params.get(i) == Kernel.Param.F32_PTR) {
                float[] f = new float[n];
                bb.asFloatBuffer().get(f);
                outs.add(f);
            } else {
                int[] ia = new int[n];
                bb.asIntBuffer().get(ia);
                outs.add(ia);
            }
        }
        return outs;
    }

    private int readInt() throws IOException {
        byte[] b = new byte[4];
        out.readFully(b);
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public void close() throws Exception {
        in.close();
        if (!proc.waitFor(10, TimeUnit.SECONDS)) proc.destroyForcibly();
        InputStream ignored = proc.getInputStream();
        ignored.close();
    }
}

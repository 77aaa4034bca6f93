package io.jvae.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * NumPy .npy files (format 1.0): little-endian float32 in C order, the header padded so the data
 * starts on a 64-byte boundary as numpy writes it; numpy.load reads them. Written whole through
 * {@link AtomicFiles}.
 */
public final class NpyWriter {
    private NpyWriter() {}

    /** data holds prod(shape) floats in C order (the last index fastest). */
    public static void write(Path file, float[] data, int... shape) {
        long n = 1;
        for (int s : shape) {
            if (s < 0) throw new IllegalArgumentException("negative dimension in " + java.util.Arrays.toString(shape));
            n *= s;
        }
        if (n != data.length) throw new IllegalArgumentException(data.length + " floats for shape " + java.util.Arrays.toString(shape));
        byte[] header = header(shape);
        try {
            AtomicFiles.write(file, ch -> {
                ch.write(ByteBuffer.wrap(header));
                ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
                for (float v : data) {
                    if (!b.hasRemaining()) {
                        b.flip();
                        while (b.hasRemaining()) ch.write(b);
                        b.clear();
                    }
                    b.putFloat(v);
                }
                b.flip();
                while (b.hasRemaining()) ch.write(b);
            });
        } catch (IOException e) {
            throw AtomicFiles.failure("writing", file, e);
        }
    }

    /** A shape as numpy writes it in a header: (3,) (2, 5) (). */
    public static String shapeText(int... shape) {
        StringBuilder b = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) b.append(i == 0 ? "" : ", ").append(shape[i]);
        return b.append(shape.length == 1 ? ",)" : ")").toString();
    }

    /** The magic, version 1.0, the header length and the dict, space-padded and newline-ended to a multiple of 64 bytes. */
    static byte[] header(int... shape) {
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shapeText(shape) + ", }";
        int unpadded = 10 + dict.length() + 1, total = (unpadded + 63) / 64 * 64;
        if (total - 10 > 0xFFFF) throw new IllegalArgumentException("npy header too long");
        String padded = dict + " ".repeat(total - unpadded) + "\n";
        ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        b.putShort((short) (total - 10));
        b.put(padded.getBytes(StandardCharsets.US_ASCII));
        return b.array();
    }
}

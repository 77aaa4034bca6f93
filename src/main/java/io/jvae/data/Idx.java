package io.jvae.data;

import io.jvae.InvalidInputException;


import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * IDX files (LeCun's MNIST format): 2 zero bytes, a type byte (0x08 = unsigned byte, the only
 * type MNIST uses), the number of dimensions, then each dimension as a big-endian int32, then
 * the data. Raw or gzip (detected by the 1f 8b magic). Everything is validated: the magic, the
 * type, dimension counts and sizes, and that the file holds exactly the announced bytes.
 */
public final class Idx {
    private Idx() {}

    /** The parsed file: dims and the raw unsigned bytes in row-major order. */
    public record Data(int[] dims, byte[] bytes) {
        public int count() {
            return dims[0];
        }

        /** Product of the dimensions after the first (784 for 28x28 images, 1 for labels). */
        public int itemSize() {
            int s = 1;
            for (int i = 1; i < dims.length; i++) s *= dims[i];
            return s;
        }
    }

    /** Largest payload accepted: far above MNIST (47 MB), small enough to fail early on garbage. */
    static final long MAX_BYTES = 1L << 31;

    public static Data read(Path file) {
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(file + ": no such file");
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot read (" + e.getMessage() + ")");
        }
        return parse(all, file.toString());
    }

    /** Parses raw or gzip bytes; name is used in error messages. */
    public static Data parse(byte[] all, String name) {
        byte[] raw = all;
        if (all.length >= 2 && (all[0] & 0xFF) == 0x1f && (all[1] & 0xFF) == 0x8b) raw = gunzip(all, name);
        if (raw.length < 4) throw new InvalidInputException(name + ": " + raw.length + " bytes is too short for an IDX header");
        if (raw[0] != 0 || raw[1] != 0)
            throw new InvalidInputException(name + ": not an IDX file (magic starts " + hex(raw[0]) + " " + hex(raw[1]) + ", expected 00 00)");
        int type = raw[2] & 0xFF, nd = raw[3] & 0xFF;
        if (type != 0x08) throw new InvalidInputException(name + ": IDX data type " + hex(raw[2]) + " unsupported (MNIST uses 08 = unsigned byte)");
        if (nd < 1 || nd > 4) throw new InvalidInputException(name + ": IDX with " + nd + " dimensions (expected 1 to 4)");
        long headerLen = 4L + 4L * nd;
        if (raw.length < headerLen) throw new InvalidInputException(name + ": truncated header (" + raw.length + " bytes, need " + headerLen + ")");
        int[] dims = new int[nd];
        long expected = 1;
        for (int i = 0; i < nd; i++) {
            int p = 4 + 4 * i;
            long d = ((raw[p] & 0xFFL) << 24) | ((raw[p + 1] & 0xFFL) << 16) | ((raw[p + 2] & 0xFFL) << 8) | (raw[p + 3] & 0xFFL);
            if (d <= 0 || d > Integer.MAX_VALUE) throw new InvalidInputException(name + ": dimension " + i + " is " + d);
            dims[i] = (int) d;
            expected *= d;
            if (expected > MAX_BYTES) throw new InvalidInputException(name + ": announces more than " + MAX_BYTES + " bytes of data");
        }
        long have = raw.length - headerLen;
        if (have < expected) throw new InvalidInputException(name + ": truncated, " + have + " data bytes of " + expected + " announced by dims " + java.util.Arrays.toString(dims));
        if (have > expected) throw new InvalidInputException(name + ": " + (have - expected) + " bytes after the " + expected + " announced by dims " + java.util.Arrays.toString(dims));
        byte[] data = java.util.Arrays.copyOfRange(raw, (int) headerLen, raw.length);
        return new Data(dims, data);
    }

    private static byte[] gunzip(byte[] gz, String name) {
        try (InputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(gz), 1 << 16)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(gz.length * 4);
            byte[] buf = new byte[1 << 16];
            long total = 0;
            for (int r; (r = in.read(buf)) > 0; ) {
                total += r;
                if (total > MAX_BYTES) throw new InvalidInputException(name + ": gzip expands past " + MAX_BYTES + " bytes");
                out.write(buf, 0, r);
            }
            return out.toByteArray();
        } catch (EOFException e) {
            throw new InvalidInputException(name + ": truncated gzip stream");
        } catch (ZipException e) {
            throw new InvalidInputException(name + ": broken gzip (" + e.getMessage() + ")");
        } catch (IOException e) {
            throw new InvalidInputException(name + ": cannot decompress (" + e.getMessage() + ")");
        }
    }

    private static String hex(byte b) {
        return String.format("%02x", b & 0xFF);
    }

    /** Writes an unsigned-byte IDX file (for tests and tools). */
    public static void write(Path file, int[] dims, byte[] data) throws IOException {
        java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
        java.io.DataOutputStream d = new java.io.DataOutputStream(o);
        d.writeByte(0);
        d.writeByte(0);
        d.writeByte(8);
        d.writeByte(dims.length);
        for (int x : dims) d.writeInt(x);
        d.write(data);
        Files.write(file, o.toByteArray());
    }

}

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
 * IDX files (LeCun's MNIST format): 2 zero bytes, a type byte (0x08 unsigned byte, the only type
 * MNIST uses; 0x09 signed byte, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64, all
 * big-endian), the number of dimensions, then each dimension as a big-endian int32, then the
 * data. Raw or gzip (detected by the 1f 8b magic). Everything is validated: the magic, the
 * type, dimension counts and sizes, and that the file holds exactly the announced bytes (a gzip is
 * inflated no further than the announced size plus one byte).
 */
public final class Idx {
    private Idx() {}

    public static final int UBYTE = 0x08, BYTE = 0x09, SHORT = 0x0B, INT = 0x0C, FLOAT = 0x0D, DOUBLE = 0x0E;

    /** The parsed file: dims, the element type and the raw (big-endian) bytes in row-major order. */
    public record Data(int[] dims, byte[] bytes, int type) {
        /** An unsigned-byte file (MNIST's type). */
        public Data(int[] dims, byte[] bytes) {
            this(dims, bytes, UBYTE);
        }

        public int count() {
            return dims[0];
        }

        /** Bytes per element of the type (1 for MNIST's unsigned bytes, 8 for float64). */
        public int elementBytes() {
            return elementSize(type);
        }

        /** Product of the dimensions after the first (784 for 28x28 images, 1 for labels). */
        public int itemSize() {
            int s = 1;
            for (int i = 1; i < dims.length; i++) s *= dims[i];
            return s;
        }

        /** Element i as a double: an integer type as its value, float32/float64 as stored (big-endian). */
        public double value(int i) {
            return switch (type) {
                case UBYTE -> bytes[i] & 0xFF;
                case BYTE -> bytes[i];
                case SHORT -> (short) be(2 * i, 2);
                case INT -> (int) be(4 * i, 4);
                case FLOAT -> Float.intBitsToFloat((int) be(4 * i, 4));
                case DOUBLE -> Double.longBitsToDouble(be(8 * i, 8));
                default -> throw new IllegalStateException("IDX type " + type);
            };
        }

        private long be(int at, int n) {
            long v = 0;
            for (int k = 0; k < n; k++) v = (v << 8) | (bytes[at + k] & 0xFF);
            return v;
        }

        /** Whether the elements are integers (labels may only come from these). */
        public boolean integral() {
            return type != FLOAT && type != DOUBLE;
        }
    }

    /** Bytes per element of an IDX type, or 0 for a type IDX does not define. */
    static int elementSize(int type) {
        return switch (type) {
            case UBYTE, BYTE -> 1;
            case SHORT -> 2;
            case INT, FLOAT -> 4;
            case DOUBLE -> 8;
            default -> 0;
        };
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
        Header h = header(raw, raw.length, name);
        long have = raw.length - h.length();
        if (have < h.dataBytes()) throw new InvalidInputException(name + ": truncated, " + have + " data bytes of " + h.dataBytes() + " announced by dims " + java.util.Arrays.toString(h.dims()));
        if (have > h.dataBytes()) throw new InvalidInputException(name + ": " + (have - h.dataBytes()) + " bytes after the " + h.dataBytes() + " announced by dims " + java.util.Arrays.toString(h.dims()));
        byte[] data = java.util.Arrays.copyOfRange(raw, h.length(), raw.length);
        return new Data(h.dims(), data, h.type());
    }

    /** What a header declares: dims, the header's length in bytes (8 to 20), the data bytes after it and the element type. */
    record Header(int[] dims, int length, long dataBytes, int type) {}

    /** Validates the header in the first n bytes of raw (magic, type, dimensions); throws the user's one-line error. */
    static Header header(byte[] raw, int n, String name) {
        if (n < 4) throw new InvalidInputException(name + ": " + n + " bytes is too short for an IDX header");
        if (raw[0] != 0 || raw[1] != 0)
            throw new InvalidInputException(name + ": not an IDX file (magic starts " + hex(raw[0]) + " " + hex(raw[1]) + ", expected 00 00)");
        int type = raw[2] & 0xFF, nd = raw[3] & 0xFF;
        int size = elementSize(type);
        if (size == 0)
            throw new InvalidInputException(name + ": IDX data type " + hex(raw[2]) + " unsupported (08 unsigned byte as MNIST, 09 byte, 0b int16, 0c int32, 0d float32, 0e float64)");
        if (nd < 1 || nd > 4) throw new InvalidInputException(name + ": IDX with " + nd + " dimensions (expected 1 to 4)");
        int headerLen = 4 + 4 * nd;
        if (n < headerLen) throw new InvalidInputException(name + ": truncated header (" + n + " bytes, need " + headerLen + ")");
        int[] dims = new int[nd];
        long expected = size;
        for (int i = 0; i < nd; i++) {
            int p = 4 + 4 * i;
            long d = ((raw[p] & 0xFFL) << 24) | ((raw[p + 1] & 0xFFL) << 16) | ((raw[p + 2] & 0xFFL) << 8) | (raw[p + 3] & 0xFFL);
            if (d <= 0 || d > Integer.MAX_VALUE) throw new InvalidInputException(name + ": dimension " + i + " is " + d);
            dims[i] = (int) d;
            expected = Math.multiplyExact(expected, d); // <= 2^31 * (2^31-1) < 2^63: the check below runs after every factor
            if (expected > MAX_BYTES) throw new InvalidInputException(name + ": announces more than " + MAX_BYTES + " bytes of data");
        }
        return new Header(dims, headerLen, expected, type);
    }

    /**
     * Inflates the header first, then no more than the data it declares plus one byte: a gzip that
     * holds more (a bomb: megabytes of gzip inflating to gigabytes) is refused after that one byte,
     * never inflated to the end. Less than declared comes back as it is, for parse's truncation error.
     */
    private static byte[] gunzip(byte[] gz, String name) {
        try (InputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(gz), 1 << 16)) {
            byte[] head = in.readNBytes(4); // magic, type, number of dimensions
            if (head.length == 4) {
                int nd = head[3] & 0xFF;
                if (nd >= 1 && nd <= 4) head = concat(head, in.readNBytes(4 * nd));
            }
            Header h = header(head, head.length, name); // a bad one: the same message as in a raw file
            long limit = h.length() + h.dataBytes() + 1; // one byte past the declared size tells "more"
            // grown as data arrive: a small gzip that declares 2 GiB must not allocate them
            ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(limit, Math.min(4L * gz.length, 1 << 26)));
            out.write(head);
            byte[] buf = new byte[1 << 16];
            while (out.size() < limit) {
                int r = in.read(buf, 0, (int) Math.min(buf.length, limit - out.size()));
                if (r < 0) break;
                out.write(buf, 0, r);
            }
            if (out.size() >= limit)
                throw new InvalidInputException(name + ": gzip holds more than its header declares (dims " + java.util.Arrays.toString(h.dims())
                        + ": " + h.dataBytes() + " data bytes); not an IDX file, or a corrupt one");
            return out.toByteArray();
        } catch (EOFException e) {
            throw new InvalidInputException(name + ": truncated gzip stream");
        } catch (ZipException e) {
            throw new InvalidInputException(name + ": broken gzip (" + e.getMessage() + ")");
        } catch (IOException e) {
            throw new InvalidInputException(name + ": cannot decompress (" + e.getMessage() + ")");
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
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

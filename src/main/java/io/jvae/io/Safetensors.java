package io.jvae.io;

import io.jvae.InvalidInputException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format: an 8-byte little-endian header length N, N bytes of JSON
 * ({"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {str: str}}),
 * then the raw little-endian data. Only F32 is written or accepted. Reading validates every
 * field; writing goes through {@link AtomicFiles} (a temp file in the same directory, forced to disk,
 * then renamed), so a crash leaves either the old file or the new one, never half of one.
 */
public final class Safetensors {
    private Safetensors() {}

    /** A float32 tensor in row-major order with its shape. */
    public record Entry(long[] shape, float[] data) {
        public Entry {
            if (elements(shape) != data.length)
                throw new IllegalArgumentException("shape " + java.util.Arrays.toString(shape) + " for " + data.length + " floats");
        }
    }

    /** A parsed file: tensors in file order and the string metadata. */
    public record File(Map<String, Entry> tensors, Map<String, String> metadata) {
        public Entry require(String name, Path from) {
            Entry e = tensors.get(name);
            if (e == null) throw new InvalidInputException(from + ": no tensor '" + name + "' (is it a checkpoint of this model?)");
            return e;
        }
    }

    static final long MAX_HEADER = 100L << 20;

    /** jvae's tensor limit: elements of one Java array (and of one Tensor). */
    static final long MAX_ELEMENTS = Integer.MAX_VALUE;

    /**
     * The product of the dimensions, or -1 when a dimension is negative or the product exceeds
     * {@link #MAX_ELEMENTS}. The running product stays <= 2^31-1 and each step is multiplyExact, so
     * no shape can wrap around 2^63 or 2^64 to a small count (a product of 0 stays 0).
     */
    static long elements(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) return -1;
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                return -1;
            }
            if (n > MAX_ELEMENTS) return -1;
        }
        return n;
    }

    public static void write(Path path, Map<String, Entry> tensors, Map<String, String> metadata) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) header.put("__metadata__", new LinkedHashMap<>(metadata));
        long pos = 0;
        for (Map.Entry<String, Entry> t : tensors.entrySet()) {
            Map<String, Object> h = new LinkedHashMap<>();
            h.put("dtype", "F32");
            h.put("shape", t.getValue().shape());
            long len = 4L * t.getValue().data().length;
            h.put("data_offsets", new long[] {pos, pos + len});
            header.put(t.getKey(), h);
            pos += len;
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8; // spaces to an 8-byte boundary, as the reference writer
        AtomicFiles.write(path, ch -> {
            ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(padded).put(json);
            while (head.position() < head.capacity()) head.put((byte) ' ');
            head.flip();
            while (head.hasRemaining()) ch.write(head);
            ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (Entry e : tensors.values()) {
                float[] d = e.data();
                for (int i = 0; i < d.length; ) {
                    buf.clear();
                    int n = Math.min(d.length - i, buf.capacity() / 4);
                    buf.asFloatBuffer().put(d, i, n);
                    buf.limit(4 * n);
                    while (buf.hasRemaining()) ch.write(buf);
                    i += n;
                }
            }
        });
    }

    public static File read(Path path) {
        byte[] all;
        try {
            all = Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(path + ": no such file");
        } catch (IOException e) {
            throw new InvalidInputException(path + ": cannot read (" + e.getMessage() + ")");
        }
        return parse(all, path.toString());
    }

    /**
     * Only the header's __metadata__ (a model's config, its scaling), read without the tensors: the
     * 8-byte length and the JSON header, checked as {@link #read} checks them.
     */
    public static Map<String, String> readMetadata(Path path) {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(path)) {
            long size = ch.size();
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            while (len.hasRemaining() && ch.read(len) >= 0) { }
            if (len.hasRemaining()) throw new InvalidInputException(path + ": " + size + " bytes is too short for a safetensors file");
            long n = len.flip().getLong();
            if (n <= 0 || n > MAX_HEADER || n > size - 8L)
                throw new InvalidInputException(path + ": header length " + n + " impossible for a file of " + size + " bytes");
            ByteBuffer text = ByteBuffer.allocate((int) n);
            while (text.hasRemaining() && ch.read(text) >= 0) { }
            return metadataOf(header(new String(text.array(), StandardCharsets.UTF_8), path.toString()), path.toString());
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(path + ": no such file");
        } catch (IOException e) {
            throw new InvalidInputException(path + ": cannot read (" + e.getMessage() + ")");
        }
    }

    private static Map<String, Object> header(String text, String name) {
        try {
            return Json.parseObject(text);
        } catch (InvalidInputException e) {
            throw new InvalidInputException(name + ": bad safetensors header, " + e.getMessage());
        }
    }

    /** __metadata__: an object of strings (absent: empty). */
    private static Map<String, String> metadataOf(Map<String, Object> header, String name) {
        Map<String, String> meta = new LinkedHashMap<>();
        Object raw = header.get("__metadata__");
        if (raw == null) return meta;
        if (!(raw instanceof Map<?, ?> m)) throw new InvalidInputException(name + ": __metadata__ is not an object");
        for (Map.Entry<?, ?> me : m.entrySet()) {
            if (!(me.getValue() instanceof String v)) throw new InvalidInputException(name + ": metadata '" + me.getKey() + "' is not a string");
            meta.put((String) me.getKey(), v);
        }
        return meta;
    }

    @SuppressWarnings("unchecked")
    public static File parse(byte[] all, String name) {
        if (all.length < 8) throw new InvalidInputException(name + ": " + all.length + " bytes is too short for a safetensors file");
        long n = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (n <= 0 || n > MAX_HEADER || n > all.length - 8L)
            throw new InvalidInputException(name + ": header length " + n + " impossible for a file of " + all.length + " bytes");
        Map<String, Object> header = header(new String(all, 8, (int) n, StandardCharsets.UTF_8), name);
        long dataStart = 8 + n, dataLen = all.length - dataStart;
        Map<String, String> meta = metadataOf(header, name);
        Map<String, Entry> tensors = new LinkedHashMap<>();
        List<long[]> ranges = new ArrayList<>();
        ByteBuffer data = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        for (Map.Entry<String, Object> e : header.entrySet()) {
            if (e.getKey().equals("__metadata__")) continue;
            String t = e.getKey();
            if (!(e.getValue() instanceof Map<?, ?> raw)) throw new InvalidInputException(name + ": tensor '" + t + "' is not an object");
            Map<String, Object> h = (Map<String, Object>) raw;
            Object dtype = h.get("dtype");
            if (!"F32".equals(dtype)) throw new InvalidInputException(name + ": tensor '" + t + "' has dtype " + dtype + ", only F32 is supported");
            if (!(h.get("shape") instanceof List<?> shapeL)) throw new InvalidInputException(name + ": tensor '" + t + "' has no shape");
            if (shapeL.size() > 8) throw new InvalidInputException(name + ": tensor '" + t + "' has " + shapeL.size() + " dimensions");
            long[] shape = new long[shapeL.size()];
            for (int i = 0; i < shape.length; i++) {
                if (!(shapeL.get(i) instanceof Long d) || d < 0) throw new InvalidInputException(name + ": tensor '" + t + "' has a bad shape " + shapeL);
                shape[i] = d;
            }
            long count = elements(shape); // <= 2^31-1, so 4 * count cannot overflow
            if (count < 0)
                throw new InvalidInputException(name + ": tensor '" + t + "' has shape " + shapeL + ": more than " + MAX_ELEMENTS + " elements, jvae's limit for one tensor");
            if (!(h.get("data_offsets") instanceof List<?> off) || off.size() != 2 || !(off.get(0) instanceof Long b) || !(off.get(1) instanceof Long en))
                throw new InvalidInputException(name + ": tensor '" + t + "' has bad data_offsets " + h.get("data_offsets"));
            if (b < 0 || en < b || en > dataLen)
                throw new InvalidInputException(name + ": tensor '" + t + "' offsets [" + b + ", " + en + "] outside the " + dataLen + " data bytes");
            if (en - b != 4 * count)
                throw new InvalidInputException(name + ": tensor '" + t + "' has " + (en - b) + " bytes for shape " + shapeL + " (" + 4 * count + " expected)");
            float[] d = new float[(int) count];
            data.position((int) (dataStart + b));
            data.asFloatBuffer().get(d);
            tensors.put(t, new Entry(shape, d));
            ranges.add(new long[] {b, en});
        }
        // the format's rule (as the reference implementation checks it): the tensors tile the data
        // section from byte 0 to its end, no overlap, no gap, nothing after the last
        ranges.sort((x, y) -> Long.compare(x[0], y[0]));
        long at = 0;
        for (long[] r : ranges) {
            if (r[0] < at) throw new InvalidInputException(name + ": tensors overlap in the data section");
            if (r[0] > at) throw new InvalidInputException(name + ": " + (r[0] - at) + " bytes at data offset " + at + " belong to no tensor");
            at = r[1];
        }
        if (at != dataLen) throw new InvalidInputException(name + ": " + (dataLen - at) + " bytes after the last tensor belong to no tensor");
        return new File(tensors, meta);
    }
}

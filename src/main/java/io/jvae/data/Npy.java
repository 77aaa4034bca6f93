package io.jvae.data;

import io.jvae.InvalidInputException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * NumPy .npy files, format versions 1.0, 2.0 and 3.0 (numpy/lib/format.py): the magic
 * {@code \x93NUMPY}, major and minor version, the header length (uint16 in 1.0, uint32 in 2.0 and
 * 3.0, little-endian), then a Python dict literal {@code {'descr': '<f4', 'fortran_order': False,
 * 'shape': (N, 28, 28), }} (latin-1; UTF-8 in 3.0), then the raw data. Element types: booleans,
 * integers of 1 to 8 bytes, float32 and float64, little- or big-endian. As features an array
 * [N, d1, d2, ...] gives N examples of d1*d2*... values in C order (as x.reshape(N, -1)), whatever
 * the file's memory order; {@code |u1} is scaled by 1/255 (as MNIST's IDX bytes), everything else
 * kept as it is. The header is parsed by a small strict parser, and the data size it declares must
 * equal the bytes that follow it before anything is allocated.
 */
public final class Npy {
    private Npy() {}

    static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

    /** Elements of one Java array (a little under 2^31: what the JVM allocates). */
    static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    /** True when b starts with the .npy magic. */
    public static boolean is(byte[] b) {
        if (b.length < MAGIC.length) return false;
        for (int i = 0; i < MAGIC.length; i++) if (b[i] != MAGIC[i]) return false;
        return true;
    }

    /** A parsed array: element kind ('b', 'i', 'u', 'f') and size, the shape, the memory order and the data in place. */
    public static final class Array {
        public final String name;     // for messages: "x.npy" or "data.npz['x']"
        public final String descr;    // as in the header, e.g. "<f4"
        public final char kind;       // b, i, u or f
        public final int itemSize;    // bytes per element
        public final int[] shape;     // (N, d1, ...); each > 0 except a 1-D shape, checked by the user
        public final boolean fortran; // memory order: the first index fastest
        private final ByteBuffer data; // prod(shape) * itemSize bytes, in the file's byte order

        Array(String name, String descr, char kind, int itemSize, boolean bigEndian, int[] shape, boolean fortran, byte[] buf, int offset, int length) {
            this.name = name;
            this.descr = descr;
            this.kind = kind;
            this.itemSize = itemSize;
            this.shape = shape;
            this.fortran = fortran;
            this.data = ByteBuffer.wrap(buf, offset, length).slice().order(bigEndian ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        }

        /** Element m in memory order, as a double. */
        double get(long m) {
            int at = (int) (m * itemSize);
            return switch (kind) {
                case 'f' -> itemSize == 4 ? data.getFloat(at) : data.getDouble(at);
                case 'b' -> data.get(at) != 0 ? 1 : 0;
                case 'u' -> switch (itemSize) {
                    case 1 -> data.get(at) & 0xFF;
                    case 2 -> data.getShort(at) & 0xFFFF;
                    case 4 -> data.getInt(at) & 0xFFFFFFFFL;
                    default -> { long v = data.getLong(at); yield v >= 0 ? v : v + 0x1p64; }
                };
                default -> switch (itemSize) {
                    case 1 -> data.get(at);
                    case 2 -> data.getShort(at);
                    case 4 -> data.getInt(at);
                    default -> data.getLong(at);
                };
            };
        }

        /** "[e, i1, i2]": example e, feature f unravelled over shape[1:] in C order. */
        String index(int e, int f) {
            StringBuilder b = new StringBuilder();
            int rest = f;
            for (int k = shape.length - 1; k >= 1; k--) {
                b.insert(0, ", " + rest % shape[k]);
                rest /= shape[k];
            }
            return "[" + e + b + "]";
        }

        /** The array as examples: shape[0] of them, each the rest of the array flattened in C order. */
        public Table features() {
            InvalidInputException.require(shape.length >= 1, "%s: a 0-d array (one number); expected shape (N, ...) with N examples", name);
            int n = shape[0], dim = 1;
            for (int k = 1; k < shape.length; k++) dim *= shape[k]; // size() <= MAX_ELEMENTS: no overflow
            InvalidInputException.require(n > 0, "%s: no examples (shape %s)", name, shapeText(shape));
            InvalidInputException.require(dim > 0, "%s: shape %s has no features per example", name, shapeText(shape));
            float[] x = new float[n * dim];
            boolean bytes = kind == 'u' && itemSize == 1; // images: 0..255 -> [0, 1], as MNIST's
            if (!fortran) {
                for (int i = 0; i < x.length; i++) x[i] = bytes ? (data.get(i) & 0xFF) / 255f : (float) get(i);
            } else {
                // memory offset of (e, i1, .., ik) is e + n*(i1 + d1*(i2 + ...)): walk the features in C order, carrying the offset
                int[] idx = new int[shape.length];
                long[] stride = new long[shape.length];
                stride[0] = 1;
                for (int k = 1; k < shape.length; k++) stride[k] = stride[k - 1] * shape[k - 1];
                long off = 0;
                for (int f = 0; f < dim; f++) {
                    for (int e = 0; e < n; e++) {
                        double v = get(off + e);
                        x[e * dim + f] = bytes ? ((int) v) / 255f : (float) v;
                    }
                    for (int k = shape.length - 1; k >= 1; k--) { // next feature: the last index fastest
                        off += stride[k];
                        if (++idx[k] < shape[k]) break;
                        off -= stride[k] * shape[k];
                        idx[k] = 0;
                    }
                }
            }
            return new Table(name, x, dim, n, null, (e, f) -> name + index(e, f) + " (0-based)", null);
        }

        /** The array as labels: shape (N) or (N, 1), integers (or floats holding integers) in 0..C-1. */
        public int[] labels() {
            InvalidInputException.require(shape.length == 1 || (shape.length == 2 && shape[1] == 1),
                    "%s: labels must have shape (N,) or (N, 1), got %s", name, shapeText(shape));
            int[] y = new int[shape[0]];
            for (int i = 0; i < y.length; i++) {
                int k = i;
                y[i] = ClassLabels.of(get(i), name, () -> labelAt(k));
            }
            return y;
        }

        String labelAt(int i) {
            return name + (shape.length == 1 ? "[" + i + "]" : "[" + i + ", 0]") + " (0-based)";
        }
    }

    static String shapeText(int[] shape) {
        return io.jvae.io.NpyWriter.shapeText(shape);
    }

    /** Parses a whole .npy file; name is used in messages. */
    public static Array parse(byte[] all, String name) {
        InvalidInputException.require(is(all), "%s: not an .npy file (no \\x93NUMPY magic)", name);
        InvalidInputException.require(all.length >= 10, "%s: %d bytes is too short for an .npy header", name, all.length);
        int major = all[6] & 0xFF, minor = all[7] & 0xFF;
        InvalidInputException.require(minor == 0 && major >= 1 && major <= 3, "%s: .npy format version %d.%d is not supported (1.0, 2.0, 3.0)", name, major, minor);
        int start = major == 1 ? 10 : 12;
        InvalidInputException.require(all.length >= start, "%s: %d bytes is too short for an .npy %d.0 header", name, all.length, major);
        long hlen = major == 1 ? (all[8] & 0xFF) | (all[9] & 0xFF) << 8
                : (all[8] & 0xFFL) | (all[9] & 0xFFL) << 8 | (all[10] & 0xFFL) << 16 | (all[11] & 0xFFL) << 24;
        if (start + hlen > all.length)
            throw new InvalidInputException(name + ": truncated .npy header (" + hlen + " bytes announced, " + (all.length - start) + " in the file)");
        String text = new String(all, start, (int) hlen, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Map<String, Object> h = new Header(text, name).dict();
        if (!(h.get("descr") instanceof String descr))
            throw new InvalidInputException(name + ": .npy header: " + (h.get("descr") == null ? "no 'descr'" : "'descr' is not a dtype string"));
        if (!(h.get("fortran_order") instanceof Boolean fortran))
            throw new InvalidInputException(name + ": .npy header: " + (h.get("fortran_order") == null ? "no 'fortran_order'" : "'fortran_order' must be True or False"));
        if (!(h.get("shape") instanceof List<?> dims))
            throw new InvalidInputException(name + ": .npy header: " + (h.get("shape") == null ? "no 'shape'" : "'shape' must be a tuple"));
        int[] shape = new int[dims.size()];
        long count = 1;
        for (int k = 0; k < shape.length; k++) {
            long d = (Long) dims.get(k);
            if (d > Integer.MAX_VALUE) throw new InvalidInputException(name + ": .npy shape dimension " + k + " is " + d + ", more than jvae's limit for one array");
            shape[k] = (int) d;
            count *= d; // count <= MAX_ELEMENTS before, d < 2^31: no overflow
            if (count > MAX_ELEMENTS) throw new InvalidInputException(name + ": .npy shape " + dims + " has more than " + MAX_ELEMENTS + " elements, jvae's limit for one array");
        }
        Type t = type(descr, name);
        long need = count * t.size, have = all.length - start - hlen;
        if (have < need) throw new InvalidInputException(name + ": truncated, " + have + " data bytes of " + need + " announced by shape " + shapeText(shape) + " and dtype '" + descr + "'");
        if (have > need) throw new InvalidInputException(name + ": " + (have - need) + " bytes after the " + need + " announced by shape " + shapeText(shape) + " and dtype '" + descr + "'");
        return new Array(name, descr, t.kind, t.size, t.bigEndian, shape, fortran, all, (int) (start + hlen), (int) need);
    }

    record Type(char kind, int size, boolean bigEndian) {}

    /** A dtype string: byte order (<, >, | for one byte), kind and size. */
    static Type type(String descr, String name) {
        String d = descr.length() > 20 ? descr.substring(0, 20) + "..." : descr;
        if (descr.length() >= 2 && descr.length() <= 3) {
            char order = descr.length() == 3 ? descr.charAt(0) : '|', kind = descr.charAt(descr.length() - 2);
            int size = descr.charAt(descr.length() - 1) - '0';
            boolean known = switch (kind) {
                case 'b' -> size == 1;
                case 'i', 'u' -> size == 1 || size == 2 || size == 4 || size == 8;
                case 'f' -> size == 4 || size == 8;
                default -> false;
            };
            if (known && (order == '<' || order == '>' || (order == '|' && size == 1)))
                return new Type(kind, size, order == '>');
            if (known && order == '=')
                throw new InvalidInputException(name + ": dtype '" + d + "' has native byte order ('='), which a file cannot have: expected '<' or '>'");
            if (kind == 'f' && size == 2)
                throw new InvalidInputException(name + ": dtype '" + d + "' (float16) is not supported: save x.astype('float32')");
        }
        throw new InvalidInputException(name + ": dtype '" + d + "' is not supported (booleans, integers, '<f4', '<f8', either byte order): save x.astype('float32')");
    }

    /** The header dict: string keys; values strings, True/False, integers or tuples of integers (as List of Long). */
    private static final class Header {
        final String s, name;
        int p;

        Header(String s, String name) {
            this.s = s;
            this.name = name;
        }

        InvalidInputException fail(String what) {
            return new InvalidInputException(String.format(Locale.ROOT, "%s: .npy header: %s at character %d", name, what, p));
        }

        void ws() {
            while (p < s.length() && (s.charAt(p) == ' ' || s.charAt(p) == '\n' || s.charAt(p) == '\t' || s.charAt(p) == '\r')) p++;
        }

        boolean at(char c) {
            return p < s.length() && s.charAt(p) == c;
        }

        void expect(char c) {
            if (!at(c)) throw fail("expected '" + c + "'");
            p++;
        }

        Map<String, Object> dict() {
            ws();
            expect('{');
            Map<String, Object> m = new LinkedHashMap<>();
            ws();
            while (!at('}')) {
                String k = string();
                ws();
                expect(':');
                ws();
                if (m.put(k, value()) != null) throw fail("key '" + k + "' twice");
                ws();
                if (at(',')) {
                    p++;
                    ws();
                } else if (!at('}')) throw fail("expected ',' or '}'");
            }
            p++;
            ws();
            if (p != s.length()) throw fail("characters after the dict");
            return m;
        }

        Object value() {
            if (at('\'') || at('"')) return string();
            if (at('(')) return tuple();
            if (at('[')) throw fail("a structured dtype (a list of fields) is not supported");
            if (s.startsWith("True", p)) {
                p += 4;
                return Boolean.TRUE;
            }
            if (s.startsWith("False", p)) {
                p += 5;
                return Boolean.FALSE;
            }
            if (digit()) return integer();
            throw fail("unexpected value");
        }

        String string() {
            if (!at('\'') && !at('"')) throw fail("expected a quoted key");
            char q = s.charAt(p++);
            StringBuilder b = new StringBuilder();
            while (p < s.length() && s.charAt(p) != q) {
                if (s.charAt(p) == '\\' && p + 1 < s.length()) p++;
                b.append(s.charAt(p++));
            }
            if (p >= s.length()) throw fail("unterminated string");
            p++;
            return b.toString();
        }

        List<Long> tuple() {
            expect('(');
            List<Long> out = new ArrayList<>();
            ws();
            while (!at(')')) {
                if (!digit()) throw fail("expected a dimension (a non-negative integer)");
                out.add(integer());
                ws();
                if (at(',')) {
                    p++;
                    ws();
                } else if (!at(')')) throw fail("expected ',' or ')'");
            }
            p++;
            return out;
        }

        boolean digit() {
            return p < s.length() && s.charAt(p) >= '0' && s.charAt(p) <= '9';
        }

        long integer() {
            int start = p;
            while (p < s.length() && s.charAt(p) >= '0' && s.charAt(p) <= '9') p++;
            if (p - start > 18) {
                String digits = s.substring(start, Math.min(p, start + 20));
                p = start;
                throw fail("integer " + digits + "... is too large");
            }
            long v = Long.parseLong(s.substring(start, p)); // 1 to 18 ASCII digits
            if (at('L')) p++; // Python 2's long suffix, in files from old numpy
            return v;
        }
    }
}

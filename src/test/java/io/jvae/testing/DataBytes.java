package io.jvae.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Data files written byte by byte by the tests, independently of the readers: .npy (numpy's
 * format.py layout, any version and header), .npz (java.util.zip, stored or deflated), IDX.
 */
public final class DataBytes {
    private DataBytes() {}

    /** An .npy file: magic, version major.0, the header dict padded to 64 bytes with a newline, then data. */
    public static byte[] npy(int major, String dict, byte[] data) {
        byte[] d = dict.getBytes(major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        int pre = major == 1 ? 10 : 12;
        int total = (pre + d.length + 1 + 63) / 64 * 64, hlen = total - pre;
        ByteBuffer b = ByteBuffer.allocate(total + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) major).put((byte) 0);
        if (major == 1) b.putShort((short) hlen);
        else b.putInt(hlen);
        b.put(d);
        for (int i = d.length; i < hlen - 1; i++) b.put((byte) ' ');
        b.put((byte) '\n');
        b.put(data);
        return b.array();
    }

    /** The dict numpy writes: {'descr': ..., 'fortran_order': ..., 'shape': (...), }. */
    public static String dict(String descr, boolean fortran, int... shape) {
        StringBuilder s = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) s.append(i == 0 ? "" : ", ").append(shape[i]);
        s.append(shape.length == 1 ? ",)" : ")");
        return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + s + ", }";
    }

    /** float32 values in the given byte order. */
    public static byte[] f4(ByteOrder order, float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(order);
        for (float x : v) b.putFloat(x);
        return b.array();
    }

    public static byte[] f8(ByteOrder order, double... v) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(order);
        for (double x : v) b.putDouble(x);
        return b.array();
    }

    public static byte[] i8(ByteOrder order, long... v) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(order);
        for (long x : v) b.putLong(x);
        return b.array();
    }

    /** A float32 C-order .npy of shape (n, d) (version 1.0). */
    public static byte[] npyF4(float[] x, int n, int d) {
        return npy(1, dict("<f4", false, n, d), f4(ByteOrder.LITTLE_ENDIAN, x));
    }

    /** A zip of named members (name -> bytes, in order), each stored or deflated. */
    public static byte[] zip(Map<String, byte[]> members, boolean deflate) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(o)) {
            for (Map.Entry<String, byte[]> e : members.entrySet()) {
                ZipEntry en = new ZipEntry(e.getKey());
                if (!deflate) {
                    en.setMethod(ZipEntry.STORED);
                    en.setSize(e.getValue().length);
                    en.setCompressedSize(e.getValue().length);
                    CRC32 c = new CRC32();
                    c.update(e.getValue());
                    en.setCrc(c.getValue());
                }
                z.putNextEntry(en);
                z.write(e.getValue());
                z.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return o.toByteArray();
    }

    /** An IDX file of the given type byte, dims (big-endian int32) and raw big-endian data. */
    public static byte[] idx(int type, int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length); // big-endian, as IDX
        b.put((byte) 0).put((byte) 0).put((byte) type).put((byte) dims.length);
        for (int d : dims) b.putInt(d);
        b.put(data);
        return b.array();
    }
}

package io.jvae.data;

import io.jvae.InvalidInputException;
import org.junit.jupiter.api.Test;

import java.nio.ByteOrder;

import static io.jvae.testing.DataBytes.dict;
import static io.jvae.testing.DataBytes.f4;
import static io.jvae.testing.DataBytes.f8;
import static io.jvae.testing.DataBytes.i8;
import static io.jvae.testing.DataBytes.npy;
import static java.nio.ByteOrder.BIG_ENDIAN;
import static java.nio.ByteOrder.LITTLE_ENDIAN;
import static org.junit.jupiter.api.Assertions.*;

/** .npy files written here byte by byte (numpy's layout), read back exactly; every refusal one line. */
class NpyTest {
    // float32 edge values: a denormal, the largest finite, a negative zero, a non-dyadic fraction
    static final float[] V = {0f, 1.5f, -2.25f, 3.4028235e38f, 1.4e-45f, -0f, 0.1f, 7f};

    static Table read(byte[] b) {
        return Npy.parse(b, "t.npy").features();
    }

    static String fails(byte[] b) {
        String m = assertThrows(InvalidInputException.class, () -> read(b)).getMessage();
        assertFalse(m.contains("\n"), m);
        return m;
    }

    @Test
    void everyVersionAndByteOrderOfFloatsRoundTripsExactly() {
        for (int major = 1; major <= 3; major++)
            for (ByteOrder order : new ByteOrder[] {LITTLE_ENDIAN, BIG_ENDIAN}) {
                String o = order == LITTLE_ENDIAN ? "<" : ">";
                Table t = read(npy(major, dict(o + "f4", false, 4, 2), f4(order, V)));
                assertEquals(4, t.n());
                assertEquals(2, t.dim());
                assertArrayEquals(V, t.x(), "v" + major + " " + o + "f4"); // exact: the bits as written
                double[] d = new double[V.length];
                float[] asFloat = new float[V.length];
                for (int i = 0; i < d.length; i++) {
                    d[i] = V[i] + 1e-12 * i; // not representable in float32: rounded to nearest once
                    asFloat[i] = (float) d[i];
                }
                assertArrayEquals(asFloat, read(npy(major, dict(o + "f8", false, 4, 2), f8(order, d))).x(), "v" + major + " " + o + "f8");
            }
    }

    @Test
    void bytesAreScaledIntegersAndBooleansKept() {
        byte[] u = new byte[256];
        float[] want = new float[256];
        for (int i = 0; i < 256; i++) {
            u[i] = (byte) i;
            want[i] = i / 255f; // what Dataset.fromIdx gives MNIST's bytes
        }
        assertArrayEquals(want, read(npy(1, dict("|u1", false, 64, 4), u)).x());
        assertArrayEquals(new float[] {-5, 7, 1L << 40, 0}, read(npy(1, dict("<i8", false, 2, 2), i8(LITTLE_ENDIAN, -5, 7, 1L << 40, 0))).x());
        assertArrayEquals(new float[] {-5, 7}, read(npy(1, dict(">i8", false, 2), i8(BIG_ENDIAN, -5, 7))).x());
        assertArrayEquals(new float[] {1, 0, 1}, read(npy(1, dict("|b1", false, 3, 1), new byte[] {1, 0, 1})).x());
        assertArrayEquals(new float[] {65535, 1}, read(npy(1, dict("<u2", false, 2, 1), new byte[] {-1, -1, 1, 0})).x());
        Table oneD = read(npy(1, dict("<f4", false, 3), f4(LITTLE_ENDIAN, 1, 2, 3)));
        assertEquals(1, oneD.dim(), "shape (N,): N examples of one feature");
        assertEquals(3, oneD.n());
    }

    @Test
    void fortranOrderGivesTheSameExamplesAsCOrder() {
        int n = 3, a = 2, b = 4; // a[i][j][k] = 100 i + 10 j + k, shape (3, 2, 4)
        float[] c = new float[n * a * b], f = new float[n * a * b];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < a; j++)
                for (int k = 0; k < b; k++) {
                    c[(i * a + j) * b + k] = 100 * i + 10 * j + k; // C: the last index fastest
                    f[i + n * (j + a * k)] = 100 * i + 10 * j + k; // Fortran: the first index fastest
                }
        Table tc = read(npy(1, dict("<f4", false, n, a, b), f4(LITTLE_ENDIAN, c)));
        Table tf = read(npy(1, dict("<f4", true, n, a, b), f4(LITTLE_ENDIAN, f)));
        assertArrayEquals(c, tc.x(), "C order: the file's order is already example-major");
        assertArrayEquals(c, tf.x(), "Fortran order: example e is x[e].reshape(-1) in C order, as numpy's x.reshape(N, -1)");
        assertEquals(8, tf.dim());
        assertEquals("t.npy[2, 1, 3] (0-based)", tf.at().at(2, 7));
        // 2-D, unsigned bytes: the same pixels either way
        byte[] cu = {0, 1, 2, 3, 4, 5}, fu = {0, 3, 1, 4, 2, 5}; // shape (2, 3)
        assertArrayEquals(read(npy(1, dict("|u1", false, 2, 3), cu)).x(), read(npy(1, dict("|u1", true, 2, 3), fu)).x());
    }

    @Test
    void headerVariantsThatNumpyWrites() {
        // no spaces, double quotes, Python 2 long suffixes, keys in another order: all numpy-readable
        byte[] data = f4(LITTLE_ENDIAN, 1, 2);
        assertArrayEquals(new float[] {1, 2}, read(npy(1, "{\"shape\":(1L,2L),\"fortran_order\":False,\"descr\":\"<f4\"}", data)).x());
        assertArrayEquals(new float[] {1, 2}, read(npy(3, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1)}", data)).x());
    }

    @Test
    void labelsAreIntegersFromZero() {
        assertArrayEquals(new int[] {0, 3, 1}, Npy.parse(npy(1, dict("<i8", false, 3), i8(LITTLE_ENDIAN, 0, 3, 1)), "y.npy").labels());
        assertArrayEquals(new int[] {2, 0}, Npy.parse(npy(1, dict("<f4", false, 2, 1), f4(LITTLE_ENDIAN, 2, 0)), "y.npy").labels());
        assertEquals("y.npy: label 2.5 at y.npy[1] (0-based) is not an integer (labels are class numbers 0..C-1)",
                assertThrows(InvalidInputException.class, () -> Npy.parse(npy(1, dict("<f8", false, 2), f8(LITTLE_ENDIAN, 1, 2.5)), "y.npy").labels()).getMessage());
        assertEquals("y.npy: label -1 at y.npy[1, 0] (0-based) is negative (labels are class numbers 0..C-1)",
                assertThrows(InvalidInputException.class, () -> Npy.parse(npy(1, dict("<i8", false, 2, 1), i8(LITTLE_ENDIAN, 0, -1)), "y.npy").labels()).getMessage());
        assertEquals("y.npy: labels must have shape (N,) or (N, 1), got (1, 2)",
                assertThrows(InvalidInputException.class, () -> Npy.parse(npy(1, dict("<i8", false, 1, 2), i8(LITTLE_ENDIAN, 0, 1)), "y.npy").labels()).getMessage());
    }

    @Test
    void badFilesGiveOneLine() {
        byte[] ok = npy(1, dict("<f4", false, 2, 2), f4(LITTLE_ENDIAN, 1, 2, 3, 4));
        byte[] magic = ok.clone();
        magic[1] = 'X';
        assertEquals("t.npy: not an .npy file (no \\x93NUMPY magic)", fails(magic));
        byte[] v4 = ok.clone();
        v4[6] = 4;
        assertEquals("t.npy: .npy format version 4.0 is not supported (1.0, 2.0, 3.0)", fails(v4));
        assertEquals("t.npy: truncated .npy header (118 bytes announced, 20 in the file)", fails(java.util.Arrays.copyOf(ok, 30)));
        assertEquals("t.npy: truncated, 15 data bytes of 16 announced by shape (2, 2) and dtype '<f4'", fails(java.util.Arrays.copyOf(ok, ok.length - 1)));
        assertEquals("t.npy: 1 bytes after the 16 announced by shape (2, 2) and dtype '<f4'", fails(java.util.Arrays.copyOf(ok, ok.length + 1)));
        assertEquals("t.npy: dtype '<c8' is not supported (booleans, integers, '<f4', '<f8', either byte order): save x.astype('float32')",
                fails(npy(1, dict("<c8", false, 2), new byte[16])));
        assertEquals("t.npy: dtype '<f2' (float16) is not supported: save x.astype('float32')", fails(npy(1, dict("<f2", false, 2), new byte[4])));
        assertEquals("t.npy: .npy header: a structured dtype (a list of fields) is not supported at character 10",
                fails(npy(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", new byte[8])));
        assertEquals("t.npy: .npy header: no 'shape'", fails(npy(1, "{'descr': '<f4', 'fortran_order': False}", new byte[0])));
        assertEquals("t.npy: .npy header: expected ',' or '}' at character 16", fails(npy(1, "{'descr': '<f4' 'x'}", new byte[0])));
        assertEquals("t.npy: no examples (shape (0, 3))", fails(npy(1, dict("<f4", false, 0, 3), new byte[0])));
        assertEquals("t.npy: shape (2, 0) has no features per example", fails(npy(1, dict("<f4", false, 2, 0), new byte[0])));
        assertEquals("t.npy: a 0-d array (one number); expected shape (N, ...) with N examples", fails(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': ()}", new byte[4])));
    }

    @Test
    void hostileShapesFailBeforeAnyAllocation() {
        // a 128-byte file announcing 2^60 and 2^30 elements: refused from the header, nothing allocated for them
        assertEquals("t.npy: .npy shape [1073741824, 1073741824] has more than 2147483639 elements, jvae's limit for one array",
                fails(npy(1, dict("<f4", false, 1 << 30, 1 << 30), new byte[0])));
        assertEquals("t.npy: truncated, 0 data bytes of 4294967296 announced by shape (1024, 1024, 1024) and dtype '<f4'",
                fails(npy(1, dict("<f4", false, 1024, 1024, 1024), new byte[0])));
        assertEquals("t.npy: .npy shape dimension 0 is 99999999999, more than jvae's limit for one array",
                fails(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999,)}", new byte[0])));
        assertEquals("t.npy: .npy header: integer 99999999999999999999... is too large at character 51",
                fails(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (9999999999999999999999,)}", new byte[0])));
        byte[] hugeHeader = npy(2, dict("<f4", false, 1), f4(LITTLE_ENDIAN, 1));
        hugeHeader[11] = 0x7f; // header length ~2^31 in a 64-byte file
        assertTrue(fails(hugeHeader).startsWith("t.npy: truncated .npy header ("), fails(hugeHeader));
    }
}

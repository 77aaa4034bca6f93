package io.jvae.io;

import io.jvae.InvalidInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

public class SafetensorsTest {
    @TempDir
    Path dir;

    @Test
    void theMetadataAloneReadsAsTheWholeFileDoesAndItsErrorsAreOneLine() throws Exception {
        Path p = dir.resolve("meta.safetensors");
        Safetensors.write(p, Map.of("w", new Safetensors.Entry(new long[] {3}, new float[] {1, 2, 3})), Map.of("jvae.model", "{}", "k", "v"));
        assertEquals(Safetensors.read(p).metadata(), Safetensors.readMetadata(p));
        Path bad = dir.resolve("bad.safetensors"), shortFile = dir.resolve("short.safetensors");
        Files.write(bad, file("{\"__metadata__\":{\"x\":1}}", 0));
        Files.write(shortFile, new byte[5]);
        for (Path q : new Path[] {bad, shortFile, dir.resolve("none.safetensors")}) {
            String m = assertThrows(InvalidInputException.class, () -> Safetensors.readMetadata(q)).getMessage();
            assertTrue(m.startsWith(q.toString()) && !m.contains("\n"), m);
        }
    }

    @Test
    void roundTripKeepsNamesShapesBitsAndMetadata() throws Exception {
        Map<String, Safetensors.Entry> t = new LinkedHashMap<>();
        t.put("a.weight", new Safetensors.Entry(new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, Float.MIN_VALUE}));
        t.put("a.bias", new Safetensors.Entry(new long[] {2}, new float[] {-0f, 7.5f}));
        Path p = dir.resolve("m.safetensors");
        Safetensors.write(p, t, Map.of("k", "v \"quoted\""));
        byte[] all = Files.readAllBytes(p);
        long n = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, (8 + n) % 8, "header padded to 8 bytes");
        Safetensors.File f = Safetensors.read(p);
        assertEquals("v \"quoted\"", f.metadata().get("k"));
        assertArrayEquals(new long[] {2, 3}, f.tensors().get("a.weight").shape());
        assertArrayEquals(t.get("a.weight").data(), f.tensors().get("a.weight").data());
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(f.tensors().get("a.bias").data()[0]));
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count(), "no temp file left behind");
        }
    }

    public static byte[] file(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        return b.array();
    }

    static String fails(byte[] b) {
        String m = assertThrows(InvalidInputException.class, () -> Safetensors.parse(b, "f")).getMessage();
        assertFalse(m.contains("\n"), m);
        return m;
    }

    @Test
    void rejectsBadFiles() {
        assertTrue(fails(new byte[5]).contains("too short"));
        byte[] big = file("{}", 0);
        big[0] = 100;
        assertTrue(fails(big).contains("header length"));
        assertTrue(fails(file("{not json", 0)).contains("bad safetensors header"));
        assertTrue(fails(file("{\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4)).contains("dtype F16"));
        assertTrue(fails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,16]}}", 8)).contains("outside"));
        assertTrue(fails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8)).contains("bytes for shape"));
        assertTrue(fails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,8]}}", 8)).contains("bad shape"));
        assertTrue(fails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8)).contains("overlap"));
        // the tensors must tile the data section: a gap, bytes before the first or after the last are refused
        assertEquals("f: 4 bytes at data offset 4 belong to no tensor", fails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12)));
        assertEquals("f: 4 bytes at data offset 0 belong to no tensor", fails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8)));
        assertEquals("f: 4 bytes after the last tensor belong to no tensor", fails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8)));
        assertEquals("f: 8 bytes after the last tensor belong to no tensor", fails(file("{}", 8)));
        assertTrue(fails(file("{\"__metadata__\":{\"x\":1}}", 0)).contains("not a string"));
        assertTrue(fails(file("[1,2]", 0)).contains("object"));
    }

    /** The JSON rules inside a header: each a one-line message that names the file. */
    @Test
    void rejectsBadHeaderJson() {
        String w = "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}";
        String[] bad = {
            "{\"w\":" + w + ",\"w\":" + w + "}",                                     // a tensor named twice
            "{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}}",                               // a metadata key twice
            "{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", // a field twice
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}",
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[NaN],\"data_offsets\":[0,4]}}",
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,Infinity]}}",
            "{\"w\":" + "[".repeat(50_000),
            "{\"w\":" + w + "} {}",
        };
        for (String h : bad) {
            String m = fails(file(h, 4));
            assertTrue(m.startsWith("f: bad safetensors header, JSON: "), m);
        }
        assertTrue(fails(file(bad[0], 4)).contains("'w'"));
        // padding spaces after the object are fine
        assertEquals(1, Safetensors.parse(file("{\"w\":" + w + "}      ", 4), "f").tensors().size());
    }

    /**
     * Shapes whose element count lands just under or just over 2^31 (jvae's tensor limit is
     * 2^31-1 elements), 2^63 and 2^64, each with the data bytes a wrapped 64-bit product would
     * match: all are one-line InvalidInputExceptions naming the tensor and its shape, never an
     * IllegalArgumentException or a negative byte count. Shared with CliTest.
     */
    public static final String[][] OVERFLOWING_SHAPES = {
        // shape, data bytes
        {"[2147483647]", "8"},                  // 2^31-1 elements: allowed count, but 8 GiB the file does not hold
        {"[2147483648]", "8"},                  // 2^31
        {"[2, 1073741825]", "8"},               // 2^31+2
        {"[7, 1317624576693539401]", "4"},      // 2^63-1
        {"[2, 4611686018427387904]", "0"},      // 2^63: the signed product is Long.MIN_VALUE, 4x that wraps to 0 bytes
        {"[3, 3074457345618258603]", "4"},      // 2^63+1: wraps to 4 bytes
        {"[2, 5, 922337203685477581]", "8"},    // 2^63+2, the example: wraps to 8 bytes
        {"[3, 6148914691236517205]", "4"},      // 2^64-1: the signed product is -1
        {"[4, 4611686018427387904]", "0"},      // 2^64
        {"[3, 6148914691236517206]", "8"},      // 2^64+2
    };

    /** A one-tensor file 'w' with the given shape and data bytes (offsets [0, bytes]). */
    public static byte[] overflowFile(String shape, int bytes) {
        return file("{\"w\":{\"dtype\":\"F32\",\"shape\":" + shape + ",\"data_offsets\":[0," + bytes + "]}}", bytes);
    }

    @Test
    void shapesWhoseSizeOverflowsAreRefusedNamingTensorAndShape() {
        for (String[] c : OVERFLOWING_SHAPES) {
            String shape = c[0];
            String m;
            try {
                m = fails(overflowFile(shape, Integer.parseInt(c[1])));
            } catch (Throwable t) {
                throw new AssertionError(shape + ": " + t, t);
            }
            assertTrue(m.contains("'w'") && m.contains(shape), shape + ": " + m);
            assertFalse(m.matches(".*-\\d.*"), shape + ": a negative number in " + m);
        }
        // a zero dimension makes any shape empty: fine
        Safetensors.File ok = Safetensors.parse(overflowFile("[0, 4611686018427387904, 4]", 0), "f");
        assertEquals(0, ok.tensors().get("w").data().length);
    }

    @Test
    void entryRefusesAShapeWhoseProductWrapsToTheDataLength() {
        // 3 * 6148914691236517206 = 2^64 + 2, which wraps to 2
        assertThrows(IllegalArgumentException.class, () -> new Safetensors.Entry(new long[] {3, 6148914691236517206L}, new float[2]));
    }
}

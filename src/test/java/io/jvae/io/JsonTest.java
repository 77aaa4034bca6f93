package io.jvae.io;

import io.jvae.InvalidInputException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class JsonTest {
    @Test
    void roundTrip() {
        String s = "{\"a\":[1,2.5,-3e2,true,false,null],\"b\":\"x\\n\\\"y\\u0041\",\"c\":{}}";
        Map<String, Object> m = Json.parseObject(s);
        assertEquals(List.of(1L, 2.5, -300.0, true, false), ((List<?>) m.get("a")).subList(0, 5));
        assertEquals("x\n\"yA", m.get("b"));
        assertEquals(m, Json.parseObject(Json.write(m)));
    }

    @Test
    void errors() {
        for (String bad : new String[] {"{", "{\"a\":}", "{\"a\":1,\"a\":2}", "[1,]x", "\"abc", "{\"a\" 1}", "tru"})
            assertThrows(InvalidInputException.class, () -> Json.parse(bad), bad);
        String deep = "[".repeat(100) + "]".repeat(100);
        assertThrows(InvalidInputException.class, () -> Json.parse(deep));
    }

    @Test
    void refusedCleanlyWithOneLineMessages() {
        String[] bad = {"", " ", "{} x", "{}{}", "1 2", "{\"a\":1,\"b\":{\"c\":1,\"c\":2}}",
                "123456789012345678901234567890", "[-9223372036854775809]", "NaN", "-Infinity", "Infinity", "[1e999]", "-1e400",
                "\"a\u0001b\"", "{\n\"a\":\ntru}", "01", "1.", "-", "[".repeat(100_000), "{\"a\":".repeat(100_000),
                "{\"a\":[" + "{\"b\":[".repeat(40) + "]}".repeat(40) + "]}", "{\"x\":\"\\q\"}"};
        for (String b : bad) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> Json.parse(b), b.length() > 40 ? b.substring(0, 40) : b);
            assertTrue(e.getMessage().startsWith("JSON: "), e.getMessage());
            assertFalse(e.getMessage().contains("\n") || e.getMessage().contains("\r"), e.getMessage());
            assertFalse(e.getMessage().contains("Source:"), e.getMessage());
        }
        assertTrue(assertThrows(InvalidInputException.class, () -> Json.parse("{\"a\":1,\"a\":2}")).getMessage().contains("'a'"));
        assertTrue(assertThrows(InvalidInputException.class, () -> Json.parse("{\n\"a\":\ntru}")).getMessage().contains("line 3"));
        assertEquals(List.of(Long.MIN_VALUE, Long.MAX_VALUE, 0L), Json.parse("[-9223372036854775808,9223372036854775807,-0]"));
        Object deepest = Json.parse("[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH));
        assertInstanceOf(List.class, deepest);
    }

    @Test
    void writesCompactInOrderWithFullPrecision() {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("z", 1);
        m.put("a", 0.1 + 0.2);
        m.put("f", 1e-3f);
        m.put("e", 1e-4);
        m.put("nan", Double.NaN);
        m.put("inf", Float.NEGATIVE_INFINITY);
        m.put("none", null);
        m.put("flag", true);
        m.put("shape", new long[] {3, 4});
        m.put("dims", new int[] {5});
        m.put("s", "q\"\\\n\u00e9");
        m.put("k", java.util.concurrent.TimeUnit.SECONDS);
        assertEquals("{\"z\":1,\"a\":0.30000000000000004,\"f\":0.001,\"e\":1.0E-4,\"nan\":null,\"inf\":null,\"none\":null,"
                + "\"flag\":true,\"shape\":[3,4],\"dims\":[5],\"s\":\"q\\\"\\\\\\n\u00e9\",\"k\":\"SECONDS\"}", Json.write(m));
        java.util.Random r = new java.util.Random(7);
        for (int k = 0; k < 10_000; k++) {
            double d = Double.longBitsToDouble(r.nextLong());
            if (!Double.isFinite(d)) continue;
            assertEquals(d, Json.parse(Json.write(List.of(d))) instanceof List<?> l ? l.get(0) : null);
            assertEquals("[" + d + "]", Json.write(List.of(d)));
        }
    }
}

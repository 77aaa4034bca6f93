package io.jvae.io;

import io.jvae.InvalidInputException;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.jr.ob.JSON;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON through jackson-jr, with the project's rules on top. Parsing gives objects (LinkedHashMap,
 * kept in order), arrays (List), strings, numbers (Long for integers, Double otherwise), booleans
 * and null. Every bad input is one {@link InvalidInputException} with a one-line message naming the
 * line and column: syntax errors, trailing content, duplicate keys, nesting deeper than
 * {@value #MAX_DEPTH}, integers beyond 64 bits, numbers that overflow a double, NaN/Infinity
 * tokens. Writing is compact ({@code {"key":value}} without spaces), keeps map order, writes doubles
 * and floats as {@link Double#toString}/{@link Float#toString} (full precision) and non-finite ones
 * as null.
 */
public final class Json {
    private Json() {}

    static final int MAX_DEPTH = 64;

    private static final JSON JR = JSON.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).build())
                    .build())
            .enable(JSON.Feature.FAIL_ON_DUPLICATE_MAP_KEYS, JSON.Feature.WRITE_NULL_PROPERTIES)
            .disable(JSON.Feature.USE_DEFERRED_MAPS) // plain LinkedHashMaps
            .build();

    public static Object parse(String text) {
        try (JsonParser p = JR.createParser(text)) {
            Object v = JR.anyFrom(p);
            if (p.nextToken() != null) throw new InvalidInputException("JSON: trailing characters" + at(p.currentTokenLocation()));
            return normalize(v);
        } catch (JacksonException e) {
            throw new InvalidInputException("JSON: " + oneLine(e.getOriginalMessage()) + at(e.getLocation()));
        }
    }

    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(String text) {
        Object v = parse(text);
        if (!(v instanceof Map)) throw new InvalidInputException("JSON: expected an object at the top level");
        return (Map<String, Object>) v;
    }

    private static String at(TokenStreamLocation loc) {
        return loc == null || loc.getLineNr() < 1 ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
    }

    /** Jackson's message without its "[Source: ...]" parts, on one line. */
    private static String oneLine(String msg) {
        if (msg == null) return "malformed";
        String s = msg.replaceAll(" ?\\(start marker at \\[Source:[^\\]]*\\]\\)", "").replaceAll(" ?at \\[Source:[^\\]]*\\]", "");
        return s.replaceAll("\\p{Cntrl}+", " ").strip();
    }

    /** Integers to Long (refusing those beyond 64 bits), non-finite doubles refused. Depth <= MAX_DEPTH. */
    @SuppressWarnings("unchecked")
    private static Object normalize(Object v) {
        if (v instanceof Integer x) return (long) x;
        if (v instanceof Short || v instanceof Byte) return ((Number) v).longValue();
        if (v instanceof BigInteger b) throw new InvalidInputException("JSON: integer " + abbrev(b.toString()) + " does not fit in 64 bits");
        if (v instanceof BigDecimal d) v = d.doubleValue();
        if (v instanceof Float f) v = (double) f;
        if (v instanceof Double d) {
            if (!Double.isFinite(d)) throw new InvalidInputException("JSON: number out of a double's range");
            return d;
        }
        if (v instanceof Map<?, ?> m) {
            for (Map.Entry<String, Object> e : ((Map<String, Object>) m).entrySet()) e.setValue(normalize(e.getValue()));
        } else if (v instanceof List<?> l) {
            List<Object> list = (List<Object>) l;
            for (int k = 0; k < list.size(); k++) list.set(k, normalize(list.get(k)));
        }
        return v;
    }

    private static String abbrev(String s) {
        return s.length() <= 40 ? s : s.substring(0, 20) + "..." + s.substring(s.length() - 10);
    }

    // ---- writing ----

    public static String write(Object v) {
        try {
            return JR.asString(plain(v));
        } catch (JacksonException e) {
            throw new IllegalStateException("JSON: cannot write " + v.getClass().getName() + ": " + oneLine(e.getOriginalMessage()), e);
        }
    }

    /**
     * The value as jackson-jr should see it: maps with string keys, lists, strings, numbers,
     * booleans, null; non-finite doubles and floats as null; anything else (an enum, a Path) as its
     * toString(), so jackson-jr never introspects a bean.
     */
    private static Object plain(Object v) {
        if (v == null || v instanceof String || v instanceof Boolean) return v;
        if (v instanceof Double d) return Double.isFinite(d) ? d : null;
        if (v instanceof Float f) return Float.isFinite(f) ? f : null;
        if (v instanceof Number) return v;
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) out.put(String.valueOf(e.getKey()), plain(e.getValue()));
            return out;
        }
        if (v instanceof Iterable<?> it) {
            List<Object> out = new ArrayList<>();
            for (Object o : it) out.add(plain(o));
            return out;
        }
        if (v instanceof int[] a) {
            List<Object> out = new ArrayList<>(a.length);
            for (int x : a) out.add(x);
            return out;
        }
        if (v instanceof long[] a) {
            List<Object> out = new ArrayList<>(a.length);
            for (long x : a) out.add(x);
            return out;
        }
        return v.toString();
    }

    // ---- typed access with clear errors ----

    public static long getLong(Map<String, Object> m, String key) {
        Object v = m.get(key);
        if (v instanceof Long l) return l;
        if (v instanceof Double d && d == Math.rint(d)) return d.longValue();
        throw new InvalidInputException("JSON: '" + key + "' must be an integer, got " + v);
    }

    public static double getDouble(Map<String, Object> m, String key) {
        Object v = m.get(key);
        if (v instanceof Number n) return n.doubleValue();
        throw new InvalidInputException("JSON: '" + key + "' must be a number, got " + v);
    }

    public static String getString(Map<String, Object> m, String key) {
        Object v = m.get(key);
        if (v instanceof String str) return str;
        throw new InvalidInputException("JSON: '" + key + "' must be a string, got " + v);
    }

    public static int[] getIntArray(Map<String, Object> m, String key) {
        Object v = m.get(key);
        if (!(v instanceof List<?> l)) throw new InvalidInputException("JSON: '" + key + "' must be an array, got " + v);
        int[] out = new int[l.size()];
        for (int k = 0; k < out.length; k++) {
            Object o = l.get(k);
            if (!(o instanceof Long x) || x < Integer.MIN_VALUE || x > Integer.MAX_VALUE)
                throw new InvalidInputException("JSON: '" + key + "'[" + k + "] must be an int, got " + o);
            out[k] = (int) (long) x;
        }
        return out;
    }
}

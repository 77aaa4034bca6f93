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
}

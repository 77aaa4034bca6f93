package io.jvae.fuzz;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jvae.InvalidInputException;
import io.jvae.data.Idx;
import io.jvae.io.Json;
import io.jvae.io.Safetensors;

/**
 * Coverage-guided fuzzing (Jazzer) of everything that parses untrusted bytes. The only allowed
 * failure is the project's own InvalidInputException (a one-line message for the user); any other
 * exception - an index out of bounds, a NegativeArraySize, an OutOfMemoryError - fails the test.
 * In a plain `mvn test` each runs on its seeds (regression mode); .ci/run fuzzes each for a bounded
 * time with JAZZER_FUZZ=1.
 */
class ParserFuzzTest {
    @FuzzTest(maxDuration = "60s")
    void idx(byte[] data) {
        try {
            Idx.Data d = Idx.parse(data, "fuzz");
            if (d.bytes().length != (long) d.count() * d.itemSize()) throw new AssertionError("parsed size mismatch");
        } catch (InvalidInputException expected) {
            // a clear message: fine
        }
    }

    @FuzzTest(maxDuration = "60s")
    @DictionaryEntries({"\"dtype\"", "\"F32\"", "\"F16\"", "\"shape\"", "\"data_offsets\"", "\"__metadata__\"", "{\"w\":{", "[0,4]", "[1]"})
    void safetensors(byte[] data) {
        try {
            Safetensors.parse(data, "fuzz");
        } catch (InvalidInputException expected) {
            // a clear message: fine
        }
    }

    @FuzzTest(maxDuration = "30s")
    void json(byte[] data) {
        try {
            Json.parse(new String(data, java.nio.charset.StandardCharsets.UTF_8));
        } catch (InvalidInputException expected) {
            // a clear message: fine
        }
    }
}

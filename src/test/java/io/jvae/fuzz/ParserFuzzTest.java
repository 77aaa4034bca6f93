package io.jvae.fuzz;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jvae.InvalidInputException;
import io.jvae.data.Csv;
import io.jvae.data.Idx;
import io.jvae.data.Npy;
import io.jvae.data.Npz;
import io.jvae.data.Table;
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
            if (d.bytes().length != (long) d.count() * d.itemSize() * d.elementBytes()) throw new AssertionError("parsed size mismatch");
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

    @FuzzTest(maxDuration = "30s")
    @DictionaryEntries({"NUMPY", "\u0001\u0000", "\u0002\u0000", "'descr'", "'fortran_order'", "'shape'", "'<f4'", "'>f8'", "'|u1'", "'<i8'", "True", "False", "(3, 2)", "(1,)", "()"})
    void npy(byte[] data) {
        try {
            Npy.Array a = Npy.parse(data, "fuzz");
            checked(a.features());
            a.labels();
        } catch (InvalidInputException expected) {
            // a clear message: fine
        }
    }

    @FuzzTest(maxDuration = "30s")
    @DictionaryEntries({"PK\u0003\u0004", "PK\u0001\u0002", "PK\u0005\u0006", "PK\u0006\u0006", "PK\u0006\u0007", "x.npy", "y.npy", "\u0001\u0000", "NUMPY"})
    void npz(byte[] data) {
        try {
            Npz.Archive a = Npz.open(data, "fuzz");
            for (String name : a.names()) {
                try {
                    Npy.Array x = a.array(name);
                    checked(x.features());
                    x.labels();
                } catch (InvalidInputException expected) {
                    // this member is bad; the next may not be
                }
            }
        } catch (InvalidInputException expected) {
            // a clear message: fine
        }
    }

    @FuzzTest(maxDuration = "30s")
    @DictionaryEntries({",", "\"", "nan", "-inf", "1e39", "label", "\uFEFF", "1.5e-3"})
    void csv(byte[] data) {
        // the first byte picks --label-column: none, the first column, the second, or a name
        String column = data.length == 0 ? null : switch (data[0] & 3) {
            case 0 -> null;
            case 1 -> "1";
            case 2 -> "2";
            default -> "label";
        };
        try {
            Table t = checked(Csv.parse(data, "fuzz", column));
            if (column != null && t.labels() == null) throw new AssertionError("--label-column " + column + " but no labels");
        } catch (InvalidInputException expected) {
            // a clear message: fine
        }
    }

    /** What every reader promises of a table: the sizes agree, labels in [0, 4096), a place in words for any value. */
    private static Table checked(Table t) {
        if ((long) t.n() * t.dim() != t.x().length || t.n() <= 0 || t.dim() <= 0) throw new AssertionError("sizes " + t.n() + " x " + t.dim());
        if (t.labels() != null) for (int l : t.labels()) if (l < 0 || l >= io.jvae.data.ClassLabels.MAX_CLASSES) throw new AssertionError("label " + l);
        t.at().at(t.n() - 1, t.dim() - 1);
        return t;
    }
}

package io.jvae.data;

import io.jvae.InvalidInputException;
import io.jvae.testing.Rand;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

/** CSV written here as text, read back exactly; each refusal one line naming its line and column (1-based). */
class CsvTest {
    static Table read(String text, String labelColumn) {
        return Csv.parse(text.getBytes(StandardCharsets.UTF_8), "d.csv", labelColumn);
    }

    static String fails(String text, String labelColumn) {
        String m = assertThrows(InvalidInputException.class, () -> read(text, labelColumn)).getMessage();
        assertFalse(m.contains("\n"), m);
        return m;
    }

    @Test
    void valuesRoundTripExactly() {
        Rand r = new Rand(7);
        int n = 50, d = 5;
        float[] x = new float[n * d];
        int[] y = new int[n];
        StringBuilder s = new StringBuilder("a,b,label,c,d,e\n");
        for (int i = 0; i < n; i++) {
            y[i] = i % 4;
            for (int f = 0; f < d; f++) {
                float v = (float) (r.uniform(1, -1000, 1000)[0] * Math.pow(10, f - 3)); // 1e-3 .. 1e1 scales
                x[i * d + f] = v;
                s.append(Float.toString(v)).append(f == 1 ? "," + y[i] : "").append(f < d - 1 ? "," : "\n");
            }
        }
        Table t = read(s.toString(), "label");
        assertEquals(n, t.n());
        assertEquals(d, t.dim());
        assertArrayEquals(x, t.x(), "Float.toString and back: the same bits");
        assertArrayEquals(y, t.labels());
        assertArrayEquals(y, read(s.toString(), "3").labels(), "the label column by number, counted from 1");
        assertEquals("line 4, column 4 'c' (1-based)", t.at().at(2, 2), "features after the label column keep their file column");
        assertEquals("line 4, column 3 'label' (1-based)", t.labelAt().apply(2));
    }

    @Test
    void headerIsDetectedAndFormattingVariantsAccepted() {
        Table noHeader = read("1,2\n3,4\n", null);
        assertEquals(2, noHeader.n(), "a first row of numbers is data");
        assertArrayEquals(new float[] {1, 2, 3, 4}, noHeader.x());
        // BOM, CRLF, quoted header names (R's write.csv), spaces, blank lines, no final newline, exponents, signs
        Table t = read("\uFEFF\"x\", \"y\"\r\n\r\n 1.5e2 , -.5\r\n+3,\"4\"\r\n   \n1E-2,0", null);
        assertArrayEquals(new float[] {150f, -0.5f, 3f, 4f, 0.01f, 0f}, t.x());
        assertEquals("line 6, column 2 'y' (1-based)", t.at().at(2, 1), "blank lines still count");
        assertEquals("d.csv: label -0.5 at line 3, column 2 'y' (1-based) is not an integer (labels are class numbers 0..C-1)",
                fails("\uFEFF\"x\", \"y\"\r\n\r\n 1.5e2 , -.5\r\n", "y"));
    }

    @Test
    void eachProblemIsOneLineNamingLineAndColumn() {
        assertEquals("d.csv: line 3 has 3 fields, line 1 has 2 (comma-separated; quoted commas are not supported)", fails("a,b\n1,2\n3,4,5\n", null));
        assertEquals("d.csv: NaN at line 3, column 2 'b' (1-based): remove or impute missing values first", fails("a,b\n1,2\n3,NaN\n", null));
        assertEquals("d.csv: -inf at line 2, column 1 (1-based): remove or impute missing values first", fails("1,2\n-inf,4\n", null));
        assertEquals("d.csv: empty value at line 2, column 2 'b' (1-based): fill in or drop missing values first", fails("a,b\n1,\n", null));
        assertEquals("d.csv: 'NA' at line 2, column 1 'a' (1-based) is not a number", fails("a,b\nNA,1\n", null));
        assertEquals("d.csv: '0x1p3' at line 2, column 1 (1-based) is not a number", fails("1,2\n0x1p3,1\n", null));
        assertEquals("d.csv: 1e39 at line 1, column 2 (1-based) is beyond float32's range (+-3.4e38)", fails("1,1e39\n", null));
        assertEquals("d.csv: empty file (no rows)", fails("", null));
        assertEquals("d.csv: empty file (no rows)", fails("\n  \r\n\n", null));
        assertEquals("d.csv: a header (line 1) but no rows of numbers", fails("a,b\n", null));
        assertEquals("d.csv: label -1 at line 2, column 1 'y' (1-based) is negative (labels are class numbers 0..C-1)", fails("y,b\n-1,2\n", "y"));
        assertEquals("d.csv: label 5000 at line 2, column 1 'y' (1-based) is out of range: at most 4096 classes (labels 0..4095)", fails("y,b\n5000,2\n", "y"));
        assertEquals("d.csv: --label-column 'z': no such column (the header has y, b)", fails("y,b\n1,2\n", "z"));
        assertEquals("d.csv: --label-column 'y': the file has no header, so give a column number (1 to 2)", fails("1,2\n", "y"));
        assertEquals("d.csv: --label-column 3 is not a column: columns are 1 to 2 (counted from 1)", fails("1,2\n", "3"));
        assertEquals("d.csv: --label-column 0 is not a column: columns are 1 to 2 (counted from 1)", fails("1,2\n", "0"));
        assertEquals("d.csv: no feature columns besides the label column", fails("1\n2\n", "1"));
        // a quoted field holding a comma: not supported, but a clear line rather than a crash
        assertEquals("d.csv: line 2 has 3 fields, line 1 has 2 (comma-separated; quoted commas are not supported)", fails("name,v\n\"a,b\",1\n", null));
        assertEquals("d.csv: '\"a' at line 2, column 1 (1-based) is not a number", fails("1,2\n\"a,b\"\n", null));
    }
}

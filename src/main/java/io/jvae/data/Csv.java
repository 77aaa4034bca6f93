package io.jvae.data;

import io.jvae.InvalidInputException;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Comma-separated numbers, one example per line (UTF-8, an optional byte-order mark, LF or CRLF;
 * blank lines skipped). The first line is a header when any of its fields is not a number. One
 * column may hold class labels ({@code labelColumn}: a header name, or a column number counted
 * from 1). Fields are trimmed and may be wrapped in double quotes ("1.5", as R writes headers);
 * a quoted field holding a comma is not supported and shows up as a row of the wrong length.
 * Numbers are decimal ({@code -1.5e-3}); NaN, Inf, an empty field or anything else is refused
 * with one line naming its line and column, both counted from 1 as in an editor.
 */
public final class Csv {
    private Csv() {}

    /** The examples of a CSV file; labels from labelColumn (null: none). */
    public static Table parse(byte[] bytes, String name, String labelColumn) {
        String text = new String(bytes, StandardCharsets.UTF_8);
        int start = text.startsWith("\uFEFF") ? 1 : 0;
        // the non-blank lines: [from, to) and their 1-based numbers
        List<int[]> lines = new ArrayList<>();
        int lineNo = 1;
        for (int p = start; p <= text.length(); lineNo++) {
            int nl = text.indexOf('\n', p);
            int end = nl < 0 ? text.length() : nl, to = end > p && text.charAt(end - 1) == '\r' ? end - 1 : end;
            if (!text.substring(p, to).isBlank()) lines.add(new int[] {p, to, lineNo});
            if (nl < 0) break;
            p = nl + 1;
        }
        if (lines.isEmpty()) throw new InvalidInputException(name + ": empty file (no rows)");
        List<String> first = fields(text, lines.get(0));
        boolean hasHeader = false;
        for (String f : first) hasHeader |= !number(f);
        List<String> header = hasHeader ? first : null;
        int cols = first.size(), rows = lines.size() - (hasHeader ? 1 : 0);
        if (rows == 0) throw new InvalidInputException(name + ": a header (line " + lines.get(0)[2] + ") but no rows of numbers");
        int label = labelColumn == null ? -1 : column(labelColumn, header, cols, name);
        int dim = cols - (label >= 0 ? 1 : 0);
        if (dim == 0) throw new InvalidInputException(name + ": no feature columns besides the label column");
        if ((long) rows * dim > Npy.MAX_ELEMENTS) throw new InvalidInputException(name + ": " + rows + " x " + dim + " values, more than jvae's limit for one array");
        float[] x = new float[rows * dim];
        int[] y = label >= 0 ? new int[rows] : null;
        int[] lineOf = new int[rows];
        for (int r = 0; r < rows; r++) {
            int[] line = lines.get(r + (hasHeader ? 1 : 0));
            lineOf[r] = line[2];
            List<String> f = fields(text, line);
            if (f.size() != cols)
                throw new InvalidInputException(String.format(java.util.Locale.ROOT, "%s: line %d has %d fields, line %d has %d (comma-separated; quoted commas are not supported)",
                        name, line[2], f.size(), lines.get(0)[2], cols));
            for (int c = 0, k = 0; c < cols; c++) {
                int cc = c;
                java.util.function.Supplier<String> where = () -> at(line[2], cc, header);
                float v = value(f.get(c), name, where);
                if (c == label) y[r] = ClassLabels.of(v, name, where);
                else x[r * dim + k++] = v;
            }
        }
        int lc = label;
        return new Table(name, x, dim, rows, y, (e, f) -> at(lineOf[e], lc >= 0 && f >= lc ? f + 1 : f, header),
                y == null ? null : e -> at(lineOf[e], lc, header));
    }

    /** "line 7, column 3 'b' (1-based)". */
    static String at(int line, int col, List<String> header) {
        String h = header == null ? "" : " '" + abbrev(header.get(col)) + "'";
        return "line " + line + ", column " + (col + 1) + h + " (1-based)";
    }

    private static String abbrev(String s) {
        String t = s.replaceAll("\\p{Cntrl}", "?");
        return t.length() <= 40 ? t : t.substring(0, 37) + "...";
    }

    /** The 0-based column of --label-column: a header name first, else a number from 1. */
    static int column(String spec, List<String> header, int cols, String name) {
        if (header != null) {
            int found = -1;
            for (int c = 0; c < cols; c++)
                if (header.get(c).equals(spec)) {
                    if (found >= 0) throw new InvalidInputException(name + ": --label-column '" + abbrev(spec) + "' names columns " + (found + 1) + " and " + (c + 1));
                    found = c;
                }
            if (found >= 0) return found;
        }
        int c;
        try {
            c = Integer.parseInt(spec.strip());
        } catch (NumberFormatException e) {
            throw new InvalidInputException(name + ": --label-column '" + abbrev(spec) + "': "
                    + (header == null ? "the file has no header, so give a column number (1 to " + cols + ")" : "no such column (the header has " + abbrev(String.join(", ", header)) + ")"));
        }
        if (c < 1 || c > cols) throw new InvalidInputException(name + ": --label-column " + c + " is not a column: columns are 1 to " + cols + " (counted from 1)");
        return c - 1;
    }

    /** The fields of one line: split at commas, trimmed, one pair of surrounding double quotes removed. */
    static List<String> fields(String text, int[] line) {
        List<String> out = new ArrayList<>();
        int p = line[0];
        while (true) {
            int comma = text.indexOf(',', p);
            int end = comma < 0 || comma > line[1] ? line[1] : comma;
            String f = text.substring(p, end).strip();
            if (f.length() >= 2 && f.charAt(0) == '"' && f.charAt(f.length() - 1) == '"') f = f.substring(1, f.length() - 1).strip();
            out.add(f);
            if (end == line[1]) return out;
            p = end + 1;
        }
    }

    /** Whether s is a number: decimal, or a NaN/Inf spelling (refused later, with its place). */
    static boolean number(String s) {
        return decimal(s) || nonFinite(s);
    }

    static boolean nonFinite(String s) {
        String t = s.startsWith("-") || s.startsWith("+") ? s.substring(1) : s;
        return t.equalsIgnoreCase("nan") || t.equalsIgnoreCase("inf") || t.equalsIgnoreCase("infinity");
    }

    /** [+-] digits [. digits] [e [+-] digits], or [+-] . digits [...]: what Float.parseFloat reads, without its hex and 'f'/'d' forms. */
    public static boolean decimal(String s) {
        int p = 0, n = s.length();
        if (p < n && (s.charAt(p) == '+' || s.charAt(p) == '-')) p++;
        int digits = 0;
        while (p < n && s.charAt(p) >= '0' && s.charAt(p) <= '9') { p++; digits++; }
        if (p < n && s.charAt(p) == '.') {
            p++;
            while (p < n && s.charAt(p) >= '0' && s.charAt(p) <= '9') { p++; digits++; }
        }
        if (digits == 0) return false;
        if (p < n && (s.charAt(p) == 'e' || s.charAt(p) == 'E')) {
            p++;
            if (p < n && (s.charAt(p) == '+' || s.charAt(p) == '-')) p++;
            int e = 0;
            while (p < n && s.charAt(p) >= '0' && s.charAt(p) <= '9') { p++; e++; }
            if (e == 0) return false;
        }
        return p == n;
    }

    static float value(String s, String name, java.util.function.Supplier<String> at) {
        if (decimal(s)) {
            float v = Float.parseFloat(s);
            if (Float.isFinite(v)) return v;
        }
        String where = at.get();
        if (s.isEmpty()) throw new InvalidInputException(name + ": empty value at " + where + ": fill in or drop missing values first");
        if (nonFinite(s)) throw new InvalidInputException(name + ": " + abbrev(s) + " at " + where + ": remove or impute missing values first");
        if (!decimal(s)) throw new InvalidInputException(name + ": '" + abbrev(s) + "' at " + where + " is not a number");
        float v = Float.parseFloat(s);
        if (!Float.isFinite(v)) throw new InvalidInputException(name + ": " + abbrev(s) + " at " + where + " is beyond float32's range (+-3.4e38)");
        return v;
    }
}

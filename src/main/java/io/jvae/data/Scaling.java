package io.jvae.data;

import io.jvae.InvalidInputException;
import io.jvae.io.Json;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Per-feature scaling fitted on the training set and applied to every set the model sees:
 * x' = (x - shift[f]) / scale[f], computed in double. standard: shift = mean, scale = standard
 * deviation (population, ddof = 0, as scikit-learn's StandardScaler); minmax: shift = min,
 * scale = max - min. A zero scale (a constant feature) is taken as 1. clip: results clamped to
 * [0, 1] (minmax for a Bernoulli decoder, whose targets must stay in [0, 1] also for test values
 * beyond the training range). Stored in a checkpoint's metadata as JSON ({@link #toJson}, doubles
 * in full precision, so the values come back bit for bit).
 */
public record Scaling(Kind kind, double[] shift, double[] scale, boolean clip) {

    public enum Kind {
        NONE, STANDARD, MINMAX;

        public static Kind parse(String s) {
            return switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "none" -> NONE;
                case "standard" -> STANDARD;
                case "minmax" -> MINMAX;
                default -> throw new InvalidInputException("unknown --scale '" + s + "' (standard, minmax, none)");
            };
        }

        public String cliName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public static final Scaling NONE = new Scaling(Kind.NONE, null, null, false);

    /** The checkpoint metadata key. */
    public static final String META_KEY = "jvae.scaling";

    public Scaling {
        if (kind == Kind.NONE) {
            if (shift != null || scale != null || clip) throw new InvalidInputException("scaling 'none' has no shift, scale or clip");
        } else {
            if (shift == null || scale == null || shift.length == 0 || shift.length != scale.length)
                throw new InvalidInputException("scaling '" + kind.cliName() + "' needs shift and scale of one equal, non-zero length");
            for (int f = 0; f < shift.length; f++)
                if (!Double.isFinite(shift[f]) || !Double.isFinite(scale[f]) || !(scale[f] > 0))
                    throw new InvalidInputException("scaling '" + kind.cliName() + "': feature " + f + " has shift " + shift[f] + ", scale " + scale[f]);
        }
    }

    /** Statistics of x (dim, n) per feature. */
    public static Scaling fit(Kind kind, float[] x, int dim, int n, boolean clip) {
        if (kind == Kind.NONE) return NONE;
        double[] shift = new double[dim], scale = new double[dim];
        if (kind == Kind.STANDARD) {
            for (int j = 0; j < n; j++) for (int f = 0; f < dim; f++) shift[f] += x[j * dim + f];
            for (int f = 0; f < dim; f++) shift[f] /= n;
            for (int j = 0; j < n; j++)
                for (int f = 0; f < dim; f++) {
                    double d = x[j * dim + f] - shift[f];
                    scale[f] += d * d;
                }
            for (int f = 0; f < dim; f++) scale[f] = Math.sqrt(scale[f] / n);
        } else {
            double[] max = new double[dim];
            java.util.Arrays.fill(shift, Double.POSITIVE_INFINITY);
            java.util.Arrays.fill(max, Double.NEGATIVE_INFINITY);
            for (int j = 0; j < n; j++)
                for (int f = 0; f < dim; f++) {
                    shift[f] = Math.min(shift[f], x[j * dim + f]);
                    max[f] = Math.max(max[f], x[j * dim + f]);
                }
            for (int f = 0; f < dim; f++) scale[f] = max[f] - shift[f];
        }
        for (int f = 0; f < dim; f++) if (scale[f] == 0) scale[f] = 1; // a constant feature: shifted only
        return new Scaling(kind, shift, scale, clip);
    }

    /** By value (a record compares arrays by identity). */
    @Override
    public boolean equals(Object o) {
        return o instanceof Scaling s && kind == s.kind && clip == s.clip && java.util.Arrays.equals(shift, s.shift) && java.util.Arrays.equals(scale, s.scale);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(kind, clip, java.util.Arrays.hashCode(shift), java.util.Arrays.hashCode(scale));
    }

    /** x (dim, n) scaled, as a new array (x itself when kind is NONE). */
    public float[] apply(float[] x, int dim, String name) {
        if (kind == Kind.NONE) return x;
        if (dim != shift.length)
            throw new InvalidInputException(name + " has " + dim + " features per example, the model's --scale " + kind.cliName() + " statistics have " + shift.length);
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            int f = i % dim;
            float v = (float) ((x[i] - shift[f]) / scale[f]);
            y[i] = clip ? Math.max(0f, Math.min(1f, v)) : v;
        }
        return y;
    }

    /**
     * The model's values x (dim, n) back in the units of the training data: x * scale + shift per
     * feature, as a new array (x itself when kind is NONE). What sample and decode write.
     */
    public float[] invert(float[] x, int dim) {
        if (kind == Kind.NONE) return x;
        if (dim != shift.length) throw new IllegalArgumentException(dim + " features for statistics of " + shift.length);
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            int f = i % dim;
            y[i] = (float) (x[i] * scale[f] + shift[f]);
        }
        return y;
    }

    /** "standard (per-feature mean and std of the training set)" style, for the CLI. */
    public String describe() {
        return switch (kind) {
            case NONE -> "none";
            case STANDARD -> "standard (per-feature mean and std of the training set)";
            case MINMAX -> "minmax (per-feature min and range of the training set" + (clip ? "; clipped to [0, 1] for the Bernoulli decoder)" : ")");
        };
    }

    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", kind.cliName());
        if (kind != Kind.NONE) {
            m.put("clip", clip);
            m.put("shift", list(shift));
            m.put("scale", list(scale));
        }
        return Json.write(m);
    }

    private static List<Double> list(double[] a) {
        List<Double> l = new ArrayList<>(a.length);
        for (double v : a) l.add(v);
        return l;
    }

    /** Parses {@link #toJson}'s output; null (a checkpoint without the key) is NONE. */
    public static Scaling fromJson(String s) {
        if (s == null) return NONE;
        Map<String, Object> m = Json.parseObject(s);
        Kind kind = Kind.parse(Json.getString(m, "kind"));
        if (kind == Kind.NONE) return NONE;
        Object c = m.get("clip");
        if (c != null && !(c instanceof Boolean)) throw new InvalidInputException("JSON: 'clip' must be true or false, got " + c);
        return new Scaling(kind, doubles(m, "shift"), doubles(m, "scale"), Boolean.TRUE.equals(c));
    }

    private static double[] doubles(Map<String, Object> m, String key) {
        if (!(m.get(key) instanceof List<?> l)) throw new InvalidInputException("JSON: '" + key + "' must be an array of numbers");
        double[] out = new double[l.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(l.get(i) instanceof Number x)) throw new InvalidInputException("JSON: '" + key + "'[" + i + "] must be a number");
            out[i] = x.doubleValue();
        }
        return out;
    }
}

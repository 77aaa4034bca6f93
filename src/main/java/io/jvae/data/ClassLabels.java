package io.jvae.data;

import io.jvae.InvalidInputException;

import java.util.function.IntFunction;
import java.util.function.Supplier;

/** Class labels: integers 0..C-1 with C = max + 1, each checked where it is read. */
public final class ClassLabels {
    private ClassLabels() {}

    /** The most classes a label file may name: that of a model (ModelConfig's limit). */
    public static final int MAX_CLASSES = 4096;

    /** v as a label, or one line naming where it is (asked only then) and why it cannot be one. */
    public static int of(double v, String name, Supplier<String> at) {
        if (v >= 0 && v < MAX_CLASSES && v == Math.rint(v)) return (int) v;
        String where = at.get();
        if (Double.isNaN(v) || v != Math.rint(v))
            throw new InvalidInputException(name + ": label " + v + " at " + where + " is not an integer (labels are class numbers 0..C-1)");
        if (v < 0) throw new InvalidInputException(name + ": label " + (long) v + " at " + where + " is negative (labels are class numbers 0..C-1)");
        if (v >= MAX_CLASSES)
            throw new InvalidInputException(name + ": label " + (v < 1e18 ? Long.toString((long) v) : Double.toString(v)) + " at " + where
                    + " is out of range: at most " + MAX_CLASSES + " classes (labels 0.." + (MAX_CLASSES - 1) + ")");
        return (int) v;
    }

    /** Every label below `classes` (a model's or a training set's), else one line naming the first that is not. */
    public static void requireBelow(int[] labels, int classes, String name, IntFunction<String> where, String whose) {
        for (int i = 0; i < labels.length; i++)
            if (labels[i] >= classes)
                throw new InvalidInputException(String.format(java.util.Locale.ROOT, "%s: label %d at %s is out of range: %s has classes 0..%d",
                        name, labels[i], where.apply(i), whose, classes - 1));
    }
}

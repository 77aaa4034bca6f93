package io.jvae.model;

import io.jvae.backend.Backend;
import io.jvae.backend.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * All parameters in ONE flat buffer and all gradients in another with the same layout: each
 * weight (out x in, column-major) and bias (out) is a view at an offset. One optimizer launch per
 * step and one copy per checkpoint move the whole model.
 */
public final class Params {

    /** One named tensor of the layout. weight: rows = out, cols = in; bias: cols = 1. */
    public record Entry(String name, long offset, int rows, int cols, boolean weight) {
        public int size() {
            return rows * cols;
        }
    }

    public final List<Entry> entries;
    public final int total;          // floats in the flat buffer
    public final Tensor values;      // (total, 1)
    public final Tensor grads;       // (total, 1), same layout

    private Params(List<Entry> entries, int total, Backend be) {
        this.entries = Collections.unmodifiableList(entries);
        this.total = total;
        this.values = be.alloc(total, 1);
        this.grads = be.alloc(total, 1);
    }

    public Tensor value(Entry e) {
        return values.view(e.offset, e.rows, e.cols);
    }

    public Tensor grad(Entry e) {
        return grads.view(e.offset, e.rows, e.cols);
    }

    /** Collects the layout before the buffers are allocated. */
    public static final class Builder {
        private final List<Entry> entries = new ArrayList<>();
        private long total;

        public Entry add(String name, int rows, int cols, boolean weight) {
            Entry e = new Entry(name, total, rows, cols, weight);
            entries.add(e);
            total += (long) rows * cols;
            if (total > Integer.MAX_VALUE - 8)
                throw new io.jvae.InvalidInputException("model has more than 2^31 parameters");
            return e;
        }

        public Params build(Backend be) {
            return new Params(new ArrayList<>(entries), (int) total, be);
        }
    }
}

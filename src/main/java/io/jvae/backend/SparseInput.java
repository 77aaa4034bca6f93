package io.jvae.backend;

/**
 * The caller's side of {@link Backend#compress}, as a type: one model's compressed first-layer
 * input. It owns the arrays between batches (handed back to compress, which refills them instead of
 * allocating), remembers the batch compressed last, and gives it out only for that very tensor
 * ({@link #of}), so a layer can never multiply with the entries of another batch.
 */
public final class SparseInput {
    private SparseColumns arrays;  // kept for the next batch
    private SparseColumns current; // the batch compressed last, or null (it was dense, or nothing yet)

    /**
     * x compressed on be (its arrays reused), or null when be has no sparse product or x is too
     * dense. forGradient: a training step's batch ({@link Backend#compress}).
     */
    public SparseColumns compress(Backend be, Tensor x, boolean forGradient) {
        current = be.compress(x, arrays, forGradient);
        if (current != null) arrays = current;
        return current;
    }

    /** The compressed form of x if the last {@link #compress} was of x (and x was sparse enough), else null. */
    public SparseColumns of(Tensor x) {
        return current != null && current.isOf(x) ? current : null;
    }

    /** Whether the last compress() gave a compressed batch. */
    public boolean active() {
        return current != null;
    }

    /** Forgets the last batch (the next layer input is dense), keeping the arrays. */
    public void clear() {
        current = null;
    }
}

package io.jvae.backend;

/** A backend-resident vector of int32 column indices (a batch's sample ids). */
public final class Indices {
    public final int length;
    public final Storage storage;
    public final long offset;

    public Indices(Storage storage, long offset, int length) {
        if (offset < 0 || offset + length > storage.length())
            throw new IllegalArgumentException("indices view [" + offset + ", +" + length + ") outside " + storage.length());
        this.storage = storage;
        this.offset = offset;
        this.length = length;
    }

    /** Elements [from, from + count). */
    public Indices slice(int from, int count) {
        if (from < 0 || count < 0 || from + count > length)
            throw new IllegalArgumentException("slice(" + from + ", " + count + ") of " + length + " indices");
        return new Indices(storage, offset + from, count);
    }
}

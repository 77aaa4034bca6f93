package io.jvae.backend;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The ownership rules of the compressed first-layer input, now a type: arrays kept, entries only for their own tensor. */
class SparseInputTest {
    static Tensor batch(CpuBackend be, int rows, int cols, int everyNth) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) v[i] = i % everyNth == 0 ? 0.5f : 0f;
        Tensor t = be.alloc(rows, cols);
        be.upload(v, 0, t);
        return t;
    }

    @Test
    void givesTheEntriesOnlyForTheirTensorAndKeepsTheArrays() {
        CpuBackend be = new CpuBackend();
        SparseInput in = new SparseInput();
        Tensor a = batch(be, 40, 8, 5), b = batch(be, 40, 8, 7), dense = batch(be, 40, 8, 1);
        SparseColumns first = in.compress(be, a, true);
        assertNotNull(first, "20 % nonzero: compressed");
        assertTrue(in.active());
        assertSame(first, in.of(a));
        assertNull(in.of(b), "another tensor of the same shape never gets a's entries");
        SparseColumns second = in.compress(be, b, true);
        assertSame(first, second, "the arrays are refilled, not allocated again");
        assertNull(in.of(a), "a's entries are gone once b is compressed");
        assertSame(second, in.of(b));
        assertNull(in.compress(be, dense, true), "all nonzero: dense GEMMs");
        assertFalse(in.active());
        assertNull(in.of(b), "nothing is handed out after a dense batch");
        assertSame(first, in.compress(be, a, true), "the arrays survived the dense batch");
        in.clear();
        assertFalse(in.active());
        assertNull(in.of(a));
    }
}

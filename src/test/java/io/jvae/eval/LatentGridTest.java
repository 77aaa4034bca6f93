package io.jvae.eval;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class LatentGridTest {
    @Test
    void inverseNormalCdf() {
        // reference values of the standard normal quantile; Acklam's approximation is good to ~1e-9 relative
        assertEquals(0.0, LatentGrid.normInv(0.5), 1e-9);
        assertEquals(1.959963984540054, LatentGrid.normInv(0.975), 1e-8);
        assertEquals(-1.6448536269514722, LatentGrid.normInv(0.05), 1e-8);
        assertEquals(-3.090232306167813, LatentGrid.normInv(0.001), 1e-7);
        double[] ax = LatentGrid.axis(20);
        assertEquals(-1.6448536269514722, ax[0], 1e-8);
        assertEquals(1.6448536269514722, ax[19], 1e-8);
        for (int i = 1; i < 20; i++) assertTrue(ax[i] > ax[i - 1]);
    }

    @Test
    void codesVaryTheChosenDimensionsOnly() {
        float[] z = LatentGrid.codes(4, 3, 1, 3);
        for (int k = 0; k < 9; k++) {
            assertEquals(0f, z[k * 4], "dimension 0 stays 0");
            assertEquals(0f, z[k * 4 + 2]);
        }
        assertTrue(z[1] < z[2 * 4 + 1], "x grows left to right");
        assertTrue(z[3] > z[6 * 4 + 3], "y grows bottom to top");
    }

    @Test
    void corruptions() {
        int d = 784, n = 3;
        float[] x = new float[d * n];
        java.util.Arrays.fill(x, 0.6f);
        Corruption.Result band = Corruption.BAND.apply(x, d, n, 0, 1);
        for (int j = 0; j < n; j++)
            for (int p = 0; p < d; p++) {
                boolean hidden = p >= 300 && p < 400;
                assertEquals(!hidden, band.known()[j * d + p]);
                assertEquals(hidden ? 0f : 0.6f, band.x()[j * d + p]);
            }
        Corruption.Result mask = Corruption.MASK.apply(x, d, n, 0.3, 1);
        long hidden = 0;
        for (boolean k : mask.known()) if (!k) hidden++;
        assertEquals(0.3, hidden / (double) x.length, 0.04); // sd of the fraction ~0.009
        Corruption.Result sp = Corruption.SALT_PEPPER.apply(x, d, n, 0, 1);
        int[] counts = new int[3];
        for (float v : sp.x()) {
            assertTrue(v == 0f || v == 0.6f || v == 1f, "salt-pepper value " + v);
            counts[v == 0f ? 0 : v == 0.6f ? 1 : 2]++;
        }
        // x b1 + b2 clipped: 0 w.p. 1/4, x w.p. 1/4, 1 w.p. 1/2
        assertEquals(0.25, counts[0] / (double) x.length, 0.04);
        assertEquals(0.25, counts[1] / (double) x.length, 0.04);
        assertEquals(0.5, counts[2] / (double) x.length, 0.04);
        assertThrows(io.jvae.InvalidInputException.class, () -> Corruption.MASK.apply(x, d, n, 1.5, 1));
    }
}

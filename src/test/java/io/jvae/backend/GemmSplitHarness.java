package io.jvae.backend;

import dev.ludovic.netlib.blas.BLAS;
import java.util.Arrays;

/**
 * The output layer's three products (784 x 400 weights, batch B: forward NN, dW NT, dX TN) as jvae
 * splits them across two threads now (one block of C per thread, by columns when n >= m, else by
 * rows), split the other way, split into 4 blocks claimed by whichever thread is free, and on one
 * thread; the variants alternated 31 times in one JVM (the machine drifts 20-40 % within minutes),
 * median time of each and GFLOP/s. Run: bench/harness.sh io.jvae.backend.GemmSplitHarness 1024
 */
public class GemmSplitHarness {
    public static void main(String[] args) {
        int bsz = Integer.parseInt(args[0]), rounds = 31;
        Gemm.sgemm(false, false, 1, 1, 1, 1f, new float[1], 0, 1, new float[1], 0, 1, 0f, new float[1], 0, 1); // loads the BLAS
        BLAS blas = BLAS.getInstance();
        int[][] shapes = {{0, 0, 784, bsz, 400}, {0, 1, 784, 400, bsz}, {1, 0, 400, bsz, 784}};
        String[] names = {"NN 784xBx400", "NT 784x400xB", "TN 400xBx784"};
        for (int s = 0; s < shapes.length; s++) {
            boolean ta = shapes[s][0] == 1, tb = shapes[s][1] == 1;
            int m = shapes[s][2], n = shapes[s][3], k = shapes[s][4];
            int lda = ta ? k : m, ldb = tb ? n : k;
            float[] a = fill(m * k, 1), b = fill(k * n, 2), c = new float[m * n];
            String sa = ta ? "T" : "N", sb = tb ? "T" : "N";
            Parallel.Range byCols = (lo, hi) -> blas.sgemm(sa, sb, m, hi - lo, k, 1f, a, 0, lda, b, tb ? lo : lo * ldb, ldb, 0f, c, lo * m, m);
            Parallel.Range byRows = (lo, hi) -> blas.sgemm(sa, sb, hi - lo, n, k, 1f, a, ta ? lo * lda : lo, lda, b, 0, ldb, 0f, c, lo, m);
            boolean colsNow = n >= m;
            Runnable[] vs = {
                () -> Parallel.pieces(colsNow ? n : m, 2, colsNow ? byCols : byRows),
                () -> Parallel.pieces(colsNow ? m : n, 2, colsNow ? byRows : byCols),
                () -> Parallel.pieces(colsNow ? n : m, 4, colsNow ? byCols : byRows),
                () -> blas.sgemm(sa, sb, m, n, k, 1f, a, 0, lda, b, 0, ldb, 0f, c, 0, m)};
            String[] vn = {"now (" + (colsNow ? "columns" : "rows") + ", 2 blocks)", "the other way (" + (colsNow ? "rows" : "columns") + ", 2 blocks)", "4 blocks", "one thread"};
            int reps = Math.max(5, (int) (2e9 / (2.0 * m * n * k)));
            double[][] t = HarnessRuns.alternate(vs, reps, rounds);
            double[] ratio = new double[rounds];
            for (int v = 1; v < vs.length; v++) {
                for (int r = 0; r < rounds; r++) ratio[r] = t[0][r] / t[v][r];
                Arrays.sort(ratio);
                double[] tv = t[v].clone();
                Arrays.sort(tv);
                System.out.printf("%s B=%d %-32s %8.1f us %6.1f GFLOP/s  now/this median %.3f (quartiles %.3f-%.3f)%n", names[s], bsz, vn[v], tv[rounds / 2],
                        2.0 * m * n * k / tv[rounds / 2] / 1e3, ratio[rounds / 2], ratio[rounds / 4], ratio[3 * rounds / 4]);
            }
            double[] t0s = t[0].clone();
            Arrays.sort(t0s);
            System.out.printf("%s B=%d %-32s %8.1f us %6.1f GFLOP/s%n", names[s], bsz, vn[0], t0s[rounds / 2], 2.0 * m * n * k / t0s[rounds / 2] / 1e3);
        }
    }

    static float[] fill(int len, int seed) {
        float[] x = new float[len];
        Philox.uniforms(seed, 0, x, 0, len);
        for (int i = 0; i < len; i++) x[i] -= 0.5f;
        return x;
    }
}

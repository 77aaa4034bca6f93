package io.jvae.backend;
import java.util.*;
/**
 * The sparse forward product A X (400 x B x 784, real MNIST images, the pytorch preset's first layer)
 * split across two threads by rows of C (as jvae did before 2026-12-03) or by columns (the batch, as now), and on
 * one thread, alternated 41 times in one JVM (the machine drifts 20-40 % within minutes): the
 * median time of each and of the ratio. Run: bench/harness.sh io.jvae.backend.SparseSplitHarness 128
 */
public class SparseSplitHarness {
    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[0]), m = 400, k = 784;
        // MNIST-like: real training images
        float[] x = HarnessRuns.mnist(n);
        CpuBackend be = new CpuBackend();
        SparseColumns s = be.compress(CpuBackend.wrap(x, k, n), null, true);
        float[] a = new float[m * k]; for (int i = 0; i < a.length; i++) a[i] = (i * 37 % 101) / 100f - 0.5f;
        float[] c = new float[m * n];
        int l = SimdKernels.width(), vecs = (m + l - 1) / l, parts = 2;
        Runnable rows = () -> Parallel.chunks(parts, parts, (p0, p1) -> { for (int p = p0; p < p1; p++) {
            int r0 = Math.min(m, (int) ((long) vecs * p / parts) * l), r1 = Math.min(m, (int) ((long) vecs * (p + 1) / parts) * l);
            SimdSparse.sparseTimes(r0, r1, 0, n, a, 0, m, s, c, 0, m, s.cursors[p], 0, k, false); } });
        Runnable cols = () -> Parallel.chunks(parts, parts, (p0, p1) -> { for (int p = p0; p < p1; p++) {
            int j0 = n * p / parts, j1 = n * (p + 1) / parts;
            SimdSparse.sparseTimes(0, m, j0, j1, a, 0, m, s, c, 0, m, s.cursors[p], 0, k, false); } });
        Runnable one = () -> SimdSparse.sparseTimes(0, m, 0, n, a, 0, m, s, c, 0, m, s.cursors[0], 0, k, false);
        Runnable[] rs = {rows, cols, one}; String[] names = {"rows", "columns", "one thread"};
        int reps = Math.max(20, 2000 * 128 / n);
        double[][] t = HarnessRuns.alternate(rs, reps, 41);
        double[] r = new double[41];
        for (int i = 0; i < 41; i++) r[i] = t[0][i] / t[1][i];
        Arrays.sort(r);
        for (int v = 0; v < 3; v++) { Arrays.sort(t[v]); System.out.printf("batch %d %s: %.1f us (median)%n", n, names[v], t[v][20]); }
        System.out.printf("rows/columns time ratio: median %.3f (quartiles %.3f-%.3f); density %.3f%n", r[20], r[10], r[30], s.density());
    }
}

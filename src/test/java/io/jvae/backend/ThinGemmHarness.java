package io.jvae.backend;

import java.util.Arrays;

/**
 * The thin GEMMs of a training step (the latent layer's, a preset's sizes at one batch) in the BLAS
 * (Gemm.blas, split across the threads as before) and, for those it takes (A not transposed, rows in
 * whole vectors), in SimdThinGemm, alternated 21 times in one JVM (the machine drifts 20-40 % within
 * minutes): each shape's median time both ways and the ratio; the step's total with each choice.
 * Operands allocated as the workspace allocates them. Run:
 * bench/harness.sh io.jvae.backend.ThinGemmHarness B [hidden latent]   (default 400 20: the pytorch preset)
 */
public class ThinGemmHarness {
    public static void main(String[] args) {
        int bt = Integer.parseInt(args[0]);
        int h = args.length > 1 ? Integer.parseInt(args[1]) : 400, z = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        // {ta, tb, m, n, k}, in a step's order: the two heads, the decoder's hidden layer; backward:
        // its weight gradient and dz, the heads' weight gradients, dh of the encoder (two, the second adds)
        int[][] shapes = {{0, 0, z, bt, h}, {0, 0, h, bt, z}, {0, 1, h, z, bt}, {1, 0, z, bt, h}, {0, 1, z, h, bt}, {1, 0, h, bt, z}};
        String[] names = {"NN heads fwd", "NN dec hidden fwd", "NT dec hidden dW", "TN dz", "NT heads dW", "TN heads dH (beta 1)"};
        CpuBackend be = new CpuBackend();
        double total0 = 0, total1 = 0;
        System.out.printf("batch %d, hidden %d, latent %d, %d threads, %d float lanes%n", bt, h, z, Parallel.THREADS, SimdKernels.width());
        for (int s = 0; s < shapes.length; s++) {
            boolean ta = shapes[s][0] == 1, tb = shapes[s][1] == 1;
            int m = shapes[s][2], n = shapes[s][3], k = shapes[s][4];
            int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
            Tensor at = be.alloc(aRows, aCols), btt = be.alloc(bRows, bCols), c0t = be.alloc(m, n), c1t = be.alloc(m, n);
            float[] a = CpuBackend.arr(at), b = CpuBackend.arr(btt), c0 = CpuBackend.arr(c0t), c1 = CpuBackend.arr(c1t);
            int ao = CpuBackend.off(at), bo = CpuBackend.off(btt), o0 = CpuBackend.off(c0t), o1 = CpuBackend.off(c1t);
            for (int i = 0; i < aRows * aCols; i++) a[ao + i] = (i * 37 % 101) / 100f - 0.5f;
            for (int i = 0; i < bRows * bCols; i++) b[bo + i] = (i * 53 % 97) / 90f - 0.5f;
            float beta = s == 5 ? 1f : 0f;
            Runnable blas = () -> Gemm.blas(ta, tb, m, n, k, 1f, a, ao, aRows, b, bo, bRows, beta, c0, o0, m);
            if (ta || m % SimdKernels.width() != 0) { // shapes the kernel does not take (it was slower on them: bench/RESULTS.md)
                double[][] t = HarnessRuns.alternate(new Runnable[] {blas}, (int) Math.max(20, 4e8 / (2.0 * m * n * k)), 21);
                Arrays.sort(t[0]);
                System.out.printf("%-22s %s%s %4dx%4dx%4d  BLAS %7.1f us (%5.1f GFLOP/s)  (BLAS only)%n", names[s], ta ? "T" : "N", tb ? "T" : "N", m, n, k,
                        t[0][10], 2.0 * m * n * k / 1e3 / t[0][10]);
                total0 += CALLS[s] * t[0][10];
                total1 += CALLS[s] * t[0][10];
                continue;
            }
            Runnable thin = () -> SimdThinGemm.gemm(tb, m, n, k, 1f, a, ao, aRows, b, bo, bRows, beta, c1, o1, m);
            int reps = (int) Math.max(20, 4e8 / (2.0 * m * n * k));
            double[][] t = HarnessRuns.alternate(new Runnable[] {blas, thin}, reps, 21);
            double[] r = new double[21];
            for (int i = 0; i < 21; i++) r[i] = t[0][i] / t[1][i];
            Arrays.sort(r);
            Arrays.sort(t[0]);
            Arrays.sort(t[1]);
            double f = 2.0 * m * n * k / 1e3;
            System.out.printf("%-22s %s%s %4dx%4dx%4d  BLAS %7.1f us (%5.1f GFLOP/s)  thin %7.1f us (%5.1f GFLOP/s)  BLAS/thin %.2f (quartiles %.2f-%.2f)%n",
                    names[s], ta ? "T" : "N", tb ? "T" : "N", m, n, k, t[0][10], f / t[0][10], t[1][10], f / t[1][10], r[10], r[5], r[15]);
            total0 += CALLS[s] * t[0][10];
            total1 += CALLS[s] * t[1][10];
        }
        System.out.printf("a step's nine thin GEMMs (the heads' shapes twice): all in the BLAS %.1f us, with the thin kernel where it runs %.1f us%n", total0, total1);
    }

    /** Calls of each shape in a step (mu and log-variance heads: two). */
    private static final int[] CALLS = {2, 1, 1, 1, 2, 2};
}

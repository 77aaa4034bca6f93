package io.jvae.eval;

import io.jvae.backend.Activation;
import io.jvae.backend.CpuBackend;
import io.jvae.data.Dataset;
import io.jvae.model.Init;
import io.jvae.model.Likelihood;
import io.jvae.model.ModelConfig;
import io.jvae.model.Params;
import io.jvae.model.Vae;
import io.jvae.testing.Rand;
import io.jvae.train.DeviceData;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The importance-sampled log p(x) on a linear-Gaussian model whose marginal is known in closed
 * form: z ~ N(0, I_2), x | z ~ N(W z + b0, I_3) with W = [[1,0],[0,2],[0,0]], so
 * p(x) = N(b0, W W^T + I) = N(b0, diag(2, 5, 1)) and the exact posterior is
 * N(S W^T (x - b0), S) with S = (I + W^T W)^-1 = diag(1/2, 1/5).
 */
class ImportanceSamplingTest {
    static final int D = 3, L = 2, N = 512;
    final CpuBackend be = new CpuBackend();
    final float[] b0 = {0.3f, -0.2f, 0.5f};

    Vae model(float muShift, float lvShift) {
        ModelConfig cfg = new ModelConfig(D, List.of(), L, List.of(), Activation.IDENTITY, Likelihood.GAUSSIAN, 0, Init.TORCH);
        Vae vae = new Vae(be, cfg);
        float[] p = new float[vae.params.total];
        for (Params.Entry e : vae.params.entries) {
            int o = (int) e.offset();
            switch (e.name()) {
                case "encoder.mu.weight" -> { // A = S W^T, (L, D) column-major: A[0][0] = 1/2, A[1][1] = 2/5
                    p[o] = 0.5f;
                    p[o + 1 * L + 1] = 0.4f;
                }
                case "encoder.mu.bias" -> { // c = -A b0 (+ a shift to make q imperfect)
                    p[o] = -0.5f * b0[0] + muShift;
                    p[o + 1] = -0.4f * b0[1] + muShift;
                }
                case "encoder.logvar.bias" -> {
                    p[o] = (float) Math.log(0.5) + lvShift;
                    p[o + 1] = (float) Math.log(0.2) + lvShift;
                }
                case "decoder.out.weight" -> { // W (D, L) column-major
                    p[o] = 1f;
                    p[o + D + 1] = 2f;
                }
                case "decoder.out.bias" -> System.arraycopy(b0, 0, p, o, D);
                default -> { } // encoder.logvar.weight = 0
            }
        }
        be.upload(p, 0, vae.params.values);
        return vae;
    }

    Dataset data() {
        float[] x = new Rand(4).normal(N * D, 1.5);
        return new Dataset("gauss", x, D, N, null, 0);
    }

    double[] exactLogPx(Dataset d) {
        double[] c = {2, 5, 1};
        double[] out = new double[d.n()];
        for (int i = 0; i < d.n(); i++) {
            double s = 0;
            for (int k = 0; k < D; k++) {
                double r = d.x()[i * D + k] - b0[k];
                s += r * r / c[k] + Math.log(c[k]) + Math.log(2 * Math.PI);
            }
            out[i] = -0.5 * s;
        }
        return out;
    }

    ImportanceSampling.Result run(Vae vae, Dataset d, int k, int j) {
        vae.workspace(16, j);
        return ImportanceSampling.estimate(vae, new DeviceData(be, d, 0), d.n(), k, 9);
    }

    @Test
    void exactPosteriorGivesTheClosedFormWithAnyK() {
        Dataset d = data();
        double[] truth = exactLogPx(d);
        for (int k : new int[] {1, 7, 30}) {
            ImportanceSampling.Result r = run(model(0, 0), d, k, 5);
            for (int i = 0; i < N; i++)
                // every importance weight equals p(x): only float rounding (~1e-6 relative of ~10 nats) remains
                assertEquals(truth[i], r.logPx()[i], 1e-4, "example " + i + " K=" + k);
        }
    }

    @Test
    void imperfectPosteriorRecoversItWithinItsStandardErrorAndRisesWithK() {
        Dataset d = data();
        double[] truth = exactLogPx(d);
        double trueMean = 0;
        for (double t : truth) trueMean += t / N;
        Vae vae = model(0.4f, 0.7f);
        double prev = Double.NEGATIVE_INFINITY;
        for (int k : new int[] {1, 10, 1000}) {
            ImportanceSampling.Result r = run(vae, d, k, 100);
            double mean = -r.meanNll();
            assertTrue(mean > prev - 1e-9, "log p(x) estimate rises with K: K=" + k + " gives " + mean + " after " + prev);
            prev = mean;
            if (k == 1000) {
                // over 512 examples; the remaining log-of-mean bias at K = 1000 is far below the standard error
                assertEquals(trueMean, mean, 3 * r.stdErr(), "K=1000, standard error " + r.stdErr());
            }
        }
        ImportanceSampling.Result one = run(vae, d, 1, 1);
        assertTrue(-one.meanNll() < trueMean - 0.05, "K=1 is the ELBO, clearly below log p(x)");
    }

    @Test
    void activeUnitsAndKlPerDimension() {
        Dataset d = data();
        Vae vae = model(0, 0);
        vae.workspace(16, 1);
        ImportanceSampling.Units u = ImportanceSampling.units(vae, new DeviceData(be, d, 0), N);
        assertEquals(2, u.active());
        for (double k : u.klPerDim()) assertTrue(k > 0);
    }
}

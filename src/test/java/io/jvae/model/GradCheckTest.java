package io.jvae.model;

import io.jvae.backend.Activation;
import io.jvae.backend.CpuBackend;
import io.jvae.backend.Indices;
import io.jvae.backend.Tensor;
import io.jvae.testing.Rand;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The whole loss, (1/B) sum_b [(1/J) sum_j -log p(x_b|z_bj) + beta KL_b], differentiated by
 * central differences w.r.t. every parameter of a tiny network and compared with the analytic
 * gradient from {@link Vae#trainStep}. The noise is fixed by (seed, offset), so the loss is a
 * deterministic smooth function of the parameters (tanh / elu / sigmoid: no relu kinks).
 *
 * <p>Tolerance: the loss is computed in float (~10 nats, summed over ~60 terms: rounding noise
 * ~5e-6), divided by 2h = 2e-2 gives ~3e-4 of noise in each difference; the truncation error
 * h^2 f'''/6 is ~2e-5. So |fd - grad| <= 2e-3 + 2e-2 |grad|. A wrong factor of 2 or a missing
 * term in any gradient is far outside that.
 */
class GradCheckTest {
    static final float H = 1e-2f;
    static final double ATOL = 2e-3, RTOL = 2e-2;

    record Case(String name, Likelihood lik, int classes, int samples, float beta, Activation act, boolean sparse) {
        Case(String name, Likelihood lik, int classes, int samples, float beta, Activation act) {
            this(name, lik, classes, samples, beta, act, false);
        }
    }

    @Test
    void bernoulliTanh() {
        check(new Case("bernoulli tanh", Likelihood.BERNOULLI, 0, 1, 1f, Activation.TANH));
    }

    @Test
    void gaussianElu() {
        check(new Case("gaussian elu", Likelihood.GAUSSIAN, 0, 1, 1f, Activation.ELU));
    }

    @Test
    void conditionalWithSamplesAndBeta() {
        check(new Case("cvae J=3 beta=0.5", Likelihood.BERNOULLI, 3, 3, 0.5f, Activation.TANH));
    }

    @Test
    void multipleSamplesBetaAboveOne() {
        check(new Case("J=2 beta=2.5 gaussian", Likelihood.GAUSSIAN, 0, 2, 2.5f, Activation.TANH));
    }

    /**
     * Two thirds of the pixels zero: the first layer multiplies the compressed batch (forward and
     * dW, CpuBackend.gemmSparse); 20 hidden units run a full vector of the SIMD kernels and scalar rows.
     */
    @Test
    void sparseInputThroughTheCompressedFirstLayer() {
        check(new Case("sparse input", Likelihood.BERNOULLI, 0, 1, 1f, Activation.TANH, true));
    }

    @Test
    void sparseInputOfAConditionalModel() {
        check(new Case("sparse input cvae J=2", Likelihood.BERNOULLI, 3, 2, 1f, Activation.TANH, true));
    }

    @Test
    void iwaeObjective() {
        check(new Case("iwae K=3", Likelihood.BERNOULLI, 0, 3, 1f, Activation.TANH), true);
    }

    @Test
    void iwaeConditionalGaussian() {
        check(new Case("iwae K=4 cvae gaussian", Likelihood.GAUSSIAN, 3, 4, 1f, Activation.ELU), true);
    }

    /** The learned log-variance starts at 0, where e^s and e^-s agree: the check moves it into [-1, 1] first. */
    @Test
    void gaussianWithLearnedVariance() {
        check(new Case("gaussian-learned J=2", Likelihood.GAUSSIAN_LEARNED, 0, 2, 1f, Activation.TANH));
    }

    @Test
    void iwaeConditionalGaussianWithLearnedVariance() {
        check(new Case("iwae K=3 cvae gaussian-learned", Likelihood.GAUSSIAN_LEARNED, 3, 3, 1f, Activation.ELU), true);
    }

    void check(Case c) {
        check(c, false);
    }

    void check(Case c, boolean iwae) {
        int D = 5, B = 3, L = 2;
        CpuBackend be = new CpuBackend();
        ModelConfig cfg = new ModelConfig(D, List.of(c.sparse() ? 20 : 4, 3), L, List.of(3), c.act(), c.lik(), c.classes(), Init.TORCH);
        Vae vae = new Vae(be, cfg);
        vae.initParams(11);
        vae.workspace(B, c.samples());
        Rand r = new Rand(5);
        for (Params.Entry e : vae.params.entries)
            if (e.name().equals(Vae.LOGVAR)) be.upload(r.uniform(e.size(), -1, 1), 0, vae.params.value(e));
        Tensor data = be.alloc(D, B);
        float[] x = r.uniform(D * B, 0.05, 0.95);
        if (c.sparse()) for (int i = 0; i < x.length; i++) if (i % 3 != 1) x[i] = 0f;
        be.upload(x, 0, data);
        Tensor oneHot = null;
        if (c.classes() > 0) {
            float[] oh = new float[c.classes() * B];
            for (int b = 0; b < B; b++) oh[b * c.classes() + (b % c.classes())] = 1f;
            oneHot = be.alloc(c.classes(), B);
            be.upload(oh, 0, oneHot);
        }
        Indices idx = be.allocIndices(B);
        be.uploadIndices(new int[] {0, 1, 2}, 0, idx);
        vae.loadBatch(data, oneHot, idx);

        Tensor stats = be.alloc(4, 1);
        if (iwae) vae.trainStepIwae(77, 5, stats);
        else vae.trainStep(77, 5, c.beta(), stats);
        assertEquals(c.sparse(), vae.sparseInput(), "the first layer multiplies the compressed batch exactly when it is sparse");
        float[] grad = new float[vae.params.total], p = new float[vae.params.total];
        be.download(vae.params.grads, grad, 0);
        be.download(vae.params.values, p, 0);
        assertEquals(loss(vae, stats, c.beta(), B, iwae), lossAt(vae, p, stats, c.beta(), B, iwae), 1e-5,
                "evalStep and trainStep see the same loss");

        int checked = 0;
        StringBuilder bad = new StringBuilder();
        for (int i = 0; i < p.length; i++) {
            float keep = p[i];
            p[i] = keep + H;
            double up = lossAt(vae, p, stats, c.beta(), B, iwae);
            p[i] = keep - H;
            double down = lossAt(vae, p, stats, c.beta(), B, iwae);
            p[i] = keep;
            double fd = (up - down) / (2 * H);
            if (Math.abs(fd - grad[i]) > ATOL + RTOL * Math.abs(grad[i]))
                bad.append(String.format("%n  %s: analytic %.6g fd %.6g", name(vae, i), grad[i], fd));
            checked++;
        }
        assertEquals(vae.params.total, checked);
        assertTrue(bad.isEmpty(), c.name() + ": gradients differ from central differences:" + bad);
    }

    static double loss(Vae vae, Tensor stats, float beta, int b, boolean iwae) {
        float[] s = new float[4];
        vae.be.download(stats, s, 0);
        return iwae ? s[2] / b : (s[0] + beta * s[1]) / b;
    }

    static double lossAt(Vae vae, float[] p, Tensor stats, float beta, int b, boolean iwae) {
        vae.be.upload(p, 0, vae.params.values);
        vae.be.fill(stats, 0f);
        if (iwae) vae.evalStepIwae(77, 5, stats);
        else vae.evalStep(77, 5, stats);
        return loss(vae, stats, beta, b, iwae);
    }

    /**
     * IWAE with K = 1 is the VAE with a one-sample estimate of the KL term; its gradient equals the
     * VAE's (analytic KL) gradient in expectation over the noise. Averages of N = 4000 draws must
     * agree within 4 standard errors of the per-draw difference (per parameter).
     */
    @Test
    void iwaeWithOneSampleIsTheVaeGradientOnAverage() {
        int D = 5, B = 3, L = 2, N = 4000;
        CpuBackend be = new CpuBackend();
        ModelConfig cfg = new ModelConfig(D, List.of(4), L, List.of(3), Activation.TANH, Likelihood.BERNOULLI, 0, Init.TORCH);
        Vae vae = new Vae(be, cfg);
        vae.initParams(3);
        vae.workspace(B, 1);
        Tensor data = be.alloc(D, B);
        be.upload(new Rand(6).uniform(D * B, 0.05, 0.95), 0, data);
        Indices idx = be.allocIndices(B);
        be.uploadIndices(new int[] {0, 1, 2}, 0, idx);
        vae.loadBatch(data, null, idx);
        Tensor stats = be.alloc(4, 1);
        int P = vae.params.total;
        double[] sum = new double[P], sum2 = new double[P];
        float[] gv = new float[P], gi = new float[P];
        for (int s = 0; s < N; s++) {
            vae.trainStep(11, s * vae.noisePerStep(), 1f, stats);
            be.download(vae.params.grads, gv, 0);
            vae.trainStepIwae(11, s * vae.noisePerStep(), stats);
            be.download(vae.params.grads, gi, 0);
            for (int i = 0; i < P; i++) {
                double d = gi[i] - gv[i];
                sum[i] += d;
                sum2[i] += d * d;
            }
        }
        StringBuilder bad = new StringBuilder();
        for (int i = 0; i < P; i++) {
            double mean = sum[i] / N, sd = Math.sqrt(Math.max(0, sum2[i] / N - mean * mean));
            if (Math.abs(mean) > 4 * sd / Math.sqrt(N) + 1e-6) bad.append(String.format("%n  %s: mean difference %.3g, se %.3g", name(vae, i), mean, sd / Math.sqrt(N)));
        }
        assertTrue(bad.isEmpty(), "IWAE K=1 vs VAE gradients:" + bad);
    }

    static String name(Vae vae, int i) {
        for (Params.Entry e : vae.params.entries)
            if (i >= e.offset() && i < e.offset() + e.size()) return e.name() + "[" + (i - e.offset()) + "]";
        return "param " + i;
    }
}

package io.jvae.api;

/**
 * Per-example importance-sampled likelihoods (Burda, Grosse, Salakhutdinov 2016, eq. 8) from
 * {@link VaeModel#score}, with K samples z_k ~ q(z|x) per example, in nats.
 *
 * @param logPx        log p(x) ~= log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x); a lower bound that
 *                     tightens as K grows (K = 1 is one sample of the ELBO)
 * @param reconLogProb log (1/K) sum_k p(x|z_k): the reconstruction log-probability, the anomaly
 *                     score of {@code jvae score} (low = anomalous)
 * @param samples      K
 */
public record Scores(double[] logPx, double[] reconLogProb, int samples) {
    /** -mean(logPx): the importance-sampled negative log-likelihood per example, in nats. */
    public double meanNll() {
        double s = 0;
        for (double v : logPx) s -= v;
        return s / logPx.length;
    }
}

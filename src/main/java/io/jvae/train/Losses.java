package io.jvae.train;

/** -ELBO per example in nats, and its two terms. */
public record Losses(double loss, double recon, double kl) {
    public static Losses of(double reconSum, double klSum, long n) {
        return new Losses((reconSum + klSum) / n, reconSum / n, klSum / n);
    }

    public boolean finite() {
        return Double.isFinite(loss) && Double.isFinite(recon) && Double.isFinite(kl);
    }
}

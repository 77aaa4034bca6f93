package io.jvae.api;

/**
 * The negative ELBO per example in nats over a data set, and its two terms, as {@code jvae eval}
 * prints it: loss = reconstruction + kl (the KL term unweighted, beta = 1).
 *
 * @param loss           -ELBO per example
 * @param reconstruction E_q[-log p(x|z)] per example, one seeded sample of z
 * @param kl             KL(q(z|x) || N(0, I)) per example
 */
public record Elbo(double loss, double reconstruction, double kl) {}

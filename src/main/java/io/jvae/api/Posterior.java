package io.jvae.api;

/**
 * The encoder's q(z|x) = N(mean, exp(logVar)) for each input, row i for input i.
 *
 * @param mean   (n, latent) posterior means: the embedding a downstream model uses
 * @param logVar (n, latent) posterior log-variances
 */
public record Posterior(float[][] mean, float[][] logVar) {}

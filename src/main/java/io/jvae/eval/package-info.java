/** Using a trained model: encode, decode, reconstruct, impute, corrupt inputs, the latent grid. */
package io.jvae.eval;

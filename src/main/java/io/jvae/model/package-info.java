/** The VAE and CVAE, written once against the Backend: layers, the flat parameter buffer, the ELBO step. */
package io.jvae.model;

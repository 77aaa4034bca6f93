/** Training: configuration, optimizers over the flat buffers, the epoch loop, early stopping, checkpoints, metrics. */
package io.jvae.train;

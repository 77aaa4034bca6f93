/** `jvae bench`: timed training steps on each backend, FLOP counts, the sgemm ceiling measured on the spot, a per-phase profile. */
package io.jvae.bench;

/** Files jvae reads and writes: safetensors checkpoints, a small JSON codec, metrics CSV/JSONL. */
package io.jvae.io;

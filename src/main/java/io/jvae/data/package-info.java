/**
 * Data: MNIST (the IDX reader, raw or gzip, fully validated, and where the files come from), the
 * user's own files (DataFiles: IDX of any type, .npy, .npz, CSV, labels files; Scaling), and the
 * dataset in memory.
 */
package io.jvae.data;

/** MNIST: the IDX reader (raw or gzip, fully validated), the dataset in memory, and where the files come from. */
package io.jvae.data;

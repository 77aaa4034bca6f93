/**
 * Files jvae reads and writes: safetensors checkpoints, a small JSON codec, metrics CSV/JSONL, and
 * AtomicFiles, through which every file that replaces another goes (temp file with the umask's
 * permissions, forced, renamed, directory synced).
 */
package io.jvae.io;

package io.jvae.backend;

/** Memory owned by a backend: a host array or a device allocation. Length in elements. */
public interface Storage {
    long length();
}

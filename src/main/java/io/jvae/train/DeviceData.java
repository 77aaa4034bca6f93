package io.jvae.train;

import io.jvae.backend.Backend;
import io.jvae.backend.Indices;
import io.jvae.backend.Tensor;
import io.jvae.data.Dataset;

/**
 * A dataset uploaded once to the backend: x (D, N), one-hot labels (C, N) when needed, and indices
 * 0..N-1. On the CPU x is the dataset's own array ({@link Backend#constant}), so it must not change
 * while this is in use.
 */
public final class DeviceData {
    public final Dataset host;
    public final Tensor x;        // (D, N)
    public final Tensor oneHot;   // (C, N) or null
    public final Indices identity; // 0..N-1, for in-order evaluation

    public DeviceData(Backend be, Dataset d, int classes) {
        this.host = d;
        this.x = be.constant(d.x(), d.dim(), d.n());
        if (classes > 0) {
            io.jvae.InvalidInputException.require(d.labels() != null, "%s: a conditional model needs labels", d.name());
            for (int l : d.labels())
                io.jvae.InvalidInputException.require(l < classes, "%s: label %d but the model has %d classes", d.name(), l, classes);
            float[] oh = new float[classes * d.n()];
            for (int i = 0; i < d.n(); i++) oh[i * classes + d.labels()[i]] = 1f;
            this.oneHot = be.constant(oh, classes, d.n());
        } else {
            this.oneHot = null;
        }
        int[] id = new int[d.n()];
        for (int i = 0; i < id.length; i++) id[i] = i;
        this.identity = be.allocIndices(d.n());
        be.uploadIndices(id, 0, identity);
    }

    public int n() {
        return host.n();
    }
}

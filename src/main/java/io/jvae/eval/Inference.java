package io.jvae.eval;

import io.jvae.InvalidInputException;
import io.jvae.backend.Backend;
import io.jvae.backend.Indices;
import io.jvae.backend.Tensor;
import io.jvae.model.Vae;

/**
 * Host-side entry points for a trained model, in batches of the model's workspace: the latent
 * means of inputs, the decoder mean of latent codes, reconstructions through z = mu.
 * Arrays are column-major: n inputs of D pixels are a (D, n) float[] (= row-major n x D).
 */
public final class Inference {
    private final Vae vae;
    private final Backend be;
    private final int batch;
    private final Tensor xBuf, yBuf, zBuf, lBuf;
    private final Indices ids;

    public Inference(Vae vae, int batch) {
        this.vae = vae;
        this.be = vae.be;
        this.batch = batch;
        vae.workspace(batch, 1);
        int d = vae.cfg.inputDim(), c = Math.max(1, vae.cfg.classes());
        xBuf = be.alloc(d, batch);
        yBuf = be.alloc(c, batch);
        zBuf = be.alloc(vae.cfg.latent(), batch);
        lBuf = be.alloc(c, batch);
        ids = be.allocIndices(batch);
        int[] id = new int[batch];
        for (int i = 0; i < batch; i++) id[i] = i;
        be.uploadIndices(id, 0, ids);
    }

    private float[] oneHot(int[] labels, int from, int n) {
        int c = vae.cfg.classes();
        float[] oh = new float[c * n];
        for (int j = 0; j < n; j++) {
            int l = labels[from + j];
            if (l < 0 || l >= c) throw new InvalidInputException("label " + l + " outside the model's " + c + " classes");
            oh[j * c + l] = 1f;
        }
        return oh;
    }

    private void requireLabels(int[] labels, int n) {
        if (vae.cfg.conditional() && (labels == null || labels.length < n))
            throw new InvalidInputException("this model is conditional (CVAE): labels are needed");
    }

    /** Latent means (L, n) of x (D, n). */
    public float[] encodeMu(float[] x, int n, int[] labels) {
        return encode(x, n, labels, false)[0];
    }

    /** The posterior q(z|x) = N(mu, exp(lv)) of x (D, n): {mu (L, n), lv (L, n)}. */
    public float[][] encode(float[] x, int n, int[] labels) {
        return encode(x, n, labels, true);
    }

    private float[][] encode(float[] x, int n, int[] labels, boolean logVar) {
        requireLabels(labels, n);
        int lat = vae.cfg.latent();
        float[] mu = new float[lat * n], lv = logVar ? new float[lat * n] : null;
        for (int s = 0; s < n; s += batch) {
            int b = Math.min(batch, n - s);
            load(x, s, b, labels);
            vae.encode();
            be.download(vae.mu(), mu, s * lat);
            if (logVar) be.download(vae.logVar(), lv, s * lat);
        }
        return new float[][] {mu, lv};
    }

    private void load(float[] x, int s, int b, int[] labels) {
        int d = vae.cfg.inputDim();
        be.upload(x, s * d, xBuf.firstCols(b));
        Tensor oh = null;
        if (vae.cfg.conditional()) {
            oh = yBuf.view(0, vae.cfg.classes(), b);
            be.upload(oneHot(labels, s, b), 0, oh);
        }
        vae.loadBatch(xBuf.firstCols(b), oh, ids.slice(0, b));
    }

    /** Decoder means (D, n) of latent codes z (L, n). */
    public float[] decode(float[] z, int n, int[] labels) {
        requireLabels(labels, n);
        int d = vae.cfg.inputDim(), lat = vae.cfg.latent();
        float[] out = new float[d * n];
        for (int s = 0; s < n; s += batch) {
            int b = Math.min(batch, n - s);
            be.upload(z, s * lat, zBuf.firstCols(b));
            Tensor lab = null;
            if (vae.cfg.conditional()) {
                lab = lBuf.view(0, vae.cfg.classes(), b);
                be.upload(oneHot(labels, s, b), 0, lab);
            }
            be.download(vae.decodeMean(zBuf.firstCols(b), lab), out, s * d);
        }
        return out;
    }

    /** Reconstructions (D, n): the decoder mean at z = mu(x). */
    public float[] reconstruct(float[] x, int n, int[] labels) {
        return decode(encodeMu(x, n, labels), n, labels);
    }

    public Vae vae() {
        return vae;
    }
}

package io.jvae.train;

import io.jvae.backend.Backend;
import io.jvae.backend.Tensor;
import io.jvae.model.Vae;

/**
 * The test loss: -ELBO per example in nats over a whole dataset, in batches of the model's
 * workspace, one sample of z per input drawn from a fixed seed (so two evaluations of the same
 * parameters agree exactly). The sums stay on the backend until the end.
 */
public final class Evaluator {
    private final Vae vae;
    private final Tensor stats; // (4, 1): [sum recon, sum KL, -, -]
    private final float[] host = new float[4];

    public Evaluator(Vae vae) {
        this.vae = vae;
        this.stats = vae.be.alloc(4, 1);
    }

    public Losses evaluate(DeviceData data, long seed, boolean binarize) {
        Backend be = vae.be;
        be.fill(stats, 0f);
        int bmax = vae.maxBatch();
        long step = 0;
        for (int start = 0; start < data.n(); start += bmax, step++) {
            int b = Math.min(bmax, data.n() - start);
            vae.loadBatch(data.x, data.oneHot, data.identity.slice(start, b));
            if (binarize) vae.binarizeBatch(Seeds.derive(seed, Seeds.BINARIZE), (long) start * data.x.rows);
            vae.evalStep(Seeds.derive(seed, Seeds.NOISE), step * vae.noisePerStep(), stats);
        }
        be.download(stats, host, 0);
        return Losses.of(host[0], host[1], data.n());
    }
}

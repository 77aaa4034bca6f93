package io.jvae.train;

import io.jvae.model.Vae;

/**
 * The test loss: -ELBO per example in nats over a whole dataset, in batches of the model's
 * workspace, one sample of z per input drawn from a fixed seed (so two evaluations of the same
 * parameters agree exactly). The batches' sums are added as training adds its steps' ({@link
 * LossSums}): in float32 on the backend for {@link Trainer#CHECK_EVERY} batches at most, then in
 * double on the host (one float32 sum over all of them was off by 6.8 nats in 5.4e6 over 2,000
 * batches, LossSumsTest).
 */
public final class Evaluator {
    private final Vae vae;
    private final LossSums sums; // over (4, 1) stats on the backend: [sum recon, sum KL, -, -]

    public Evaluator(Vae vae) {
        this.vae = vae;
        this.sums = new LossSums(vae.be, vae.be.alloc(4, 1));
    }

    public Losses evaluate(DeviceData data, long seed, boolean binarize) {
        sums.reset();
        int bmax = vae.maxBatch();
        long step = 0;
        for (int start = 0; start < data.n(); start += bmax, step++) {
            int b = Math.min(bmax, data.n() - start);
            vae.loadBatch(data.x, data.oneHot, data.identity.slice(start, b));
            if (binarize) vae.binarizeBatch(Seeds.derive(seed, Seeds.BINARIZE), (long) start * data.x.rows);
            vae.evalStep(Seeds.derive(seed, Seeds.NOISE), step * vae.noisePerStep(), sums.stats());
            if ((step + 1) % Trainer.CHECK_EVERY == 0) sums.flush((int) step + 1);
        }
        sums.flush((int) step);
        double[] s = sums.await();
        return Losses.of(s[0], s[1], data.n());
    }
}

package io.jvae.api;

/**
 * One finished training epoch, as {@link VaeModel#fit} reports it to the
 * {@link VaeBuilder#onEpoch} callback and in {@link FitResult#history()}. Losses are the negative
 * ELBO per example in nats (reconstruction + beta-weighted KL; an L2 penalty is not included).
 *
 * @param epoch          1-based epoch number (continues from the saved run when resuming)
 * @param trainLoss      mean loss over the epoch's training steps
 * @param trainRecon     its reconstruction term
 * @param trainKl        its KL term
 * @param validationLoss loss on the validation set after the epoch (on the training data when no
 *                       validation set was given), one seeded sample of z per example
 * @param validationRecon its reconstruction term
 * @param validationKl    its KL term
 * @param seconds        wall-clock seconds of the epoch's training steps
 */
public record Epoch(int epoch, double trainLoss, double trainRecon, double trainKl,
                    double validationLoss, double validationRecon, double validationKl, double seconds) {

    static Epoch of(io.jvae.train.EpochMetrics m) {
        return new Epoch(m.epoch(), m.train().loss(), m.train().recon(), m.train().kl(),
                m.test().loss(), m.test().recon(), m.test().kl(), m.seconds());
    }
}

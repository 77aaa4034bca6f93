package io.jvae.train;

import io.jvae.backend.Backend;
import io.jvae.backend.Indices;
import io.jvae.backend.StepReplay;
import io.jvae.backend.Tensor;
import io.jvae.model.Vae;

/**
 * A training step as the Trainer and `jvae bench` run it: gather the batch, binarize it if asked,
 * the ELBO (or IWAE) step, one optimizer update. Two ways to run it, same calls, same results:
 * <ul>
 *   <li>call by call (the CPU; CUDA with graphs off): the epoch's permutation lives on the backend
 *       and each step gathers a slice of it;</li>
 *   <li>replayed ({@link Backend#stepReplay}, CUDA Graphs): the first step of each batch size is
 *       recorded, every step refreshes the device step block (its {@link StepReplay.Values} and
 *       batch indices) with one small copy and replays the record.</li>
 * </ul>
 */
public final class TrainingSteps implements AutoCloseable {
    private final Backend be;
    private final Vae vae;
    private final Optimizer opt;
    private final TrainConfig tc;
    private final Tensor x, oneHot, stats; // (D, N) data, (C, N) labels or null, (4, 1) loss sums
    private final long noiseSeed, binSeed;
    private final StepReplay replay;       // null: call by call
    private final Indices perm;            // (N) the epoch's order on the backend (call by call only)
    private int[] order;                   // the epoch's order on the host (replayed)

    /** replay: record and replay steps where the backend can (CUDA Graphs); false or a CPU: call by call. */
    public TrainingSteps(Vae vae, Optimizer opt, TrainConfig tc, Tensor x, Tensor oneHot, Tensor stats, long noiseSeed, long binSeed,
                         boolean replay) {
        this.be = vae.be;
        this.vae = vae;
        this.opt = opt;
        this.tc = tc;
        this.x = x;
        this.oneHot = oneHot;
        this.stats = stats;
        this.noiseSeed = noiseSeed;
        this.binSeed = binSeed;
        this.replay = replay ? be.stepReplay(vae.maxBatch()) : null;
        this.perm = this.replay == null ? be.allocIndices(x.cols) : null;
    }

    /** Whether steps are replayed from records (CUDA Graphs). */
    public boolean replayed() {
        return replay != null;
    }

    /** The order of the next steps' examples: step s of b inputs trains on order[start .. start + b). */
    public void epoch(int[] order) {
        if (order.length != x.cols) throw new IllegalArgumentException("an order of " + order.length + " for " + x.cols + " examples");
        if (replay != null) this.order = order;
        else be.uploadIndices(order, 0, perm);
    }

    /** Global step number `step` (noise offsets), beta: the KL weight now; trains on order[start .. start + b). */
    public void step(long step, int start, int b, float beta) {
        long noise = step * vae.noisePerStep(), bin = step * (long) vae.cfg.inputDim() * vae.maxBatch();
        boolean iwae = tc.objective() == TrainConfig.Objective.IWAE;
        if (replay == null) {
            body(perm.slice(start, b), noise, bin, beta, iwae);
            opt.step();
            return;
        }
        long t = opt.steps() + 1;
        StepReplay.Values v = new StepReplay.Values(noise, bin, iwae ? 0f : beta, opt.biasCorrection1(t), opt.biasCorrection2(t),
                opt.learningRate());
        replay.run(v, order, start, b, () -> {
            body(replay.indices(b), v.noiseOffset(), v.binarizeOffset(), v.beta(), iwae);
            opt.update(t);
        });
        opt.advance();
    }

    private void body(Indices idx, long noise, long bin, float beta, boolean iwae) {
        vae.loadBatch(x, oneHot, idx);
        if (tc.binarize()) vae.binarizeBatch(binSeed, bin);
        if (iwae) vae.trainStepIwae(noiseSeed, noise, stats);
        else vae.trainStep(noiseSeed, noise, beta, stats);
    }

    @Override
    public void close() {
        if (replay != null) replay.close();
        else be.free(perm);
    }
}

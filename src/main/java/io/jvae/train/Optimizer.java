package io.jvae.train;

import io.jvae.backend.Backend;
import io.jvae.backend.Tensor;
import io.jvae.model.Params;
import io.jvae.model.Vae;

/**
 * One update of the whole flat parameter buffer per step: one Adam or RMSprop launch over all
 * parameters, with the L2 gradient 2 l2 W of the weights (Keras' kernel_regularizer; biases are
 * not decayed) fused in through a decay vector made once: 2 l2 at the weights, 0 at the biases.
 */
public final class Optimizer {
    private final Backend be;
    private final Vae vae;
    private final TrainConfig tc;
    final Tensor m, v;      // (P, 1) Adam first/second moments; RMSprop uses m as its mean square
    private final Tensor decay;   // (P, 1) 2 l2 at the weights, 0 at the biases; null without L2
    long t;                 // steps taken
    private float lr;       // the learning rate now (the schedule's for the current epoch)

    public Optimizer(Vae vae, TrainConfig tc) {
        this.be = vae.be;
        this.vae = vae;
        this.tc = tc;
        this.lr = tc.lr();
        this.m = be.alloc(vae.params.total, 1);
        this.v = tc.optimizer() == OptimizerKind.ADAM ? be.alloc(vae.params.total, 1) : be.alloc(1, 1);
        if (tc.l2() > 0) {
            float[] d = new float[vae.params.total];
            for (Params.Entry e : vae.weights()) java.util.Arrays.fill(d, (int) e.offset(), (int) e.offset() + e.size(), 2f * tc.l2());
            this.decay = be.alloc(vae.params.total, 1);
            be.upload(d, 0, decay);
        } else {
            this.decay = null;
        }
    }

    /** One update: step t + 1. */
    public void step() {
        t++;
        update(t);
    }

    /** The kernels of update number t (1-based) without counting it (a captured step counts with {@link #advance}). */
    public void update(long t) {
        Params p = vae.params;
        if (tc.optimizer() == OptimizerKind.ADAM) {
            be.adamStep(p.values, p.grads, m, v, decay, lr, tc.beta1(), tc.beta2(), tc.eps(), biasCorrection1(t), biasCorrection2(t));
        } else {
            be.rmspropStep(p.values, p.grads, m, decay, lr, tc.rho(), tc.eps());
        }
    }

    /** The learning rate of the next updates (the Trainer sets each epoch's from the schedule). */
    public void setLearningRate(float lr) {
        this.lr = lr;
    }

    public float learningRate() {
        return lr;
    }

    /** Counts one update made by a replayed step. */
    public void advance() {
        t++;
    }

    /** Adam's 1 - b1^t of update t (1 for RMSprop, which has none). */
    public float biasCorrection1(long t) {
        return tc.optimizer() == OptimizerKind.ADAM ? (float) (1.0 - Math.pow(tc.beta1(), t)) : 1f;
    }

    /** Adam's 1 - b2^t of update t (1 for RMSprop). */
    public float biasCorrection2(long t) {
        return tc.optimizer() == OptimizerKind.ADAM ? (float) (1.0 - Math.pow(tc.beta2(), t)) : 1f;
    }

    public long steps() {
        return t;
    }

    public Tensor first() {
        return m;
    }

    public Tensor second() {
        return v;
    }

    public void setSteps(long t) {
        this.t = t;
    }
}

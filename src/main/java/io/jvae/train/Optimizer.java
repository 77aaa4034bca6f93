package io.jvae.train;

import io.jvae.backend.Backend;
import io.jvae.backend.Tensor;
import io.jvae.model.Params;
import io.jvae.model.Vae;

/**
 * One update of the whole flat parameter buffer per step: L2 gradient 2 l2 W added to each
 * weight's gradient (axpy), then one Adam or RMSprop launch over all parameters.
 */
public final class Optimizer {
    private final Backend be;
    private final Vae vae;
    private final TrainConfig tc;
    final Tensor m, v;      // (P, 1) Adam first/second moments; RMSprop uses m as its mean square
    private final Tensor[] weights, weightGrads; // views of every weight and its gradient, made once (L2 decay)
    long t;                 // steps taken

    public Optimizer(Vae vae, TrainConfig tc) {
        this.be = vae.be;
        this.vae = vae;
        this.tc = tc;
        this.m = be.alloc(vae.params.total, 1);
        this.v = tc.optimizer() == OptimizerKind.ADAM ? be.alloc(vae.params.total, 1) : be.alloc(1, 1);
        java.util.List<Params.Entry> ws = vae.weights();
        this.weights = ws.stream().map(vae.params::value).toArray(Tensor[]::new);
        this.weightGrads = ws.stream().map(vae.params::grad).toArray(Tensor[]::new);
    }

    public void step() {
        Params p = vae.params;
        if (tc.l2() > 0) for (int i = 0; i < weights.length; i++) be.axpy(2f * tc.l2(), weights[i], weightGrads[i]);
        t++;
        if (tc.optimizer() == OptimizerKind.ADAM) {
            float bc1 = (float) (1.0 - Math.pow(tc.beta1(), t)), bc2 = (float) (1.0 - Math.pow(tc.beta2(), t));
            be.adamStep(p.values, p.grads, m, v, tc.lr(), tc.beta1(), tc.beta2(), tc.eps(), bc1, bc2);
        } else {
            be.rmspropStep(p.values, p.grads, m, tc.lr(), tc.rho(), tc.eps());
        }
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

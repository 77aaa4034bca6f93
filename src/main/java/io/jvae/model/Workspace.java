package io.jvae.model;

import io.jvae.backend.Backend;
import io.jvae.backend.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Every buffer of a {@link Vae} step, allocated once for batches of up to maxBatch inputs (B)
 * with J samples each; a smaller batch uses column prefixes (firstCols). D = input features,
 * C = classes (CVAE), L = latent, h_i = hidden widths. {@link #floats} counts the same buffers
 * without allocating (MemoryPlan checks it against the free memory first).
 */
final class Workspace implements AutoCloseable {
    private final Backend be;
    private final List<Tensor> allocated = new ArrayList<>(); // what the constructor allocated, freed by close()

    final Tensor x;                   // (D, B) current inputs, pixels in [0,1]
    final Tensor y, yRep;             // (C, B), (C, B*J) one-hot labels, CVAE only (else null)
    final Tensor[] hEnc, dhEnc;       // (h_i, B) encoder activations and their gradients
    final Tensor mu, lv, dmu, dlv;    // (L, B)
    final Tensor kl, klCol;           // (L, B) per-element KL, (B) per input
    final Tensor eps, z, dz;          // (L, B*J)
    final Tensor[] hDec, dhDec;       // (h_i, B*J)
    final Tensor logits, dLogits;     // (D, B*J) decoder output before the sigmoid (without the output bias after a step), its gradient
    final Tensor partials, recCol;    // (LOSS_LANES, B*J) lane sums of -log p per sample, (B*J) their sums
    final Tensor dlvEl;               // (D, B*J) gaussian-learned: per-element gradient of the log-variance, summed by a gemv (else null)
    final Tensor prior, dCol, wIw;    // IWAE: (L, B*J) log p(z) - log q(z|x) terms, (B*J) their sums, (B*J) normalized weights
    final Tensor lse;                 // IWAE: (B) log (1/K) sum_k w_k per input
    final Tensor ones;                // (max(D, B*J, L*B, h, LOSS_LANES), 1) all ones, for row/column sums
    final Tensor zeroBias;            // (D, 1) zeros: output activation without a bias

    /** Allocates the buffers for (maxBatch, samples); on a failure frees what it had allocated. */
    Workspace(Backend be, ModelConfig cfg, int maxBatch, int samples) {
        this.be = be;
        int inD = cfg.inputDim(), latL = cfg.latent(), cls = cfg.classes();
        List<Integer> encH = cfg.encoderHidden(), decH = cfg.decoderHidden();
        int bj = Math.multiplyExact(maxBatch, samples);
        try {
            x = alloc(inD, maxBatch);
            y = cls > 0 ? alloc(cls, maxBatch) : null;
            yRep = cls > 0 ? alloc(cls, bj) : null;
            hEnc = new Tensor[encH.size()];
            dhEnc = new Tensor[encH.size()];
            int widest = Math.max(Math.max(Math.max(inD, bj), Math.multiplyExact(latL, maxBatch)), Backend.LOSS_LANES);
            for (int i = 0; i < encH.size(); i++) {
                hEnc[i] = alloc(encH.get(i), maxBatch);
                dhEnc[i] = alloc(encH.get(i), maxBatch);
                widest = Math.max(widest, encH.get(i));
            }
            mu = alloc(latL, maxBatch);
            lv = alloc(latL, maxBatch);
            dmu = alloc(latL, maxBatch);
            dlv = alloc(latL, maxBatch);
            kl = alloc(latL, maxBatch);
            klCol = alloc(maxBatch, 1);
            eps = alloc(latL, bj);
            z = alloc(latL, bj);
            dz = alloc(latL, bj);
            hDec = new Tensor[decH.size()];
            dhDec = new Tensor[decH.size()];
            for (int i = 0; i < decH.size(); i++) {
                hDec[i] = alloc(decH.get(i), bj);
                dhDec[i] = alloc(decH.get(i), bj);
            }
            logits = alloc(inD, bj);
            dLogits = alloc(inD, bj);
            partials = alloc(Backend.LOSS_LANES, bj);
            dlvEl = cfg.likelihood() == Likelihood.GAUSSIAN_LEARNED ? alloc(inD, bj) : null;
            recCol = alloc(bj, 1);
            prior = alloc(latL, bj);
            dCol = alloc(bj, 1);
            wIw = alloc(bj, 1);
            lse = alloc(maxBatch, 1);
            ones = alloc(widest, 1);
            be.fill(ones, 1f);
            zeroBias = alloc(inD, 1);
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    private Tensor alloc(int rows, int cols) {
        Tensor t = be.alloc(rows, cols);
        allocated.add(t);
        return t;
    }

    /** Frees every buffer (F3: a re-sized workspace does not leak device memory). */
    @Override
    public void close() {
        for (Tensor t : allocated) be.free(t);
        allocated.clear();
    }

    /** Floats the constructor allocates for (maxBatch, samples), computed without allocating (for memory checks). */
    static double floats(ModelConfig cfg, long maxBatch, long samples) {
        double b = maxBatch, bj = (double) maxBatch * samples, d = cfg.inputDim(), l = cfg.latent(), c = cfg.classes();
        double f = d * b + c * b + c * bj + 5 * l * b + b + 4 * l * bj + 2 * d * bj + Backend.LOSS_LANES * bj + 3 * bj + b + Math.max(Math.max(Math.max(d, bj), l * b), Backend.LOSS_LANES) + d;
        f += 2 * d * b + 3 * b; // the batch compressed for the first layer on the CPU (SparseColumns, owned by Vae)
        if (cfg.likelihood() == Likelihood.GAUSSIAN_LEARNED) f += d * bj; // dlvEl
        for (int h : cfg.encoderHidden()) f += 2.0 * h * b;
        for (int h : cfg.decoderHidden()) f += 2.0 * h * bj;
        return f;
    }
}

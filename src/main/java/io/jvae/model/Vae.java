package io.jvae.model;

import io.jvae.backend.Activation;
import io.jvae.backend.Backend;
import io.jvae.backend.Indices;
import io.jvae.backend.Philox;
import io.jvae.backend.SparseColumns;
import io.jvae.backend.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * A VAE (Kingma and Welling 2014) or CVAE (Sohn, Lee, Yan 2015) written once against the
 * {@link Backend}. The training step reads like the ELBO:
 * encode q(z|x) -> reparameterize z = mu + sigma eps -> decode p(x|z) -> -log p(x|z) + beta KL
 * -> backwards in reverse order. Index arithmetic lives in the backends; buffers are allocated
 * once by {@link #workspace} for (max batch, samples) and smaller batches use column prefixes.
 *
 * <p>Loss of a batch of B inputs with J samples each (nats per input):
 * (1/B) sum_b [ (1/J) sum_j -log p(x_b | z_bj) + beta KL(q(z|x_b) || N(0, I)) ].
 */
public final class Vae {
    public final ModelConfig cfg;
    public final Backend be;
    public final Params params;
    private final Dense[] enc, dec;   // hidden layers
    private final Dense headMu, headLv, out;
    private final int inD, latL, cls;

    // ---- workspace (sized by workspace(maxBatch, samples)) ----
    private int maxBatch, samples;
    private final java.util.List<Tensor> workspaceTensors = new java.util.ArrayList<>(); // what workspace() allocated, freed when it re-sizes
    private Tensor x;                 // (D, B) current inputs, pixels in [0,1]
    private Tensor y, yRep;           // (C, B), (C, B*J) one-hot labels, CVAE only
    private Tensor[] hEnc, dhEnc;     // (h_i, B) encoder activations and their gradients
    private Tensor mu, lv, dmu, dlv;  // (L, B)
    private Tensor kl, klCol;         // (L, B) per-element KL, (B) per input
    private Tensor eps, z, dz;        // (L, B*J)
    /** The batch x compressed by the last encode() for the first layer (or not: dense GEMMs), and its arrays. */
    private final io.jvae.backend.SparseInput xSparse = new io.jvae.backend.SparseInput();
    private Tensor[] hDec, dhDec;     // (h_i, B*J)
    private Tensor logits, dLogits;   // (D, B*J) decoder output before the sigmoid (without the output bias after a step), its gradient
    private Tensor partials, recCol;  // (LOSS_LANES, B*J) lane sums of -log p per sample, (B*J) their sums
    private Tensor prior, dCol, wIw;  // IWAE: (L, B*J) log p(z) - log q(z|x) terms, (B*J) their sums, (B*J) normalized weights
    private Tensor lse;               // IWAE: (B) log (1/K) sum_k w_k per input
    private Tensor ones;              // (max(D, B*J, L*B, h, LOSS_LANES), 1) all ones, for row/column sums
    private Tensor zeroBias;          // (D, 1) zeros: output activation without a bias
    private final Tensor outLogvar, dOutLogvar; // (D, 1) the learned log-variance of a gaussian-learned decoder and its gradient, else null
    private Tensor dlvEl;             // (D, B*J) gaussian-learned: per-element gradient of the log-variance, summed by a gemv

    /** The parameter entry of the learned log-variance (gaussian-learned decoder). */
    public static final String LOGVAR = "decoder.out.logvar";
    private int b;                    // inputs in the current batch

    public Vae(Backend be, ModelConfig cfg) {
        this.be = be;
        this.cfg = cfg;
        this.inD = cfg.inputDim();
        this.latL = cfg.latent();
        this.cls = cfg.classes();
        record Spec(String name, int out, int[] parts, Params.Entry w, Params.Entry b) {}
        Params.Builder pb = new Params.Builder();
        List<Spec> specs = new ArrayList<>();
        int[] encIn = cls > 0 ? new int[] {inD, cls} : new int[] {inD};
        int[] in = encIn;
        for (int i = 0; i < cfg.encoderHidden().size(); i++) {
            int h = cfg.encoderHidden().get(i);
            String n = "encoder." + i;
            specs.add(new Spec(n, h, in, pb.add(n + ".weight", h, Dense.sum(in), true), pb.add(n + ".bias", h, 1, false)));
            in = new int[] {h};
        }
        for (String n : new String[] {"encoder.mu", "encoder.logvar"})
            specs.add(new Spec(n, latL, in, pb.add(n + ".weight", latL, Dense.sum(in), true), pb.add(n + ".bias", latL, 1, false)));
        in = cls > 0 ? new int[] {latL, cls} : new int[] {latL};
        for (int i = 0; i < cfg.decoderHidden().size(); i++) {
            int h = cfg.decoderHidden().get(i);
            String n = "decoder." + i;
            specs.add(new Spec(n, h, in, pb.add(n + ".weight", h, Dense.sum(in), true), pb.add(n + ".bias", h, 1, false)));
            in = new int[] {h};
        }
        specs.add(new Spec("decoder.out", inD, in, pb.add("decoder.out.weight", inD, Dense.sum(in), true),
                pb.add("decoder.out.bias", inD, 1, false)));
        // the learned per-feature log-variance of a Gaussian decoder: last, so the other entries' layout and init do not change
        Params.Entry lvEntry = cfg.likelihood() == Likelihood.GAUSSIAN_LEARNED ? pb.add(LOGVAR, inD, 1, false) : null;
        this.params = pb.build(be);
        this.outLogvar = lvEntry == null ? null : params.value(lvEntry);
        this.dOutLogvar = lvEntry == null ? null : params.grad(lvEntry);
        List<Dense> layers = new ArrayList<>();
        for (Spec s : specs) layers.add(new Dense(s.name, s.out, s.parts, s.w, s.b, params));
        int ne = cfg.encoderHidden().size(), nd = cfg.decoderHidden().size();
        this.enc = layers.subList(0, ne).toArray(new Dense[0]);
        this.headMu = layers.get(ne);
        this.headLv = layers.get(ne + 1);
        this.dec = layers.subList(ne + 2, ne + 2 + nd).toArray(new Dense[0]);
        this.out = layers.get(ne + 2 + nd);
    }

    /** Copies the parameters of a model with the same config (e.g. to evaluate while training continues). */
    public void copyParamsFrom(Vae other) {
        if (!other.cfg.equals(cfg)) throw new IllegalArgumentException("copyParamsFrom: another architecture");
        be.copy(other.params.values, params.values);
    }

    /** Initialises every parameter from Philox uniforms keyed by seed (see {@link Init}). */
    public void initParams(long seed) {
        float[] host = new float[params.total];
        long counter = 0;
        for (Params.Entry e : params.entries) {
            boolean logvar = e.name().equals(LOGVAR); // starts at 0: unit variance
            int fanIn = e.weight() ? e.cols() : logvar ? 1 : weightOf(e).cols();
            int fanOut = e.weight() ? e.rows() : logvar ? 1 : weightOf(e).rows();
            double bound;
            if (logvar) bound = 0.0;
            else if (cfg.init() == Init.TORCH) bound = 1.0 / Math.sqrt(fanIn);
            else bound = e.weight() ? Math.sqrt(6.0 / (fanIn + fanOut)) : 0.0;
            Philox.uniforms(seed, counter, host, (int) e.offset(), e.size());
            counter += e.size();
            for (int i = 0; i < e.size(); i++) {
                int k = (int) e.offset() + i;
                host[k] = (float) ((2.0 * host[k] - 1.0) * bound);
            }
        }
        be.upload(host, 0, params.values);
    }

    private Params.Entry weightOf(Params.Entry bias) {
        String w = bias.name().replace(".bias", ".weight");
        for (Params.Entry e : params.entries) if (e.name().equals(w)) return e;
        throw new IllegalStateException("no weight for " + bias.name());
    }

    /** The weight entries (L2 weight decay applies to these, not to biases, as Keras' kernel_regularizer). */
    public List<Params.Entry> weights() {
        return params.entries.stream().filter(Params.Entry::weight).toList();
    }

    /**
     * Sum of the squared weights (biases excluded), in double: l2 times this is the L2 penalty that
     * Keras' kernel_regularizer adds to the loss it trains on and to the val_loss it reports.
     */
    public double sumOfSquaredWeights() {
        float[] h = new float[params.total];
        be.download(params.values, h, 0);
        double s = 0;
        for (Params.Entry e : weights())
            for (int i = (int) e.offset(), end = i + e.size(); i < end; i++) s += (double) h[i] * h[i];
        return s;
    }

    // ---- workspace ----

    /** Allocates every buffer of a step for batches of up to maxBatch inputs and J samples each. */
    public void workspace(int maxBatch, int samples) {
        if (maxBatch == this.maxBatch && samples == this.samples) return;
        if (maxBatch <= 0 || samples <= 0) throw new IllegalArgumentException("workspace(" + maxBatch + ", " + samples + ")");
        for (Tensor t : workspaceTensors) be.free(t); // the previous size's buffers (F3: a re-sized workspace does not leak device memory)
        workspaceTensors.clear();
        this.maxBatch = maxBatch;
        this.samples = samples;
        int bj = Math.multiplyExact(maxBatch, samples);
        x = ws(inD, maxBatch);
        if (cls > 0) {
            y = ws(cls, maxBatch);
            yRep = ws(cls, bj);
        }
        hEnc = new Tensor[enc.length];
        dhEnc = new Tensor[enc.length];
        int widest = Math.max(Math.max(Math.max(inD, bj), Math.multiplyExact(latL, maxBatch)), Backend.LOSS_LANES);
        for (int i = 0; i < enc.length; i++) {
            hEnc[i] = ws(enc[i].out, maxBatch);
            dhEnc[i] = ws(enc[i].out, maxBatch);
            widest = Math.max(widest, enc[i].out);
        }
        mu = ws(latL, maxBatch);
        lv = ws(latL, maxBatch);
        dmu = ws(latL, maxBatch);
        dlv = ws(latL, maxBatch);
        kl = ws(latL, maxBatch);
        klCol = ws(maxBatch, 1);
        eps = ws(latL, bj);
        z = ws(latL, bj);
        dz = ws(latL, bj);
        hDec = new Tensor[dec.length];
        dhDec = new Tensor[dec.length];
        for (int i = 0; i < dec.length; i++) {
            hDec[i] = ws(dec[i].out, bj);
            dhDec[i] = ws(dec[i].out, bj);
        }
        logits = ws(inD, bj);
        dLogits = ws(inD, bj);
        partials = ws(Backend.LOSS_LANES, bj);
        dlvEl = outLogvar == null ? null : ws(inD, bj);
        recCol = ws(bj, 1);
        prior = ws(latL, bj);
        dCol = ws(bj, 1);
        wIw = ws(bj, 1);
        lse = ws(maxBatch, 1);
        ones = ws(widest, 1);
        be.fill(ones, 1f);
        zeroBias = ws(inD, 1);
    }

    private Tensor ws(int rows, int cols) {
        Tensor t = be.alloc(rows, cols);
        workspaceTensors.add(t);
        return t;
    }

    /** Floats {@link #workspace} allocates for (maxBatch, samples), computed without allocating (for memory checks). */
    public static double workspaceFloats(ModelConfig cfg, long maxBatch, long samples) {
        double b = maxBatch, bj = (double) maxBatch * samples, d = cfg.inputDim(), l = cfg.latent(), c = cfg.classes();
        double f = d * b + c * b + c * bj + 5 * l * b + b + 4 * l * bj + 2 * d * bj + Backend.LOSS_LANES * bj + 3 * bj + b + Math.max(Math.max(Math.max(d, bj), l * b), Backend.LOSS_LANES) + d;
        f += 2 * d * b + 3 * b; // the batch compressed for the first layer on the CPU (SparseColumns)
        if (cfg.likelihood() == Likelihood.GAUSSIAN_LEARNED) f += d * bj; // dlvEl
        for (int h : cfg.encoderHidden()) f += 2.0 * h * b;
        for (int h : cfg.decoderHidden()) f += 2.0 * h * bj;
        return f;
    }

    /** Parameters of a config, computed without allocating. */
    public static double parameterCount(ModelConfig cfg) {
        double p = 0;
        int in = cfg.inputDim() + cfg.classes();
        for (int h : cfg.encoderHidden()) {
            p += (double) in * h + h;
            in = h;
        }
        p += 2.0 * ((double) in * cfg.latent() + cfg.latent());
        in = cfg.latent() + cfg.classes();
        for (int h : cfg.decoderHidden()) {
            p += (double) in * h + h;
            in = h;
        }
        return p + (double) in * cfg.inputDim() + cfg.inputDim() + (cfg.likelihood() == Likelihood.GAUSSIAN_LEARNED ? cfg.inputDim() : 0);
    }

    public int maxBatch() {
        return maxBatch;
    }

    public int samples() {
        return samples;
    }

    /** Normals drawn per full batch: the noise offset advances by this much per step. */
    public long noisePerStep() {
        return (long) latL * maxBatch * samples;
    }

    // ---- the batch ----

    /**
     * Gathers columns idx of the backend-resident dataset (D, N) and, for a CVAE, of its one-hot
     * labels (C, N) into the workspace. Returns the batch size.
     */
    public int loadBatch(Tensor dataX, Tensor dataOneHot, Indices idx) {
        int n = idx.length;
        if (n <= 0 || n > maxBatch) throw new IllegalArgumentException("batch of " + n + " with workspace for " + maxBatch);
        if (dataX.rows != inD)
            throw new io.jvae.InvalidInputException("data has " + dataX.rows + " features per example, the model expects " + inD);
        b = n;
        be.gatherColumns(dataX, idx, x.firstCols(n));
        if (cls > 0) {
            if (dataOneHot == null || dataOneHot.rows != cls)
                throw new io.jvae.InvalidInputException("a conditional model needs labels with " + cls + " classes");
            be.gatherColumns(dataOneHot, idx, y.firstCols(n));
            for (int j = 0; j < samples; j++) be.gatherColumns(dataOneHot, idx, yRep.cols(j * n, n));
        }
        return n;
    }

    /** x = Bernoulli(x) with Philox uniforms (dynamic binarization). */
    public void binarizeBatch(long seed, long offset) {
        be.binarize(x.firstCols(b), seed, offset);
    }

    // ---- the ELBO, forward ----

    /** q(z|x): mu, lv (L, b) from x (D, b) [and y (C, b)]. */
    public void encode() {
        Tensor[] in = cls > 0 ? new Tensor[] {x.firstCols(b), y.firstCols(b)} : new Tensor[] {x.firstCols(b)};
        SparseColumns xs = null;
        if (enc.length > 0) xs = xSparse.compress(be, in[0]);
        else xSparse.clear();
        for (int i = 0; i < enc.length; i++) {
            enc[i].forward(be, in, i == 0 ? xs : null, hEnc[i].firstCols(b), cfg.activation());
            in = new Tensor[] {hEnc[i].firstCols(b)};
        }
        headMu.forward(be, in, mu.firstCols(b), Activation.IDENTITY);
        headLv.forward(be, in, lv.firstCols(b), Activation.IDENTITY);
    }

    /** Whether the last encode() multiplied the batch compressed (the backend's sparse first layer). */
    public boolean sparseInput() {
        return xSparse.active();
    }

    /** z = mu + exp(0.5 lv) eps, eps ~ N(0, I) from Philox(seed, offset): (L, b*J). */
    public void reparameterize(long seed, long offset) {
        int bj = b * samples;
        be.reparamForward(mu.firstCols(b), lv.firstCols(b), eps.firstCols(bj), z.firstCols(bj), seed, offset);
    }

    private void decodeInto(Tensor zIn, Tensor labels, Tensor outT) {
        decodeHidden(zIn, labels);
        out.forward(be, hiddenOut(zIn, labels), outT, Activation.IDENTITY);
    }

    /** The decoder's hidden layers on zIn (L, n) [and the labels]. */
    private void decodeHidden(Tensor zIn, Tensor labels) {
        int n = zIn.cols;
        Tensor[] in = cls > 0 ? new Tensor[] {zIn, labels} : new Tensor[] {zIn};
        for (int i = 0; i < dec.length; i++) {
            dec[i].forward(be, in, hDec[i].firstCols(n), cfg.activation());
            in = new Tensor[] {hDec[i].firstCols(n)};
        }
    }

    /** The output layer's input after decodeHidden. */
    private Tensor[] hiddenOut(Tensor zIn, Tensor labels) {
        int n = zIn.cols;
        if (dec.length > 0) return new Tensor[] {hDec[dec.length - 1].firstCols(n)};
        return cls > 0 ? new Tensor[] {zIn, labels} : new Tensor[] {zIn};
    }

    /**
     * p(x|z) of the current z: the decoder, then the loss end in one pass (the output bias added
     * on the fly, -log p(x|z) summed per sample into recCol, never stored per element, and its
     * gradient scaled by 1/(b J) into dLogits). logits holds the output layer's W h without its bias
     * afterwards.
     */
    public void reconstructionLoss() {
        reconstructionLoss(1f / (b * samples));
    }

    private void reconstructionLoss(float scale) {
        int bj = b * samples;
        Tensor zIn = z.firstCols(bj), labels = cls > 0 ? yRep.firstCols(bj) : null;
        decodeHidden(zIn, labels);
        out.linear(be, hiddenOut(zIn, labels), null, logits.firstCols(bj));
        Tensor pre = logits.firstCols(bj), xb = x.firstCols(b), g = dLogits.firstCols(bj), p = partials.firstCols(bj);
        switch (cfg.likelihood()) {
            case BERNOULLI -> be.sigmoidBce(pre, out.b, xb, g, p, scale);
            case GAUSSIAN -> be.gaussianNll(pre, out.b, xb, g, p, scale);
            case GAUSSIAN_LEARNED -> be.gaussianNllVar(pre, out.b, xb, outLogvar, g, dlvEl.firstCols(bj), p, scale);
        }
        be.gemv(true, Backend.LOSS_LANES, bj, 1f, p, Backend.LOSS_LANES, ones, 0f, recCol.view(0, bj, 1));
    }

    /**
     * stats[0] += sum_b (1/J) sum_j -log p(x_b|z_bj); stats[1] += sum_b KL_b, from the per-sample
     * sums reconstructionLoss() left in recCol (b*J) and the per-element KL, whose per-input sums
     * stay in klCol (b). Sums go through gemv with a ones vector.
     */
    public void accumulate(Tensor stats) {
        int bj = b * samples;
        be.gemv(true, bj, 1, 1f / samples, recCol.view(0, bj, 1), bj, ones, 1f, stats.view(0, 1, 1));
        be.gemv(true, latL, b, 1f, kl.firstCols(b), latL, ones, 0f, klCol.view(0, b, 1));
        be.gemv(true, b, 1, 1f, klCol.view(0, b, 1), b, ones, 1f, stats.view(1, 1, 1));
    }

    // ---- the ELBO, backward ----

    /** Gradients of the batch loss w.r.t. every parameter into params.grads (overwritten). */
    public void backward(float beta) {
        decoderBackward();
        int bj = b * samples;
        // reparameterization + KL: dz -> dmu, dlv
        be.reparamKlBackward(mu.firstCols(b), lv.firstCols(b), eps.firstCols(bj), dz.firstCols(bj),
                dmu.firstCols(b), dlv.firstCols(b), kl.firstCols(b), beta, 1f / b);
        encoderBackward();
    }

    /** dLogits -> ... -> dz (L, b*J), decoder gradients written. */
    private void decoderBackward() {
        int bj = b * samples;
        if (dOutLogvar != null) be.gemv(false, inD, bj, 1f, dlvEl.firstCols(bj), inD, ones, 0f, dOutLogvar);
        Tensor[] dzIn = cls > 0 ? new Tensor[] {dz.firstCols(bj), null} : new Tensor[] {dz.firstCols(bj)};
        Tensor[] zIn = cls > 0 ? new Tensor[] {z.firstCols(bj), yRep.firstCols(bj)} : new Tensor[] {z.firstCols(bj)};
        Tensor dy = dLogits.firstCols(bj);
        for (int i = dec.length; i >= 0; i--) {
            Dense layer = i == dec.length ? out : dec[i];
            Tensor[] in = i == 0 ? zIn : new Tensor[] {hDec[i - 1].firstCols(bj)};
            Tensor[] dIn = i == 0 ? dzIn : new Tensor[] {dhDec[i - 1].firstCols(bj)};
            layer.backward(be, in, dy, dIn, 0f, ones);
            if (i > 0) {
                dy = dhDec[i - 1].firstCols(bj);
                be.actBackward(dy, hDec[i - 1].firstCols(bj), cfg.activation());
            }
        }
    }

    /** (dmu, dlv) -> ... encoder gradients written (no gradient for the data). */
    private void encoderBackward() {
        Tensor[] xIn = cls > 0 ? new Tensor[] {x.firstCols(b), y.firstCols(b)} : new Tensor[] {x.firstCols(b)};
        int ne = enc.length;
        Tensor[] headIn = ne == 0 ? xIn : new Tensor[] {hEnc[ne - 1].firstCols(b)};
        Tensor[] dHead = ne == 0 ? null : new Tensor[] {dhEnc[ne - 1].firstCols(b)};
        headMu.backward(be, headIn, dmu.firstCols(b), dHead, 0f, ones);
        headLv.backward(be, headIn, dlv.firstCols(b), dHead, 1f, ones);
        for (int i = ne - 1; i >= 0; i--) {
            Tensor d = dhEnc[i].firstCols(b);
            be.actBackward(d, hEnc[i].firstCols(b), cfg.activation());
            Tensor[] in = i == 0 ? xIn : new Tensor[] {hEnc[i - 1].firstCols(b)};
            Tensor[] dIn = i == 0 ? null : new Tensor[] {dhEnc[i - 1].firstCols(b)};
            SparseColumns xs = i == 0 ? xSparse.of(xIn[0]) : null; // the compressed batch only if it is this x
            enc[i].backward(be, in, xs, d, dIn, 0f, ones);
        }
    }

    // ---- steps ----

    /** One training step's math on the loaded batch: forward, loss, stats, backward. */
    public void trainStep(long seed, long offset, float beta, Tensor stats) {
        encode();
        reparameterize(seed, offset);
        reconstructionLoss();
        backward(beta);          // also writes the per-element KL
        accumulate(stats);
    }

    /** Forward only: the loss terms of the loaded batch added to stats. */
    public void evalStep(long seed, long offset, Tensor stats) {
        encode();
        reparameterize(seed, offset);
        reconstructionLoss();
        be.klForward(mu.firstCols(b), lv.firstCols(b), kl.firstCols(b));
        accumulate(stats);
    }

    // ---- IWAE (Burda, Grosse, Salakhutdinov 2016) ----

    /**
     * IWAE forward: log weights a_bk = log p(x|z_bk) + log p(z_bk) - log q(z_bk|x) for the J = K samples,
     * their normalized weights w (b*K) and lse_b = log (1/K) sum_k exp(a_bk); stats[2] += -sum_b lse_b.
     * dLogits holds sigmoid(l) - x (unscaled) afterwards.
     */
    private void iwaeForward(long seed, long offset, Tensor stats) {
        int bj = b * samples;
        encode();
        reparameterize(seed, offset);
        reconstructionLoss(1f);
        be.logPriorRatio(lv.firstCols(b), eps.firstCols(bj), z.firstCols(bj), prior.firstCols(bj));
        be.gemv(true, latL, bj, 1f, prior.firstCols(bj), latL, ones, 0f, dCol.view(0, bj, 1));
        be.iwaeWeights(recCol.view(0, bj, 1), dCol.view(0, bj, 1), wIw.view(0, bj, 1), lse.view(0, b, 1), samples);
        be.gemv(true, b, 1, -1f, lse.view(0, b, 1), b, ones, 1f, stats.view(2, 1, 1));
    }

    /**
     * One IWAE training step on the loaded batch: loss -(1/B) sum_b lse_b; its gradient is the
     * normalized-weight average of the per-sample gradients of a_bk (eq. 14 of the paper). With
     * z = mu + sigma eps: d a / d z = d log p(x|z)/dz - z, d a / d lv (direct) = 1/2. stats[0], [1]
     * get the usual ELBO terms (for reporting), stats[2] the IWAE loss sum.
     */
    public void trainStepIwae(long seed, long offset, Tensor stats) {
        int bj = b * samples;
        iwaeForward(seed, offset, stats);
        be.scaleColumns(dLogits.firstCols(bj), wIw.view(0, bj, 1), 1f / b);
        if (dlvEl != null) be.scaleColumns(dlvEl.firstCols(bj), wIw.view(0, bj, 1), 1f / b);
        decoderBackward();
        be.addScaledColumns(dz.firstCols(bj), z.firstCols(bj), wIw.view(0, bj, 1), 1f / b);
        // beta = 0: no analytic KL gradient (the prior and posterior enter through a); kl is still written for reporting
        be.reparamKlBackward(mu.firstCols(b), lv.firstCols(b), eps.firstCols(bj), dz.firstCols(bj),
                dmu.firstCols(b), dlv.firstCols(b), kl.firstCols(b), 0f, 1f / b);
        be.axpy(-0.5f / b, ones.view(0, latL * b, 1), dlv.firstCols(b).flat());
        encoderBackward();
        accumulate(stats); // recCol was summed by iwaeForward
    }

    /** The IWAE loss terms of the loaded batch (forward only): stats[2] += -sum_b lse_b. */
    public void evalStepIwae(long seed, long offset, Tensor stats) {
        iwaeForward(seed, offset, stats);
    }

    // ---- inference helpers (for figures and scores) ----

    /** mu, lv of the loaded batch after {@link #encode()}: (L, b) views. */
    public Tensor mu() {
        return mu.firstCols(b);
    }

    public Tensor logVar() {
        return lv.firstCols(b);
    }

    /** Per-sample -log p(x|z) (b*J) and per-input KL (b) of the last accumulate(). */
    public Tensor reconPerSample() {
        return recCol.view(0, b * samples, 1);
    }

    public Tensor klPerInput() {
        return klCol.view(0, b, 1);
    }

    public Tensor z() {
        return z.firstCols(b * samples);
    }

    /** The noise of the last reparameterize(): (L, b*J). */
    public Tensor eps() {
        return eps.firstCols(b * samples);
    }

    public Tensor x() {
        return x.firstCols(b);
    }

    /**
     * Decodes the given latent codes (L, n), n <= maxBatch*J, with labels (C, n) for a CVAE, to
     * the decoder mean: sigmoid(logits) for Bernoulli, the mean for Gaussian. Returns a (D, n) view
     * of the workspace, valid until the next call.
     */
    public Tensor decodeMean(Tensor zIn, Tensor labels) {
        int n = zIn.cols;
        if (zIn.rows != latL) throw new IllegalArgumentException("z has " + zIn.rows + " rows, latent is " + latL);
        Tensor o = logits.firstCols(n);
        decodeInto(zIn, labels, o);
        if (cfg.likelihood() == Likelihood.BERNOULLI) be.biasActForward(o, zeroBias, Activation.SIGMOID);
        return o;
    }

    /** The decoder mean of the current z (after reparameterize or setting z). */
    public Tensor decodeMeanOfZ() {
        int bj = b * samples;
        return decodeMean(z.firstCols(bj), cls > 0 ? yRep.firstCols(bj) : null);
    }
}

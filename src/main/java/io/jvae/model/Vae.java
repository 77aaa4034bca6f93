package io.jvae.model;

import io.jvae.backend.Activation;
import io.jvae.backend.Backend;
import io.jvae.backend.Indices;
import io.jvae.backend.SparseColumns;
import io.jvae.backend.Tensor;

import java.util.List;

/**
 * A VAE (Kingma and Welling 2014) or CVAE (Sohn, Lee, Yan 2015) written once against the
 * {@link Backend}. The training step reads like the ELBO:
 * encode q(z|x) -> reparameterize z = mu + sigma eps -> decode p(x|z) -> -log p(x|z) + beta KL
 * -> backwards in reverse order. Index arithmetic lives in the backends; buffers are allocated
 * once by {@link #workspace} for (max batch, samples) and smaller batches use column prefixes.
 * The layers and their parameter layout are built by {@link Layers}, the buffers by {@link Workspace}.
 *
 * <p>Loss of a batch of B inputs with J samples each (nats per input):
 * (1/B) sum_b [ (1/J) sum_j -log p(x_b | z_bj) + beta KL(q(z|x_b) || N(0, I)) ].
 */
public final class Vae {
    public final ModelConfig cfg;
    public final Backend be;
    public final Params params;
    private final Dense[] enc, dec;   // hidden layers (their shapes: Layers, which lays them out in params)
    private final Dense headMu, headLv, out;
    private final Tensor outLogvar, dOutLogvar; // (D, 1) the learned log-variance of a gaussian-learned decoder and its gradient, else null
    private final int inD, latL, cls;

    // ---- workspace (sized by workspace(maxBatch, samples)) ----
    private int maxBatch, samples;
    private Workspace ws;             // every buffer of a step, with its shape (null until workspace())
    /** The batch x compressed by the last encode() for the first layer (or not: dense GEMMs), and its arrays. */
    private final io.jvae.backend.SparseInput xSparse = new io.jvae.backend.SparseInput();

    /** The parameter entry of the learned log-variance (gaussian-learned decoder). */
    public static final String LOGVAR = "decoder.out.logvar";
    private int b;                    // inputs in the current batch

    public Vae(Backend be, ModelConfig cfg) {
        this.be = be;
        this.cfg = cfg;
        this.inD = cfg.inputDim();
        this.latL = cfg.latent();
        this.cls = cfg.classes();
        Layers layers = new Layers(be, cfg);
        this.params = layers.params;
        this.enc = layers.enc;
        this.headMu = layers.headMu;
        this.headLv = layers.headLv;
        this.dec = layers.dec;
        this.out = layers.out;
        this.outLogvar = layers.outLogvar;
        this.dOutLogvar = layers.dOutLogvar;
    }

    /** Copies the parameters of a model with the same config (e.g. to evaluate while training continues). */
    public void copyParamsFrom(Vae other) {
        if (!other.cfg.equals(cfg)) throw new IllegalArgumentException("copyParamsFrom: another architecture");
        be.copy(other.params.values, params.values);
    }

    /** Initialises every parameter from Philox uniforms keyed by seed (see {@link Init}, {@link Layers#initialValues}). */
    public void initParams(long seed) {
        be.upload(Layers.initialValues(params, cfg.init(), seed), 0, params.values);
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

    /** Allocates every buffer of a step for batches of up to maxBatch inputs and J samples each ({@link Workspace}). */
    public void workspace(int maxBatch, int samples) {
        if (maxBatch == this.maxBatch && samples == this.samples) return;
        if (maxBatch <= 0 || samples <= 0) throw new IllegalArgumentException("workspace(" + maxBatch + ", " + samples + ")");
        if (ws != null) ws.close(); // the previous size's buffers, freed first (F3: a re-sized workspace does not leak device memory)
        ws = null;
        this.maxBatch = this.samples = 0; // no workspace if the allocation below fails
        ws = new Workspace(be, cfg, maxBatch, samples);
        this.maxBatch = maxBatch;
        this.samples = samples;
    }

    /** Floats {@link #workspace} allocates for (maxBatch, samples), computed without allocating (for memory checks). */
    public static double workspaceFloats(ModelConfig cfg, long maxBatch, long samples) {
        return Workspace.floats(cfg, maxBatch, samples);
    }

    /** Parameters of a config, computed without allocating ({@link Layers}). */
    public static double parameterCount(ModelConfig cfg) {
        return Layers.parameterCount(cfg);
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
        be.gatherColumns(dataX, idx, ws.x.firstCols(n));
        if (cls > 0) {
            if (dataOneHot == null || dataOneHot.rows != cls)
                throw new io.jvae.InvalidInputException("a conditional model needs labels with " + cls + " classes");
            be.gatherColumns(dataOneHot, idx, ws.y.firstCols(n));
            for (int j = 0; j < samples; j++) be.gatherColumns(dataOneHot, idx, ws.yRep.cols(j * n, n));
        }
        return n;
    }

    /** x = Bernoulli(x) with Philox uniforms (dynamic binarization). */
    public void binarizeBatch(long seed, long offset) {
        be.binarize(ws.x.firstCols(b), seed, offset);
    }

    // ---- the ELBO, forward ----

    /** q(z|x): mu, lv (L, b) from x (D, b) [and y (C, b)]. */
    public void encode() {
        encode(false);
    }

    /** encode(), for a training step when forGradient (the backward pass follows: Backend#compress). */
    private void encode(boolean forGradient) {
        Tensor[] in = cls > 0 ? new Tensor[] {ws.x.firstCols(b), ws.y.firstCols(b)} : new Tensor[] {ws.x.firstCols(b)};
        SparseColumns xs = null;
        if (enc.length > 0) xs = xSparse.compress(be, in[0], forGradient);
        else xSparse.clear();
        for (int i = 0; i < enc.length; i++) {
            enc[i].forward(be, in, i == 0 ? xs : null, ws.hEnc[i].firstCols(b), cfg.activation());
            in = new Tensor[] {ws.hEnc[i].firstCols(b)};
        }
        headMu.forward(be, in, ws.mu.firstCols(b), Activation.IDENTITY);
        headLv.forward(be, in, ws.lv.firstCols(b), Activation.IDENTITY);
    }

    /** Whether the last encode() multiplied the batch compressed (the backend's sparse first layer). */
    public boolean sparseInput() {
        return xSparse.active();
    }

    /** z = mu + exp(0.5 lv) eps, eps ~ N(0, I) from Philox(seed, offset): (L, b*J). */
    public void reparameterize(long seed, long offset) {
        int bj = b * samples;
        be.reparamForward(ws.mu.firstCols(b), ws.lv.firstCols(b), ws.eps.firstCols(bj), ws.z.firstCols(bj), seed, offset);
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
            dec[i].forward(be, in, ws.hDec[i].firstCols(n), cfg.activation());
            in = new Tensor[] {ws.hDec[i].firstCols(n)};
        }
    }

    /** The output layer's input after decodeHidden. */
    private Tensor[] hiddenOut(Tensor zIn, Tensor labels) {
        int n = zIn.cols;
        if (dec.length > 0) return new Tensor[] {ws.hDec[dec.length - 1].firstCols(n)};
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
        Tensor zIn = ws.z.firstCols(bj), labels = cls > 0 ? ws.yRep.firstCols(bj) : null;
        decodeHidden(zIn, labels);
        out.linear(be, hiddenOut(zIn, labels), null, ws.logits.firstCols(bj));
        Tensor pre = ws.logits.firstCols(bj), xb = ws.x.firstCols(b), g = ws.dLogits.firstCols(bj), p = ws.partials.firstCols(bj);
        switch (cfg.likelihood()) {
            case BERNOULLI -> be.sigmoidBce(pre, out.b, xb, g, p, scale);
            case GAUSSIAN -> be.gaussianNll(pre, out.b, xb, g, p, scale);
            case GAUSSIAN_LEARNED -> be.gaussianNllVar(pre, out.b, xb, outLogvar, g, ws.dlvEl.firstCols(bj), p, scale);
        }
        be.gemv(true, Backend.LOSS_LANES, bj, 1f, p, Backend.LOSS_LANES, ws.ones, 0f, ws.recCol.view(0, bj, 1));
    }

    /**
     * stats[0] += sum_b (1/J) sum_j -log p(x_b|z_bj); stats[1] += sum_b KL_b, from the per-sample
     * sums reconstructionLoss() left in recCol (b*J) and the per-element KL, whose per-input sums
     * stay in klCol (b). Sums go through gemv with a ones vector.
     */
    public void accumulate(Tensor stats) {
        int bj = b * samples;
        be.gemv(true, bj, 1, 1f / samples, ws.recCol.view(0, bj, 1), bj, ws.ones, 1f, stats.view(0, 1, 1));
        be.gemv(true, latL, b, 1f, ws.kl.firstCols(b), latL, ws.ones, 0f, ws.klCol.view(0, b, 1));
        be.gemv(true, b, 1, 1f, ws.klCol.view(0, b, 1), b, ws.ones, 1f, stats.view(1, 1, 1));
    }

    // ---- the ELBO, backward ----

    /** Gradients of the batch loss w.r.t. every parameter into params.grads (overwritten). */
    public void backward(float beta) {
        decoderBackward();
        int bj = b * samples;
        // reparameterization + KL: dz -> dmu, dlv
        be.reparamKlBackward(ws.mu.firstCols(b), ws.lv.firstCols(b), ws.eps.firstCols(bj), ws.dz.firstCols(bj),
                ws.dmu.firstCols(b), ws.dlv.firstCols(b), ws.kl.firstCols(b), beta, 1f / b);
        encoderBackward();
    }

    /** dLogits -> ... -> dz (L, b*J), decoder gradients written. */
    private void decoderBackward() {
        int bj = b * samples;
        if (dOutLogvar != null) be.gemv(false, inD, bj, 1f, ws.dlvEl.firstCols(bj), inD, ws.ones, 0f, dOutLogvar);
        Tensor[] dzIn = cls > 0 ? new Tensor[] {ws.dz.firstCols(bj), null} : new Tensor[] {ws.dz.firstCols(bj)};
        Tensor[] zIn = cls > 0 ? new Tensor[] {ws.z.firstCols(bj), ws.yRep.firstCols(bj)} : new Tensor[] {ws.z.firstCols(bj)};
        Tensor dy = ws.dLogits.firstCols(bj);
        for (int i = dec.length; i >= 0; i--) {
            Dense layer = i == dec.length ? out : dec[i];
            Tensor[] in = i == 0 ? zIn : new Tensor[] {ws.hDec[i - 1].firstCols(bj)};
            Tensor[] dIn = i == 0 ? dzIn : new Tensor[] {ws.dhDec[i - 1].firstCols(bj)};
            layer.backward(be, in, dy, dIn, 0f, ws.ones);
            if (i > 0) {
                dy = ws.dhDec[i - 1].firstCols(bj);
                be.actBackward(dy, ws.hDec[i - 1].firstCols(bj), cfg.activation());
            }
        }
    }

    /** (dmu, dlv) -> ... encoder gradients written (no gradient for the data). */
    private void encoderBackward() {
        Tensor[] xIn = cls > 0 ? new Tensor[] {ws.x.firstCols(b), ws.y.firstCols(b)} : new Tensor[] {ws.x.firstCols(b)};
        int ne = enc.length;
        Tensor[] headIn = ne == 0 ? xIn : new Tensor[] {ws.hEnc[ne - 1].firstCols(b)};
        Tensor[] dHead = ne == 0 ? null : new Tensor[] {ws.dhEnc[ne - 1].firstCols(b)};
        headMu.backward(be, headIn, ws.dmu.firstCols(b), dHead, 0f, ws.ones);
        headLv.backward(be, headIn, ws.dlv.firstCols(b), dHead, 1f, ws.ones);
        for (int i = ne - 1; i >= 0; i--) {
            Tensor d = ws.dhEnc[i].firstCols(b);
            be.actBackward(d, ws.hEnc[i].firstCols(b), cfg.activation());
            Tensor[] in = i == 0 ? xIn : new Tensor[] {ws.hEnc[i - 1].firstCols(b)};
            Tensor[] dIn = i == 0 ? null : new Tensor[] {ws.dhEnc[i - 1].firstCols(b)};
            SparseColumns xs = i == 0 ? xSparse.of(xIn[0]) : null; // the compressed batch only if it is this x
            enc[i].backward(be, in, xs, d, dIn, 0f, ws.ones);
        }
    }

    // ---- steps ----

    /** One training step's math on the loaded batch: forward, loss, stats, backward. */
    public void trainStep(long seed, long offset, float beta, Tensor stats) {
        encode(true);
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
        be.klForward(ws.mu.firstCols(b), ws.lv.firstCols(b), ws.kl.firstCols(b));
        accumulate(stats);
    }

    // ---- IWAE (Burda, Grosse, Salakhutdinov 2016) ----

    /**
     * IWAE forward: log weights a_bk = log p(x|z_bk) + log p(z_bk) - log q(z_bk|x) for the J = K samples,
     * their normalized weights w (b*K) and lse_b = log (1/K) sum_k exp(a_bk); stats[2] += -sum_b lse_b.
     * dLogits holds sigmoid(l) - x (unscaled) afterwards.
     */
    private void iwaeForward(long seed, long offset, Tensor stats, boolean training) {
        int bj = b * samples;
        encode(training);
        reparameterize(seed, offset);
        reconstructionLoss(1f);
        be.logPriorRatio(ws.lv.firstCols(b), ws.eps.firstCols(bj), ws.z.firstCols(bj), ws.prior.firstCols(bj));
        be.gemv(true, latL, bj, 1f, ws.prior.firstCols(bj), latL, ws.ones, 0f, ws.dCol.view(0, bj, 1));
        be.iwaeWeights(ws.recCol.view(0, bj, 1), ws.dCol.view(0, bj, 1), ws.wIw.view(0, bj, 1), ws.lse.view(0, b, 1), samples);
        be.gemv(true, b, 1, -1f, ws.lse.view(0, b, 1), b, ws.ones, 1f, stats.view(2, 1, 1));
    }

    /**
     * One IWAE training step on the loaded batch: loss -(1/B) sum_b lse_b; its gradient is the
     * normalized-weight average of the per-sample gradients of a_bk (eq. 14 of the paper). With
     * z = mu + sigma eps: d a / d z = d log p(x|z)/dz - z, d a / d lv (direct) = 1/2. stats[0], [1]
     * get the usual ELBO terms (for reporting), stats[2] the IWAE loss sum.
     */
    public void trainStepIwae(long seed, long offset, Tensor stats) {
        int bj = b * samples;
        iwaeForward(seed, offset, stats, true);
        be.scaleColumns(ws.dLogits.firstCols(bj), ws.wIw.view(0, bj, 1), 1f / b);
        if (ws.dlvEl != null) be.scaleColumns(ws.dlvEl.firstCols(bj), ws.wIw.view(0, bj, 1), 1f / b);
        decoderBackward();
        be.addScaledColumns(ws.dz.firstCols(bj), ws.z.firstCols(bj), ws.wIw.view(0, bj, 1), 1f / b);
        // beta = 0: no analytic KL gradient (the prior and posterior enter through a); kl is still written for reporting
        be.reparamKlBackward(ws.mu.firstCols(b), ws.lv.firstCols(b), ws.eps.firstCols(bj), ws.dz.firstCols(bj),
                ws.dmu.firstCols(b), ws.dlv.firstCols(b), ws.kl.firstCols(b), 0f, 1f / b);
        be.axpy(-0.5f / b, ws.ones.view(0, latL * b, 1), ws.dlv.firstCols(b).flat());
        encoderBackward();
        accumulate(stats); // recCol was summed by iwaeForward
    }

    /** The IWAE loss terms of the loaded batch (forward only): stats[2] += -sum_b lse_b. */
    public void evalStepIwae(long seed, long offset, Tensor stats) {
        iwaeForward(seed, offset, stats, false);
    }

    // ---- inference helpers (for figures and scores) ----

    /** mu, lv of the loaded batch after {@link #encode()}: (L, b) views. */
    public Tensor mu() {
        return ws.mu.firstCols(b);
    }

    public Tensor logVar() {
        return ws.lv.firstCols(b);
    }

    /** Per-sample -log p(x|z) (b*J) and per-input KL (b) of the last accumulate(). */
    public Tensor reconPerSample() {
        return ws.recCol.view(0, b * samples, 1);
    }

    public Tensor klPerInput() {
        return ws.klCol.view(0, b, 1);
    }

    public Tensor z() {
        return ws.z.firstCols(b * samples);
    }

    /** The noise of the last reparameterize(): (L, b*J). */
    public Tensor eps() {
        return ws.eps.firstCols(b * samples);
    }

    public Tensor x() {
        return ws.x.firstCols(b);
    }

    /**
     * Decodes the given latent codes (L, n), n <= maxBatch*J, with labels (C, n) for a CVAE, to
     * the decoder mean: sigmoid(logits) for Bernoulli, the mean for Gaussian. Returns a (D, n) view
     * of the workspace, valid until the next call.
     */
    public Tensor decodeMean(Tensor zIn, Tensor labels) {
        int n = zIn.cols;
        if (zIn.rows != latL) throw new IllegalArgumentException("z has " + zIn.rows + " rows, latent is " + latL);
        Tensor o = ws.logits.firstCols(n);
        decodeInto(zIn, labels, o);
        if (cfg.likelihood() == Likelihood.BERNOULLI) be.biasActForward(o, ws.zeroBias, Activation.SIGMOID);
        return o;
    }

    /** The decoder mean of the current z (after reparameterize or setting z). */
    public Tensor decodeMeanOfZ() {
        int bj = b * samples;
        return decodeMean(ws.z.firstCols(bj), cls > 0 ? ws.yRep.firstCols(bj) : null);
    }
}

package io.jvae.model;

import io.jvae.backend.Backend;
import io.jvae.backend.Philox;
import io.jvae.backend.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * The layers of a {@link Vae} config over one flat {@link Params} buffer: the layout (entry names,
 * shapes and order, which checkpoints and the initial values depend on), the initialisation
 * ({@link Init}), and the parameter count without allocating (for memory checks).
 * D = input features, C = classes (CVAE), L = latent, h_i = hidden widths.
 */
final class Layers {
    final Params params;
    final Dense[] enc;                  // encoder hidden layers: W (h_i, in_i), in_0 = D [+ C], then in_i = h_(i-1)
    final Dense headMu, headLv;         // W (L, in): in = the last encoder width, or D [+ C] without hidden layers
    final Dense[] dec;                  // decoder hidden layers: W (h_i, in_i), in_0 = L [+ C], then in_i = h_(i-1)
    final Dense out;                    // W (D, in): in = the last decoder width, or L [+ C]
    final Tensor outLogvar, dOutLogvar; // (D, 1) the learned log-variance of a gaussian-learned decoder and its gradient, else null

    Layers(Backend be, ModelConfig cfg) {
        int inD = cfg.inputDim(), latL = cfg.latent(), cls = cfg.classes();
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
        Params.Entry lvEntry = cfg.likelihood() == Likelihood.GAUSSIAN_LEARNED ? pb.add(Vae.LOGVAR, inD, 1, false) : null;
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

    /** Parameters the constructor lays out for a config, computed without allocating. */
    static double parameterCount(ModelConfig cfg) {
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

    /** Every parameter's initial value (params.total floats, host) from Philox uniforms keyed by seed (see {@link Init}). */
    static float[] initialValues(Params params, Init init, long seed) {
        float[] host = new float[params.total];
        long counter = 0;
        for (Params.Entry e : params.entries) {
            boolean logvar = e.name().equals(Vae.LOGVAR); // starts at 0: unit variance
            int fanIn = e.weight() ? e.cols() : logvar ? 1 : weightOf(params, e).cols();
            int fanOut = e.weight() ? e.rows() : logvar ? 1 : weightOf(params, e).rows();
            double bound;
            if (logvar) bound = 0.0;
            else if (init == Init.TORCH) bound = 1.0 / Math.sqrt(fanIn);
            else bound = e.weight() ? Math.sqrt(6.0 / (fanIn + fanOut)) : 0.0;
            Philox.uniforms(seed, counter, host, (int) e.offset(), e.size());
            counter += e.size();
            for (int i = 0; i < e.size(); i++) {
                int k = (int) e.offset() + i;
                host[k] = (float) ((2.0 * host[k] - 1.0) * bound);
            }
        }
        return host;
    }

    private static Params.Entry weightOf(Params params, Params.Entry bias) {
        String w = bias.name().replace(".bias", ".weight");
        for (Params.Entry e : params.entries) if (e.name().equals(w)) return e;
        throw new IllegalStateException("no weight for " + bias.name());
    }
}

package io.jvae.train;

import io.jvae.InvalidInputException;
import io.jvae.backend.Backend;
import io.jvae.io.Json;
import io.jvae.io.Safetensors;
import io.jvae.model.ModelConfig;
import io.jvae.model.Params;
import io.jvae.model.Vae;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checkpoints as safetensors. Parameter names and shapes follow PyTorch's nn.Linear
 * ("encoder.0.weight" is [out, in] row-major, "encoder.0.bias" [out]); the model config is the
 * JSON string {@code __metadata__["jvae.model"]}. A training state file adds the optimizer moments
 * and the best parameters as flat tensors, and the loop position in {@code jvae.state}.
 */
public final class Checkpoint {
    private Checkpoint() {}

    public static final String FORMAT = "jvae-1";

    /**
     * Where the training loop is: epochs completed, steps taken, early-stopping record; and, for a
     * run stopped inside an epoch (a signal), how far into that epoch it got: {@code stepInEpoch}
     * steps of epoch {@code epoch + 1} done, their loss sums so far ({@code epochSums}: the chunks
     * already added in double, {@code chunk}: the float32 chunk still on the backend, restored as
     * it was so that the epoch's sums come out bit for bit) and its seconds of training so far.
     */
    public record State(int epoch, long step, double bestLoss, int bestEpoch, int stepInEpoch, double[] epochSums,
                        float[] chunk, double seconds) {
        public State(int epoch, long step, double bestLoss, int bestEpoch) {
            this(epoch, step, bestLoss, bestEpoch, 0, null, null, 0);
        }

        /** Whether the state was saved inside an epoch (resume continues that epoch). */
        public boolean midEpoch() {
            return stepInEpoch > 0;
        }

        String toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("epoch", epoch);
            m.put("step", step);
            m.put("best_loss", bestLoss);
            m.put("best_epoch", bestEpoch);
            if (midEpoch()) { // raw bits: the sums must come back exactly
                m.put("step_in_epoch", stepInEpoch);
                long[] sums = new long[epochSums.length];
                for (int i = 0; i < sums.length; i++) sums[i] = Double.doubleToRawLongBits(epochSums[i]);
                long[] ch = new long[chunk.length];
                for (int i = 0; i < ch.length; i++) ch[i] = Float.floatToRawIntBits(chunk[i]);
                m.put("epoch_sums_bits", sums);
                m.put("chunk_bits", ch);
                m.put("epoch_seconds", seconds);
            }
            return Json.write(m);
        }

        static State fromJson(String s) {
            Map<String, Object> m = Json.parseObject(s);
            Object best = m.get("best_loss");
            int epoch = (int) Json.getLong(m, "epoch"), bestEpoch = (int) Json.getLong(m, "best_epoch");
            long step = Json.getLong(m, "step");
            double bl = best == null ? Double.POSITIVE_INFINITY : Json.getDouble(m, "best_loss");
            if (!m.containsKey("step_in_epoch")) return new State(epoch, step, bl, bestEpoch);
            int sie = (int) Json.getLong(m, "step_in_epoch");
            if (sie <= 0) throw new InvalidInputException("JSON: 'step_in_epoch' must be > 0, got " + sie);
            long[] sb = longs(m, "epoch_sums_bits", 3), cb = longs(m, "chunk_bits", 4);
            double[] sums = new double[3];
            for (int i = 0; i < 3; i++) sums[i] = Double.longBitsToDouble(sb[i]);
            float[] ch = new float[4];
            for (int i = 0; i < 4; i++) ch[i] = Float.intBitsToFloat((int) cb[i]);
            return new State(epoch, step, bl, bestEpoch, sie, sums, ch, Json.getDouble(m, "epoch_seconds"));
        }

        private static long[] longs(Map<String, Object> m, String key, int n) {
            if (!(m.get(key) instanceof List<?> l) || l.size() != n)
                throw new InvalidInputException("JSON: '" + key + "' must be an array of " + n + " integers");
            long[] out = new long[n];
            for (int i = 0; i < n; i++) {
                if (!(l.get(i) instanceof Long x)) throw new InvalidInputException("JSON: '" + key + "'[" + i + "] must be an integer");
                out[i] = x;
            }
            return out;
        }
    }

    /** The model's tensors, named and shaped as PyTorch nn.Linear, from a flat host copy. */
    static Map<String, Safetensors.Entry> modelTensors(Params params, float[] flat) {
        Map<String, Safetensors.Entry> t = new LinkedHashMap<>();
        for (Params.Entry e : params.entries) {
            int off = (int) e.offset();
            if (e.weight()) { // ours: (out, in) column-major; PyTorch: [out, in] row-major -> transpose
                int out = e.rows(), in = e.cols();
                float[] w = new float[out * in];
                for (int c = 0; c < in; c++)
                    for (int r = 0; r < out; r++) w[r * in + c] = flat[off + c * out + r];
                t.put(e.name(), new Safetensors.Entry(new long[] {out, in}, w));
            } else {
                t.put(e.name(), new Safetensors.Entry(new long[] {e.rows()}, java.util.Arrays.copyOfRange(flat, off, off + e.size())));
            }
        }
        return t;
    }

    /** The flat buffer from a file's named tensors, each checked against the model's layout. */
    static float[] flatFrom(Safetensors.File f, Params params, Path from) {
        float[] flat = new float[params.total];
        for (Params.Entry e : params.entries) {
            Safetensors.Entry s = f.require(e.name(), from);
            long[] want = e.weight() ? new long[] {e.rows(), e.cols()} : new long[] {e.rows()};
            if (!java.util.Arrays.equals(s.shape(), want))
                throw new InvalidInputException(from + ": tensor '" + e.name() + "' has shape " + java.util.Arrays.toString(s.shape())
                        + ", this model needs " + java.util.Arrays.toString(want));
            int off = (int) e.offset();
            if (e.weight()) {
                int out = e.rows(), in = e.cols();
                for (int c = 0; c < in; c++)
                    for (int r = 0; r < out; r++) flat[off + c * out + r] = s.data()[r * in + c];
            } else {
                System.arraycopy(s.data(), 0, flat, off, e.size());
            }
        }
        return flat;
    }

    static Map<String, String> meta(ModelConfig cfg) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("jvae.model", cfg.toJson());
        return m;
    }

    /** Writes the model's current parameters (atomically). */
    public static void saveModel(Path path, Vae vae, Map<String, String> extraMeta) {
        float[] flat = new float[vae.params.total];
        vae.be.download(vae.params.values, flat, 0);
        saveModel(path, vae.cfg, vae.params, flat, extraMeta);
    }

    public static void saveModel(Path path, ModelConfig cfg, Params params, float[] flat, Map<String, String> extraMeta) {
        Map<String, String> m = meta(cfg);
        if (extraMeta != null) m.putAll(extraMeta);
        try {
            Safetensors.write(path, modelTensors(params, flat), m);
        } catch (IOException e) {
            throw io.jvae.io.AtomicFiles.failure("writing", path, e);
        }
    }

    /** The model config stored in a checkpoint. */
    public static ModelConfig config(Safetensors.File f, Path from) {
        String fmt = f.metadata().get("format");
        String js = f.metadata().get("jvae.model");
        if (js == null || !FORMAT.equals(fmt))
            throw new InvalidInputException(from + ": not a jvae checkpoint (no jvae.model/format " + FORMAT + " in the metadata)");
        try {
            return ModelConfig.fromJson(js);
        } catch (InvalidInputException e) {
            throw new InvalidInputException(from + ": bad model config in the metadata, " + e.getMessage());
        }
    }

    /** Builds the model a checkpoint describes on the backend and loads its parameters. */
    public static Vae loadModel(Path path, Backend be) {
        Safetensors.File f = Safetensors.read(path);
        ModelConfig cfg = config(f, path);
        Vae vae = new Vae(be, cfg);
        be.upload(flatFrom(f, vae.params, path), 0, vae.params.values);
        return vae;
    }

    /** Loads parameters of a checkpoint into an existing model, which must have the same config. */
    public static void loadInto(Path path, Vae vae) {
        Safetensors.File f = Safetensors.read(path);
        ModelConfig cfg = config(f, path);
        if (!cfg.equals(vae.cfg))
            throw new InvalidInputException(path + ": checkpoint of another model (" + cfg.summary() + "), expected " + vae.cfg.summary());
        vae.be.upload(flatFrom(f, vae.params, path), 0, vae.params.values);
    }

    // ---- training state ----

    public static void saveState(Path path, Vae vae, Optimizer opt, float[] best, TrainConfig tc, State st) {
        saveState(path, vae, opt, best, tc, st, null);
    }

    /** As above, with extra metadata entries (e.g. the data's scaling, {@code jvae.scaling}). */
    public static void saveState(Path path, Vae vae, Optimizer opt, float[] best, TrainConfig tc, State st, Map<String, String> extraMeta) {
        float[] flat = new float[vae.params.total];
        vae.be.download(vae.params.values, flat, 0);
        Map<String, Safetensors.Entry> t = modelTensors(vae.params, flat);
        float[] m = new float[opt.m.size()], v = new float[opt.v.size()];
        vae.be.download(opt.m, m, 0);
        vae.be.download(opt.v, v, 0);
        t.put("optimizer.m", new Safetensors.Entry(new long[] {m.length}, m));
        t.put("optimizer.v", new Safetensors.Entry(new long[] {v.length}, v));
        if (best != null) t.put("best.flat", new Safetensors.Entry(new long[] {best.length}, best));
        Map<String, String> meta = meta(vae.cfg);
        meta.put("jvae.train", tc.toJson());
        // a state saved inside an epoch goes under another key: jvae versions that cannot continue an epoch refuse it
        // ("not a training state file") instead of resuming it as if the epoch had ended
        meta.put(st.midEpoch() ? "jvae.partial_state" : "jvae.state", st.toJson());
        meta.put("jvae.optimizer_steps", Long.toString(opt.t));
        meta.put("jvae.backend", numerics(vae.be));
        if (extraMeta != null) meta.putAll(extraMeta);
        try {
            Safetensors.write(path, t, meta);
        } catch (IOException e) {
            throw io.jvae.io.AtomicFiles.failure("writing", path, e);
        }
    }

    /**
     * What decides the bits of a run on this backend: its description without file paths (threads,
     * SIMD width, the BLAS and its version; the device for CUDA). A run resumed where this differs
     * continues correctly but not bit for bit.
     */
    static String numerics(io.jvae.backend.Backend be) {
        return be.describe().replaceAll(", /[^)]*", "");
    }

    /** What a state file restores; backend: {@link #numerics} of the run that wrote it, or null (older files); metadata: all of it. */
    public record Restored(TrainConfig train, State state, float[] best, String backend, Map<String, String> metadata) {}

    /** A checkpoint's {@code __metadata__} (e.g. {@code jvae.scaling}, absent in older files). */
    public static Map<String, String> metadata(Path path) {
        return Safetensors.readMetadata(path);
    }

    /** The model config of a checkpoint, from its header alone (the tensors are not read). */
    public static ModelConfig config(Path path) {
        Map<String, String> m = metadata(path);
        return config(new Safetensors.File(Map.of(), m), path);
    }

    /** Restores parameters and optimizer into vae/opt; returns the loop state. */
    public static Restored loadState(Path path, Vae vae, Optimizer opt) {
        Safetensors.File f = Safetensors.read(path);
        ModelConfig cfg = config(f, path);
        if (!cfg.equals(vae.cfg))
            throw new InvalidInputException(path + ": state of another model (" + cfg.summary() + "), this run is " + vae.cfg.summary());
        String tj = f.metadata().get("jvae.train"), os = f.metadata().get("jvae.optimizer_steps");
        String sj = f.metadata().getOrDefault("jvae.state", f.metadata().get("jvae.partial_state"));
        if (tj == null || sj == null || os == null) throw new InvalidInputException(path + ": not a training state file (no jvae.train/jvae.state)");
        vae.be.upload(flatFrom(f, vae.params, path), 0, vae.params.values);
        Safetensors.Entry m = f.require("optimizer.m", path), v = f.require("optimizer.v", path);
        if (m.data().length != opt.m.size() || v.data().length != opt.v.size())
            throw new InvalidInputException(path + ": optimizer state of another size (another optimizer?)");
        vae.be.upload(m.data(), 0, opt.m);
        vae.be.upload(v.data(), 0, opt.v);
        try {
            opt.t = Long.parseLong(os);
        } catch (NumberFormatException e) {
            throw new InvalidInputException(path + ": bad jvae.optimizer_steps '" + os + "'");
        }
        Safetensors.Entry best = f.tensors().get("best.flat");
        if (best != null && best.data().length != vae.params.total) throw new InvalidInputException(path + ": best.flat has the wrong size");
        TrainConfig tc;
        State st;
        try {
            tc = TrainConfig.fromJson(tj);
            st = State.fromJson(sj);
        } catch (InvalidInputException e) {
            throw new InvalidInputException(path + ": bad jvae.train/jvae.state in the metadata, " + e.getMessage());
        }
        return new Restored(tc, st, best == null ? null : best.data(), f.metadata().get("jvae.backend"), f.metadata());
    }
}

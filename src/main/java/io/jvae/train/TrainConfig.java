package io.jvae.train;

import io.jvae.io.Json;

import java.util.LinkedHashMap;
import java.util.Map;

import static io.jvae.InvalidInputException.require;

/**
 * How to train. Validated here once for the CLI, presets, tests and resumed runs.
 *
 * @param epochs       maximum number of epochs
 * @param batch        inputs per step (the last batch of an epoch may be smaller)
 * @param samples      J, Monte-Carlo samples of z per input
 * @param beta         weight of the KL term
 * @param warmupEpochs beta rises linearly from 0 over this many epochs (0 = off), per step
 * @param l2           L2 penalty l2 * sum W^2 on weights (not biases), gradient 2 l2 W, as Keras' l2()
 * @param patience     early stopping: stop after this many epochs without a new best test loss (0 = off)
 * @param binarize     dynamic binarization: x ~ Bernoulli(pixel) drawn afresh each step
 */
public record TrainConfig(int epochs, int batch, OptimizerKind optimizer, float lr, float beta1, float beta2,
                          float rho, float eps, float beta, int warmupEpochs, float l2, int samples, long seed,
                          int patience, boolean binarize, Objective objective, String lrSchedule) {

    /** What the optimizer minimises: the negative ELBO (J samples averaged) or the IWAE bound (K = samples). */
    public enum Objective {
        ELBO, IWAE;

        public static Objective parse(String s) {
            return switch (s.trim().toLowerCase(java.util.Locale.ROOT)) {
                case "elbo", "vae" -> ELBO;
                case "iwae" -> IWAE;
                default -> throw new io.jvae.InvalidInputException("unknown objective '" + s + "' (elbo, iwae)");
            };
        }
    }

    /** The ELBO objective (the common case). */
    public TrainConfig(int epochs, int batch, OptimizerKind optimizer, float lr, float beta1, float beta2, float rho, float eps,
                       float beta, int warmupEpochs, float l2, int samples, long seed, int patience, boolean binarize) {
        this(epochs, batch, optimizer, lr, beta1, beta2, rho, eps, beta, warmupEpochs, l2, samples, seed, patience, binarize, Objective.ELBO);
    }

    /** Without a learning-rate schedule. */
    public TrainConfig(int epochs, int batch, OptimizerKind optimizer, float lr, float beta1, float beta2, float rho, float eps,
                       float beta, int warmupEpochs, float l2, int samples, long seed, int patience, boolean binarize, Objective objective) {
        this(epochs, batch, optimizer, lr, beta1, beta2, rho, eps, beta, warmupEpochs, l2, samples, seed, patience, binarize, objective, "");
    }

    public TrainConfig {
        lrSchedule = LrSchedule.parse(lrSchedule).spec(); // checked, and one spelling per schedule
        require(epochs > 0 && epochs <= 1_000_000, "--epochs must be in [1, 1000000], got %d", epochs);
        require(batch > 0 && batch <= 1 << 20, "--batch must be in [1, 1048576], got %d", batch);
        require(Float.isFinite(lr) && lr > 0, "--lr must be a positive number, got %s", lr);
        require(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "Adam betas must be in [0, 1), got %s, %s", beta1, beta2);
        require(rho >= 0 && rho < 1, "RMSprop rho must be in [0, 1), got %s", rho);
        require(Float.isFinite(eps) && eps > 0, "optimizer eps must be > 0, got %s", eps);
        require(Float.isFinite(beta) && beta >= 0, "--beta must be >= 0, got %s", beta);
        require(warmupEpochs >= 0, "--warmup must be >= 0, got %d", warmupEpochs);
        require(Float.isFinite(l2) && l2 >= 0, "--l2 must be >= 0, got %s", l2);
        require(samples > 0 && samples <= 4096, "--samples must be in [1, 4096], got %d", samples);
        require(patience >= 0, "--patience must be >= 0, got %d", patience);
        require(optimizer != null && objective != null, "optimizer and objective must be set");
        require(objective != Objective.IWAE || beta == 1f, "--objective iwae has no KL weight: --beta must be 1, got %s", beta);
        require(objective != Objective.IWAE || warmupEpochs == 0, "--objective iwae has no KL weight to warm up: drop --warmup");
    }

    /** The learning rate of epoch (1-based): --lr, or the schedule's. */
    public float lrAt(int epoch) {
        return LrSchedule.parse(lrSchedule).lrAt(epoch, lr);
    }

    public TrainConfig withLrSchedule(String s) {
        return new TrainConfig(epochs, batch, optimizer, lr, beta1, beta2, rho, eps, beta, warmupEpochs, l2, samples, seed, patience, binarize, objective, s);
    }

    /** beta at a fractional epoch (0-based, step / stepsPerEpoch): linear warm-up then constant. */
    public float betaAt(double epochProgress) {
        if (warmupEpochs == 0) return beta;
        return (float) (beta * Math.min(1.0, epochProgress / warmupEpochs));
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epochs", epochs);
        m.put("batch", batch);
        m.put("optimizer", optimizer.name().toLowerCase());
        m.put("lr", lr);
        m.put("beta1", beta1);
        m.put("beta2", beta2);
        m.put("rho", rho);
        m.put("eps", eps);
        m.put("beta", beta);
        m.put("warmup_epochs", warmupEpochs);
        m.put("l2", l2);
        m.put("samples", samples);
        m.put("seed", seed);
        m.put("patience", patience);
        m.put("binarize", binarize);
        m.put("objective", objective.name().toLowerCase());
        if (!lrSchedule.isEmpty()) m.put("lr_schedule", lrSchedule);
        return m;
    }

    public String toJson() {
        return Json.write(toMap());
    }

    public static TrainConfig fromJson(String json) {
        Map<String, Object> m = Json.parseObject(json);
        return new TrainConfig((int) Json.getLong(m, "epochs"), (int) Json.getLong(m, "batch"),
                OptimizerKind.parse(Json.getString(m, "optimizer")), (float) Json.getDouble(m, "lr"),
                (float) Json.getDouble(m, "beta1"), (float) Json.getDouble(m, "beta2"), (float) Json.getDouble(m, "rho"),
                (float) Json.getDouble(m, "eps"), (float) Json.getDouble(m, "beta"), (int) Json.getLong(m, "warmup_epochs"),
                (float) Json.getDouble(m, "l2"), (int) Json.getLong(m, "samples"), Json.getLong(m, "seed"),
                (int) Json.getLong(m, "patience"), Boolean.TRUE.equals(m.get("binarize")),
                m.containsKey("objective") ? Objective.parse(Json.getString(m, "objective")) : Objective.ELBO,
                m.containsKey("lr_schedule") ? Json.getString(m, "lr_schedule") : "");
    }

    public TrainConfig withSeed(long s) {
        return new TrainConfig(epochs, batch, optimizer, lr, beta1, beta2, rho, eps, beta, warmupEpochs, l2, samples, s, patience, binarize, objective, lrSchedule);
    }

    public TrainConfig withPatience(int p) {
        return new TrainConfig(epochs, batch, optimizer, lr, beta1, beta2, rho, eps, beta, warmupEpochs, l2, samples, seed, p, binarize, objective, lrSchedule);
    }

    public TrainConfig withEpochs(int e) {
        return new TrainConfig(e, batch, optimizer, lr, beta1, beta2, rho, eps, beta, warmupEpochs, l2, samples, seed, patience, binarize, objective, lrSchedule);
    }
}

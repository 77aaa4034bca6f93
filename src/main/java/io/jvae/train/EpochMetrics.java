package io.jvae.train;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One epoch's row of metrics.csv / metrics.jsonl. Losses are -ELBO per example in nats, L2 excluded.
 * lr: the epoch's learning rate (metrics.jsonl only, so the CSV keeps its columns; NaN when read from a CSV).
 */
public record EpochMetrics(int epoch, Losses train, Losses test, float beta, double seconds, double samplesPerSecond, float lr) {

    public EpochMetrics(int epoch, Losses train, Losses test, float beta, double seconds, double samplesPerSecond) {
        this(epoch, train, test, beta, seconds, samplesPerSecond, Float.NaN);
    }

    public static final String CSV_HEADER =
            "epoch,train_loss,train_recon,train_kl,test_loss,test_recon,test_kl,beta,seconds,samples_per_s";

    public String csv() {
        return String.format(java.util.Locale.ROOT, "%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6g,%.3f,%.1f", epoch,
                train.loss(), train.recon(), train.kl(), test.loss(), test.recon(), test.kl(), beta, seconds, samplesPerSecond);
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epoch", epoch);
        m.put("train_loss", train.loss());
        m.put("train_recon", train.recon());
        m.put("train_kl", train.kl());
        m.put("test_loss", test.loss());
        m.put("test_recon", test.recon());
        m.put("test_kl", test.kl());
        m.put("beta", (double) beta);
        m.put("seconds", seconds);
        m.put("samples_per_s", samplesPerSecond);
        if (Float.isFinite(lr)) m.put("lr", Double.parseDouble(Float.toString(lr))); // the float's shortest decimal: 3.0E-4, not 3.0000001E-4
        return m;
    }

    /** Parses a metrics.csv row written by {@link #csv()}. */
    public static EpochMetrics parseCsv(String line) {
        String[] f = line.split(",");
        if (f.length != 10) throw new io.jvae.InvalidInputException("metrics row has " + f.length + " fields, expected 10: " + line);
        try {
            return new EpochMetrics(Integer.parseInt(f[0]),
                    new Losses(Double.parseDouble(f[1]), Double.parseDouble(f[2]), Double.parseDouble(f[3])),
                    new Losses(Double.parseDouble(f[4]), Double.parseDouble(f[5]), Double.parseDouble(f[6])),
                    Float.parseFloat(f[7]), Double.parseDouble(f[8]), Double.parseDouble(f[9]));
        } catch (NumberFormatException e) {
            throw new io.jvae.InvalidInputException("bad number in metrics row: " + line);
        }
    }
}

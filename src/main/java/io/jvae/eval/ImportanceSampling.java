package io.jvae.eval;

import io.jvae.backend.Backend;
import io.jvae.backend.Tensor;
import io.jvae.model.Vae;
import io.jvae.train.DeviceData;

/**
 * Importance-sampled log-likelihood (Burda, Grosse, Salakhutdinov 2016, eq. 8):
 * log p(x) ~= log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x), z_k ~ q(z|x), computed per example with
 * a streaming log-sum-exp over chunks of J samples (the model's workspace), in double. With
 * z = mu + sigma eps: log p(z) - log q(z|x) = sum_l 0.5 (eps_l^2 + lv_l - z_l^2).
 * The same loop gives the reconstruction log-probability used as an anomaly score
 * (log (1/K) sum_k p(x|z_k), as DL4J's reconstructionLogProbability), and the active units and
 * KL per latent dimension (Burda et al.: a unit is active when Var_x E_q[z_l] > 0.01).
 */
public final class ImportanceSampling {
    private ImportanceSampling() {}

    /** Per-example results over a dataset. */
    public record Result(double[] logPx, double[] reconLogProb, double meanNll, double stdErr, int samples) {}

    /**
     * Runs K samples per example (in chunks of the workspace's J) over the first n examples. The
     * workspace must have been sized with vae.workspace(batch, J).
     */
    public static Result estimate(Vae vae, DeviceData data, int n, int k, long seed) {
        return estimate(vae, data, n, k, seed, done -> { });
    }

    /** The same, telling `progress` how many examples are done after each batch of them. */
    public static Result estimate(Vae vae, DeviceData data, int n, int k, long seed, java.util.function.IntConsumer progress) {
        Backend be = vae.be;
        int lat = vae.cfg.latent(), bmax = vae.maxBatch(), j = vae.samples();
        double[] lpx = new double[n], rec = new double[n];
        Tensor stats = be.alloc(4, 1);
        long chunkCounter = 0;
        for (int start = 0; start < n; start += bmax) {
            int b = Math.min(bmax, n - start);
            vae.loadBatch(data.x, data.oneHot, data.identity.slice(start, b));
            vae.encode();
            float[] lv = new float[lat * b];
            be.download(vae.logVar(), lv, 0);
            double[] mW = new double[b], sW = new double[b], mR = new double[b], sR = new double[b];
            java.util.Arrays.fill(mW, Double.NEGATIVE_INFINITY);
            java.util.Arrays.fill(mR, Double.NEGATIVE_INFINITY);
            float[] eps = new float[lat * b * j], z = new float[lat * b * j], r = new float[b * j];
            for (int done = 0; done < k; done += j) {
                int use = Math.min(j, k - done); // the last chunk may use fewer of its J samples
                vae.reparameterize(seed, (chunkCounter++) * vae.noisePerStep());
                vae.reconstructionLoss();
                vae.accumulate(stats);
                be.download(vae.eps(), eps, 0);
                be.download(vae.z(), z, 0);
                be.download(vae.reconPerSample(), r, 0);
                for (int s = 0; s < use; s++)
                    for (int i = 0; i < b; i++) {
                        int col = s * b + i;
                        double logPxz = -r[col], prior = 0;
                        for (int l = 0; l < lat; l++) {
                            double e = eps[col * lat + l], zz = z[col * lat + l];
                            prior += 0.5 * (e * e + lv[i * lat + l] - zz * zz);
                        }
                        double w = logPxz + prior;
                        // streaming log-sum-exp: keep (max, sum of exp(x - max))
                        if (w > mW[i]) {
                            sW[i] = sW[i] * Math.exp(mW[i] - w) + 1;
                            mW[i] = w;
                        } else sW[i] += Math.exp(w - mW[i]);
                        if (logPxz > mR[i]) {
                            sR[i] = sR[i] * Math.exp(mR[i] - logPxz) + 1;
                            mR[i] = logPxz;
                        } else sR[i] += Math.exp(logPxz - mR[i]);
                    }
            }
            for (int i = 0; i < b; i++) {
                lpx[start + i] = mW[i] + Math.log(sW[i]) - Math.log(k);
                rec[start + i] = mR[i] + Math.log(sR[i]) - Math.log(k);
            }
            progress.accept(start + b);
        }
        double mean = 0;
        for (double v : lpx) mean -= v / n;
        double var = 0;
        for (double v : lpx) var += (-v - mean) * (-v - mean) / Math.max(1, n - 1);
        return new Result(lpx, rec, mean, Math.sqrt(var / n), k);
    }

    /** Active units and KL per dimension over the first n examples. */
    public record Units(int active, double[] variance, double[] klPerDim) {}

    public static Units units(Vae vae, DeviceData data, int n) {
        Backend be = vae.be;
        int lat = vae.cfg.latent(), bmax = vae.maxBatch();
        double[] sum = new double[lat], sum2 = new double[lat], kl = new double[lat];
        for (int start = 0; start < n; start += bmax) {
            int b = Math.min(bmax, n - start);
            vae.loadBatch(data.x, data.oneHot, data.identity.slice(start, b));
            vae.encode();
            float[] mu = new float[lat * b], lv = new float[lat * b];
            be.download(vae.mu(), mu, 0);
            be.download(vae.logVar(), lv, 0);
            for (int i = 0; i < b; i++)
                for (int l = 0; l < lat; l++) {
                    double m = mu[i * lat + l], v = lv[i * lat + l];
                    sum[l] += m;
                    sum2[l] += m * m;
                    kl[l] += -0.5 * (1 + v - m * m - Math.exp(v)) / n;
                }
        }
        double[] var = new double[lat];
        int active = 0;
        for (int l = 0; l < lat; l++) {
            var[l] = sum2[l] / n - (sum[l] / n) * (sum[l] / n);
            if (var[l] > 0.01) active++;
        }
        return new Units(active, var, kl);
    }
}

package io.jvae.bench;

import io.jvae.model.ModelConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * GEMM FLOPs of one training step (2 m n k per GEMM): for every dense layer of (in, out) over n
 * columns, forward 2 in out n, dW 2 in out n, dx 2 in out n, except the encoder's first layer
 * (no gradient for the data). Encoder layers see n = B columns, decoder layers B*J. Element-wise
 * work and gemv sums are not counted (they are O(size), not O(size x width)).
 */
final class Flops {
    private Flops() {}

    public static double perStep(ModelConfig c, int batch, int samples) {
        return perStep(c, batch, samples, 1);
    }

    /**
     * The same when the encoder's first layer multiplies only the nonzeros of its data input
     * (forward and dW of the data's columns scaled by their density).
     */
    public static double perStep(ModelConfig c, int batch, int samples, double firstLayerDensity) {
        double f = 0;
        long nEnc = batch, nDec = (long) batch * samples;
        int cls = c.classes();
        List<int[]> enc = new ArrayList<>(); // {in, out}
        int in = c.inputDim() + cls;
        for (int h : c.encoderHidden()) {
            enc.add(new int[] {in, h});
            in = h;
        }
        enc.add(new int[] {in, c.latent()}); // mu
        enc.add(new int[] {in, c.latent()}); // log-variance
        for (int i = 0; i < enc.size(); i++) {
            double mn = 2.0 * enc.get(i)[0] * enc.get(i)[1] * nEnc;
            boolean firstLayer = i == 0 || (c.encoderHidden().isEmpty() && i == 1);
            if (i == 0 && !c.encoderHidden().isEmpty()) // sparse over the data's columns, dense over the labels'
                mn = 2.0 * (c.inputDim() * firstLayerDensity + cls) * enc.get(i)[1] * nEnc;
            f += mn * (firstLayer ? 2 : 3);
        }
        in = c.latent() + cls;
        List<int[]> dec = new ArrayList<>();
        for (int h : c.decoderHidden()) {
            dec.add(new int[] {in, h});
            in = h;
        }
        dec.add(new int[] {in, c.inputDim()});
        for (int[] l : dec) f += 3 * 2.0 * l[0] * l[1] * nDec;
        return f;
    }
}

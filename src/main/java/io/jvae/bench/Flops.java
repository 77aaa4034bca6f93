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
public final class Flops {
    private Flops() {}

    public static double perStep(ModelConfig c, int batch, int samples) {
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

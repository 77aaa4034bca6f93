package io.jvae.bench;

import io.jvae.model.ModelConfig;
import io.jvae.train.Preset;
import io.jvae.model.Vae;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The performance model on paper of one CUDA training step (docs/gpu.md): FLOPs and bytes per
 * step of every GEMM and element-wise kernel jvae runs, turned into a time on an H100 or H200 by a
 * roofline per kernel with a floor for small kernels, for graph replay and for launching call by
 * call. NOT a measurement: no card has run jvae. Prints the Markdown tables of docs/gpu.md:
 * {@code java -cp target/classes io.jvae.bench.GpuPaperModel}.
 *
 * <p>Assumptions (each a number to replace with a measurement once a card runs bench/gpu-check.sh):
 * GEMMs reach 70 % of the FP32 or TF32 peak and element-wise kernels 80 % of HBM bandwidth; no
 * kernel takes less than 4 us (a cuBLAS GEMM) or 2 us (an element-wise kernel) of device time,
 * graph node or not; launching call by call costs the host 4 us per call (JNI, driver, cuBLAS
 * dispatch), and the step can go no faster than the host issues it; a graph launch and the step
 * block's copy cost the host 6 us per step. Kernels of a step run one after another (one stream).
 */
public final class GpuPaperModel {
    private GpuPaperModel() {}

    /** A card's datasheet numbers (dense, no sparsity). */
    public record Card(String name, double fp32Tflops, double tf32Tflops, double hbmTBs) {}

    public static final Card H100 = new Card("H100 SXM", 67, 494.7, 3.35);
    public static final Card H200 = new Card("H200 SXM", 67, 494.7, 4.8);

    static final double GEMM_EFF = 0.7, BW_EFF = 0.8, GEMM_MIN_US = 4, ELT_MIN_US = 2, HOST_CALL_US = 4, HOST_GRAPH_US = 6;

    /** One kernel of a step: FLOPs (0 for element-wise) and bytes moved. */
    record Op(boolean gemm, double flops, double bytes) {}

    /** The kernels and cuBLAS calls of one training step (J = 1, ELBO, Adam), in the order the step issues them. */
    static List<Op> ops(ModelConfig c, long b) {
        return ops(c, b, false);
    }

    /**
     * The step as built: the output layer's bias is added inside sigmoid_bce, which writes the
     * gradient and 32 lane sums per column (no loss tensor; the loss-sum gemv reads the lane sums),
     * so the (D, B) passes of the loss end are 4: the GEMM's output, x, the gradient, and the output
     * bias gradient's gemv over it. dbFused: that gemv folded into the kernel too (3 passes; needs a
     * row reduction across columns, not built).
     */
    static List<Op> ops(ModelConfig c, long b, boolean dbFused) {
        List<Op> ops = new ArrayList<>();
        long d = c.inputDim(), l = c.latent();
        ops.add(elt(8.0 * d * b + 4 * b));                                 // gather_columns
        List<long[]> layers = new ArrayList<>();                            // {in, out}
        long in = d;
        for (int h : c.encoderHidden()) { layers.add(new long[] {in, h}); in = h; }
        layers.add(new long[] {in, l});                                     // mu
        layers.add(new long[] {in, l});                                     // log-variance
        int enc = layers.size();
        in = l;
        for (int h : c.decoderHidden()) { layers.add(new long[] {in, h}); in = h; }
        layers.add(new long[] {in, d});
        for (int i = 0; i < layers.size(); i++) {                           // forward: gemm + bias/activation
            long[] ly = layers.get(i);
            ops.add(gemm(ly[1], b, ly[0]));
            if (i < layers.size() - 1) ops.add(elt(8.0 * ly[1] * b)); // the output layer's bias: in sigmoid_bce
        }
        ops.add(elt(16.0 * l * b));                                         // reparam_forward: mu, lv in; eps, z out
        ops.add(elt(12.0 * d * b + 4.0 * d + 128.0 * b));                   // sigmoid_bce: W h, x, bias in; grad, lane sums out
        for (int i = layers.size() - 1; i >= 0; i--) {                      // backward
            long[] ly = layers.get(i);
            ops.add(gemm(ly[1], ly[0], b));                                 // dW = dy x^T
            if (!dbFused || i < layers.size() - 1) ops.add(elt(4.0 * ly[1] * b)); // db = dy 1 (gemv: reads dy)
            boolean first = i == 0;
            if (!first) ops.add(gemm(ly[0], b, ly[1]));                     // dx = W^T dy
            if (i == enc) ops.add(elt(28.0 * l * b));                       // reparam_kl_backward (before the heads)
            if (!first && i != enc && i != enc - 1) ops.add(elt(12.0 * ly[0] * b)); // act_backward of the layer below
        }
        ops.add(elt(128.0 * b));                                            // per-sample loss: gemv over the lane sums
        ops.add(elt(4.0 * l * b + 16));                                     // KL and batch sums (gemv)
        ops.add(elt(28.0 * Vae.parameterCount(c)));                         // adam_step: p, g, m, v in; p, m, v out
        return ops;
    }

    static Op gemm(long m, long n, long k) {
        return new Op(true, 2.0 * m * n * k, 4.0 * (m * k + k * n + m * n));
    }

    static Op elt(double bytes) {
        return new Op(false, 0, bytes);
    }

    /** {gemm-only device us, whole-step device us, eager step us (host-bound or not), graph step us, bound}. */
    static Object[] time(Card card, ModelConfig c, long b, boolean tf32) {
        return time(card, c, b, tf32, false);
    }

    static Object[] time(Card card, ModelConfig c, long b, boolean tf32, boolean dbFused) {
        double peak = (tf32 ? card.tf32Tflops() : card.fp32Tflops()) * 1e12 * GEMM_EFF, bw = card.hbmTBs() * 1e12 * BW_EFF;
        double gemms = 0, device = 0, calls = 0;
        for (Op o : ops(c, b, dbFused)) {
            double t = o.gemm()
                    ? Math.max(GEMM_MIN_US, 1e6 * Math.max(o.flops() / peak, o.bytes() / bw))
                    : Math.max(ELT_MIN_US, 1e6 * o.bytes() / bw);
            if (o.gemm()) gemms += t;
            device += t;
            calls++;
        }
        double eager = Math.max(device, calls * HOST_CALL_US), graph = Math.max(device, HOST_GRAPH_US);
        String bound = graph > device ? "host" : gemms / device > 0.5 ? "GEMMs" : "element-wise / floors";
        return new Object[] {gemms, device, eager, graph, bound, calls};
    }

    public static void main(String[] args) {
        long[] batches = {128, 1024, 4096, 16384, 65536};
        for (Preset p : new Preset[] {Preset.PYTORCH, Preset.SEED}) {
            ModelConfig c = p.model;
            System.out.printf(Locale.ROOT, "%n### %s preset (%s)%n%n", p.name().toLowerCase(Locale.ROOT), c.summary());
            System.out.println("| batch | GEMM GFLOP/step | MB/step | card | math | GEMMs alone us | step, graph us | step, eager us | graph step / GEMMs | bound | db fused too (not built) |");
            System.out.println("|---|---|---|---|---|---|---|---|---|---|---|");
            for (long b : batches) {
                double flops = 0, bytes = 0;
                for (Op o : ops(c, b)) { flops += o.flops(); bytes += o.bytes(); }
                for (Card card : new Card[] {H100, H200})
                    for (boolean tf32 : new boolean[] {false, true}) {
                        Object[] t = time(card, c, b, tf32), f = time(card, c, b, tf32, true);
                        double g = (double) t[0], graph = (double) t[3], fg = (double) f[3] / (double) f[0];
                        System.out.printf(Locale.ROOT, "| %d | %.2f | %.1f | %s | %s | %.0f | %.0f | %.0f | %.2f%s | %s | %.2f |%n", b, flops / 1e9,
                                bytes / 1e6, card.name(), tf32 ? "TF32" : "FP32", g, graph, (double) t[2], graph / g,
                                b >= 4096 && graph / g > 1.2 ? " (misses 1.2)" : "", t[4], fg);
                    }
            }
            System.out.printf(Locale.ROOT, "(%d kernels and cuBLAS calls per step in this model)%n", (int) (double) time(H100, c, 128, false)[5]);
        }
    }
}

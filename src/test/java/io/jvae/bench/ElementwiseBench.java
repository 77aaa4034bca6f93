package io.jvae.bench;

import io.jvae.backend.Activation;
import io.jvae.backend.CpuBackend;
import io.jvae.backend.Indices;
import io.jvae.backend.Philox;
import io.jvae.backend.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Each element-wise CpuBackend op at the sizes of one pytorch-preset step (784-400-20, J = 1).
 * bytes moved per call / time = the GB/s column of bench/RESULTS.md. Run: bench/jmh.sh Elementwise
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class ElementwiseBench {
    @Param({"128", "1024"})
    int batch;

    final CpuBackend be = new CpuBackend();
    Tensor h, hb, dh, logits, bias, partials, x, loss, grad, mu, lv, eps, z, dz, dmu, dlv, kl, p, g, m, v, data;
    Indices idx;

    Tensor rand(int r, int c, long seed) {
        Tensor t = be.alloc(r, c);
        float[] a = new float[r * c];
        Philox.normals(seed, 0, a, 0, a.length);
        be.upload(a, 0, t);
        return t;
    }

    @Setup
    public void setup() {
        int B = batch;
        h = rand(400, B, 1);
        hb = rand(400, 1, 2);
        dh = rand(400, B, 3);
        logits = rand(784, B, 4);
        x = be.alloc(784, B);
        float[] u = new float[784 * B];
        Philox.uniforms(5, 0, u, 0, u.length);
        be.upload(u, 0, x);
        loss = be.alloc(784, B);
        bias = rand(784, 1, 12);
        partials = be.alloc(io.jvae.backend.Backend.LOSS_LANES, B);
        grad = be.alloc(784, B);
        mu = rand(20, B, 6);
        lv = rand(20, B, 7);
        eps = be.alloc(20, B);
        z = be.alloc(20, B);
        dz = rand(20, B, 8);
        dmu = be.alloc(20, B);
        dlv = be.alloc(20, B);
        kl = be.alloc(20, B);
        int P = 652_824; // parameters of 784-400-20
        p = rand(P, 1, 9);
        g = rand(P, 1, 10);
        m = be.alloc(P, 1);
        v = be.alloc(P, 1);
        data = rand(784, 8192, 11);
        idx = be.allocIndices(B);
        int[] ids = new int[B];
        for (int i = 0; i < B; i++) ids[i] = (i * 7919) % 8192;
        be.uploadIndices(ids, 0, idx);
    }

    @Benchmark public void biasReluForward() { be.biasActForward(h, hb, Activation.RELU); } // 8 B/elem x 400B
    @Benchmark public void biasTanhForward() { be.biasActForward(h, hb, Activation.TANH); }
    @Benchmark public void reluBackward() { be.actBackward(dh, h, Activation.RELU); }          // 12 B/elem x 400B
    @Benchmark public void sigmoidBce() { be.sigmoidBce(logits, bias, x, grad, partials, 1f / batch); } // 12 B/elem x 784B
    @Benchmark public void reparamForward() { be.reparamForward(mu, lv, eps, z, 3, 0); }       // 16 B/elem x 20B
    @Benchmark public void reparamKlBackward() { be.reparamKlBackward(mu, lv, eps, dz, dmu, dlv, kl, 1f, 1f / batch); }
    @Benchmark public void adamStep() { be.adamStep(p, g, m, v, null, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.1f, 0.001f); } // 28 B/param
    @Benchmark public void gatherColumns() { be.gatherColumns(data, idx, x); }                 // 8 B/elem x 784B
    @Benchmark public void binarize() { be.binarize(loss, 3, 0); }
}

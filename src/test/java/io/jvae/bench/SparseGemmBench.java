package io.jvae.bench;

import io.jvae.backend.Backend;
import io.jvae.backend.CpuBackend;
import io.jvae.backend.Philox;
import io.jvae.backend.SparseColumns;
import io.jvae.backend.Tensor;
import io.jvae.data.Dataset;
import io.jvae.data.Mnist;
import io.jvae.train.Seeds;
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
 * The first layer of the pytorch preset (400 x 784) on a batch of MNIST training images (when
 * cached; else synthetic pixels at MNIST's 19 % density): the dense GEMMs against the sparse
 * products over the compressed batch, and the compression itself, with W and dW on cache lines and
 * off them. Run: bench/jmh.sh SparseGemm
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class SparseGemmBench {
    @Param({"128", "1024"})
    int batch;

    /**
     * true: W and dW as CpuBackend.alloc places them, on 64-byte lines (when the JVM runs G1);
     * false: 16 bytes past a line, where a plain float[] of their size used to start, so that every
     * 16-float load straddles two lines (docs/architecture.md, Memory).
     */
    @Param({"true", "false"})
    boolean aligned;

    static final int D = 784, H = 400;
    final Backend be = new CpuBackend();
    Tensor x, w, h, dh, dw;
    SparseColumns s;

    @Setup
    public void setup() {
        float[] xs = new float[D * batch];
        if (Mnist.cached()) {
            Dataset train = Mnist.load(Mnist.cacheDir()).train();
            int[] perm = Seeds.permutation(1, 1, train.n());
            for (int j = 0; j < batch; j++) System.arraycopy(train.x(), perm[j] * D, xs, j * D, D);
        } else {
            System.arraycopy(Bench.synthetic(D, batch, Bench.MNIST_DENSITY).x(), 0, xs, 0, xs.length);
        }
        x = CpuBackend.wrap(xs, D, batch);
        float[] wa = new float[H * D], da = new float[H * batch];
        Philox.uniforms(1, 0, wa, 0, wa.length);
        Philox.uniforms(2, 0, da, 0, da.length);
        int shift = aligned ? 0 : 4;
        w = be.alloc(H * D + shift, 1).view(shift, H, D);
        be.upload(wa, 0, w);
        dh = CpuBackend.wrap(da, H, batch);
        h = be.alloc(H, batch);
        dw = be.alloc(H * D + shift, 1).view(shift, H, D);
        s = be.compress(x, null, true);
        if (s == null) throw new IllegalStateException("the batch is not sparse enough to compress (or -Djvae.sparseInput=false)");
    }

    @Benchmark
    public SparseColumns compress() {
        return be.compress(x, s, true);
    }

    @Benchmark
    public void forwardDense() {
        be.gemm(false, false, H, batch, D, 1f, w, H, x, D, 0f, h, H);
    }

    @Benchmark
    public void forwardSparse() {
        be.gemmSparse(false, H, w, H, s, h, H);
    }

    @Benchmark
    public void dwDense() {
        be.gemm(false, true, H, D, batch, 1f, dh, H, x, D, 0f, dw, H);
    }

    @Benchmark
    public void dwSparse() {
        be.gemmSparse(true, H, dh, H, s, dw, H);
    }
}

package io.jvae.bench;

import io.jvae.backend.Gemm;
import io.jvae.backend.Philox;
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
 * The GEMM shapes of one pytorch-preset step (784-400-20) through the CPU BLAS.
 * GFLOP/s = 2 m n k / time. Run: bench/jmh.sh Gemm
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class GemmBench {
    /** "transA transB m n k": encoder forward, decoder-out forward, dW of both, dx of the decoder out. */
    @Param({"N N 400 B 784", "N N 784 B 400", "N T 400 784 B", "N T 784 400 B", "T N 400 B 784"})
    String shape;

    @Param({"128", "1024"})
    int batch;

    boolean ta, tb;
    int m, n, k;
    float[] a, b, c;

    @Setup
    public void setup() {
        String[] f = shape.replace("B", Integer.toString(batch)).split(" ");
        ta = f[0].equals("T");
        tb = f[1].equals("T");
        m = Integer.parseInt(f[2]);
        n = Integer.parseInt(f[3]);
        k = Integer.parseInt(f[4]);
        a = new float[m * k];
        b = new float[k * n];
        c = new float[m * n];
        Philox.uniforms(1, 0, a, 0, a.length);
        Philox.uniforms(2, 0, b, 0, b.length);
    }

    @Benchmark
    public void sgemm() {
        Gemm.sgemm(ta, tb, m, n, k, 1f, a, 0, ta ? k : m, b, 0, tb ? n : k, 0f, c, 0, m);
    }
}

package io.jvae.bench;

import io.jvae.backend.Activation;
import io.jvae.backend.Backend;
import io.jvae.backend.Indices;
import io.jvae.backend.SparseColumns;
import io.jvae.backend.Tensor;

import java.util.EnumMap;
import java.util.Map;

/**
 * A Backend decorator that times every call by phase (bench --profile). Each call is followed by
 * sync(), so on a GPU the timings are exact but the pipeline is serialised: the profile says
 * where the time goes, the unprofiled run says how fast it goes.
 */
public final class ProfilingBackend implements Backend {
    public enum Phase {
        GEMM_FORWARD("GEMM forward (N,N)"), GEMM_BACKWARD("GEMM backward (N,T),(T,N)"), SUMS("sums (gemv)"),
        ELEMENTWISE("element-wise (act, reparam, KL, loss)"), OPTIMIZER("optimizer (L2 axpy, Adam/RMSprop)"),
        DATA("data (gather, binarize, copies)");

        public final String label;

        Phase(String label) {
            this.label = label;
        }
    }

    private final Backend be;
    private final Map<Phase, long[]> nanos = new EnumMap<>(Phase.class); // [total ns, calls]
    private final Map<String, long[]> byOp = new java.util.TreeMap<>();     // per Backend method
    private final Map<String, long[]> byGemm = new java.util.LinkedHashMap<>(); // per GEMM shape: [ns, calls, flops per call]

    public ProfilingBackend(Backend be) {
        this.be = be;
        for (Phase p : Phase.values()) nanos.put(p, new long[2]);
    }

    public Map<Phase, long[]> totals() {
        return nanos;
    }

    /** Per Backend method: [total ns, calls]. */
    public Map<String, long[]> byOperation() {
        return byOp;
    }

    /** Per GEMM shape, in order of first call ("NT 400x784x128": op(A) op(B), m x n x k): [total ns, calls, FLOPs per call]. */
    public Map<String, long[]> byGemmShape() {
        return byGemm;
    }

    public void reset() {
        for (long[] v : nanos.values()) {
            v[0] = 0;
            v[1] = 0;
        }
        byOp.clear();
        byGemm.clear();
    }

    private long t0() {
        return System.nanoTime();
    }

    /** Books the call that started at t0 under its phase and its Backend method; returns its nanoseconds. */
    private long end(Phase p, String op, long t0) {
        be.sync();
        long dt = System.nanoTime() - t0;
        long[] v = nanos.get(p);
        v[0] += dt;
        v[1]++;
        long[] w = byOp.computeIfAbsent(op, k -> new long[2]);
        w[0] += dt;
        w[1]++;
        return dt;
    }

    @Override public String name() { return be.name(); }
    @Override public String describe() { return be.describe() + " (profiled)"; }
    @Override public Tensor alloc(int rows, int cols) { return be.alloc(rows, cols); }
    @Override public Tensor constant(float[] host, int rows, int cols) { long t = t0(); Tensor c = be.constant(host, rows, cols); end(Phase.DATA, "constant", t); return c; }
    @Override public boolean sharesHostArrays() { return be.sharesHostArrays(); }
    @Override public Indices allocIndices(int n) { return be.allocIndices(n); }
    @Override public void upload(float[] src, int srcOff, Tensor dst) { long t = t0(); be.upload(src, srcOff, dst); end(Phase.DATA, "upload", t); }
    @Override public void download(Tensor src, float[] dst, int dstOff) { long t = t0(); be.download(src, dst, dstOff); end(Phase.DATA, "download", t); }
    @Override public void uploadIndices(int[] src, int srcOff, Indices dst) { long t = t0(); be.uploadIndices(src, srcOff, dst); end(Phase.DATA, "uploadIndices", t); }
    @Override public void copy(Tensor src, Tensor dst) { long t = t0(); be.copy(src, dst); end(Phase.DATA, "copy", t); }
    @Override public void fill(Tensor x, float value) { long t = t0(); be.fill(x, value); end(Phase.DATA, "fill", t); }
    @Override public void sync() { be.sync(); }
    @Override public long[] deviceMemory() { return be.deviceMemory(); }

    @Override
    public void gemm(boolean ta, boolean tb, int m, int n, int k, float alpha, Tensor a, int lda, Tensor b, int ldb, float beta, Tensor c, int ldc) {
        long t = t0();
        be.gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        long dt = end(ta || tb ? Phase.GEMM_BACKWARD : Phase.GEMM_FORWARD, "gemm", t);
        long[] g = byGemm.computeIfAbsent((ta ? "T" : "N") + (tb ? "T" : "N") + " " + m + "x" + n + "x" + k, key -> new long[3]);
        g[0] += dt;
        g[1]++;
        g[2] = 2L * m * n * k;
    }

    @Override
    public SparseColumns compress(Tensor x, SparseColumns reuse, boolean forGradient) {
        long t = t0();
        SparseColumns s = be.compress(x, reuse, forGradient);
        end(Phase.DATA, "compress", t);
        return s;
    }

    @Override
    public void gemmSparse(boolean transX, int m, Tensor a, int lda, SparseColumns x, Tensor c, int ldc) {
        long t = t0();
        be.gemmSparse(transX, m, a, lda, x, c, ldc);
        long dt = end(transX ? Phase.GEMM_BACKWARD : Phase.GEMM_FORWARD, "gemmSparse", t);
        String shape = (transX ? "NT " + m + "x" + x.rows() + "x" + x.cols() : "NN " + m + "x" + x.cols() + "x" + x.rows()) + " sparse";
        long[] g = byGemm.computeIfAbsent(shape, key -> new long[3]);
        g[0] += dt;
        g[1]++;
        g[2] = 2L * m * x.nnz(); // the FLOPs executed (of the last call; batches differ a little)
    }

    @Override
    public void gemv(boolean ta, int m, int n, float alpha, Tensor a, int lda, Tensor x, float beta, Tensor y) {
        long t = t0();
        be.gemv(ta, m, n, alpha, a, lda, x, beta, y);
        end(Phase.SUMS, "gemv", t);
    }

    @Override public void axpy(float alpha, Tensor x, Tensor y) { long t = t0(); be.axpy(alpha, x, y); end(Phase.OPTIMIZER, "axpy", t); }
    @Override public void biasActForward(Tensor y, Tensor b, Activation act) { long t = t0(); be.biasActForward(y, b, act); end(Phase.ELEMENTWISE, "biasActForward", t); }
    @Override public void actBackward(Tensor dy, Tensor y, Activation act) { long t = t0(); be.actBackward(dy, y, act); end(Phase.ELEMENTWISE, "actBackward", t); }
    @Override public void reparamForward(Tensor mu, Tensor lv, Tensor eps, Tensor z, long seed, long offset) { long t = t0(); be.reparamForward(mu, lv, eps, z, seed, offset); end(Phase.ELEMENTWISE, "reparamForward", t); }

    @Override
    public void reparamKlBackward(Tensor mu, Tensor lv, Tensor eps, Tensor dz, Tensor dmu, Tensor dlv, Tensor kl, float beta, float invB) {
        long t = t0();
        be.reparamKlBackward(mu, lv, eps, dz, dmu, dlv, kl, beta, invB);
        end(Phase.ELEMENTWISE, "reparamKlBackward", t);
    }

    @Override public void klForward(Tensor mu, Tensor lv, Tensor kl) { long t = t0(); be.klForward(mu, lv, kl); end(Phase.ELEMENTWISE, "klForward", t); }
    @Override public void sigmoidBce(Tensor l, Tensor b, Tensor x, Tensor grad, Tensor p, float scale) { long t = t0(); be.sigmoidBce(l, b, x, grad, p, scale); end(Phase.ELEMENTWISE, "sigmoidBce", t); }
    @Override public void gaussianNll(Tensor m, Tensor b, Tensor x, Tensor grad, Tensor p, float scale) { long t = t0(); be.gaussianNll(m, b, x, grad, p, scale); end(Phase.ELEMENTWISE, "gaussianNll", t); }
    @Override public void gaussianNllVar(Tensor m, Tensor b, Tensor x, Tensor lv, Tensor grad, Tensor dlv, Tensor p, float scale) { long t = t0(); be.gaussianNllVar(m, b, x, lv, grad, dlv, p, scale); end(Phase.ELEMENTWISE, "gaussianNllVar", t); }

    @Override
    public void adamStep(Tensor p, Tensor g, Tensor m, Tensor v, Tensor decay, float lr, float b1, float b2, float eps, float bc1, float bc2) {
        long t = t0();
        be.adamStep(p, g, m, v, decay, lr, b1, b2, eps, bc1, bc2);
        end(Phase.OPTIMIZER, "adamStep", t);
    }

    @Override public void rmspropStep(Tensor p, Tensor g, Tensor ms, Tensor decay, float lr, float rho, float eps) { long t = t0(); be.rmspropStep(p, g, ms, decay, lr, rho, eps); end(Phase.OPTIMIZER, "rmspropStep", t); }
    @Override public void gatherColumns(Tensor src, Indices idx, Tensor dst) { long t = t0(); be.gatherColumns(src, idx, dst); end(Phase.DATA, "gatherColumns", t); }
    @Override public void binarize(Tensor x, long seed, long offset) { long t = t0(); be.binarize(x, seed, offset); end(Phase.DATA, "binarize", t); }
    @Override public void normal(Tensor out, long seed, long offset) { long t = t0(); be.normal(out, seed, offset); end(Phase.ELEMENTWISE, "normal", t); }
    @Override public void logPriorRatio(Tensor lv, Tensor eps, Tensor z, Tensor out) { long t = t0(); be.logPriorRatio(lv, eps, z, out); end(Phase.ELEMENTWISE, "logPriorRatio", t); }
    @Override public void iwaeWeights(Tensor rec, Tensor d, Tensor w, Tensor lse, int k) { long t = t0(); be.iwaeWeights(rec, d, w, lse, k); end(Phase.ELEMENTWISE, "iwaeWeights", t); }
    @Override public void scaleColumns(Tensor y, Tensor s, float alpha) { long t = t0(); be.scaleColumns(y, s, alpha); end(Phase.ELEMENTWISE, "scaleColumns", t); }
    @Override public void addScaledColumns(Tensor y, Tensor x, Tensor s, float alpha) { long t = t0(); be.addScaledColumns(y, x, s, alpha); end(Phase.ELEMENTWISE, "addScaledColumns", t); }
    @Override public void close() { be.close(); }
}

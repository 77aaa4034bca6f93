package io.jvae.backend;

/**
 * The CPU executor's loss end of a step (Backend.sigmoidBce, gaussianNll, gaussianNllVar): the
 * output bias added on the fly, the per-element loss into a per-thread column (never a tensor), its
 * gradient written, and the losses summed per lane in the GPU kernels' order (laneSums), so the
 * two executors add the same terms in the same order.
 */
final class CpuLoss {
    private CpuLoss() {}

    static void sigmoidBce(Tensor pre, Tensor bias, Tensor x, Tensor grad, Tensor partials, float scale) {
        checkLoss("sigmoidBce", pre, bias, x, grad, partials);
        float[] pa = CpuBackend.arr(pre), ba = CpuBackend.arr(bias), xa = CpuBackend.arr(x), ga = CpuBackend.arr(grad), sa = CpuBackend.arr(partials);
        int po = CpuBackend.off(pre), bo = CpuBackend.off(bias), xo = CpuBackend.off(x), go = CpuBackend.off(grad), so = CpuBackend.off(partials), rows = pre.rows, xCols = x.cols;
        Parallel.forRange(pre.cols, CpuBackend.colGrain(rows), (c0, c1) -> {
            float[] l = scratch(0, rows), loss = scratch(1, rows); // one column's logits and losses, in cache
            for (int c = c0; c < c1; c++) {
                int pe = po + c * rows, xe = xo + (c % xCols) * rows, ge = go + c * rows;
                for (int r = 0; r < rows; r++) l[r] = pa[pe + r] + ba[bo + r];
                if (Simd.AVAILABLE) SimdKernels.sigmoidBce(l, 0, xa, xe, loss, 0, ga, ge, rows, scale);
                else bceRange(l, 0, xa, xe, loss, 0, ga, ge, 0, rows, scale);
                laneSums(loss, rows, sa, so + c * Backend.LOSS_LANES);
            }
        });
    }

    /** Per-thread column scratch of the loss ops (two slots), grown when a longer column comes: no allocation per step. */
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[2][0]);

    private static float[] scratch(int slot, int n) {
        float[][] s = SCRATCH.get();
        if (s[slot].length < n) s[slot] = new float[n];
        return s[slot];
    }

    /**
     * out[k] = sum of loss[r] over rows r = k, k + Backend.LOSS_LANES, ... in increasing order, for the
     * Backend.LOSS_LANES lanes: the order in which each GPU thread of the loss kernels adds its rows.
     */
    static void laneSums(float[] loss, int rows, float[] out, int oo) {
        java.util.Arrays.fill(out, oo, oo + Backend.LOSS_LANES, 0f); // summed in place: nothing allocated per column
        int r = 0;
        for (; r + Backend.LOSS_LANES <= rows; r += Backend.LOSS_LANES)
            for (int k = 0; k < Backend.LOSS_LANES; k++) out[oo + k] += loss[r + k];
        for (int k = 0; r + k < rows; k++) out[oo + k] += loss[r + k];
    }

    /** The scalar sigmoid cross-entropy over [lo, hi) of one column (also the tail of the SIMD loop). */
    static void bceRange(float[] la, int le, float[] xa, int xe, float[] lsa, int se, float[] ga, int ge, int lo, int hi, float scale) {
        for (int r = lo; r < hi; r++) {
            float l = la[le + r], t = xa[xe + r];
            float ex = FastMath.exp(-Math.abs(l));                 // in (0, 1]: never overflows
            lsa[se + r] = Math.max(l, 0f) - l * t + FastMath.log1p(ex);
            float sig = l >= 0f ? 1f / (1f + ex) : ex / (1f + ex);
            ga[ge + r] = (sig - t) * scale;
        }
    }

    /** 0.5 ln(2 pi): the constant of a unit-variance Gaussian log-density per element. */
    static final float HALF_LOG_2PI = 0.9189385332046727f;

    static void gaussianNll(Tensor pre, Tensor bias, Tensor x, Tensor grad, Tensor partials, float scale) {
        checkLoss("gaussianNll", pre, bias, x, grad, partials);
        float[] pa = CpuBackend.arr(pre), ba = CpuBackend.arr(bias), xa = CpuBackend.arr(x), ga = CpuBackend.arr(grad), sa = CpuBackend.arr(partials);
        int po = CpuBackend.off(pre), bo = CpuBackend.off(bias), xo = CpuBackend.off(x), go = CpuBackend.off(grad), so = CpuBackend.off(partials), rows = pre.rows, xCols = x.cols;
        Parallel.forRange(pre.cols, CpuBackend.colGrain(rows), (c0, c1) -> {
            float[] loss = scratch(1, rows);
            for (int c = c0; c < c1; c++) {
                int pe = po + c * rows, xe = xo + (c % xCols) * rows, ge = go + c * rows;
                for (int r = 0; r < rows; r++) {
                    float d = (pa[pe + r] + ba[bo + r]) - xa[xe + r];
                    loss[r] = 0.5f * d * d + HALF_LOG_2PI;
                    ga[ge + r] = d * scale;
                }
                laneSums(loss, rows, sa, so + c * Backend.LOSS_LANES);
            }
        });
    }

    static void gaussianNllVar(Tensor pre, Tensor bias, Tensor x, Tensor logvar, Tensor grad, Tensor dlv, Tensor partials, float scale) {
        checkLoss("gaussianNllVar", pre, bias, x, grad, partials);
        if (logvar.size() != pre.rows || dlv.size() != pre.size())
            throw new IllegalArgumentException("gaussianNllVar: logvar " + logvar.shape() + ", dlv " + dlv.shape() + " for " + pre.shape());
        if (CpuBackend.overlaps(dlv, grad) || CpuBackend.overlaps(dlv, pre) || CpuBackend.overlaps(dlv, x) || CpuBackend.overlaps(dlv, logvar) || CpuBackend.overlaps(grad, logvar))
            throw new IllegalArgumentException("gaussianNllVar: outputs overlap");
        float[] pa = CpuBackend.arr(pre), ba = CpuBackend.arr(bias), xa = CpuBackend.arr(x), va = CpuBackend.arr(logvar), ga = CpuBackend.arr(grad), da = CpuBackend.arr(dlv), sa = CpuBackend.arr(partials);
        int po = CpuBackend.off(pre), bo = CpuBackend.off(bias), xo = CpuBackend.off(x), vo = CpuBackend.off(logvar), go = CpuBackend.off(grad), dO = CpuBackend.off(dlv), so = CpuBackend.off(partials);
        int rows = pre.rows, xCols = x.cols;
        Parallel.forRange(pre.cols, CpuBackend.colGrain(rows), (c0, c1) -> {
            float[] loss = scratch(1, rows);
            for (int c = c0; c < c1; c++) {
                int pe = po + c * rows, xe = xo + (c % xCols) * rows, ge = go + c * rows, de = dO + c * rows;
                for (int r = 0; r < rows; r++) {
                    float d = (pa[pe + r] + ba[bo + r]) - xa[xe + r], lv = va[vo + r];
                    float iv = (float) Math.exp(-lv), q = d * d * iv;
                    loss[r] = 0.5f * q + 0.5f * lv + HALF_LOG_2PI;
                    ga[ge + r] = d * iv * scale;
                    da[de + r] = 0.5f * (1f - q) * scale;
                }
                laneSums(loss, rows, sa, so + c * Backend.LOSS_LANES);
            }
        });
    }

    static void checkLoss(String op, Tensor pre, Tensor bias, Tensor x, Tensor grad, Tensor partials) {
        CpuBackend.sameSize(op + "(pre, grad)", pre, grad);
        if (bias.size() != pre.rows)
            throw new IllegalArgumentException(op + ": bias " + bias.shape() + " for " + pre.rows + " rows");
        if (partials.size() != (long) Backend.LOSS_LANES * pre.cols)
            throw new IllegalArgumentException(op + ": partials " + partials.shape() + " for " + pre.cols + " columns of " + Backend.LOSS_LANES + " lanes");
        if (x.size() == 0 || pre.cols % x.cols != 0 || pre.rows != x.rows)
            throw new IllegalArgumentException(op + ": output " + pre.shape() + " is not J copies of target " + x.shape());
        for (Tensor t : new Tensor[] {pre, bias, x, partials})
            if (CpuBackend.overlaps(grad, t)) throw new IllegalArgumentException(op + ": grad " + grad.shape() + " overlaps an input");
        if (CpuBackend.overlaps(partials, pre) || CpuBackend.overlaps(partials, x))
            throw new IllegalArgumentException(op + ": partials " + partials.shape() + " overlap an input");
    }
}

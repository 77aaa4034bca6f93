package io.jvae.backend.cuda;

import io.jvae.InvalidInputException;
import io.jvae.backend.Activation;
import io.jvae.backend.Backend;
import io.jvae.backend.Indices;
import io.jvae.backend.Storage;
import io.jvae.backend.Tensor;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasMath;
import jcuda.jcublas.cublasOperation;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The Backend on an NVIDIA GPU: a thin adapter, one JCuda call per method. cuBLAS (JCublas2)
 * does every GEMM/GEMV; the element-wise methods launch the kernels of vae_kernels.ptx through
 * {@link #launch}, typed by the {@link Kernel} declarations that PtxSignatureTest checks against
 * the PTX. Works on the device's primary context (cuDevicePrimaryCtxRetain + cuCtxSetCurrent), which
 * the runtime API inside cuBLAS shares; all work goes to the default stream, so kernels and GEMMs
 * run in issue order and only downloads wait.
 *
 * <p>Status: compiled and signature-checked here; the GPU-tagged tests (CudaBackendGpuTest) that
 * compare every op and 20 training steps with CpuBackend have not yet run on a card, so
 * `--device auto` does not choose this backend; `--device cuda` does.
 */
public final class CudaBackend implements Backend {
    /** Device memory: a CUdeviceptr and its length in 4-byte elements. */
    static final class DeviceStorage implements Storage {
        final CUdeviceptr ptr;
        final long length;

        DeviceStorage(CUdeviceptr ptr, long length) {
            this.ptr = ptr;
            this.length = length;
        }

        @Override
        public long length() {
            return length;
        }
    }

    private final int ordinal;
    private final String deviceName;
    private final CUcontext ctx = new CUcontext();
    private final CUdevice device = new CUdevice();
    private final CUmodule module = new CUmodule();
    private final Map<Kernel, CUfunction> functions = new EnumMap<>(Kernel.class);
    private final cublasHandle blas = new cublasHandle();
    private final List<CUdeviceptr> allocations = new ArrayList<>();
    private final int maxBlocks;
    private boolean closed;

    private CudaBackend(int ordinal, boolean tf32) {
        this.ordinal = ordinal;
        if (!CudaProbe.available()) throw new InvalidInputException("--device cuda:" + ordinal + ": " + CudaProbe.reason());
        JCudaDriver.setExceptionsEnabled(true);
        JCublas2.setExceptionsEnabled(true);
        call("cuInit", () -> JCudaDriver.cuInit(0), null);
        int[] count = {0};
        call("cuDeviceGetCount", () -> JCudaDriver.cuDeviceGetCount(count), null);
        if (ordinal < 0 || ordinal >= count[0])
            throw new InvalidInputException("--device cuda:" + ordinal + ": this machine has " + count[0] + " CUDA device(s)");
        call("cuDeviceGet", () -> JCudaDriver.cuDeviceGet(device, ordinal), null);
        call("cuDevicePrimaryCtxRetain", () -> JCudaDriver.cuDevicePrimaryCtxRetain(ctx, device), null);
        call("cuCtxSetCurrent", () -> JCudaDriver.cuCtxSetCurrent(ctx), null);
        byte[] name = new byte[256];
        JCudaDriver.cuDeviceGetName(name, name.length, device);
        this.deviceName = new String(name).trim().replace("\0", "");
        byte[] ptx = loadPtx();
        call("cuModuleLoadData(vae_kernels.ptx)", () -> JCudaDriver.cuModuleLoadData(module, ptx),
                "driver older than the PTX ISA? `jvae info` shows the driver version");
        for (Kernel k : Kernel.values()) {
            CUfunction f = new CUfunction();
            call("cuModuleGetFunction(" + k.symbol + ")", () -> JCudaDriver.cuModuleGetFunction(f, module, k.symbol), "stale PTX in the jar");
            functions.put(k, f);
        }
        call("cublasCreate", () -> JCublas2.cublasCreate(blas), "are the cuBLAS 12 libraries installed? see docs/gpu.md");
        if (tf32) call("cublasSetMathMode(TF32)", () -> JCublas2.cublasSetMathMode(blas, cublasMath.CUBLAS_TF32_TENSOR_OP_MATH), null);
        int[] sms = {0};
        JCudaDriver.cuDeviceGetAttribute(sms, jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device);
        this.maxBlocks = Math.max(1, sms[0]) * 32; // enough resident blocks; the grid-stride loops cover the rest
    }

    /** Opens device `ordinal` (errors name the failing call). */
    public static CudaBackend open(int ordinal, boolean tf32) {
        return new CudaBackend(ordinal, tf32);
    }

    private interface Call {
        int run();
    }

    private static void call(String what, Call c, String hint) {
        try {
            int rc = c.run();
            if (rc != 0) throw new CudaFailure(what, new RuntimeException(CUresult.stringFor(rc)), hint);
        } catch (CudaException e) {
            throw new CudaFailure(what, e, hint);
        }
    }

    static byte[] loadPtx() {
        try (InputStream in = CudaBackend.class.getResourceAsStream("/io/jvae/cuda/vae_kernels.ptx")) {
            if (in == null) throw new IllegalStateException("vae_kernels.ptx missing from the jar");
            byte[] b = in.readAllBytes();
            return java.util.Arrays.copyOf(b, b.length + 1); // NUL-terminated for cuModuleLoadData
        } catch (IOException e) {
            throw new IllegalStateException("reading vae_kernels.ptx: " + e.getMessage(), e);
        }
    }

    @Override
    public String name() {
        return "cuda:" + ordinal;
    }

    @Override
    public String describe() {
        return "cuda:" + ordinal + " " + deviceName + " (cuBLAS + jvae kernels)";
    }

    // ---- memory ----

    /** Free and total device memory in bytes (cuMemGetInfo). */
    @Override
    public long[] deviceMemory() {
        return memoryInfo();
    }

    public long[] memoryInfo() {
        long[] free = {0}, total = {0};
        JCudaDriver.cuMemGetInfo(free, total);
        return new long[] {free[0], total[0]};
    }

    private CUdeviceptr allocBytes(long elements) {
        CUdeviceptr p = new CUdeviceptr();
        long bytes = 4L * Math.max(1, elements);
        try {
            JCudaDriver.cuMemAlloc(p, bytes);
        } catch (CudaException e) {
            long[] free = {0}, total = {0};
            JCudaDriver.cuMemGetInfo(free, total);
            throw new InvalidInputException(String.format(java.util.Locale.ROOT,
                    "device out of memory: %d bytes requested, %d free of %d on %s; use a smaller --batch or model",
                    bytes, free[0], total[0], deviceName));
        }
        JCudaDriver.cuMemsetD32(p, 0, Math.max(1, elements));
        allocations.add(p);
        return p;
    }

    @Override
    public Tensor alloc(int rows, int cols) {
        long n = (long) rows * cols;
        return new Tensor(new DeviceStorage(allocBytes(n), n), 0, rows, cols);
    }

    @Override
    public Indices allocIndices(int n) {
        return new Indices(new DeviceStorage(allocBytes(n), n), 0, n);
    }

    static CUdeviceptr ptr(Tensor t) {
        if (!(t.storage instanceof DeviceStorage d)) throw new IllegalArgumentException(t + " is not a CUDA tensor");
        return d.ptr.withByteOffset(4L * t.offset);
    }

    static CUdeviceptr ptr(Indices i) {
        if (!(i.storage instanceof DeviceStorage d)) throw new IllegalArgumentException("indices are not on the CUDA device");
        return d.ptr.withByteOffset(4L * i.offset);
    }

    @Override
    public void upload(float[] src, int srcOff, Tensor dst) {
        JCudaDriver.cuMemcpyHtoD(ptr(dst), Pointer.to(src).withByteOffset(4L * srcOff), 4L * dst.size());
    }

    @Override
    public void download(Tensor src, float[] dst, int dstOff) {
        JCudaDriver.cuMemcpyDtoH(Pointer.to(dst).withByteOffset(4L * dstOff), ptr(src), 4L * src.size());
    }

    @Override
    public void uploadIndices(int[] src, int srcOff, Indices dst) {
        JCudaDriver.cuMemcpyHtoD(ptr(dst), Pointer.to(src).withByteOffset(4L * srcOff), 4L * dst.length);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        if (src.size() != dst.size()) throw new IllegalArgumentException("copy: sizes differ, " + src.shape() + " vs " + dst.shape());
        JCudaDriver.cuMemcpyDtoD(ptr(dst), ptr(src), 4L * src.size());
    }

    @Override
    public void fill(Tensor t, float value) {
        JCudaDriver.cuMemsetD32(ptr(t), Float.floatToRawIntBits(value), t.size());
    }

    @Override
    public void sync() {
        JCudaDriver.cuCtxSynchronize();
    }

    // ---- cuBLAS ----

    private static int op(boolean t) {
        return t ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
    }

    @Override
    public void gemm(boolean ta, boolean tb, int m, int n, int k, float alpha, Tensor a, int lda, Tensor b, int ldb, float beta, Tensor c, int ldc) {
        io.jvae.backend.Gemm.check(ta, tb, m, n, k, lda, a.size(), ldb, b.size(), ldc, c.size());
        if (m == 0 || n == 0) return;
        JCublas2.cublasSgemm(blas, op(ta), op(tb), m, n, k, Pointer.to(new float[] {alpha}), ptr(a), lda, ptr(b), ldb,
                Pointer.to(new float[] {beta}), ptr(c), ldc);
    }

    @Override
    public void gemv(boolean ta, int m, int n, float alpha, Tensor a, int lda, Tensor x, float beta, Tensor y) {
        if (m == 0 || n == 0) throw new IllegalArgumentException("gemv with an empty matrix");
        JCublas2.cublasSgemv(blas, op(ta), m, n, Pointer.to(new float[] {alpha}), ptr(a), lda, ptr(x), 1,
                Pointer.to(new float[] {beta}), ptr(y), 1);
    }

    // ---- kernels ----

    /** Launches kernel k over n elements with arguments checked against its declaration. */
    void launch(Kernel k, int n, Object... args) {
        if (args.length != k.params.size()) throw new IllegalArgumentException(k.symbol + ": " + args.length + " arguments for " + k.params);
        Pointer[] ps = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) {
            Kernel.Param p = k.params.get(i);
            Object a = args[i];
            if (p.pointer() && a == null) ps[i] = Pointer.to(new CUdeviceptr());
            else if (p == Kernel.Param.F32_PTR && a instanceof Tensor t) ps[i] = Pointer.to(ptr(t));
            else if (p == Kernel.Param.I32_PTR && a instanceof Indices ix) ps[i] = Pointer.to(ptr(ix));
            else if (p == Kernel.Param.I32 && a instanceof Integer v) ps[i] = Pointer.to(new int[] {v});
            else if (p == Kernel.Param.F32 && a instanceof Float v) ps[i] = Pointer.to(new float[] {v});
            else if (p == Kernel.Param.U64 && a instanceof Long v) ps[i] = Pointer.to(new long[] {v});
            else throw new IllegalArgumentException(k.symbol + " argument " + i + ": " + (a == null ? "null" : a.getClass().getSimpleName()) + " for " + p);
        }
        if (n == 0) return;
        int grid = Kernel.grid(n, maxBlocks);
        JCudaDriver.cuLaunchKernel(functions.get(k), grid, 1, 1, Kernel.BLOCK, 1, 1, 0, null, Pointer.to(ps), null); // grid, block, smem, stream
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor y) {
        launch(Kernel.AXPY, y.size(), y, x, y.size(), alpha);
    }

    @Override
    public void biasActForward(Tensor y, Tensor b, Activation act) {
        launch(Kernel.BIAS_ACT_FORWARD, y.size(), y, b, y.rows, y.size(), act.code);
    }

    @Override
    public void actBackward(Tensor dy, Tensor y, Activation act) {
        launch(Kernel.ACT_BACKWARD, dy.size(), dy, y, dy.size(), act.code);
    }

    @Override
    public void reparamForward(Tensor mu, Tensor lv, Tensor eps, Tensor z, long seed, long offset) {
        launch(Kernel.REPARAM_FORWARD, z.size(), mu, lv, eps, z, mu.size(), z.size(), seed, offset);
    }

    @Override
    public void reparamKlBackward(Tensor mu, Tensor lv, Tensor eps, Tensor dz, Tensor dmu, Tensor dlv, Tensor kl, float beta, float invB) {
        launch(Kernel.REPARAM_KL_BACKWARD, mu.size(), mu, lv, eps, dz, dmu, dlv, kl, mu.size(), eps.size() / mu.size(), beta, invB);
    }

    @Override
    public void klForward(Tensor mu, Tensor lv, Tensor kl) {
        launch(Kernel.KL_FORWARD, mu.size(), mu, lv, kl, mu.size());
    }

    @Override
    public void sigmoidBce(Tensor logits, Tensor x, Tensor loss, Tensor grad, float scale) {
        launch(Kernel.SIGMOID_BCE, logits.size(), logits, x, loss, grad, x.size(), logits.size(), scale);
    }

    @Override
    public void gaussianNll(Tensor mean, Tensor x, Tensor loss, Tensor grad, float scale) {
        launch(Kernel.GAUSSIAN_NLL, mean.size(), mean, x, loss, grad, x.size(), mean.size(), scale);
    }

    @Override
    public void adamStep(Tensor p, Tensor g, Tensor m, Tensor v, float lr, float b1, float b2, float eps, float bc1, float bc2) {
        launch(Kernel.ADAM_STEP, p.size(), p, g, m, v, p.size(), lr, b1, b2, eps, bc1, bc2);
    }

    @Override
    public void rmspropStep(Tensor p, Tensor g, Tensor ms, float lr, float rho, float eps) {
        launch(Kernel.RMSPROP_STEP, p.size(), p, g, ms, p.size(), lr, rho, eps);
    }

    @Override
    public void gatherColumns(Tensor src, Indices idx, Tensor dst) {
        launch(Kernel.GATHER_COLUMNS, dst.size(), src, idx, dst, src.rows, src.cols, dst.size());
    }

    @Override
    public void binarize(Tensor x, long seed, long offset) {
        launch(Kernel.BINARIZE, x.size(), x, x.size(), seed, offset);
    }

    @Override
    public void normal(Tensor out, long seed, long offset) {
        launch(Kernel.NORMAL_FILL, out.size(), out, out.size(), seed, offset);
    }

    @Override
    public void logPriorRatio(Tensor lv, Tensor eps, Tensor z, Tensor out) {
        launch(Kernel.LOG_PRIOR_RATIO, out.size(), lv, eps, z, out, lv.size(), out.size());
    }

    @Override
    public void iwaeWeights(Tensor rec, Tensor d, Tensor w, Tensor lse, int samples) {
        launch(Kernel.IWAE_WEIGHTS, lse.size(), rec, d, w, lse, lse.size(), samples);
    }

    @Override
    public void scaleColumns(Tensor y, Tensor s, float alpha) {
        launch(Kernel.SCALE_COLUMNS, y.size(), y, s, y.rows, y.size(), alpha);
    }

    @Override
    public void addScaledColumns(Tensor y, Tensor x, Tensor s, float alpha) {
        launch(Kernel.ADD_SCALED_COLUMNS, y.size(), y, x, s, y.rows, y.size(), alpha);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            JCudaDriver.cuCtxSynchronize();
            for (CUdeviceptr p : allocations) JCudaDriver.cuMemFree(p);
            allocations.clear();
            JCublas2.cublasDestroy(blas);
            JCudaDriver.cuModuleUnload(module);
            JCudaDriver.cuDevicePrimaryCtxRelease(device);
        } catch (CudaException e) {
            throw new CudaFailure("releasing cuda:" + ordinal, e, null);
        }
    }
}

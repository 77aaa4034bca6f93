package io.jvae.backend.cuda;

import io.jvae.InvalidInputException;
import io.jvae.backend.Activation;
import io.jvae.backend.Backend;
import io.jvae.backend.Tensor;
import io.jvae.train.Preset;
import io.jvae.model.Vae;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUfunction;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntSupplier;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The stand-ins catch what they claim to catch (so that the GPU suite passing on them means
 * something), and the CudaBackend fixes F2, F3, F5, F6 each have a test that failed before the fix.
 * Each test that poisons the context (a fault is sticky, as on a card) closes its backend, which
 * releases the primary context; the next open starts a fresh one.
 */
class StandInTest {
    @BeforeAll
    static void standIn() {
        assumeTrue(!StandIn.onCard(), "on a card: these tests are about the stand-in");
        assumeTrue(StandIn.load() && CudaProbe.available(), () -> "no stand-in: " + StandIn.reason() + "; " + CudaProbe.reason());
    }

    static Tensor put(Backend be, float[] a) {
        Tensor t = be.alloc(a.length, 1);
        be.upload(a, 0, t);
        return t;
    }

    static String ptx() {
        return new String(CudaBackend.loadPtx(), StandardCharsets.US_ASCII).replace("\0", "");
    }

    static int loadModule(String ptx) {
        CUmodule m = new CUmodule();
        JCudaDriver.setExceptionsEnabled(false);
        try {
            int rc = JCudaDriver.cuModuleLoadData(m, (ptx + "\0").getBytes(StandardCharsets.US_ASCII));
            if (rc == 0) JCudaDriver.cuModuleUnload(m);
            return rc;
        } finally {
            JCudaDriver.setExceptionsEnabled(true);
        }
    }

    @Test
    void theDeviceSaysItIsTheStandIn() {
        try (CudaBackend be = CudaBackend.open(0, false)) {
            assertTrue(be.describe().contains("CPU stand-in"), be.describe());
            assertEquals(80, be.computeCapability(), "JVAE_STANDIN_CC default");
        }
    }

    @Test
    void aKernelWritingPastItsTensorIsAnIllegalAddressAndPoisonsTheContext() {
        CudaBackend be = CudaBackend.open(0, false);
        Tensor y = put(be, new float[100]), x = put(be, new float[200]);
        be.launch(Kernel.AXPY, 164, y, x, 164, 1f); // y has 100 floats, the kernel writes 164 (into the red zone)
        CudaException e = assertThrows(CudaException.class, () -> be.download(y, new float[100], 0));
        assertTrue(e.getMessage().contains("CUDA_ERROR_ILLEGAL_ADDRESS"), e.getMessage());
        assertThrows(CudaException.class, () -> be.fill(y, 0f), "sticky: every later call fails");
        assertThrows(RuntimeException.class, be::close, "close reports the fault, after freeing what it can");
    }

    @Test
    void twoThreadsTouchingOneWordInALaunchIsARace() {
        CudaBackend be = CudaBackend.open(0, false);
        int rows = 17, cols = 241;
        Tensor y = put(be, new float[rows * cols]);
        // b aliased to y: thread e writes y[e] while threads e' with e' % 17 == e read it as a bias
        be.biasActForward(new Tensor(y.storage, 0, rows, cols), new Tensor(y.storage, 0, rows, 1), Activation.IDENTITY);
        CudaException e = assertThrows(CudaException.class, be::sync);
        assertTrue(e.getMessage().contains("CUDA_ERROR_ILLEGAL_ADDRESS"), e.getMessage());
        assertThrows(RuntimeException.class, be::close);
    }

    @Test
    void freeingAnOffsetPointerOrTwiceIsRefused() {
        try (CudaBackend be = CudaBackend.open(0, false)) {
            CUdeviceptr p = new CUdeviceptr();
            JCudaDriver.cuMemAlloc(p, 1024);
            CudaException e = assertThrows(CudaException.class, () -> JCudaDriver.cuMemFree(p.withByteOffset(16)));
            assertTrue(e.getMessage().contains("CUDA_ERROR_INVALID_VALUE"), e.getMessage());
            JCudaDriver.cuMemFree(p);
            assertThrows(CudaException.class, () -> JCudaDriver.cuMemFree(p), "a second free");
        }
    }

    @Test
    void freshDeviceMemoryIsNotZero() {
        try (CudaBackend be = CudaBackend.open(0, false)) {
            CUdeviceptr p = new CUdeviceptr();
            JCudaDriver.cuMemAlloc(p, 16);
            float[] h = new float[4];
            JCudaDriver.cuMemcpyDtoH(Pointer.to(h), p, 16);
            JCudaDriver.cuMemFree(p);
            assertTrue(Float.isNaN(h[0]) && Float.isNaN(h[3]), "uninitialised memory reads as NaN: code that forgets to clear fails");
        }
    }

    @Test
    void ptxNewerThanTheDriverOrAboveTheCardIsRefusedAsADriverWould() {
        try (CudaBackend be = CudaBackend.open(0, false)) {
            String ptx = ptx();
            assertEquals(0, loadModule(ptx));
            assertEquals(CUresult.CUDA_ERROR_UNSUPPORTED_PTX_VERSION, loadModule(ptx.replaceFirst("\n\\.version [0-9.]+\n", "\n.version 9.0\n")),
                    "PTX ISA 9.0 needs a CUDA 13 driver; the stand-in is 12.6");
            assertEquals(CUresult.CUDA_ERROR_INVALID_PTX, loadModule(ptx.replaceFirst("\n\\.target sm_[0-9]+\n", "\n.target sm_90\n")),
                    "sm_90 PTX on the stand-in's sm_80");
        }
    }

    @Test
    void aKernelWhosePtxSignatureDiffersFromTheCppOneIsRefused() {
        try (CudaBackend be = CudaBackend.open(0, false)) {
            String ptx = ptx();
            int at = ptx.indexOf(".visible .entry axpy(");
            assertTrue(at > 0);
            // drop axpy's last parameter (.f32 alpha) in the PTX text
            String changed = ptx.substring(0, at) + ptx.substring(at).replaceFirst(",\\s*\\.param \\.f32 axpy_param_3", "");
            CUmodule m = new CUmodule();
            JCudaDriver.cuModuleLoadData(m, (changed + "\0").getBytes(StandardCharsets.US_ASCII));
            CudaException e = assertThrows(CudaException.class, () -> JCudaDriver.cuModuleGetFunction(new jcuda.driver.CUfunction(), m, "axpy"));
            assertTrue(e.getMessage().contains("CUDA_ERROR_INVALID_IMAGE"), e.getMessage());
            JCudaDriver.cuModuleUnload(m);
        }
    }

    @Test
    void aThreadWithoutTheContextGetsInvalidContextFromTheDriver() throws Exception {
        try (CudaBackend be = CudaBackend.open(0, false)) {
            AtomicReference<Integer> rc = new AtomicReference<>();
            Thread t = new Thread(() -> {
                JCudaDriver.setExceptionsEnabled(false);
                rc.set(JCudaDriver.cuMemAlloc(new CUdeviceptr(), 64));
                JCudaDriver.setExceptionsEnabled(true);
            });
            t.start();
            t.join();
            assertEquals(CUresult.CUDA_ERROR_INVALID_CONTEXT, rc.get());
            CUcontext c = new CUcontext();
            JCudaDriver.cuCtxGetCurrent(c);
            assertNotEquals(new CUcontext(), c, "this thread has one");
        }
    }

    // ---- the cuBLAS stand-in ----

    /** cublasSgemm on raw device pointers with exceptions off: the status the stand-in returns. */
    static int sgemm(jcuda.jcublas.cublasHandle h, int ta, int m, int n, int k, CUdeviceptr a, int lda, CUdeviceptr b, int ldb,
                     CUdeviceptr c, int ldc) {
        jcuda.jcublas.JCublas2.setExceptionsEnabled(false);
        try {
            return jcuda.jcublas.JCublas2.cublasSgemm(h, ta, jcuda.jcublas.cublasOperation.CUBLAS_OP_N, m, n, k,
                    Pointer.to(new float[] {1f}), a, lda, b, ldb, Pointer.to(new float[] {0f}), c, ldc);
        } finally {
            jcuda.jcublas.JCublas2.setExceptionsEnabled(true);
        }
    }

    @Test
    void cublasRefusesBadArgumentsAsCublasDoesAndCatchesAMatrixRunningPastItsAllocation() {
        CudaBackend be = CudaBackend.open(0, false);
        jcuda.jcublas.cublasHandle h = new jcuda.jcublas.cublasHandle();
        jcuda.jcublas.JCublas2.cublasCreate(h);
        try {
            int m = 8, n = 4, k = 16;
            Tensor a = be.alloc(m, k), b = be.alloc(k, n), c = be.alloc(m, n);
            int opN = jcuda.jcublas.cublasOperation.CUBLAS_OP_N, opT = jcuda.jcublas.cublasOperation.CUBLAS_OP_T;
            assertEquals(0, sgemm(h, opN, m, n, k, CudaBackend.ptr(a), m, CudaBackend.ptr(b), k, CudaBackend.ptr(c), m));
            assertEquals(jcuda.jcublas.cublasStatus.CUBLAS_STATUS_INVALID_VALUE,
                    sgemm(h, opN, m, n, k, CudaBackend.ptr(a), m - 1, CudaBackend.ptr(b), k, CudaBackend.ptr(c), m), "lda < m");
            assertEquals(jcuda.jcublas.cublasStatus.CUBLAS_STATUS_INVALID_VALUE,
                    sgemm(h, opT, m, n, k, CudaBackend.ptr(a), m, CudaBackend.ptr(b), k, CudaBackend.ptr(c), m), "op(A) = A^T needs lda >= k");
            assertEquals(jcuda.jcublas.cublasStatus.CUBLAS_STATUS_INVALID_VALUE,
                    sgemm(h, 7, m, n, k, CudaBackend.ptr(a), m, CudaBackend.ptr(b), k, CudaBackend.ptr(c), m), "no such transpose");
            be.sync();
            // lda = m + 1 is legal, but then A's last column ends 15 floats past its allocation of m * k floats
            assertEquals(jcuda.jcublas.cublasStatus.CUBLAS_STATUS_EXECUTION_FAILED,
                    sgemm(h, opN, m, n, k, CudaBackend.ptr(a), m + 1, CudaBackend.ptr(b), k, CudaBackend.ptr(c), m));
            CudaException e = assertThrows(CudaException.class, be::sync, "the overrun is sticky for the context, as a fault on a card");
            assertTrue(e.getMessage().contains("CUDA_ERROR_ILLEGAL_ADDRESS"), e.getMessage());
        } finally {
            jcuda.jcublas.JCublas2.cublasDestroy(h);
            assertThrows(RuntimeException.class, be::close);
        }
    }

    @Test
    void tf32ModeRoundsTheInputsToTenMantissaBitsAndFp32ModeDoesNot() {
        // a = 1 + 2^-12 is not a TF32 number (10 mantissa bits): TF32 reads it as 1; b = 1
        int k = 64;
        float[] a = new float[k], b = new float[k];
        java.util.Arrays.fill(a, 1f + 0x1p-12f);
        java.util.Arrays.fill(b, 1f);
        for (boolean tf32 : new boolean[] {false, true})
            try (CudaBackend be = CudaBackend.open(0, tf32)) {
                Tensor ta = put(be, a), tb = put(be, b), c = be.alloc(1, 1);
                be.gemm(true, false, 1, 1, k, 1f, ta, k, tb, k, 0f, c, 1);
                float[] h = new float[1];
                be.download(c, h, 0);
                // exact in both cases: 64 terms of a power-of-two-friendly value, no rounding in the sum
                assertEquals(tf32 ? 64f : 64f * (1f + 0x1p-12f), h[0], 0f, tf32 ? "TF32" : "FP32");
            }
    }

    // ---- CudaBackend fixes ----

    @Test
    void f5BackendUsedFromAnotherThreadMakesItsContextCurrentThere() throws Exception {
        try (CudaBackend be = CudaBackend.open(0, false)) {
            Tensor t = put(be, new float[] {1, 2, 3});
            AtomicReference<Throwable> failure = new AtomicReference<>();
            float[] h = new float[3];
            Thread other = new Thread(() -> {
                try {
                    be.axpy(2f, t, t);
                    be.download(t, h, 0);
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            other.start();
            other.join();
            assertNull(failure.get(), () -> "from another thread: " + failure.get());
            assertArrayEquals(new float[] {3, 6, 9}, h);
        }
    }

    @Test
    void f2ShortHostArraysAreRefusedBeforeJCudaReadsPastThem() {
        try (CudaBackend be = CudaBackend.open(0, false)) {
            Tensor t = be.alloc(10, 1);
            IllegalArgumentException up = assertThrows(IllegalArgumentException.class, () -> be.upload(new float[12], 4, t));
            assertTrue(up.getMessage().contains("12 elements, offset 4, 10 elements needed"), up.getMessage());
            assertThrows(IllegalArgumentException.class, () -> be.download(t, new float[9], 0));
            assertThrows(IllegalArgumentException.class, () -> be.upload(new float[10], -1, t));
            assertThrows(IllegalArgumentException.class, () -> be.uploadIndices(new int[3], 0, be.allocIndices(4)));
        }
    }

    @Test
    void f6TensorsOver2To31ElementsAreRefusedUpFront() {
        try (CudaBackend be = CudaBackend.open(0, false)) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> be.alloc(50_000, 50_000));
            assertTrue(e.getMessage().contains("50000x50000") && e.getMessage().contains("2^31"), e.getMessage());
        }
        assertEquals(8_388_608, Kernel.grid(Integer.MAX_VALUE, Integer.MAX_VALUE), "ceil((2^31 - 1) / 256) without int overflow");
        assertEquals(1, Kernel.grid(1, 64));
    }

    @Test
    void f3FreedScopesAndResizedWorkspacesGiveTheirMemoryBack() throws Exception {
        try (CudaBackend be = CudaBackend.open(0, false)) {
            long free0 = be.memoryInfo()[0];
            try (Backend.Scope s = be.scope()) {
                Vae vae = new Vae(be, Preset.PYTORCH.model);
                vae.initParams(1);
                vae.workspace(128, 1);
                long afterFirst = be.memoryInfo()[0];
                vae.workspace(256, 1);
                vae.workspace(128, 1);
                assertEquals(afterFirst, be.memoryInfo()[0], "re-sizing twice and back: the old buffers are freed");
            }
            assertEquals(free0, be.memoryInfo()[0], "the scope gave everything back");
            Tensor t = be.alloc(10, 10);
            assertThrows(IllegalArgumentException.class, () -> be.free(t.cols(0, 5)), "a view is not an allocation");
            be.free(t);
            assertThrows(IllegalStateException.class, () -> be.free(t), "freed twice");
            assertThrows(IllegalStateException.class, () -> be.fill(t, 0f), "used after free");
        }
        Map<String, Long> c = StandIn.readCounters(StandIn.countersFile());
        assertEquals(0L, c.get("live_allocations"), "every allocation freed at close: " + c);
        assertEquals(c.get("ctx_retain"), c.get("ctx_release"), c.toString());
    }

    // ---- streams, events, capture and graphs: what a captured training step needs, with the driver's rules ----

    static final int GLOBAL = CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_GLOBAL;
    static final int THREAD_LOCAL = CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL;
    static final int RELAXED = CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_RELAXED;
    static final int NON_BLOCKING = CUstream_flags.CU_STREAM_NON_BLOCKING, BLOCKING = CUstream_flags.CU_STREAM_DEFAULT;
    static final CUstream LEGACY = new CUstream(); // handle 0: the legacy default stream

    /** A driver call with JCuda's exceptions off: its CUresult. */
    static int rc(IntSupplier call) {
        JCudaDriver.setExceptionsEnabled(false);
        try {
            return call.getAsInt();
        } finally {
            JCudaDriver.setExceptionsEnabled(true);
        }
    }

    /** The CUresult of a call made on a new thread with the context ctx current there. */
    static int onOtherThread(CUcontext ctx, IntSupplier call) throws InterruptedException {
        AtomicReference<Integer> r = new AtomicReference<>();
        Thread t = new Thread(() -> r.set(rc(() -> {
            int s = JCudaDriver.cuCtxSetCurrent(ctx);
            return s != 0 ? s : call.getAsInt();
        })));
        t.start();
        t.join();
        return r.get();
    }

    /** axpy of the shipped PTX (y += alpha x over n floats; params float* y, const float* x, int n, float alpha), on any stream. */
    static final class Axpy implements AutoCloseable {
        final CUmodule module = new CUmodule();
        final CUfunction f = new CUfunction();

        Axpy() {
            JCudaDriver.cuModuleLoadData(module, CudaBackend.loadPtx());
            JCudaDriver.cuModuleGetFunction(f, module, "axpy");
        }

        int launch(CUstream s, CUdeviceptr y, CUdeviceptr x, int n, float alpha) {
            Pointer params = Pointer.to(Pointer.to(y), Pointer.to(x), Pointer.to(new int[] {n}), Pointer.to(new float[] {alpha}));
            return rc(() -> JCudaDriver.cuLaunchKernel(f, Kernel.grid(n, 64), 1, 1, Kernel.BLOCK, 1, 1, 0, s, params, null)); // grid, block, smem, stream
        }

        @Override
        public void close() {
            JCudaDriver.cuModuleUnload(module);
        }
    }

    static CUdeviceptr dev(float[] a) {
        CUdeviceptr p = new CUdeviceptr();
        JCudaDriver.cuMemAlloc(p, 4L * a.length);
        JCudaDriver.cuMemcpyHtoD(p, Pointer.to(a), 4L * a.length);
        return p;
    }

    static float[] filled(int n, float v) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    /** A synchronous copy back: on the legacy stream, so it waits for legacy and blocking-stream work only. */
    static float[] get(CUdeviceptr p, int n) {
        float[] h = new float[n];
        JCudaDriver.cuMemcpyDtoH(Pointer.to(h), p, 4L * n);
        return h;
    }

    static CUstream stream(int flags) {
        CUstream s = new CUstream();
        JCudaDriver.cuStreamCreate(s, flags);
        return s;
    }

    /** cuStreamIsCapturing: NONE 0, ACTIVE 1, INVALIDATED 2. */
    static int captureStatus(CUstream s) {
        int[] st = {-1};
        JCudaDriver.cuStreamIsCapturing(s, st);
        return st[0];
    }

    static int endCapture(CUstream s, CUgraph g) {
        return rc(() -> JCudaDriver.cuStreamEndCapture(s, g));
    }

    static Map<String, Long> counters() throws java.io.IOException {
        return StandIn.readCounters(StandIn.countersFile());
    }

    static long delta(Map<String, Long> before, Map<String, Long> after, String k) {
        return after.getOrDefault(k, 0L) - before.getOrDefault(k, 0L);
    }

    static void assertNothingLive(Map<String, Long> c) {
        for (String k : new String[] {"live_streams", "live_events", "live_graphs", "live_graph_execs", "active_captures"})
            assertEquals(0L, c.get(k), k + " after close: " + c);
    }

    @Test
    void aGraphCapturedOnANonBlockingStreamAndLaunchedThreeTimesEqualsThreeEagerLaunches() throws Exception {
        int n = 1000;
        float[] y0 = new float[n], x0 = new float[n];
        for (int i = 0; i < n; i++) {
            y0[i] = i;
            x0[i] = 1 + i % 7;
        }
        Map<String, Long> before, after;
        try (CudaBackend be = CudaBackend.open(0, false); Axpy axpy = new Axpy()) {
            CUdeviceptr y = dev(y0), x = dev(x0), yEager = dev(y0);
            CUstream s = stream(NON_BLOCKING);
            be.sync();
            before = counters();
            JCudaDriver.cuStreamBeginCapture(s, GLOBAL);
            assertEquals(1, captureStatus(s));
            assertEquals(0, axpy.launch(s, y, x, n, 0.5f));
            CUgraph g = new CUgraph();
            JCudaDriver.cuStreamEndCapture(s, g);
            assertEquals(0, captureStatus(s));
            JCudaDriver.cuStreamSynchronize(s);
            assertArrayEquals(y0, get(y, n), "a captured launch does not run");
            CUgraphExec e = new CUgraphExec();
            JCudaDriver.cuGraphInstantiate(e, g, 0);
            for (int r = 0; r < 3; r++) JCudaDriver.cuGraphLaunch(e, s);
            for (int r = 0; r < 3; r++) assertEquals(0, axpy.launch(s, yEager, x, n, 0.5f));
            JCudaDriver.cuStreamSynchronize(s);
            float[] replayed = get(y, n);
            assertArrayEquals(get(yEager, n), replayed, "3 graph launches = 3 eager launches");
            assertEquals(5 + 3 * 0.5f * 6, replayed[5], 0f, "y[5] = 5 + 3 * 0.5 * x[5]: three replays, not one");
            be.sync();
            after = counters();
            assertEquals(1, delta(before, after, "captures"));
            assertEquals(1, delta(before, after, "captured_launches"));
            assertEquals(1, delta(before, after, "captured_nodes"));
            assertEquals(3, delta(before, after, "launches"), "eager launches only: " + after);
            assertEquals(1, delta(before, after, "graph_instantiations"));
            assertEquals(3, delta(before, after, "graph_launches"));
            assertEquals(3, delta(before, after, "graph_nodes_run"));
            assertEquals(6, delta(before, after, "kernels_run"), "replays run with the per-launch checks like eager launches");
            assertEquals(1L, after.get("live_graphs"));
            assertEquals(1L, after.get("live_graph_execs"));

            JCudaDriver.cuGraphExecDestroy(e);
            JCudaDriver.cuGraphDestroy(g);
            JCudaDriver.cuStreamDestroy(s);
            assertEquals(CUresult.CUDA_ERROR_INVALID_HANDLE, rc(() -> JCudaDriver.cuGraphDestroy(g)), "destroyed twice");
            assertEquals(CUresult.CUDA_ERROR_INVALID_HANDLE, rc(() -> JCudaDriver.cuGraphExecDestroy(e)));
            assertEquals(CUresult.CUDA_ERROR_INVALID_HANDLE, rc(() -> JCudaDriver.cuGraphLaunch(e, LEGACY)));
            assertEquals(CUresult.CUDA_ERROR_INVALID_HANDLE, rc(() -> JCudaDriver.cuStreamDestroy(s)));
            assertEquals(CUresult.CUDA_ERROR_INVALID_HANDLE, axpy.launch(s, y, x, n, 1f), "a destroyed stream");
            for (CUdeviceptr p : new CUdeviceptr[] {y, x, yEager}) JCudaDriver.cuMemFree(p);
        }
        assertNothingLive(counters());
    }

    @Test
    void unsafeCallsDuringAGlobalCaptureAreRefusedAndEndCaptureThenSaysInvalidated() {
        int n = 64;
        try (CudaBackend be = CudaBackend.open(0, false); Axpy axpy = new Axpy()) {
            CUdeviceptr y = dev(new float[n]), x = dev(new float[n]);
            CUstream s = stream(NON_BLOCKING), other = stream(NON_BLOCKING);
            CUevent ev = new CUevent();
            JCudaDriver.cuEventCreate(ev, 0);
            Map<String, IntSupplier> unsafe = new java.util.LinkedHashMap<>();
            unsafe.put("cuCtxSynchronize", JCudaDriver::cuCtxSynchronize);
            unsafe.put("cuMemAlloc", () -> JCudaDriver.cuMemAlloc(new CUdeviceptr(), 64));
            unsafe.put("cuMemFree", () -> JCudaDriver.cuMemFree(x));
            unsafe.put("cuMemAllocHost", () -> JCudaDriver.cuMemAllocHost(new Pointer(), 64));
            unsafe.put("cuMemcpyDtoH", () -> JCudaDriver.cuMemcpyDtoH(Pointer.to(new float[n]), y, 4L * n));
            unsafe.put("cuMemcpyHtoD", () -> JCudaDriver.cuMemcpyHtoD(y, Pointer.to(new float[n]), 4L * n));
            unsafe.put("cuMemsetD32", () -> JCudaDriver.cuMemsetD32(y, 0, n));
            unsafe.put("cuStreamSynchronize(another stream)", () -> JCudaDriver.cuStreamSynchronize(other));
            unsafe.put("cuStreamQuery(another stream)", () -> JCudaDriver.cuStreamQuery(other));
            unsafe.put("cuEventQuery", () -> JCudaDriver.cuEventQuery(ev));
            unsafe.put("cuEventSynchronize", () -> JCudaDriver.cuEventSynchronize(ev));
            unsafe.put("cuStreamSynchronize(the capturing stream)", () -> JCudaDriver.cuStreamSynchronize(s));
            for (Map.Entry<String, IntSupplier> call : unsafe.entrySet()) {
                JCudaDriver.cuStreamBeginCapture(s, GLOBAL);
                assertEquals(0, axpy.launch(s, y, x, n, 1f));
                assertEquals(CUresult.CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, rc(call.getValue()), call.getKey());
                assertEquals(2, captureStatus(s), call.getKey() + ": invalidated");
                assertEquals(CUresult.CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, axpy.launch(s, y, x, n, 1f), "work after the invalidation");
                CUgraph g = new CUgraph();
                assertEquals(CUresult.CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, endCapture(s, g), call.getKey());
                assertEquals(new CUgraph(), g, "no graph");
                assertEquals(0, captureStatus(s), "the capture has ended");
            }
            be.sync(); // refused calls are not sticky: the context goes on
            assertArrayEquals(new float[n], get(y, n), "nothing of the refused captures ran");
            JCudaDriver.cuEventDestroy(ev);
            JCudaDriver.cuStreamDestroy(s);
            JCudaDriver.cuStreamDestroy(other);
            JCudaDriver.cuMemFree(y);
            JCudaDriver.cuMemFree(x);
        }
    }

    @Test
    void theCaptureModeDecidesWhichThreadsMayMakeUnsafeCallsAndOnlyTheBeginningThreadEndsAStrictCapture() throws Exception {
        IntSupplier allocAndFree = () -> {
            CUdeviceptr p = new CUdeviceptr();
            int r = JCudaDriver.cuMemAlloc(p, 64);
            return r != 0 ? r : JCudaDriver.cuMemFree(p);
        };
        try (CudaBackend be = CudaBackend.open(0, false)) {
            CUcontext ctx = new CUcontext();
            JCudaDriver.cuCtxGetCurrent(ctx);
            CUstream s = stream(NON_BLOCKING);
            CUgraph g = new CUgraph();

            JCudaDriver.cuStreamBeginCapture(s, GLOBAL);
            assertEquals(CUresult.CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, onOtherThread(ctx, allocAndFree), "global: any thread");
            assertEquals(CUresult.CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, endCapture(s, g));

            JCudaDriver.cuStreamBeginCapture(s, GLOBAL);
            int[] relaxed = {RELAXED};
            assertEquals(0, onOtherThread(ctx, () -> {
                JCudaDriver.cuThreadExchangeStreamCaptureMode(relaxed);
                return allocAndFree.getAsInt();
            }), "a thread in relaxed mode (cuThreadExchangeStreamCaptureMode) may");
            assertEquals(GLOBAL, relaxed[0], "the thread's previous mode");
            assertEquals(CUresult.CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD, onOtherThread(ctx, () -> JCudaDriver.cuStreamEndCapture(s, new CUgraph())));
            assertEquals(1, captureStatus(s), "still capturing");
            assertEquals(0, endCapture(s, g));
            JCudaDriver.cuGraphDestroy(g);

            JCudaDriver.cuStreamBeginCapture(s, THREAD_LOCAL);
            assertEquals(0, onOtherThread(ctx, allocAndFree), "thread-local: other threads may");
            assertEquals(CUresult.CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, rc(allocAndFree), "the capturing thread may not");
            assertEquals(CUresult.CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, endCapture(s, g));

            JCudaDriver.cuStreamBeginCapture(s, RELAXED);
            assertEquals(0, rc(allocAndFree), "relaxed: even the capturing thread may");
            CUgraph g2 = new CUgraph();
            assertEquals(0, onOtherThread(ctx, () -> JCudaDriver.cuStreamEndCapture(s, g2)), "and another thread may end it");
            JCudaDriver.cuGraphDestroy(g2);
            JCudaDriver.cuStreamDestroy(s);
        }
    }

    @Test
    void theLegacyStreamCannotBeCapturedNorAStreamTwice() {
        try (CudaBackend be = CudaBackend.open(0, false)) {
            assertEquals(CUresult.CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, rc(() -> JCudaDriver.cuStreamBeginCapture(LEGACY, GLOBAL)));
            assertEquals(CUresult.CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED,
                    rc(() -> JCudaDriver.cuStreamBeginCapture(JCudaDriver.CU_STREAM_LEGACY, RELAXED)));
            CUstream s = stream(BLOCKING);
            JCudaDriver.cuStreamBeginCapture(s, GLOBAL);
            assertEquals(CUresult.CUDA_ERROR_ILLEGAL_STATE, rc(() -> JCudaDriver.cuStreamBeginCapture(s, GLOBAL)), "already capturing");
            assertEquals(CUresult.CUDA_ERROR_ILLEGAL_STATE, rc(() -> JCudaDriver.cuStreamDestroy(s)), "end the capture first");
            CUgraph g = new CUgraph();
            assertEquals(0, endCapture(s, g), "an empty capture is a graph");
            assertEquals(CUresult.CUDA_ERROR_ILLEGAL_STATE, endCapture(s, new CUgraph()), "not capturing");
            JCudaDriver.cuGraphDestroy(g);
            JCudaDriver.cuStreamDestroy(s);
        }
    }

    @Test
    void asyncCopiesOfPageableMemoryAreNeverCapturedAndPinnedOnesReplayFromTheLiveBuffer() throws Exception {
        int n = 256;
        long bytes = 4L * n;
        try (CudaBackend be = CudaBackend.open(0, false); Axpy axpy = new Axpy()) {
            CUdeviceptr d = dev(new float[n]), ones = dev(filled(n, 1f));
            CUstream s = stream(NON_BLOCKING);
            for (IntSupplier pageable : new IntSupplier[] {
                    () -> JCudaDriver.cuMemcpyHtoDAsync(d, Pointer.to(new float[n]), bytes, s),
                    () -> JCudaDriver.cuMemcpyDtoHAsync(Pointer.to(new float[n]), d, bytes, s)}) {
                JCudaDriver.cuStreamBeginCapture(s, GLOBAL);
                assertEquals(CUresult.CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, rc(pageable), "a Java array is pageable: never in a graph");
                assertEquals(CUresult.CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, endCapture(s, new CUgraph()));
            }

            // outside a capture, a pageable upload is staged at the call: later changes to the array do not reach the device
            be.sync();
            Map<String, Long> before = counters();
            float[] a = filled(n, 7f);
            JCudaDriver.cuMemcpyHtoDAsync(d, Pointer.to(a), bytes, s);
            a[0] = 99f;
            JCudaDriver.cuStreamSynchronize(s);
            assertEquals(7f, get(d, n)[0], 0f);
            be.sync();
            assertEquals(1, delta(before, counters(), "pageable_async_copies"));

            Pointer in = new Pointer(), out = new Pointer();
            JCudaDriver.cuMemAllocHost(in, bytes);
            JCudaDriver.cuMemAllocHost(out, bytes);
            FloatBuffer inF = in.getByteBuffer(0, bytes).order(ByteOrder.nativeOrder()).asFloatBuffer();
            FloatBuffer outF = out.getByteBuffer(0, bytes).order(ByteOrder.nativeOrder()).asFloatBuffer();
            JCudaDriver.cuStreamBeginCapture(s, GLOBAL);
            JCudaDriver.cuMemcpyHtoDAsync(d, in, bytes, s);
            assertEquals(0, axpy.launch(s, d, ones, n, 1f));
            JCudaDriver.cuMemcpyDtoHAsync(out, d, bytes, s);
            CUgraph g = new CUgraph();
            assertEquals(0, endCapture(s, g), "page-locked host memory may be captured");
            CUgraphExec e = new CUgraphExec();
            JCudaDriver.cuGraphInstantiate(e, g, 0);
            for (int round = 1; round <= 2; round++) {
                for (int i = 0; i < n; i++) {
                    inF.put(i, 100 * round + i);
                    outF.put(i, -1f);
                }
                JCudaDriver.cuGraphLaunch(e, s);
                assertEquals(-1f, outF.get(7), 0f, "queued, not run: the host must wait for the stream");
                JCudaDriver.cuStreamSynchronize(s);
                for (int i = 0; i < n; i++) assertEquals(100 * round + i + 1, outF.get(i), 0f, "round " + round + ", element " + i);
            }
            JCudaDriver.cuGraphExecDestroy(e);
            JCudaDriver.cuGraphDestroy(g);
            JCudaDriver.cuStreamDestroy(s);
            JCudaDriver.cuMemFreeHost(in);
            JCudaDriver.cuMemFreeHost(out);
            JCudaDriver.cuMemFree(d);
            JCudaDriver.cuMemFree(ones);
        }
    }

    @Test
    void theHostWritingAPinnedBufferBeforeItsQueuedUploadRanIsARace() {
        int n = 64;
        long bytes = 4L * n;
        CudaBackend be = CudaBackend.open(0, false);
        CUdeviceptr d = dev(new float[n]);
        Pointer in = new Pointer();
        JCudaDriver.cuMemAllocHost(in, bytes);
        FloatBuffer inF = in.getByteBuffer(0, bytes).order(ByteOrder.nativeOrder()).asFloatBuffer();
        CUstream s = stream(NON_BLOCKING);
        JCudaDriver.cuMemcpyHtoDAsync(d, in, bytes, s);
        inF.put(3, 5f); // too early: on a card the copy may read either value
        assertEquals(CUresult.CUDA_ERROR_ILLEGAL_ADDRESS, rc(() -> JCudaDriver.cuStreamSynchronize(s)), "a race, sticky like a kernel's");
        rc(() -> JCudaDriver.cuMemFreeHost(in));
        assertThrows(RuntimeException.class, be::close);
    }

    @Test
    void legacyStreamWorkWhileABlockingStreamCapturesIsRefusedAsAnImplicitDependency() {
        int n = 64;
        try (CudaBackend be = CudaBackend.open(0, false); Axpy axpy = new Axpy()) {
            CUdeviceptr y = dev(new float[n]), x = dev(filled(n, 1f));
            CUstream blocking = stream(BLOCKING), nonBlocking = stream(NON_BLOCKING);
            JCudaDriver.cuStreamBeginCapture(blocking, GLOBAL);
            assertEquals(CUresult.CUDA_ERROR_STREAM_CAPTURE_IMPLICIT, axpy.launch(LEGACY, y, x, n, 1f));
            assertEquals(CUresult.CUDA_ERROR_STREAM_CAPTURE_IMPLICIT, rc(() -> JCudaDriver.cuStreamIsCapturing(LEGACY, new int[1])));
            assertEquals(2, captureStatus(blocking), "invalidated");
            assertEquals(CUresult.CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, endCapture(blocking, new CUgraph()));

            JCudaDriver.cuStreamBeginCapture(nonBlocking, GLOBAL);
            assertEquals(0, axpy.launch(LEGACY, y, x, n, 1f), "a non-blocking stream has no dependency on the legacy stream");
            CUgraph g = new CUgraph();
            assertEquals(0, endCapture(nonBlocking, g));
            assertEquals(1f, get(y, n)[0], 0f, "the legacy launch ran, once");
            JCudaDriver.cuGraphDestroy(g);
            JCudaDriver.cuStreamDestroy(blocking);
            JCudaDriver.cuStreamDestroy(nonBlocking);
            JCudaDriver.cuMemFree(y);
            JCudaDriver.cuMemFree(x);
        }
    }

    @Test
    void aSynchronousCopyWaitsForBlockingStreamsButNotForANonBlockingOne() {
        int n = 300;
        try (CudaBackend be = CudaBackend.open(0, false); Axpy axpy = new Axpy()) {
            CUdeviceptr y = dev(new float[n]), x = dev(filled(n, 1f));
            CUstream nonBlocking = stream(NON_BLOCKING), blocking = stream(BLOCKING);
            assertEquals(0, axpy.launch(nonBlocking, y, x, n, 1f));
            assertEquals(0f, get(y, n)[n - 1], 0f, "stale: a legacy copy does not wait for a non-blocking stream");
            JCudaDriver.cuStreamSynchronize(nonBlocking);
            assertEquals(1f, get(y, n)[n - 1], 0f, "after cuStreamSynchronize");
            assertEquals(0, axpy.launch(blocking, y, x, n, 1f));
            assertEquals(2f, get(y, n)[n - 1], 0f, "a legacy copy waits for a blocking stream");
            // a blocking stream's work waits for earlier legacy work: memset to 10, then + 1, whichever is synchronised
            JCudaDriver.cuMemsetD32(y, Float.floatToRawIntBits(10f), n);
            assertEquals(0, axpy.launch(blocking, y, x, n, 1f));
            JCudaDriver.cuStreamSynchronize(blocking);
            assertEquals(11f, get(y, n)[n - 1], 0f, "the legacy memset ran before the blocking stream's kernel");
            JCudaDriver.cuStreamDestroy(nonBlocking);
            JCudaDriver.cuStreamDestroy(blocking);
            JCudaDriver.cuMemFree(y);
            JCudaDriver.cuMemFree(x);
        }
    }

    @Test
    void anEventQueryIsNotAHostSyncAndEventSynchronizeIs() throws Exception {
        int n = 128;
        try (CudaBackend be = CudaBackend.open(0, false); Axpy axpy = new Axpy()) {
            CUdeviceptr y = dev(new float[n]), x = dev(filled(n, 1f));
            CUstream s = stream(NON_BLOCKING);
            CUevent ev = new CUevent();
            JCudaDriver.cuEventCreate(ev, 0);
            assertEquals(0, rc(() -> JCudaDriver.cuEventQuery(ev)), "never recorded: complete, as in CUDA");
            be.sync();
            Map<String, Long> before = counters();
            assertEquals(0, axpy.launch(s, y, x, n, 1f));
            JCudaDriver.cuEventRecord(ev, s);
            assertEquals(CUresult.CUDA_ERROR_NOT_READY, rc(() -> JCudaDriver.cuEventQuery(ev)), "the kernel has not run yet");
            assertEquals(0, rc(() -> JCudaDriver.cuEventQuery(ev)), "the device made progress on its own");
            assertEquals(1f, get(y, n)[0], 0f, "done: visible without synchronising the stream");
            assertEquals(0, axpy.launch(s, y, x, n, 1f));
            JCudaDriver.cuEventRecord(ev, s);
            JCudaDriver.cuEventSynchronize(ev);
            assertEquals(2f, get(y, n)[0], 0f);
            be.sync();
            Map<String, Long> after = counters();
            assertEquals(2, delta(before, after, "event_queries"));
            assertEquals(2, delta(before, after, "events_recorded"));
            assertEquals(1, delta(before, after, "event_synchronize"));
            assertEquals(4, delta(before, after, "host_syncs"), "cuEventSynchronize, two synchronous copies, be.sync(); not the queries: " + after);

            // an event recorded in a capture is a captured event: a graph launch does not record it
            JCudaDriver.cuStreamBeginCapture(s, GLOBAL);
            JCudaDriver.cuEventRecord(ev, s);
            CUgraph g = new CUgraph();
            assertEquals(0, endCapture(s, g));
            assertEquals(CUresult.CUDA_ERROR_CAPTURED_EVENT, rc(() -> JCudaDriver.cuEventQuery(ev)));
            assertEquals(CUresult.CUDA_ERROR_CAPTURED_EVENT, rc(() -> JCudaDriver.cuEventSynchronize(ev)));
            JCudaDriver.cuEventRecord(ev, s);
            assertEquals(0, rc(() -> JCudaDriver.cuEventSynchronize(ev)), "recorded again outside the capture");
            JCudaDriver.cuGraphDestroy(g);
            JCudaDriver.cuEventDestroy(ev);
            assertEquals(CUresult.CUDA_ERROR_INVALID_HANDLE, rc(() -> JCudaDriver.cuEventQuery(ev)), "destroyed");
            JCudaDriver.cuStreamDestroy(s);
            JCudaDriver.cuMemFree(y);
            JCudaDriver.cuMemFree(x);
        }
    }

    @Test
    void cublasWorkOnACapturingStreamIsRecordedAndEachGraphLaunchRunsItAgain() {
        int m = 3, n = 2, k = 2;
        float[] a = {1, 2, 3, 4, 5, 6}, b = {1, 0, 2, 1}; // A (3x2), B (2x2), column-major
        float[] ab = {1, 2, 3, 6, 9, 12};                // A B
        try (CudaBackend be = CudaBackend.open(0, false)) {
            CUdeviceptr da = dev(a), db = dev(b), dc = dev(new float[m * n]);
            CUstream s = stream(NON_BLOCKING);
            jcuda.jcublas.cublasHandle h = new jcuda.jcublas.cublasHandle();
            jcuda.jcublas.JCublas2.cublasCreate(h);
            jcuda.jcublas.JCublas2.cublasSetStream(h, new jcuda.runtime.cudaStream_t(s));
            JCudaDriver.cuStreamBeginCapture(s, GLOBAL);
            int opN = jcuda.jcublas.cublasOperation.CUBLAS_OP_N;
            assertEquals(0, jcuda.jcublas.JCublas2.cublasSgemm(h, opN, opN, m, n, k, Pointer.to(new float[] {1f}), da, m, db, k,
                    Pointer.to(new float[] {1f}), dc, m)); // C += A B
            CUgraph g = new CUgraph();
            assertEquals(0, endCapture(s, g));
            CUgraphExec e = new CUgraphExec();
            JCudaDriver.cuGraphInstantiate(e, g, 0);
            JCudaDriver.cuStreamSynchronize(s);
            assertArrayEquals(new float[m * n], get(dc, m * n), "captured, not run");
            JCudaDriver.cuGraphLaunch(e, s);
            JCudaDriver.cuGraphLaunch(e, s);
            JCudaDriver.cuStreamSynchronize(s);
            float[] c = get(dc, m * n);
            for (int i = 0; i < m * n; i++) assertEquals(2 * ab[i], c[i], 0f, "C = 2 A B after two launches, element " + i);
            jcuda.jcublas.JCublas2.cublasDestroy(h);
            JCudaDriver.cuGraphExecDestroy(e);
            JCudaDriver.cuGraphDestroy(g);
            JCudaDriver.cuStreamDestroy(s);
            for (CUdeviceptr p : new CUdeviceptr[] {da, db, dc}) JCudaDriver.cuMemFree(p);
        }
    }

    @Test
    void closingTheContextFreesTheStreamsEventsAndGraphsLeftBehind() throws Exception {
        Map<String, Long> before;
        try (CudaBackend be = CudaBackend.open(0, false)) {
            CUstream s = stream(NON_BLOCKING);
            JCudaDriver.cuEventCreate(new CUevent(), 0);
            JCudaDriver.cuStreamBeginCapture(s, GLOBAL);
            CUgraph g = new CUgraph();
            JCudaDriver.cuStreamEndCapture(s, g);
            JCudaDriver.cuGraphInstantiate(new CUgraphExec(), g, 0);
            JCudaDriver.cuStreamBeginCapture(stream(BLOCKING), RELAXED); // left capturing
            be.sync();
            before = counters();
            assertEquals(3L, before.get("live_streams"), "the two made here and the backend's own");
            assertEquals(1L, before.get("active_captures"));
        }
        Map<String, Long> after = counters();
        assertNothingLive(after);
        assertEquals(2, delta(before, after, "streams_freed_by_context_destroy"));
        assertEquals(1, delta(before, after, "events_freed_by_context_destroy"));
        assertEquals(2, delta(before, after, "graphs_freed_by_context_destroy"), "the graph and its exec");
    }
}

package io.jvae.backend.cuda;

import io.jvae.InvalidInputException;
import io.jvae.backend.Activation;
import io.jvae.backend.Backend;
import io.jvae.backend.Tensor;
import io.jvae.model.Preset;
import io.jvae.model.Vae;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

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
}

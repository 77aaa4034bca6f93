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
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;
import jcuda.runtime.cudaStream_t;
import io.jvae.backend.StepReplay;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The Backend on an NVIDIA GPU: a thin adapter, one JCuda call per method. cuBLAS (JCublas2)
 * does every GEMM/GEMV; the element-wise methods launch the kernels of vae_kernels.ptx through
 * {@link #launch}, typed by the {@link Kernel} declarations that PtxSignatureTest checks against
 * the PTX. Works on the device's primary context (cuDevicePrimaryCtxRetain + cuCtxSetCurrent), which
 * the runtime API inside cuBLAS shares. All work goes to one non-blocking stream of its own (kernels,
 * cuBLAS, memsets, copies), so it runs in issue order and only downloads, {@link #sync} and a full
 * readback ring wait for it. Whole training steps can be recorded once and replayed as CUDA Graphs
 * ({@link #stepReplay}, {@link CudaStepGraph}); a {@link #readback} lands in page-locked memory and
 * is signalled by an event, so training never waits for a loss value.
 *
 * <p>Status: runs end to end on the CPU stand-ins for libcuda/libcublas in every CI run
 * (kernels/standin, docs/gpu.md); not yet run on a card.
 */
public final class CudaBackend implements Backend {
    /** Device memory: a CUdeviceptr and its length in 4-byte elements. */
    static final class DeviceStorage implements Storage {
        final CUdeviceptr ptr;
        final long length;
        boolean freed;

        DeviceStorage(CUdeviceptr ptr, long length) {
            this.ptr = ptr;
            this.length = length;
        }

        @Override
        public long length() {
            return length;
        }
    }

    /** The oldest compute capability the PTX targets (.target sm_60: Pascal). */
    public static final int MIN_CC = 60;

    private final int ordinal;
    /** Whether cuBLAS may use TF32 tensor cores for the GEMMs (--tf32). */
    private final boolean tf32;
    private final String deviceName;
    private final int computeCapability; // major * 10 + minor
    private final CUcontext ctx = new CUcontext();
    private final CUdevice device = new CUdevice();
    private final CUmodule module = new CUmodule();
    private final Map<Kernel, CUfunction> functions = new EnumMap<>(Kernel.class);
    private final cublasHandle blas = new cublasHandle();
    private final Set<DeviceStorage> live = new LinkedHashSet<>();
    private final ArrayDeque<List<DeviceStorage>> scopes = new ArrayDeque<>();
    private final int maxBlocks;
    private final Counters counters = new Counters();
    private final CUstream stream = new CUstream();
    private final List<Pinned> pinned = new ArrayList<>();
    private final List<CudaStepGraph> graphs = new ArrayList<>();
    private final Readbacks readbacks = new Readbacks();
    private DeviceStorage blasWorkspace;
    /** The step being recorded into a CUDA Graph, or null: its kernels read the step block. */
    CudaStepGraph capturing;
    private boolean retained, moduleLoaded, blasCreated, streamCreated, closed;

    /**
     * What this backend has done, counted by itself (bench prints it per step; the stand-in counts
     * independently). launches: kernels launched one by one; capturedLaunches: kernels recorded into
     * a graph; graphLaunches: graph replays; gemms: cuBLAS calls issued (recorded ones included);
     * hostSyncs: calls that make the host wait for the device; copies: asynchronous copies issued;
     * allocs/frees: device allocations.
     */
    public static final class Counters {
        public long launches, capturedLaunches, graphLaunches, gemms, hostSyncs, copies, h2dBytes, d2hBytes, allocs, frees;

        Counters copy() {
            Counters c = new Counters();
            c.launches = launches; c.capturedLaunches = capturedLaunches; c.graphLaunches = graphLaunches; c.gemms = gemms;
            c.hostSyncs = hostSyncs; c.copies = copies; c.h2dBytes = h2dBytes; c.d2hBytes = d2hBytes;
            c.allocs = allocs; c.frees = frees;
            return c;
        }

        /** this - before, field by field. */
        public Counters minus(Counters before) {
            Counters c = new Counters();
            c.launches = launches - before.launches; c.capturedLaunches = capturedLaunches - before.capturedLaunches;
            c.graphLaunches = graphLaunches - before.graphLaunches; c.gemms = gemms - before.gemms;
            c.hostSyncs = hostSyncs - before.hostSyncs; c.copies = copies - before.copies;
            c.h2dBytes = h2dBytes - before.h2dBytes; c.d2hBytes = d2hBytes - before.d2hBytes;
            c.allocs = allocs - before.allocs; c.frees = frees - before.frees;
            return c;
        }
    }

    /** The backend each thread last made current (F5: the context is per thread in the driver). */
    private static final ThreadLocal<CudaBackend> CURRENT = new ThreadLocal<>();

    private CudaBackend(int ordinal, boolean tf32) {
        this.ordinal = ordinal;
        this.tf32 = tf32;
        if (!CudaProbe.available()) throw new InvalidInputException("--device cuda:" + ordinal + ": " + CudaProbe.reason());
        try {
            JCudaDriver.setExceptionsEnabled(true);
            call("cuInit", () -> JCudaDriver.cuInit(0), null);
            int[] count = {0};
            call("cuDeviceGetCount", () -> JCudaDriver.cuDeviceGetCount(count), null);
            if (ordinal < 0 || ordinal >= count[0])
                throw new InvalidInputException("--device cuda:" + ordinal + ": this machine has " + count[0] + " CUDA device(s)");
            call("cuDeviceGet", () -> JCudaDriver.cuDeviceGet(device, ordinal), null);
            byte[] name = new byte[256];
            call("cuDeviceGetName", () -> JCudaDriver.cuDeviceGetName(name, name.length, device), null);
            this.deviceName = new String(name).trim().replace("\0", "");
            this.computeCapability = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR) * 10
                    + attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
            if (computeCapability < MIN_CC)
                throw new InvalidInputException(String.format(java.util.Locale.ROOT,
                        "--device cuda:%d: %s has compute capability %d.%d; jvae's kernels need %d.%d (Pascal) or newer",
                        ordinal, deviceName, computeCapability / 10, computeCapability % 10, MIN_CC / 10, MIN_CC % 10));
            call("cuDevicePrimaryCtxRetain", () -> JCudaDriver.cuDevicePrimaryCtxRetain(ctx, device), null);
            retained = true;
            makeCurrent();
            byte[] ptx = loadPtx();
            call("cuModuleLoadData(vae_kernels.ptx)", () -> JCudaDriver.cuModuleLoadData(module, ptx),
                    "driver older than the PTX ISA? `jvae info` shows the driver version");
            moduleLoaded = true;
            for (Kernel k : Kernel.values()) {
                CUfunction f = new CUfunction();
                call("cuModuleGetFunction(" + k.symbol + ")", () -> JCudaDriver.cuModuleGetFunction(f, module, k.symbol), "stale PTX in the jar");
                functions.put(k, f);
            }
            call("cuStreamCreate", () -> JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING), null);
            streamCreated = true;
            createBlas(tf32);
            this.maxBlocks = Math.max(1, attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)) * 32; // resident blocks; the grid-stride loops cover the rest
        } catch (RuntimeException | LinkageError e) {
            release(); // F7: nothing retained, loaded or created stays behind
            throw e;
        }
    }

    private int attribute(int attr) {
        int[] v = {0};
        call("cuDeviceGetAttribute(" + attr + ")", () -> JCudaDriver.cuDeviceGetAttribute(v, attr, device), null);
        return v[0];
    }

    /** cuBLAS is a separate library (libcublas.so.12): a driver without it is one clear line (F1), not a stack trace. */
    private void createBlas(boolean tf32) {
        try {
            JCublas2.setExceptionsEnabled(true);
        } catch (LinkageError e) {
            throw new InvalidInputException("--device cuda:" + ordinal + ": the NVIDIA driver is here but cuBLAS 12 is not: "
                    + "libcublas.so.12 could not be loaded (JCuda: " + CudaProbe.firstLine(String.valueOf(e.getMessage()))
                    + "); install the CUDA 12 cuBLAS libraries (docs/gpu.md)");
        }
        call("cublasCreate", () -> JCublas2.cublasCreate(blas), "are the cuBLAS 12 libraries installed? see docs/gpu.md");
        blasCreated = true;
        call("cublasSetStream", () -> JCublas2.cublasSetStream(blas, new cudaStream_t(stream)), null);
        // A workspace of our own (after SetStream, which resets it): cuBLAS then never allocates
        // inside a graph capture. Sizes as the cuBLAS documentation recommends: 32 MiB on Hopper, 4 MiB before.
        long wsBytes = (computeCapability >= 90 ? 32L : 4L) << 20;
        blasWorkspace = allocate(wsBytes / 4, "cuBLAS workspace");
        call("cublasSetWorkspace", () -> JCublas2.cublasSetWorkspace(blas, blasWorkspace.ptr, wsBytes), null);
        if (tf32) call("cublasSetMathMode(TF32)", () -> JCublas2.cublasSetMathMode(blas, cublasMath.CUBLAS_TF32_TENSOR_OP_MATH), null);
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

    /** Makes this backend's context current on the calling thread, once per thread (F5). */
    private void makeCurrent() {
        if (CURRENT.get() == this) return;
        call("cuCtxSetCurrent", () -> JCudaDriver.cuCtxSetCurrent(ctx), null);
        CURRENT.set(this);
    }

    /** Every public entry point: usable, and current on this thread. */
    void ready() {
        if (closed) throw new IllegalStateException(name() + " is closed");
        makeCurrent();
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
        return "cuda:" + ordinal + " " + deviceName + " (cuBLAS + jvae kernels" + (tf32 ? ", TF32 GEMMs" : "") + ")";
    }

    /** The device's name as the driver reports it ("CPU stand-in ..." on kernels/standin). */
    public String deviceName() {
        return deviceName;
    }

    /** Compute capability as major * 10 + minor. */
    public int computeCapability() {
        return computeCapability;
    }

    /** A copy of this backend's own counters. */
    public Counters counters() {
        return counters.copy();
    }

    // ---- memory ----

    /** Free and total device memory in bytes (cuMemGetInfo). */
    @Override
    public long[] deviceMemory() {
        return memoryInfo();
    }

    public long[] memoryInfo() {
        ready();
        long[] free = {0}, total = {0};
        call("cuMemGetInfo", () -> JCudaDriver.cuMemGetInfo(free, total), null);
        return new long[] {free[0], total[0]};
    }

    DeviceStorage allocate(long elements, String what) {
        ready();
        notCapturing("allocating " + what);
        // F6: sizes are int on the Java side and kernel indices 32-bit: refuse up front, as CpuBackend does
        if (elements > Integer.MAX_VALUE - 8)
            throw new InvalidInputException(what + " exceeds the 2^31 elements a tensor may hold");
        CUdeviceptr p = new CUdeviceptr();
        long bytes = 4L * Math.max(1, elements);
        try {
            JCudaDriver.cuMemAlloc(p, bytes);
        } catch (CudaException e) {
            long[] ft = memoryInfo();
            throw new InvalidInputException(String.format(java.util.Locale.ROOT,
                    "device out of memory: %d bytes requested, %d free of %d on %s; use a smaller --batch or model",
                    bytes, ft[0], ft[1], deviceName));
        }
        DeviceStorage d = new DeviceStorage(p, elements);
        live.add(d);
        if (!scopes.isEmpty()) scopes.peek().add(d);
        counters.allocs++;
        JCudaDriver.cuMemsetD32Async(p, 0, Math.max(1, elements), stream);
        return d;
    }

    @Override
    public Tensor alloc(int rows, int cols) {
        long n = (long) rows * cols;
        return new Tensor(allocate(n, "tensor " + rows + "x" + cols), 0, rows, cols);
    }

    @Override
    public Indices allocIndices(int n) {
        return new Indices(allocate(n, "index vector of " + n), 0, n);
    }

    void release(DeviceStorage d) {
        notCapturing("freeing device memory");
        if (d.freed) throw new IllegalStateException(name() + ": device memory freed twice");
        d.freed = true;
        live.remove(d);
        counters.frees++;
        call("cuMemFree", () -> JCudaDriver.cuMemFree(d.ptr), null);
    }

    private DeviceStorage whole(Storage s, long offset, long length, String what) {
        if (!(s instanceof DeviceStorage d)) throw new IllegalArgumentException(what + " is not on " + name());
        if (offset != 0 || length != d.length) throw new IllegalArgumentException("free: " + what + " is a view, not a whole allocation");
        return d;
    }

    @Override
    public void free(Tensor t) {
        ready();
        release(whole(t.storage, t.offset, t.size(), t.toString()));
    }

    @Override
    public void free(Indices i) {
        ready();
        release(whole(i.storage, i.offset, i.length, "index vector of " + i.length));
    }

    @Override
    public Scope scope() {
        ready();
        List<DeviceStorage> mine = new ArrayList<>();
        scopes.push(mine);
        return () -> {
            if (scopes.peek() != mine) throw new IllegalStateException("allocation scopes closed out of order");
            scopes.pop();
            makeCurrent();
            for (DeviceStorage d : mine) if (!d.freed) release(d);
        };
    }

    static CUdeviceptr ptr(Tensor t) {
        if (!(t.storage instanceof DeviceStorage d)) throw new IllegalArgumentException(t + " is not a CUDA tensor");
        if (d.freed) throw new IllegalStateException(t + ": its device memory was freed");
        return d.ptr.withByteOffset(4L * t.offset);
    }

    static CUdeviceptr ptr(Indices i) {
        if (!(i.storage instanceof DeviceStorage d)) throw new IllegalArgumentException("indices are not on the CUDA device");
        if (d.freed) throw new IllegalStateException("indices: their device memory was freed");
        return d.ptr.withByteOffset(4L * i.offset);
    }

    /** F2: JCuda adds the byte offset unchecked; a short host array would be read or written past its end. */
    private static void hostRange(String what, int arrayLength, int off, long count) {
        if (off < 0 || off + count > arrayLength)
            throw new IllegalArgumentException(what + ": host array of " + arrayLength + " elements, offset " + off + ", "
                    + count + " elements needed");
    }

    // Uploads and downloads of Java arrays go through a page-locked staging buffer, in blocks, each
    // an asynchronous copy on the stream followed by a stream synchronisation: the driver then
    // never sees a Java array's address (JCuda releases it when the call returns, and the CUDA
    // documentation only says a pageable async copy "might be synchronous"), and the copy is
    // ordered with the stream's kernels. A host synchronisation per block: uploads and downloads
    // are per run or per epoch (data, checkpoints, evaluation sums), never per training step, and
    // none may happen inside a captured step.

    /** Floats per staging block (16 MiB). */
    static final int STAGING_FLOATS = 1 << 22;
    private Pinned staging;

    private void staging() {
        if (staging == null) staging = pinned(4L * STAGING_FLOATS);
    }

    /** Puts host elements [from, from + n) at the start of the staging buffer. */
    private interface Fill {
        void into(java.nio.ByteBuffer staging, int from, int n);
    }

    private void stagedUpload(CUdeviceptr dst, long n, Fill fill) {
        staging();
        for (long done = 0; done < n; ) {
            int k = (int) Math.min(STAGING_FLOATS, n - done);
            fill.into(staging.buf, (int) done, k);
            counters.h2dBytes += 4L * k;
            JCudaDriver.cuMemcpyHtoDAsync(dst.withByteOffset(4L * done), staging.ptr, 4L * k, stream);
            counters.hostSyncs++;
            JCudaDriver.cuStreamSynchronize(stream); // the block is in device memory before the buffer is refilled
            done += k;
        }
    }

    @Override
    public void upload(float[] src, int srcOff, Tensor dst) {
        ready();
        notCapturing("upload");
        hostRange("upload", src.length, srcOff, dst.size());
        stagedUpload(ptr(dst), dst.size(), (b, from, n) -> b.asFloatBuffer().put(src, srcOff + from, n));
    }

    @Override
    public void download(Tensor src, float[] dst, int dstOff) {
        ready();
        notCapturing("download");
        hostRange("download", dst.length, dstOff, src.size());
        staging();
        CUdeviceptr p = ptr(src);
        for (int done = 0, n = src.size(); done < n; ) {
            int k = Math.min(STAGING_FLOATS, n - done);
            counters.d2hBytes += 4L * k;
            counters.hostSyncs++;
            JCudaDriver.cuMemcpyDtoHAsync(staging.ptr, p.withByteOffset(4L * done), 4L * k, stream);
            JCudaDriver.cuStreamSynchronize(stream);
            staging.buf.asFloatBuffer().get(dst, dstOff + done, k);
            done += k;
        }
    }

    @Override
    public void uploadIndices(int[] src, int srcOff, Indices dst) {
        ready();
        notCapturing("uploadIndices");
        hostRange("uploadIndices", src.length, srcOff, dst.length);
        stagedUpload(ptr(dst), dst.length, (b, from, n) -> b.asIntBuffer().put(src, srcOff + from, n));
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        ready();
        if (src.size() != dst.size()) throw new IllegalArgumentException("copy: sizes differ, " + src.shape() + " vs " + dst.shape());
        counters.copies++;
        JCudaDriver.cuMemcpyDtoDAsync(ptr(dst), ptr(src), 4L * src.size(), stream);
    }

    @Override
    public void fill(Tensor t, float value) {
        ready();
        JCudaDriver.cuMemsetD32Async(ptr(t), Float.floatToRawIntBits(value), t.size(), stream);
    }

    @Override
    public void sync() {
        ready();
        notCapturing("sync");
        counters.hostSyncs++;
        JCudaDriver.cuStreamSynchronize(stream);
    }

    // ---- page-locked host memory, readbacks, graphs ----

    /** Page-locked host memory (cuMemAllocHost): what asynchronous copies need; freed at close. */
    static final class Pinned {
        final Pointer ptr = new Pointer();
        final long bytes;
        final java.nio.ByteBuffer buf;

        Pinned(long bytes) {
            this.bytes = bytes;
            JCudaDriver.cuMemAllocHost(ptr, bytes);
            this.buf = ptr.getByteBuffer(0, bytes).order(java.nio.ByteOrder.nativeOrder());
        }
    }

    Pinned pinned(long bytes) {
        ready();
        notCapturing("allocating page-locked memory");
        Pinned p = new Pinned(bytes);
        pinned.add(p);
        return p;
    }

    void freePinned(Pinned p) {
        if (pinned.remove(p)) JCudaDriver.cuMemFreeHost(p.ptr);
    }

    /** Async copy of `words` 4-byte words from page-locked p (at word `from`) to device memory d. */
    void copyToDevice(DeviceStorage d, Pinned p, long from, long words) {
        counters.copies++;
        counters.h2dBytes += 4L * words;
        JCudaDriver.cuMemcpyHtoDAsync(d.ptr, p.ptr.withByteOffset(4L * from), 4L * words, stream);
    }

    CUevent event() {
        CUevent e = new CUevent();
        call("cuEventCreate", () -> JCudaDriver.cuEventCreate(e, CUevent_flags.CU_EVENT_DISABLE_TIMING), null);
        return e;
    }

    void record(CUevent e) {
        JCudaDriver.cuEventRecord(e, stream);
    }

    /** Whether the work before e's record is done, without waiting (cuEventQuery: NOT_READY is an answer, not an error). */
    static boolean reached(CUevent e) {
        try {
            return JCudaDriver.cuEventQuery(e) == CUresult.CUDA_SUCCESS;
        } catch (CudaException x) {
            if (CUresult.stringFor(CUresult.CUDA_ERROR_NOT_READY).equals(x.getMessage())) return false;
            throw x;
        }
    }

    /** Waits for e (a host synchronisation) unless it is already reached. */
    void await(CUevent e) {
        if (reached(e)) return;
        counters.hostSyncs++;
        JCudaDriver.cuEventSynchronize(e);
    }

    /** Two page-locked slots for small readbacks (the loss sums), reused in turn: no allocation per readback. */
    private final class Readbacks {
        static final int FLOATS = 64;
        final Pinned[] slot = new Pinned[2];
        final CUevent[] done = new CUevent[2];
        final Readback[] owner = new Readback[2]; // the readback whose values are still in each slot
        int next;

        Readback start(Tensor src) {
            int i = next++ & 1;
            if (slot[i] == null) {
                slot[i] = pinned(4L * FLOATS);
                done[i] = event();
            }
            if (owner[i] != null) owner[i].await(); // the slot's previous readback takes its values before they are overwritten
            counters.copies++;
            counters.d2hBytes += 4L * src.size();
            JCudaDriver.cuMemcpyDtoHAsync(slot[i].ptr, ptr(src), 4L * src.size(), stream);
            record(done[i]);
            int n = src.size();
            Pinned p = slot[i];
            CUevent e = done[i];
            Readback r = new Readback() {
                float[] values;

                @Override
                public boolean done() {
                    if (values == null) {
                        open();
                        if (reached(e)) take();
                    }
                    return values != null;
                }

                @Override
                public float[] await() {
                    if (values == null) {
                        open();
                        CudaBackend.this.await(e);
                        take();
                    }
                    return values;
                }

                private void open() {
                    if (closed) throw new IllegalStateException(name() + " is closed: its readbacks are gone");
                }

                private void take() {
                    values = new float[n];
                    p.buf.asFloatBuffer().get(values, 0, n);
                    if (owner[i] == this) owner[i] = null;
                }
            };
            owner[i] = r;
            return r;
        }

        void destroy() {
            for (int i = 0; i < 2; i++) {
                if (done[i] != null) JCudaDriver.cuEventDestroy(done[i]);
                done[i] = null;
            }
        }
    }

    /** Small tensors (up to 64 floats: the loss sums) land in page-locked memory, signalled by an event; larger ones download. */
    @Override
    public Readback readback(Tensor src) {
        ready();
        notCapturing("readback");
        if (src.size() > Readbacks.FLOATS) return Backend.super.readback(src);
        return readbacks.start(src);
    }

    @Override
    public StepReplay stepReplay(int maxBatch) {
        ready();
        CudaStepGraph g = new CudaStepGraph(this, maxBatch);
        graphs.add(g);
        return g;
    }

    void forget(CudaStepGraph g) {
        graphs.remove(g);
    }

    void beginCapture(CudaStepGraph g) {
        notCapturing("a second capture");
        call("cuStreamBeginCapture", () -> JCudaDriver.cuStreamBeginCapture(stream, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_GLOBAL), null);
        capturing = g;
    }

    /** Ends the capture begun by beginCapture; null when it failed (the capture is over either way). */
    CUgraph endCapture() {
        capturing = null;
        CUgraph graph = new CUgraph();
        call("cuStreamEndCapture", () -> JCudaDriver.cuStreamEndCapture(stream, graph), "a call inside the captured step is not allowed in a capture");
        return graph;
    }

    void launchGraph(CUgraphExec g) {
        counters.graphLaunches++;
        JCudaDriver.cuGraphLaunch(g, stream);
    }

    /** Waits for the stream unless a capture is open or the context is gone (closing: best effort, errors left to close()). */
    void syncQuietly() {
        if (capturing != null || closed || !streamCreated) return;
        try {
            counters.hostSyncs++;
            JCudaDriver.cuStreamSynchronize(stream);
        } catch (CudaException ignored) {
            // a faulted context: close() reports it
        }
    }

    private void notCapturing(String what) {
        if (capturing != null) throw new IllegalStateException(what + " inside a captured training step (CUDA Graph): not allowed");
    }

    /** The step block when a step is being captured (the kernel then reads its step-varying value there), else null. */
    private Tensor stepBlock() {
        return capturing == null ? null : capturing.blockTensor;
    }

    private void sameAsStep(String what, boolean same, Object given, Object step) {
        if (capturing != null && !same)
            throw new IllegalStateException("captured training step: " + what + " is " + given + " but the step's value is " + step
                    + " (a recorded value would be replayed unchanged)");
    }

    // ---- cuBLAS ----

    private static int op(boolean t) {
        return t ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
    }

    @Override
    public void gemm(boolean ta, boolean tb, int m, int n, int k, float alpha, Tensor a, int lda, Tensor b, int ldb, float beta, Tensor c, int ldc) {
        ready();
        io.jvae.backend.Gemm.check(ta, tb, m, n, k, lda, a.size(), ldb, b.size(), ldc, c.size());
        if (m == 0 || n == 0) return;
        counters.gemms++;
        JCublas2.cublasSgemm(blas, op(ta), op(tb), m, n, k, Pointer.to(new float[] {alpha}), ptr(a), lda, ptr(b), ldb,
                Pointer.to(new float[] {beta}), ptr(c), ldc);
    }

    @Override
    public void gemv(boolean ta, int m, int n, float alpha, Tensor a, int lda, Tensor x, float beta, Tensor y) {
        ready();
        if (m == 0 || n == 0) throw new IllegalArgumentException("gemv with an empty matrix");
        counters.gemms++;
        JCublas2.cublasSgemv(blas, op(ta), m, n, Pointer.to(new float[] {alpha}), ptr(a), lda, ptr(x), 1,
                Pointer.to(new float[] {beta}), ptr(y), 1);
    }

    // ---- kernels ----

    /** Launches kernel k over n elements with arguments checked against its declaration. */
    void launch(Kernel k, int n, Object... args) {
        ready();
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
        if (capturing != null) counters.capturedLaunches++;
        else counters.launches++;
        JCudaDriver.cuLaunchKernel(functions.get(k), grid, 1, 1, Kernel.BLOCK, 1, 1, 0, stream, Pointer.to(ps), null); // grid, block, smem, stream
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
        sameAsStep("reparamForward's offset", capturing == null || offset == capturing.values.noiseOffset(), offset,
                capturing == null ? null : capturing.values.noiseOffset());
        launch(Kernel.REPARAM_FORWARD, z.size(), mu, lv, eps, z, mu.size(), z.size(), seed, offset, stepBlock());
    }

    @Override
    public void reparamKlBackward(Tensor mu, Tensor lv, Tensor eps, Tensor dz, Tensor dmu, Tensor dlv, Tensor kl, float beta, float invB) {
        sameAsStep("reparamKlBackward's beta", capturing == null || Float.floatToIntBits(beta) == Float.floatToIntBits(capturing.values.beta()),
                beta, capturing == null ? null : capturing.values.beta());
        launch(Kernel.REPARAM_KL_BACKWARD, mu.size(), mu, lv, eps, dz, dmu, dlv, kl, mu.size(), eps.size() / mu.size(), beta, invB, stepBlock());
    }

    @Override
    public void klForward(Tensor mu, Tensor lv, Tensor kl) {
        launch(Kernel.KL_FORWARD, mu.size(), mu, lv, kl, mu.size());
    }

    @Override
    public void sigmoidBce(Tensor pre, Tensor bias, Tensor x, Tensor grad, Tensor partials, float scale) {
        lossLaunch(Kernel.SIGMOID_BCE, pre, bias, x, grad, partials, scale);
    }

    @Override
    public void gaussianNll(Tensor pre, Tensor bias, Tensor x, Tensor grad, Tensor partials, float scale) {
        lossLaunch(Kernel.GAUSSIAN_NLL, pre, bias, x, grad, partials, scale);
    }

    @Override
    public void gaussianNllVar(Tensor pre, Tensor bias, Tensor x, Tensor logvar, Tensor grad, Tensor dlv, Tensor partials, float scale) {
        if (x.cols == 0 || pre.cols % x.cols != 0 || pre.rows != x.rows || bias.size() != pre.rows || logvar.size() != pre.rows
                || grad.size() != pre.size() || dlv.size() != pre.size() || partials.size() != (long) LOSS_LANES * pre.cols)
            throw new IllegalArgumentException("gaussian_nll_var: pre " + pre.shape() + ", logvar " + logvar.shape() + ", dlv " + dlv.shape()
                    + ", partials " + partials.shape());
        launch(Kernel.GAUSSIAN_NLL_VAR, partials.size(), pre, bias, x, logvar, grad, dlv, partials, pre.rows, x.cols, pre.cols, scale);
    }

    /** One thread per (lane, column): LOSS_LANES x cols threads, each over rows / LOSS_LANES rows. */
    private void lossLaunch(Kernel k, Tensor pre, Tensor bias, Tensor x, Tensor grad, Tensor partials, float scale) {
        if (x.cols == 0 || pre.cols % x.cols != 0 || pre.rows != x.rows || bias.size() != pre.rows
                || grad.size() != pre.size() || partials.size() != (long) LOSS_LANES * pre.cols)
            throw new IllegalArgumentException(k.symbol + ": pre " + pre.shape() + ", bias " + bias.shape() + ", x " + x.shape()
                    + ", grad " + grad.shape() + ", partials " + partials.shape());
        launch(k, partials.size(), pre, bias, x, grad, partials, pre.rows, x.cols, pre.cols, scale);
    }

    @Override
    public void adamStep(Tensor p, Tensor g, Tensor m, Tensor v, Tensor decay, float lr, float b1, float b2, float eps, float bc1, float bc2) {
        sameAsStep("adamStep's bias corrections", capturing == null || Float.floatToIntBits(bc1) == Float.floatToIntBits(capturing.values.bc1())
                && Float.floatToIntBits(bc2) == Float.floatToIntBits(capturing.values.bc2()), bc1 + ", " + bc2,
                capturing == null ? null : capturing.values.bc1() + ", " + capturing.values.bc2());
        sameLrAsStep(lr);
        launch(Kernel.ADAM_STEP, p.size(), p, g, m, v, p.size(), lr, b1, b2, eps, bc1, bc2, stepBlock(), decay);
    }

    @Override
    public void rmspropStep(Tensor p, Tensor g, Tensor ms, Tensor decay, float lr, float rho, float eps) {
        sameLrAsStep(lr);
        launch(Kernel.RMSPROP_STEP, p.size(), p, g, ms, p.size(), lr, rho, eps, decay, stepBlock());
    }

    /** A captured optimizer reads its learning rate from the step block: the call's must be the step's. */
    private void sameLrAsStep(float lr) {
        sameAsStep("the optimizer's learning rate", capturing == null || Float.floatToIntBits(lr) == Float.floatToIntBits(capturing.values.lr()),
                lr, capturing == null ? null : capturing.values.lr());
    }

    @Override
    public void gatherColumns(Tensor src, Indices idx, Tensor dst) {
        sameAsStep("gatherColumns' indices", capturing == null || idx.storage == capturing.block && idx.offset == CudaStepGraph.WORDS,
                "not the step block's", "the step block's indices");
        launch(Kernel.GATHER_COLUMNS, dst.size(), src, idx, dst, src.rows, src.cols, dst.size());
    }

    @Override
    public void binarize(Tensor x, long seed, long offset) {
        sameAsStep("binarize's offset", capturing == null || offset == capturing.values.binarizeOffset(), offset,
                capturing == null ? null : capturing.values.binarizeOffset());
        launch(Kernel.BINARIZE, x.size(), x, x.size(), seed, offset, stepBlock());
    }

    @Override
    public void normal(Tensor out, long seed, long offset) {
        notCapturing("normal (its offset would be frozen)");
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
        RuntimeException first = release();
        closed = true;
        if (first != null) throw first;
    }

    /**
     * Frees every allocation, the cuBLAS handle, the module and the context reference that exist,
     * going on past a failure so that one error does not leak the rest (F7); returns the first failure.
     */
    private RuntimeException release() {
        List<RuntimeException> errors = new ArrayList<>();
        Runnable[] steps = {
            () -> { if (retained) makeCurrent(); },
            () -> {
                if (capturing == null) return;
                capturing = null; // a capture left open by a failure: end it, or nothing below may run (unsafe in a capture)
                CUgraph g = new CUgraph();
                if (JCudaDriver.cuStreamEndCapture(stream, g) == CUresult.CUDA_SUCCESS) JCudaDriver.cuGraphDestroy(g);
            },
            () -> { if (retained) call("cuCtxSynchronize", JCudaDriver::cuCtxSynchronize, null); },
            () -> { for (CudaStepGraph g : new ArrayList<>(graphs)) g.close(); },
            readbacks::destroy,
            () -> { for (Pinned p : new ArrayList<>(pinned)) freePinned(p); staging = null; },
            () -> { if (blasCreated) { blasCreated = false; JCublas2.cublasDestroy(blas); } }, // before its workspace is freed
            () -> {
                for (DeviceStorage d : new ArrayList<>(live))
                    try {
                        release(d);
                    } catch (RuntimeException e) {
                        errors.add(e);
                    }
            },
            () -> { if (streamCreated) { streamCreated = false; call("cuStreamDestroy", () -> JCudaDriver.cuStreamDestroy(stream), null); } },
            () -> { if (moduleLoaded) { moduleLoaded = false; call("cuModuleUnload", () -> JCudaDriver.cuModuleUnload(module), null); } },
            () -> { if (retained) { retained = false; call("cuDevicePrimaryCtxRelease", () -> JCudaDriver.cuDevicePrimaryCtxRelease(device), null); } },
        };
        for (Runnable r : steps)
            try {
                r.run();
            } catch (CudaException e) {
                errors.add(new CudaFailure("releasing cuda:" + ordinal, e, null));
            } catch (RuntimeException e) {
                errors.add(e);
            }
        if (CURRENT.get() == this) CURRENT.remove();
        return errors.isEmpty() ? null : errors.get(0);
    }
}

package io.jvae.backend.cuda;

import io.jvae.backend.Indices;
import io.jvae.backend.StepReplay;
import io.jvae.backend.Tensor;
import jcuda.driver.CUevent;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.JCudaDriver;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;

/**
 * Training steps as CUDA Graphs: the first step of b inputs runs call by call (cuBLAS and the
 * driver load kernels lazily, which a capture may not do before CUDA 12.3 drivers), the second is
 * captured (cuStreamBeginCapture ... cuStreamEndCapture, cuGraphInstantiate), and every later
 * step of b inputs replays it with cuGraphLaunch. Per step the host does three things, none of which waits for the device or allocates:
 * writes the step's {@link Values} and batch indices into a slot of page-locked memory, queues one
 * asynchronous copy of that slot into the device step block, and launches the graph.
 *
 * <p>The step block (device, {@link #stride} words): words 0..7 the values in the layout of
 * vae_kernels.cu's STEP_* slots (u64 low word first), words 8..8+b the batch's column indices.
 * The host ring has {@link #SLOTS} slots; an event recorded after the copies of each half of the
 * ring tells, before a half is rewritten one lap later, that its copies have run (a query; the host
 * waits only when it is a whole half-ring of steps ahead of the device).
 */
final class CudaStepGraph implements StepReplay {
    /** Words before the indices in the step block (vae_kernels.cu: STEP_NOISE_OFFSET .. STEP_LR). */
    static final int WORDS = 8;
    /** Slots of the host ring. */
    static final int SLOTS = 64;

    private final CudaBackend be;
    private final int maxBatch;
    final int stride;                 // words per slot and in the block: WORDS + maxBatch, even (u64 slots stay 8-byte aligned)
    final CudaBackend.DeviceStorage block;
    final Tensor blockTensor;         // (stride, 1) the block as the kernels' step pointer
    private final CudaBackend.Pinned host; // SLOTS x stride words
    private final CUevent[] half = new CUevent[2];
    private final boolean[] halfRecorded = new boolean[2];
    private final Map<Integer, CUgraphExec> graphs = new HashMap<>();
    private final java.util.Set<Integer> seen = new java.util.HashSet<>(); // batch sizes run once call by call
    /** The values of the step being captured (CudaBackend checks the captured calls against them). */
    Values values;
    private long next;
    private boolean closed;

    CudaStepGraph(CudaBackend be, int maxBatch) {
        if (maxBatch <= 0) throw new IllegalArgumentException("stepReplay(" + maxBatch + ")");
        this.be = be;
        this.maxBatch = maxBatch;
        this.stride = (WORDS + maxBatch + 1) & ~1;
        this.block = be.allocate(stride, "step block");
        this.blockTensor = new Tensor(block, 0, stride, 1);
        this.host = be.pinned(4L * SLOTS * stride);
        half[0] = be.event();
        half[1] = be.event();
    }

    @Override
    public Indices indices(int b) {
        if (b <= 0 || b > maxBatch) throw new IllegalArgumentException("indices(" + b + ") of a step block for " + maxBatch);
        return new Indices(block, WORDS, b);
    }

    @Override
    public void run(Values v, int[] idx, int off, int b, Runnable body) {
        if (closed) throw new IllegalStateException("step graph closed");
        be.ready(); // current on this thread (a replay makes no other call that would make it so)
        if (b <= 0 || b > maxBatch) throw new IllegalArgumentException("a step of " + b + " inputs with a step block for " + maxBatch);
        if (off < 0 || off + b > idx.length) throw new IllegalArgumentException("indices [" + off + ", +" + b + ") of " + idx.length);
        int slot = (int) (next % SLOTS), h = slot / (SLOTS / 2);
        if (slot % (SLOTS / 2) == 0 && halfRecorded[h]) be.await(half[h]); // this half's copies of the last lap have run
        long at = (long) slot * stride;
        ByteBuffer buf = host.buf;
        int base = (int) (4 * at);
        buf.putLong(base, v.noiseOffset());        // STEP_NOISE_OFFSET (little-endian: low word first)
        buf.putLong(base + 8, v.binarizeOffset()); // STEP_BINARIZE_OFFSET
        buf.putFloat(base + 16, v.beta());         // STEP_BETA
        buf.putFloat(base + 20, v.bc1());          // STEP_BC1
        buf.putFloat(base + 24, v.bc2());          // STEP_BC2
        buf.putFloat(base + 28, v.lr());           // STEP_LR
        for (int j = 0; j < b; j++) buf.putInt(base + 4 * (WORDS + j), idx[off + j]);
        be.copyToDevice(block, host, at, WORDS + b);
        if (slot % (SLOTS / 2) == SLOTS / 2 - 1) {
            be.record(half[h]);
            halfRecorded[h] = true;
        }
        next++; // now: a step that fails below must not leave its slot to be rewritten while the copy is queued
        CUgraphExec g = graphs.get(b);
        if (g != null) {
            be.launchGraph(g);
        } else if (seen.add(b)) {
            // The first step of a batch size runs call by call (reading the same step block): cuBLAS and
            // the driver load their kernels lazily, which a capture may not do before CUDA 12.3 drivers.
            body.run();
        } else {
            g = capture(v, body);
            graphs.put(b, g);
            be.launchGraph(g);
        }
    }

    private CUgraphExec capture(Values v, Runnable body) {
        values = v;
        be.beginCapture(this);
        CUgraph graph;
        try {
            body.run();
        } catch (RuntimeException | Error e) {
            try {
                CUgraph failed = be.endCapture();
                JCudaDriver.cuGraphDestroy(failed);
            } catch (RuntimeException ignored) {
                // the capture is over either way; the body's failure is the one to report
            }
            throw e;
        } finally {
            values = null;
        }
        graph = be.endCapture();
        CUgraphExec exec = new CUgraphExec();
        try {
            JCudaDriver.cuGraphInstantiate(exec, graph, 0);
        } finally {
            JCudaDriver.cuGraphDestroy(graph);
        }
        return exec;
    }

    @Override
    public int records() {
        return graphs.size();
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            be.syncQuietly(); // copies from the ring may still be queued: they finish before the ring is freed
            for (CUgraphExec g : graphs.values()) JCudaDriver.cuGraphExecDestroy(g);
            graphs.clear();
            for (CUevent e : half) JCudaDriver.cuEventDestroy(e);
            be.freePinned(host);
            if (!block.freed) be.release(block);
        } finally {
            be.forget(this);
        }
    }
}

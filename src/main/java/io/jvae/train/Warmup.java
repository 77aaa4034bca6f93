package io.jvae.train;

import io.jvae.backend.Backend;
import io.jvae.backend.CpuBackend;
import io.jvae.backend.Indices;
import io.jvae.backend.Parallel;
import io.jvae.backend.Philox;
import io.jvae.backend.Tensor;
import io.jvae.model.ModelConfig;
import io.jvae.model.Vae;

/**
 * Gets the CPU training step compiled while a command is still loading its data. The CPU path's
 * element-wise and sparse kernels are Vector API code, which runs many times slower until C2 has
 * compiled it; left alone, the JIT compiles it during the first epoch, on the cores the training
 * wants (about 2 s of compilation for the pytorch preset, whose first epoch at batch 1024 then
 * takes 2.5-3x the others). A warm-up trains a throwaway model of the same kind (the layers,
 * activation, decoder, optimizer and objective the command was given; a small batch of synthetic
 * data about as sparse as MNIST) on one thread while the data loads, and is told to stop as soon
 * as the command is ready to train ({@link #stop}); the command does not wait for it, and it ends
 * at its next backend call: its first step (the JVM's class loading and the interpreter) takes
 * most of a second, and run to its end beside the training's own first step it took a core from
 * that step. With MNIST loaded 0.15 s after the warm-up began, that cost batch 128's three-epoch
 * runs 10-14 % (bench/RESULTS.md).
 *
 * <p>It shares nothing with the real run: its own backend and parameters, and its parallel loops
 * run on its own thread ({@link Parallel#alone}), so it never takes the worker team and never
 * changes how the real run's loops are cut. Compiled and interpreted Java compute the same floats,
 * so a run with a warm-up is bit for bit a run without one (WarmupTest). It never fails a command:
 * whatever goes wrong in it ends the warm-up and nothing else. -Djvae.warmup=false turns it off.
 */
public final class Warmup {
    /** Batch of the throwaway model (times its samples per input at most, see {@link #batchFor}): small enough that one step is a millisecond once compiled. */
    static final int BATCH = 64;
    /** Share of the heap the throwaway model may take at most (parameters, optimizer state, buffers, data); a bigger model gets no warm-up. */
    static final double MAX_HEAP_SHARE = 1.0 / 16;
    /** Steps at most: enough for C2 to compile every kernel of the step (its loops count thousands of iterations per call). */
    static final int MAX_STEPS = 400;
    /** Share of nonzero pixels in the synthetic data (MNIST's training images: 19 %), so the sparse first layer is compiled too. */
    static final double DENSITY = 0.2;

    private final Thread thread;
    private volatile boolean stop;
    private volatile int steps;

    private volatile Throwable failure;
    private volatile boolean ranAlone;
    private volatile boolean leftMidStep, inStep;

    private Warmup(ModelConfig proxy, TrainConfig tc) {
        thread = new Thread(() -> {
            try {
                Parallel.alone(() -> train(proxy, tc));
            } catch (Stopped s) {
                leftMidStep = inStep; // told to stop in the middle of a step: nothing of it is kept
            } catch (Throwable t) { // the warm-up only ever speeds things up: a failure ends it, not the command
                failure = t;
            }
        }, "jvae-warmup");
        thread.setDaemon(true); // a command that fails while loading its data exits without waiting for it
    }

    /**
     * Starts a warm-up for training {@code proxy} with {@code tc} on the CPU, or returns null when it
     * would not help: one core (it would only slow the data loading down), or -Djvae.warmup=false.
     */
    public static Warmup start(ModelConfig proxy, TrainConfig tc) {
        if (!enabled() || bytes(proxy, tc) > MAX_HEAP_SHARE * Runtime.getRuntime().maxMemory()) return null;
        Warmup w = new Warmup(proxy, tc);
        w.thread.start();
        return w;
    }

    /**
     * The throwaway model's batch: {@link #BATCH} columns of the workspace at most, so that with
     * many samples per input (IWAE) it never needs more than the real run (batch x samples >= samples).
     */
    static int batchFor(TrainConfig tc) {
        return Math.max(1, Math.min(tc.batch(), BATCH / tc.samples()));
    }

    /** What the throwaway model holds: parameters with gradients and optimizer state, its buffers, its data. */
    static double bytes(ModelConfig proxy, TrainConfig tc) {
        int b = batchFor(tc);
        return 4.0 * (4 * Vae.parameterCount(proxy) + Vae.workspaceFloats(proxy, b, tc.samples()) + 2.0 * proxy.inputDim() * 4 * b);
    }

    /** Whether warm-ups run: more than one core, and not turned off with -Djvae.warmup=false. */
    public static boolean enabled() {
        return Runtime.getRuntime().availableProcessors() > 1 && !"false".equals(System.getProperty("jvae.warmup"));
    }

    /** Thrown into the warm-up's step by its backend once it is told to stop: it leaves at once, mid-step. */
    private static final class Stopped extends RuntimeException {
        Stopped() {
            super("warm-up stopped", null, false, false); // no stack trace: it is no error
        }
    }

    /**
     * The warm-up's backend: be, but each call first checks {@link #stop} and leaves the step
     * with {@link Stopped} when it is set (close() always goes through). The kernels are still
     * be's own methods, called from be, so C2 compiles them on the same profile. The per-step code
     * that calls the backend (Vae, the optimizer) sees a proxy class here and CpuBackend in the
     * real run; it runs once per step, so C2 compiles it only after ~10,000 steps, when the warm-up's
     * few hundred calls are a small share of its receiver profile.
     */
    private Backend stoppable(Backend be) {
        return (Backend) java.lang.reflect.Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, (proxy, m, args) -> {
            if (stop && !m.getName().equals("close")) throw new Stopped();
            try {
                return m.invoke(be, args);
            } catch (java.lang.reflect.InvocationTargetException e) {
                throw e.getCause();
            }
        });
    }

    /** Tells the warm-up to stop at its next backend call, without waiting for it. */
    public void stop() {
        stop = true;
    }

    /**
     * Stops the warm-up and waits for it at most {@code millis} (a command's last act: the JVM must
     * not exit while the warm-up is inside a native BLAS call, whose library tears its buffers
     * down at exit). By the end of a training the warm-up has long ended; this waits only when a
     * command ends while its data is still loading (bad input, a signal).
     */
    public void close(long millis) {
        stop = true;
        try {
            thread.join(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops the warm-up (at its next backend call) and waits for it; returns how many training steps it finished. */
    public int finish() {
        stop = true;
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        return steps;
    }

    /** Training steps run so far. */
    int steps() {
        return steps;
    }

    /** Whether its steps ran inside {@link Parallel#alone} (for tests: it must never take the team). */
    boolean ranAlone() {
        return ranAlone;
    }

    /** Whether a stop made it leave at a backend call inside a training step (or its evaluation), rather than between two steps (for tests). */
    boolean leftMidStep() {
        return leftMidStep;
    }

    /** What ended the warm-up early, if anything did (for tests). */
    Throwable failure() {
        return failure;
    }

    private void train(ModelConfig proxy, TrainConfig tc) {
        ranAlone = Parallel.isAlone();
        int batch = batchFor(tc);
        try (Backend cpu = new CpuBackend()) {
            Backend be = stoppable(cpu);
            int n = 4 * batch, d = proxy.inputDim();
            float[] x = new float[d * n], keep = new float[d * n];
            Philox.uniforms(11, 0, x, 0, x.length);
            Philox.uniforms(12, 0, keep, 0, keep.length);
            for (int i = 0; i < x.length; i++) x[i] = keep[i] < DENSITY ? 1f - x[i] : 0f; // values in (0, 1]
            Tensor data = be.constant(x, d, n);
            Tensor oneHot = null;
            if (proxy.conditional()) {
                float[] oh = new float[proxy.classes() * n];
                for (int i = 0; i < n; i++) oh[i * proxy.classes() + i % proxy.classes()] = 1f;
                oneHot = be.alloc(proxy.classes(), n);
                be.upload(oh, 0, oneHot);
            }
            Vae vae = new Vae(be, proxy);
            vae.initParams(1);
            vae.workspace(batch, tc.samples());
            Optimizer opt = new Optimizer(vae, tc);
            Tensor stats = be.alloc(4, 1);
            Indices order = be.allocIndices(n);
            int[] id = new int[n];
            for (int i = 0; i < n; i++) id[i] = i;
            be.uploadIndices(id, 0, order);
            try (TrainingSteps ts = new TrainingSteps(vae, opt, tc, data, oneHot, stats, 7, 3, false)) {
                ts.epoch(Seeds.permutation(1, 1, n));
                for (int s = 0; s < MAX_STEPS && !stop; s++) {
                    inStep = true;
                    ts.step(s, (s % 4) * batch, batch, tc.beta());
                    if (s % 8 == 7) { // the test-set evaluation after each epoch runs the forward pass alone
                        vae.loadBatch(data, oneHot, order.slice((s / 8 % 4) * batch, batch));
                        vae.evalStep(5, s, stats);
                    }
                    inStep = false;
                    steps = s + 1;
                }
            }
        }
    }
}

package io.jvae.train;

import io.jvae.InvalidInputException;
import io.jvae.model.ModelConfig;
import io.jvae.model.Vae;

import java.util.Locale;

/**
 * What a training run will allocate, checked against the free heap before anything is allocated,
 * so a batch or model that cannot fit fails up front with the numbers instead of an
 * OutOfMemoryError in the middle of a step.
 */
public final class MemoryPlan {
    private MemoryPlan() {}

    /**
     * Bytes of one training run: parameters x (values, gradients, optimizer state, L2 decay vector,
     * best copy, checkpoint staging), workspace, and the data's copy on the backend (none when the backend
     * shares the host arrays, as the CPU does: the data sets are already on the heap; their
     * one-hot labels, C floats per example, are still new).
     */
    public static double trainingBytes(ModelConfig mc, TrainConfig tc, long batch, long nTrain, long nTest, boolean dataShared) {
        double p = Vae.parameterCount(mc);
        double paramCopies = 2 + (tc.optimizer() == OptimizerKind.ADAM ? 2 : 1) + (tc.l2() > 0 ? 1 : 0) /* decay vector */
                + 1 /* best */ + 3 /* checkpoint staging */;
        double data = (double) ((dataShared ? 0 : mc.inputDim()) + mc.classes()) * (nTrain + nTest);
        return 4.0 * (p * paramCopies + Vae.workspaceFloats(mc, batch, tc.samples()) + data);
    }

    /** Checks `bytes` against the heap (CPU) or the device's free memory (CUDA), before allocating them. */
    public static void checkFor(io.jvae.backend.Backend be, double bytes, String what) {
        checkFor(be, bytes, what, TRAINING_ADVICE);
    }

    /** The same with the options that would shrink it, e.g. "a smaller --iw-chunk". */
    public static void checkFor(io.jvae.backend.Backend be, double bytes, String what, String advice) {
        long[] device = be.deviceMemory();
        if (device != null) checkDevice(bytes, device, be.name(), what, advice);
        else check(bytes, what, advice);
    }

    static final String TRAINING_ADVICE = "a smaller --batch, --samples or model";

    /** Bytes of a model's workspace for `batch` examples with `samples` z samples each. */
    public static double workspaceBytes(ModelConfig mc, long batch, long samples) {
        return 4.0 * Vae.workspaceFloats(mc, batch, samples);
    }

    /** The same for device memory: freeTotal = {free, total} bytes from the device. */
    public static void checkDevice(double bytes, long[] freeTotal, String device, String what) {
        checkDevice(bytes, freeTotal, device, what, TRAINING_ADVICE);
    }

    static void checkDevice(double bytes, long[] freeTotal, String device, String what, String advice) {
        if (bytes > 0.9 * freeTotal[0])
            throw new InvalidInputException(String.format(Locale.ROOT,
                    "%s needs about %.0f MiB on %s but it has %.0f MiB free of %.0f MiB; use %s",
                    what, bytes / (1 << 20), device, freeTotal[0] / (double) (1 << 20), freeTotal[1] / (double) (1 << 20), advice));
    }

    /** Throws when more than 90 % of what the heap can still give would be needed. */
    public static void check(double bytes, String what) {
        check(bytes, what, TRAINING_ADVICE);
    }

    static void check(double bytes, String what, String advice) {
        Runtime rt = Runtime.getRuntime();
        double free = rt.maxMemory() - (double) (rt.totalMemory() - rt.freeMemory());
        if (bytes > 0.9 * free)
            throw new InvalidInputException(String.format(Locale.ROOT,
                    "%s needs about %.0f MiB but the Java heap has %.0f MiB free of %.0f MiB; use %s, "
                            + "or a larger heap (JVAE_JAVA_OPTS=-Xmx16g ./jvae ...)", what, bytes / (1 << 20), free / (1 << 20), rt.maxMemory() / (double) (1 << 20), advice));
    }
}

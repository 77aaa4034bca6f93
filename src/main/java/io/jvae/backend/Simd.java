package io.jvae.backend;

/**
 * Whether the Vector API path ({@link SimdKernels}, {@link SimdSparse}) is used: the JVM was started with
 * {@code --add-modules jdk.incubator.vector} (the ./jvae launcher and the tests do) and
 * {@code -Djvae.noSimd} is not set. Without the module, neither is loaded and the scalar
 * loops of CpuBackend, CpuLoss and CpuSparse run: same formulas, slower.
 */
public final class Simd {
    private Simd() {}

    public static final boolean AVAILABLE = !Boolean.getBoolean("jvae.noSimd")
            && ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

    public static String describe() {
        return AVAILABLE ? "Vector API (" + SimdKernels.width() + " float lanes)" : "scalar loops (start the JVM with --add-modules jdk.incubator.vector for SIMD)";
    }
}

package io.jvae.backend;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The BLAS the CPU runs on: the OpenBLAS shipped in the jar by default, named from what is really
 * mapped into the process; the other choices of -Djvae.blas; and never the reference BLAS without
 * a warning (child JVMs, since the choice is made once per process).
 */
class NativeBlasTest {
    @TempDir
    Path tmp;

    @Test
    void theDefaultIsTheBundledOpenBlasAndItIsWhatIsMapped() {
        assumeTrue(NativeBlas.platform() != null, "no OpenBLAS shipped for " + System.getProperty("os.arch"));
        assumeTrue(System.getProperty(NativeBlas.PROPERTY) == null, "-Djvae.blas set for this run");
        String impl = Gemm.implementation();
        assertTrue(impl.startsWith("JNIBLAS (native OpenBLAS " + NativeBlas.BUNDLED_VERSION + " (bundled"), impl);
        assertTrue(NativeBlas.mappedBlasLibraries().stream().anyMatch(p -> p.toString().contains("/native/openblas-")),
                () -> "the extracted library is the one mapped: " + NativeBlas.mappedBlasLibraries());
        assertFalse(NativeBlas.referenceLoaded());
    }

    @Test
    void extractionWritesEveryFileAndRepairsAnIncompleteDirectory() throws Exception {
        String plat = NativeBlas.platform();
        assumeTrue(plat != null, "no OpenBLAS shipped for " + System.getProperty("os.arch"));
        Path lib = NativeBlas.extract(plat, tmp);
        for (String f : NativeBlas.FILES) assertTrue(Files.size(lib.resolveSibling(f)) > 0, f);
        Files.write(lib, new byte[10]); // a half-written library (a kill, a full disk)
        Path again = NativeBlas.extract(plat, tmp);
        assertEquals(lib, again);
        assertTrue(Files.size(again) > 1_000_000, "replaced by the whole library");
        assertEquals(NativeBlas.BUNDLED_VERSION, NativeBlas.openblasVersion(again), "the version from the library's own config string");
    }

    @Test
    void theKernelsAreTheOnesOpenBlasPicksAtLoad() throws Exception {
        String plat = NativeBlas.platform();
        assumeTrue("linux-x86_64".equals(plat), "kernel names checked on x86_64");
        Path lib = NativeBlas.extract(plat, tmp);
        // OPENBLAS_CORETYPE overrides the choice: the name read back is OpenBLAS's, not jvae's guess
        assertEquals("Haswell", NativeBlas.openblasCore(lib, java.util.Map.of("OPENBLAS_CORETYPE", "Haswell")));
        assertEquals("Sandybridge", NativeBlas.openblasCore(lib, java.util.Map.of("OPENBLAS_CORETYPE", "Sandybridge")));
        String own = NativeBlas.openblasCore(lib, java.util.Map.of());
        assertNotNull(own, "OpenBLAS names the kernels it picked for this CPU");
        assertNull(NativeBlas.openblasCore(tmp.resolve("missing.so"), java.util.Map.of()), "no library, no name");
        String impl = Gemm.implementation();
        if (impl.startsWith("JNIBLAS (native OpenBLAS")) assertTrue(impl.contains(", kernels for "), impl);
    }

    @Test
    void aForcedKernelSetIsNamedBesideOpenBlasOwnChoice() throws Exception {
        assumeTrue("linux-x86_64".equals(NativeBlas.platform()), "kernel names checked on x86_64");
        // Sandybridge (AVX) is never OpenBLAS's own choice on a CPU that runs jvae's CI (AVX2 or newer)
        String forced = info("bundled", null, java.util.Map.of("OPENBLAS_CORETYPE", "Sandybridge"));
        assertTrue(forced.contains("kernels for Sandybridge (OPENBLAS_CORETYPE=Sandybridge; OpenBLAS's own choice for this CPU: "), forced);
        assertFalse(forced.contains("jvae: "), "a note in info's line, no warning line: " + forced);
        String own = info("bundled", null, java.util.Map.of("OPENBLAS_CORETYPE", ""));
        assertTrue(own.contains("(OpenBLAS's choice for this CPU)"), own);
        assertFalse(own.contains("OPENBLAS_CORETYPE"), own);
    }

    /** `jvae info` in a child JVM with -Djvae.blas and extra environment: its output. */
    static String info(String blas, String ldLibraryPath) throws Exception {
        return info(blas, ldLibraryPath, java.util.Map.of());
    }

    /** The same with more environment variables (an empty value removes one). */
    static String info(String blas, String ldLibraryPath, java.util.Map<String, String> env) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-D" + NativeBlas.PROPERTY + "=" + blas, "-cp", System.getProperty("java.class.path"), "io.jvae.cli.Jvae", "info"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("JVAE_NO_CUDA", "1");
        if (ldLibraryPath != null) pb.environment().put("LD_LIBRARY_PATH", ldLibraryPath);
        env.forEach((k, v) -> {
            if (v.isEmpty()) pb.environment().remove(k);
            else pb.environment().put(k, v);
        });
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    @Test
    void theOtherChoicesAreNamedAndAMissingPathSaysSo() throws Exception {
        assertTrue(info("java", null).contains("(pure Java, -Djvae.blas=java)"));
        String bad = info("/no/such/libblas.so", null);
        assertTrue(bad.contains("jvae: -Djvae.blas=/no/such/libblas.so: no such file"), bad);
        if (NativeBlas.platform() != null) assertTrue(bad.contains("(bundled"), "falls back to the bundled OpenBLAS: " + bad);
    }

    @Test
    void theReferenceBlasIsNeverUsedSilently() throws Exception {
        Path ref = Path.of("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3"); // Debian's libblas3 (netlib's Fortran BLAS)
        assumeTrue(Files.exists(ref), "Debian's reference BLAS (package libblas3) is not installed here");
        String out = info("system", ref.getParent().toString());
        assertTrue(out.contains("jvae: the CPU GEMMs run on the reference BLAS"), out);
        assertTrue(out.contains("native reference BLAS ("), out);
        String bundled = info("bundled", ref.getParent().toString());
        assertFalse(bundled.contains("reference BLAS"), "the default ignores libblas.so.3: " + bundled);
    }
}

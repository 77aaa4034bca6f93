package io.jvae.backend.cuda;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The CPU stand-ins for libcuda.so.1 and libcublas.so.12 (kernels/standin/) in tests: builds them
 * with g++ into target/standin once, and loads them into this JVM before JCuda is touched, so that
 * JCuda's JNI libraries bind to them by SONAME. Every test that runs CudaBackend here therefore
 * runs the real adapter on the stand-in, never on a card; the device's name says so
 * ("CPU stand-in for sm_80 ...").
 *
 * <p>On a machine with a GPU, {@code -Djvae.cuda=card} (bench/gpu-check.sh sets it) leaves the
 * stand-ins out and the same tests run on the real driver.
 */
public final class StandIn {
    private StandIn() {}

    public static final Path DIR = Path.of("target", "standin").toAbsolutePath();
    private static Boolean loaded;
    private static String why = "not tried";

    /** True when this JVM runs CUDA on the real driver (-Djvae.cuda=card). */
    public static boolean onCard() {
        return "card".equals(System.getProperty("jvae.cuda"));
    }

    /** Builds and loads the stand-ins unless on a card; false (see {@link #reason()}) when g++ or the build is missing. */
    public static synchronized boolean load() {
        if (loaded != null) return loaded;
        if (onCard()) {
            why = "-Djvae.cuda=card: the real driver";
            return loaded = false;
        }
        try {
            String log = build(DIR);
            Path cuda = DIR.resolve("lib/libcuda.so.1"), cublas = DIR.resolve("lib/libcublas.so.12");
            if (!Files.exists(cuda) || !Files.exists(cublas)) {
                why = "stand-ins not built: " + log.strip();
                return loaded = false;
            }
            System.load(cuda.toString());   // JCuda's libJCudaDriver then finds libcuda.so.1 by its SONAME
            System.load(cublas.toString()); // and libJCublas2 libcublas.so.12
            why = "loaded from " + DIR.resolve("lib");
            return loaded = true;
        } catch (IOException | InterruptedException | UnsatisfiedLinkError e) {
            why = "stand-ins not loaded: " + e.getMessage();
            return loaded = false;
        }
    }

    public static String reason() {
        return why;
    }

    /** Runs kernels/standin/build.sh --if-gxx DIR (incremental: a few ms when up to date). */
    static String build(Path dir) throws IOException, InterruptedException {
        Process b = new ProcessBuilder("bash", "kernels/standin/build.sh", "--if-gxx", dir.toString()).redirectErrorStream(true).start();
        String log = new String(b.getInputStream().readAllBytes());
        if (!b.waitFor(600, TimeUnit.SECONDS) || b.exitValue() != 0) throw new IOException("kernels/standin/build.sh failed:\n" + log);
        return log;
    }

    /** The counters file of this JVM (surefire sets JVAE_STANDIN_COUNTERS with %p = the process id). */
    public static Path countersFile() {
        String spec = System.getenv("JVAE_STANDIN_COUNTERS");
        if (spec == null || spec.isEmpty()) return null;
        return Path.of(spec.replace("%p", Long.toString(ProcessHandle.current().pid())));
    }

    private static final Pattern ENTRY = Pattern.compile("\"([^\"]+)\":\\s*(-?\\d+)");

    /** The counters as the stand-in last wrote them (it does at every cuCtxSynchronize, context release and exit). */
    public static Map<String, Long> readCounters(Path file) throws IOException {
        Map<String, Long> m = new TreeMap<>();
        Matcher x = ENTRY.matcher(Files.readString(file));
        while (x.find()) m.put(x.group(1), Long.parseLong(x.group(2)));
        return m;
    }

    /** A child JVM running the CLI on the stand-ins with extra environment (JVAE_STANDIN_*). */
    public static ProcessBuilder cli(Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-Xmx2g", "-cp", System.getProperty("java.class.path"), "io.jvae.cli.Jvae"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("LD_LIBRARY_PATH", DIR.resolve("lib").toString());
        pb.environment().put("OPENBLAS_NUM_THREADS", "1");
        pb.environment().putAll(env);
        return pb;
    }
}

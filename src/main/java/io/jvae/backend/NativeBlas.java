package io.jvae.backend;

import io.jvae.io.AtomicFiles;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which BLAS the CPU's GEMMs run on. By default the OpenBLAS that ships inside jvae's jar
 * (org.bytedeco:openblas, natives for linux-x86_64 and linux-arm64), extracted once into
 * ~/.cache/jvae/native/ and handed to dev.ludovic.netlib before netlib loads a BLAS, so a fresh
 * machine needs no BLAS package and never silently gets the reference BLAS (10-40x slower).
 * {@code -Djvae.blas=} chooses:
 * <ul>
 *   <li>{@code bundled} (default): the shipped OpenBLAS; where the platform has none, or it cannot be
 *       extracted, the system's libblas.so.3 with one line saying why;</li>
 *   <li>{@code system}: whatever libblas.so.3 the system resolves (netlib's own default);</li>
 *   <li>{@code java}: netlib's pure-Java BLAS;</li>
 *   <li>a path to a BLAS library (e.g. MKL's or BLIS's).</li>
 * </ul>
 * What actually got loaded is read back from /proc/self/maps, not guessed, and named by
 * {@link #describe()} (`jvae info`, `jvae bench`) with its version where the library file carries
 * one; a reference BLAS gets a warning line with the fix.
 */
final class NativeBlas {
    private NativeBlas() {}

    public static final String PROPERTY = "jvae.blas";
    /** The shipped OpenBLAS (pom.xml: org.bytedeco:openblas). */
    public static final String BUNDLED_VERSION = "0.3.31", BUNDLED_ARTIFACT = "org.bytedeco:openblas:0.3.31-1.5.13";
    /** The files of one platform's OpenBLAS: the library and the runtime it links (RUNPATH $ORIGIN). */
    static final String[] FILES = {"libopenblas.so.0", "libgfortran.so.5", "libquadmath.so.0", "libgcc_s.so.1"};
    private static final String NETLIB_PATH = "dev.ludovic.netlib.blas.nativeLibPath";

    private static String choice = "not configured";
    private static Path bundledPath;      // the extracted libopenblas.so.0, when the bundled one was chosen and found
    private static String note;           // why the choice could not be honoured, or null

    /** The platform directory of the shipped natives, or null (no OpenBLAS shipped for this OS/CPU). */
    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT), arch = System.getProperty("os.arch", "");
        if (!os.contains("linux")) return null;
        return switch (arch) {
            case "amd64", "x86_64" -> "linux-x86_64";
            case "aarch64", "arm64" -> "linux-arm64";
            default -> null;
        };
    }

    /** Points netlib at the chosen library; call before anything touches dev.ludovic.netlib.blas.BLAS. Idempotent. */
    public static synchronized void configure() {
        if (!"not configured".equals(choice)) return;
        String want = System.getProperty(PROPERTY, "bundled").trim();
        choice = want;
        if (want.equals("system") || want.equals("java")) return;
        if (!want.equals("bundled")) {
            Path p = Path.of(want);
            if (Files.isRegularFile(p)) {
                System.setProperty(NETLIB_PATH, p.toAbsolutePath().toString());
                return;
            }
            note = "-D" + PROPERTY + "=" + want + ": no such file (bundled, system, java or a path to a BLAS library); using the bundled OpenBLAS";
            choice = "bundled";
        }
        String plat = platform();
        if (plat == null) {
            note = (note == null ? "" : note + "; ") + "no OpenBLAS is shipped for " + System.getProperty("os.name") + "/"
                    + System.getProperty("os.arch") + " (linux-x86_64 and linux-arm64 only); using the system's libblas.so.3";
            return;
        }
        try {
            bundledPath = extract(plat);
            if (System.getProperty(NETLIB_PATH) == null) System.setProperty(NETLIB_PATH, bundledPath.toString());
        } catch (IOException | RuntimeException e) {
            note = (note == null ? "" : note + "; ") + "could not extract the bundled OpenBLAS (" + e.getMessage()
                    + "); using the system's libblas.so.3";
        }
    }

    /** Whether the pure-Java BLAS was asked for (-Djvae.blas=java). */
    public static boolean javaRequested() {
        configure();
        return "java".equals(choice);
    }

    /** Why the requested BLAS is not the one in use, or null. */
    public static synchronized String note() {
        return note;
    }

    /**
     * The shipped files of `platform` in a cache directory, extracted on first use (into a temp
     * directory renamed into place, so two processes starting at once never see half a library).
     */
    static Path extract(String platform) throws IOException {
        return extract(platform, cacheRoot());
    }

    /** The same under another cache root (tests). A directory left incomplete (a full disk, a kill) is replaced. */
    static Path extract(String platform, Path root) throws IOException {
        String res = "/org/bytedeco/openblas/" + platform + "/";
        if (NativeBlas.class.getResource(res + FILES[0]) == null)
            throw new IOException("the jar has no " + res + FILES[0] + " (built without the natives of " + platform + ")");
        Path dir = root.resolve("openblas-" + BUNDLED_ARTIFACT.substring(BUNDLED_ARTIFACT.lastIndexOf(':') + 1) + "-" + platform);
        if (complete(dir, res)) return dir.resolve(FILES[0]);
        if (Files.exists(dir)) AtomicFiles.deleteTree(dir);
        Files.createDirectories(dir.getParent());
        Path tmp = Files.createTempDirectory(dir.getParent(), dir.getFileName() + ".tmp");
        try {
            for (String f : FILES)
                try (InputStream in = NativeBlas.class.getResourceAsStream(res + f)) {
                    if (in == null) throw new IOException("the jar has no " + res + f);
                    Files.copy(in, tmp.resolve(f));
                }
            try {
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, dir);
            }
        } catch (IOException e) {
            if (!complete(dir, res)) throw e; // another process may have won the race: theirs is as good
        } finally {
            AtomicFiles.deleteTree(tmp);
        }
        if (!complete(dir, res)) throw new IOException(dir + " is incomplete");
        return dir.resolve(FILES[0]);
    }

    /**
     * Every file there with the size of the jar's copy, read from the jar's directory (the entry's
     * size), not by inflating the 37 MB library: this runs at every start of jvae.
     */
    private static boolean complete(Path dir, String res) throws IOException {
        for (String f : FILES) {
            Path p = dir.resolve(f);
            java.net.URL u = NativeBlas.class.getResource(res + f);
            if (!Files.isRegularFile(p) || u == null) return false;
            java.net.URLConnection c = u.openConnection();
            c.setUseCaches(false); // a cached jar connection would stay open for the JVM's life
            long size = c.getContentLengthLong();
            if (c instanceof java.net.JarURLConnection j) j.getJarFile().close();
            if (size < 0 || size != Files.size(p)) return false;
        }
        return true;
    }

    private static Path cacheRoot() {
        String env = System.getenv("JVAE_CACHE_DIR");
        Path base = env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache", "jvae");
        Path dir = base.resolve("native");
        try {
            Files.createDirectories(dir);
            if (Files.isWritable(dir)) return dir;
        } catch (IOException | SecurityException ignored) {
            // fall through to the temp directory
        }
        return Path.of(System.getProperty("java.io.tmpdir"), "jvae-" + System.getProperty("user.name", "user"), "native");
    }


    // ---- what got loaded ----

    /** The BLAS-looking shared libraries mapped into this process (/proc/self/maps), real paths. */
    static List<Path> mappedBlasLibraries() {
        Set<Path> out = new LinkedHashSet<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                int slash = line.indexOf('/');
                if (slash < 0) continue;
                String path = line.substring(slash).trim();
                String name = Path.of(path).getFileName().toString().toLowerCase(Locale.ROOT);
                if (!name.contains(".so") || name.contains("jni") || name.contains("cublas")) continue;
                if (name.startsWith("libblas") || name.contains("openblas") || name.startsWith("libmkl") || name.startsWith("libblis")
                        || name.startsWith("libcblas") || name.startsWith("libsatlas") || name.startsWith("libtatlas"))
                    out.add(Path.of(path));
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux: nothing to read
        }
        return new ArrayList<>(out);
    }

    private static final Pattern OPENBLAS_VERSION = Pattern.compile("OpenBLAS (\\d+\\.\\d+\\.\\d+)");
    private static final Pattern FILE_VERSION = Pattern.compile("openblas\\w*-r(\\d+\\.\\d+\\.\\d+)");

    private static final java.util.Map<Path, String> VERSIONS = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * OpenBLAS's version from its file name (Debian: libopenblasp-r0.3.21.so) or else from the
     * "OpenBLAS x.y.z" its config string starts with, read in 1 MiB blocks (the library is ~40 MB;
     * reading it whole showed up as a 75 MB step in `jvae bench`'s peak heap), or null. Memoized.
     */
    static String openblasVersion(Path lib) {
        return VERSIONS.computeIfAbsent(lib, p -> {
            Matcher m = FILE_VERSION.matcher(p.getFileName().toString());
            if (m.find()) return m.group(1);
            byte[] buf = new byte[1 << 20];
            String tail = "";
            try (InputStream in = Files.newInputStream(p)) {
                for (int r; (r = in.readNBytes(buf, 0, buf.length)) > 0; ) {
                    String s = tail + new String(buf, 0, r, StandardCharsets.ISO_8859_1);
                    m = OPENBLAS_VERSION.matcher(s);
                    if (m.find()) return m.group(1);
                    tail = s.substring(Math.max(0, s.length() - 32)); // a match split across two blocks
                }
            } catch (IOException ignored) {
                // unreadable: no version
            }
            return "";
        });
    }

    /**
     * The native BLAS in use, from the libraries mapped into this process: "OpenBLAS 0.3.31 (bundled
     * ..., path)", "OpenBLAS 0.3.21 (system, path)", "reference BLAS (path)", or the path of another
     * library. Call after the BLAS was loaded (Gemm's first use).
     */
    public static String describeLoaded() {
        List<Path> libs = mappedBlasLibraries();
        if (libs.isEmpty()) return "no native BLAS mapped";
        Path open = null;
        for (Path p : libs) if (p.getFileName().toString().toLowerCase(Locale.ROOT).contains("openblas")) open = p;
        if (open != null) {
            String v = openblasVersion(open);
            if (v != null && v.isEmpty()) v = null;
            boolean bundled = bundledPath != null && open.startsWith(bundledPath.getParent());
            return "OpenBLAS " + (v == null ? "(version unknown)" : v) + " (" + (bundled ? "bundled, " + BUNDLED_ARTIFACT : "system") + ", " + open + ")";
        }
        for (Path p : libs) {
            String s = p.toString();
            if (s.contains("/blas/libblas.so") || s.endsWith("/libblas.so.3") && !s.contains("openblas") && !s.contains("mkl"))
                return "reference BLAS (" + s + ")";
        }
        return libs.get(libs.size() - 1).toString();
    }

    private static final Pattern CORE = Pattern.compile("(?m)^Core: (\\S+)");
    /** Memoized kernel names, per library: under this process's environment, and with OPENBLAS_CORETYPE left out ("" when not named). */
    private static final java.util.Map<Path, String> CORES = new java.util.concurrent.ConcurrentHashMap<>(),
            OWN_CORES = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * The kernels a DYNAMIC_ARCH OpenBLAS (the bundled one, Debian's) picked for this CPU when it
     * loaded: "Haswell", "SkylakeX", "Zen", "NeoverseN1", ..., the name openblas_get_config() gives
     * after the version. jvae has no native call of its own into OpenBLAS (netlib's JNI binds the BLAS
     * routines only), so the library is loaded once more into a short-lived /bin/true with
     * OPENBLAS_VERBOSE=2, under this process's environment (OPENBLAS_CORETYPE included), and its
     * "Core: ..." line is read (~15 ms). extraEnv: variables to add (tests). Null when there is no such
     * line (another build, no /bin/true). Memoized per library for this process's environment.
     */
    static String openblasCore(Path lib, java.util.Map<String, String> extraEnv) {
        return extraEnv.isEmpty() ? memoized(CORES, lib, false) : readCore(lib, extraEnv, false);
    }

    /** The kernels the OpenBLAS at lib picks for this CPU by itself, OPENBLAS_CORETYPE left out (memoized; null: not named). */
    static String openblasOwnCore(Path lib) {
        return memoized(OWN_CORES, lib, true);
    }

    private static String memoized(java.util.Map<Path, String> memo, Path lib, boolean ownChoice) {
        String c = memo.computeIfAbsent(lib, p -> {
            String r = readCore(p, java.util.Map.of(), ownChoice);
            return r == null ? "" : r;
        });
        return c.isEmpty() ? null : c;
    }

    private static String readCore(Path lib, java.util.Map<String, String> extraEnv, boolean ownChoice) {
        Path tru = Files.isExecutable(Path.of("/bin/true")) ? Path.of("/bin/true") : Path.of("/usr/bin/true");
        if (!Files.isExecutable(tru) || !Files.isRegularFile(lib)) return null;
        try {
            ProcessBuilder pb = new ProcessBuilder(tru.toString()).redirectErrorStream(true);
            java.util.Map<String, String> env = pb.environment();
            env.put("LD_PRELOAD", lib.toAbsolutePath().toString());
            env.put("OPENBLAS_VERBOSE", "2");
            env.putIfAbsent("OPENBLAS_NUM_THREADS", "1"); // its thread pool is not needed to name the kernels
            env.putAll(extraEnv);
            if (ownChoice) env.remove("OPENBLAS_CORETYPE");
            Process p = pb.start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readNBytes(1 << 16);
            if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return null;
            }
            Matcher m = CORE.matcher(new String(out, StandardCharsets.ISO_8859_1));
            return m.find() ? m.group(1) : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /**
     * ", kernels for CORE (OpenBLAS's choice for this CPU)" when the loaded BLAS is an OpenBLAS that
     * names them, else "". With OPENBLAS_CORETYPE set: "(OPENBLAS_CORETYPE=X)", and when OpenBLAS
     * would pick others by itself, "(OPENBLAS_CORETYPE=X; OpenBLAS's own choice for this CPU: Y)":
     * some machine images set it (on 2026-12-04's AVX-512 machine, Haswell's kernels instead of
     * Cooperlake's: training 1.3x slower, bench/RESULTS.md). In `jvae info`, bench's header and
     * train's first line; not a warning on stderr, where an error must stay one line.
     */
    public static String loadedKernels() {
        Path lib = loadedOpenblas();
        if (lib == null) return "";
        String core = openblasCore(lib, java.util.Map.of());
        if (core == null) return "";
        String forced = System.getenv("OPENBLAS_CORETYPE");
        if (forced == null || forced.isBlank()) return ", kernels for " + core + " (OpenBLAS's choice for this CPU)";
        String own = openblasOwnCore(lib);
        return ", kernels for " + core + " (OPENBLAS_CORETYPE=" + forced
                + (own != null && !own.equalsIgnoreCase(core) ? "; OpenBLAS's own choice for this CPU: " + own : "") + ")";
    }

    /** The OpenBLAS library mapped into this process, or null. */
    private static Path loadedOpenblas() {
        for (Path p : mappedBlasLibraries())
            if (p.getFileName().toString().toLowerCase(Locale.ROOT).contains("openblas")) return p;
        return null;
    }

    /** Whether the loaded native BLAS is the reference (netlib Fortran) BLAS: one line with the fix belongs in every log then. */
    public static boolean referenceLoaded() {
        return describeLoaded().startsWith("reference BLAS");
    }

    /** The warning for a reference BLAS, with the fix. */
    public static String referenceWarning() {
        return "the CPU GEMMs run on the reference BLAS, 10-40x slower than OpenBLAS: drop -D" + PROPERTY
                + "=system to use the OpenBLAS shipped with jvae, or install OpenBLAS (libopenblas0-pthread)";
    }
}

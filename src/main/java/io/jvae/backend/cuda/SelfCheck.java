package io.jvae.backend.cuda;

import io.jvae.backend.Activation;
import io.jvae.backend.Backend;
import io.jvae.backend.CpuBackend;
import io.jvae.backend.Indices;
import io.jvae.backend.Tensor;
import io.jvae.io.Json;
import io.jvae.train.Preset;
import io.jvae.model.Vae;
import io.jvae.train.Optimizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * What `--device auto` trusts: before it first uses a CUDA device, jvae runs a short check on it
 * -- GEMMs in every transpose, the element-wise kernels, the Philox noise, one Adam step and three
 * training steps of the pytorch preset at batch 64, each against CpuBackend on the same inputs --
 * and caches the verdict per (device, compute capability, driver, PTX, jvae version) under
 * ~/.cache/jvae/cuda-check (JVAE_CACHE_DIR or -Djvae.cacheDir elsewhere). A device that fails is
 * not used by `auto`; `--device cuda` still is. Tolerances as CudaBackendGpuTest's.
 */
public final class SelfCheck {
    private SelfCheck() {}

    /** The outcome: passed, a one-line reason when not, where it is cached and whether it came from there. */
    public record Verdict(boolean passed, String reason, String checkedAt, Path file, boolean cached) {}

    public static Path cacheDir() {
        String p = System.getProperty("jvae.cacheDir");
        if (p == null || p.isBlank()) p = System.getenv("JVAE_CACHE_DIR");
        Path root = p == null || p.isBlank() ? Path.of(System.getProperty("user.home"), ".cache", "jvae") : Path.of(p);
        return root.resolve("cuda-check");
    }

    /** The cached verdict for device `ordinal`, running the check first when there is none. */
    public static synchronized Verdict verdict(int ordinal) {
        String key;
        try (CudaBackend gpu = CudaBackend.open(ordinal, false)) {
            key = key(gpu);
            Path file = cacheDir().resolve(key + ".json");
            Verdict cached = read(file);
            if (cached != null) return cached;
            String failure = run(gpu);
            Verdict v = new Verdict(failure == null, failure, Instant.now().toString(), file, false);
            write(v, gpu);
            return v;
        } catch (RuntimeException e) {
            return new Verdict(false, "opening cuda:" + ordinal + " failed: " + CudaProbe.firstLine(String.valueOf(e.getMessage())),
                    Instant.now().toString(), null, false);
        }
    }

    static String key(CudaBackend gpu) {
        String ver = SelfCheck.class.getPackage().getImplementationVersion();
        String id = gpu.deviceName() + "|sm_" + gpu.computeCapability() + "|driver " + CudaProbe.probe().driverVersion() + "|jvae "
                + (ver == null ? "dev" : ver) + "|ptx " + Integer.toHexString(java.util.Arrays.hashCode(CudaBackend.loadPtx()));
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(id.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Verdict read(Path file) {
        if (!Files.isRegularFile(file)) return null;
        try {
            Map<String, Object> m = Json.parseObject(Files.readString(file));
            Object reason = m.get("reason");
            return new Verdict(Boolean.TRUE.equals(m.get("passed")), reason == null ? null : reason.toString(),
                    String.valueOf(m.get("checked_at")), file, true);
        } catch (IOException | RuntimeException e) {
            return null; // unreadable: check again
        }
    }

    private static void write(Verdict v, CudaBackend gpu) {
        if (v.file() == null) return;
        try {
            Files.createDirectories(v.file().getParent());
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("passed", v.passed());
            if (v.reason() != null) m.put("reason", v.reason());
            m.put("checked_at", v.checkedAt());
            m.put("device", gpu.deviceName());
            m.put("driver", CudaProbe.probe().driverVersion());
            Path tmp = v.file().resolveSibling(v.file().getFileName() + ".tmp");
            Files.writeString(tmp, Json.write(m) + "\n");
            Files.move(tmp, v.file(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            // not cached: the check runs again next time
        }
    }

    /** Runs the check; null when everything agreed, else what did not. */
    static String run(CudaBackend gpu) {
        CpuBackend cpu = new CpuBackend();
        try (Backend.Scope s = gpu.scope()) {
            SplittableRandom r = new SplittableRandom(7);
            // GEMM, every transpose: cuBLAS sums in its own order, k = 300 terms of |a b| <= 1
            int m = 33, n = 65, k = 300;
            for (int t = 0; t < 4; t++) {
                boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                float[] a = uniform(r, m * k, -1, 1), b = uniform(r, k * n, -1, 1);
                Tensor c = cpu.alloc(m * n, 1), g = gpu.alloc(m * n, 1);
                cpu.gemm(ta, tb, m, n, k, 1f, put(cpu, a), ta ? k : m, put(cpu, b), tb ? n : k, 0f, c, m);
                gpu.gemm(ta, tb, m, n, k, 1f, put(gpu, a), ta ? k : m, put(gpu, b), tb ? n : k, 0f, g, m);
                String f = compare("gemm(" + (ta ? "T" : "N") + (tb ? "T" : "N") + ")", get(cpu, c), get(gpu, g), 1e-4, 1e-4);
                if (f != null) return f;
            }
            // element-wise kernels: CUDA's expf/log1pf/tanhf within 2 ulp of the CPU's
            int rows = 17, cols = 129, ne = rows * cols;
            float[] y = uniform(r, ne, -3, 3), bias = uniform(r, rows, -1, 1);
            Tensor cy = put(cpu, y, rows, cols), gy = put(gpu, y, rows, cols);
            cpu.biasActForward(cy, put(cpu, bias), Activation.TANH);
            gpu.biasActForward(gy, put(gpu, bias), Activation.TANH);
            String f = compare("bias_act_forward(tanh)", get(cpu, cy), get(gpu, gy), 1e-6, 2e-6);
            if (f != null) return f;
            // the fused loss end: 100 rows (4 per lane and a partial round), 2 samples of 20 inputs
            int lr = 100, lc = 40, xc = 20;
            float[] l = uniform(r, lr * lc, -20, 20), lb = uniform(r, lr, -1, 1), x = uniform(r, lr * xc, 0, 1);
            Tensor cg = cpu.alloc(lr, lc), cp = cpu.alloc(Backend.LOSS_LANES, lc), gg = gpu.alloc(lr, lc), gp = gpu.alloc(Backend.LOSS_LANES, lc);
            cpu.sigmoidBce(put(cpu, l, lr, lc), put(cpu, lb), put(cpu, x, lr, xc), cg, cp, 0.01f);
            gpu.sigmoidBce(put(gpu, l, lr, lc), put(gpu, lb), put(gpu, x, lr, xc), gg, gp, 0.01f);
            if ((f = compare("sigmoid_bce grad", get(cpu, cg), get(gpu, gg), 1e-7, 2e-6)) != null) return f;
            // a lane sums 3-4 losses of up to 21: 2 ulp per term
            if ((f = compare("sigmoid_bce loss sums", get(cpu, cp), get(gpu, gp), 1e-5, 1e-5)) != null) return f;
            // Philox normals: bit for bit
            Tensor ce = cpu.alloc(4096, 1), ge = gpu.alloc(4096, 1);
            cpu.normal(ce, 11, 5);
            gpu.normal(ge, 11, 5);
            if (!java.util.Arrays.equals(get(cpu, ce), get(gpu, ge))) return "normal_fill: the Philox normals differ from the CPU's";
            // three training steps of the pytorch preset at batch 64 from the same seed
            double[] tc = steps(cpu), tg = steps(gpu);
            for (int i = 0; i < tc.length; i++)
                if (!(Math.abs(tc[i] - tg[i]) <= 1e-3 * Math.abs(tc[i])))
                    return String.format(Locale.ROOT, "training step %d: loss %.6f on the device, %.6f on the CPU", i + 1, tg[i], tc[i]);
            return null;
        } catch (RuntimeException e) {
            return "the check failed to run: " + CudaProbe.firstLine(String.valueOf(e.getMessage()));
        }
    }

    private static double[] steps(Backend be) {
        Vae vae = new Vae(be, Preset.PYTORCH.model);
        vae.initParams(1);
        vae.workspace(64, 1);
        Optimizer opt = new Optimizer(vae, Preset.PYTORCH.train);
        SplittableRandom r = new SplittableRandom(3);
        Tensor data = put(be, uniform(r, 784 * 192, 0, 1), 784, 192);
        Indices idx = be.allocIndices(192);
        int[] ids = new int[192];
        for (int i = 0; i < ids.length; i++) ids[i] = (i * 37) % 192;
        be.uploadIndices(ids, 0, idx);
        Tensor stats = be.alloc(4, 1);
        double[] out = new double[3];
        float[] h = new float[4];
        for (int s = 0; s < out.length; s++) {
            be.fill(stats, 0f);
            vae.loadBatch(data, null, idx.slice(s * 64, 64));
            vae.trainStep(9, s * vae.noisePerStep(), 1f, stats);
            opt.step();
            be.download(stats, h, 0);
            out[s] = (h[0] + h[1]) / 64;
        }
        return out;
    }

    private static String compare(String what, float[] want, float[] got, double atol, double rtol) {
        for (int i = 0; i < want.length; i++) {
            double d = Math.abs((double) want[i] - got[i]);
            if (!(d <= atol + rtol * Math.abs(want[i])))
                return String.format(Locale.ROOT, "%s[%d]: %.7g on the device, %.7g on the CPU", what, i, got[i], want[i]);
        }
        return null;
    }

    private static float[] uniform(SplittableRandom r, int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (lo + (hi - lo) * r.nextDouble());
        return a;
    }

    private static Tensor put(Backend be, float[] a) {
        return put(be, a, a.length, 1);
    }

    private static Tensor put(Backend be, float[] a, int rows, int cols) {
        Tensor t = be.alloc(rows, cols);
        be.upload(a, 0, t);
        return t;
    }

    private static float[] get(Backend be, Tensor t) {
        float[] a = new float[t.size()];
        be.download(t, a, 0);
        return a;
    }
}

package io.jvae.backend.cuda;

/**
 * Finds out once whether CUDA can be used. JCuda throws UnsatisfiedLinkError when libcuda.so.1 is
 * missing and NoClassDefFoundError on every later touch (both LinkageError), so the probe catches
 * LinkageError, remembers the reason, and nothing touches JCuda classes again after a failure.
 */
public final class CudaProbe {
    private CudaProbe() {}

    private static volatile Result result;

    /** available, device count, and why not when unavailable. */
    public record Result(boolean available, int devices, String reason, String driverVersion) {}

    public static boolean available() {
        return probe().available();
    }

    public static String reason() {
        return probe().reason();
    }

    public static synchronized Result probe() {
        if (result != null) return result;
        if (Boolean.getBoolean("jvae.noCuda") || "1".equals(System.getenv("JVAE_NO_CUDA"))) {
            return result = new Result(false, 0, "CUDA disabled (JVAE_NO_CUDA=1 or -Djvae.noCuda)", null);
        }
        try {
            result = probeDriver();
        } catch (LinkageError e) {
            String m = String.valueOf(e.getMessage());
            String why = m.contains("libcuda") || m.contains("JCudaDriver") || e instanceof UnsatisfiedLinkError
                    ? "no NVIDIA driver: libcuda.so.1 not found (" + firstLine(m) + ")"
                    : "JCuda could not load: " + firstLine(m);
            result = new Result(false, 0, why, null);
        } catch (RuntimeException e) {
            result = new Result(false, 0, "CUDA initialisation failed: " + firstLine(String.valueOf(e.getMessage())), null);
        }
        return result;
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        String l = nl < 0 ? s : s.substring(0, nl);
        return l.length() > 160 ? l.substring(0, 160) + "..." : l;
    }

    private static Result probeDriver() {
        jcuda.driver.JCudaDriver.setExceptionsEnabled(false);
        int rc = jcuda.driver.JCudaDriver.cuInit(0);
        if (rc != 0) return new Result(false, 0, "cuInit failed: " + jcuda.driver.CUresult.stringFor(rc), null);
        int[] count = {0};
        rc = jcuda.driver.JCudaDriver.cuDeviceGetCount(count);
        if (rc != 0 || count[0] == 0) return new Result(false, 0, "no CUDA device (" + jcuda.driver.CUresult.stringFor(rc) + ")", null);
        int[] ver = {0};
        jcuda.driver.JCudaDriver.cuDriverGetVersion(ver);
        String dv = (ver[0] / 1000) + "." + (ver[0] % 1000 / 10);
        if (ver[0] < 12000) return new Result(false, count[0], "driver supports CUDA " + dv + ", jvae needs CUDA 12 or newer", dv);
        return new Result(true, count[0], null, dv);
    }
}

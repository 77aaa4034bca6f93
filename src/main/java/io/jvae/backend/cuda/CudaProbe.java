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
            jcuda.driver.JCudaDriver.setExceptionsEnabled(true); // jvae's CUDA calls rely on exceptions (CudaBackend)
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

    static String firstLine(String s) {
        int nl = s.indexOf('\n');
        String l = nl < 0 ? s : s.substring(0, nl);
        return l.length() > 160 ? l.substring(0, 160) + "..." : l;
    }

    /** One line per device (name, memory) plus the cuBLAS version; only call when available(). */
    public static java.util.List<String> describeDevices() {
        java.util.List<String> out = new java.util.ArrayList<>();
        int[] count = {0};
        jcuda.driver.JCudaDriver.cuDeviceGetCount(count);
        for (int i = 0; i < count[0]; i++) {
            jcuda.driver.CUdevice dev = new jcuda.driver.CUdevice();
            jcuda.driver.JCudaDriver.cuDeviceGet(dev, i);
            byte[] name = new byte[256];
            jcuda.driver.JCudaDriver.cuDeviceGetName(name, name.length, dev);
            long[] mem = {0};
            jcuda.driver.JCudaDriver.cuDeviceTotalMem(mem, dev);
            int[] major = {0}, minor = {0};
            jcuda.driver.JCudaDriver.cuDeviceGetAttribute(major, jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev);
            jcuda.driver.JCudaDriver.cuDeviceGetAttribute(minor, jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev);
            out.add(String.format(java.util.Locale.ROOT, "cuda:%d %s, sm_%d%d, %.1f GiB", i, new String(name).trim().replace("\0", ""),
                    major[0], minor[0], mem[0] / (double) (1L << 30)));
        }
        try {
            int[] v = {0};
            jcuda.jcublas.cublasHandle h = new jcuda.jcublas.cublasHandle();
            jcuda.jcublas.JCublas2.setExceptionsEnabled(false);
            int rc = jcuda.jcublas.JCublas2.cublasCreate(h);
            jcuda.jcublas.JCublas2.setExceptionsEnabled(true); // the flag is global: CudaBackend's cuBLAS calls rely on it
            if (rc != 0) {
                out.add("cuBLAS not usable: cublasCreate returned " + jcuda.jcublas.cublasStatus.stringFor(rc));
                return out;
            }
            jcuda.jcublas.JCublas2.cublasGetVersion(h, v);
            jcuda.jcublas.JCublas2.cublasDestroy(h);
            out.add("cuBLAS " + v[0] / 10000 + "." + v[0] % 10000 / 100 + "." + v[0] % 100);
        } catch (LinkageError | RuntimeException e) {
            out.add("cuBLAS not usable: " + firstLine(String.valueOf(e.getMessage())) + " (install the CUDA 12 cuBLAS libraries; docs/gpu.md)");
        }
        return out;
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

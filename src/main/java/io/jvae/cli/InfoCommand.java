package io.jvae.cli;

import io.jvae.backend.Gemm;
import io.jvae.backend.Parallel;
import io.jvae.backend.cuda.CudaProbe;
import io.jvae.data.Mnist;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

@Command(name = "info", mixinStandardHelpOptions = true, description = "Java, the BLAS in use, CUDA availability and why not, the data cache.")
final class InfoCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        var out = spec.commandLine().getOut();
        Runtime rt = Runtime.getRuntime();
        out.printf("java     %s (%s), max heap %d MiB, %d cores%n", System.getProperty("java.version"),
                System.getProperty("java.vm.name"), rt.maxMemory() >> 20, rt.availableProcessors());
        out.printf("cpu      GEMM: %s%s%n", Gemm.implementation(),
                Gemm.splits() ? ", one thread per call, large GEMMs split across " + Parallel.THREADS + " jvae threads" : "");
        out.printf("         element-wise work: %d thread(s) (%s), %s%n", Parallel.THREADS, Parallel.THREADS_REASON, io.jvae.backend.Simd.describe());
        out.printf("         memory: %s%n", io.jvae.backend.CpuBackend.alignment());
        out.printf("         JIT: %s%n", jit());
        CudaProbe.Result r = CudaProbe.probe();
        if (r.available()) {
            out.printf("cuda     %d device(s), driver CUDA %s%n", r.devices(), r.driverVersion());
            for (String line : CudaProbe.describeDevices()) out.println("         " + line);
            io.jvae.backend.cuda.SelfCheck.Verdict v = io.jvae.backend.cuda.SelfCheck.verdict(0);
            out.printf("         self-check of cuda:0: %s%s%n", v.passed() ? "passed" : "FAILED: " + v.reason(),
                    v.file() == null ? "" : " (" + (v.cached() ? "cached " : "") + v.checkedAt() + ", " + v.file() + "); --device auto "
                            + (v.passed() ? "uses it" : "uses the CPU"));
        }
        else out.printf("cuda     not available: %s%n", r.reason());
        out.printf("mnist    %s%n", Mnist.cacheDir());
        return Jvae.OK;
    }

    /** Tiered (C1 then C2) or C2 only: ./jvae picks C2 only where there is no NVIDIA device (see the launcher). */
    static String jit() {
        String tiered = "?";
        try {
            var bean = java.lang.management.ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            if (bean != null) tiered = bean.getVMOption("TieredCompilation").getValue();
        } catch (RuntimeException e) { // not HotSpot
            return "not HotSpot: the JVM's own";
        }
        return "true".equals(tiered) ? "tiered (C1, then C2); ./jvae uses C2 only (-XX:-TieredCompilation) where there is no NVIDIA device"
                : "C2 only (-XX:-TieredCompilation): the CPU kernels are compiled sooner; JVAE_JAVA_OPTS=-XX:+TieredCompilation for tiered";
    }
}

package io.jvae.cli;

import io.jvae.InvalidInputException;
import io.jvae.backend.Backend;
import io.jvae.backend.CpuBackend;
import io.jvae.backend.cuda.CudaProbe;

import java.io.PrintStream;

/** --device auto|cpu|cuda[:N]: the backend a command runs on. */
final class Devices {
    private Devices() {}

    static Backend open(String device, PrintStream log) {
        return open(device, false, log);
    }

    /**
     * auto: the CPU, with one line saying why not CUDA (no driver/device; or, with a device, that
     * the CUDA backend has not yet been verified on hardware). cuda[:N]: the CUDA backend, or exit 2
     * with the probe's reason.
     */
    static Backend open(String device, boolean tf32, PrintStream log) {
        String d = device == null ? "auto" : device.trim().toLowerCase(java.util.Locale.ROOT);
        if (d.equals("cpu")) return new CpuBackend();
        if (d.equals("auto")) {
            CudaProbe.Result r = CudaProbe.probe();
            if (!r.available()) log.println("device: cpu (CUDA not used: " + r.reason() + ")");
            else log.println("device: cpu (the CUDA backend is not yet verified on hardware; --device cuda uses it)");
            return new CpuBackend();
        }
        if (d.equals("cuda") || d.matches("cuda:\\d+")) {
            CudaProbe.Result r = CudaProbe.probe();
            if (!r.available()) throw new InvalidInputException("--device " + device + ": " + r.reason());
            int ordinal = d.equals("cuda") ? 0 : Integer.parseInt(d.substring(5));
            return io.jvae.backend.cuda.CudaBackend.open(ordinal, tf32);
        }
        throw new InvalidInputException("--device must be auto, cpu, cuda or cuda:N, got '" + device + "'");
    }
}

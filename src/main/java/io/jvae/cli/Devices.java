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
        String d = device == null ? "auto" : device.trim().toLowerCase(java.util.Locale.ROOT);
        if (d.equals("cpu")) return new CpuBackend();
        if (d.equals("auto")) {
            CudaProbe.Result r = CudaProbe.probe();
            if (!r.available()) {
                log.println("device: cpu (CUDA not used: " + r.reason() + ")");
                return new CpuBackend();
            }
            log.println("device: cpu (a CUDA device is present, but this build has no CUDA backend yet)");
            return new CpuBackend();
        }
        if (d.equals("cuda") || d.matches("cuda:\\d+")) {
            CudaProbe.Result r = CudaProbe.probe();
            if (!r.available()) throw new InvalidInputException("--device " + device + ": " + r.reason());
            throw new InvalidInputException("--device " + device + ": this build has no CUDA backend yet (use --device cpu)");
        }
        throw new InvalidInputException("--device must be auto, cpu, cuda or cuda:N, got '" + device + "'");
    }
}

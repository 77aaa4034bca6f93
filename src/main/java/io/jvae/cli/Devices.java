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
     * auto: CUDA device 0 when it is there and has passed jvae's self-check (run on first use,
     * cached per device and driver: SelfCheck), else the CPU with one line saying why. cuda[:N]:
     * the CUDA backend without the check, or exit 2 with the probe's reason.
     */
    static Backend open(String device, boolean tf32, PrintStream log) {
        String d = device == null ? "auto" : device.trim().toLowerCase(java.util.Locale.ROOT);
        if (d.equals("cpu")) return new CpuBackend();
        if (d.equals("auto")) {
            CudaProbe.Result r = CudaProbe.probe();
            if (!r.available()) {
                log.println("device: cpu (CUDA not used: " + r.reason() + ")");
                return new CpuBackend();
            }
            io.jvae.backend.cuda.SelfCheck.Verdict v = io.jvae.backend.cuda.SelfCheck.verdict(0);
            if (!v.passed()) {
                log.println("device: cpu (cuda:0 failed jvae's self-check: " + v.reason() + "; --device cuda uses it anyway)");
                return new CpuBackend();
            }
            io.jvae.backend.cuda.CudaBackend be = io.jvae.backend.cuda.CudaBackend.open(0, tf32);
            log.println("device: " + be.describe() + " (self-check passed " + (v.cached() ? "on " + v.checkedAt() : "now") + ")");
            return be;
        }
        if (d.equals("cuda") || d.matches("cuda:\\d+")) {
            CudaProbe.Result r = CudaProbe.probe();
            if (!r.available()) throw new InvalidInputException("--device " + device + ": " + r.reason());
            int ordinal = d.equals("cuda") ? 0 : Integer.parseInt(d.substring(5));
            return io.jvae.backend.cuda.CudaBackend.open(ordinal, tf32);
        }
        throw new InvalidInputException("--device must be auto, cpu, cuda or cuda:N, got '" + device + "'");
    }

    /** An on|off option's value (one line, exit 2, for anything else). */
    static boolean onOff(String option, String value) {
        if ("on".equals(value)) return true;
        if ("off".equals(value)) return false;
        throw new io.jvae.InvalidInputException(option + " must be on or off, got " + value);
    }
}

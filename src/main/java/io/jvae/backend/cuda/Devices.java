package io.jvae.backend.cuda;

import io.jvae.InvalidInputException;
import io.jvae.backend.Backend;
import io.jvae.backend.CpuBackend;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A device name as the command line takes it (auto, cpu, cuda, cuda:N) to an open backend: the one
 * place that decides, for the CLI's --device and for io.jvae.api's builder alike.
 */
public final class Devices {
    private Devices() {}

    /**
     * auto: CUDA device 0 when it is there and has passed jvae's self-check (run on first use,
     * cached per device and driver: SelfCheck), else the CPU with one line on {@code log} saying
     * why. cuda[:N]: the CUDA backend without the check. {@code option} names the setting in the
     * messages of {@link #check} ("--device" on the command line).
     */
    public static Backend open(String option, String device, boolean tf32, PrintStream log) {
        String d = check(option, device);
        if (d.equals("cpu")) return new CpuBackend();
        if (d.equals("auto")) {
            CudaProbe.Result r = CudaProbe.probe();
            if (!r.available()) {
                log.println("device: cpu (CUDA not used: " + r.reason() + ")");
                return new CpuBackend();
            }
            SelfCheck.Verdict v = SelfCheck.verdict(0);
            if (!v.passed()) {
                log.println("device: cpu (cuda:0 failed jvae's self-check: " + v.reason() + "; --device cuda uses it anyway)");
                return new CpuBackend();
            }
            CudaBackend be = CudaBackend.open(0, tf32);
            log.println("device: " + be.describe() + " (self-check passed " + (v.cached() ? "on " + v.checkedAt() : "now") + ")");
            return be;
        }
        return CudaBackend.open(d.equals("cuda") ? 0 : Integer.parseInt(d.substring(5)), tf32);
    }

    /**
     * What {@link #open} refuses before it opens anything, refused the same way: a name that is not
     * auto, cpu, cuda or cuda:N, and cuda[:N] where CUDA cannot be used (the probe's reason; the
     * probe runs once per process). Returns the name trimmed and lower-cased.
     */
    public static String check(String option, String device) {
        String d = device == null ? "auto" : device.trim().toLowerCase(Locale.ROOT);
        boolean cuda = d.equals("cuda") || d.matches("cuda:\\d{1,9}");
        if (!cuda && !d.equals("cpu") && !d.equals("auto"))
            throw new InvalidInputException(option + " must be auto, cpu, cuda or cuda:N, got '" + device + "'");
        if (cuda && !CudaProbe.available()) throw new InvalidInputException(option + " " + device + ": " + CudaProbe.reason());
        return d;
    }
}

package io.jvae.cli;

import io.jvae.backend.Backend;

import java.io.PrintStream;

/** --device auto|cpu|cuda[:N]: the backend a command runs on ({@link io.jvae.backend.cuda.Devices} decides). */
final class Devices {
    private Devices() {}

    static Backend open(String device, PrintStream log) {
        return open(device, false, log);
    }

    /** As {@link io.jvae.backend.cuda.Devices#open}, with the messages naming --device. */
    static Backend open(String device, boolean tf32, PrintStream log) {
        return io.jvae.backend.cuda.Devices.open("--device", device, tf32, log);
    }

    /**
     * A checkpoint as io.jvae.api's model on --device: the device name is checked first with the
     * CLI's wording (--device ...), then opened and the checkpoint loaded as {@link #open} would.
     */
    static io.jvae.api.VaeModel model(java.nio.file.Path checkpoint, String device) {
        io.jvae.backend.cuda.Devices.check("--device", device);
        return io.jvae.api.VaeModel.load(checkpoint, device, System.err);
    }

    /** An on|off option's value (one line, exit 2, for anything else). */
    static boolean onOff(String option, String value) {
        if ("on".equals(value)) return true;
        if ("off".equals(value)) return false;
        throw new io.jvae.InvalidInputException(option + " must be on or off, got " + value);
    }
}

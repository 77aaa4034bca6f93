package io.jvae.bench;

import io.jvae.backend.Backend;
import io.jvae.backend.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Whether drawing the noise in FP64 costs anything on a device: times {@code normal} (Philox +
 * Box-Muller in double, {@code normal_fill} on a GPU) against {@code fill} (a plain write of the
 * same bytes, {@code cuMemsetD32Async}: the memory floor any noise kernel pays). A ratio near 1
 * means the FP64 arithmetic hides under the writes, and an FP32 Box-Muller could gain nothing; a
 * ratio well below 1 (consumer cards run FP64 at 1/64 of FP32) is what an FP32 variant could win,
 * at most, for the noise's share of a step. Each timing is the best of {@code repeats} rounds of
 * {@code launches} calls ended by a device synchronisation.
 */
public final class NoiseBench {
    private NoiseBench() {}

    /** One row: normals/s, the write floor and the noise as GB/s, and their ratio. */
    public static Map<String, Object> run(Backend be, int elements, int launches, int repeats) {
        if (elements < 1 || launches < 1 || repeats < 1)
            throw new IllegalArgumentException("noise bench: elements, launches and repeats must be >= 1");
        try (Backend.Scope s = be.scope()) {
            Tensor t = be.alloc(elements, 1);
            be.normal(t, 1, 0); // load the kernels, first touch
            be.fill(t, 0f);
            be.sync();
            double bestNormal = Double.MAX_VALUE, bestFill = Double.MAX_VALUE;
            long offset = 0;
            for (int r = 0; r < repeats; r++) { // alternating, so that drift hits both
                long t0 = System.nanoTime();
                for (int k = 0; k < launches; k++) be.fill(t, k);
                be.sync();
                bestFill = Math.min(bestFill, (System.nanoTime() - t0) * 1e-9);
                t0 = System.nanoTime();
                for (int k = 0; k < launches; k++) be.normal(t, 7, offset += elements);
                be.sync();
                bestNormal = Math.min(bestNormal, (System.nanoTime() - t0) * 1e-9);
            }
            double bytes = 4.0 * elements * launches;
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("device", be.name());
            row.put("noise", "philox + box-muller in fp64");
            row.put("elements", elements);
            row.put("launches", launches);
            row.put("normals_per_s", elements * (double) launches / bestNormal);
            row.put("noise_gb_per_s", bytes / bestNormal / 1e9);
            row.put("write_gb_per_s", bytes / bestFill / 1e9);
            row.put("noise_vs_write", bestFill / bestNormal);
            return row;
        }
    }
}

package io.jvae.api;

import io.jvae.backend.cuda.CudaProbe;
import io.jvae.backend.cuda.StandIn;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The facade with device("cuda") on the CPU stand-ins (kernels/standin): every call's device
 * memory is given back (each call allocates inside an allocation scope, while the model's own
 * parameters and workspace live outside it: a mistake there is a use-after-free, which the
 * backend refuses), and the results are the CPU's within float tolerance.
 *
 * <p>Tolerances: as StandInCliTest's, the stand-in's cuBLAS is the same OpenBLAS, but the CPU
 * executor sums the first layer over nonzero inputs only and in other thread splits, and the
 * kernels use the C library's expf/log1pf (<= 2 ulp each; KernelEmulationTest). Losses after 3
 * epochs of Adam: 1e-4 relative; posterior means of the trained models: 1e-3 absolute (means of
 * order 1, ~1e-6 relative differences grown through 24 Adam steps).
 */
class ApiStandInTest {
    @BeforeAll
    static void standIn() {
        assumeTrue(!StandIn.onCard(), "on a card: this test is about the stand-in");
        assumeTrue(StandIn.load() && CudaProbe.available(), () -> "no stand-in: " + StandIn.reason() + "; " + CudaProbe.reason());
        ApiTest.data();
    }

    @Test
    void everyCallGivesItsDeviceMemoryBackAndMatchesTheCpu() throws Exception {
        float[][] x = ApiTest.xTrain, xv = ApiTest.xVal;
        try (VaeModel cpu = ApiTest.plain().epochs(3).build(); VaeModel gpu = ApiTest.plain().epochs(3).device("cuda").build()) {
            assertTrue(gpu.device().contains("stand-in"), gpu.device());
            FitResult a = cpu.fit(x, null, xv, null), b = gpu.fit(x, null, xv, null);
            for (int e = 0; e < 3; e++)
                assertEquals(a.history().get(e).validationLoss(), b.history().get(e).validationLoss(),
                        1e-4 * a.history().get(e).validationLoss(), "validation loss, epoch " + (e + 1));
            long[] live = new long[3];
            for (int round = 0; round < 3; round++) {
                float[][] mc = cpu.encode(xv).mean(), mg = gpu.encode(xv).mean();
                for (int i = 0; i < mc.length; i++)
                    for (int l = 0; l < mc[i].length; l++) assertEquals(mc[i][l], mg[i][l], 1e-3, "mean[" + i + "][" + l + "]");
                gpu.decode(gpu.prior(5, 1, 1.0));
                gpu.sample(7, 2);
                gpu.reconstruct(xv);
                assertEquals(cpu.evaluate(xv, null).loss(), gpu.evaluate(xv, null).loss(), 1e-4 * cpu.evaluate(xv, null).loss());
                gpu.score(xv, null, 20, 1);
                live[round] = liveAllocations();
            }
            assertEquals(live[0], live[1], "a second round of calls holds no more device memory than the first");
            assertEquals(live[1], live[2]);
        }
        assertEquals(0L, liveAllocations(), "closing the model frees the device");
    }

    /** Device allocations the stand-in counts as live at its last counters write. */
    static long liveAllocations() throws Exception {
        try {
            jcuda.driver.JCudaDriver.cuCtxSynchronize(); // the stand-in writes its counters here
        } catch (jcuda.CudaException noContext) {
            // after close there is no current context; the release already wrote the counters
        }
        Map<String, Long> c = StandIn.readCounters(StandIn.countersFile());
        return c.get("live_allocations");
    }

    @Test
    void theTf32SettingReachesCuBlas() {
        // builder().tf32(true) opens the device as `jvae train --tf32` does (through the API it was always off)
        for (boolean tf32 : new boolean[] {false, true})
            try (VaeModel m = VaeModel.builder().inputSize(16).hidden(8).latent(2).device("cuda").tf32(tf32).build()) {
                assertEquals(tf32, m.device().contains("TF32 GEMMs"), m.device());
            }
    }
}

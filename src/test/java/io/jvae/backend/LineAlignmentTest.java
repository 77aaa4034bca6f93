package io.jvae.backend;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Large CPU tensors start on a 64-byte line (the sparse kernels' speed depends on it, not their results). */
class LineAlignmentTest {

    @Test
    void placementRules() {
        assertEquals(0, LineAlignment.place(1000).offset(), "small tensors stay as they were");
        assertEquals(1000, LineAlignment.place(1000).length());
        for (long n : new long[] {70_000, 409_600, 802_816, 5_000_000}) {
            LineAlignment.Placement p = LineAlignment.place(n);
            assertTrue(p.length() >= n + p.offset(), "the tensor fits after its offset");
            long spare = Runtime.getRuntime().maxMemory() / 4 / 1000;
            assertTrue(p.length() <= 2 * n || p.length() - n <= spare, "padding at most doubles a tensor or takes 0.1 % of the heap");
            if (p.offset() != 0) {
                assertEquals(LineAlignment.LEAD, p.offset());
                assertEquals(0, (LineAlignment.LEAD_BYTES + 4 * p.offset()) % 64, "element offset is on a line when element -LEAD_BYTES is");
            }
        }
        // with any collector the values and the tensor API are unchanged
        CpuBackend be = new CpuBackend();
        Tensor t = be.alloc(784, 1024);
        float[] host = new float[t.size()];
        for (int i = 0; i < host.length; i++) host[i] = i;
        be.upload(host, 0, t);
        float[] back = new float[t.size()];
        be.download(t, back, 0);
        assertArrayEquals(host, back);
    }

    /**
     * In a child JVM with G1 and uncompressed references (so an address can be read), every tensor
     * the rules place is on a line after two full GCs. -Xmx1g makes G1's regions 1 MiB, -Xmx30g
     * 16 MiB (where the 2.6 MB parameter buffer of the pytorch preset needs the 0.1 %-of-heap
     * allowance); in both, tensors from 256 KiB are placed (the 400 x 100 one, 160 KB, is not).
     * The heap is reserved, not used: the probe allocates some 30 MB.
     */
    @ParameterizedTest
    @ValueSource(strings = {"-Xmx1g", "-Xmx30g"})
    @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void placedTensorsStartOnALineInTheHeap(String heap) throws IOException, InterruptedException {
        String vm = System.getProperty("java.vm.name", "");
        Assumptions.assumeTrue(vm.contains("HotSpot") || vm.contains("OpenJDK"), "G1 regions are HotSpot's, not " + vm);
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", heap, "-XX:+UseG1GC", "-XX:-UseCompressedOops",
                "-cp", System.getProperty("java.class.path"), LineAlignmentProbe.class.getName());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "probe did not exit");
        assertEquals(0, p.exitValue(), () -> "probe failed:\n" + out);
        assertTrue(out.contains("probe done"), () -> "probe did not finish:\n" + out);
        int placed = 0, rows = 0;
        for (String l : out.lines().filter(l -> l.matches("\\d+ \\d+ \\d+")).toList()) {
            String[] f = l.split(" ");
            long n = Long.parseLong(f[0]);
            int offset = Integer.parseInt(f[1]), mod = Integer.parseInt(f[2]);
            rows++;
            if (4 * n >= 256 * 1024) {
                assertEquals(LineAlignment.LEAD, offset, "tensor of " + n + " floats not placed:\n" + out);
                assertEquals(0, mod, "tensor of " + n + " floats at " + mod + " bytes past a line:\n" + out);
                placed++;
            } else {
                assertEquals(0, offset, "tensor of " + n + " floats placed though small:\n" + out);
            }
        }
        assertEquals(8, rows, out);
        assertEquals(5, placed, out);
    }
}

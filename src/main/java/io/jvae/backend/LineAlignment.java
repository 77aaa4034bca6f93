package io.jvae.backend;

import java.lang.management.ManagementFactory;

/**
 * Where {@link CpuBackend#alloc} puts a large tensor's floats: on a 64-byte cache-line boundary.
 *
 * <p>Why: a 16-float vector load that straddles two cache lines costs two. The sparse first
 * layer's kernels load a column of W (forward) or of dW (backward) per multiply-add, and ran
 * 25–30 % faster with W and dW on line boundaries than at the 16-byte offset they had before
 * (bench/RESULTS.md; the offset of the activations made no difference).
 *
 * <p>How: Java aligns arrays to 8 bytes and does not say where they are, but G1 allocates an
 * array of more than half a region ("humongous") at the start of its own region and does not move
 * it (JDK 17). Its element e then lies at regionStart + {@link #LEAD_BYTES} + 4e, so element
 * {@link #LEAD} is on a line boundary. A tensor of at least {@link #MIN_BYTES} whose array is
 * humongous, or can be made so by padding it to at most twice its size or by at most 0.1 % of the
 * heap, gets that array and offset; others, and every tensor under another collector, keep
 * offset 0. Only the speed depends on it. -Djvae.alignTensors=false turns it off (A/B runs).
 */
final class LineAlignment {
    private LineAlignment() {}

    static final int LINE_BYTES = 64;
    /** Below this a tensor is L1/L2-sized and its loads do not dominate anything: not worth a region. */
    static final long MIN_BYTES = 256 * 1024;
    static final boolean ENABLED = !"false".equals(System.getProperty("jvae.alignTensors"));
    /** Bytes from an array's start to its element 0 (16 on 64-bit HotSpot). */
    static final int LEAD_BYTES = floatArrayBase();
    /** Floats from element 0 to the first line boundary of an array that starts on one. */
    static final int LEAD = LEAD_BYTES % 4 == 0 ? ((LINE_BYTES - LEAD_BYTES % LINE_BYTES) % LINE_BYTES) / 4 : -1;

    /** A tensor's array and where its floats start in it. */
    record Placement(int length, int offset) {}

    /** Where n floats go: an array of `length` floats with the tensor at `offset`. */
    static Placement place(long n) {
        if (!ENABLED || LEAD < 0 || 4 * n < MIN_BYTES) return new Placement((int) n, 0);
        long humongous = Region.HUMONGOUS_BYTES;
        if (humongous <= 0) return new Placement((int) n, 0);
        long floatsForHumongous = (humongous - LEAD_BYTES) / 4 + 2; // G1: humongous means strictly more than half a region
        long length = Math.max(n + LEAD, floatsForHumongous), waste = length - n;
        if (length > Integer.MAX_VALUE - 8 || (waste > n && waste > Region.SPARE_FLOATS)) return new Placement((int) n, 0);
        return new Placement((int) length, LEAD);
    }

    /** "tensors from 256 KiB on 64-byte lines (G1 region 4 MiB)" or why not, for `jvae info` and `jvae bench`. */
    static String describe() {
        if (!ENABLED) return "large tensors not line-aligned (-Djvae.alignTensors=false)";
        if (LEAD < 0 || Region.HUMONGOUS_BYTES <= 0) return "large tensors not line-aligned (needs the G1 collector)";
        long from = Math.max(MIN_BYTES, Math.min(Region.HUMONGOUS_BYTES / 2, Region.HUMONGOUS_BYTES - 4 * Region.SPARE_FLOATS));
        return String.format(java.util.Locale.ROOT, "tensors from %d KiB on 64-byte lines (G1 region %d MiB)",
                from / 1024, 2 * Region.HUMONGOUS_BYTES >> 20);
    }

    private static int floatArrayBase() {
        try {
            return Class.forName("sun.misc.Unsafe").getField("ARRAY_FLOAT_BASE_OFFSET").getInt(null);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return -1;
        }
    }

    /** Asked of the JVM on the first large allocation only (~15 ms). */
    private static final class Region {
        static final long HUMONGOUS_BYTES = humongousBytes();
        /**
         * Padding allowed beyond doubling a tensor: 0.1 % of the heap. Large heaps have large
         * regions (16 MiB at 30 GiB), where doubling alone would leave the 2.6 MB parameter
         * buffers of the pytorch preset unaligned; a workspace has a few dozen tensors, so this
         * costs at most a few percent of the heap.
         */
        static final long SPARE_FLOATS = Runtime.getRuntime().maxMemory() / 4 / 1000;

        private static long humongousBytes() {
            try {
                var vm = ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
                if (!Boolean.parseBoolean(vm.getVMOption("UseG1GC").getValue())) return 0;
                return Long.parseLong(vm.getVMOption("G1HeapRegionSize").getValue()) / 2;
            } catch (RuntimeException | LinkageError e) {
                return 0;
            }
        }
    }
}

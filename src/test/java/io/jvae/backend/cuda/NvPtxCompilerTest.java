package io.jvae.backend.cuda;

import jcuda.nvptxcompiler.JNvPTXCompiler;
import jcuda.nvptxcompiler.nvPTXCompileResult;
import jcuda.nvptxcompiler.nvPTXCompilerHandle;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Compiles the committed vae_kernels.ptx with NVIDIA's PTX compiler library, the one inside JCuda's
 * natives jar ({@code libJNvPTXCompiler-12.6.0}; it reports CUDA 12.0, build 12.0.76: the oldest CUDA 12
 * JIT, so the strictest about PTX ISA and target). It needs no GPU and no driver.
 *
 * <p>What it proves, for every architecture the project supports (sm_60 to sm_90): the PTX's ISA
 * version and {@code .target} are accepted; every kernel in {@link Kernel} comes out; no function
 * spills; the only stack frames are the expected ones. It also proves that the {@code .target
 * sm_75 -> sm_60} rewrite of kernels/build-ptx.sh changes nothing but the cubin's virtual-arch
 * field under this JIT too (ptxas 13.0 proves the same in the script), and that sm_52 is refused.
 *
 * <p>What it cannot prove: speed or the results on a card (nothing runs); what the JIT inside a
 * user's driver makes of the PTX (a newer driver carries a newer JIT, whose register counts may
 * differ; it only ever accepts more ISA versions, not fewer); the driver's own JIT options.
 *
 * <p>Regenerate the register table of docs/kernels.md with
 * {@code mvn -B -q test -Dtest=NvPtxCompilerTest -Dsurefire.failIfNoSpecifiedTests=false -Djvae.printJitTable=true}.
 */
class NvPtxCompilerTest {
    /** Compute capability 6.0 (P100) to 9.0 (H100): every architecture CUDA 12.0 knows that the project supports. */
    static final List<String> ARCHS = List.of("sm_60", "sm_61", "sm_70", "sm_75", "sm_80", "sm_86", "sm_89", "sm_90");
    /** Architectures both the shipped PTX and a {@code .target sm_75} copy compile for (the equivalence check). */
    static final List<String> SM75_UP = List.of("sm_75", "sm_80", "sm_86", "sm_89", "sm_90");
    /**
     * Stack frame (bytes) per function; every other function must have none. 40 B: the 5 u64 words of
     * {@code __internal_trig_reduction_slowpathd}'s local array (CUDA's double cos/sin for huge
     * arguments, reached from the Box-Muller normals; never taken, the angle is in [0, 2*pi)).
     * binarize's 16-byte PTX depot (the Philox lanes) must stay in registers: a frame there is a regression.
     */
    static final Map<String, Integer> EXPECTED_STACK = Map.of("reparam_forward", 40, "normal_fill", 40);

    static final boolean PRINT_TABLE = Boolean.getBoolean("jvae.printJitTable");

    static String unavailable; // null when the native library loaded, else why not
    static byte[] ptx;         // the committed PTX, US-ASCII

    /** Stack and spills of one function (entry or subroutine), registers for entries only (-1 otherwise). */
    record Usage(int registers, int stack, int spillStores, int spillLoads) {}

    /** One nvPTXCompilerCompile: its status, the info log (--verbose), the error log and the cubin (null on failure). */
    record Compiled(String arch, int status, String info, String error, byte[] cubin) {
        String describe() {
            return "nvPTXCompiler --gpu-name=" + arch + ": " + nvPTXCompileResult.stringFor(status) + "\n" + error;
        }
    }

    @BeforeAll
    static void load() throws Exception {
        try (InputStream in = NvPtxCompilerTest.class.getResourceAsStream("/io/jvae/cuda/vae_kernels.ptx")) {
            assertNotNull(in, "vae_kernels.ptx is not on the classpath");
            ptx = in.readAllBytes();
        }
        try {
            int[] major = {0}, minor = {0};
            int rc = JNvPTXCompiler.nvPTXCompilerGetVersion(major, minor);
            // loaded but failing is a failure, not a skip: only a library that cannot load on this platform skips
            assertEquals(nvPTXCompileResult.NVPTXCOMPILE_SUCCESS, rc, "nvPTXCompilerGetVersion: " + nvPTXCompileResult.stringFor(rc));
            assertEquals("12.0", major[0] + "." + minor[0], "jcuda-natives 12.6.0 carries the CUDA 12.0 PTX compiler; a new JCuda? update the docs");
        } catch (LinkageError e) { // UnsatisfiedLinkError at first use, NoClassDefFoundError after: no natives for this OS/CPU
            String msg = String.valueOf(e.getMessage()).lines().findFirst().orElse(""); // LibUtils appends nested stack traces
            unavailable = "JCuda's nvPTXCompiler does not load on " + System.getProperty("os.name") + "/" + System.getProperty("os.arch")
                    + ": " + e.getClass().getSimpleName() + ": " + msg;
        }
    }

    static void assumeLoaded() {
        assumeTrue(unavailable == null, () -> "PTX JIT check skipped: " + unavailable);
    }

    // ---- compiling and reading the info log

    /** Exceptions stay off (JCuda's default): a failed compile returns its status, and we want its error log. */
    static Compiled compile(byte[] code, String arch) {
        nvPTXCompilerHandle h = new nvPTXCompilerHandle();
        int rc = JNvPTXCompiler.nvPTXCompilerCreate(h, code.length, code);
        if (rc != nvPTXCompileResult.NVPTXCOMPILE_SUCCESS) return new Compiled(arch, rc, "", "nvPTXCompilerCreate failed", null);
        try {
            String[] options = {"--gpu-name=" + arch, "--verbose"}; // --verbose: registers, stack and spills per function
            int status = JNvPTXCompiler.nvPTXCompilerCompile(h, options.length, options);
            long[] n = {0};
            JNvPTXCompiler.nvPTXCompilerGetInfoLogSize(h, n);
            byte[] info = new byte[(int) n[0]];
            if (n[0] > 0) JNvPTXCompiler.nvPTXCompilerGetInfoLog(h, info);
            JNvPTXCompiler.nvPTXCompilerGetErrorLogSize(h, n);
            byte[] error = new byte[(int) n[0]];
            if (n[0] > 0) JNvPTXCompiler.nvPTXCompilerGetErrorLog(h, error);
            byte[] cubin = null;
            if (status == nvPTXCompileResult.NVPTXCOMPILE_SUCCESS) {
                JNvPTXCompiler.nvPTXCompilerGetCompiledProgramSize(h, n);
                cubin = new byte[(int) n[0]];
                JNvPTXCompiler.nvPTXCompilerGetCompiledProgram(h, cubin);
            }
            return new Compiled(arch, status, text(info), text(error), cubin);
        } finally {
            JNvPTXCompiler.nvPTXCompilerDestroy(h);
        }
    }

    static String text(byte[] log) { // the logs are C strings: drop the terminating NUL
        int end = log.length;
        while (end > 0 && log[end - 1] == 0) end--;
        return new String(log, 0, end, StandardCharsets.US_ASCII);
    }

    static final Pattern ENTRY = Pattern.compile("Compiling entry function '(\\w+)' for '(\\w+)'");
    static final Pattern PROPS = Pattern.compile("Function properties for (\\w+)");
    static final Pattern FRAME = Pattern.compile("(\\d+) bytes stack frame, (\\d+) bytes spill stores, (\\d+) bytes spill loads");
    static final Pattern REGS = Pattern.compile("Used (\\d+) registers");

    /**
     * function -> usage, from ptxas's --verbose log: "Compiling entry function 'K' for 'sm_XX'", then
     * "Function properties for F" + its frame line (F = K or a subroutine K calls), then "Used N registers" for K.
     */
    static Map<String, Usage> parse(String info, String arch) {
        Map<String, Usage> m = new LinkedHashMap<>();
        String entry = null, fn = null;
        for (String line : info.split("\n")) {
            Matcher x;
            if ((x = ENTRY.matcher(line)).find()) {
                entry = x.group(1);
                assertEquals(arch, x.group(2), "info log compiles " + entry + " for another architecture");
            } else if ((x = PROPS.matcher(line)).find()) {
                fn = x.group(1);
            } else if ((x = FRAME.matcher(line)).find()) {
                assertNotNull(fn, "frame line before any 'Function properties': " + line);
                m.put(fn, new Usage(-1, Integer.parseInt(x.group(1)), Integer.parseInt(x.group(2)), Integer.parseInt(x.group(3))));
            } else if ((x = REGS.matcher(line)).find()) {
                assertNotNull(entry, "register line before any entry: " + line);
                Usage u = m.get(entry);
                assertNotNull(u, entry + ": registers reported without its frame line");
                m.put(entry, new Usage(Integer.parseInt(x.group(1)), u.stack, u.spillStores, u.spillLoads));
            }
        }
        return m;
    }

    /** The failures of one architecture's compile, empty when it passes. */
    static List<String> problems(Map<String, Usage> usage) {
        List<String> bad = new ArrayList<>();
        for (var e : usage.entrySet()) {
            Usage u = e.getValue();
            if (u.spillStores > 0 || u.spillLoads > 0)
                bad.add(e.getKey() + ": " + u.spillStores + " B spill stores, " + u.spillLoads + " B spill loads");
            int want = EXPECTED_STACK.getOrDefault(e.getKey(), 0);
            if (u.stack != want) bad.add(e.getKey() + ": " + u.stack + " B stack frame, expected " + want);
        }
        for (Kernel k : Kernel.values()) {
            Usage u = usage.get(k.symbol);
            if (u == null || u.registers < 0) bad.add(k.symbol + ": missing from the output (no register count in the info log)");
        }
        return bad;
    }

    // ---- the checks

    @Test
    void everySupportedArchitectureCompilesWithoutSpills() {
        assumeLoaded();
        Map<String, Map<String, Usage>> all = new LinkedHashMap<>();
        List<String> bad = new ArrayList<>();
        for (String arch : ARCHS) {
            Compiled c = compile(ptx, arch);
            if (c.status != nvPTXCompileResult.NVPTXCOMPILE_SUCCESS || c.cubin == null || c.cubin.length == 0) {
                bad.add(c.describe());
                continue;
            }
            Map<String, Usage> usage = parse(c.info, arch);
            all.put(arch, usage);
            for (String p : problems(usage)) bad.add(arch + " " + p);
        }
        if (PRINT_TABLE) System.out.println(table(all));
        assertTrue(bad.isEmpty(), "the CUDA 12.0 JIT on the shipped PTX:\n  " + String.join("\n  ", bad));
    }

    /** The project claims compute capability 6.0+; the .target sm_60 directive is what makes a 5.x card refuse it. */
    @Test
    void sm52IsRefusedByTheTarget() {
        assumeLoaded();
        Compiled c = compile(ptx, "sm_52");
        assertEquals(nvPTXCompileResult.NVPTXCOMPILE_ERROR_COMPILATION_FAILURE, c.status, "sm_52: " + c.describe());
        assertTrue(c.error.contains("SM version specified by .target is higher than default SM version"),
                "sm_52 refused for another reason than .target sm_60:\n" + c.error);
    }

    /**
     * For sm_75 and up the shipped PTX and a copy that still says {@code .target sm_75} must give cubins
     * that differ in one byte only: ELF e_flags bits 16-23 (file offset 50), the virtual architecture the
     * cubin came from (EF_CUDA_VIRTUAL_SM in this cubin ABI: OS/ABI 0x33, ABI version 7), 75 vs 60.
     */
    @Test
    void retargetingToSm60ChangesOnlyTheVirtualArch() {
        assumeLoaded();
        String shipped = new String(ptx, StandardCharsets.US_ASCII);
        assertTrue(shipped.contains("\n.target sm_60\n"), "the shipped PTX should say .target sm_60 (kernels/build-ptx.sh)");
        byte[] sm75 = shipped.replace("\n.target sm_60\n", "\n.target sm_75\n").getBytes(StandardCharsets.US_ASCII);
        for (String arch : SM75_UP) {
            Compiled a = compile(ptx, arch), b = compile(sm75, arch);
            assertNotNull(a.cubin, a.describe());
            assertNotNull(b.cubin, b.describe());
            assertEquals(0x33, a.cubin[7] & 0xff, arch + ": not the CUDA ELF OS/ABI this check knows");
            assertEquals(7, a.cubin[8] & 0xff, arch + ": not the cubin ABI version this check knows (e_flags layout)");
            assertEquals(b.cubin.length, a.cubin.length, arch + ": cubin sizes");
            List<String> diffs = new ArrayList<>();
            for (int i = 0; i < a.cubin.length; i++)
                if (a.cubin[i] != b.cubin[i]) diffs.add("@" + i + ": " + (b.cubin[i] & 0xff) + " -> " + (a.cubin[i] & 0xff));
            assertEquals(List.of("@50: 75 -> 60"), diffs.size() > 10 ? diffs.subList(0, 10) : diffs,
                    arch + ": .target sm_75 -> sm_60 changed more than the virtual-arch byte (" + diffs.size() + " bytes)");
        }
    }

    @Test
    void parserSeesSpillsStacksAndMissingKernels() {
        String log = """
                ptxas info    : Compiling entry function 'axpy' for 'sm_80'
                ptxas info    : Function properties for axpy
                ptxas         .     8 bytes stack frame, 4 bytes spill stores, 4 bytes spill loads
                ptxas info    : Used 255 registers, 344 bytes cmem[0]
                """;
        Map<String, Usage> u = parse(log, "sm_80");
        assertEquals(new Usage(255, 8, 4, 4), u.get("axpy"));
        List<String> bad = problems(u);
        assertTrue(bad.contains("axpy: 4 B spill stores, 4 B spill loads"), bad::toString);
        assertTrue(bad.contains("axpy: 8 B stack frame, expected 0"), bad::toString);
        assertTrue(bad.contains("adam_step: missing from the output (no register count in the info log)"), bad::toString);
    }

    // ---- the docs/kernels.md table

    /** Markdown: one row per kernel (Kernel order), registers per architecture, then stack and spills. */
    static String table(Map<String, Map<String, Usage>> all) {
        StringBuilder s = new StringBuilder("| kernel | " + String.join(" | ", all.keySet()) + " | stack (B) | spill st / ld (B) |\n|---|");
        s.append("---|".repeat(all.size() + 2)).append('\n');
        for (Kernel k : Kernel.values()) {
            s.append("| ").append(k.symbol);
            TreeSet<Integer> stacks = new TreeSet<>();
            int st = 0, ld = 0;
            for (Map<String, Usage> m : all.values()) {
                Usage u = m.get(k.symbol);
                s.append(" | ").append(u == null ? "—" : String.valueOf(u.registers));
                if (u != null) { stacks.add(u.stack); st = Math.max(st, u.spillStores); ld = Math.max(ld, u.spillLoads); }
            }
            s.append(" | ").append(String.join("/", stacks.stream().map(String::valueOf).toList()))
                    .append(" | ").append(st).append(" / ").append(ld).append(" |\n");
        }
        return s.toString();
    }
}

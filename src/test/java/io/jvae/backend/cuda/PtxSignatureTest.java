package io.jvae.backend.cuda;

import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** Each Java launch declaration ({@link Kernel}) matches the .entry signature of the committed PTX. */
class PtxSignatureTest {

    static String ptx() throws Exception {
        try (InputStream in = PtxSignatureTest.class.getResourceAsStream("/io/jvae/cuda/vae_kernels.ptx")) {
            assertNotNull(in, "vae_kernels.ptx is not on the classpath");
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    /** symbol -> PTX parameter types in order, from ".visible .entry NAME( .param .TYPE ..., ... )". */
    static Map<String, List<String>> entries(String ptx) {
        Map<String, List<String>> m = new LinkedHashMap<>();
        Matcher e = Pattern.compile("\\.visible\\s+\\.entry\\s+(\\w+)\\s*\\(([^)]*)\\)").matcher(ptx);
        while (e.find()) {
            List<String> types = new ArrayList<>();
            Matcher p = Pattern.compile("\\.param\\s+\\.(\\w+)").matcher(e.group(2));
            while (p.find()) types.add(p.group(1));
            m.put(e.group(1), types);
        }
        return m;
    }

    @Test
    void everyDeclarationMatchesItsEntry() throws Exception {
        Map<String, List<String>> ptx = entries(ptx());
        assertEquals(Kernel.values().length, ptx.size(), "kernels in PTX " + ptx.keySet());
        for (Kernel k : Kernel.values()) {
            List<String> got = ptx.get(k.symbol);
            assertNotNull(got, k.symbol + " missing from the PTX");
            List<String> want = k.params.stream().map(p -> p.ptxType).toList();
            assertEquals(want, got, k.symbol + ": Java declaration vs PTX .entry parameters");
        }
    }

    @Test
    void loadsOnCuda12Drivers() throws Exception {
        Matcher v = Pattern.compile("(?m)^\\.version (\\d+)\\.(\\d+)$").matcher(ptx());
        assertTrue(v.find(), "no .version directive");
        int major = Integer.parseInt(v.group(1)), minor = Integer.parseInt(v.group(2));
        // CUDA 12.0 drivers JIT PTX ISA up to 8.0
        assertTrue(major < 8 || (major == 8 && minor == 0), "PTX ISA " + major + "." + minor + " needs a driver newer than CUDA 12.0");
        // kernels/build-ptx.sh retargets nvcc's sm_75 to sm_60: compute capability 6.0+ loads it (NvPtxCompilerTest compiles it for sm_60..sm_90)
        assertTrue(ptx().contains("\n.target sm_60\n"), ".target sm_60 (the oldest card the project supports)");
    }

    @Test
    void parserSeesAMismatch() {
        String fake = ".visible .entry axpy(\n\t.param .u64 a,\n\t.param .u32 b,\n\t.param .u32 c,\n\t.param .f32 d\n)";
        List<String> want = Kernel.AXPY.params.stream().map(p -> p.ptxType).toList();
        assertNotEquals(want, entries(fake).get("axpy"), "a u32 where a pointer is declared must not pass");
    }
}

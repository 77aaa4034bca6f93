package io.jvae.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;

/** Just enough of ustar to take named regular files out of an npm .tgz (512-byte headers). */
final class Tar {
    private Tar() {}

    interface Sink {
        void accept(String name, byte[] bytes) throws IOException;
    }

    static void extractMatching(Path tgz, String prefix, List<String> names, Sink sink) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(tgz), 1 << 16)) {
            byte[] header = new byte[512];
            while (true) {
                if (in.readNBytes(header, 0, 512) < 512) return;
                if (header[0] == 0) return; // end-of-archive block
                String name = cstring(header, 0, 100);
                String ustarPrefix = cstring(header, 345, 155);
                if (!ustarPrefix.isEmpty()) name = ustarPrefix + "/" + name;
                long size = Long.parseLong(cstring(header, 124, 12).trim().isEmpty() ? "0" : cstring(header, 124, 12).trim(), 8);
                char type = (char) header[156];
                long padded = (size + 511) / 512 * 512;
                String base = name.startsWith(prefix) ? name.substring(prefix.length()) : null;
                if ((type == '0' || type == 0) && base != null && names.contains(base)) {
                    if (size > Integer.MAX_VALUE) throw new IOException(name + " too large");
                    byte[] data = in.readNBytes((int) size);
                    if (data.length != size) throw new IOException("truncated tar entry " + name);
                    sink.accept(base, data);
                    in.skipNBytes(padded - size);
                } else {
                    in.skipNBytes(padded);
                }
            }
        }
    }

    private static String cstring(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && b[end] != 0) end++;
        return new String(b, off, end - off, java.nio.charset.StandardCharsets.US_ASCII);
    }
}

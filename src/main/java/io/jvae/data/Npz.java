package io.jvae.data;

import io.jvae.InvalidInputException;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * NumPy .npz files: a zip archive of .npy files, one per named array (np.savez stores them,
 * np.savez_compressed deflates them). Read here from the bytes with a small zip reader of our own,
 * so that every size is checked before it is trusted: the central directory (zip64 included, as
 * numpy writes it) gives each entry's method, sizes, CRC-32 and local header; a stored entry must
 * be exactly its size, a deflated one may not claim more than deflate can expand its compressed
 * bytes to (1032:1), is inflated no further than that claim and checked against its CRC-32.
 * Arrays are inflated only when asked for.
 */
public final class Npz {
    private Npz() {}

    /** Deflate expands at most 1032:1 (RFC 1951: a 258-byte match per 2 bits); with slack for headers. */
    static final long MAX_RATIO = 1032;

    /** True when b starts like a zip archive (a local file header, or the end record of an empty one). */
    public static boolean is(byte[] b) {
        return b.length >= 4 && b[0] == 'P' && b[1] == 'K' && ((b[2] == 3 && b[3] == 4) || (b[2] == 5 && b[3] == 6));
    }

    /** One member: its array name (the file name less ".npy"), method, sizes, CRC and where its data starts. */
    record Entry(String array, int method, long compressed, long size, long crc, long dataStart) {}

    /** An opened archive: its .npy members in the archive's order. */
    public static final class Archive {
        final byte[] all;
        final String name;
        final Map<String, Entry> entries;

        Archive(byte[] all, String name, Map<String, Entry> entries) {
            this.all = all;
            this.name = name;
            this.entries = entries;
        }

        /** Array names in the archive's order. */
        public List<String> names() {
            return new ArrayList<>(entries.keySet());
        }

        public boolean has(String array) {
            return entries.containsKey(array);
        }

        /** The named array, inflated and parsed. */
        public Npy.Array array(String array) {
            Entry e = entries.get(array);
            if (e == null) throw new InvalidInputException(name + ": no array '" + array + "' (it holds " + String.join(", ", names()) + ")");
            return Npy.parse(bytes(e), name + "['" + array + "']");
        }

        private byte[] bytes(Entry e) {
            String what = name + "['" + e.array + "']";
            if (e.method == 0) {
                if (e.compressed != e.size) throw new InvalidInputException(what + ": stored entry of " + e.compressed + " bytes claims " + e.size);
                byte[] out = java.util.Arrays.copyOfRange(all, (int) e.dataStart, (int) (e.dataStart + e.size));
                return crc(out, e, what);
            }
            Inflater inf = new Inflater(true); // raw deflate, as zip stores it
            try {
                inf.setInput(all, (int) e.dataStart, (int) e.compressed);
                // grown as data arrive (to the declared size at most): a small file that claims a lot allocates little
                byte[] out = new byte[(int) Math.min(e.size, Math.max(1 << 16, 4 * e.compressed))];
                int got = 0;
                while (got < e.size) {
                    if (got == out.length) out = java.util.Arrays.copyOf(out, (int) Math.min(e.size, 2L * out.length));
                    int r = inf.inflate(out, got, out.length - got);
                    if (r == 0 && (inf.finished() || inf.needsInput() || inf.needsDictionary())) break;
                    got += r;
                }
                if (got < e.size) throw new InvalidInputException(what + ": deflated data ends after " + got + " of " + e.size + " bytes (truncated or corrupt)");
                if (!inf.finished() && inf.inflate(new byte[1]) > 0)
                    throw new InvalidInputException(what + ": deflated data holds more than the " + e.size + " bytes its header declares");
                return crc(out, e, what);
            } catch (DataFormatException ex) {
                throw new InvalidInputException(what + ": corrupt deflated data (" + ex.getMessage() + ")");
            } finally {
                inf.end();
            }
        }

        private static byte[] crc(byte[] out, Entry e, String what) {
            CRC32 c = new CRC32();
            c.update(out);
            if (c.getValue() != e.crc)
                throw new InvalidInputException(what + String.format(": CRC-32 %08x does not match the archive's %08x (a corrupt file)", c.getValue(), e.crc));
            return out;
        }
    }

    /** Reads the central directory of the zip in `all`; name is used in messages. */
    public static Archive open(byte[] all, String name) {
        int eocd = -1;
        for (int p = all.length - 22; p >= Math.max(0, all.length - 22 - 0xFFFF); p--)
            if (u32(all, p) == 0x06054b50L && p + 22 + u16(all, p + 20) <= all.length) {
                eocd = p;
                break;
            }
        if (eocd < 0) throw new InvalidInputException(name + ": not a zip archive (.npz), or a truncated one: no end of central directory");
        long count = u16(all, eocd + 10), cdSize = u32(all, eocd + 12), cdOffset = u32(all, eocd + 16);
        if (count == 0xFFFF || cdSize == 0xFFFFFFFFL || cdOffset == 0xFFFFFFFFL) { // zip64: the locator sits just before
            int loc = eocd - 20;
            if (loc < 0 || u32(all, loc) != 0x07064b50L) throw new InvalidInputException(name + ": zip64 archive without its zip64 locator");
            long rec = u64(all, loc + 8);
            if (rec < 0 || rec > loc - 56L || u32(all, (int) rec) != 0x06064b50L) throw new InvalidInputException(name + ": bad zip64 end record offset " + rec);
            count = u64(all, (int) rec + 32);
            cdSize = u64(all, (int) rec + 40);
            cdOffset = u64(all, (int) rec + 48);
        }
        if (cdOffset < 0 || cdSize < 0 || cdOffset > all.length || cdSize > all.length - cdOffset)
            throw new InvalidInputException(name + ": central directory at " + cdOffset + " (" + cdSize + " bytes) lies outside the " + all.length + "-byte file");
        if (count < 0 || count > cdSize / 46) throw new InvalidInputException(name + ": " + count + " entries cannot fit in a " + cdSize + "-byte central directory");
        Map<String, Entry> entries = new LinkedHashMap<>();
        int p = (int) cdOffset, end = (int) (cdOffset + cdSize);
        for (long i = 0; i < count; i++) {
            if (p + 46 > end || u32(all, p) != 0x02014b50L) throw new InvalidInputException(name + ": central directory entry " + i + " is corrupt");
            int flags = u16(all, p + 8), method = u16(all, p + 10), nameLen = u16(all, p + 28), extraLen = u16(all, p + 30), commentLen = u16(all, p + 32);
            long crc = u32(all, p + 16), csize = u32(all, p + 20), usize = u32(all, p + 24), local = u32(all, p + 42);
            if (p + 46L + nameLen + extraLen + commentLen > end) throw new InvalidInputException(name + ": central directory entry " + i + " runs past the directory");
            String file = new String(all, p + 46, nameLen, StandardCharsets.UTF_8);
            long[] z64 = zip64(all, p + 46 + nameLen, extraLen, usize == 0xFFFFFFFFL, csize == 0xFFFFFFFFL, local == 0xFFFFFFFFL, name);
            if (usize == 0xFFFFFFFFL) usize = z64[0];
            if (csize == 0xFFFFFFFFL) csize = z64[1];
            if (local == 0xFFFFFFFFL) local = z64[2];
            p += 46 + nameLen + extraLen + commentLen;
            if (!file.endsWith(".npy")) continue; // np.load ignores other members too
            String array = file.substring(0, file.length() - 4);
            if ((flags & 1) != 0) throw new InvalidInputException(name + ": '" + file + "' is encrypted");
            if (method != 0 && method != 8)
                throw new InvalidInputException(name + ": '" + file + "' uses zip compression method " + method + " (np.savez stores, np.savez_compressed deflates: 0 or 8)");
            if (local < 0 || local > all.length - 30L || u32(all, (int) local) != 0x04034b50L)
                throw new InvalidInputException(name + ": '" + file + "': no local header at offset " + local);
            long data = local + 30 + u16(all, (int) local + 26) + u16(all, (int) local + 28);
            if (csize < 0 || usize < 0 || data + csize > all.length)
                throw new InvalidInputException(name + ": '" + file + "': " + csize + " bytes at offset " + data + " run past the " + all.length + "-byte file");
            if ((method == 8 && usize > csize * MAX_RATIO + 1024) || (method == 0 && usize != csize))
                throw new InvalidInputException(name + ": '" + file + "' claims " + usize + " bytes from " + csize + " compressed bytes: a corrupt archive");
            if (usize > Integer.MAX_VALUE - 8) throw new InvalidInputException(name + ": '" + file + "' holds " + usize + " bytes, more than jvae reads in one array (2 GiB)");
            if (entries.put(array, new Entry(array, method, csize, usize, crc, data)) != null)
                throw new InvalidInputException(name + ": two members named '" + file + "'");
        }
        if (entries.isEmpty()) throw new InvalidInputException(name + ": an archive with no .npy arrays in it");
        return new Archive(all, name, entries);
    }

    /** The zip64 extra field's sizes (uncompressed, compressed, local offset), in that order, those flagged present. */
    private static long[] zip64(byte[] all, int at, int len, boolean hasSize, boolean hasCsize, boolean hasLocal, String name) {
        long[] out = {-1, -1, -1};
        if (!hasSize && !hasCsize && !hasLocal) return out;
        int p = at, end = at + len;
        while (p + 4 <= end) {
            int id = u16(all, p), n = u16(all, p + 2);
            if (p + 4 + n > end) break;
            if (id == 0x0001) {
                int q = p + 4, qe = q + n;
                if (hasSize && q + 8 <= qe) { out[0] = u64(all, q); q += 8; }
                if (hasCsize && q + 8 <= qe) { out[1] = u64(all, q); q += 8; }
                if (hasLocal && q + 8 <= qe) out[2] = u64(all, q);
                break;
            }
            p += 4 + n;
        }
        if ((hasSize && out[0] < 0) || (hasCsize && out[1] < 0) || (hasLocal && out[2] < 0))
            throw new InvalidInputException(name + ": an entry's zip64 sizes are missing or beyond 2^63");
        return out;
    }

    static int u16(byte[] b, int p) {
        return (b[p] & 0xFF) | (b[p + 1] & 0xFF) << 8;
    }

    static long u32(byte[] b, int p) {
        return (b[p] & 0xFFL) | (b[p + 1] & 0xFFL) << 8 | (b[p + 2] & 0xFFL) << 16 | (b[p + 3] & 0xFFL) << 24;
    }

    /** Little-endian uint64; negative when beyond 2^63 (every caller refuses that). */
    static long u64(byte[] b, int p) {
        return u32(b, p) | u32(b, p + 4) << 32;
    }
}

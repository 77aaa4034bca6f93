package io.jvae.backend;

import java.lang.reflect.Field;

/**
 * Child JVM of {@link LineAlignmentTest}, run with -XX:-UseCompressedOops so that an array
 * reference read as a long is the array's address. Allocates tensors of several sizes through
 * CpuBackend.alloc, moves everything movable with two full GCs, and prints for each:
 * "n offset address-of-element-offset mod 64".
 */
public final class LineAlignmentProbe {
    public static void main(String[] args) throws Exception {
        Field f = Class.forName("sun.misc.Unsafe").getDeclaredField("theUnsafe");
        f.setAccessible(true);
        sun.misc.Unsafe u = (sun.misc.Unsafe) f.get(null);
        if (u.addressSize() != 8 || u.arrayIndexScale(Object[].class) != 8) throw new IllegalStateException("run with -XX:-UseCompressedOops");
        CpuBackend be = new CpuBackend();
        int[][] shapes = {{400, 1024}, {784, 1024}, {652_824, 1}, {403_000, 1}, {784, 128}, {400, 100}, {20, 1024}, {7, 3}};
        Tensor[] ts = new Tensor[shapes.length];
        for (int i = 0; i < shapes.length; i++) ts[i] = be.alloc(shapes[i][0], shapes[i][1]);
        byte[][] churn = new byte[2000][];
        for (int i = 0; i < churn.length; i++) churn[i] = new byte[1000 + i]; // something for the GCs to move
        System.gc();
        System.gc();
        Object[] holder = new Object[1];
        for (Tensor t : ts) {
            holder[0] = CpuBackend.arr(t);
            long address = u.getLong(holder, (long) u.arrayBaseOffset(Object[].class));
            long at = address + u.arrayBaseOffset(float[].class) + 4L * t.offset;
            System.out.println(t.size() + " " + t.offset + " " + Math.floorMod(at, 64));
        }
        System.out.println("probe done " + churn.length);
    }
}

#!/usr/bin/env python3
"""Golden .npz files for NpzTest: what numpy itself writes (its zip64 local headers, Fortran order,
big-endian), read back by io.jvae.data.Npz/Npy. Run from the repository root:
    python3 bench/make_data_golden.py
Bump VERSION when the contents change (NpzTest checks it)."""
import numpy as np

VERSION = 1
out = "src/test/resources/io/jvae/golden/"
x = np.asfortranarray((np.arange(12, dtype=np.float32) / 8).reshape(3, 4))  # exact in binary; Fortran order
y = np.array([2, 0, 1], dtype=np.int64)
big = np.array([[0.5, -1.25], [3.0, 1e-3]], dtype=">f8")
for name, save in (("numpy-savez.npz", np.savez), ("numpy-savez-compressed.npz", np.savez_compressed)):
    save(out + name, version=np.array([VERSION], dtype=np.int32), x=x, y=y, big=big)
print("numpy", np.__version__)

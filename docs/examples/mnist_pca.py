#!/usr/bin/env python3
"""MNIST's 784 pixels projected to their first 50 principal components, for jvae's real-valued
example (docs/user-data.md), and the way back to pixels for pictures.

  mnist_pca.py prepare MNIST_DIR OUT    pca50-train.npy, pca50-test.npy (float32 [n, 50]), pca50-basis.npz
  mnist_pca.py render OUT ROWS.npy PNG  rows of 50 components back to 28 x 28 pixels, a grid PNG

Needs numpy and PIL (Debian: python3-numpy, python3-pil)."""
import os
import sys

import numpy as np


def idx(path):
    with open(path, "rb") as f:
        b = f.read()
    dims = b[3]
    shape = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def prepare(mnist, out):
    tr = idx(os.path.join(mnist, "train-images-idx3-ubyte")).reshape(60000, 784).astype(np.float64) / 255
    te = idx(os.path.join(mnist, "t10k-images-idx3-ubyte")).reshape(10000, 784).astype(np.float64) / 255
    mean = tr.mean(axis=0)
    cov = (tr - mean).T @ (tr - mean) / len(tr)
    w, v = np.linalg.eigh(cov)                   # ascending
    basis = v[:, ::-1][:, :50]                   # 784 x 50, the top 50 directions
    basis *= np.sign(basis[np.abs(basis).argmax(axis=0), range(50)])  # a fixed sign per component
    explained = w[::-1][:50].sum() / w.sum()
    os.makedirs(out, exist_ok=True)
    np.save(os.path.join(out, "pca50-train.npy"), ((tr - mean) @ basis).astype(np.float32))
    np.save(os.path.join(out, "pca50-test.npy"), ((te - mean) @ basis).astype(np.float32))
    np.savez(os.path.join(out, "pca50-basis.npz"), mean=mean, basis=basis)
    print(f"pca50: {explained:.1%} of the pixel variance in 50 components")


def render(out, rows, png):
    from PIL import Image
    p = np.load(os.path.join(out, "pca50-basis.npz"))
    z = np.load(rows).astype(np.float64)
    px = np.clip(z @ p["basis"].T + p["mean"], 0, 1).reshape(-1, 28, 28)
    n = len(px)
    cols = int(np.ceil(np.sqrt(n)))
    grid = np.ones((cols * 30, cols * 30))
    for i, im in enumerate(px):
        r, c = divmod(i, cols)
        grid[r * 30 + 1:r * 30 + 29, c * 30 + 1:c * 30 + 29] = 1 - im  # ink dark on white, as jvae's figures
    Image.fromarray((grid * 255).astype(np.uint8)).resize((cols * 60, cols * 60), Image.NEAREST).save(png)


if __name__ == "__main__":
    if sys.argv[1] == "prepare":
        prepare(sys.argv[2], sys.argv[3])
    else:
        render(sys.argv[2], sys.argv[3], sys.argv[4])

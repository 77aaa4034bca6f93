#!/usr/bin/env bash
# Real-valued data: MNIST projected to 50 principal components (docs/examples/mnist_pca.py), a
# Gaussian decoder with unit variance against one with a learned per-feature log-variance, both on
# standardized inputs: the worked example of docs/user-data.md.
#
#   docs/examples/mnist_pca.sh [OUT=~/.cache/jvae/examples/mnist-pca] [EPOCHS=50]
#
# Needs python3 with numpy and PIL (Debian: python3-numpy python3-pil) and MNIST (./jvae data fetch).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-$HOME/.cache/jvae/examples/mnist-pca}"
epochs="${2:-50}"
py="${PYTHON:-python3}"
jvae() { "$root/jvae" "$@"; }
jvae data fetch >/dev/null
[ -f "$out/pca50-train.npy" ] || "$py" "$root/docs/examples/mnist_pca.py" prepare "$HOME/.cache/jvae/mnist" "$out"
cd "$out"
for dec in gaussian gaussian-learned; do
  jvae train --train pca50-train.npy --test pca50-test.npy --scale standard --decoder "$dec" --hidden 256 --latent 10 \
    --epochs "$epochs" --batch 100 --out "run-$dec" --overwrite --no-progress --device cpu | tail -2
  jvae eval "run-$dec/model.safetensors" --input pca50-test.npy --iw 500 --device cpu | tail -1
  jvae sample "run-$dec/model.safetensors" --n 64 --seed 1 --out "samples-$dec" --device cpu
  "$py" "$root/docs/examples/mnist_pca.py" render "$out" "samples-$dec/samples.npy" "samples-$dec.png"
done

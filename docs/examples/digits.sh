#!/usr/bin/env bash
# The UCI 8x8 handwritten digits (1,797 images, 10 classes) from Debian's python3-sklearn package,
# trained with jvae as a user's own CSV: the worked example of docs/user-data.md.
#
#   docs/examples/digits.sh [OUT=~/.cache/jvae/examples/digits]
#
# Needs apt-get (only `apt-get download`: nothing is installed) and dpkg-deb.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-$HOME/.cache/jvae/examples/digits}"
mkdir -p "$out"
cd "$out"
if [ ! -f digits.csv ]; then
  apt-get download python3-sklearn >/dev/null
  dpkg-deb -x python3-sklearn_*.deb pkg
  # 64 pixel columns (0..16) and the label in column 65; pixels to [0, 1] for the Bernoulli decoder
  zcat pkg/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz \
    | awk -F, 'BEGIN { OFS = "," } { for (i = 1; i <= 64; i++) $i = $i / 16; print }' > digits.csv
  rm -rf pkg python3-sklearn_*.deb
fi
echo "digits.csv: $(wc -l < digits.csv) rows, sha256 $(sha256sum digits.csv | cut -c1-16)..."
jvae() { "$root/jvae" "$@"; }
# a 90/10 split (seeded), 64-256-2 tanh with a Bernoulli decoder, as the slides' MNIST model but narrower
jvae train --train digits.csv --label-column 65 --test-split 0.1 --hidden 256 --latent 2 --activation tanh \
  --epochs 200 --batch 50 --out run --overwrite --no-progress --device cpu | tail -3
jvae train --train digits.csv --label-column 65 --test-split 0.1 --hidden 256 --latent 2 --activation tanh \
  --epochs 200 --batch 50 --conditional --out run-cvae --overwrite --no-progress --device cpu | tail -2
jvae sample run/model.safetensors --n 100 --out figures --device cpu
jvae sample run-cvae/model.safetensors --label 3 --n 25 --out figures-cvae-3 --device cpu
jvae manifold run/model.safetensors --n 15 --out figures --device cpu
jvae encode run/model.safetensors --input digits.csv --label-column 65 --out figures/z.csv --device cpu
jvae score run/model.safetensors --input digits.csv --label-column 65 --samples 1000 --out figures --device cpu
jvae plot run/metrics.csv --out figures/loss.png
ls figures

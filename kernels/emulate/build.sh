#!/usr/bin/env bash
# Builds the CPU emulation of the CUDA kernels: kernels/emulate/build/driver (needs g++).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/build/driver}"
mkdir -p "$(dirname "$out")"
g++ -std=c++17 -O2 -ffp-contract=off -DJVAE_EMULATE -include "$here/host_cuda.h" -o "$out" "$here/driver.cpp"
echo "$out"

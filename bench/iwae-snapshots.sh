#!/usr/bin/env bash
# Keeps a copy of each IWAE-paper run's best.safetensors every 10 minutes, named by the epochs run
# (DIR/snapshots/<run>-epoch<E>.safetensors), for bench/iwae-curve.sh's -log p(x)-against-epochs curve.
# Runs until killed; start it beside bench/iwae-paper.sh:
#
#   setsid nohup bench/iwae-snapshots.sh [DIR=~/.cache/jvae/runs] > /dev/null 2>&1 &
set -uo pipefail
dir="${1:-$HOME/.cache/jvae/runs}"
mkdir -p "$dir/snapshots"
while true; do
  for r in iwae-paper-vae iwae-paper-iwae5; do
    d="$dir/$r"
    [ -f "$d/best.safetensors" ] && [ -f "$d/metrics.csv" ] || continue
    e=$(tail -1 "$d/metrics.csv" | cut -d, -f1)
    [[ "$e" =~ ^[0-9]+$ ]] || continue
    s="$dir/snapshots/$r-epoch$e.safetensors"
    if [ ! -f "$s" ]; then cp "$d/best.safetensors" "$s.tmp" && mv "$s.tmp" "$s"; fi
  done
  sleep 600
done

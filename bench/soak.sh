#!/usr/bin/env bash
# Soak test (not in CI): a long training run with its memory recorded after every epoch, to show
# that nothing grows. Trains PRESET (default seed) for EPOCHS (default 200) on MNIST into a run
# folder outside the work tree, and after each epoch's metrics row appears samples
#   - the process's resident memory (VmRSS and VmHWM from /proc/PID/status), and
#   - the live Java heap after a full GC (`jcmd PID GC.run`, then `GC.heap_info`'s "used"),
# into OUT/soak.csv (epoch, seconds since start, rss_kib, peak_rss_kib, heap_used_kib), then prints
# the growth of each over the last three quarters of the run (least-squares slope per 100 epochs).
#
#   bench/soak.sh [OUT=~/.cache/jvae/runs/soak] [EPOCHS=200] [PRESET=seed] [extra train options...]
#
# The forced GC after each epoch costs a few milliseconds; the training itself is unchanged.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$HOME/.cache/jvae/runs/soak}"
epochs="${2:-200}"
preset="${3:-seed}"
shift $(( $# < 3 ? $# : 3 ))
command -v jcmd >/dev/null || { echo "soak: jcmd (from the JDK) is not on the PATH" >&2; exit 1; }
mkdir -p "$out"
csv="$out/soak.csv"
echo "epoch,seconds,rss_kib,peak_rss_kib,heap_used_kib" > "$csv"
"$root/jvae" data fetch >/dev/null
"$root/jvae" train --preset "$preset" --epochs "$epochs" --out "$out/run" --overwrite --no-progress --device cpu "$@" \
  > "$out/train.log" 2>&1 &
launcher=$!
t0=$(date +%s)
# the JVM is the launcher's exec'd process: the same pid
pid=$launcher
sample() { # epoch
  local rss hwm heap
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo "")
  hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo "")
  jcmd "$pid" GC.run >/dev/null 2>&1 || true
  heap=$(jcmd "$pid" GC.heap_info 2>/dev/null | sed -n 's/.*total [0-9]*K, used \([0-9]*\)K.*/\1/p' | head -1)
  [ -n "$rss" ] && echo "$1,$(( $(date +%s) - t0 )),$rss,$hwm,${heap:-}" >> "$csv"
}
seen=0
while kill -0 "$pid" 2>/dev/null; do
  rows=$(grep -c '^epoch *[0-9]' "$out/train.log" 2>/dev/null || true)
  if [ "${rows:-0}" -gt "$seen" ]; then
    seen=$rows
    sample "$seen"
    echo "soak: epoch $seen/$epochs: $(tail -1 "$csv")"
  fi
  sleep 0.2
done
wait "$launcher" || { tail -5 "$out/train.log"; echo "soak: training failed" >&2; exit 1; }
# growth over the last three quarters (the first epochs warm up: JIT, G1 sizing)
awk -F, -v n="$epochs" 'NR > 1 && $1 > n / 4 && $5 != "" {
    k++; x = $1; sx += x; sxx += x * x
    sr += $3; sxr += x * $3; sh += $5; sxh += x * $5
    if (k == 1) { r0 = $3; h0 = $5 } r1 = $3; h1 = $5
  }
  END {
    if (k < 2) { print "soak: too few samples"; exit 1 }
    d = k * sxx - sx * sx
    printf "soak: epochs %d-%d (%d samples): RSS %.0f -> %.0f MiB, %+.2f MiB per 100 epochs; live heap %.1f -> %.1f MiB, %+.2f MiB per 100 epochs\n",
      n / 4 + 1, n, k, r0 / 1024, r1 / 1024, 100 * (k * sxr - sx * sr) / d / 1024, h0 / 1024, h1 / 1024, 100 * (k * sxh - sx * sh) / d / 1024
  }' "$csv"
echo "soak: $csv"

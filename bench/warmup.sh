#!/usr/bin/env bash
# What the JIT warm-up (io.jvae.train.Warmup) saves a whole `jvae train` run, side by side in one go:
#
#   bench/warmup.sh [BATCH=1024] [EPOCHS=3] [ROUNDS=4] [PRESET=pytorch]
#
# Each round runs the same training twice, alternating which goes first: as shipped ("on") and
# with -Djvae.warmup=false ("off"). Per run: epoch 1's seconds, all epochs' seconds, and the
# process's wall seconds (JVM start to exit). The machine drifts, so compare within a round; the
# summary is the median of the per-round ratios (off / on: above 1 means "on" saves time).
# ON_OPTS / OFF_OPTS replace the JVM options of the two sides (JVAE_JAVA_OPTS of ./jvae), to
# compare other start-up settings the same way, e.g.
#   ON_OPTS= OFF_OPTS=-XX:+TieredCompilation bench/warmup.sh    (./jvae's C2-only default vs tiered)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
batch="${1:-1024}" epochs="${2:-3}" rounds="${3:-4}" preset="${4:-pytorch}"
for v in "$batch" "$epochs" "$rounds"; do [[ "$v" =~ ^[1-9][0-9]*$ ]] || { echo "warmup.sh: BATCH, EPOCHS and ROUNDS must be positive integers" >&2; exit 2; }; done
"$root/jvae" data fetch > /dev/null
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
one() { # name, JVM options: prints "name epoch1 all wall"
  local t0 t1; t0=$(date +%s.%N)
  if ! JVAE_JAVA_OPTS="$2" "$root/jvae" train --preset "$preset" --batch "$batch" --epochs "$epochs" --no-progress --device cpu \
      --out "$tmp/$1" --overwrite > "$tmp/$1.log" 2>&1; then
    echo "warmup.sh: the run '$1' failed:" >&2; tail -5 "$tmp/$1.log" >&2; exit 1
  fi
  t1=$(date +%s.%N)
  awk -F, -v n="$1" -v t0="$t0" -v t1="$t1" 'NR == 2 { e1 = $9 } NR > 1 { s += $9 } END { printf "%s %.3f %.3f %.3f\n", n, e1, s, t1 - t0 }' "$tmp/$1/metrics.csv"
}
echo "on: JVAE_JAVA_OPTS='${ON_OPTS-}', off: JVAE_JAVA_OPTS='${OFF_OPTS--Djvae.warmup=false}'"
echo "jvae warm-up, $preset preset, batch $batch, $epochs epochs ($(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
echo "| round | side | epoch 1 s | all epochs s | process s |"
echo "|---|---|---|---|---|"
for r in $(seq "$rounds"); do
  if [ $((r % 2)) -eq 1 ]; then order="on off"; else order="off on"; fi
  for w in $order; do
    if [ "$w" = on ]; then one on "${ON_OPTS-}"; else one off "${OFF_OPTS--Djvae.warmup=false}"; fi > "$tmp/r$r-$w"
    read -r _ e1 all wall < "$tmp/r$r-$w"
    echo "| $r | $w | $e1 | $all | $wall |"
  done
done
python3 - "$tmp" "$rounds" <<'PY'
import sys, statistics as st
tmp, rounds = sys.argv[1], int(sys.argv[2])
val = lambda r, w: [float(x) for x in open("%s/r%d-%s" % (tmp, r, w)).read().split()[1:]]
q = [[a / b for a, b in zip(val(r, "off"), val(r, "on"))] for r in range(1, rounds + 1)]
print("median ratio off/on (above 1: the warm-up saves time): epoch 1 %.2fx, all epochs %.2fx, process %.2fx"
      % tuple(st.median(x[i] for x in q) for i in range(3)))
PY

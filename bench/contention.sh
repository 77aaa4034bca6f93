#!/usr/bin/env bash
# Training speed when the cores are not all jvae's, side by side in one run (bench/RESULTS.md):
#
#   bench/contention.sh [BATCHES] [ROUNDS]      default: 128,1024 and 2 rounds
#
# Per round, one after another, each `jvae bench --devices cpu` (pytorch preset):
#   idle          nothing else running, default threads (one per core)
#   idle-1t       nothing else running, -Djvae.threads=1 (the one-core speed)
#   busy          one core kept busy by another process (`yes > /dev/null`), default threads
#   busy-1t       the same with -Djvae.threads=1
#   two-at-once   two jvae benches started together, default threads: their samples/s summed
# The goals (issue #18): busy >= 90 % of idle-1t; two-at-once >= 90 % of idle.
# JAR=path runs another build (e.g. an older jar, to compare); JAVA_OPTS adds JVM options.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
batches="${1:-128,1024}" rounds="${2:-2}"
[[ "$batches" =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "contention.sh: BATCHES must be like 128,1024, got '$batches'" >&2; exit 2; }
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "contention.sh: ROUNDS must be >= 1, got '$rounds'" >&2; exit 2; }
if [ -z "${JAR:-}" ]; then
  ./jvae info > /dev/null 2>&1 || true # builds target/jvae.jar when needed
  JAR="$root/target/jvae.jar"
fi
export OPENBLAS_NUM_THREADS=1
bench() { # prints "batch samples/s" lines
  java --add-modules jdk.incubator.vector ${JAVA_OPTS:-} "$@" -jar "$JAR" bench --devices cpu --batches "$batches" --steps 100 --repeats 3 --json 2>/dev/null \
    | sed -n 's/.*"batch":\([0-9]*\),"samples_per_s":\([0-9.E]*\).*/\1 \2/p'
}
busy_pid=""
trap '[ -n "$busy_pid" ] && kill "$busy_pid" 2>/dev/null || true' EXIT
declare -A sum
row() { # name, then "batch rate" lines on stdin (not in a pipeline: sum must survive)
  local name=$1 b r
  while read -r b r; do
    printf '| %s | %s | %s | %.0f |\n' "$round" "$name" "$b" "$r"
    sum["$name,$b"]=$(awk -v a="${sum["$name,$b"]:-0}" -v x="$r" 'BEGIN { print a + x }')
  done
}
echo "jvae: $JAR ($(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(grep -o -m1 -w avx512f /proc/cpuinfo || echo 'no avx512'))"
echo "| round | situation | batch | samples/s |"
echo "|---|---|---|---|"
for round in $(seq 1 "$rounds"); do
  row idle < <(bench)
  row idle-1t < <(bench -Djvae.threads=1)
  yes > /dev/null & busy_pid=$!
  row busy < <(bench)
  row busy-1t < <(bench -Djvae.threads=1)
  kill "$busy_pid"; wait "$busy_pid" 2>/dev/null || true; busy_pid=""
  a=$(mktemp); b=$(mktemp)
  bench > "$a" & p1=$!; bench > "$b" & p2=$!; wait "$p1" "$p2"
  row two-at-once < <(paste "$a" "$b" | awk '{ print $1, $2 + $4 }')
  rm -f "$a" "$b"
done
echo
echo "| batch | idle | idle-1t | busy | busy/idle-1t (goal >= 0.90) | busy-1t | two at once, total | two/idle (goal >= 0.90) |"
echo "|---|---|---|---|---|---|---|---|"
for b in ${batches//,/ }; do
  awk -v b="$b" -v n="$rounds" -v i="${sum["idle,$b"]}" -v i1="${sum["idle-1t,$b"]}" -v bu="${sum["busy,$b"]}" \
      -v b1="${sum["busy-1t,$b"]}" -v t="${sum["two-at-once,$b"]}" \
      'BEGIN { printf "| %s | %.0f | %.0f | %.0f | %.2f | %.0f | %.0f | %.2f |\n", b, i/n, i1/n, bu/n, bu/i1, b1/n, t/n, t/i }'
done
echo "(means over $rounds rounds)"

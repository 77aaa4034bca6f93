#!/usr/bin/env bash
# The first run of jvae on an NVIDIA GPU, in one go (under 8 minutes on a card):
#
#   bench/gpu-check.sh OUT          on the machine's GPU (the real libcuda and cuBLAS 12)
#   bench/gpu-check.sh OUT --standin  the same on the CPU stand-ins (kernels/standin): tests this script
#
# 1. builds target/jvae.jar;
# 2. runs the GPU equivalence suite on the device (CudaBackendGpuTest: every op and 20 training
#    steps against the CPU; CudaStepGraphTest: CUDA Graph replay against eager launches and the
#    CPU, and a replayed step's counters; NvPtxCompilerTest, PtxSignatureTest, KernelEmulationTest);
# 3. `jvae info` (driver, device, cuBLAS, self-check verdict);
# 4. `jvae bench --devices all` with graphs on and off, at batches 128 ... 65536 (the CPU rows up to
#    4096: beyond, the CPU alone would take minutes);
# 5. `jvae bench --noise N` on the device: the noise kernel (Philox + Box-Muller in FP64) against a
#    plain write of the same N floats, i.e. whether FP64 noise costs anything on this card;
# 6. writes OUT/gpu-check.md (one Markdown table: samples/s, ms/step, GPU/CPU ratio, and each CUDA
#    row's counters per step) and OUT/bench.jsonl (every row as JSON: device, driver, timings,
#    counters), OUT/noise.jsonl, OUT/info.txt, OUT/tests.log.
#
# Environment: BATCHES (default 128,1024,4096,16384,65536; 128,1024 on the stand-ins), CPU_BATCHES
# (default 128,1024,4096; 128,1024 on the stand-ins), STEPS / WARMUP / REPEATS (default 50 / 10 / 3;
# 10 / 3 / 1 on the stand-ins), NOISE (floats per noise launch; default 16777216, 65536 on
# the stand-ins), SKIP_TESTS=1 (step 2 left out), SKIP_BUILD=1 (step 1 left
# out), PRESET (default pytorch), JVAE (the command that runs jvae; default ./jvae).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
[ $# -ge 1 ] || { echo "usage: bench/gpu-check.sh OUT [--standin]" >&2; exit 2; }
out="$(mkdir -p "$1" && cd "$1" && pwd)"
mode=card
[ "${2:-}" = "--standin" ] && mode=standin
cd "$root"
batches="${BATCHES:-128,1024,4096,16384,65536}"
cpu_batches="${CPU_BATCHES:-128,1024,4096}"
steps="${STEPS:-50}" warmup="${WARMUP:-10}" repeats="${REPEATS:-3}" preset="${PRESET:-pytorch}"
if [ "$mode" = standin ]; then
  # the stand-ins run a step of batch 16384 in ~4 s (every access of every kernel checked): the card's
  # defaults took over 20 minutes there; these test the script in ~3
  batches="${BATCHES:-128,1024}" cpu_batches="${CPU_BATCHES:-128,1024}"
  steps="${STEPS:-10}" warmup="${WARMUP:-3}" repeats="${REPEATS:-1}"
fi
read -r -a jvae <<< "${JVAE:-./jvae}"
t0=$(date +%s)
say() { echo "gpu-check [$(( $(date +%s) - t0 ))s]: $*"; }

if [ "$mode" = standin ]; then
  run() { kernels/standin/run "$@"; }
  card_flag=""
  say "on the CPU stand-ins for libcuda.so.1 and libcublas.so.12 (NOT a GPU)"
else
  run() { "$@"; }
  card_flag="-Djvae.cuda=card"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$out/nvidia-smi.txt" || true
fi

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  say "building"
  mvn -B -q -Dmaven.test.skip=true package > "$out/build.log" 2>&1 || { tail -30 "$out/build.log"; echo "gpu-check: build failed" >&2; exit 1; }
fi

if [ "${SKIP_TESTS:-0}" != 1 ]; then
  say "GPU equivalence suite ($mode)"
  if mvn -B test $card_flag -Dsurefire.failIfNoSpecifiedTests=false \
       -Dtest='CudaBackendGpuTest,CudaStepGraphTest,NvPtxCompilerTest,PtxSignatureTest,KernelEmulationTest' > "$out/tests.log" 2>&1; then
    tests="passed"
  else
    tests="FAILED (see tests.log)"
  fi
  grep -E 'Tests run:|FAIL' "$out/tests.log" | tail -8 || true
else
  tests="not run (SKIP_TESTS=1)"
fi

say "jvae info"
run "${jvae[@]}" info > "$out/info.txt" 2>&1 || true

say "bench: CPU rows ($cpu_batches)"
run "${jvae[@]}" bench --devices cpu --preset "$preset" --batches "$cpu_batches" --steps "$steps" --warmup-steps "$warmup" \
  --repeats "$repeats" --json > "$out/bench.jsonl" 2> "$out/bench.err" \
  || { cat "$out/bench.err" >&2; echo "gpu-check: the CPU bench failed" >&2; exit 1; }
say "bench: CUDA rows ($batches), graphs on and off"
run "${jvae[@]}" bench --devices cuda --preset "$preset" --batches "$batches" --steps "$steps" --warmup-steps "$warmup" \
  --repeats "$repeats" --cuda-graph both --json >> "$out/bench.jsonl" 2>> "$out/bench.err" \
  || { cat "$out/bench.err" >&2; echo "gpu-check: the CUDA bench failed" >&2; exit 1; }

say "noise: FP64 Box-Muller against a plain write"
if [ "$mode" = standin ]; then noise="${NOISE:-65536}"; else noise="${NOISE:-16777216}"; fi
run "${jvae[@]}" bench --devices cuda --preset "$preset" --batches 1 --steps 1 --warmup-steps 0 --repeats "$repeats" \
  --noise "$noise" --json 2>> "$out/bench.err" | grep '"noise"' > "$out/noise.jsonl" \
  || { cat "$out/bench.err" >&2; echo "gpu-check: the noise bench failed" >&2; exit 1; }

# one Markdown table from the JSON rows (flat objects; fields read with awk, no jq needed)
field() { sed -n "s/.*\"$1\":\\(\"[^\"]*\"\\|[^,}]*\\).*/\\1/p" <<< "$2" | tr -d '"'; }
dash() { local v; v=$(field "$1" "$2"); echo "${v:--}"; }
{
  echo "# jvae gpu-check ($mode), $(date -u +%Y-%m-%dT%H:%MZ), jvae $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo
  [ "$mode" = standin ] && echo "**CPU stand-ins, not a GPU: the timings say nothing about a card.**" && echo
  [ -f "$out/nvidia-smi.txt" ] && echo "nvidia-smi: $(cat "$out/nvidia-smi.txt")" && echo
  echo "Equivalence suite: $tests. Preset $preset; $warmup warm-up steps, $repeats x $steps timed steps per row."
  echo
  echo '```'
  cat "$out/info.txt"
  echo '```'
  echo
  echo "| backend | graph | batch | samples/s | ms/step | vs cpu | launches/step | graph launches/step | host syncs/step | device allocs/step | H2D B/step | D2H B/step |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  declare -A cpu_rate=()
  while IFS= read -r line; do
    [ "$(field backend "$line")" = cpu ] && cpu_rate[$(field batch "$line")]=$(field samples_per_s "$line")
  done < "$out/bench.jsonl"
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    be=$(field backend "$line"); g=$(field cuda_graph "$line"); b=$(field batch "$line"); r="-"
    if [ "$be" != cpu ] && [ -n "${cpu_rate[$b]:-}" ]; then
      r=$(awk -v a="$(field samples_per_s "$line")" -v c="${cpu_rate[$b]}" 'BEGIN { printf "%.2fx", a / c }')
    fi
    printf '| %s | %s | %s | %.0f | %.3f | %s | %s | %s | %s | %s | %s | %s |\n' "$be" "${g:--}" "$b" \
      "$(field samples_per_s "$line")" "$(field ms_median "$line")" "$r" "$(dash launches_per_step "$line")" \
      "$(dash graph_launches_per_step "$line")" "$(dash host_syncs_per_step "$line")" "$(dash device_allocs_per_step "$line")" \
      "$(dash h2d_bytes_per_step "$line")" "$(dash d2h_bytes_per_step "$line")"
  done < "$out/bench.jsonl"
  echo
  while IFS= read -r line; do
    awk -v n="$(field normals_per_s "$line")" -v g="$(field noise_gb_per_s "$line")" -v w="$(field write_gb_per_s "$line")" \
        -v q="$(field noise_vs_write "$line")" -v d="$(field device "$line")" -v e="$(field elements "$line")" \
      'BEGIN { printf "Noise on %s (%d floats a launch): %.3g normals/s, %.1f GB/s written, against %.1f GB/s for a plain write: %.2f of the write speed (FP64 Box-Muller; near 1: an FP32 variant could gain nothing on this card).\n", d, e, n, g, w, q }'
  done < "$out/noise.jsonl"
  echo
  echo "Device: $(grep -m1 -o '"device":"[^"]*"' "$out/bench.jsonl" | cut -d'"' -f4)"
} > "$out/gpu-check.md"
say "wrote $out/gpu-check.md and $out/bench.jsonl"
cat "$out/gpu-check.md"

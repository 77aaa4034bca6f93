#!/usr/bin/env bash
# jvae vs PyTorch on the same preset, batch and epochs, side by side in one go (CPU, MNIST).
#   bench/compare.sh [preset=pytorch] [batch=128] [epochs=3] [rounds=3]
# Needs Debian's python3-torch with OpenBLAS under it (apt-get install python3-torch libopenblas0-pthread) and
# MNIST (./jvae data fetch).
# First PyTorch tries every thread setting (bench/pytorch_vae.py --sweep) and keeps its best;
# then `rounds` times: jvae as shipped, then PyTorch with that best setting, back to back. A
# shared machine drifts by tens of percent over minutes, so each round gives a ratio of two runs
# made under the same conditions, and the summary is the median of those ratios. Round r trains
# both with seed r, so the test losses compare over `rounds` seeds (mean and sd), not one.
# Three ratios: steady samples/s (median epoch), training seconds (every epoch summed, the first
# with its JIT cost) and process seconds (start to exit: the JVM, data loading and warm-up against
# the Python start, `import torch` and its data loading).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
preset="${1:-pytorch}"; batch="${2:-128}"; epochs="${3:-3}"; rounds="${4:-3}"
case "$batch$epochs$rounds" in *[!0-9]*|'') echo "compare.sh: batch, epochs and rounds must be positive integers" >&2; exit 2;; esac
[ "$rounds" -ge 1 ] && [ "$epochs" -ge 1 ] || { echo "compare.sh: epochs and rounds must be >= 1" >&2; exit 2; }
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
# Debian's python3-torch lives under /usr/bin/python3 (a pyenv python3 on the PATH may not see it)
py="${PYTHON:-}"
if [ -z "$py" ]; then
  for cand in /usr/bin/python3 python3; do
    if "$cand" -c "import torch" 2>/dev/null; then py="$cand"; break; fi
  done
fi
[ -n "$py" ] || { echo "compare.sh: no python3 with torch (apt-get install python3-torch libopenblas0-pthread)" >&2; exit 2; }
# Debian's torch multiplies through whatever libblas.so.3 resolves to: without OpenBLAS installed that is
# the reference BLAS (python3-torch pulls in libblas3), and PyTorch then runs ~25x slower (1,500 samples/s
# at batch 128, seen 2026-12-04): no peer to measure against
# (the libblas.so.3 mapped into torch's process: Debian's reference one lives in .../blas/, as jvae's own check reads it;
# LAPACK may still come from OpenBLAS then, so "openblas mapped" alone proves nothing)
peer_blas="$("$py" -c 'import torch; torch.randn(64, 64) @ torch.randn(64, 64); print(" ".join(sorted({l.split()[-1] for l in open("/proc/self/maps") if "/libblas.so.3" in l})))')"
case " $peer_blas" in
  *" "*/blas/libblas.so.3*|" ") echo "compare.sh: PyTorch multiplies on the reference BLAS (${peer_blas:-no libblas.so.3 mapped}): apt-get install libopenblas0-pthread" >&2; exit 2;;
esac
# OPENBLAS_CORETYPE forces one set of kernels on every OpenBLAS in the process tree. Some machine images
# set it (Haswell on 2026-12-04's AVX-512 machine): PyTorch's OpenBLAS then ran at 16-22k samples/s
# at batch 128 against 24-27k with its own choice (Cooperlake), and jvae at 36-38k against 46-49k
# (bench/RESULTS.md). Each side is measured at its best, so each OpenBLAS picks its kernels for the CPU
# unless JVAE_COMPARE_KEEP_CORETYPE=1.
if [ -n "${OPENBLAS_CORETYPE:-}" ] && [ "${JVAE_COMPARE_KEEP_CORETYPE:-}" != 1 ]; then
  echo "compare.sh: OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE cleared for both sides (each OpenBLAS picks its kernels for this CPU; JVAE_COMPARE_KEEP_CORETYPE=1 keeps it)" >&2
  unset OPENBLAS_CORETYPE
fi
peer_core="$(OPENBLAS_VERBOSE=2 "$py" -c 'import torch; torch.randn(64, 64) @ torch.randn(64, 64)' 2>&1 | sed -n 's/^Core: //p' | head -1)"
jvae_core="$("$root/jvae" info 2>/dev/null | sed -n 's/.*kernels for \([A-Za-z0-9]*\).*/\1/p' | head -1)" # also builds the jar now if the sources changed
echo "== PyTorch, sweeping thread settings ($preset, batch $batch, $epochs epochs)" >&2
"$py" "$root/bench/pytorch_vae.py" --preset "$preset" --batch "$batch" --epochs "$epochs" --sweep | tee "$tmp/sweep.jsonl" >&2
read -r threads ob < <("$py" -c 'import json,sys; b=[json.loads(l)["best"] for l in open(sys.argv[1]) if l.startswith("{\"best\"")][0]; print(b["threads"], b["openblas_threads"])' "$tmp/sweep.jsonl")
for r in $(seq "$rounds"); do
  echo "== round $r/$rounds: jvae" >&2
  t0=$(date +%s.%N)
  "$root/jvae" train --preset "$preset" --batch "$batch" --epochs "$epochs" --seed "$r" --out "$tmp/jvae$r" --no-progress --device cpu 2>/dev/null >&2
  echo "$t0 $(date +%s.%N)" > "$tmp/wall-jvae$r"
  echo "== round $r/$rounds: PyTorch, $threads intra-op thread(s), $ob OpenBLAS thread(s)" >&2
  t0=$(date +%s.%N)
  OPENBLAS_NUM_THREADS="$ob" OMP_NUM_THREADS="$ob" "$py" "$root/bench/pytorch_vae.py" --preset "$preset" --batch "$batch" \
    --epochs "$epochs" --threads "$threads" --seed "$r" | tee "$tmp/torch$r.jsonl" >&2
  echo "$t0 $(date +%s.%N)" > "$tmp/wall-torch$r"
done
"$py" - "$tmp" "$preset" "$batch" "$epochs" "$rounds" "$threads" "$ob" "${jvae_core:-?}" "${peer_core:-?}" "${OPENBLAS_CORETYPE:-}" <<'PY'
import csv, json, sys, statistics as st
tmp, preset, batch, epochs, rounds, threads, ob, jcore, tcore, forced = sys.argv[1:11]
rows = []
for r in range(1, int(rounds) + 1):
    jv = list(csv.DictReader(open("%s/jvae%d/metrics.csv" % (tmp, r))))
    tv = [json.loads(l) for l in open("%s/torch%d.jsonl" % (tmp, r)) if l.startswith("{")]
    j, t = st.median(float(e["samples_per_s"]) for e in jv), st.median(e["samples_per_s"] for e in tv)
    # seconds of training over all epochs, the first included (jvae's JIT warm-up is paid there)
    js, ts = sum(float(e["seconds"]) for e in jv), sum(e["seconds"] for e in tv)
    # the whole process, start to exit: JVM start, class loading, data, warm-up / Python start, import torch, data
    jw, tw = [(lambda a, b: b - a)(*map(float, open("%s/wall-%s%d" % (tmp, who, r)).read().split())) for who in ("jvae", "torch")]
    rows.append((r, j, t, j / t, float(jv[-1]["test_loss"]), tv[-1]["test_loss"], js, ts, ts / js, jw, tw, tw / jw))
print("%s preset, batch %s, %s epochs; PyTorch's best thread setting: %s intra-op, %s OpenBLAS" % (preset, batch, epochs, threads, ob))
print("OpenBLAS kernels: jvae %s, PyTorch %s (%s)" % (jcore, tcore, "OPENBLAS_CORETYPE=" + forced + ", kept" if forced else "each OpenBLAS's own choice"))
print("samples/s: the median over epochs; training s: all epochs summed (the first included); process s: start to exit")
print("| round (= seed) | jvae samples/s | PyTorch samples/s | ratio | jvae training s | PyTorch training s | ratio | jvae process s | PyTorch process s | ratio | jvae test loss | PyTorch test loss |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for r, j, t, q, jl, tl, js, ts, tq, jw, tw, wq in rows:
    print("| %d | %.0f | %.0f | %.2fx | %.2f | %.2f | %.2fx | %.2f | %.2f | %.2fx | %.2f | %.2f |" % (r, j, t, q, js, ts, tq, jw, tw, wq, jl, tl))
print("| median | %.0f | %.0f | **%.2fx** | %.2f | %.2f | **%.2fx** | %.2f | %.2f | **%.2fx** | | |" % tuple(st.median(x[i] for x in rows) for i in (1, 2, 3, 6, 7, 8, 9, 10, 11)))
jl, tl = [x[4] for x in rows], [x[5] for x in rows]
sd = lambda v: st.stdev(v) if len(v) > 1 else float("nan")
print("test loss after %s epochs over seeds 1-%d: jvae %.2f (sd %.2f), PyTorch %.2f (sd %.2f), difference %+.2f nat"
      % (epochs, len(rows), st.mean(jl), sd(jl), st.mean(tl), sd(tl), st.mean(jl) - st.mean(tl)))
PY

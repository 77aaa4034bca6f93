#!/usr/bin/env bash
# jvae vs PyTorch on the same preset, batch and epochs, in one go (CPU, MNIST).
#   bench/compare.sh [preset=pytorch] [batch=128] [epochs=3]
# Needs Debian's python3-torch (apt-get install python3-torch) and MNIST (./jvae data fetch).
# PyTorch is given its best thread setting (bench/pytorch_vae.py --sweep); jvae runs as shipped.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
preset="${1:-pytorch}"; batch="${2:-128}"; epochs="${3:-3}"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
# Debian's python3-torch lives under /usr/bin/python3 (a pyenv python3 on the PATH may not see it)
py="${PYTHON:-}"
if [ -z "$py" ]; then
  for cand in /usr/bin/python3 python3; do
    if "$cand" -c "import torch" 2>/dev/null; then py="$cand"; break; fi
  done
fi
[ -n "$py" ] || { echo "compare.sh: no python3 with torch (apt-get install python3-torch)" >&2; exit 2; }
echo "== jvae ($preset, batch $batch, $epochs epochs)" >&2
"$root/jvae" train --preset "$preset" --batch "$batch" --epochs "$epochs" --out "$tmp/jvae" --no-progress --device cpu 2>/dev/null | tee "$tmp/jvae.log" >&2
echo "== PyTorch, sweeping thread settings" >&2
"$py" "$root/bench/pytorch_vae.py" --preset "$preset" --batch "$batch" --epochs "$epochs" --sweep | tee "$tmp/torch.jsonl" >&2
"$py" - "$tmp/jvae/metrics.csv" "$tmp/torch.jsonl" "$preset" "$batch" "$epochs" <<'PY'
import csv, json, sys, statistics
jv = list(csv.DictReader(open(sys.argv[1])))
best = [json.loads(l)["best"] for l in open(sys.argv[2]) if l.startswith('{"best"')][0]
j_sps = statistics.median(float(r["samples_per_s"]) for r in jv)
t_sps = best["samples_per_s_median"]
print("| preset | batch | epochs | jvae samples/s | PyTorch best samples/s (threads/OpenBLAS) | ratio | jvae test loss | PyTorch test loss |")
print("|---|---|---|---|---|---|---|---|")
print("| %s | %s | %s | %.0f | %.0f (%d/%d) | %.2fx | %.2f | %.2f |" % (sys.argv[3], sys.argv[4], sys.argv[5], j_sps, t_sps,
      best["threads"], best["openblas_threads"], j_sps / t_sps, float(jv[-1]["test_loss"]), best["epochs"][-1]["test_loss"]))
PY

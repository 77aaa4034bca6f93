#!/usr/bin/env bash
# The IWAE-paper runs' -log p(x) against epochs (issue #21): scores every snapshot that
# bench/iwae-snapshots.sh kept (a copy of best.safetensors every 10 minutes, named by
# the epochs run) with K importance samples on the first N test digits, once each, into a CSV.
#
#   bench/iwae-curve.sh [K=5000] [N=1000] [DIR=~/.cache/jvae/runs]     -> DIR/iwae-curve.csv
#
# Each row: run, epochs run, the snapshot's best epoch and its test -ELBO (from metrics.jsonl),
# -log p(x), its standard error, and the ELBO on those N digits. Rows already there are kept.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
k="${1:-5000}" n="${2:-1000}" dir="${3:-$HOME/.cache/jvae/runs}"
[[ "$k$n" =~ ^[0-9]+$ ]] || { echo "iwae-curve.sh: K and N must be positive integers" >&2; exit 2; }
csv="$dir/iwae-curve.csv"
[ -f "$csv" ] || echo "run,epochs_run,best_epoch,best_test_elbo,k,n,nll,nll_se,elbo_on_n" > "$csv"
shopt -s nullglob
for f in "$dir"/snapshots/*-epoch*.safetensors; do
  b=$(basename "$f" .safetensors); run=${b%-epoch*}; e=${b##*-epoch}
  grep -q "^$run,$e,.*,$k,$n," "$csv" && continue
  best=$(python3 -c 'import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])][:int(sys.argv[2])]
b=min(rows, key=lambda r: r["test_loss"]); print("%d,%.4f" % (b["epoch"], b["test_loss"]))' "$dir/$run/metrics.jsonl" "$e")
  out=$("$root/jvae" eval "$f" --binarize --iw "$k" --count "$n" --iw-chunk 250 --device cpu 2>/dev/null)
  nll=$(echo "$out" | sed -n 's/^NLL.*~ \([0-9.]*\) +- \([0-9.]*\).*/\1,\2/p')
  elbo=$(echo "$out" | sed -n 's/^test.*loss \([0-9.]*\) .*/\1/p')
  [ -n "$nll" ] && [ -n "$elbo" ] || { echo "iwae-curve.sh: no NLL for $f" >&2; echo "$out" | tail -3 >&2; exit 1; }
  echo "$run,$e,$best,$k,$n,$nll,$elbo" | tee -a "$csv"
done

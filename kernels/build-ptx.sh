#!/usr/bin/env bash
# Builds kernels/vae_kernels.cu to PTX that CUDA 12 drivers can JIT for compute capability 6.0+.
#
#   kernels/build-ptx.sh [OUT]        default OUT: src/main/resources/io/jvae/cuda/vae_kernels.ptx (committed)
#   kernels/build-ptx.sh --if-nvcc OUT  the same, but exit 0 with a note when nvcc is missing (Maven uses this)
#   kernels/build-ptx.sh --report       ptxas register/spill report for sm_75, sm_80, sm_90
#
# nvcc 13.0 accepts compute_75 at the lowest and always writes `.version 9.0` (PTX ISA 9.0, which
# only CUDA 13 drivers load) and `.target sm_75` (which a driver refuses on a V100 or P100), with
# no option to choose either. The code needs neither, so we rewrite the two directives after the
# build and prove with ptxas 13.0 (sm_75, sm_80, sm_90) that the machine code is unchanged:
#
# 1. `.version`: lowered to the oldest ISA that ptxas accepts AND that yields cubins byte-identical
#    to the unlowered PTX's (ptxas rejects a version older than a feature the code uses). Here 6.3.
# 2. `.target sm_75` -> `.target sm_60`: ptxas 13.0 accepts PTX targeting sm_60 for -arch=sm_75 and
#    newer (a PTX target is a floor, not a ceiling), but it cannot compile for sm_60 itself (sm_5x to
#    sm_7.0 were dropped in CUDA 13), and its cubins are NOT byte-identical: they differ in exactly
#    one byte, the virtual-architecture field of the `.note.nv.cuinfo` ELF note (75 vs 60), which
#    records which PTX target the cubin came from. The honest equivalent proof, checked below for
#    each arch: `cmp -l` lists exactly one differing byte, it sits at offset 26 of .note.nv.cuinfo
#    (the u16 after the 12-byte header, the 12-byte name "NVIDIA Corp" and the u16 note version),
#    and it is 75 in the reference and 60 in the retargeted cubin. Every instruction, register
#    count, .nv.info attribute and symbol is therefore identical.
#    That sm_60, sm_61 and sm_70 themselves compile (no spills, every kernel present) is checked by
#    NvPtxCompilerTest with the CUDA 12.0 PTX compiler shipped in JCuda's natives jar.
#
# The build is byte-reproducible, which the freshness test (PtxFreshnessTest) relies on.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
if_nvcc=0
report=0
case "${1:-}" in
  --if-nvcc) if_nvcc=1; shift ;;
  --report) report=1; shift ;;
esac
out="${1:-$root/src/main/resources/io/jvae/cuda/vae_kernels.ptx}"
if ! command -v nvcc >/dev/null 2>&1; then
  if [ "$if_nvcc" = 1 ]; then echo "build-ptx: nvcc not on PATH; using the committed PTX"; exit 0; fi
  echo "build-ptx: nvcc not on PATH" >&2; exit 1
fi
ARCHS="sm_75 sm_80 sm_90"
NVCC_FLAGS="-ptx -arch=compute_75 --fmad=false -O3 -std=c++17"
TARGET=sm_60   # compute capability 6.0 (P100) is the oldest the project supports
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
nvcc $NVCC_FLAGS -o "$tmp/raw.ptx" "$here/vae_kernels.cu"
grep -q '^\.version 9\.0$' "$tmp/raw.ptx" || { echo "build-ptx: expected .version 9.0 from nvcc" >&2; exit 1; }
grep -q '^\.target sm_75$' "$tmp/raw.ptx" || { echo "build-ptx: expected .target sm_75 from nvcc" >&2; exit 1; }

if [ "$report" = 1 ]; then
  for a in $ARCHS; do
    echo "== $a"
    ptxas -arch=$a -v "$tmp/raw.ptx" -o /dev/null 2>&1 \
      | awk '/Compiling entry function/ {k=$7; gsub(/\x27/,"",k)}
             /bytes stack frame/ {s=$1 " B stack, " $5 " B spill stores, " $9 " B spill loads"}
             /Used [0-9]+ registers/ {printf "  %-20s %3d registers, %s\n", k, $5, s}'
  done
  exit 0
fi

for a in $ARCHS; do ptxas -arch=$a "$tmp/raw.ptx" -o "$tmp/ref_$a.cubin"; done

# ---- 1. .version: the oldest ISA with byte-identical cubins
chosen=""
for v in 6.3 6.4 6.5 7.0 7.1 7.2 7.3 7.4 7.5 7.6 7.7 7.8 8.0 8.1 8.2 8.3 8.4 8.5 8.6 8.7 8.8 9.0; do
  sed "s/^\.version 9\.0$/.version $v/" "$tmp/raw.ptx" > "$tmp/low.ptx"
  ok=1
  for a in $ARCHS; do
    if ! ptxas -arch=$a "$tmp/low.ptx" -o "$tmp/low_$a.cubin" 2>/dev/null || ! cmp -s "$tmp/low_$a.cubin" "$tmp/ref_$a.cubin"; then ok=0; break; fi
  done
  if [ "$ok" = 1 ]; then chosen=$v; break; fi
done
[ -n "$chosen" ] || { echo "build-ptx: no PTX ISA version <= 9.0 accepted" >&2; exit 1; }
sed "s/^\.version 9\.0$/.version $chosen/" "$tmp/raw.ptx" > "$tmp/low.ptx"

# ---- 2. .target: sm_75 -> $TARGET, cubins equal but for the cuinfo note's virtual-arch byte
sed "s/^\.target sm_75$/.target $TARGET/" "$tmp/low.ptx" > "$tmp/final.ptx"
want_new="${TARGET#sm_}"
for a in $ARCHS; do
  ptxas -arch=$a "$tmp/final.ptx" -o "$tmp/final_$a.cubin" \
    || { echo "build-ptx: ptxas -arch=$a refused .target $TARGET" >&2; exit 1; }
  # the note's file offset, from readelf's section table: "[ 6] .note.nv.cuinfo NOTE addr off size ..."
  # (awk reads to the end: an early `exit` lets readelf die of SIGPIPE, which pipefail turned into exit 141)
  note_off=$(readelf -S -W "$tmp/ref_$a.cubin" 2>/dev/null | awk '!found && $0 ~ /\.note\.nv\.cuinfo / {
      for (i = 1; i <= NF; i++) if ($i == "NOTE") { print $(i + 2); found = 1; break } }')
  [ -n "$note_off" ] || { echo "build-ptx: no .note.nv.cuinfo in the $a cubin" >&2; exit 1; }
  # cmp -l: 1-based position, then both bytes in octal
  diff_lines=$(cmp -l "$tmp/ref_$a.cubin" "$tmp/final_$a.cubin" || true)
  expect="$((16#$note_off + 26 + 1)) $(printf '%o' 75) $(printf '%o' "$want_new")"
  if [ "$(echo "$diff_lines" | awk '{print $1, $2, $3}')" != "$expect" ]; then
    echo "build-ptx: $a cubin of the .target $TARGET PTX differs from the sm_75 one beyond the" >&2
    echo "  .note.nv.cuinfo virtual-arch byte (expected only \"$expect\"; cmp -l says:)" >&2
    echo "$diff_lines" | head -20 >&2; exit 1
  fi
done

mkdir -p "$(dirname "$out")"
{
  echo "// jvae: generated by kernels/build-ptx.sh from kernels/vae_kernels.cu -- do not edit."
  echo "// nvcc $NVCC_FLAGS ($(nvcc --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')); .version lowered 9.0 -> $chosen,"
  echo "// the oldest ISA for which ptxas ($ARCHS) accepts it and emits byte-identical cubins;"
  echo "// .target sm_75 -> $TARGET, with cubins identical but for the .note.nv.cuinfo virtual-arch byte."
  cat "$tmp/final.ptx"
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "build-ptx: wrote $out (PTX ISA $chosen, .target $TARGET, checked with ptxas for $ARCHS)"

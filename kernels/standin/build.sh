#!/usr/bin/env bash
# Builds the CPU stand-ins for NVIDIA's libcuda.so.1 and libcublas.so.12 (docs/gpu.md):
#
#   kernels/standin/build.sh [OUTDIR]            default OUTDIR: target/standin
#   kernels/standin/build.sh --if-gxx [OUTDIR]   exit 0 with a note when g++ is missing (Maven uses this)
#
# OUTDIR/lib         libcuda.so.1 + libcublas.so.12: put it on LD_LIBRARY_PATH (kernels/standin/run does)
# OUTDIR/driver-only libcuda.so.1 alone: a machine with the NVIDIA driver but no cuBLAS 12
#
# Every function JCuda's JNI libraries import and the stand-ins do not implement gets a generated
# stub that says so on stderr and returns "not supported", so the libraries also load under
# LD_BIND_NOW=1. The import lists are read (nm -D) from the JNI libraries inside the JCuda natives
# jars in the local Maven repository (run `mvn -B package -Dmaven.test.skip` once to fetch them).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if_gxx=0
if [ "${1:-}" = "--if-gxx" ]; then if_gxx=1; shift; fi
out="$(mkdir -p "${1:-$root/target/standin}" && cd "${1:-$root/target/standin}" && pwd)"
if ! command -v g++ >/dev/null 2>&1 || ! command -v nm >/dev/null 2>&1; then
  if [ "$if_gxx" = 1 ]; then echo "standin: g++ or nm not on the PATH; the CUDA stand-in tests will be skipped"; exit 0; fi
  echo "standin: g++ and nm (binutils) are needed" >&2; exit 1
fi

# Up to date? (sources, this script and the kernels are the inputs)
stamp="$out/.inputs"
inputs="$(cat "$here"/*.cpp "$here"/*.h "$here"/build.sh "$root/kernels/vae_kernels.cu" "$root/kernels/emulate/host_cuda.h" 2>/dev/null | cksum)"
if [ -f "$out/lib/libcuda.so.1" ] && [ -f "$out/lib/libcublas.so.12" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$inputs" ]; then
  echo "standin: up to date in $out"; exit 0
fi

repo="${MAVEN_REPO:-$HOME/.m2/repository}"
jv=12.6.0
drv_jar="$repo/org/jcuda/jcuda-natives/$jv/jcuda-natives-$jv-linux-x86_64.jar"
blas_jar="$repo/org/jcuda/jcublas-natives/$jv/jcublas-natives-$jv-linux-x86_64.jar"
for j in "$drv_jar" "$blas_jar"; do
  [ -f "$j" ] || { echo "standin: $j missing (run: mvn -B -q -Dmaven.test.skip=true package)" >&2; exit 1; }
done
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && unzip -q -o "$drv_jar" "lib/libJCudaDriver-$jv-linux-x86_64.so" 2>/dev/null \
   || jar xf "$drv_jar" "lib/libJCudaDriver-$jv-linux-x86_64.so")
(cd "$tmp" && unzip -q -o "$blas_jar" "lib/libJCublas2-$jv-linux-x86_64.so" 2>/dev/null \
   || jar xf "$blas_jar" "lib/libJCublas2-$jv-linux-x86_64.so")

CXX="g++ -std=c++17 -O2 -fPIC -fvisibility=hidden -Wall -Wno-unused-function"
mkdir -p "$out/lib" "$out/driver-only"

# stubs.cpp for every import of $1 (a JNI library) matching $2 that the objects $3... do not define
gen_stubs() {
  local jni="$1" pattern="$2"; shift 2
  nm -D --defined-only "$@" | awk '{print $3}' | sed 's/@.*//' | sort -u > "$tmp/defined"
  nm -D --undefined-only "$jni" | awk '{print $2}' | sed 's/@.*//' | grep -E "$pattern" | sort -u > "$tmp/imported"
  echo '#include "standin.h"'
  comm -23 "$tmp/imported" "$tmp/defined" | while read -r f; do
    echo "extern \"C\" __attribute__((visibility(\"default\"))) int $f(void) { return jvae_standin_unsupported(\"$f\"); }"
  done
}

# ---- libcuda.so.1: the driver (cuda.cpp, streams.cpp), with the g++ build of vae_kernels.cu instrumented for bounds and races ----
# kernels.cpp is compiled with -fsanitize=thread for its compiler instrumentation only: every load
# and store of a kernel calls __tsan_readN/__tsan_writeN, which kernels.cpp defines itself
# (no libtsan is linked).
$CXX -ffp-contract=off -DJVAE_EMULATE -fsanitize=thread -I"$root/kernels" -c "$here/kernels.cpp" -o "$tmp/kernels.o"
$CXX -I"$here" -c "$here/cuda.cpp" -o "$tmp/cuda.o"
$CXX -I"$here" -c "$here/streams.cpp" -o "$tmp/streams.o"
$CXX -I"$here" -c "$here/checks.cpp" -o "$tmp/checks.o"
objs=("$tmp/cuda.o" "$tmp/streams.o" "$tmp/checks.o" "$tmp/kernels.o")
$CXX -shared -o "$tmp/probe.so" "${objs[@]}" -ldl -lpthread
gen_stubs "$tmp/lib/libJCudaDriver-$jv-linux-x86_64.so" '^cu' "$tmp/probe.so" > "$tmp/cuda_stubs.cpp"
$CXX -I"$here" -c "$tmp/cuda_stubs.cpp" -o "$tmp/cuda_stubs.o"
$CXX -shared -Wl,-soname,libcuda.so.1 -Wl,-z,defs -o "$out/lib/libcuda.so.1" \
  "${objs[@]}" "$tmp/cuda_stubs.o" -ldl -lpthread
cp "$out/lib/libcuda.so.1" "$out/driver-only/libcuda.so.1"

# ---- libcublas.so.12: GEMM/GEMV through the CPU BLAS, every symbol versioned @libcublas.so.12 ----
printf 'libcublas.so.12 { global: cublas*; local: *; };\n' > "$tmp/cublas.map"
$CXX -I"$here" -c "$here/cublas.cpp" -o "$tmp/cublas.o"
$CXX -shared -o "$tmp/cublas_probe.so" "$tmp/cublas.o" -L"$out/lib" -l:libcuda.so.1 -ldl -lpthread
gen_stubs "$tmp/lib/libJCublas2-$jv-linux-x86_64.so" '^cublas' "$tmp/cublas_probe.so" > "$tmp/cublas_stubs.cpp"
$CXX -I"$here" -c "$tmp/cublas_stubs.cpp" -o "$tmp/cublas_stubs.o"
$CXX -shared -Wl,-soname,libcublas.so.12 -Wl,--version-script="$tmp/cublas.map" -Wl,-z,defs \
  -o "$out/lib/libcublas.so.12" "$tmp/cublas.o" "$tmp/cublas_stubs.o" -L"$out/lib" -l:libcuda.so.1 -ldl -lpthread

# ---- jvae's bundled OpenBLAS beside the stand-ins (cublas.cpp finds it at ../openblas/): no BLAS package needed ----
ob_ver=0.3.31-1.5.13
case "$(uname -m)" in x86_64) ob_plat=linux-x86_64 ;; aarch64) ob_plat=linux-arm64 ;; *) ob_plat="" ;; esac
ob_jar="$repo/org/bytedeco/openblas/$ob_ver/openblas-$ob_ver-$ob_plat.jar"
if [ -n "$ob_plat" ] && [ -f "$ob_jar" ]; then
  mkdir -p "$out/openblas"
  for f in libopenblas.so.0 libgfortran.so.5 libquadmath.so.0 libgcc_s.so.1; do
    (cd "$tmp" && unzip -q -o "$ob_jar" "org/bytedeco/openblas/$ob_plat/$f" 2>/dev/null || jar xf "$ob_jar" "org/bytedeco/openblas/$ob_plat/$f")
    cp "$tmp/org/bytedeco/openblas/$ob_plat/$f" "$out/openblas/$f"
  done
fi

# every import of the JNI libraries must resolve now (what LD_BIND_NOW=1 demands at load time)
for pair in "libJCudaDriver:$out/lib/libcuda.so.1" "libJCublas2:$out/lib/libcublas.so.12"; do
  jni="$tmp/lib/${pair%%:*}-$jv-linux-x86_64.so"; lib="${pair#*:}"
  pat='^cu'; [ "${pair%%:*}" = libJCublas2 ] && pat='^cublas'
  missing="$(comm -23 <(nm -D --undefined-only "$jni" | awk '{print $2}' | sed 's/@.*//' | grep -E "$pat" | sort -u) \
                      <(nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | sort -u))"
  [ -z "$missing" ] || { echo "standin: $(basename "$lib") lacks: $missing" >&2; exit 1; }
done
echo "$inputs" > "$stamp"
echo "standin: built $out/lib (libcuda.so.1, libcublas.so.12) and $out/driver-only"

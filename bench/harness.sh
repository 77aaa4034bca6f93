#!/usr/bin/env bash
# Runs a main class of the test sources (an in-process A/B harness, e.g. io.jvae.backend.SparseSplitHarness)
# with the CPU settings of ./jvae: bench/harness.sh CLASS [args]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
mvn -q -B -DskipTests test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test-classpath.txt
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
exec java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp "target/test-classes:target/classes:$(cat target/test-classpath.txt)" "$@"

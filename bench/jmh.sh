#!/usr/bin/env bash
# JMH microbenchmarks of the CPU backend: bench/jmh.sh [regex, e.g. Elementwise or Gemm] [JMH options]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
mvn -q -B -DskipTests test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test-classpath.txt
exec java --add-modules jdk.incubator.vector -cp "target/test-classes:target/classes:$(cat target/test-classpath.txt)" \
  org.openjdk.jmh.Main "${1:-io.jvae.bench}" "${@:2}"

#!/usr/bin/env bash
# Builds the benchmarks (Release) and runs them in one go; raw output in
# bench/results/. Compare ratios within one run: the machine is shared and noisy.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DJUNCTURE_BUILD_BENCHMARKS=ON \
      -DJUNCTURE_BUILD_TESTS=OFF >/dev/null
cmake --build build-bench -j"$(nproc)" --target rule_bench decision_bench >/dev/null
mkdir -p bench/results
build-bench/bench/rule_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  | tee bench/results/rule_bench.txt
build-bench/bench/decision_bench "${MESSAGES:-100000}" "${CUSTOMERS:-10000}" \
  | tee bench/results/decision_bench.txt

#!/usr/bin/env bash
# Runs every benchmark of bench/ in one go and prints the summary tables:
#   1. rule_bench (Google Benchmark): one eligibility rule on the JIT (O2, O0), the
#      interpreter and hand-written C++ (median of the repetitions);
#   2. peers/rule_peers.js: the same rule in json-rules-engine, json-logic-js and
#      @marcbachmann/cel-js (installed into bench/peers/node_modules if missing);
#   3. decision_bench: whole decisions (Engine::Process) with 10/100/1000 journeys on
#      both back ends (p50/p99 per message, messages/s), compile times, and the memory
#      of 1M customers' state.
# Raw outputs go to bench/results/ (not committed); the summary to
# bench/results/summary.md and stdout.
#
# usage: bash bench/run.sh [--quick] [--profile] [--no-wait] [--build-dir DIR]
#   --quick     fewer repetitions and messages (a smoke test; figures not for reporting)
#   --profile   also perf-profile the decision loop (100 journeys, JIT) into
#               results/perf-decision.txt (needs linux-perf)
#   --no-wait   do not wait for the machine to be quiet before measuring
# Environment: BUILD_DIR (default build-bench), JOBS (default: nproc).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

QUICK=0 PROFILE=0 WAIT=1
BUILD_DIR="${BUILD_DIR:-build-bench}"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --profile) PROFILE=1 ;;
    --no-wait) WAIT=0 ;;
    --build-dir) BUILD_DIR="$2"; shift ;;
    *) echo "usage: bash bench/run.sh [--quick] [--profile] [--no-wait] [--build-dir DIR]" >&2; exit 2 ;;
  esac
  shift
done
RESULTS="$ROOT/bench/results"
mkdir -p "$RESULTS"
log() { echo "bench/run.sh: $*" >&2; }

# ---- Dependencies and build ---------------------------------------------------------
bash scripts/install-deps.sh
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  log "installing nodejs and npm (for the peers)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
if [ ! -d bench/peers/node_modules/json-rules-engine ] ||
   [ ! -d bench/peers/node_modules/json-logic-js ] ||
   [ ! -d bench/peers/node_modules/@marcbachmann/cel-js ] ||
   [ ! -d bench/peers/node_modules/nats ]; then
  log "installing the peers (npm install --prefix bench/peers)"
  npm install --prefix bench/peers --no-audit --no-fund >&2
fi

log "building $BUILD_DIR (Release, benchmarks on)"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DJUNCTURE_BUILD_BENCHMARKS=ON \
  -DJUNCTURE_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j"${JOBS:-$(nproc)}" --target rule_bench decision_bench >&2
BIN="$ROOT/$BUILD_DIR/bench"
[[ "$BUILD_DIR" = /* ]] && BIN="$BUILD_DIR/bench"

# ---- A quiet machine ----------------------------------------------------------------
# Other work on the machine (builds, other benchmarks) shows up as noise: wait (up to
# 10 minutes) until no other process uses more than 20% of a CPU.
busy() {
  ps -eo pid=,pcpu=,comm= --sort=-pcpu | awk -v self=$$ '$1 != self && $3 != "ps" && $3 != "awk" && $2 > 20 {print; exit}'
}
if [ "$WAIT" = 1 ]; then
  for _ in $(seq 1 120); do
    b="$(busy)"
    [ -z "$b" ] && break
    log "waiting for a quiet machine (busy: $b)"
    sleep 5
  done
fi

# ---- The machine ----------------------------------------------------------------------
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "cpu MHz: $(grep -m1 'cpu MHz' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "caches: $(lscpu 2>/dev/null | grep -E '^L[123]' | tr -s ' ' | paste -sd';' -)"
  echo "memory: $(grep MemTotal /proc/meminfo | tr -s ' ' | cut -d' ' -f2-)"
  echo "kernel: $(uname -r)"
  echo "os: $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "compiler: $(c++ --version | head -1)"
  echo "llvm: $(/usr/lib/llvm-19/bin/llvm-config --version 2>/dev/null || echo '?')"
  echo "google benchmark: $(dpkg-query -W -f='${Version}' libbenchmark-dev 2>/dev/null)"
  echo "node: $(node --version)"
  echo "git: $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet 2>/dev/null || echo ' (with local changes)')"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$RESULTS/machine.txt"
cat "$RESULTS/machine.txt" >&2

if [ "$QUICK" = 1 ]; then
  REPS=3 MIN_TIME=0.05 MESSAGES=40000 DREPS=1 MEMORY=100000 PEERS_ARGS=--quick
else
  REPS=10 MIN_TIME=0.2 MESSAGES=200000 DREPS=5 MEMORY=1000000 PEERS_ARGS=
fi

# ---- 1. The rule, in C++ ----------------------------------------------------------------
log "rule_bench ($REPS repetitions, random interleaving)"
"$BIN/rule_bench" --benchmark_repetitions="$REPS" --benchmark_min_time="$MIN_TIME" \
  --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=false \
  --benchmark_out="$RESULTS/rule_bench.json" --benchmark_out_format=json \
  > "$RESULTS/rule_bench.txt" 2>&1

# ---- 2. The rule, in the peers ----------------------------------------------------------
log "peers (node $(node --version))"
node bench/peers/rule_peers.js $PEERS_ARGS > "$RESULTS/peers.jsonl"

# ---- 3. Whole decisions, compile time, memory ---------------------------------------------
log "decision_bench ($MESSAGES messages, $DREPS runs per configuration)"
"$BIN/decision_bench" --messages "$MESSAGES" --reps "$DREPS" > "$RESULTS/decision_bench.txt"
log "decision_bench --memory $MEMORY"
"$BIN/decision_bench" --memory "$MEMORY" > "$RESULTS/memory.txt"

if [ "$PROFILE" = 1 ]; then
  log "perf profile of the decision loop (100 journeys, JIT)"
  fifo="$(mktemp -u)"
  mkfifo "$fifo"
  DECISION_BENCH_PERF_CTL="$fifo" perf record -q --control "fifo:$fifo" -D -1 -e cpu-clock \
    -F 4000 --call-graph dwarf,16384 -o "$RESULTS/perf-decision.data" \
    "$BIN/decision_bench" --only-latency --backend jit --sizes 100 --reps 1 --messages "$MESSAGES" \
    > /dev/null
  rm -f "$fifo"
  set +o pipefail  # `head` closes the pipe early
  {
    echo "# self time"
    perf report -i "$RESULTS/perf-decision.data" --no-children --sort symbol -g none 2>/dev/null |
      grep -v '^#' | grep -v '^$' | head -40 | cut -c1-160
    echo
    echo "# inclusive time (juncture functions)"
    perf report -i "$RESULTS/perf-decision.data" --children --sort symbol -g none 2>/dev/null |
      grep -v '^#' | grep -E 'juncture|simdjson' | head -40 | cut -c1-160
    echo
    echo "# where MayEnter and RecordHistory stall (perf annotate: the hottest instructions)"
    for sym in 'juncture::runtime::Engine::Impl::MayEnter' 'juncture::runtime::Engine::Impl::RecordHistory'; do
      echo "## $sym"
      perf annotate -i "$RESULTS/perf-decision.data" --stdio -s "$sym" 2>/dev/null |
        grep -E '^ +[0-9]+\.[0-9]+ :' | sort -rn | head -3
    done
  } > "$RESULTS/perf-decision.txt"
  set -o pipefail
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$RESULTS/machine.txt"

# ---- Summary ------------------------------------------------------------------------------
python3 bench/summarize.py "$RESULTS" | tee "$RESULTS/summary.md"

#!/usr/bin/env bash
# End-to-end load test of `juncture serve` over core NATS (see bench/load/load.cc).
# Builds juncture and juncture-load, starts a private nats-server and
# `juncture serve bench/load/program`, then for each rate runs the echo floor and the
# journeys run back to back, and prints a markdown table of event->action latency.
# Raw results: bench/results/load-<time>.jsonl (one JSON line per run, with serve's CPU
# and what its state store wrote per event, read from its metrics), the table beside it
# as load-<time>.md; serve's log: bench/results/load-serve.log.
#
# usage: bash bench/load/run.sh [--rates "1000 10000 20000 50000"] [--duration S]
#                               [--warmup S] [--customers N] [--build-dir DIR] [--no-build]
#                               [--no-wait]  (do not wait for a quiet machine first)
#                               [--serve-args "ARGS"]  (more serve options, e.g.
#                               "--memory-state" to measure without the state store)
#                               [--jetstream]  (nats-server with JetStream, serve
#                               --jetstream: the events are stored by the stream serve
#                               creates, and decided from it; the runs add the
#                               JetStream floor, juncture-load --mode jetstream-echo)
#                               [--pairs N]  (N floor-then-serve pairs at each rate, one
#                               after the other; the table gives each column's median and
#                               the median of the pairs' added p50: the machine's noise
#                               between two runs is as large as what is measured at low
#                               rates; default 1)
#                               [--peer]  (then, in the same run, the alternative a team
#                               would build: bench/peers/journey_service.js, Node.js with
#                               the `nats` client and json-rules-engine, on the same
#                               program's entry rules; core NATS only)
# The build dir (default build/) must be configured already (scripts/build.sh).
# Environment: JUNCTURE, LOAD override the two binaries (then use --no-build).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"

RATES="1000 10000 20000 50000" DURATION=5 WARMUP=1 CUSTOMERS=10000
BUILD_DIR=build BUILD=1 WAIT=1 SERVE_ARGS="" JETSTREAM=0 PEER=0 PAIRS=1
while [ $# -gt 0 ]; do
  case "$1" in
    --rates) RATES="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    --warmup) WARMUP="$2"; shift ;;
    --customers) CUSTOMERS="$2"; shift ;;
    --build-dir) BUILD_DIR="$2"; shift ;;
    --no-build) BUILD=0 ;;
    --no-wait) WAIT=0 ;;
    --serve-args) SERVE_ARGS="$2"; shift ;;
    --jetstream) JETSTREAM=1 ;;
    --peer) PEER=1 ;;
    --pairs) PAIRS="$2"; shift ;;
    *) sed -n '2,28p' "$0" >&2; exit 2 ;;
  esac
  shift
done
log() { echo "bench/load/run.sh: $*" >&2; }

if [ "$BUILD" = 1 ]; then
  [ -f "$BUILD_DIR/CMakeCache.txt" ] || { log "$BUILD_DIR is not configured: run scripts/build.sh"; exit 1; }
  cmake --build "$BUILD_DIR" -j2 --target juncture juncture-load >/dev/null
fi
# The binaries may also be named in the environment (e.g. copies, while build/ is busy).
if [ -z "${JUNCTURE:-}" ]; then
  JUNCTURE="$BUILD_DIR/tools/juncture/juncture"
  [ -f "$JUNCTURE" ] || JUNCTURE="$BUILD_DIR/tools/juncture"   # the current layout
fi
LOAD="${LOAD:-$BUILD_DIR/bench/load/juncture-load}"
if ! "$JUNCTURE" serve --help >/dev/null 2>&1; then
  log "$JUNCTURE has no 'serve' command yet"; exit 1
fi
"$JUNCTURE" lint bench/load/program -Werror >/dev/null

# Other work on the machine (builds, benchmarks) shows up as latency: wait (up to 10
# minutes) until no process uses more than 20% of a CPU, as bench/run.sh does.
busy() { ps -eo pid=,pcpu=,comm= --sort=-pcpu | awk -v self=$$ '$1 != self && $3 != "ps" && $3 != "awk" && $2 > 20 {print; exit}'; }
if [ "$WAIT" = 1 ]; then
  for _ in $(seq 120); do
    b="$(busy)"; [ -z "$b" ] && break
    log "waiting for a quiet machine (busy: $b)"; sleep 5
  done
fi

RESULTS="$ROOT/bench/results"
mkdir -p "$RESULTS"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="$RESULTS/load-$STAMP.jsonl"

# ---- nats-server and juncture serve, stopped by PID whatever happens ---------------
NATS_PID="" SERVE_PID="" PEER_PID=""
cleanup() {
  for pid in $PEER_PID $SERVE_PID $NATS_PID; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  [ -n "${STATE:-}" ] && rm -rf "$STATE"
}
trap cleanup EXIT INT TERM

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
URL="nats://127.0.0.1:$PORT"
# serve keeps its state in a store of its own (the default: every change written).
STATE="$(mktemp -d)"
NATS_ARGS=()
if [ "$JETSTREAM" = 1 ]; then
  NATS_ARGS=(-js -sd "$STATE/jetstream")
  SERVE_ARGS="--jetstream $SERVE_ARGS"
fi
nats-server -a 127.0.0.1 -p "$PORT" "${NATS_ARGS[@]}" >"$RESULTS/load-nats.log" 2>&1 &
NATS_PID=$!
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.1
done
# serve's metrics: juncture-load reads what its store wrote around each run.
MPORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# shellcheck disable=SC2086  # SERVE_ARGS: several options
"$JUNCTURE" serve bench/load/program --nats "$URL" --state-dir "$STATE/state" \
  --metrics "127.0.0.1:$MPORT" $SERVE_ARGS >"$RESULTS/load-serve.log" 2>&1 &
SERVE_PID=$!
log "nats-server on $URL (pid $NATS_PID), juncture serve (pid $SERVE_PID); results in $OUT"

# ---- The runs: floor then juncture at each rate (juncture-load waits for serve) -----
# With JetStream, the floor of serve --jetstream too: the same events through a stream
# and a pull consumer (juncture-load --mode jetstream-echo).
MODES="echo journeys"
[ "$JETSTREAM" = 1 ] && MODES="echo jetstream-echo journeys"
for rate in $RATES; do
  for pair in $(seq "$PAIRS"); do
    for mode in $MODES; do
      "$LOAD" --mode "$mode" --nats "$URL" --rate "$rate" --duration "$DURATION" \
        --warmup "$WARMUP" --customers "$CUSTOMERS" --serve-pid "$SERVE_PID" \
        --serve-metrics "127.0.0.1:$MPORT" --json "$OUT" --label "$STAMP-$pair" >&2 ||
        log "$mode at $rate/s: exit $? (replies lost, or no reply at all)"
      kill -0 "$SERVE_PID" 2>/dev/null || { log "juncture serve died: see $RESULTS/load-serve.log"; exit 1; }
    done
  done
done

# ---- The peer: the same runs against the Node.js journey service ----------------------
PEER_OUT="${OUT%.jsonl}-peer.jsonl"
if [ "$PEER" = 1 ]; then
  if [ ! -d bench/peers/node_modules/nats ] || [ ! -d bench/peers/node_modules/json-rules-engine ]; then
    log "installing the peers (npm install --prefix bench/peers)"
    npm install --prefix bench/peers --no-audit --no-fund >&2
  fi
  kill "$SERVE_PID" 2>/dev/null || true
  wait "$SERVE_PID" 2>/dev/null || true
  SERVE_PID=""
  node bench/peers/journey_service.js --nats "$URL" >"$RESULTS/load-peer.log" 2>&1 &
  PEER_PID=$!
  for rate in $RATES; do
    "$LOAD" --mode journeys --nats "$URL" --rate "$rate" --duration "$DURATION" \
      --warmup "$WARMUP" --customers "$CUSTOMERS" --serve-pid "$PEER_PID" \
      --json "$PEER_OUT" --label "$STAMP-peer" >&2 ||
      log "peer at $rate/s: exit $? (replies lost, or no reply at all)"
    kill -0 "$PEER_PID" 2>/dev/null || { log "the peer died: see $RESULTS/load-peer.log"; exit 1; }
  done
fi

# ---- The table ------------------------------------------------------------------------
python3 - "$OUT" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" "$PEER_OUT" <<'EOF' | tee "${OUT%.jsonl}.md"
import json, os, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
# With --pairs, several runs per (mode, rate): each column's median, losses summed.
groups = {}
for r in runs:
    groups.setdefault((r["mode"], r["rate"]), []).append(r)
def combine(rs):
    out = dict(rs[0])
    for k, v in rs[0].items():
        if isinstance(v, (int, float)) and not isinstance(v, bool) and k not in ("rate", "lost"):
            vals = [r[k] for r in rs if isinstance(r.get(k), (int, float))]
            out[k] = statistics.median(vals)
    out["lost"] = sum(r.get("lost", 0) for r in rs)
    return out
by = {k: combine(v) for k, v in groups.items()}
def added_p50(floor_mode, rate):
    # The median of each pair's difference (pairs in the order they ran).
    e, j = groups.get((floor_mode, rate), []), groups.get(("journeys", rate), [])
    d = [b["p50_us"] - a["p50_us"] for a, b in zip(e, j) if a["p50_us"] >= 0 and b["p50_us"] >= 0]
    return (statistics.median(d), d) if d else (None, [])
f = lambda v: "-" if v is None or v < 0 else f"{v:.0f}"
pairs = max(len(v) for v in groups.values())
print(f"Event->action latency over core NATS, µs ({sys.argv[2]} cores, load average "
      f"{sys.argv[3]} after the runs; {runs[0]['duration_s']:g} s per run, "
      f"{runs[0]['customers']} customers" +
      (f"; {pairs} floor-then-serve pairs per rate: medians, and the median of the pairs' "
       f"added p50" if pairs > 1 else "") + ")\n")
print("| rate/s | floor p50 | floor p99 | floor p99.9 | juncture p50 | juncture p99 | "
      "juncture p99.9 | added at p50 | juncture lost | serve CPU µs/event | p99 < 1 ms | "
      "store bytes/event | events/commit |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|---:|---:|")
for rate in sorted({r["rate"] for r in runs}):
    e, j = by.get(("echo", rate), {}), by.get(("journeys", rate), {})
    added, each = added_p50("echo", rate)
    ok = "yes" if j and 0 <= j["p99_us"] < 1000 and j["lost"] == 0 else "no"
    print(f"| {rate:.0f} | {f(e.get('p50_us'))} | {f(e.get('p99_us'))} | {f(e.get('p999_us'))} | "
          f"{f(j.get('p50_us'))} | {f(j.get('p99_us'))} | {f(j.get('p999_us'))} | {'-' if added is None else f'{added:+.0f}'} | "
          f"{j.get('lost', '-')} | {j.get('serve_cpu_us_per_event', '-')} | {ok} | "
          f"{f(j.get('store_bytes_per_event'))} | {j.get('events_per_commit', '-')} |")
if pairs > 1:
    print("\nAdded at p50 in each pair, in the order they ran: " + "; ".join(
        f"{rate:.0f}/s: " + ", ".join(f"{d:+.0f}" for d in added_p50("echo", rate)[1])
        for rate in sorted({r["rate"] for r in runs})))
if any(r["mode"] == "jetstream-echo" for r in runs):
    print("\nserve --jetstream against the JetStream floor (the same events through a stream "
          "and a pull consumer, each published into a stream of actions and acked; no decision, "
          "no state, no checkpoint):\n")
    print("| rate/s | JetStream floor p50 | floor p99 | floor p99.9 | floor lost | juncture p50 | "
          "juncture p99 | added at p50 | serve CPU µs/event |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for rate in sorted({r["rate"] for r in runs}):
        e, j = by.get(("jetstream-echo", rate), {}), by.get(("journeys", rate), {})
        added, each = added_p50("jetstream-echo", rate)
        print(f"| {rate:.0f} | {f(e.get('p50_us'))} | {f(e.get('p99_us'))} | {f(e.get('p999_us'))} | "
              f"{e.get('lost', '-')} | {f(j.get('p50_us'))} | {f(j.get('p99_us'))} | "
              f"{'-' if added is None else f'{added:+.0f}'} | {j.get('serve_cpu_us_per_event', '-')} |")
if os.path.exists(sys.argv[4]):
    peer = {r["rate"]: r for r in (json.loads(l) for l in open(sys.argv[4]))}
    print("\nThe alternative a team would build (bench/peers/journey_service.js: Node.js, "
          "the nats client, json-rules-engine), same load, same run, after serve:\n")
    print("| rate/s | juncture p50 | juncture p99 | juncture CPU µs/event | peer p50 | peer p99 | "
          "peer lost | peer CPU µs/event |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for rate in sorted(peer):
        j, p = by.get(("journeys", rate), {}), peer[rate]
        print(f"| {rate:.0f} | {f(j.get('p50_us'))} | {f(j.get('p99_us'))} | "
              f"{j.get('serve_cpu_us_per_event', '-')} | {f(p.get('p50_us'))} | {f(p.get('p99_us'))} | "
              f"{p.get('lost', '-')} | {p.get('serve_cpu_us_per_event', '-')} |")
EOF

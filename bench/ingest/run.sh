#!/usr/bin/env bash
# The ingest benchmark (docs/performance.md, "Ingest"): nats-server and `juncture ingest`
# on free ports of 127.0.0.1, then juncture-ingest-bench for single calls and batches,
# core NATS and JetStream, each next to the NATS floor measured in the same run.
# usage: bench/ingest/run.sh [BUILD_DIR]   (default: build)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
juncture=$build/tools/juncture
bench=$build/bench/load/juncture-ingest-bench
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
echo bench > "$tmp/keys"

run_mode() {  # core|jetstream
  local mode=$1 nats_port http_port js=()
  nats_port=$(free_port); http_port=$(free_port)
  if [[ $mode == jetstream ]]; then js=(--jetstream); fi
  nats-server -a 127.0.0.1 -p "$nats_port" ${js:+-js -sd "$tmp/js-$nats_port"} >/dev/null 2>&1 &
  pids+=($!); local nats_pid=$!
  sleep 0.5
  local url=nats://127.0.0.1:$nats_port
  if [[ $mode == jetstream ]]; then  # the stream first (the ingest's acks need it)
    "$bench" --nats "$url" --url http://127.0.0.1:1 --requests 0 --jetstream >/dev/null 2>&1 || true
  fi
  "$juncture" ingest --nats "$url" --http "127.0.0.1:$http_port" --write-keys "$tmp/keys" \
    "${js[@]}" 2>/dev/null &
  pids+=($!); local ingest_pid=$!
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$http_port/health" >/dev/null && break; sleep 0.1; done
  echo "== $mode"
  for spec in "1 1 2000" "1 8 8000" "100 4 200"; do
    read -r batch conns requests <<<"$spec"
    "$bench" --url "http://127.0.0.1:$http_port" --write-key bench --nats "$url" \
      --batch "$batch" --connections "$conns" --requests "$requests" "${js[@]}"
  done
  kill "$ingest_pid" "$nats_pid"; wait "$ingest_pid" "$nats_pid" 2>/dev/null || true
}
run_mode core
run_mode jetstream

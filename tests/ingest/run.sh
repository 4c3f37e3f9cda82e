#!/usr/bin/env bash
# The end-to-end test of `juncture ingest` (tests/ingest/ingest_test.js): installs its npm
# packages (@segment/analytics-node, @rudderstack/rudder-sdk-node and nats, pinned in
# package-lock.json) if missing or stale, then runs it: nats-server, `juncture serve` and
# `juncture ingest`, fed by the real SDKs (sdk_send.js) and raw HTTP requests, checked by
# the decisions on NATS. Exit 77 (ctest: skipped), after a line saying why, where
# nats-server or npm is not installed or npm cannot get the packages.
# usage: run.sh JUNCTURE PROGRAM_DIR   (the juncture binary and tests/ingest/program)
# Once the packages are installed, `node sdk_send.js --url ... --sdk ...` alone sends the
# SDK calls to a running ingest (see its header).
set -euo pipefail
args=()  # paths made absolute: the script runs in its own folder
for a in "$@"; do if [[ -e $a ]]; then args+=("$(realpath "$a")"); else args+=("$a"); fi; done
cd "$(dirname "$0")"
if ! command -v nats-server >/dev/null 2>&1; then
  echo "skipped: nats-server is not installed"
  exit 77
fi
if [[ ! -d node_modules/@segment/analytics-node || ! -d node_modules/@rudderstack/rudder-sdk-node \
      || ! -d node_modules/nats || package-lock.json -nt node_modules ]]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "skipped: npm is not installed"
    exit 77
  fi
  (
    flock 9
    npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>npm-ci.log || {
      cat npm-ci.log >&2
      echo "skipped: npm could not install the SDKs and the NATS client (registry unreachable?)"
      exit 77
    }
    touch node_modules
  ) 9>.npm.lock
fi
exec node ingest_test.js "${args[@]}"

#!/usr/bin/env bash
# The SDK side of the ingest test: installs its npm packages (@segment/analytics-node and
# @rudderstack/rudder-sdk-node, from package-lock.json) if missing or stale, then runs
# sdk_send.js, which sends a fixed sequence of calls through the chosen SDK to a running
# `juncture ingest`. Exit 77 (ctest: skipped), after a line saying why, where npm is not
# installed or cannot get the packages.
# usage: run.sh --url http://127.0.0.1:PORT --write-key KEY --sdk segment|rudderstack --run-id RID [--print]
set -euo pipefail
cd "$(dirname "$0")"
if [[ ! -d node_modules/@segment/analytics-node || ! -d node_modules/@rudderstack/rudder-sdk-node \
      || package-lock.json -nt node_modules ]]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "skipped: npm is not installed"
    exit 77
  fi
  (
    flock 9
    npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>npm-ci.log || {
      cat npm-ci.log >&2
      echo "skipped: npm could not install the Segment and RudderStack SDKs (registry unreachable?)"
      exit 77
    }
    touch node_modules
  ) 9>.npm.lock
fi
exec node sdk_send.js "$@"

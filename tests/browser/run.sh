#!/usr/bin/env bash
# The browser test of the live journey page (tests/browser/live_page_test.js): installs
# its npm package (playwright-core, from package-lock.json) if missing, then runs it
# against Debian's Chromium. Exit 77 (ctest: skipped), after a line saying why, where
# Chromium is not installed (scripts/browser-deps.sh installs it) or npm cannot get
# playwright-core.
# usage: run.sh JUNCTURE EXAMPLES_DIR SCREENSHOT.png
set -euo pipefail
cd "$(dirname "$0")"
if [[ ! -x /usr/bin/chromium ]]; then
  echo "skipped: /usr/bin/chromium is not installed (bash scripts/browser-deps.sh installs it)"
  exit 77
fi
if [[ ! -d node_modules/playwright-core || package-lock.json -nt node_modules ]]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "skipped: npm is not installed"
    exit 77
  fi
  (
    flock 9
    npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>npm-ci.log || {
      cat npm-ci.log >&2
      echo "skipped: npm could not install playwright-core (registry unreachable?)"
      exit 77
    }
    touch node_modules
  ) 9>.npm.lock
fi
exec node live_page_test.js "$@"

#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every test with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
# The browser test's Chromium (skipped, with the reason, where it cannot be installed).
bash scripts/browser-deps.sh || true
cd build
ctest --output-on-failure -j"$(nproc)" --timeout 300

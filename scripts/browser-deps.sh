#!/usr/bin/env bash
# Installs Debian's Chromium for the browser test of the live journey page
# (tests/browser/), if it is missing. Prints "skipped: ..." and exits 77 where it
# cannot be installed (no apt-get, not root, no package); the test is then skipped.
set -euo pipefail
if [[ -x /usr/bin/chromium ]]; then exit 0; fi
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "skipped: Chromium is not installed and this user cannot install it"
    exit 77
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "skipped: Chromium is not installed and there is no apt-get"
  exit 77
fi
echo "browser-deps: installing chromium"
if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium >/dev/null; then
  $SUDO apt-get update -qq >/dev/null || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium >/dev/null || {
    echo "skipped: apt-get could not install chromium"
    exit 77
  }
fi

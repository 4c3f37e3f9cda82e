#!/usr/bin/env bash
# Installs the npm dependencies of the VS Code extension (editors/vscode) exactly as its
# package-lock.json pins them (`npm ci`), unless editors/vscode/node_modules is already
# newer than package-lock.json.
#
# Exit 0: the dependencies are in place. Exit 77, after a line "skipped: ...": npm is
# missing, or the npm registry cannot be reached, so nothing could be installed (77 is
# what ctest's SKIP_RETURN_CODE expects). Any other code: the install failed.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=editors/vscode
skip() {
  echo "skipped: $*"
  exit 77
}

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  skip "node and npm are needed to install the VS Code extension's dependencies (editors/vscode)"
fi

# One install at a time (ctest -j may start several callers): the lock is on the lock file.
if command -v flock >/dev/null 2>&1; then
  exec 9<"$dir/package-lock.json"
  flock 9
fi

# npm writes node_modules/.package-lock.json at each install: newer than the lock file
# means that node_modules is what the lock file asks for.
stamp="$dir/node_modules/.package-lock.json"
if [[ -f "$stamp" && ! "$dir/package-lock.json" -nt "$stamp" ]]; then
  echo "vscode-deps: $dir/node_modules is up to date with package-lock.json"
  exit 0
fi

cd "$dir"
registry="$(npm config get registry 2>/dev/null || echo 'the npm registry')"
if ! timeout 60 npm ping --fetch-retries=0 --fetch-timeout=20000 >/dev/null 2>&1; then
  skip "the npm registry ($registry) cannot be reached; $dir/node_modules was not installed"
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
echo "vscode-deps: npm ci in $dir"
if ! npm ci --no-audit --no-fund 2>&1 | tee "$log"; then
  # The registry went away during the install: a skip, not a failure of the extension.
  if grep -Eq 'ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNREFUSED|ECONNRESET|ENETUNREACH|network' "$log"; then
    skip "the npm registry ($registry) could not be reached during npm ci"
  fi
  echo "vscode-deps: npm ci failed in $dir" >&2
  exit 1
fi

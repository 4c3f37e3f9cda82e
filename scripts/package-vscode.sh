#!/usr/bin/env bash
# Packages the VS Code extension (editors/vscode) as build/juncture-<version>.vsix, with
# its run-time dependencies (vscode-languageclient) inside: installs the npm dependencies
# first (scripts/vscode-deps.sh), then runs `vsce package`, without any prompt.
#
# Exit 0: the .vsix is written. Exit 77, after a line "skipped: ...": npm is missing or
# the npm registry cannot be reached (see vscode-deps.sh). Any other code: a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
bash scripts/vscode-deps.sh || status=$?
if [[ $status -eq 77 ]]; then
  echo "skipped: the VS Code extension was not packaged"
  exit 77
elif [[ $status -ne 0 ]]; then
  exit "$status"
fi

version="$(node -p "require('./editors/vscode/package.json').version")"
mkdir -p build
vsix="$PWD/build/juncture-$version.vsix"
rm -f "$vsix"
# --no: never download vsce, use the pinned one in node_modules. stdin from /dev/null: a
# question from vsce fails the run instead of waiting for an answer.
# The project has no public repository address: said so rather than made up.
(cd editors/vscode && npx --no vsce package --allow-missing-repository --out "$vsix" </dev/null)

# The client library must be inside: the extension cannot start without it.
if command -v unzip >/dev/null 2>&1; then
  listing="$(unzip -Z1 "$vsix")"
  for entry in extension/package.json extension/extension.js \
      extension/syntaxes/juncture.tmLanguage.json extension/language-configuration.json \
      extension/node_modules/vscode-languageclient/package.json; do
    if ! grep -qxF "$entry" <<<"$listing"; then
      echo "package-vscode: $vsix lacks $entry" >&2
      exit 1
    fi
  done
fi
echo "package-vscode: wrote $vsix"

#!/usr/bin/env bash
# Installs the Debian packages Juncture needs to build, test and run its demo.
# Safe to run again: it installs only what is missing. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config python3
  antlr4 libantlr4-runtime-dev        # grammar tool (Java) + C++ runtime
  llvm-19-dev                         # LLVM ORC JIT
  libnats-dev nats-server             # NATS.c client + broker for tests/demo
  nlohmann-json3-dev libsimdjson-dev  # JSON (tooling) + hot-path decode
  libcli11-dev                        # command line
  libcctz-dev tzdata                  # IANA time zones
  libxxhash-dev                       # stable hashes (splits, buckets)
  libzstd-dev                         # customers packed in memory (compressed pieces)
  librocksdb-dev                      # the embedded state store
  libssl-dev                          # SHA-256 of journey versions (approvals)
  libcpp-httplib-dev                  # serve: the /metrics HTTP endpoint
  libdtl-dev                          # juncture fmt --check: unified diffs
  libgraphviz-dev graphviz            # juncture graph: layout and SVG/PNG rendering
  openssl                             # tests: certificates for the TLS test
  prometheus                          # tests: promtool checks serve's /metrics
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev         # libFuzzer targets (optional build)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

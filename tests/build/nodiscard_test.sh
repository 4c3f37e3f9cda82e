#!/usr/bin/env bash
# A dropped juncture::Status or Result<T> does not compile (-Werror=unused-result):
# the [[nodiscard]] that docs/embedding.md promises. Usage: nodiscard_test.sh CXX INCLUDE_DIR
set -u
cxx=$1
include=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

compiles() {  # compiles() FILE: 0 if it compiles with unused results as errors
  "$cxx" -std=c++20 -fsyntax-only -Werror=unused-result -I"$include" "$1" 2>"$dir/log"
}

cat >"$dir/kept.cc" <<'CC'
#include "juncture/status.h"
juncture::Status Save() { return juncture::IoError("disk full"); }
juncture::Result<int> Count() { return 3; }
int main() {
  juncture::Status s = Save();
  juncture::Result<int> n = Count();
  return s.ok() && n.ok() ? 0 : 1;
}
CC
cat >"$dir/dropped_status.cc" <<'CC'
#include "juncture/status.h"
juncture::Status Save() { return juncture::IoError("disk full"); }
int main() { Save(); }
CC
cat >"$dir/dropped_result.cc" <<'CC'
#include "juncture/status.h"
juncture::Result<int> Count() { return 3; }
int main() { Count(); }
CC

compiles "$dir/kept.cc" || { echo "FAIL: the control does not compile:"; cat "$dir/log"; exit 1; }
for f in dropped_status dropped_result; do
  if compiles "$dir/$f.cc"; then
    echo "FAIL: $f.cc compiles: a dropped failure goes unnoticed"
    exit 1
  fi
  grep -q "unused-result\|nodiscard\|ignoring return value" "$dir/log" ||
    { echo "FAIL: $f.cc is refused for another reason:"; cat "$dir/log"; exit 1; }
done
echo "ok: a dropped Status or Result<T> is a compile error"

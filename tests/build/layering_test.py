#!/usr/bin/env python3
"""The layering of docs/architecture.md, checked on the build itself: which source
files compile against ANTLR's and LLVM's headers.

usage: layering_test.py COMPILE_COMMANDS.json SOURCE_DIR

- ANTLR's headers: only the generated parser (grammar/) and compiler/parse/ see them;
  the rest of the compiler, the runtime, serve, ingest, the C API and the command
  line do not (ANTLR types never leave compiler/parse/).
- LLVM's headers: only compiler/codegen/ and compiler/jit/.
Exit 0 if both hold; prints every file that breaks them otherwise.
"""
import json
import os
import shlex
import sys


def main():
    commands, source = sys.argv[1], os.path.realpath(sys.argv[2])
    with open(commands) as f:
        entries = json.load(f)
    failures = []
    checked = 0
    for e in entries:
        path = os.path.realpath(e["file"])
        rel = os.path.relpath(path, source)
        if rel.startswith("..") or rel.startswith("build"):
            continue  # generated elsewhere, or the build's own
        args = e.get("arguments") or shlex.split(e["command"])
        includes = [a for a in args if a.startswith("-I") or a.startswith("/")] + \
                   [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-isystem", "-I")]
        antlr = any("antlr4" in a for a in includes)
        llvm = any("/llvm" in a for a in includes)
        checked += 1
        if antlr and not (rel.startswith("compiler/parse/") or rel.startswith("grammar/")):
            failures.append(f"{rel} compiles against ANTLR's headers")
        if llvm and not (rel.startswith("compiler/codegen/") or rel.startswith("compiler/jit/")
                         or rel.startswith("tests/unit/jit/")):
            failures.append(f"{rel} compiles against LLVM's headers")
    for f in failures:
        print("FAIL: " + f)
    if checked < 100:
        print(f"FAIL: only {checked} source files in {commands}")
        return 1
    print(f"{checked} source files checked, {len(failures)} out of their layer")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

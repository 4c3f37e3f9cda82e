#!/usr/bin/env python3
"""Golden test runner: runs `juncture KIND CASE.jny` and compares with CASE.err.

usage: golden_runner.py JUNCTURE KIND CASE.jny

The command runs in the case's folder with the bare file name, so paths in the output
are stable. The expected file holds the command's stderr then stdout, then a last
line `exit: N`. With JUNCTURE_UPDATE_GOLDEN=1 the expected file is (re)written
instead; review the diff before committing it.
"""
import difflib
import os
import subprocess
import sys


def main():
    binary, kind, case = os.path.abspath(sys.argv[1]), sys.argv[2], os.path.abspath(sys.argv[3])
    folder, name = os.path.dirname(case), os.path.basename(case)
    args = [binary, kind, name] if kind == "lint" else [binary, kind, name, "--emit", "ir"]
    p = subprocess.run(args, cwd=folder, capture_output=True, text=True,
                       errors="replace", timeout=60)
    actual = p.stderr + p.stdout + f"exit: {p.returncode}\n"
    expected_path = os.path.splitext(case)[0] + (".err" if kind == "lint" else ".expected")
    if os.environ.get("JUNCTURE_UPDATE_GOLDEN") == "1":
        with open(expected_path, "w") as f:
            f.write(actual)
        print(f"wrote {expected_path}")
        return 0
    if not os.path.exists(expected_path):
        print(f"missing {expected_path}; run with JUNCTURE_UPDATE_GOLDEN=1 and review it")
        print(actual)
        return 1
    expected = open(expected_path).read()
    if expected == actual:
        return 0
    sys.stdout.writelines(difflib.unified_diff(
        expected.splitlines(True), actual.splitlines(True), expected_path, "actual"))
    return 1


if __name__ == "__main__":
    sys.exit(main())

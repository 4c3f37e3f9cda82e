#!/usr/bin/env python3
"""capi.python_example: examples/python/juncture_example.py (ctypes over libjuncture.so)
prints the decisions and the dead letter it should, on both back ends, with the
library given as an argument or in $JUNCTURE_LIBRARY.

    python_example_test.py EXAMPLE LIBJUNCTURE VERSION
"""
import os
import sys

from package_util import check, check_decisions, run


def check_output(out, version, what):
    lines = out.splitlines()
    check(lines[0] == f"libjuncture {version}", f"{what}: first line {lines[0]!r}")
    decisions = [line[len("decision "):] for line in lines if line.startswith("decision ")]
    check_decisions(decisions, what)
    dead = [line for line in lines if line.startswith("dead letter")]
    check(len(dead) == 1 and dead[0].startswith("dead letter (invalid JSON") and
          dead[0].endswith(': {"type":"track","event":"cart_updated"'),
          f"{what}: dead letters {dead}")
    check(len(lines) == 1 + 4 + 1, f"{what}: unexpected lines:\n{out}")


def main():
    example, library, version = sys.argv[1:4]
    python = sys.executable
    check_output(run([python, example, library]), version, "jit, library as argument")
    env = dict(os.environ, JUNCTURE_LIBRARY=library)
    check_output(run([python, example, "--no-jit"], env=env), version,
                 "interpreter, library from $JUNCTURE_LIBRARY")
    print("capi.python_example: ok")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Runs the language conformance suite (check.py) and holds it to a strict pending list.

usage: run_conformance.py CHECK_PY PENDING_FILE JUNCTURE [check.py arguments...]

check.py prints one line per failing case ("c7_holdout: ..." or "lint two_goals.jny: ...")
and a summary. A case listed in PENDING_FILE is one the contract has that this build
does not implement yet. The test passes only if the failing cases are exactly the
pending ones that this run covers: a new failure fails it, and so does a pending case
that now passes (take it off the list).
"""
import re
import subprocess
import sys


def case_name(line):
    m = re.match(r"(lint \S+?|[A-Za-z0-9_]+):", line)
    return m.group(1) if m else None


def main():
    check, pending_file, binary, *rest = sys.argv[1:]
    pending = set()
    for line in open(pending_file):
        line = line.split("#", 1)[0].strip()
        if line:
            pending.add(line)
    p = subprocess.run([sys.executable, check, binary, *rest], capture_output=True, text=True)
    out = p.stdout + p.stderr
    print(out, end="")
    failing = {case_name(l) for l in p.stdout.splitlines() if case_name(l)}
    failing.discard("conformance")
    only = rest[rest.index("--only") + 1] if "--only" in rest else None
    covered = {c for c in pending if (c.startswith("lint ") and only in (None, "lint"))
               or (not c.startswith("lint ") and only in (None, "decisions"))}
    unexpected = failing - pending
    fixed = covered - failing
    for c in sorted(unexpected):
        print(f"FAIL: {c} fails and is not on the pending list")
    for c in sorted(fixed):
        print(f"FAIL: {c} passes now: take it off {pending_file}")
    if p.returncode not in (0, 1):
        print(f"FAIL: check.py exited {p.returncode}")
        return 1
    if unexpected or fixed:
        return 1
    if failing:
        print(f"{len(failing)} pending case(s) still fail, as listed: {', '.join(sorted(failing))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

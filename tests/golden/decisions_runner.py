#!/usr/bin/env python3
"""Golden decisions: `juncture run PROGRAM --events EVENTS [--until U]` must print
exactly the decisions in EXPECTED (JSON lines, compared line by line).

usage: decisions_runner.py JUNCTURE PROGRAM EVENTS EXPECTED [UNTIL] [-- EXTRA RUN ARGS]
With JUNCTURE_UPDATE_GOLDEN=1 the expected file is rewritten; review the diff.
"""
import difflib
import os
import json
import subprocess
import sys
import tempfile


def main():
    args = sys.argv[1:]
    extra = []
    if "--" in args:
        extra, args = args[args.index("--") + 1:], args[:args.index("--")]
    binary, program, events, expected_path = args[:4]
    dead = tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False).name
    cmd = [binary, "run", program, "--events", events, "--dead-letter", dead] + extra
    if len(args) > 4:
        cmd += ["--until", args[4]]
    p = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=120)
    if p.returncode != 0:
        print(f"exit {p.returncode}: {p.stderr}")
        return 1
    # Every dead letter is one JSON object in valid UTF-8 with a reason and the message,
    # as text ("message") or, when it is not UTF-8, as base64 ("message_base64").
    for n, raw in enumerate(open(dead, "rb"), 1):
        try:
            d = json.loads(raw.decode("utf-8", errors="strict"))
            assert isinstance(d, dict) and d["reason"]
            assert ("message" in d) != ("message_base64" in d)
        except (ValueError, AssertionError, KeyError) as e:
            print(f"dead letter {n} is not a JSON object with reason and message: {e}: {raw[:200]!r}")
            return 1
    os.unlink(dead)
    if os.environ.get("JUNCTURE_UPDATE_GOLDEN") == "1":
        with open(expected_path, "w") as f:
            f.write(p.stdout)
        print(f"wrote {expected_path}")
        return 0
    expected = open(expected_path).read()
    if expected == p.stdout:
        print(p.stderr.strip())
        return 0
    sys.stdout.writelines(difflib.unified_diff(
        expected.splitlines(True), p.stdout.splitlines(True), expected_path, "actual"))
    return 1


if __name__ == "__main__":
    sys.exit(main())

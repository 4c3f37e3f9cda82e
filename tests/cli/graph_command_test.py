#!/usr/bin/env python3
"""`juncture graph` from the command line (docs/tooling.md, "graph").

usage: graph_command_test.py JUNCTURE EXAMPLES_DIR

- DOT on stdout by default, one cluster per journey; --journey keeps one;
- --format svg / png with -o writes the rendered picture;
- --counts: the funnel (entered counts on the entry node); lines that are not
  decisions are skipped with a warning naming the first one;
- a journey that does not exist, a program with errors, an unreadable log: exit 1
  with the reason; an unknown format: exit 2 (usage).
Exit 0 if every check passes; prints each failure otherwise.
"""
import os
import subprocess
import sys
import tempfile

from checks import check, finish


def run(juncture, args):
    return subprocess.run([juncture] + args, capture_output=True, timeout=120)


def main():
    juncture, examples = sys.argv[1], sys.argv[2]
    decisions = os.path.join(examples, "expected", "demo.decisions.jsonl")

    r = run(juncture, ["graph", examples])
    out = r.stdout.decode()
    check(r.returncode == 0 and out.startswith("digraph journeys {"), "DOT on stdout")
    check(out.count("subgraph \"cluster_") == 6, "one cluster per journey (6 examples): %d"
          % out.count("subgraph \"cluster_"))

    r = run(juncture, ["graph", examples, "--journey", "win_back"])
    out = r.stdout.decode()
    check(r.returncode == 0 and "cluster_win_back" in out and "cluster_cart_rescue" not in out,
          "--journey keeps one journey")

    with tempfile.TemporaryDirectory() as tmp:
        svg = os.path.join(tmp, "j.svg")
        r = run(juncture, ["graph", examples, "--format", "svg", "-o", svg, "--counts", decisions])
        check(r.returncode == 0, "svg: exit %d %s" % (r.returncode, r.stderr.decode()))
        with open(svg) as f:
            text = f.read()
        check("<svg" in text and "entered" in text, "the SVG holds the picture and the funnel")

        png = os.path.join(tmp, "j.png")
        r = run(juncture, ["graph", examples, "--journey", "cart_rescue", "--format", "png", "-o", png])
        with open(png, "rb") as f:
            check(r.returncode == 0 and f.read(8) == b"\x89PNG\r\n\x1a\n", "png written")

        log = os.path.join(tmp, "log.jsonl")
        with open(decisions) as src, open(log, "w") as dst:
            dst.write(src.read() + "this is not a decision\n")
        r = run(juncture, ["graph", examples, "--counts", log])
        check(r.returncode == 0 and "entered" in r.stdout.decode(), "a bad log line is skipped")
        check(b"skipped 1 line(s) that are not decisions (line " in r.stderr,
              "the skipped line is named: " + r.stderr.decode())

        bad = os.path.join(tmp, "bad.jny")
        with open(bad, "w") as f:
            f.write("journey j {\n  on nothing\n}\n")
        r = run(juncture, ["graph", bad])
        check(r.returncode == 1 and b"bad.jny:2:6: error:" in r.stderr,
              "a program with errors: " + r.stderr.decode())

    r = run(juncture, ["graph", examples, "--journey", "nope"])
    check(r.returncode == 1 and b"no journey named 'nope'" in r.stderr, "an unknown journey")
    r = run(juncture, ["graph", examples, "--counts", "/nonexistent/log.jsonl"])
    check(r.returncode == 1 and b"cannot read /nonexistent/log.jsonl" in r.stderr, "an unreadable log")
    r = run(juncture, ["graph", examples, "--format", "gif"])
    check(r.returncode == 2, "an unknown format is a usage error: %d" % r.returncode)

    return finish()


if __name__ == "__main__":
    sys.exit(main())

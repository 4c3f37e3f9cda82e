#!/usr/bin/env python3
"""`juncture fmt` from the command line (docs/tooling.md, "fmt").

usage: fmt_command_test.py JUNCTURE EXAMPLES_DIR

- the examples are in canonical form: `fmt --check examples/` exits 0 and prints nothing;
- on a file that is not: `--check` exits 1, prints a unified diff and leaves the file
  alone; `-w` rewrites it in place (comments kept, permissions kept), names it, and a
  second `-w` changes nothing; printing (no flag) writes the formatted text to stdout;
- a file with a syntax error: exit 1, the error with file:line:col, the file untouched;
- `--check` and `-w` together are refused (exit 2).
Exit 0 if every check passes; prints each failure otherwise.
"""
import os
import stat
import subprocess
import sys
import tempfile

from checks import check, finish

MESSY = """// Rescue carts.
event cart { value: float }   // what the shop sends

journey rescue {
  on cart   when event.value>10    // big enough
  wait 1h
  send email "nudge" {
    v: event.value   // the cart's value
  }
}
"""


def run(juncture, args):
    return subprocess.run([juncture] + args, capture_output=True, text=True, timeout=60)


def main():
    juncture, examples = sys.argv[1], sys.argv[2]

    r = run(juncture, ["fmt", "--check", examples])
    check(r.returncode == 0 and r.stdout == "", "examples pass fmt --check: %d %s%s"
          % (r.returncode, r.stdout, r.stderr))

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "messy.jny")
        with open(path, "w") as f:
            f.write(MESSY)
        os.chmod(path, 0o640)

        r = run(juncture, ["fmt", "--check", path])
        check(r.returncode == 1, "--check on a messy file exits 1, got %d" % r.returncode)
        check(r.stdout.startswith("--- " + path + "\n+++ " + path + " (formatted)\n"),
              "--check prints a unified diff header: " + r.stdout[:200])
        check("-  on cart   when event.value>10    // big enough" in r.stdout
              and "+  on cart when event.value > 10  // big enough" in r.stdout,
              "--check's diff shows the changed line: " + r.stdout)
        with open(path) as f:
            check(f.read() == MESSY, "--check leaves the file alone")

        r = run(juncture, ["fmt", path])
        check(r.returncode == 0 and "on cart when event.value > 10  // big enough" in r.stdout,
              "fmt prints the formatted text: " + r.stdout + r.stderr)

        r = run(juncture, ["fmt", "-w", path])
        check(r.returncode == 0 and r.stdout.strip() == path, "-w names the file it rewrote: "
              + r.stdout + r.stderr)
        with open(path) as f:
            formatted = f.read()
        for comment in ["// Rescue carts.", "// what the shop sends", "// big enough",
                        "// the cart's value"]:
            check(comment in formatted, "-w keeps the comment " + comment)
        check("  on cart when event.value > 10  // big enough\n" in formatted,
              "-w formats the trigger: " + formatted)
        check(stat.S_IMODE(os.stat(path).st_mode) == 0o640, "-w keeps the file's permissions")
        check(not [n for n in os.listdir(tmp) if n != "messy.jny"], "-w leaves no temporary file")

        r = run(juncture, ["fmt", "-w", path])
        check(r.returncode == 0 and r.stdout == "", "a second -w changes nothing: " + r.stdout)
        r = run(juncture, ["fmt", "--check", path])
        check(r.returncode == 0 and r.stdout == "", "the rewritten file passes --check")

        bad = os.path.join(tmp, "bad.jny")
        with open(bad, "w") as f:
            f.write("journey j {\n  on\n}\n")
        r = run(juncture, ["fmt", "-w", bad])
        check(r.returncode == 1 and bad + ":3:1: error:" in r.stderr,
              "a syntax error is reported with its position: " + r.stderr)
        with open(bad) as f:
            check(f.read() == "journey j {\n  on\n}\n", "a file with a syntax error is left alone")

        r = run(juncture, ["fmt", "-w", "--check", path])
        check(r.returncode == 2, "-w with --check is a usage error, got %d" % r.returncode)

    return finish()


if __name__ == "__main__":
    sys.exit(main())

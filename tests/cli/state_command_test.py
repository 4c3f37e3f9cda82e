#!/usr/bin/env python3
"""The state store from the command line (docs/state.md): `juncture run --state-dir`
and `juncture state info|export|import`.

usage: state_command_test.py JUNCTURE

- a run over messages A with --state-dir, then a run over messages B on the same
  directory, decides B exactly as one run over A and B (waits begun in A end in B);
- `state info` counts the customers and pending timers;
- `state export` then `state import` into a new directory carries the state whole:
  B decided from the import is B decided from the original;
- import refuses a directory that already holds state; a damaged store (a truncated
  file) and a foreign directory are refused with the reason, exit 1;
- export through an edited program (a field added to an event) still resumes every wait.
Exit 0 if every check passes; prints each failure otherwise.
"""
import json
import os
import subprocess
import sys
import tempfile

from checks import check, finish

PROGRAM = """
event cart { value: float }
profile { tier: string = "standard" }
channel email { consent true  cap 2 per 1d }
journey rescue {
  on cart
  reenter always
  wait 1h
  send email "nudge" { v: event.value, n: count(cart within 1d) }
}
"""


def track(mid, user, minute):
    return ('{"type":"track","event":"cart","messageId":"%s","userId":"%s",'
            '"timestamp":"2026-06-01T10:%02d:00Z","properties":{"value":%d}}'
            % (mid, user, minute, minute))


def run(juncture, args, stdin=None):
    return subprocess.run([juncture] + args, input=stdin, capture_output=True, text=True)


def decisions(stdout):
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def main():
    juncture = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        program = os.path.join(tmp, "p.jny")
        with open(program, "w") as f:
            f.write(PROGRAM)
        users = ["ana", "ben", "cy"]
        part_a = [track("a%d" % i, users[i % 3], i) for i in range(9)]
        part_b = [track("b%d" % i, users[i % 3], 30 + i) for i in range(6)]
        until = ["--until", "2026-06-01T14:00:00Z"]
        for name, lines in (("a", part_a), ("b", part_b), ("ab", part_a + part_b)):
            with open(os.path.join(tmp, name + ".jsonl"), "w") as f:
                f.write("\n".join(lines) + "\n")
        ev = lambda name: ["--events", os.path.join(tmp, name + ".jsonl")]
        d1, d2, d3 = (os.path.join(tmp, d) for d in ("d1", "d2", "d3"))

        whole = run(juncture, ["run", program] + ev("ab") + until)
        check(whole.returncode == 0, "run over A and B: " + whole.stderr)
        first = run(juncture, ["run", program, "--state-dir", d1] + ev("a"))
        check(first.returncode == 0, "run A with --state-dir: " + first.stderr)
        said_a = decisions(first.stdout)
        check(not any(d["outcome"] == "sent" for d in said_a), "A's waits are still pending")

        info = run(juncture, ["state", "info", "--state-dir", d1])
        check(info.returncode == 0 and "3 customers, 3 pending timers" in info.stdout
              and 'format "juncture.state 2"' in info.stdout,
              "state info: " + info.stdout + info.stderr)

        snap = os.path.join(tmp, "state.snapshot")
        exp = run(juncture, ["state", "export", program, "--state-dir", d1, "--out", snap])
        check(exp.returncode == 0 and os.path.getsize(snap) > 0, "export: " + exp.stderr)
        imp = run(juncture, ["state", "import", program, "--state-dir", d2, "--in", snap])
        check(imp.returncode == 0 and "imported 3 customers" in imp.stderr, "import: " + imp.stderr)
        again = run(juncture, ["state", "import", program, "--state-dir", d2, "--in", snap])
        check(again.returncode == 1 and "already holds state" in again.stderr,
              "import into a store with state: " + again.stderr)

        rest = run(juncture, ["run", program, "--state-dir", d1] + ev("b") + until)
        rest_imported = run(juncture, ["run", program, "--state-dir", d2] + ev("b") + until)
        check(rest.returncode == 0 and rest_imported.returncode == 0, "run B: " + rest.stderr)
        split = said_a + decisions(rest.stdout)
        check([d["id"] for d in split] == [d["id"] for d in decisions(whole.stdout)],
              "A then B from the store decides as one run over A and B")
        check(split == decisions(whole.stdout), "... with the same decisions, field for field")
        check(decisions(rest.stdout) == decisions(rest_imported.stdout),
              "B from an exported and imported store decides as from the original")
        sent = [d for d in decisions(rest.stdout) if d["outcome"] == "sent"]
        check(len(sent) >= 3, "the waits begun in A ended in B with sends")

        # An edited program: cart gains a field; the stored waits still resume.
        edited = os.path.join(tmp, "edited.jny")
        with open(edited, "w") as f:
            f.write(PROGRAM.replace("event cart { value: float }",
                                    "event cart { value: float  coupon: string = \"none\" }"))
        run(juncture, ["state", "import", program, "--state-dir", d3, "--in", snap])
        resumed = run(juncture, ["run", edited, "--state-dir", d3, "--events", "/dev/null"] + until)
        check(resumed.returncode == 0, "run on the edited program: " + resumed.stderr)
        check(sum(d["outcome"] == "sent" for d in decisions(resumed.stdout)) == 3,
              "every stored wait resumes under the edited program: " + resumed.stdout)

        # Damage: a truncated sorted file; a foreign directory.
        ssts = [f for f in os.listdir(d1) if f.endswith(".sst")]
        check(bool(ssts), "the store has sorted files after a run")
        for f in ssts:
            path = os.path.join(d1, f)
            os.truncate(path, os.path.getsize(path) // 2)
        damaged = run(juncture, ["run", program, "--state-dir", d1] + ev("b"))
        check(damaged.returncode == 1 and "is damaged" in damaged.stderr,
              "a damaged store is refused: " + damaged.stderr)
        check(damaged.stdout == "", "nothing is decided on a damaged store")
        foreign = os.path.join(tmp, "foreign")
        os.makedirs(foreign)
        with open(os.path.join(foreign, "notes.txt"), "w") as f:
            f.write("mine\n")
        refused = run(juncture, ["state", "info", "--state-dir", foreign])
        check(refused.returncode == 1 and "not a Juncture state store" in refused.stderr,
              "a foreign directory is refused: " + refused.stderr)
    return finish()


if __name__ == "__main__":
    sys.exit(main())

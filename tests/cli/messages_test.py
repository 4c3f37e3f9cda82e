#!/usr/bin/env python3
"""Messages of the command line that tell a user what happened (docs/diagnostics.md).

usage: messages_test.py JUNCTURE EXAMPLES_DIR

- an unknown command: exit 2, its name, the closest command, the list of commands;
- `juncture run` names the undeclared events it ignored, with counts, and lists what
  is still pending when its input ends (journey, step, kind, how many, first due);
- `juncture test` refuses a scenario file with keys its format does not have, each
  with its line and column, and runs nothing of it.
Exit 0 if every check passes; prints each failure otherwise.
"""
import json
import os
import subprocess
import sys
import tempfile

from checks import check, finish


def run(juncture, args, stdin=None, cwd=None):
    return subprocess.run([juncture] + args, input=stdin, capture_output=True, text=True,
                          timeout=120, cwd=cwd)


PROGRAM = """event cart {
  value: float
}
channel email {
  consent true
}
journey rescue {
  on cart
  reenter always

  wait 1h
  send email "nudge"
}
"""


def track(mid, event, minute):
    return json.dumps({"type": "track", "event": event, "messageId": mid, "userId": "u-" + mid,
                       "timestamp": "2026-06-01T10:%02d:00Z" % minute, "properties": {"value": 1}})


def main():
    juncture, examples = os.path.abspath(sys.argv[1]), sys.argv[2]

    r = run(juncture, ["lnt", examples])
    check(r.returncode == 2, "an unknown command exits 2, got %d" % r.returncode)
    check("juncture: unknown command 'lnt'; did you mean 'lint'?" in r.stderr, r.stderr)
    check("the commands are: lint, compile, fmt, graph, run," in r.stderr, r.stderr)

    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "p.jny"), "w") as f:
            f.write(PROGRAM)
        events = "\n".join([track("m1", "cart", 0), track("m2", "page_scroll", 1),
                            track("m3", "page_scroll", 2), track("m4", "wishlist", 3),
                            track("m5", "cart", 30)]) + "\n"
        r = run(juncture, ["run", "p.jny", "--events", "-"], stdin=events, cwd=tmp)
        check(r.returncode == 0, "run: exit %d %s" % (r.returncode, r.stderr))
        check("juncture run: ignored, not declared by the program: page_scroll (2), wishlist (1)"
              in r.stderr, "run names the ignored events: " + r.stderr)
        check("juncture run: still pending at 2026-06-01T10:30:00.000Z (--until runs time on):\n"
              "  rescue s1 wait: 2 customers, the first due 2026-06-01T11:00:00.000Z" in r.stderr,
              "run lists what is pending: " + r.stderr)
        r = run(juncture, ["run", "p.jny", "--events", "-", "--until", "+2h"], stdin=events, cwd=tmp)
        check("still pending" not in r.stderr, "nothing pending once time ran on: " + r.stderr)

        scenario = {"program": ["p.jny"], "scenarios": [
            {"name": "one", "messages": [], "expect": [{"journey": "rescue", "chanel": "email"}]},
            {"name": "two", "mesages": []}]}
        text = json.dumps(scenario, indent=2)
        with open(os.path.join(tmp, "s.test.json"), "w") as f:
            f.write(text)
        r = run(juncture, ["test", "s.test.json"], cwd=tmp)
        check(r.returncode == 1, "test with unknown keys exits 1, got %d" % r.returncode)
        lines = text.split("\n")
        chanel_line = next(i for i, l in enumerate(lines) if '"chanel"' in l) + 1
        mesages_line = next(i for i, l in enumerate(lines) if '"mesages"' in l) + 1
        check("s.test.json:%d:11: unknown key 'chanel' in an expected decision" % chanel_line
              in r.stdout, "the misspelled expectation key with its position: " + r.stdout)
        check("s.test.json:%d:7: unknown key 'mesages' in a scenario" % mesages_line in r.stdout,
              "the misspelled scenario key with its position: " + r.stdout)
        check("0 passed, 1 failed" in r.stdout, "nothing of that file ran: " + r.stdout)

    return finish()


if __name__ == "__main__":
    sys.exit(main())

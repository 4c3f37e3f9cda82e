#!/usr/bin/env python3
"""`juncture explain` from the command line (docs/tooling.md, "explain").

usage: explain_command_test.py JUNCTURE CONFORMANCE_DIR GOLDEN_DIR

For every decision case of the conformance suite and every customer in it:
- the trace is the reviewed one in GOLDEN_DIR/<case>.<customer>.txt
  (JUNCTURE_UPDATE_GOLDEN=1 rewrites them: review the diff before committing);
- the JIT and the interpreter explain alike, byte for byte;
- the decisions in the trace (--format json) are exactly those `juncture run` makes
  for that customer: the same engine explains what it decides.
Then the options: --journey keeps one journey, an ISO-8601 --until stops reading,
an unknown customer or journey is refused with a suggestion.
Exit 0 if every check passes; prints each failure otherwise.
"""
import json
import os
import re
import subprocess
import sys

from checks import check, finish


def run(juncture, args):
    return subprocess.run([juncture] + args, capture_output=True, timeout=120)


def customers_of(events):
    """Customer ids in order of first appearance (lines that are not JSON skipped)."""
    seen = []
    with open(events, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                m = json.loads(line)
            except ValueError:
                continue
            if not isinstance(m, dict):
                continue
            c = m.get("userId") or m.get("anonymousId")
            if isinstance(c, str) and c and c not in seen:
                seen.append(c)
    return seen


def run_decisions(juncture, case_args, customer):
    """(id, outcome, reason) of every decision `juncture run` makes for the customer."""
    r = run(juncture, ["run"] + case_args)
    out = []
    for line in r.stdout.decode().splitlines():
        d = json.loads(line)
        if d.get("customer") == customer:
            out.append((d["id"], d["outcome"], d.get("reason", "")))
    return sorted(out)


def trace_decisions(json_lines):
    """(id, outcome, reason) of every decision entry of a JSON trace."""
    out = []
    for line in json_lines.splitlines():
        e = json.loads(line)
        if e["kind"] != "decision":
            continue
        m = re.match(r"^(\w+)(?: (\w+))?.*\[(.*)\]$", e["text"])
        outcome, reason, ident = m.group(1), m.group(2) or "", m.group(3)
        if outcome not in ("suppressed",):
            reason = ""
        out.append((ident, outcome, reason))
    return sorted(out)


def main():
    juncture, conformance, golden = sys.argv[1], sys.argv[2], sys.argv[3]
    update = os.environ.get("JUNCTURE_UPDATE_GOLDEN") == "1"
    cases = sorted(d for d in os.listdir(conformance)
                   if os.path.isfile(os.path.join(conformance, d, "program.jny")))
    check(len(cases) >= 9, "the conformance cases are there: %d" % len(cases))
    traced = 0
    for case in cases:
        folder = os.path.join(conformance, case)
        events = os.path.join(folder, "events.jsonl")
        args = [os.path.join(folder, "program.jny"), "--events", events]
        until_file = os.path.join(folder, "until")
        if os.path.exists(until_file):
            with open(until_file) as f:
                args += ["--until", f.read().strip()]
        for customer in customers_of(events):
            name = "%s.%s" % (case, re.sub(r"[^A-Za-z0-9_-]", "_", customer))
            r = run(juncture, ["explain"] + args + ["--customer", customer])
            text = r.stdout.decode()
            if not check(r.returncode == 0, "%s: exit %d %s" % (name, r.returncode, r.stderr.decode())):
                continue
            traced += 1
            path = os.path.join(golden, name + ".txt")
            if update:
                with open(path, "w") as f:
                    f.write(text)
            elif check(os.path.exists(path), "%s: no reviewed trace %s" % (name, path)):
                with open(path) as f:
                    want = f.read()
                check(text == want, "%s: the trace differs from %s:\n%s" % (name, path, text))
            r2 = run(juncture, ["explain", "--no-jit"] + args + ["--customer", customer])
            check(r2.stdout.decode() == text, "%s: the interpreter explains differently:\n%s"
                  % (name, r2.stdout.decode()))
            r3 = run(juncture, ["explain", "--format", "json"] + args + ["--customer", customer])
            check(trace_decisions(r3.stdout.decode()) == run_decisions(juncture, args, customer),
                  "%s: the trace's decisions are not those of juncture run" % name)
    check(traced >= 18, "customers traced: %d" % traced)

    # The options, on one case: c1 (two journeys competing for one channel).
    folder = os.path.join(conformance, "c1_arbitration")
    args = [os.path.join(folder, "program.jny"), "--events", os.path.join(folder, "events.jsonl")]
    customer = customers_of(os.path.join(folder, "events.jsonl"))[0]
    whole = run(juncture, ["explain"] + args + ["--customer", customer]).stdout.decode()
    journeys = sorted(set(re.findall(r"^  (\w+) (?:enters|does not enter)", whole, re.M)))
    check(len(journeys) >= 2, "c1 concerns several journeys: %s" % journeys)
    if journeys:
        one = run(juncture, ["explain"] + args + ["--customer", customer, "--journey", journeys[0]])
        out = one.stdout.decode()
        others = [j for j in journeys[1:] if re.search(r"^  (=> )?%s " % j, out, re.M)]
        check(one.returncode == 0 and journeys[0] in out and not others,
              "--journey keeps one journey: %s" % out)

    r = run(juncture, ["explain"] + args + ["--customer", customer + "x"])
    check(r.returncode == 1 and b"no message of customer" in r.stderr and
          ("did you mean '%s'" % customer).encode() in r.stderr,
          "an unknown customer: exit 1 with a suggestion: %s" % r.stderr.decode())
    r = run(juncture, ["explain"] + args + ["--customer", customer, "--journey", "nope"])
    check(r.returncode == 2 and b"has no journey 'nope'" in r.stderr,
          "an unknown journey: exit 2: %s" % r.stderr.decode())

    # An ISO-8601 --until stops before the first message decided after it.
    times = re.findall(r"^(\S+Z)  ", whole, re.M)
    if check(len(times) >= 2, "c1 has several timed lines"):
        r = run(juncture, ["explain"] + args + ["--customer", customer, "--until", times[0]])
        late = [t for t in re.findall(r"^(\S+Z)  ", r.stdout.decode(), re.M) if t > times[0]]
        check(r.returncode == 0 and not late, "--until %s stops there: %s" % (times[0], late))
    return finish()


if __name__ == "__main__":
    sys.exit(main())

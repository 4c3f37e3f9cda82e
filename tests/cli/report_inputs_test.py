#!/usr/bin/env python3
"""`juncture report` on bad input, and its exit codes.

usage: report_inputs_test.py JUNCTURE EXAMPLES_DIR

- decision lines that are not JSON, not objects, miss a field, have a bad time or an
  unknown outcome are counted, named on stderr with their line number, and skipped;
  blank lines and duplicate decisions are counted; the good lines are still reported;
- receipt lines that are not JSON or miss a field, duplicates, receipts for decisions
  not in the log or not sent are counted, never fatal;
- held-out sends (control with a channel), deferrals with and without their release
  and suppressions are counted per channel; an arm without entries has uplift n/a;
- the examples' reviewed demo decisions give the counts they hold;
- the decision log can come from stdin;
- exit 1 when a file cannot be read or the program does not compile; exit 2 for usage
  errors (no file, a bad --format, a malformed or repeated --deadline).
Exit 0 if every check passes; prints each failure otherwise.
"""
import json
import os
import subprocess
import sys
import tempfile

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL: " + what)


def run(args, stdin=None):
    return subprocess.run(args, capture_output=True, text=True, timeout=120, input=stdin)


def decision(id, outcome, customer="ana", journey="j", **extra):
    d = {"id": id, "customer": customer, "journey": journey, "version": "v1", "step": "s1",
         "outcome": outcome, "cause": "m", "at": "2026-12-01T10:00:00.000Z"}
    d.update(extra)
    return json.dumps(d)


def send(id, outcome, channel="email", **extra):
    return decision(id, outcome, channel=channel, template="t",
                    signal="2026-12-01T09:59:58.000Z", **extra)


def main():
    binary, examples = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="juncture-report-inputs-") as tmp:
        run_checks(binary, examples, tmp)
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


def run_checks(binary, examples, tmp):
    lines = [
        decision("m1:j:entry:entered", "entered"),                        # 1
        "this is not json",                                               # 2
        "",                                                               # 3 blank
        "[1, 2, 3]",                                                      # 4
        json.dumps({"id": "x", "customer": "ana", "outcome": "entered",
                    "at": "2026-12-01T10:00:00Z"}),                       # 5 no journey
        decision("m9:j:s1", "bounced"),                                   # 6 unknown outcome
        decision("m8:j:s1", "sent"),                                      # 7 a send without channel
        send("m1:j:s1", "sent"),                                          # 8
        send("m1:j:s1", "sent"),                                          # 9 duplicate
        send("m2:j:s2", "control"),                                       # 10 held-out send
        send("m3:j:s1", "deferred", until="2026-12-02T07:00:00.000Z"),    # 11
        send("m3:j:s1:release", "sent", channel="email"),                 # 12
        send("m4:j:s1", "deferred", until="2026-12-02T07:00:00.000Z"),    # 13 never released
        send("m5:j:s1", "suppressed", reason="consent"),                  # 14
        send("m6:j:s1", "suppressed", channel="sms", reason="quiet"),     # 15
        json.dumps({"id": "m7", "customer": "ana", "journey": "j", "outcome": "sent",
                    "channel": "sms", "at": "26 Dec"}),                   # 16 bad time
        '{"id": "m10", "customer": "ana", "journey": "j", "outcome": "sent", ',  # 17 cut off
        decision("m11:j:goal:converted", "converted", arm="treatment"),   # 18
        "   ",                                                            # 19 blank
    ]
    decisions = os.path.join(tmp, "decisions.jsonl")
    with open(decisions, "w") as f:
        f.write("\n".join(lines) + "\n")
    receipts = os.path.join(tmp, "receipts.jsonl")
    with open(receipts, "w") as f:
        f.write("\n".join([
            json.dumps({"decision": "m1:j:s1", "status": "delivered", "at": "2026-12-01T10:00:03.000Z"}),
            json.dumps({"decision": "m1:j:s1", "status": "delivered", "at": "2026-12-01T10:00:04.000Z"}),
            json.dumps({"decision": "m1:j:s1", "status": "clicked", "at": "2026-12-01T10:05:00.000Z"}),
            "{{{",
            json.dumps({"decision": "m1:j:s1", "status": "bounced", "at": "2026-12-01T10:00:03.000Z"}),
            json.dumps({"decision": "m1:j:s1", "status": "opened"}),
            json.dumps({"decision": "nobody", "status": "delivered", "at": "2026-12-01T10:00:03.000Z"}),
            json.dumps({"decision": "m2:j:s2", "status": "delivered", "at": "2026-12-01T10:00:03.000Z"}),
            json.dumps({"decision": "m3:j:s1:release", "status": "failed", "at": "2026-12-02T07:00:01.000Z"}),
        ]) + "\n")

    p = run([binary, "report", decisions, "--receipts", receipts, "--format", "json",
             "--deadline", "j=5s"])
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr}")
    for n, why in [(2, "not JSON"), (4, "not a JSON object"), (5, 'no "journey"'),
                   (6, 'unknown outcome "bounced"'), (7, 'a sent decision without "channel"'),
                   (16, '"at" is not an ISO-8601 time'), (17, "not JSON")]:
        check(f"{decisions}:{n}: {why}" in p.stderr, f"stderr does not name line {n} ({why}): {p.stderr}")
    for n, why in [(4, "not JSON"), (5, 'unknown status "bounced"'), (6, 'no "at"')]:
        check(f"{receipts}:{n}: {why}" in p.stderr, f"stderr does not name receipt line {n}: {p.stderr}")
    try:
        out = json.loads(p.stdout)
    except ValueError as e:
        check(False, f"not JSON: {e}: {p.stdout[:500]}")
        return
    check(out["input"]["decisions"] == {
        "file": decisions, "lines": 19, "decisions": 9, "blank_lines": 2, "bad_lines": 7,
        "duplicates": 1, "sends_without_signal": 0, "holdouts_without_entry": 0,
        "conversions_without_entry": 0}, f"decision counters: {out['input']['decisions']}")
    check(out["input"]["receipts"] == {
        "file": receipts, "lines": 9, "receipts": 3, "blank_lines": 0, "bad_lines": 3,
        "duplicates": 1, "unknown_decision": 1, "not_sent": 1},
        f"receipt counters: {out['input']['receipts']}")
    j = out["journeys"][0]
    check(j["sends"] == {
        "email": {"sent": 2, "deferred": 2, "control": 1, "suppressed": {"consent": 1},
                  "released": 1, "pending": 1},
        "sms": {"sent": 0, "deferred": 0, "control": 0, "suppressed": {"quiet": 1},
                "released": 0, "pending": 0}}, f"sends: {j['sends']}")
    check(j["receipts"]["email"] == {"delivered": 1, "opened": 0, "clicked": 1, "failed": 1,
                                     "sent_without_delivery": 1}, f"receipts: {j['receipts']}")
    # The one delivered send: 2 s from signal to decision, 3 s to the customer, 5 s in all.
    check(j["split_times"]["email"]["signal_to_customer"] ==
          {"count": 1, "p50": 5.0, "p90": 5.0, "p99": 5.0, "max": 5.0},
          f"split: {j['split_times']}")
    check(j["moment_fit"]["channels"]["email"] == {"delivered": 1, "within": 1, "rate": 1.0},
          f"fit: {j['moment_fit']}")
    conv = j["conversions"]
    check(conv["treatment"]["conversions"] == 1 and conv["treatment"]["rate"] == 1.0
          and conv["control"]["entries"] == 0 and conv["control"]["rate"] is None
          and conv["uplift"]["difference"] is None and conv["uplift"]["ci95"] is None,
          f"conversions: {conv}")

    text = run([binary, "report", decisions, "--receipts", receipts])
    check(text.returncode == 0, f"text: exit {text.returncode}")
    check("uplift        n/a (no control entries)" in text.stdout, f"text uplift:\n{text.stdout}")
    check("consent 1" in text.stdout and "quiet 1" in text.stdout, f"text sends:\n{text.stdout}")
    check("n/a: no deadline" in text.stdout, f"text fit without deadline:\n{text.stdout}")

    # The examples' reviewed demo decisions (juncture run on examples/events/demo.jsonl).
    demo = os.path.join(examples, "expected", "demo.decisions.jsonl")
    p = run([binary, "report", demo, "--format", "json", "--program", examples])
    check(p.returncode == 0, f"demo: exit {p.returncode}: {p.stderr}")
    out = json.loads(p.stdout) if p.returncode == 0 else None
    if out:
        total = out["total"]
        expected = [json.loads(line) for line in open(demo)]
        count = lambda f: sum(1 for d in expected if f(d))
        check(total["entries"]["total"] == count(lambda d: d["outcome"] == "entered"),
              f"demo entries: {total['entries']}")
        sent = sum(c["sent"] for c in total["sends"].values())
        check(sent == count(lambda d: d["outcome"] == "sent"), f"demo sends: {total['sends']}")
        deferred = sum(c["deferred"] for c in total["sends"].values())
        released = sum(c["released"] for c in total["sends"].values())
        check(deferred == 2 and released == 2, f"demo deferrals: {total['sends']}")
        win_back = [x for x in out["journeys"] if x["journey"] == "win_back"][0]
        check(win_back["entries"]["control"] == 1, f"win_back holdout: {win_back['entries']}")
        # win_back has a goal (the program says so); no one converts in these two days.
        check(win_back["conversions"]["goal"] == "program" and
              win_back["conversions"]["treatment"]["conversions"] == 0,
              f"win_back goal: {win_back['conversions']}")
        cart = [x for x in out["journeys"] if x["journey"] == "cart_rescue"][0]
        check(cart["conversions"]["treatment"]["conversions"] == 2,
              f"cart_rescue conversions: {cart['conversions']}")

    # stdin.
    with open(decisions) as f:
        p = run([binary, "report", "-", "--format", "json"], stdin=f.read())
    check(p.returncode == 0 and json.loads(p.stdout)["input"]["decisions"]["decisions"] == 9,
          f"stdin: exit {p.returncode}")

    # Exit codes.
    missing = os.path.join(tmp, "missing.jsonl")
    bad_program = os.path.join(tmp, "bad.jny")
    with open(bad_program, "w") as f:
        f.write("journey { nope\n")
    for args, code in [
        ([missing], 1),
        ([decisions, "--receipts", missing], 1),
        ([decisions, "--program", bad_program], 1),
        ([], 2),
        ([decisions, "--format", "xml"], 2),
        ([decisions, "--deadline", "j"], 2),
        ([decisions, "--deadline", "j=10"], 2),
        ([decisions, "--deadline", "=10m"], 2),
        ([decisions, "--deadline", "j=0s"], 2),
        ([decisions, "--deadline", "j=10m", "--deadline", "j=1h"], 2),
    ]:
        p = run([binary, "report"] + args)
        check(p.returncode == code, f"report {args}: exit {p.returncode}, want {code}: {p.stderr}")
    p = run([binary, "report", decisions, "--deadline", "nosuch=10m"])
    check(p.returncode == 0 and "--deadline nosuch: no decision of that journey" in p.stderr,
          f"--deadline for an unknown journey: {p.stderr}")


if __name__ == "__main__":
    sys.exit(main())

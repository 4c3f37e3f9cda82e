#!/usr/bin/env python3
"""`juncture run` on hostile input: its outputs stay strict JSON lines and its bounds
(docs/limits.md) are options that are applied, reported and counted.

usage: run_command_test.py JUNCTURE

- stdout: every line is a JSON object in valid UTF-8;
- --dead-letter: every line is a JSON object in valid UTF-8 with a reason and either
  "message" (the message as text) or "message_base64" (its bytes, when they are not
  UTF-8); the exact bytes of every dead message come back, in input order;
- blank (whitespace-only) lines are counted in the summary, not fed to the engine;
- each limit (--max-skew, --max-customer-id-bytes, --max-timers-per-customer,
  --max-window-events, --max-unknown-traits) is applied and its counter reported;
- what the analytics SDKs send is understood (page, screen, group, alias calls,
  originalTimestamp, numeric userIds, a byte-order mark) and a messageId delivered
  twice is decided once (--dedup-window 0: twice);
- option errors are usage errors (exit 2); `run`, `test` and `serve` share the options
  (serve has no --max-skew: it decides on the wall clock).
Exit 0 if every check passes; prints each failure otherwise.
"""
import base64
import json
import os
import subprocess
import sys
import tempfile

PROGRAM = """
event cart { value: float }
event page_view { path: string }
profile { tier: string = "standard"  email_opt_in: bool = true }
channel email { consent profile.email_opt_in }
journey rescue {
  on cart
  reenter always
  wait 1h
  send email "nudge" { v: event.value, views: count(page_view within 1d) }
}
"""

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL: " + what)


def track(mid, user, ts, event="cart", props='{"value":5}'):
    return ('{"type":"track","event":"%s","messageId":"%s","userId":"%s","timestamp":"%s",'
            '"properties":%s}' % (event, mid, user, ts, props)).encode()


def strict_json_lines(data, name):
    """Each line decoded as strict UTF-8 and parsed; None where that fails."""
    out = []
    for n, raw in enumerate(data.split(b"\n")[:-1], 1):
        try:
            out.append(json.loads(raw.decode("utf-8", errors="strict")))
        except (UnicodeDecodeError, ValueError) as e:
            check(False, f"{name} line {n} is not strict JSON in UTF-8: {e}: {raw[:120]!r}")
            out.append(None)
    check(data == b"" or data.endswith(b"\n"), f"{name} does not end with a newline")
    return out


SDK_PROGRAM = """
event cart { value: float }
event page { name: string = ""  category: string?  path: string? }
profile { email_opt_in: bool = true }
channel email { consent profile.email_opt_in }
journey rescue {
  on cart
  reenter always
  send email "nudge" { v: event.value }
}
journey pricing {
  on page when event.name == "Pricing"
  reenter always
  send email "pricing" { path: event.path ?? "", category: event.category ?? "" }
}
"""


def segment_calls(binary, tmp):
    """What the analytics SDKs send (docs/wire.md): page calls, group and alias,
    originalTimestamp, numeric userIds, a byte-order mark; and deduplication by
    messageId, with --dedup-window 0 turning it off."""
    program = os.path.join(tmp, "sdk.jny")
    with open(program, "w") as f:
        f.write(SDK_PROGRAM)
    lines = [
        b'\xef\xbb\xbf{"type":"track","event":"cart","messageId":"a1","userId":4242,'
        b'"originalTimestamp":"2026-10-01T09:00:00Z","properties":{"value":5},'
        b'"context":{"library":{"name":"analytics-node"}},"channel":"server","_metadata":{},'
        b'"sentAt":"2026-10-01T09:00:01Z","integrations":{}}',
        b'{"type":"page","name":"Pricing","category":"Docs","messageId":"a2","userId":"u1",'
        b'"timestamp":"2026-10-01T09:01:00Z","properties":{"path":"/pricing"}}',
        b'{"type":"page","name":"Home","messageId":"a3","userId":"u1","timestamp":"2026-10-01T09:02:00Z"}',
        b'{"type":"screen","name":"Checkout","messageId":"a4","userId":"u1","timestamp":"2026-10-01T09:03:00Z"}',
        b'{"type":"group","groupId":"acme","messageId":"a5","userId":"u1","timestamp":"2026-10-01T09:04:00Z"}',
        b'{"type":"alias","previousId":"anon","messageId":"a6","userId":"u1","timestamp":"2026-10-01T09:05:00Z"}',
        # The pipeline delivers the first two again (at-least-once).
        b'{"type":"track","event":"cart","messageId":"a1","userId":"4242",'
        b'"timestamp":"2026-10-01T09:06:00Z","properties":{"value":5}}',
        b'{"type":"page","name":"Pricing","category":"Docs","messageId":"a2","userId":"u1",'
        b'"timestamp":"2026-10-01T09:07:00Z","properties":{"path":"/pricing"}}',
    ]
    events = os.path.join(tmp, "sdk.jsonl")
    with open(events, "wb") as f:
        f.write(b"\n".join(lines) + b"\n")
    dead = os.path.join(tmp, "sdk-dead.jsonl")
    for window, copies in (([], 1), (["--dedup-window", "0"], 2)):
        p = subprocess.run([binary, "run", program, "--events", events, "--dead-letter", dead] + window,
                           capture_output=True, timeout=60)
        check(p.returncode == 0, f"sdk calls {window}: exit {p.returncode}: {p.stderr.decode(errors='replace')}")
        sends = [json.loads(line) for line in p.stdout.decode().splitlines()]
        sends = [(d["customer"], d["template"], d["params"]) for d in sends if d.get("outcome") == "sent"]
        want = [("4242", "nudge", {"v": 5}), ("u1", "pricing", {"path": "/pricing", "category": "Docs"})]
        want = want if copies == 1 else want + want
        check(sends == want, f"sdk calls {window}: sends {sends}, not {want}")
        with open(dead, "rb") as f:
            check(f.read() == b"", f"sdk calls {window}: dead letters")
        summary = p.stderr.decode(errors="replace")
        check("2 group/alias calls not used" in summary, f"sdk calls {window}: summary {summary!r}")
        check(("2 duplicates (--dedup-window)" in summary) == (copies == 1),
              f"sdk calls {window}: duplicates in the summary {summary!r}")
        check("ignored, not declared by the program: screen (1)" in summary,
              f"sdk calls {window}: the screen call is an undeclared event: {summary!r}")


def main():
    with tempfile.TemporaryDirectory(prefix="juncture-run-test-") as tmp:
        return run_checks(sys.argv[1], tmp)


def run_checks(binary, tmp):
    program = os.path.join(tmp, "p.jny")
    with open(program, "w") as f:
        f.write(PROGRAM)

    long_id = "u" * 600
    lines = [  # (bytes, dead?)
        (track("m1", "c1", "2026-10-01T09:00:00Z"), False),  # c1 waits: 1 timer
        (b"", None),
        (b"   \t ", None),
        (track("m2", "c1", "2026-10-01T09:10:00Z"), True),  # at --max-timers-per-customer 1
        (b'{"type":"track","event":"cart","messageId":"bad\xff","userId":"c1"}', True),
        (b"\xff\xfe\x00 not json \xc3", True),
        (b'{"type":"track","event":"cart","messageId":"ctl","userId":"c\x01"}', True),
        (b"\r", None),
        (track("m3", "c2", "2100-01-01T00:00:00Z"), True),  # --max-skew
        (track("m4", long_id, "2026-10-01T09:20:00Z"), True),  # --max-customer-id-bytes
        (b'{"type":"identify","messageId":"i1","userId":"c2","timestamp":"2026-10-01T09:21:00Z",'
         b'"traits":{"tier":"gold","a":1,"b":2,"c":3,"d":"\xc3\xa9","e":null}}', False),
        (track("p1", "c2", "2026-10-01T09:22:00Z", "page_view", '{"path":"/"}'), False),
        (track("p2", "c2", "2026-10-01T09:23:00Z", "page_view", '{"path":"/"}'), False),
        (track("p3", "c2", "2026-10-01T09:24:00Z", "page_view", '{"path":"/"}'), False),
        (track("p4", "c2", "2026-10-01T09:25:00Z", "page_view", '{"path":"/café"}'), False),
        (track("m5", "c2", "2026-10-01T09:26:00Z"), False),
    ]
    events = os.path.join(tmp, "events.jsonl")
    with open(events, "wb") as f:
        f.write(b"\n".join(line for line, _ in lines) + b"\n")
    dead_path = os.path.join(tmp, "dead.jsonl")
    limits = ["--max-timers-per-customer", "1", "--max-window-events", "2",
              "--max-unknown-traits", "2"]
    cmd = [binary, "run", program, "--events", events, "--dead-letter", dead_path,
           "--until", "+1d"] + limits
    p = subprocess.run(cmd, capture_output=True, timeout=120)
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr.decode(errors='replace')}")
    summary = p.stderr.decode("utf-8", errors="replace")

    decisions = strict_json_lines(p.stdout, "stdout")
    check(all(isinstance(d, dict) for d in decisions), "a decision is not a JSON object")
    sends = [d for d in decisions if isinstance(d, dict) and d.get("channel")]
    check([(d["customer"], d["params"]) for d in sends] ==
          [("c1", {"v": 5, "views": 0}), ("c2", {"v": 5, "views": 2})],
          f"sends: {sends}")  # views capped at the latest 2 page views

    check(os.path.exists(dead_path), "no dead-letter file")
    with open(dead_path, "ab+") as f:
        f.seek(0)
        dead = strict_json_lines(f.read(), "dead-letter file")
    expected = [line for line, is_dead in lines if is_dead]
    check(len(dead) == len(expected), f"{len(dead)} dead letters, {len(expected)} expected")
    for n, (d, raw) in enumerate(zip(dead, expected), 1):
        if not isinstance(d, dict):
            continue
        keys = set(d)
        check(keys in ({"reason", "message"}, {"reason", "message_base64"}),
              f"dead letter {n} has keys {sorted(keys)}")
        check(isinstance(d.get("reason"), str) and d["reason"], f"dead letter {n} has no reason")
        if "message" in d:
            got = d["message"].encode("utf-8")
        else:
            got = base64.b64decode(d.get("message_base64", ""), validate=True)
        check(got == raw, f"dead letter {n} gives back {got[:80]!r}, not {raw[:80]!r}")
        try:
            raw.decode("utf-8")
            check("message" in d, f"dead letter {n} is UTF-8 but written as base64")
        except UnicodeDecodeError:
            check("message_base64" in d, f"dead letter {n} is not UTF-8 but written as text")
    reasons = [d.get("reason") for d in dead if isinstance(d, dict)]
    for want in [
        "the customer has 1 pending waits and deferred sends, the limit is 1 "
        "(--max-timers-per-customer)",
        "timestamp 2100-01-01T00:00:00.000Z is more than 365d ahead of the engine's time "
        "2026-10-01T09:10:00.000Z (--max-skew)",
        "userId is 600 bytes, more than 512 (--max-customer-id-bytes)",
    ]:
        check(want in reasons, f"no dead letter with reason {want!r}; got {reasons}")

    for want in ["13 messages (6 dead letters, 0 ignored), 3 blank lines skipped,",
                 "1 dead letters dated too far ahead (--max-skew)",
                 "1 dead letters with too long a customer id (--max-customer-id-bytes)",
                 "1 dead letters for customers at the timer limit (--max-timers-per-customer)",
                 "2 window events dropped (--max-window-events)",
                 "3 unknown traits dropped (--max-unknown-traits)"]:
        check(want in summary, f"summary lacks {want!r}: {summary}")

    # --max-skew 0 turns the check off; without limits nothing is reported.
    p = subprocess.run([binary, "run", program, "--events", events, "--max-skew", "0"],
                       capture_output=True, timeout=120)
    summary = p.stderr.decode("utf-8", errors="replace")
    check(p.returncode == 0, f"--max-skew 0: exit {p.returncode}")
    check("13 messages (4 dead letters" in summary, f"--max-skew 0: {summary}")
    check("too far ahead" not in summary, f"--max-skew 0 still refuses: {summary}")
    check("1 dead letters with too long a customer id" in summary, f"default id bound: {summary}")
    for other in ("timer limit", "window events dropped", "unknown traits dropped"):
        check(other not in summary, f"defaults: {other!r} reported: {summary}")

    # Bad values are usage errors.
    for bad in (["--max-skew", "5x"], ["--max-skew", "30"], ["--max-window-events", "-1"]):
        p = subprocess.run([binary, "run", program, "--events", events] + bad,
                           capture_output=True, timeout=60)
        check(p.returncode == 2, f"{bad}: exit {p.returncode}, not 2")
        check(bad[0] in p.stderr.decode(errors="replace") or bad[0] in p.stdout.decode(errors="replace"),
              f"{bad}: the error does not name the option")

    segment_calls(binary, tmp)

    # One set of options for run, test and serve (serve has no --max-skew).
    helps = {}
    for cmd in ("run", "test", "serve"):
        helps[cmd] = subprocess.run([binary, cmd, "--help"], capture_output=True, text=True,
                                    timeout=60).stdout
    for cmd, text in helps.items():
        for option, default in (("--max-customer-id-bytes", "512"),
                                ("--max-timers-per-customer", "1000"),
                                ("--max-window-events", "10000"),
                                ("--max-unknown-traits", "64"),
                                ("--max-unpacked-customers", "65536")):
            check(option in text and "=" + default in text.split(option, 1)[1].split("\n")[0],
                  f"{cmd} --help: {option} with default {default}")
        check(("--max-skew" in text) == (cmd != "serve"), f"{cmd} --help: --max-skew")
        check("--dedup-window" in text and "=1d" in text.split("--dedup-window", 1)[1].split("\n")[0],
              f"{cmd} --help: --dedup-window with default 1d")
        check("--max-dedup-ids" in text and "=256" in text.split("--max-dedup-ids", 1)[1].split("\n")[0],
              f"{cmd} --help: --max-dedup-ids with default 256")
    check("DURATION=365d" in helps["run"], "run --help: --max-skew default 365d")

    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""`juncture report` on a generated stream whose truth is known.

usage: report_generated_test.py JUNCTURE

A journey splits its entries 80/20 into a send and a holdout (`control`), has a goal
(`purchase within 3d`) and a deadline (10m). A few thousand customers enter it; each
cart message is received (receivedAt, the decision time) a known lag after it was
captured (timestamp, the signal), some lags past the deadline. A first `juncture run`
tells each customer's arm (the engine's split is a stable hash); purchases are then
drawn with a known true rate per arm (treatment 30%, control 20%; fixed seed), and a
second run decides on carts and purchases together. Receipts are generated for the
sends with known delays, some failed, some duplicated, some for decisions that are not
in the log or were not sent, and two that are not JSON.

Checked against the generator's own bookkeeping:
- entries, holdout size, sends (sent, suppressed late) and conversions per arm, exactly;
- each arm's measured rate lies within the 95% interval of its true rate
  (|p̂ - p| <= 1.96·sqrt(p(1-p)/n)), the uplift's reported 95% interval contains the true
  uplift (10 points) and says significant, and the rates, difference and interval equal
  an independent computation from the counts;
- split-time quantiles (nearest rank) of signal→decision, decision→customer and
  signal→customer, exactly;
- the moment fit rate (delivered within 10m of the signal, boundaries included) exactly,
  with the deadline from the program, from --deadline, and --deadline over the program;
- the receipt counters (duplicates, unknown, not sent, bad lines);
- the text report runs on the same inputs.
Exit 0 if every check passes; prints each failure otherwise.
"""
import datetime
import json
import math
import os
import random
import subprocess
import sys
import tempfile

PROGRAM = """
event cart { value: float }
event purchase { amount: float }
profile { email_opt_in: bool = true }
channel email { consent profile.email_opt_in }
journey promo {
  on cart
  goal purchase within 3d
  deadline 10m
  split {
    80%: send email "offer" { value: event.value }
    20%: control
  }
}
"""

CUSTOMERS = 4000
TRUE_RATE = {"treatment": 0.30, "control": 0.20}
DEADLINE_S = 600
LAGS_S = [0, 20, 90, 240, 720]                   # received after capture; 720 s is late
DELAYS_S = [1, 180, 360, 510.001, 510]           # delivered after the decision
START = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)
Z = 1.959963984540054

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL: " + what)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=600, **kw)


def nearest_rank(values, q):
    s = sorted(values)
    return s[max(0, math.ceil(q * len(s) - 1e-9) - 1)]


def quantiles(values):
    return {"count": len(values), "p50": nearest_rank(values, 0.5), "p90": nearest_rank(values, 0.9),
            "p99": nearest_rank(values, 0.99), "max": max(values)}


def same_quantiles(got, want, what):
    ok = isinstance(got, dict) and got.get("count") == want["count"] and all(
        abs(got[k] - want[k]) < 1e-6 for k in ("p50", "p90", "p99", "max"))
    check(ok, f"{what}: got {got}, want {want}")


def decide(binary, program, messages, path):
    messages = sorted(messages, key=lambda m: m[0])
    with open(path, "w") as f:
        for _, m in messages:
            f.write(json.dumps(m) + "\n")
    p = run([binary, "run", program, "--events", path])
    check(p.returncode == 0, f"juncture run: exit {p.returncode}: {p.stderr}")
    return [json.loads(line) for line in p.stdout.splitlines()]


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="juncture-report-gen-") as tmp:
        run_checks(binary, tmp)
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


def run_checks(binary, tmp):
    program = os.path.join(tmp, "promo.jny")
    with open(program, "w") as f:
        f.write(PROGRAM)
    rng = random.Random(20261201)

    # Carts: customer i captured at START + 30 s·i, received LAGS_S[i % 5] later.
    carts, lag_of, entered_at = [], {}, {}
    for i in range(CUSTOMERS):
        c = "c%04d" % i
        captured = START + datetime.timedelta(seconds=30 * i)
        received = captured + datetime.timedelta(seconds=LAGS_S[i % len(LAGS_S)])
        lag_of[c] = LAGS_S[i % len(LAGS_S)]
        entered_at[c] = received
        carts.append((received, {"type": "track", "event": "cart", "messageId": "cart-" + c,
                                 "userId": c, "timestamp": iso(captured),
                                 "receivedAt": iso(received), "properties": {"value": 50}}))

    # Pass 1: the engine's arm of every customer.
    first = decide(binary, program, carts, os.path.join(tmp, "carts.jsonl"))
    held_out = {d["customer"] for d in first if d["outcome"] == "control" and "channel" not in d}
    arm = {c: "control" if c in held_out else "treatment" for c in lag_of}
    entries = {a: sum(1 for c in arm if arm[c] == a) for a in TRUE_RATE}
    check(entries["control"] > 0 and entries["treatment"] > 0, f"arms: {entries}")

    # Purchases at the true rate of each customer's arm, 1 h to 2.5 d after the entry.
    buys = []
    converted = {a: 0 for a in TRUE_RATE}
    for c in sorted(arm):
        if rng.random() < TRUE_RATE[arm[c]]:
            converted[arm[c]] += 1
            at = entered_at[c] + datetime.timedelta(seconds=rng.randint(3600, 60 * 3600))
            buys.append((at, {"type": "track", "event": "purchase", "messageId": "buy-" + c,
                              "userId": c, "timestamp": iso(at), "properties": {"amount": 20}}))

    # Pass 2: carts and purchases together.
    decisions_path = os.path.join(tmp, "decisions.jsonl")
    decisions = decide(binary, program, carts + buys, os.path.join(tmp, "all.jsonl"))
    with open(decisions_path, "w") as f:
        for d in decisions:
            f.write(json.dumps(d) + "\n")
    check({d["customer"] for d in decisions if d["outcome"] == "control"} == held_out,
          "the second run held out other customers than the first")

    # Receipts with known delays.
    sent = [d for d in decisions if d["outcome"] == "sent"]
    late = [d for d in decisions if d["outcome"] == "suppressed"]
    receipts, delivered = [], []  # delivered: (customer, delay)
    for n, d in enumerate(sent):
        i = int(d["customer"][1:])
        delay = DELAYS_S[(i // len(LAGS_S)) % len(DELAYS_S)]
        at = datetime.datetime.fromisoformat(d["at"].replace("Z", "+00:00"))
        if n % 7 == 3:
            receipts.append({"decision": d["id"], "status": "failed", "at": iso(at)})
            continue
        receipt = {"decision": d["id"], "status": "delivered",
                   "at": iso(at + datetime.timedelta(seconds=delay))}
        receipts.append(receipt)
        delivered.append((d["customer"], delay))
        if n % 50 == 0:
            receipts.append(dict(receipt))  # a duplicate
        if n % 4 == 0:
            receipts.append({"decision": d["id"], "status": "opened",
                             "at": iso(at + datetime.timedelta(seconds=delay + 60))})
    for k in range(3):
        receipts.append({"decision": "no-such-decision-%d" % k, "status": "delivered",
                         "at": iso(START)})
    receipts.append({"decision": late[0]["id"], "status": "delivered", "at": iso(START)})
    receipts_path = os.path.join(tmp, "receipts.jsonl")
    with open(receipts_path, "w") as f:
        for n, r in enumerate(receipts):
            f.write(json.dumps(r) + "\n")
            if n == 10:
                f.write("delivered, honest\n")
            if n == 20:
                f.write('{"decision": "x", "status": "delivered", "at": \n')

    def report(*extra):
        p = run([binary, "report", decisions_path, "--receipts", receipts_path, "--format", "json"]
                + list(extra))
        check(p.returncode == 0, f"report {extra}: exit {p.returncode}: {p.stderr}")
        try:
            return json.loads(p.stdout), p.stderr
        except ValueError as e:
            check(False, f"report {extra}: stdout is not JSON: {e}")
            return None, p.stderr

    out, stderr = report("--program", program)
    if out is None:
        return
    check(len(out["journeys"]) == 1 and out["journeys"][0]["journey"] == "promo",
          f"journeys: {[j.get('journey') for j in out['journeys']]}")
    j = out["journeys"][0]

    # Entries and holdout.
    check(j["entries"] == {"total": CUSTOMERS, "treatment": entries["treatment"],
                           "control": entries["control"],
                           "control_share": entries["control"] / CUSTOMERS},
          f"entries: {j['entries']}, want {entries}")
    share = entries["control"] / CUSTOMERS
    check(abs(share - 0.2) < 0.03, f"the split holds out {share:.3f}, not about 20%")

    # Sends: treatment customers with a lag within the deadline are sent, the others late.
    want_sent = sum(1 for c in arm if arm[c] == "treatment" and lag_of[c] <= DEADLINE_S)
    want_late = entries["treatment"] - want_sent
    check(j["sends"].get("email") == {"sent": want_sent, "deferred": 0, "control": 0,
                                      "suppressed": {"late": want_late}, "released": 0,
                                      "pending": 0},
          f"sends: {j['sends']}, want sent {want_sent}, late {want_late}")

    # Conversions: exactly the generator's, and the statistics.
    conv = j["conversions"]
    check(conv["goal"] == "program", f"goal: {conv['goal']}")
    for a in TRUE_RATE:
        got = conv[a]
        check(got["entries"] == entries[a] and got["conversions"] == converted[a],
              f"{a}: {got}, want {entries[a]} entries, {converted[a]} conversions")
        n, p = entries[a], TRUE_RATE[a]
        rate = converted[a] / n
        check(abs(got["rate"] - rate) < 1e-12, f"{a} rate {got['rate']}, want {rate}")
        check(abs(rate - p) <= Z * math.sqrt(p * (1 - p) / n),
              f"{a}: measured {rate:.4f} is outside the 95% interval of the true rate {p}")
        half = Z * math.sqrt(rate * (1 - rate) / n)
        check(abs(got["ci95"][0] - (rate - half)) < 1e-9 and abs(got["ci95"][1] - (rate + half)) < 1e-9,
              f"{a} ci95 {got['ci95']}")
    pt = converted["treatment"] / entries["treatment"]
    pc = converted["control"] / entries["control"]
    se = math.sqrt(pt * (1 - pt) / entries["treatment"] + pc * (1 - pc) / entries["control"])
    up = conv["uplift"]
    check(abs(up["difference"] - (pt - pc)) < 1e-12, f"uplift {up['difference']}, want {pt - pc}")
    check(abs(up["standard_error"] - se) < 1e-12, f"se {up['standard_error']}, want {se}")
    check(abs(up["ci95"][0] - (pt - pc - Z * se)) < 1e-9 and abs(up["ci95"][1] - (pt - pc + Z * se)) < 1e-9,
          f"uplift ci95 {up['ci95']}")
    true_uplift = TRUE_RATE["treatment"] - TRUE_RATE["control"]
    check(up["ci95"][0] <= true_uplift <= up["ci95"][1],
          f"the uplift's interval {up['ci95']} misses the true uplift {true_uplift}")
    check(up["significant"] is True and up["approximation_ok"] is True, f"uplift: {up}")
    check(conv["converted_before_holdout"] == 0, f"converted before holdout: {conv}")

    # Split times.
    split = j["split_times"]["email"]
    sent_lags = [lag_of[d["customer"]] for d in sent]
    same_quantiles(split["signal_to_decision"], quantiles(sent_lags), "signal→decision")
    same_quantiles(split["decision_to_customer"], quantiles([dl for _, dl in delivered]),
                   "decision→customer")
    to_customer = [lag_of[c] + dl for c, dl in delivered]
    same_quantiles(split["signal_to_customer"], quantiles(to_customer), "signal→customer")

    # Receipts and the moment fit.
    failed = sum(1 for r in receipts if r["status"] == "failed")
    opened = sum(1 for r in receipts if r["status"] == "opened")
    check(j["receipts"]["email"] == {"delivered": len(delivered), "opened": opened, "clicked": 0,
                                     "failed": failed, "sent_without_delivery": failed},
          f"receipts: {j['receipts']}")
    # Milliseconds are what the log and receipts carry: compare in them.
    within = sum(1 for c, dl in delivered if round((lag_of[c] + dl) * 1000) <= DEADLINE_S * 1000)
    check(0 < within < len(delivered), f"the fit should be partial: {within}/{len(delivered)}")
    fit = j["moment_fit"]
    check(fit["deadline_seconds"] == DEADLINE_S and fit["deadline_from"] == "program", f"fit: {fit}")
    check(fit["channels"]["email"] == {"delivered": len(delivered), "within": within,
                                       "rate": within / len(delivered)},
          f"fit: {fit['channels']}, want {within}/{len(delivered)}")
    duplicates = sum(1 for n in range(len(sent)) if n % 7 != 3 and n % 50 == 0)
    check(out["input"]["receipts"]["duplicates"] == duplicates
          and out["input"]["receipts"]["unknown_decision"] == 3
          and out["input"]["receipts"]["not_sent"] == 1
          and out["input"]["receipts"]["bad_lines"] == 2,
          f"receipt counters: {out['input']['receipts']}")
    check(":12: not JSON" in stderr and ":23: not JSON" in stderr,
          f"bad receipt lines are not named with their line numbers: {stderr}")
    check(out["total"]["conversions"]["uplift"] == up, "the total's uplift is not the journey's")

    # The deadline from --deadline gives the same fit; --deadline wins over the program.
    same, _ = report("--deadline", "promo=10m")
    if same:
        check(same["journeys"][0]["moment_fit"]["channels"] == fit["channels"]
              and same["journeys"][0]["moment_fit"]["deadline_from"] == "option",
              f"--deadline promo=10m: {same['journeys'][0]['moment_fit']}")
        check(same["journeys"][0]["conversions"]["goal"] == "log", "goal without --program")
    wide, _ = report("--program", program, "--deadline", "promo=1h")
    if wide:
        f = wide["journeys"][0]["moment_fit"]
        check(f["deadline_seconds"] == 3600 and f["deadline_from"] == "option"
              and f["channels"]["email"]["rate"] == 1.0, f"--deadline over the program: {f}")
    none, _ = report()
    if none:
        f = none["journeys"][0]["moment_fit"]
        check(f["deadline_seconds"] is None and f["channels"]["email"]["rate"] is None,
              f"no deadline: {f}")

    p = run([binary, "report", decisions_path, "--receipts", receipts_path, "--program", program])
    check(p.returncode == 0, f"text report: exit {p.returncode}")
    for want in ["promo", "significant", "signal→customer", "moment fit",
                 "%d of %d" % (converted["treatment"], entries["treatment"])]:
        check(want in p.stdout, f"text report lacks {want!r}:\n{p.stdout}")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# The main job: build Juncture, check the example journeys, then run them as a service:
# start nats-server on loopback, start `juncture serve` on examples/, drive the sample
# events through NATS and show the decisions and actions coming back with their
# latency, the split times serve measured, and its metrics. Then the same journeys in
# virtual time (`juncture run`), where the waits of hours and days play out, and the
# marketers' scenarios. Everything started here is stopped here.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
J=build/tools/juncture
LOAD=build/bench/load/juncture-load
DELIVER=build/bench/load/juncture-deliver
out=$(mktemp -d)
nats_pid="" serve_pid="" deliver_pid=""
cleanup() {
  [ -n "$deliver_pid" ] && kill "$deliver_pid" 2>/dev/null && wait "$deliver_pid" 2>/dev/null || true
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null || true
  [ -n "$nats_pid" ] && kill "$nats_pid" 2>/dev/null && wait "$nats_pid" 2>/dev/null || true
  rm -rf "$out"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() {  # FILE TEXT: wait up to 30 s for TEXT in FILE
  for _ in $(seq 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "timed out waiting for '$2' in $1:"; cat "$1"; return 1
}

echo "== juncture lint examples/"
$J lint examples/
echo

nats_port=$(free_port)
metrics_port=$(free_port)
echo "== nats-server on 127.0.0.1:$nats_port, juncture serve examples/ (metrics on 127.0.0.1:$metrics_port)"
nats-server -a 127.0.0.1 -p "$nats_port" > "$out/nats.log" 2>&1 &
nats_pid=$!
wait_for "$out/nats.log" "Server is ready"
$J serve examples/ --nats "nats://127.0.0.1:$nats_port" --metrics "127.0.0.1:$metrics_port" \
  --state-dir "$out/state" > "$out/serve.log" 2>&1 &
serve_pid=$!
wait_for "$out/serve.log" "deciding on"
sed 's/^/   /' "$out/serve.log"
# The channels' delivery services, simulated: each action gets a delivery receipt
# after a delay typical of its channel (in-app ~40 ms ... email ~3 s; a few fail).
$DELIVER --nats "nats://127.0.0.1:$nats_port" > "$out/deliver.log" 2>&1 &
deliver_pid=$!
wait_for "$out/deliver.log" "answering"
echo
echo "== examples/events/demo.jsonl published to juncture.events.* as live traffic"
echo "   (each message stamped with its publish time); what comes back, with the time"
echo "   since the event was published (serve decides on the wall clock, so the journeys'"
echo "   waits of minutes and days are still pending when this stops)"
$LOAD --events examples/events/demo.jsonl --restamp --nats "nats://127.0.0.1:$nats_port" --print \
  --settle 500 > "$out/replies.txt" 2>&1 || { cat "$out/replies.txt"; exit 1; }
python3 - "$out/replies.txt" <<'PY'
import json, re, sys
# juncture-load --print lines: "+  385us SUBJECT JSON" (the latency is missing when the
# reply names no message of ours, e.g. a dead letter without a messageId).
shape = re.compile(r"^(?:\+\s*(\S+))?\s*(juncture\.\S+)\s+(.*)$")
for line in open(sys.argv[1]):
    m = shape.match(line.rstrip("\n"))
    if not m:
        if line.strip(): print("  ", line.rstrip())
        continue
    latency, subject, rest = m.group(1) or "", m.group(2), m.group(3)
    if subject == "juncture.deadletter":
        print(f"   {latency:>9}  {'dead letter':28} {rest[:100]}")
        continue
    d = json.loads(rest)
    if not subject.startswith("juncture.actions.") and d["outcome"] == "sent":
        continue  # the same decision arrives on juncture.actions.<channel>
    if d["outcome"] in ("entered", "exited", "completed"):
        continue
    what = f'{d.get("channel", "-"):8} {d.get("template", ""):24}'
    why = d["outcome"] + (f' ({d["reason"]})' if "reason" in d else "")
    print(f'   {latency:>9}  {subject:28} {d["customer"]:6} {d["journey"]:19} {what} {why}')
PY
echo
sleep 5  # the slowest simulated deliveries (email, ~3 s) report back
echo "== the customer's moment, from serve's metrics (http://127.0.0.1:$metrics_port/metrics)"
echo "   split times signal -> decision -> action -> customer (p50 / p99 as histogram bounds),"
echo "   the moment fit (delivered within the journey's deadline), conversions by arm"
python3 - "$metrics_port" <<'PY'
import collections, re, sys, urllib.request
text = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode()
sample = re.compile(r'^(\w+)\{(.*)\} (\S+)$')
def labels(s): return dict(re.findall(r'(\w+)="([^"]*)"', s))
def quantiles(name, by):
    # Prometheus-style: the bucket bound where the cumulative count passes q, per label.
    series = collections.defaultdict(dict)
    for line in text.splitlines():
        m = sample.match(line)
        if m and m.group(1) == name + "_bucket":
            l = labels(m.group(2))
            series[l[by]][l["le"]] = float(m.group(3))
    out = {}
    for key, b in series.items():
        total = b.get("+Inf", 0)
        if not total: continue
        bounds = sorted((float(le), n) for le, n in b.items())
        q = lambda p: next(le for le, n in bounds if n >= p * total)
        out[key] = (q(0.5), q(0.99), int(total))
    return out
def fmt(s):
    return "+Inf" if s == float("inf") else (f"{s*1e6:g} us" if s < 1e-3 else f"{s*1e3:g} ms" if s < 1 else f"{s:g} s")
for name, by, label in (("juncture_signal_to_decision_seconds", "journey", "signal -> decision"),
                        ("juncture_receipt_to_decision_seconds", "journey", "(serve: received -> decision)"),
                        ("juncture_decision_to_publish_seconds", "channel", "decision -> action"),
                        ("juncture_action_to_customer_seconds", "channel", "action -> customer"),
                        ("juncture_signal_to_customer_seconds", "channel", "signal -> customer")):
    for key, (p50, p99, n) in sorted(quantiles(name, by).items()):
        print(f"   {label:31} {key:19} p50 <= {fmt(p50):>9}   p99 <= {fmt(p99):>9}   ({n})")
fit = collections.defaultdict(lambda: [0, 0])
conv, entries = collections.defaultdict(float), collections.defaultdict(float)
for line in text.splitlines():
    m = sample.match(line)
    if not m: continue
    l, v = labels(m.group(2)), float(m.group(3))
    if m.group(1) == "juncture_moment_fit_total":
        fit[(l["journey"], l["channel"])][0 if l["fit"] == "in" else 1] += v
    elif m.group(1) == "juncture_conversions_total" and v:
        conv[(l["journey"], l["arm"])] += v
for (journey, channel), (inside, late) in sorted(fit.items()):
    if inside + late:
        print(f"   moment fit {journey:20} {channel:8} {inside / (inside + late):6.0%} delivered within the deadline ({int(inside)} of {int(inside + late)})")
for (journey, arm), v in sorted(conv.items()):
    print(f"   conversions {journey:19} {arm:9} {int(v)}")
for line in text.splitlines():
    if line.startswith(("juncture_messages_total", "juncture_dead_letters_total")) and not line.endswith(" 0"):
        print("  ", line)
PY
kill -TERM "$deliver_pid"; wait "$deliver_pid" || true; deliver_pid=""
sed 's/^/   /' "$out/deliver.log" | tail -1
kill -TERM "$serve_pid"; wait "$serve_pid" || true; serve_pid=""
kill "$nats_pid"; wait "$nats_pid" 2>/dev/null || true; nats_pid=""
grep "stopped\." "$out/serve.log" | sed 's/^/   /'
echo

echo "== juncture run examples/ --events examples/events/demo.jsonl --until +3d   (embedded, virtual time)"
echo "   (sends, deferrals and suppressions; lifecycle decisions are left out here)"
$J run examples/ --events examples/events/demo.jsonl --until +3d \
  --dead-letter "$out/dead.jsonl" > "$out/decisions.jsonl" 2> "$out/summary.txt"
python3 - "$out/decisions.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d["outcome"] in ("entered", "exited", "completed"):
        continue
    what = f'{d.get("channel", "-"):8} {d.get("template", ""):24}'
    why = d["outcome"] + (f' ({d["reason"]})' if "reason" in d else "")
    if "until" in d:
        why += f' until {d["until"][:16]}'
    print(f'   {d["at"][:16]}  {d["customer"]:6} {d["journey"]:20} {d["step"]:4} {what} {why}')
PY
sed 's/^/   /' "$out/summary.txt"
echo
echo "== juncture report   (did the journeys work? conversions by arm, sends, split times)"
$J report "$out/decisions.jsonl" --program examples/ 2>/dev/null | sed 's/^/   /'
echo
echo "== juncture test examples/scenarios   (marketers' scenarios for every journey)"
$J test examples/scenarios | tail -1

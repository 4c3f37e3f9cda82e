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
out=$(mktemp -d)
nats_pid="" serve_pid=""
cleanup() {
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
  > "$out/serve.log" 2>&1 &
serve_pid=$!
wait_for "$out/serve.log" "deciding on"
sed 's/^/   /' "$out/serve.log"
echo
echo "== examples/events/demo.jsonl published to juncture.events.*; what comes back"
echo "   (time since the event was published; serve decides on the wall clock, so the"
echo "    journeys' waits of minutes and days are still pending when this stops)"
$LOAD --events examples/events/demo.jsonl --nats "nats://127.0.0.1:$nats_port" --print \
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
echo "== serve's own split times, from its metrics (http://127.0.0.1:$metrics_port/metrics)"
python3 - "$metrics_port" <<'PY'
import sys, urllib.request
text = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode()
def quantile(name, q):
    # Prometheus-style: the bucket bound where the cumulative count passes q.
    buckets = {}
    for line in text.splitlines():
        if line.startswith(name + "_bucket{"):
            le = line.split('le="')[1].split('"')[0]
            buckets[le] = buckets.get(le, 0) + float(line.rsplit(" ", 1)[1])
    if not buckets: return None
    total = buckets["+Inf"]
    for le, n in sorted(((float(k), v) for k, v in buckets.items()), key=lambda x: x[0]):
        if total and n >= q * total: return le, int(total)
for name, label in (("juncture_signal_to_decision_seconds", "signal -> decision"),
                    ("juncture_decision_to_publish_seconds", "decision -> publish (actions)")):
    r50, r99 = quantile(name, 0.5), quantile(name, 0.99)
    if r50:
        print(f"   {label:30} p50 <= {r50[0]*1e6:g} us, p99 <= {r99[0]*1e6:g} us  ({r50[1]} observations, histogram bounds)")
for line in text.splitlines():
    if line.startswith(("juncture_messages_total", "juncture_decisions_total", "juncture_dead_letters_total")):
        print("  ", line)
PY
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
echo "== juncture test examples/scenarios   (marketers' scenarios for every journey)"
$J test examples/scenarios | tail -1

#!/usr/bin/env bash
# The main job: build Juncture, check the example journeys, then let them decide on a
# stream of sample events (virtual time from the events' timestamps) and show the
# decisions, the outcome counts and the per-message latency.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
J=build/tools/juncture

echo "== juncture lint examples/"
$J lint examples/
echo
echo "== juncture run examples/ --events examples/events/demo.jsonl --until +3d"
echo "   (sends, deferrals and suppressions; lifecycle decisions are left out here)"
out=$(mktemp -d)
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
    print(f'{d["at"][:16]}  {d["customer"]:6} {d["journey"]:20} {d["step"]:4} {what} {why}')
PY
echo
cat "$out/summary.txt"
echo "dead letters:"
python3 -c 'import json,sys; [print("  ", json.loads(l)["reason"]) for l in open(sys.argv[1])]' "$out/dead.jsonl"
echo
echo "== juncture test examples/scenarios   (marketers' scenarios for every journey)"
$J test examples/scenarios | tail -1
rm -rf "$out"

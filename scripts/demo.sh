#!/usr/bin/env bash
# The main job, for now: build Juncture, lint the example journeys and show what the
# compiler makes of them (the typed IR of one journey, and the diagnostics a broken
# script gets). Deciding on events arrives with `juncture run` (issue 3).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
J=build/tools/juncture

echo "== juncture lint examples/"
$J lint examples/
echo
echo "== juncture compile examples/ --emit ir   (the cart_rescue journey)"
$J compile examples/ --emit ir | awk '/^journey cart_rescue/{on=1} on&&/^$/{exit} on'
echo
echo "== a broken script gets every error, with its position and a caret"
tmp=$(mktemp -d)
cat > "$tmp/broken.jny" <<'JNY'
event purchase { amount: float  coupon: string? }
profile { country: string = "" }
channel email { consent true }
journey thanks {
  on purchse when event.amount > "50"
  wait 10 minutes
  send email "thanks" { code: lower(event.coupon) }
}
JNY
(cd "$tmp" && "$OLDPWD/$J" lint broken.jny) || true
echo
echo "== and once the syntax is fixed, the type errors:"
sed -i 's/wait 10 minutes/wait 10m/' "$tmp/broken.jny"
(cd "$tmp" && "$OLDPWD/$J" lint broken.jny) || true
rm -rf "$tmp"

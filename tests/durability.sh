#!/usr/bin/env bash
# tests/durability.sh - acknowledged writes survive SIGKILL.
#
# ROUNDS times (default 12): start the node, run three writers against it,
# kill sosd with SIGKILL at a random moment (0.3 to 1.1 s in), restart, and
# check.  Two writers call `kvcount hit wN` (a compare-and-swap increment
# made by an instance, acknowledged when the call returns) and record each
# acknowledged call; one writer puts keys with `sos kv put` (the control
# API's path to the same store) and records each acknowledged key.  After
# every restart: every acknowledged key is there with its value, and each
# counter is at least the number of acknowledged hits and at most that
# plus one per round (the one call in flight at the kill, which may or
# may not have been committed): nothing lost, nothing applied twice.
# Ends with "durability: N passed, N failed".  B=DIR selects the build.
set -uo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-12}
source tests/lib/check.sh
suite_begin

build_or_exit durability "sos and sosd" B="$B" ${DURABILITY_MAKE_ARGS:-} "$B/sos" "$B/sosd"

# hitter N ROUND: increments counter wN until a call fails; logs acks.
hitter() {
  for i in $(seq 100000); do
    $SOS call kvcount hit "w$1" >/dev/null 2>&1 || return 0
    echo "$2" >>"$tmp/acks-w$1"
  done
}
# putter ROUND: puts keys p-ROUND-I = I until a put fails; logs acks.
putter() {
  for i in $(seq 100000); do
    $SOS kv put kvcount/counts "p-$1-$i" "$i" >/dev/null 2>&1 || return 0
    echo "p-$1-$i $i" >>"$tmp/acks-p"
  done
}

$SOS node start --http off >/dev/null && $SOS deploy apps/kvcount >/dev/null
report "start and deploy kvcount" "$([ $? -eq 0 ] || echo failed)" "" ""
touch "$tmp/acks-w1" "$tmp/acks-w2" "$tmp/acks-p"
for round in $(seq "$ROUNDS"); do
  hitter 1 "$round" &
  hitter 2 "$round" &
  putter "$round" &
  sleep "0.$((RANDOM % 9 + 3))"
  kill -9 "$(node_pid)"
  wait
  check "round $round: the node restarts after SIGKILL" 0 "node started" "" $SOS node start --http off
  $SOS kv ls kvcount/counts p- -n 10000000 | sort >"$tmp/have"
  sort "$tmp/acks-p" | tr ' ' '\t' >"$tmp/want"
  missing=$(comm -23 "$tmp/want" "$tmp/have" | head -3)
  check "round $round: every acknowledged put is there ($(wc -l <"$tmp/want") so far)" 0 "" "" \
    bash -c "[ -z '$missing' ] || { echo 'missing: $missing'; exit 1; }"
  for w in 1 2; do
    acked=$(wc -l <"$tmp/acks-w$w")
    got=$($SOS call kvcount get "w$w" 2>/dev/null || echo 0)
    check "round $round: counter w$w = $got for $acked acknowledged hits" 0 "ok" "" \
      bash -c "[ $got -ge $acked ] && [ $got -le $((acked + round)) ] && echo ok"
  done
done
check "the node stops cleanly at the end" 0 "node stopped" "" $SOS node stop

echo "durability: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

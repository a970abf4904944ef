#!/usr/bin/env bash
# The node benchmark (part of `make bench`; not a test: it asserts nothing).
#
# Starts a real sosd on a temporary data directory and measures, against
# the targets of issue 3:
#   idle RSS       sosd's resident memory with nothing deployed       (<= 10 MB)
#   call rtt       in-node round trip between two instances, as the
#                  caller sees it (bench/apps/pingpong rtt)            (p50 <= 5 us)
#   calls/s        echo calls per second, 2 callers x 64 in flight
#                  (bench/apps/pingpong flood)                         (>= 200,000/s)
#   start          starting one instance: a 10,000-instance pool of
#                  hello, wall time / 10,000                           (<= 50 us)
#   10k idle       sosd's RSS with those 10,000 instances held         (<= 2 GB)
# For scale it also times the same echo call made from outside through
# `sos call` (a process and a control-socket round trip per call).
# Typed calls and time travel (issue 5; bench/apps/typedbench, p50 in the
# same run):
#   typed call     numbers.next through its generated stub, against the
#                  untyped echo call                                   (<= 1.2x)
#   chain of 10    a plan of 10 dependent numbers.next calls sent as one
#                  message, against one typed call                    (<= 4x);
#                  also the same plan built once and started again (a
#                  prepared plan), 10 typed calls one by one, and the
#                  generated codec's cost inside a guest
# Environment: B (build folder, default build), BENCH_CALLS (default 200000).
set -uo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
N=${BENCH_CALLS:-200000}
SOS=$B/sos
tmp=$(mktemp -d)
export SOS_HOME=$tmp/node
trap '$SOS node stop >/dev/null 2>&1; rm -rf "$tmp"' EXIT

make -s B="$B" "$B/sos" "$B/sosd" || { echo "bench-node: cannot build" >&2; exit 1; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$(tr -d '\n' <"$SOS_HOME/sosd.lock")/status"; }
now_ns() { date +%s%N; }

$SOS node start --http off >/dev/null || exit 1
sleep 0.2
idle=$(rss_kb)
start_ms=$(awk '/sosd: ready/ { ms = $(NF-1); sub(/\(/, "", ms) } END { print ms }' "$SOS_HOME/sosd.log")
$SOS deploy bench/apps/echo >/dev/null && $SOS deploy bench/apps/pingpong >/dev/null || exit 1
$SOS call pingpong rtt 20000 >/dev/null # warm-up: code and instances
read -r p50 p99 mean < <($SOS call pingpong rtt 100000)
$SOS deploy tests/apps/numbers >/dev/null && $SOS deploy bench/apps/typedbench >/dev/null || exit 1
$SOS call typedbench rtt 2000 >/dev/null # warm-up
read -r t_untyped t_typed t_plan1 t_chain10 t_seq10 t_prep10 t_text < <($SOS call typedbench rtt 20000)
t_codec=$($SOS call typedbench codec 200000 | awk '{ print $1 }')
t0=$(now_ns)
$SOS call pingpong flood "$N 64" >"$tmp/f1" &
$SOS call pingpong flood "$N 64" >"$tmp/f2"
wait
t1=$(now_ns)
cps=$(awk -v n=$((2 * N)) -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')
t0=$(now_ns)
for i in $(seq 100); do $SOS call echo ping x >/dev/null; done
t1=$(now_ns)
outside_us=$(((t1 - t0) / 100 / 1000))

mkdir -p "$tmp/hello10k"
cp apps/hello/hello.c "$tmp/hello10k/"
sed 's/instances 1..4/instances 10000..10000/; s/app hello/app hello10k/; s/service hello/service hello10k/' \
  apps/hello/app.sos >"$tmp/hello10k/app.sos"
img=$($SOS build "$tmp/hello10k") || exit 1
before=$(rss_kb)
t0=$(now_ns)
$SOS deploy "$img" >/dev/null || exit 1 # the image: no compile in the timed part
for i in $(seq 6000); do # at most 60 s
  n=$($SOS ps --json | grep -o '"name":"hello10k"[^}]*"idle":[0-9]*' | grep -o '[0-9]*$')
  [ "${n:-0}" -ge 10000 ] && break
  sleep 0.01
done
t1=$(now_ns)
after=$(rss_kb)
start_us=$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.1f", ns / 1e3 / 10000 }')
check=$($SOS call hello10k greet bench)

echo "node benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cpus, $(tr -d '\n' <"$SOS_HOME/sosd.lock" >/dev/null; echo sosd))"
printf "  %-34s %12s   %s\n" "measure" "value" "target"
printf "  %-34s %12s   %s\n" "sosd start-up to ready" "${start_ms} ms" "< 100 ms"
printf "  %-34s %12s   %s\n" "sosd idle RSS" "$((idle / 1024)) MB" "<= 10 MB"
printf "  %-34s %12s   %s\n" "call rtt p50 (instance to instance)" "$((p50 / 1000)).$(((p50 % 1000) / 100)) us" "<= 5 us"
printf "  %-34s %12s   %s\n" "call rtt p99" "$((p99 / 1000)).$(((p99 % 1000) / 100)) us" ""
printf "  %-34s %12s   %s\n" "call rtt mean" "$((mean / 1000)).$(((mean % 1000) / 100)) us" ""
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
us() { awk -v ns="$1" 'BEGIN { printf "%.2f us", ns / 1000 }'; }
printf "  %-34s %12s   %s\n" "untyped call p50 (echo)" "$(us "$t_untyped")" ""
printf "  %-34s %12s   %s\n" "typed call p50 (stub, codec)" "$(us "$t_typed")" "$(ratio "$t_typed" "$t_untyped") untyped (<= 1.2x)"
printf "  %-34s %12s   %s\n" "the same untyped, on decimal text" "$(us "$t_text")" "$(ratio "$t_text" "$t_untyped") untyped"
printf "  %-34s %12s   %s\n" "plan of 1 call p50" "$(us "$t_plan1")" "$(ratio "$t_plan1" "$t_typed") typed"
printf "  %-34s %12s   %s\n" "plan: chain of 10 p50 (1 message)" "$(us "$t_chain10")" "$(ratio "$t_chain10" "$t_typed") typed (<= 4x)"
printf "  %-34s %12s   %s\n" "the same chain, prepared once" "$(us "$t_prep10")" "$(ratio "$t_prep10" "$t_typed") typed"
printf "  %-34s %12s   %s\n" "10 typed calls one by one p50" "$(us "$t_seq10")" "$(ratio "$t_seq10" "$t_typed") typed"
printf "  %-34s %12s   %s\n" "guest codec: Num encode+decode" "${t_codec} ns" "(in a guest; native: bench/idl)"
printf "  %-34s %12s   %s\n" "calls/s (2 callers x 64 in flight)" "$cps" ">= 200000"
printf "  %-34s %12s   %s\n" "for scale: sos call from a shell" "${outside_us} us" "(process + socket)"
printf "  %-34s %12s   %s\n" "instance start (10,000 pool / 10k)" "${start_us} us" "<= 50 us"
printf "  %-34s %12s   %s\n" "RSS with 10,000 idle instances" "$(((after - before) / 1024)) MB more" "<= 2048 MB"
printf "  %-34s %12s\n" "a call to one of them" "$check"

#!/usr/bin/env bash
# The storage benchmark (part of `make bench`; not a test).
#
# Measures kv stores from inside a guest (bench/apps/kvbench on a real
# sosd) and, in the same run, the same operations done by C code calling
# LMDB directly and through the store layer (bench/store_direct.c), then
# prints both with the targets of issue 4:
#   kv get        random gets of 100,000 16-byte values, one instance
#                 (target: >= 1,000,000/s; guest <= 2x direct + syscall)
#   durable puts  8 instances at once, batches of 100 puts (>= 100,000/s),
#                 and, for scale, single puts from 8 instances
# Environment: B (build folder, default build).
set -uo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
SOS=$B/sos
tmp=$(mktemp -d)
export SOS_HOME=$tmp/node
trap '$SOS node stop >/dev/null 2>&1; rm -rf "$tmp"' EXIT
make -s B="$B" "$B/sos" "$B/sosd" "$B/bench/store_direct" || { echo "bench-store: cannot build" >&2; exit 1; }

N=1000000 K=100000
"$B/bench/store_direct" "$tmp" $N $K >"$tmp/direct" || { echo "bench-store: direct run failed" >&2; exit 1; }
direct() { awk -v k="$1" '$1 == k { print $2 }' "$tmp/direct"; }

$SOS node start --http off >/dev/null && $SOS deploy bench/apps/kvbench >/dev/null || exit 1
$SOS call kvbench fill $K >/dev/null
$SOS call kvbench get "100000 $K" >/dev/null # warm-up
get_ns=$($SOS call kvbench get "$N $K")
t0=$(date +%s%N)
for i in $(seq 8); do $SOS call kvbench put "20000 100 b$i" >/dev/null & done
wait
t1=$(date +%s%N)
batched=$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", 160000 / (ns / 1e9) }')
t0=$(date +%s%N)
for i in $(seq 8); do $SOS call kvbench put "300 1 s$i" >/dev/null & done
wait
t1=$(date +%s%N)
single=$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", 2400 / (ns / 1e9) }')

awk -v g="$get_ns" -v n=$N -v lt="$(direct lmdb_get_txn)" -v l="$(direct lmdb_get)" \
    -v sg="$(direct store_get)" -v ps="$(direct lmdb_put_sync)" -v p4="$(direct store_put_4t)" \
    -v b="$batched" -v s="$single" 'BEGIN {
  gn = g / n
  printf "storage benchmark (%d gets over %d keys; 16-byte values)\n", n, 100000
  printf "  %-44s %10s %12s   %s\n", "measure", "ns/op", "ops/s", "target"
  printf "  %-44s %10.0f %12.0f   %s\n", "guest kv_get (one instance)", gn, 1e9 / gn, ">= 1,000,000/s"
  printf "  %-44s %10.0f %12.0f\n", "direct: mdb_get, read txn per get", lt, 1e9 / lt
  printf "  %-44s %10.0f %12.0f\n", "direct: mdb_get in one read txn", l, 1e9 / l
  printf "  %-44s %10.0f %12.0f\n", "direct: sos_store_get", sg, 1e9 / sg
  printf "  %-44s %10.2fx\n", "guest get / direct get (txn per get)", gn / lt
  printf "  %-44s %10s %12d   %s\n", "durable puts, 8 instances, batches of 100", "", b, ">= 100,000/s"
  printf "  %-44s %10s %12d\n", "durable puts, 8 instances, one per call", "", s
  printf "  %-44s %10.0f %12.0f\n", "direct: one put per LMDB transaction", ps, 1e9 / ps
  printf "  %-44s %10.0f %12.0f\n", "direct: sos_store_submit, 4 threads", p4, 1e9 / p4
}'

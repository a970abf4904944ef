#!/usr/bin/env bash
# The benchmark (`make bench`).  Not a test: it asserts nothing about speed.
#
# Times every kernel in bench/kernel_*.c (or those named as arguments) on
#   native       gcc -O2, timed in-process (bench/native_main.c)
#   sos          the SOS engine, run() timed in-process (bench/run_sos.c)
#   node         V8 after one warm-up call (bench/run_node.js)
#   wasm-interp  wabt's interpreter: whole-process wall time of a smaller
#                run (the kernel's bench_interp_n()), scaled up linearly
# checks that every port computed the same checksum (a mismatch is printed
# loudly and marked "!" in the table), prints a table with the ratios and
# their geometric means, then runs the engine micro-benchmarks
# (bench/micro.c), the node benchmark (scripts/bench_node.sh: service
# calls, instances, memory of a real sosd), the storage benchmark, the
# HTTP gateway against nginx (scripts/bench_http.sh) and the
# IDL codec's line (bench/idl: encode+decode of a typical request with the
# generated C).  The table is also written to $B/bench/results.txt.
#
# Usage: scripts/bench.sh [KERNEL...]
# Environment: B (build folder, default build), BENCH_REPEAT (best of R
# runs per engine, default 1), BENCH_TIMEOUT (seconds per run, default 300),
# MICRO_SCALE (iteration scale of the micro-benchmarks, default 1).
set -uo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
REPEAT=${BENCH_REPEAT:-1}
TMO=${BENCH_TIMEOUT:-300}
bash scripts/deps.sh >/dev/null 2>&1 || echo "bench: warning: scripts/deps.sh failed" >&2

make -s B="$B" bench-kernels || { echo "bench: cannot build the kernels" >&2; exit 1; }
have_sos=1
if ! make -s B="$B" "$B/bench/run_sos" "$B/bench/micro" >"$B/bench/sos-build.log" 2>&1; then
  have_sos=0
  echo "bench: the SOS drivers do not build (see $B/bench/sos-build.log); sos column skipped" >&2
fi

if [ $# -gt 0 ]; then kernels=("$@"); else
  kernels=(); for f in bench/kernel_*.c; do k=${f#bench/kernel_}; kernels+=("${k%.c}"); done
fi

# field NAME LINE: the value of NAME=VALUE in LINE.
field() { sed -nE "s/.*(^| )$1=([^ ]*).*/\2/p" <<<"$2"; }

# best CMD...: runs a driver REPEAT times, prints the output line with the
# smallest run_s (or nothing when every run failed).
best() {
  local out line b="" bt=""
  for ((r = 0; r < REPEAT; r++)); do
    out=$(timeout "$TMO" "$@" 2>>"$B/bench/errors.log" | grep 'checksum=' | tail -1) || true
    [ -n "$out" ] || continue
    line=$(field run_s "$out")
    if [ -z "$bt" ] || awk -v a="$line" -v b="$bt" 'BEGIN{exit !(a<b)}'; then b=$out; bt=$line; fi
  done
  echo "$b"
}

# interp KERNEL: wall seconds and checksum of wasm-interp on run_interp().
interp() {
  local t0 t1 out
  t0=$(date +%s.%N)
  out=$(timeout "$TMO" wasm-interp "$B/bench/wasm/$1.wasm" --run-all-exports 2>&1)
  local rc=$?
  t1=$(date +%s.%N)
  [ $rc -eq 0 ] || { echo "- -"; return; }
  echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.6f", b-a}') $(sed -nE 's/^run_interp\(\) => i64:([0-9]+).*/\1/p' <<<"$out")"
}

rows=$(mktemp); trap 'rm -f "$rows"' EXIT
mkdir -p "$B/bench"; : >"$B/bench/errors.log"
mismatch=0
for k in "${kernels[@]}"; do
  [ -x "$B/bench/native/$k" ] || { echo "bench: no kernel $k" >&2; continue; }
  echo "bench: $k ..." >&2
  nat=$(best "$B/bench/native/$k")
  n=$(field n "$nat"); sum=$(field checksum "$nat"); t_nat=$(field run_s "$nat")
  nat_i=$("$B/bench/native/$k" interp); ni=$(field n "$nat_i"); sum_i=$(field checksum "$nat_i")
  t_sos=-; c_sos=-; t_node=-; t_int=-; flag=""
  if [ $have_sos = 1 ]; then
    out=$(best "$B/bench/run_sos" "$B/bench/wasm/$k.wasm" "$n")
    if [ -n "$out" ]; then
      t_sos=$(field run_s "$out"); c_sos=$(field compile_s "$out")
      [ "$(field checksum "$out")" = "$sum" ] || { flag="!"; echo "bench: CHECKSUM MISMATCH: $k on sos: $(field checksum "$out") != native $sum" >&2; }
    else echo "bench: $k failed on sos (see $B/bench/errors.log)" >&2; fi
  fi
  out=$(best node bench/run_node.js "$B/bench/wasm/$k.wasm" "$n")
  if [ -n "$out" ]; then
    t_node=$(field run_s "$out")
    [ "$(field checksum "$out")" = "$sum" ] || { flag="!"; echo "bench: CHECKSUM MISMATCH: $k on node: $(field checksum "$out") != native $sum" >&2; }
  else echo "bench: $k failed on node (see $B/bench/errors.log)" >&2; fi
  read -r ti si < <(interp "$k")
  if [ "$ti" != "-" ]; then
    t_int=$(awk -v t="$ti" -v n="$n" -v m="$ni" 'BEGIN{printf "%.6f", t*n/m}')
    [ "$si" = "$sum_i" ] || { flag="!"; echo "bench: CHECKSUM MISMATCH: $k on wasm-interp: $si != native $sum_i" >&2; }
  else echo "bench: $k failed or timed out on wasm-interp" >&2; fi
  [ -n "$flag" ] && mismatch=1
  echo "$k$flag $t_nat $t_sos $t_node $t_int $c_sos" >>"$rows"
done

# The table: times, ratios, and geometric means of each ratio column.
table() {
  awk '
  function r(a, b) { return (a == "-" || b == "-" || b <= 0) ? "-" : a / b }
  function f(x, fmt) { return x == "-" ? "-" : sprintf(fmt, x) }
  function acc(i, x) { if (x != "-" && x > 0) { lg[i] += log(x); cnt[i]++ } }
  BEGIN { printf "%-10s %9s %9s %9s %12s %10s %11s %10s %10s\n", "kernel", "native_s",
          "sos_s", "node_s", "interp_s*", "sos/native", "node/native", "interp/sos", "compile_ms" }
  { s = r($3, $2); nd = r($4, $2); is = r($5, $3); acc(1, s); acc(2, nd); acc(3, is)
    printf "%-10s %9s %9s %9s %12s %10s %11s %10s %10s\n", $1, f($2, "%.3f"), f($3, "%.3f"),
      f($4, "%.3f"), f($5, "%.2f"), f(s, "%.2fx"), f(nd, "%.2fx"), f(is, "%.1fx"),
      ($6 == "-" ? "-" : sprintf("%.3f", $6 * 1000)) }
  END { for (i = 1; i <= 3; i++) g[i] = cnt[i] ? sprintf("%.2fx", exp(lg[i] / cnt[i])) : "-"
        printf "%-10s %9s %9s %9s %12s %10s %11s %10s\n", "geomean", "", "", "", "", g[1], g[2], g[3]
        print "* wasm-interp: wall time of a smaller run scaled to the same n; ! = checksum mismatch" }' "$rows"
}
mkdir -p "$B/bench"
{ echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(uname -m) $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  table; } | tee "$B/bench/results.txt"

if [ $have_sos = 1 ]; then
  echo
  timeout "$TMO" "$B/bench/micro" "${MICRO_SCALE:-1}" | tee -a "$B/bench/results.txt" ||
    echo "bench: micro-benchmarks failed" >&2
fi
echo
bash scripts/bench_node.sh | tee -a "$B/bench/results.txt" || echo "bench: node benchmark failed" >&2
echo
bash scripts/bench_store.sh | tee -a "$B/bench/results.txt" || echo "bench: storage benchmark failed" >&2
bash scripts/bench_http.sh | tee -a "$B/bench/results.txt" || echo "bench: HTTP benchmark failed" >&2
echo
mkdir -p "$B/bench/idl"
if make -s B="$B" "$B/bench/idl/bench" >"$B/bench/idl/build.log" 2>&1; then
  timeout "$TMO" "$B/bench/idl/bench" | tee -a "$B/bench/results.txt" ||
    echo "bench: idl codec benchmark failed" >&2
else echo "bench: the idl codec benchmark does not build (see $B/bench/idl/build.log)" >&2; fi
[ $mismatch = 0 ] || echo "bench: WARNING: some checksums did not match (marked !)" >&2
exit 0

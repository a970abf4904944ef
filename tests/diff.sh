#!/usr/bin/env bash
# Differential tests: SOS against V8 on random modules (run by
# scripts/test.sh; also on its own).
#
# Makes DIFF_N (default 200) modules with binaryen's `wasm-opt
# --translate-to-fuzz` from deterministic random bytes (seed DIFF_SEED,
# default 1: module i comes from seed SEED*100000+i, so a run is
# reproducible), runs each in node (tests/diff/diff_run.js) and in SOS
# (build/tests/diff_run, tests/diff/diff_run.c), and compares the two
# outputs: every call of the logging imports and every exported function's
# results or trap.  SOS runs each module twice, with the JIT and with the
# interpreter (SOS_WASM_JIT=0), whose outputs must be identical, down to
# the fuel each call used (DIFF_FUEL_LINES).  A module whose outputs agree passes; one that V8
# rejects or that runs over 10 s in V8 is skipped; when SOS ran out of
# fuel, its output must agree as far as it got.  Failing modules are kept
# under build/diff/fail/ (the module, its seed, both outputs and a diff).
# Stops starting new modules after DIFF_SECONDS (default 110).
# Ends with "diff: N passed, N failed, N skipped".
#
# Features: the modules use the MVP plus sign extension, non-trapping
# float-to-int, bulk memory, multi-value and mutable globals.  Reference
# types stay off because binaryen 108 emits its GC-era typed references
# for them, which are not WebAssembly 2.0 (V8 rejects nearly all such
# modules).  --denan keeps NaNs out of memory and globals, where their
# unspecified payload bits would differ between engines legitimately.
# Three modules in four are then optimised by binaryen (-O1, -O3, -Oz),
# which gives other code shapes (br_table, select, folded blocks); both
# engines run the same optimised binary, so a binaryen bug cannot cause a
# false failure.
set -uo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
N=${DIFF_N:-200}
SEED=${DIFF_SEED:-1}
BUDGET=${DIFF_SECONDS:-110}
OUT=$B/diff
FEATURES=(--mvp-features --enable-sign-ext --enable-nontrapping-float-to-int
          --enable-bulk-memory --enable-multivalue --enable-mutable-globals)
OPTS=("" -O1 -O3 -Oz) # module i is also optimised with OPTS[i % 4]

if ! make -s B="$B" "$B/tests/diff_run" >/dev/null; then
  echo "diff: cannot build $B/tests/diff_run"
  echo "diff: 0 passed, 1 failed"
  exit 1
fi
rm -rf "$OUT/work"; mkdir -p "$OUT/work" "$OUT/fail"
pass=0; fail=0; skip=0
deadline=$((SECONDS + BUDGET))

# agree SOS_OUT NODE_OUT: equal, or SOS ran out of fuel and agrees so far.
agree() {
  if [ "$(tail -n1 "$1")" = exhausted ]; then
    local n; n=$(($(wc -l <"$1") - 1))
    cmp -s <(head -n "$n" "$1") <(head -n "$n" "$2")
  else
    cmp -s "$1" "$2"
  fi
}

for ((i = 1; i <= N; i++)); do
  if [ $SECONDS -ge $deadline ]; then
    echo "diff: time budget of ${BUDGET}s used; stopping after $((i - 1)) modules"
    break
  fi
  seed=$((SEED * 100000 + i)); w=$OUT/work/$seed
  node tests/diff/random_bytes.js "$seed" >"$w.bin"
  opt=${OPTS[$((i % ${#OPTS[@]}))]}
  if ! wasm-opt "$w.bin" -ttf "${FEATURES[@]}" --denan $opt -o "$w.wasm" >/dev/null 2>&1; then
    skip=$((skip + 1)); continue
  fi
  timeout 10 node tests/diff/diff_run.js "$w.wasm" >"$w.node" 2>&1
  if [ $? -ne 0 ]; then skip=$((skip + 1)); continue; fi
  DIFF_FUEL_LINES=1 timeout 30 "$B/tests/diff_run" "$w.wasm" >"$w.sosf" 2>&1
  rc=$?
  grep -v '^fuel ' "$w.sosf" >"$w.sos"
  # The interpreter must give the JIT's output exactly: the same results,
  # traps and fuel used by every call.
  SOS_WASM_JIT=0 DIFF_FUEL_LINES=1 timeout 30 "$B/tests/diff_run" "$w.wasm" >"$w.sosi" 2>&1
  rci=$?
  if [ $rc -eq 0 ] && agree "$w.sos" "$w.node" && [ $rci -eq 0 ] && cmp -s "$w.sosf" "$w.sosi"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    [ $rc -eq 0 ] || echo "exit status $rc" >>"$w.sos"
    [ $rci -eq 0 ] || echo "exit status $rci" >>"$w.sosi"
    cp "$w.wasm" "$w.sos" "$w.sosf" "$w.sosi" "$w.node" "$OUT/fail/"
    echo "$seed" >"$OUT/fail/$seed.seed"
    { diff "$w.node" "$w.sos"; diff "$w.sosf" "$w.sosi"; } >"$OUT/fail/$seed.diff"
    echo "FAIL seed $seed: $(head -n 3 "$OUT/fail/$seed.diff" | tr '\n' ' ')"
  fi
done
[ $fail -eq 0 ] || echo "diff: failing modules kept in $OUT/fail/ (node output vs sos output in SEED.diff)"
echo "diff: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]

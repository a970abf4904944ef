#!/usr/bin/env bash
# Fuzzes the WebAssembly engine with libFuzzer (`make fuzz`).
#
# Usage: scripts/fuzz.sh [SECONDS]   (default 60)
# Builds build/fuzz/fuzz_wasm from tests/fuzz/fuzz_wasm.c and every source
# of src/base and src/wasm with clang -fsanitize=fuzzer,address,undefined
# (-O1 -g), seeds build/fuzz/corpus from the modules scripts/spec.sh left
# under build/spec/ (or, when there are none, from a few spec scripts
# converted here with wast2json), then fuzzes for SECONDS with at most two
# workers (libFuzzer's fork mode, which stops at the first failing input),
# inputs up to 64 KiB.  A crashing, leaking, hanging or memory-hungry
# input is saved under build/fuzz/crashes/ and the exit status is then
# non-zero.  Logs go to build/fuzz/fuzz.log.  Environment: FUZZ_JOBS
# (workers, default min(2, nproc)), SOS_WASM_TESTSUITE (the spec suite),
# FUZZ_BUILD_ONLY=1 (build the target and stop).
set -uo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-60}
OUT=build/fuzz
BIN=$OUT/fuzz_wasm
JOBS=${FUZZ_JOBS:-$(($(nproc) < 2 ? 1 : 2))}
SUITE=${SOS_WASM_TESTSUITE:-../shared/wasm-testsuite}
mkdir -p "$OUT/corpus" "$OUT/crashes"

# build: compiles each source (two at a time) whose object is older than
# it or than any header, then links.  interp.c is compiled without UBSan's
# pointer-overflow check, which on its one big dispatch function takes
# clang 14 half a minute; ASan still checks every access it makes.
build() {
  local flags=(-std=c11 -D_GNU_SOURCE -ffp-contract=off -O1 -g -fno-omit-frame-pointer
               -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
               -Iinclude -Isrc)
  local src obj objs=() stale=0 running=0 failed=0
  mkdir -p "$OUT/obj"
  for src in src/base/*.c src/wasm/*.c tests/fuzz/fuzz_wasm.c; do
    obj=$OUT/obj/$(basename "${src%.c}").o; objs+=("$obj")
    if [ -f "$obj" ] && [ -z "$(find "$src" include src/*/*.h -newer "$obj" | head -1)" ]; then
      continue
    fi
    stale=1
    local extra=(); [ "$(basename "$src")" = interp.c ] && extra=(-fno-sanitize=pointer-overflow)
    clang "${flags[@]}" "${extra[@]}" -c "$src" -o "$obj" &
    running=$((running + 1))
    if [ $running -ge 2 ]; then wait -n || failed=1; running=$((running - 1)); fi
  done
  while [ $running -gt 0 ]; do wait -n || failed=1; running=$((running - 1)); done
  [ $failed = 0 ] || return 1
  [ $stale = 0 ] && [ -x "$BIN" ] && return 0
  echo "fuzz: linking $BIN"
  clang -fsanitize=fuzzer,address,undefined "${objs[@]}" -o "$BIN" -lm -lpthread
}

# seed: adds spec-suite modules (at most 64 KiB each) to an empty corpus.
seed() {
  [ -n "$(ls -A "$OUT/corpus")" ] && return 0
  local files; files=$(find build/spec -name '*.wasm' -size -65k 2>/dev/null)
  if [ -z "$files" ]; then
    echo "fuzz: no modules under build/spec; converting a few spec scripts"
    local w
    for w in binary br_table call_indirect memory_grow table elem data global \
             loop if select conversions i32 f64 bulk ref_func return_call; do
      [ -f "$SUITE/core/$w.wast" ] || continue
      mkdir -p "$OUT/wast/$w"
      wast2json "$SUITE/core/$w.wast" -o "$OUT/wast/$w/$w.json" >/dev/null 2>&1 || true
    done
    files=$(find "$OUT/wast" -name '*.wasm' -size -65k 2>/dev/null)
  fi
  local f
  for f in $files; do cp "$f" "$OUT/corpus/$(sha1sum <"$f" | cut -c1-40)"; done
  echo "fuzz: seeded the corpus with $(ls "$OUT/corpus" | wc -l) modules"
}

build || { echo "fuzz: build failed"; exit 1; }
[ "${FUZZ_BUILD_ONLY:-0}" = 1 ] && exit 0
seed
before=$(ls "$OUT/crashes" | wc -l)
echo "fuzz: fuzzing for ${SECS}s with $JOBS worker(s); log in $OUT/fuzz.log"
"$BIN" -fork="$JOBS" -ignore_crashes=0 -ignore_timeouts=0 -ignore_ooms=0 \
  -max_len=65536 -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$OUT/crashes/" -print_final_stats=1 \
  "$OUT/corpus" >"$OUT/fuzz.log" 2>&1
rc=$?
after=$(ls "$OUT/crashes" | wc -l)
grep -E '^#[0-9]+|INFO: fuzzed for|stat::number_of_executed_units' "$OUT/fuzz.log" | tail -3
if [ "$after" -gt "$before" ]; then
  echo "fuzz: $((after - before)) new failing input(s) in $OUT/crashes:"
  ls -t "$OUT/crashes" | head -n $((after - before)) | sed 's/^/  /'
  grep -m3 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$OUT/fuzz.log" | sed 's/^/  /'
  exit 1
fi
if [ "$rc" -ne 0 ]; then
  echo "fuzz: libFuzzer exited with status $rc (see $OUT/fuzz.log)"
  exit 1
fi
echo "fuzz: no crashes"

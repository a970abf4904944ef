#!/usr/bin/env bash
# Fuzzes the WebAssembly engine, the app-definition parser, the wire
# codec, the HTTP gateway's parsing and the kernel's plan decoder with
# libFuzzer (`make fuzz`).
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET]   (default 60; either order)
# TARGET is `wasm` (tests/fuzz/fuzz_wasm.c: the engine), `app`
# (tests/fuzz/fuzz_app.c: src/lang's parser, printer and formatter),
# `idl` (tests/fuzz/fuzz_idl.c: src/idl's wire and JSON codec), `http`
# (tests/fuzz/fuzz_http.c: the gateway's own parsing and writing) or
# `plan` (tests/fuzz/fuzz_plan.c: src/kernel/plan.c's decoder).  With no
# TARGET all run: wasm for SECONDS, then app for FUZZ_APP_SECONDS, idl for
# FUZZ_IDL_SECONDS and http for FUZZ_HTTP_SECONDS (default 11 each) and
# plan for FUZZ_PLAN_SECONDS (default 10); with one, only that target
# runs, for SECONDS.
#
# wasm: builds build/fuzz/fuzz_wasm from tests/fuzz/fuzz_wasm.c and every
# source of src/base and src/wasm with clang -fsanitize=fuzzer,address,
# undefined (-O1 -g), seeds build/fuzz/corpus from the modules
# scripts/spec.sh left under build/spec/ (or, when there are none, from a
# few spec scripts converted here with wast2json), then fuzzes with at
# most two workers (libFuzzer's fork mode, which stops at the first
# failing input), inputs up to 64 KiB.  Logs go to build/fuzz/fuzz.log.
#
# app: builds build/fuzz/fuzz_app from tests/fuzz/fuzz_app.c and the
# sources of src/base and src/lang the same way, seeds build/fuzz/corpus_app
# from apps/*/app.sos and a few definitions written here, and fuzzes with
# the dictionary tests/fuzz/app.dict, inputs up to 16 KiB.  Logs go to
# build/fuzz/fuzz_app.log.
#
# idl: builds build/fuzz/fuzz_idl from tests/fuzz/fuzz_idl.c and the
# sources of src/base, src/lang and src/idl (not the C generator, gen_*)
# the same way, seeds build/fuzz/corpus_idl with a few JSON objects and
# wire messages written here, and fuzzes with tests/fuzz/idl.dict, inputs
# up to 16 KiB.  Logs go to build/fuzz/fuzz_idl.log.
#
# http: builds build/fuzz/fuzz_http from tests/fuzz/fuzz_http.c, the
# sources of the idl target and src/net/route.c (the gateway's request
# targets and what services answer), seeds build/fuzz/corpus_http, logs
# to build/fuzz/fuzz_http.log.
#
# plan: builds build/fuzz/fuzz_plan from tests/fuzz/fuzz_plan.c, the
# sources of the idl target and src/kernel/plan.c and typed.c (the rest of
# the kernel is stubbed there), seeds build/fuzz/corpus_plan with a few
# plan messages written here, and fuzzes with tests/fuzz/plan.dict, inputs
# up to 16 KiB.  Logs go to build/fuzz/fuzz_plan.log.
#
# A crashing, leaking, hanging or memory-hungry input is saved under
# build/fuzz/crashes/ (app-, idl-, http- or plan- in front for those
# targets) and the exit status is then non-zero.  Environment: FUZZ_JOBS
# (workers, default min(2, nproc)), SOS_WASM_TESTSUITE (the spec suite),
# FUZZ_APP_SECONDS, FUZZ_IDL_SECONDS, FUZZ_HTTP_SECONDS,
# FUZZ_PLAN_SECONDS, FUZZ_BUILD_ONLY=1 (build the targets and stop).
set -uo pipefail
cd "$(dirname "$0")/.."
SECS=60
TARGET=
for arg in "$@"; do
  case $arg in
    wasm|app|idl|http|plan) TARGET=$arg ;;
    *[!0-9]*|'') echo "usage: scripts/fuzz.sh [SECONDS] [wasm|app|idl|http|plan]" >&2; exit 2 ;;
    *) SECS=$arg ;;
  esac
done
OUT=build/fuzz
JOBS=${FUZZ_JOBS:-$(($(nproc) < 2 ? 1 : 2))}
SUITE=${SOS_WASM_TESTSUITE:-../shared/wasm-testsuite}
mkdir -p "$OUT/corpus" "$OUT/corpus_app" "$OUT/corpus_idl" "$OUT/corpus_http" \
  "$OUT/corpus_plan" "$OUT/crashes"

# sources TARGET: the files that make up a fuzz target.
sources() {
  case $1 in
    wasm) echo src/base/*.c src/wasm/*.c tests/fuzz/fuzz_wasm.c ;;
    app) echo src/base/*.c src/lang/*.c tests/fuzz/fuzz_app.c ;;
    idl) echo src/base/*.c src/lang/*.c $(ls src/idl/*.c | grep -v '/gen_') tests/fuzz/fuzz_idl.c ;;
    http) echo src/base/*.c src/lang/*.c $(ls src/idl/*.c | grep -v '/gen_') src/net/route.c \
            tests/fuzz/fuzz_http.c ;;
    plan) echo src/base/*.c src/lang/*.c $(ls src/idl/*.c | grep -v '/gen_') src/kernel/plan.c \
            src/kernel/typed.c tests/fuzz/fuzz_plan.c ;;
  esac
}

# build TARGET: compiles each source (two at a time) whose object is older
# than it or than any header, then links $OUT/fuzz_TARGET.  interp.c is
# compiled without UBSan's pointer-overflow check, which on its one big
# dispatch function takes clang 14 half a minute; ASan still checks every
# access it makes.
build() {
  local bin=$OUT/fuzz_$1
  local flags=(-std=c11 -D_GNU_SOURCE -ffp-contract=off -O1 -g -fno-omit-frame-pointer
               -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
               -Iinclude -Isrc)
  local src obj objs=() stale=0 running=0 failed=0
  mkdir -p "$OUT/obj"
  for src in $(sources "$1"); do
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
  [ $stale = 0 ] && [ -x "$bin" ] && return 0
  echo "fuzz: linking $bin"
  local libs=(-lm -lpthread); [ "$1" = http ] && libs+=(-luv -lhttp_parser)
  clang -fsanitize=fuzzer,address,undefined "${objs[@]}" -o "$bin" "${libs[@]}"
}

# seed_wasm: adds spec-suite modules (at most 64 KiB each) to an empty corpus.
seed_wasm() {
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

# seed_app: adds the example apps' definitions and a few written here
# (every statement, extends, comments, one-line blocks) to an empty corpus.
seed_app() {
  local dir=$OUT/corpus_app f
  [ -n "$(ls -A "$dir")" ] && return 0
  for f in apps/*/app.sos; do
    [ -f "$f" ] && cp "$f" "$dir/$(sha1sum <"$f" | cut -c1-40)"
  done
  printf '%s\n' '# a comment' \
    'app hello 1.0.0 extends "../base/app.sos" {' \
    '  module "hello.wasm"          # a ready module' \
    '  files "static/" "README.md"' \
    '  uses time, counter,' \
    '       other' \
    '  env GREETING = "h\x41\n\"i\""' \
    '' \
    '  service hello { instances 1..4; memory 16MiB; timeout 2s; queue 64 }' \
    '  service other {' \
    '    instances 2' \
    '    memory 1000KB' \
    '    timeout 500ms' \
    '  }' \
    '}' >"$dir/seed-full"
  printf 'app x 0.1.0 {sources "a.c" "b.c";service x{}}' >"$dir/seed-oneline"
  echo "fuzz: seeded the app corpus with $(ls "$dir" | wc -l) definitions"
}

# seed_idl: adds a few JSON objects and wire messages of fuzz_idl.c's
# struct All to an empty corpus.
seed_idl() {
  local dir=$OUT/corpus_idl
  [ -n "$(ls -A "$dir")" ] && return 0
  printf '%s' '{"a_bool":true,"a_u8":255,"a_u64":"18446744073709551615","a_i8":-128,' \
    '"a_f32":0.5,"a_f64":"NaN","a_text":"h\u00e9\ud834\udd1e","a_bytes":"AAE=",' \
    '"a_mood":"happy","a_inner":{"name":"x","kids":[{"n":-1}]},"l_u16":[1,2],' \
    '"l_f64":[-0,1e300],"l_text":["",""],"l_mood":["calm",7],"o_u32":0,"p_text":"t"}' \
    >"$dir/seed-json"
  printf '{"l_inner":[{},{"kids":[{"kids":[{}]}]}],"o_inner":{},"p_i64":"-9223372036854775808"}' \
    >"$dir/seed-json2"
  printf '\x0a\x03ada\x10\xac\x02\x7a\x02\x0a\x00\xc0\x3e\x05' >"$dir/seed-wire"
  printf '\x7a\x03\x1a\x01\x00\xd2\x02\x03\x0a\x01x' >"$dir/seed-wire2"
  echo "fuzz: seeded the idl corpus with $(ls "$dir" | wc -l) messages"
}

# seed_http: request targets and service answers (an HttpResponse with a
# status, a header and a body) for fuzz_http.c, in an empty corpus.
seed_http() {
  local dir=$OUT/corpus_http
  [ -n "$(ls -A "$dir")" ] && return 0
  printf '/echo?a=1#frag\0\x08\xc8\x01\x12\x11\x0a\x0ccontent-type\x12\x01x\x1a\x02hi' >"$dir/seed-1"
  printf 'http://host:80/p?q\0\x08\xcc\x01' >"$dir/seed-2"
  printf '*\0\x12\x0c\x0a\x03x-a\x12\x05a\r\nb:' >"$dir/seed-3"
  echo "fuzz: seeded the http corpus with $(ls "$dir" | wc -l) inputs"
}

# seed_plan: plan messages (struct Plan of package sos, docs/wire.md) for
# fuzz_plan.c, in an empty corpus: one step {service "numbers", method
# "next", request 08 02, keep}; a lookup and a greeting whose name is bound
# to the lookup's person.name; that and a third step run for each element
# of step 1's items where age > 18 (zigzag 36); and two steps fields.
seed_plan() {
  local dir=$OUT/corpus_plan
  [ -n "$(ls -A "$dir")" ] && return 0
  local one='\x15\x0a\x07numbers\x12\x04next\x1a\x02\x08\x02\x40\x01'
  local lookup='\x17\x0a\x06people\x12\x06lookup\x1a\x05\x0a\x03ada'
  local greet='\x28\x0a\x05hello\x12\x05greet\x22\x16\x15\x0a\x04name\x12\x0d'
  greet+='\x12\x0bperson.name\x40\x01'
  local each='\x2c\x0a\x05hello\x12\x05greet\x2a\x09\x08\x01\x12\x05items'
  each+='\x32\x04name\x3a\x09\x0a\x03age\x10\x04\x18\x24\x40\x01'
  printf "\x0a\x16$one" >"$dir/seed-one"
  printf "\x0a\x41$lookup$greet" >"$dir/seed-bind"
  printf "\x0a\x6e$lookup$greet$each" >"$dir/seed-each"
  printf "\x0a\x16$one\x0a\x16$one" >"$dir/seed-twice"
  echo "fuzz: seeded the plan corpus with $(ls "$dir" | wc -l) messages"
}

# run TARGET SECONDS: fuzzes one target; non-zero when an input failed.
run() {
  local bin=$OUT/fuzz_$1 corpus=$OUT/corpus log=$OUT/fuzz.log prefix=$OUT/crashes/
  local opts=(-max_len=65536)
  if [ "$1" = app ]; then
    corpus=$OUT/corpus_app log=$OUT/fuzz_app.log prefix=$OUT/crashes/app-
    opts=(-max_len=16384 -dict=tests/fuzz/app.dict)
    seed_app
  elif [ "$1" = idl ]; then
    corpus=$OUT/corpus_idl log=$OUT/fuzz_idl.log prefix=$OUT/crashes/idl-
    opts=(-max_len=16384 -dict=tests/fuzz/idl.dict)
    seed_idl
  elif [ "$1" = http ]; then
    corpus=$OUT/corpus_http log=$OUT/fuzz_http.log prefix=$OUT/crashes/http-
    opts=(-max_len=16384)
    seed_http
  elif [ "$1" = plan ]; then
    corpus=$OUT/corpus_plan log=$OUT/fuzz_plan.log prefix=$OUT/crashes/plan-
    opts=(-max_len=16384 -dict=tests/fuzz/plan.dict)
    seed_plan
  else
    seed_wasm
  fi
  local before after rc
  before=$(ls "$OUT/crashes" | wc -l)
  echo "fuzz: fuzzing $1 for ${2}s with $JOBS worker(s); log in $log"
  "$bin" -fork="$JOBS" -ignore_crashes=0 -ignore_timeouts=0 -ignore_ooms=0 \
    "${opts[@]}" -max_total_time="$2" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$prefix" -print_final_stats=1 \
    "$corpus" >"$log" 2>&1
  rc=$?
  after=$(ls "$OUT/crashes" | wc -l)
  grep -E '^#[0-9]+|INFO: fuzzed for|stat::number_of_executed_units' "$log" | tail -3
  if [ "$after" -gt "$before" ]; then
    echo "fuzz: $((after - before)) new failing input(s) in $OUT/crashes:"
    ls -t "$OUT/crashes" | head -n $((after - before)) | sed 's/^/  /'
    grep -m3 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|fuzz_(app|idl|http|plan):' "$log" | sed 's/^/  /'
    return 1
  fi
  if [ "$rc" -ne 0 ]; then
    echo "fuzz: libFuzzer exited with status $rc (see $log)"
    return 1
  fi
  echo "fuzz: no crashes in $1"
}

targets=${TARGET:-wasm app idl http plan}
for t in $targets; do
  build "$t" || { echo "fuzz: build of $t failed"; exit 1; }
done
[ "${FUZZ_BUILD_ONLY:-0}" = 1 ] && exit 0
status=0
if [ -n "$TARGET" ]; then
  run "$TARGET" "$SECS" || status=1
else
  run wasm "$SECS" || status=1
  run app "${FUZZ_APP_SECONDS:-11}" || status=1
  run idl "${FUZZ_IDL_SECONDS:-11}" || status=1
  run http "${FUZZ_HTTP_SECONDS:-11}" || status=1
  run plan "${FUZZ_PLAN_SECONDS:-10}" || status=1
fi
[ $status = 0 ] && echo "fuzz: no crashes"
exit $status

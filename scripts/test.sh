#!/usr/bin/env bash
# The test command.  Builds SOS with gcc and with clang (warnings are
# errors), then runs every suite: unit tests, the WebAssembly spec suite,
# both again under AddressSanitizer + UndefinedBehaviorSanitizer and with
# the interpreter instead of the JIT (SOS_WASM_JIT=0), WASI and
# CLI tests, the node kernel against a real sosd (plain and ASan), a
# bounded fuzz run and differential tests against V8.
# Each suite prints "NAME: N passed, N failed"; this script adds them up
# and ends with the total line.  Exit status is non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
JOBS=$(nproc)
total_pass=0; total_fail=0
log=$(mktemp); trap 'rm -f "$log"' EXIT

# run NAME COMMAND...: runs a suite, echoes its output, adds its counts.
run() {
  local name=$1; shift
  echo "== $name"
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local line; line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
  if [ -n "$line" ]; then
    local p f
    p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+')
    f=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+')
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then total_fail=$((total_fail + 1)); fi
  else
    # A suite that printed no counts counts as one test, by exit status.
    if [ "$rc" -eq 0 ]; then total_pass=$((total_pass + 1)); else total_fail=$((total_fail + 1)); echo "FAIL $name (exit $rc)"; fi
  fi
}

run "build (gcc)"   make -s -j"$JOBS" CC=gcc B=build all build/tests/unit build/tests/spec bench-build apps
run "build (clang)" make -s -j"$JOBS" CC=clang B=build/clang all build/clang/tests/unit build/clang/tests/spec
run "build (asan)"  make -s -j"$JOBS" CC=clang B=build/asan SAN=1 OPT=-O1 all build/asan/tests/unit build/asan/tests/spec
run "unit"          build/tests/unit
run "unit (asan)"   build/asan/tests/unit
run "spec"          scripts/spec.sh build
run "spec (asan)"   scripts/spec.sh build/asan
# The interpreter, which runs where the JIT does not (non-x86-64 hosts).
run "unit (interp)" env SOS_WASM_JIT=0 build/tests/unit
run "spec (interp)" env SOS_WASM_JIT=0 scripts/spec.sh build
run "cli (asan)"    env B=build/asan CLI_MAKE_ARGS="CC=clang SAN=1 OPT=-O1" bash tests/cli.sh
run "kernel (asan)" env B=build/asan KERNEL_MAKE_ARGS="CC=clang SAN=1 OPT=-O1" bash tests/kernel.sh
run "http (asan)"   env B=build/asan KERNEL_MAKE_ARGS="CC=clang SAN=1 OPT=-O1" bash tests/http.sh
run "slackbot (asan)" env B=build/asan KERNEL_MAKE_ARGS="CC=clang SAN=1 OPT=-O1" bash tests/slackbot.sh
for t in tests/*.sh; do
  [ -e "$t" ] || continue
  run "$(basename "$t" .sh)" bash "$t"
done

echo "== total"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]

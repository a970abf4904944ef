#!/usr/bin/env bash
# The fuzzer as a test (run by scripts/test.sh): a bounded run of
# scripts/fuzz.sh (the engine, then app, idl and http for 11 s each and
# plan for 10 s) counted as one test.  Prints "fuzz: 1 passed, 0 failed"
# when no input crashed, leaked or hung, "fuzz: 0 passed, 1 failed"
# otherwise (the inputs are then in build/fuzz/crashes/).  FUZZ_SECONDS
# overrides the time given to fuzzing, which is otherwise what is left of
# 60 s after the build, less 10 s for libFuzzer's start and wrap-up (20 s
# at least).
set -uo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
if FUZZ_BUILD_ONLY=1 bash scripts/fuzz.sh; then
  secs=${FUZZ_SECONDS:-$((50 - (SECONDS - start)))}
  [ "$secs" -ge 20 ] || secs=20
  if bash scripts/fuzz.sh "$secs"; then
    echo "fuzz: 1 passed, 0 failed"
    exit 0
  fi
fi
echo "fuzz: 0 passed, 1 failed"
exit 1

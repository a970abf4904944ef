#!/usr/bin/env bash
# The fuzzer as a test (run by scripts/test.sh): a bounded run of
# scripts/fuzz.sh, about a minute in all including the build, counted as
# one test.  Prints "fuzz: 1 passed, 0 failed" when no input crashed,
# leaked or hung, "fuzz: 0 passed, 1 failed" otherwise (the inputs are
# then in build/fuzz/crashes/).  FUZZ_SECONDS overrides the fuzzing time.
set -uo pipefail
cd "$(dirname "$0")/.."
if bash scripts/fuzz.sh "${FUZZ_SECONDS:-45}"; then
  echo "fuzz: 1 passed, 0 failed"
else
  echo "fuzz: 0 passed, 1 failed"
  exit 1
fi

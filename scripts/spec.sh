#!/usr/bin/env bash
# Runs the official WebAssembly spec suite against one build of SOS.
#
# Usage: scripts/spec.sh [-v] BUILD_DIR [FILTER]
#   BUILD_DIR  a build folder holding tests/spec (make B=DIR DIR/tests/spec);
#              this script builds nothing but the JSON form of the scripts.
#   FILTER     an extended regular expression a script's name must match,
#              such as 'i32|i64' or '^memory'; all scripts when absent.
#   -v         print every script's counts, not only the failing ones.
#
# Each core/NAME.wast of the suite (found at ../shared/wasm-testsuite beside
# the repository, or at $SOS_WASM_TESTSUITE) is converted with wabt's
# wast2json into BUILD_DIR/spec/NAME/NAME.json, again only when the .wast
# changed since, then run by BUILD_DIR/tests/spec, two scripts at a time
# ($SOS_SPEC_JOBS).  A failing script prints its first failures and its
# line "NAME: P passed, F failed, S skipped"; a crash, a sanitizer report
# or a hang counts as one more failure.  The last line is the total,
# "spec: N passed, N failed, N skipped", and the exit status is non-zero
# when anything failed.
set -uo pipefail

usage() {
  echo "usage: $0 [-v] BUILD_DIR [FILTER]" >&2
  exit 2
}

verbose=0
args=()
for a in "$@"; do
  case $a in
    -v) verbose=1 ;;
    -h | --help) usage ;;
    *) args+=("$a") ;;
  esac
done
[ ${#args[@]} -ge 1 ] && [ ${#args[@]} -le 2 ] || usage
build=$(cd "${args[0]}" 2>/dev/null && pwd) || { echo "spec: no build folder ${args[0]}" >&2; exit 2; }
filter=${args[1]:-}

root=$(cd "$(dirname "$0")/.." && pwd)
top=$(git -C "$root" rev-parse --show-toplevel 2>/dev/null) || top=$root
suite=${SOS_WASM_TESTSUITE:-$top/../shared/wasm-testsuite}
runner=$build/tests/spec
jobs=${SOS_SPEC_JOBS:-2}

[ -d "$suite/core" ] || { echo "spec: no test suite at $suite/core (set SOS_WASM_TESTSUITE)" >&2; exit 2; }
[ -x "$runner" ] || { echo "spec: no $runner; build it with: make B=${args[0]} ${args[0]}/tests/spec" >&2; exit 2; }
command -v wast2json >/dev/null || { echo "spec: wast2json not found; run scripts/deps.sh (package wabt)" >&2; exit 2; }

names=()
for w in "$suite"/core/*.wast; do
  n=$(basename "$w" .wast)
  if [ -z "$filter" ] || grep -Eq -- "$filter" <<<"$n"; then names+=("$n"); fi
done
[ ${#names[@]} -gt 0 ] || { echo "spec: no script matches '$filter'" >&2; exit 2; }

# run_one NAME: converts and runs one script, leaving in BUILD_DIR/spec/NAME
# the runner's stdout (out), stderr (err) and exit status (status).
run_one() {
  local name=$1 dir=$build/spec/$1
  local wast=$suite/core/$name.wast json=$dir/$name.json
  mkdir -p "$dir"
  rm -f "$dir/out" "$dir/err" "$dir/status"
  # The stamp, touched after a whole conversion, guards against a half one.
  if [ ! "$dir/converted" -nt "$wast" ] || [ ! -e "$json" ]; then
    rm -f "$dir/converted"
    if ! wast2json "$wast" -o "$json" >"$dir/err" 2>&1; then
      echo "  wast2json failed on $name.wast" >"$dir/out"
      echo 99 >"$dir/status"
      return 0
    fi
    touch "$dir/converted"
  fi
  # The runner stops itself after 120 s; timeout is only a backstop.
  timeout -k 5 150 "$runner" "$json" >"$dir/out" 2>"$dir/err"
  echo $? >"$dir/status"
}
export -f run_one
export build suite runner

printf '%s\n' "${names[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$1"' _ {}

pass=0 fail=0 skip=0
for n in "${names[@]}"; do
  dir=$build/spec/$n
  status=$(cat "$dir/status" 2>/dev/null || echo 98)
  line=$(grep -E "^$n: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped\$" "$dir/out" 2>/dev/null | tail -1)
  p=0 f=1 s=0
  if [ -n "$line" ]; then
    read -r p f s <<<"$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$/\1 \2 \3/' <<<"$line")"
  fi
  # A crash, hang, sanitizer report or bad conversion is one more failure:
  # the runner itself exits 0 (all passed) or 1 (some failed) only.
  abnormal=0
  if [ -z "$line" ] || [ "$status" -gt 1 ] || { [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; } ||
    grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$dir/err" 2>/dev/null; then
    abnormal=1
    [ -n "$line" ] && f=$((f + 1))
  fi
  pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
  if [ "$f" -gt 0 ] || [ "$verbose" -eq 1 ]; then
    grep -v -E "^$n: [0-9]+ passed" "$dir/out" 2>/dev/null
    if [ "$abnormal" -eq 1 ]; then
      echo "  runner exited with status $status; its stderr ($dir/err) begins:"
      head -n 30 "$dir/err" 2>/dev/null | sed 's/^/    /'
    fi
    echo "$n: $p passed, $f failed, $s skipped"
  fi
done

echo "spec: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]

#!/usr/bin/env bash
# tests/cli.sh - end-to-end tests of `sos` and of WASI, by running
# build/sos on the programs in tests/wasm/ (built for wasm32-wasi by
# mk/examples.mk) and on a few broken modules made here.
#
# Each check runs one command with a time limit and compares its exit
# status, stdout and stderr with what is expected; it counts as one pass
# or one fail, and a failure prints what differed and the start of the
# output.  tests/wasm/wasi_calls.c checks many WASI calls itself and
# prints one "ok"/"FAIL" line per check, each counted here.  Ends with
# "cli: N passed, N failed"; exits non-zero on any failure.
# B=DIR selects the build folder (default build); CLI_MAKE_ARGS passes
# the variables that build it, e.g. for the sanitizer build:
#   B=build/asan CLI_MAKE_ARGS="CC=clang SAN=1 OPT=-O1" bash tests/cli.sh
set -uo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
SOS=$B/sos
T=$B/testwasm
E=$B/examples
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

source tests/lib/check.sh

# ---- build ------------------------------------------------------------------
build_or_exit cli "sos and the test programs" B="$B" ${CLI_MAKE_ARGS:-} "$SOS" testwasm examples
pass=$((pass + 1))

# ---- help and usage -----------------------------------------------------------
check "sos --help" 0 "Usage: sos" "" $SOS --help
check "sos --version" 0 "sos " "" $SOS --version
check "sos wasm --help" 0 "validate" "" $SOS wasm --help
check "sos wasm run --help" 0 "--max-memory" "" $SOS wasm run --help
check "sos wasm validate --help" 0 "Usage: sos wasm validate" "" $SOS wasm validate --help
check "no command" 2 "" "" $SOS
check "unknown command" 2 "" "unknown command 'wsam'; did you mean 'wasm'?" $SOS wsam
check "run without a file" 2 "" "missing FILE.wasm" $SOS wasm run
check "unknown option hints --help" 2 "" "--help" $SOS wasm run --bogus $T/args.wasm
check "option without value" 2 "" "needs a value" $SOS wasm run --fuel
check "bad size" 2 "" "bad --max-memory" $SOS wasm run --max-memory 12XB $T/args.wasm

# ---- arguments, environment, stdio ---------------------------------------------
check "argv[0] is the file" 0 "argv[0]=$T/args.wasm" "" $SOS wasm run $T/args.wasm a
check "arguments pass through" 0 "argv[2]=y z" "" $SOS wasm run $T/args.wasm x "y z"
check "options after FILE go to the program" 0 "argv[1]=--env" "" $SOS wasm run $T/args.wasm --env X=1
check "--env sets variables" 0 "env B=x=y" "" $SOS wasm run --env A=1 --env B=x=y $T/args.wasm
check "--env count" 0 "envc=2" "" $SOS wasm run --env A=1 --env=B=x=y $T/args.wasm
check "host environment not inherited" 0 "envc=0" "" env SOS_SECRET=leak $SOS wasm run $T/args.wasm
check "host environment not leaked" 0 "!SOS_SECRET" "" env SOS_SECRET=leak $SOS wasm run $T/args.wasm
check "--env NAME passes the host value" 0 "env SOS_SECRET=leak" "" env SOS_SECRET=leak $SOS wasm run --env SOS_SECRET $T/args.wasm
INPUT=$'line one\nline two\n' check "stdin passes through" 0 $'=line one\nline two' "" $SOS wasm run $T/cat.wasm
head -c 300000 /dev/urandom >"$tmp/big"
timeout 60 $SOS wasm run $T/cat.wasm <"$tmp/big" | cat >"$tmp/big.out"
cmp -s "$tmp/big" "$tmp/big.out" && report "300 KB of binary through a pipe" "" "" "" ||
  report "300 KB of binary through a pipe" "output differs" "" ""

# ---- exit codes -------------------------------------------------------------------
check "return 0" 0 "" "" $SOS wasm run $T/exitcode.wasm return 0
check "return 3" 3 "" "" $SOS wasm run $T/exitcode.wasm return 3
check "exit(7)" 7 "exiting with 7" "" $SOS wasm run $T/exitcode.wasm exit 7
check "exit(255)" 255 "" "" $SOS wasm run $T/exitcode.wasm exit 255

# ---- traps and limits ----------------------------------------------------------------
check "unreachable" 134 "trapping: unreachable" "trap: unreachable: " $SOS wasm run $T/trap.wasm unreachable
check "out of bounds" 134 "" "trap: memory: " $SOS wasm run $T/trap.wasm oob
check "divide by zero" 134 "" "trap: arithmetic: integer divide by zero" $SOS wasm run $T/trap.wasm div0
check "infinite recursion" 134 "" "trap: stack: call stack exhausted" $SOS wasm run $T/trap.wasm recurse
check "infinite loop with --fuel" 134 "" "trap: fuel: " $SOS wasm run --fuel 1000000 $T/trap.wasm loop
check "enough fuel" 0 "" "" $SOS wasm run --fuel 100000000 $T/exitcode.wasm return 0
check "malloc under --max-memory" 0 "malloc returned NULL after" "" $SOS wasm run --max-memory 1MiB $T/malloc_loop.wasm
kib=$($SOS wasm run --max-memory 1MiB $T/malloc_loop.wasm 2>/dev/null | grep -o '[0-9]* KiB' | grep -o '[0-9]*')
[ -n "$kib" ] && [ "$kib" -le 1024 ] && report "--max-memory caps memory" "" "" "" ||
  report "--max-memory caps memory" "got ${kib:-nothing} KiB, want at most 1024" "" ""
check "sizes: lower case, decimal unit, = form" 0 "envc=0" "" $SOS wasm run --max-memory=1gb $T/args.wasm
check "sizes: plain bytes" 0 "envc=0" "" $SOS wasm run --max-memory 1048576 $T/args.wasm
check "--max-memory below the module's minimum" 2 "" "$T/args.wasm: " $SOS wasm run --max-memory 64KiB $T/args.wasm

# ---- broken modules and files ------------------------------------------------------------
printf 'this is not wasm at all' >"$tmp/garbage.wasm"
head -c 1000 $T/args.wasm >"$tmp/trunc.wasm"
: >"$tmp/empty.wasm"
check "garbage module" 2 "" "$tmp/garbage.wasm: " $SOS wasm run "$tmp/garbage.wasm"
check "garbage module names the problem" 2 "" "magic" $SOS wasm run "$tmp/garbage.wasm"
check "truncated module" 2 "" "$tmp/trunc.wasm: " $SOS wasm run "$tmp/trunc.wasm"
check "empty file" 2 "" "$tmp/empty.wasm: " $SOS wasm run "$tmp/empty.wasm"
check "missing file" 2 "" "No such file" $SOS wasm run "$tmp/nothing.wasm"
check "directory" 2 "" "$tmp: " $SOS wasm run "$tmp"
check "validate good" 0 "=valid" "" $SOS wasm validate $T/args.wasm
check "validate garbage" 1 "" "magic" $SOS wasm validate "$tmp/garbage.wasm"
check "validate truncated" 1 "" "$tmp/trunc.wasm: " $SOS wasm validate "$tmp/trunc.wasm"
check "validate missing file" 2 "" "No such file" $SOS wasm validate "$tmp/nothing.wasm"
echo '(module (import "env" "f" (func)) (func (export "_start")))' >"$tmp/imp.wat"
echo '(module (func (export "f") (result i32) i32.const 7))' >"$tmp/nostart.wat"
echo '(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32))) (func (export "_start")))' >"$tmp/badtype.wat"
for w in imp nostart badtype; do wat2wasm "$tmp/$w.wat" -o "$tmp/$w.wasm"; done
check "unknown import" 2 "" "unknown import \"env\" \"f\"" $SOS wasm run "$tmp/imp.wasm"
check "WASI import of the wrong type" 2 "" "fd_write" $SOS wasm run "$tmp/badtype.wasm"
check "no _start" 2 "" "no _start" $SOS wasm run "$tmp/nostart.wasm"
check "--invoke on a module without _start" 0 "=7" "" $SOS wasm run --invoke f "$tmp/nostart.wasm"

# ---- WASI ---------------------------------------------------------------------------
check "clock: monotonic increases" 0 "monotonic increasing" "" $SOS wasm run $T/clock.wasm
check "clock: nanosleep sleeps" 0 "sleep ok" "" $SOS wasm run $T/clock.wasm
check "clock: realtime" 0 "realtime plausible" "" $SOS wasm run $T/clock.wasm
check "clock: cputime" 0 "cputime ok" "" $SOS wasm run $T/clock.wasm
check "random_get fills bytes" 0 "random ok" "" $SOS wasm run $T/random.wasm
INPUT=x check "fd_seek on a pipe gives ESPIPE" 0 "=ESPIPE" "" $SOS wasm run $T/seek.wasm
STDIN=$T/seek.wasm check "fd_seek on a file" 0 "=offset 0" "" $SOS wasm run $T/seek.wasm
check "fopen fails cleanly" 0 "fopen failed: " "" $SOS wasm run $T/fopen.wasm
check "fopen for writing fails cleanly" 0 "fopen for writing failed" "" $SOS wasm run $T/fopen.wasm
printf 'x' | timeout 60 $SOS wasm run $T/wasi_calls.wasm >"$tmp/calls" 2>&1
rc=$?
while read -r word rest; do
  case $word in
  ok) pass=$((pass + 1)) ;;
  FAIL) report "wasi_calls: ${rest%%:*}" "${rest#*: }" "" "" ;;
  esac
done <"$tmp/calls"
grep -q '^done 0$' "$tmp/calls" && [ "$rc" -eq 0 ] && report "wasi_calls completes" "" "" "" ||
  report "wasi_calls completes" "exit status $rc" "$(tail -3 "$tmp/calls")" ""

# ---- --invoke --------------------------------------------------------------------------
check "--invoke i32" 0 "=42" "" $SOS wasm run --invoke add $T/invoke.wasm 2 40
check "--invoke negative" 0 "=-3" "" $SOS wasm run --invoke add $T/invoke.wasm -5 2
check "--invoke i64" 0 "=2432902008176640000" "" $SOS wasm run --invoke fact $T/invoke.wasm 20
check "--invoke f64" 0 "=0.1" "" $SOS wasm run --invoke half $T/invoke.wasm 0.2
check "--invoke missing export" 2 "" "no exported function named 'nope'" $SOS wasm run --invoke nope $T/invoke.wasm
check "--invoke wrong argument count" 2 "" "add takes 2 arguments, got 1" $SOS wasm run --invoke add $T/invoke.wasm 1
check "--invoke bad argument" 2 "" "is not an i32" $SOS wasm run --invoke add $T/invoke.wasm 1 two

# ---- app definitions: sos check, sos fmt, sos build -------------------------------------------
check "check an app" 0 "apps/hello/app.sos: ok (app hello 1.0.0, 1 service)" "" $SOS check apps/hello
printf 'app bad 1.0.0 {\n  sources "a.c"\n  service bad { instances 5..2 }\n}\n' >"$tmp/bad.sos"
check "check reports line:col" 1 "" "bad.sos:3:" $SOS check "$tmp/bad.sos"
printf 'app typo 1.0.0 {\n  modul "x.wasm"\n}\n' >"$tmp/typo.sos"
check "check suggests a statement" 1 "" 'did you mean "module"' $SOS check "$tmp/typo.sos"
check "check of a missing file" 2 "" "nothere" $SOS check "$tmp/nothere.sos"
printf '# greeting\napp  hello   1.0.0{sources "hello.c"   # code\nservice hello{instances 1..2}}\n' >"$tmp/messy.sos"
$SOS fmt "$tmp/messy.sos" >"$tmp/fmt1.sos" 2>&1
check "fmt keeps comments" 0 "# code" "" cat "$tmp/fmt1.sos"
check "fmt is idempotent" 0 "" "" bash -c "$SOS fmt '$tmp/fmt1.sos' | cmp - '$tmp/fmt1.sos'"
check "fmt of the example apps changes nothing" 0 "" "" \
  bash -c "for f in apps/*/app.sos; do $SOS fmt \$f | cmp - \$f || exit 1; done"
check "build without app.sos" 1 "" "app.sos" $SOS build "$tmp"

# ---- the examples -----------------------------------------------------------------------
check "example hello" 0 "Hi, Ada!" "" $SOS wasm run --env GREETING=Hi $E/hello.wasm Ada
check "example primes" 0 "168 primes up to 1000" "" $SOS wasm run $E/primes.wasm 1000
check "example mandelbrot" 0 "@@@@@" "" $SOS wasm run $E/mandelbrot.wasm 60 20
INPUT=$'the cat and the dog and the bird\n' check "example wordfreq" 0 "the                 3" "" $SOS wasm run $E/wordfreq.wasm 3

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

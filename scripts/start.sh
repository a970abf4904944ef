#!/usr/bin/env bash
# The first command to run (see README): installs what SOS needs on Debian
# 12 (scripts/deps.sh, which brings make and compilers too), builds SOS and
# the example WebAssembly programs, and runs each example on build/sos with
# a one-line caption.  Ends with what to try next.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -t 1 ]; then bold=$'\033[1m'; dim=$'\033[2m'; off=$'\033[0m'; else bold=""; dim=""; off=""; fi
# caption TEXT: a heading before each step.
caption() { printf '\n%s==> %s%s\n' "$bold" "$*" "$off"; }
# show CMD...: prints a command, then runs it.
show() { printf '%s$ %s%s\n' "$dim" "$*" "$off"; "$@"; }
# show_in FILE CMD...: the same with stdin from FILE.
show_in() { local f=$1; shift; printf '%s$ %s < %s%s\n' "$dim" "$*" "$f" "$off"; "$@" <"$f"; }

caption "Installing build dependencies (Debian 12 packages; asks for sudo if needed)"
bash scripts/deps.sh

caption "Building SOS (build/sos) and the example programs (build/examples/*.wasm)"
make -s -j"$(nproc)" all examples

caption "hello: arguments and --env reach the program; nothing else of the host does"
show build/sos wasm run --env GREETING=Hello build/examples/hello.wasm SOS

caption "primes: a tight loop over linear memory, timed with WASI's monotonic clock"
show build/sos wasm run build/examples/primes.wasm 5000000

caption "mandelbrot: floating point, one line per row"
show build/sos wasm run build/examples/mandelbrot.wasm 76 24

caption "wordfreq: stdin passes through; here it counts the words of docs/wasi.md"
show_in docs/wasi.md build/sos wasm run build/examples/wordfreq.wasm 8

caption "limits: the same primes program with a budget of one million instructions"
status=0
show build/sos wasm run --fuel 1000000 build/examples/primes.wasm || status=$?
echo "(exit status $status: a trap ends the program, never the host)"

caption "Next"
cat <<'NEXT'
  build/sos --help                  the commands (build/sos wasm run --help for options)
  build/sos wasm run build/examples/wordfreq.wasm 20 < some.txt
  clang --target=wasm32-wasi -O2 prog.c -o prog.wasm && build/sos wasm run prog.wasm
                                    run your own C program
  make test                         every test suite (unit, spec, sanitizers, CLI, fuzz)
  docs/wasi.md                      which WASI calls work and what the others answer
NEXT

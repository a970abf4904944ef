# tests/lib/check.sh - the pass/fail harness shared by the shell test
# suites (sourced, not run).  The suite sets pass=0, fail=0 and tmp (a
# scratch folder) before using it: suite_begin does, for suites that run
# nodes.

# suite_begin: what a suite that runs nodes starts with: B (the build
# folder, default build), SOS (its sos, absolute), pass=0, fail=0, tmp (a
# scratch folder), SOS_HOME=$tmp/node, and an exit trap that runs the
# suite's on_exit when it defines one, kills the node of every data folder
# in NODES (at first just $SOS_HOME) and removes tmp.
suite_begin() {
  B=${B:-build}
  SOS=$(pwd)/$B/sos
  pass=0
  fail=0
  tmp=$(mktemp -d)
  export SOS_HOME=$tmp/node
  NODES=("$SOS_HOME")
  trap suite_end EXIT
}

suite_end() {
  if declare -F on_exit >/dev/null; then on_exit; fi
  for d in "${NODES[@]}"; do
    [ -f "$d/sosd.lock" ] && kill -9 "$(node_pid "$d")" 2>/dev/null
  done
  rm -rf "$tmp"
}

# node_pid [DIR]: the pid of the node on data folder DIR (default $SOS_HOME).
node_pid() { tr -d '\n' <"${1:-$SOS_HOME}/sosd.lock" 2>/dev/null; }

# report NAME WHY OUT ERR: counts a pass when WHY is empty, else a fail.
# SHOW_PASS=1 prints each check with the time it ended (to find slow ones).
report() {
  [ -n "${SHOW_PASS:-}" ] && echo "$(date +%s.%N | cut -c1-14) $1"
  if [ -z "$2" ]; then
    pass=$((pass + 1))
    return
  fi
  fail=$((fail + 1))
  echo "FAIL $1: $2"
  [ -n "$3" ] && head -c 600 <<<"$3" | sed 's/^/    stdout| /'
  [ -n "$4" ] && head -c 600 <<<"$4" | sed 's/^/    stderr| /'
  return 0
}

# check NAME STATUS OUT ERR CMD...: runs CMD and checks its exit status,
# that stdout contains OUT and stderr contains ERR (each skipped when
# empty).  OUT starting with "=" must equal the rest exactly; OUT starting
# with "!" must not appear.  Stdin is $INPUT piped in when INPUT is set,
# else the file $STDIN when set, else /dev/null.
check() {
  local name=$1 want_rc=$2 want_out=$3 want_err=$4 out err rc why=""
  shift 4
  if [ -n "${INPUT+x}" ]; then
    out=$(printf '%s' "$INPUT" | timeout 60 "$@" 2>"$tmp/err")
  else
    out=$(timeout 60 "$@" <"${STDIN:-/dev/null}" 2>"$tmp/err")
  fi
  rc=$?
  err=$(<"$tmp/err")
  [ "$rc" -eq "$want_rc" ] || why+="exit status $rc, want $want_rc; "
  case $want_out in
  "") ;;
  =*) [ "$out" == "${want_out#=}" ] || why+="stdout is not '${want_out#=}'; " ;;
  !*) ! grep -qF -- "${want_out#!}" <<<"$out" || why+="stdout has '${want_out#!}'; " ;;
  *) grep -qF -- "$want_out" <<<"$out" || why+="stdout lacks '$want_out'; " ;;
  esac
  [ -z "$want_err" ] || grep -qF -- "$want_err" <<<"$err" || why+="stderr lacks '$want_err'; "
  report "$name" "$why" "$out" "$err"
}

# build_or_exit SUITE WHAT MAKE_ARG...: runs make -s -j with the args
# (output in $tmp/build); when it fails, reports building WHAT, prints
# the suite's "SUITE: N passed, N failed" and exits 1.
build_or_exit() {
  local suite=$1 what=$2
  shift 2
  if ! make -s -j"$(nproc)" "$@" >"$tmp/build" 2>&1; then
    report "build $what" "make failed" "" "$(cat "$tmp/build")"
    echo "$suite: $pass passed, $fail failed"
    exit 1
  fi
}

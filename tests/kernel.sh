#!/usr/bin/env bash
# tests/kernel.sh - end-to-end tests of the node kernel: a real sosd
# process on a fresh data directory, driven by build/sos over its control
# socket, with the example apps of apps/ and the test apps of tests/apps/.
#
# Covers what issue 3 asks to hold: deploy, call, ps, logs, rollback, rm,
# restart after SIGKILL, the `uses` sandbox, a spinning service not
# delaying others, a trapping instance replaced, crash back-off, memory
# limits, timeouts, busy queues, tampered images and bad definitions
# rejected, garbage on the control socket, clean shutdown on SIGTERM.
# Ends with "kernel: N passed, N failed".  B=DIR selects the build folder.
set -uo pipefail
cd "$(dirname "$0")/.."
source tests/lib/check.sh
suite_begin
# psf SVC FIELD: SVC's FIELD in `sos ps --json`
psf() { $SOS ps --json | python3 -c "import json,sys; print([s for s in json.load(sys.stdin) if s['name']=='$1'][0]['$2'])"; }
# grew SVC FIELD BEFORE: how much SVC's FIELD in `sos ps --json` grew since BEFORE
grew() { echo $(($(psf "$1" "$2") - $3)); }

build_or_exit kernel "sos, sosd and the test tools" B="$B" ${KERNEL_MAKE_ARGS:-} "$B/sos" \
  "$B/sosd" "$B/tests/poke" examples

# ---- help ---------------------------------------------------------------------
for c in "node" "node start" "node stop" "node status" deploy ps call logs rollback rm build check fmt \
  kv "kv get" "kv put" "kv del" "kv ls" log "log tail" files "files ls" "files cat" "files put" \
  table "table get" "table query" snapshot restore; do
  check "sos $c --help" 0 "Usage: sos $c" "" $SOS $c --help
done
check "sosd --help" 0 "Usage: sosd" "" $B/sosd --help
check "status before start" 1 "" "not running" $SOS node status
check "call before start" 1 "" "no node is running" $SOS call hello greet x

# ---- start ----------------------------------------------------------------------
check "node start" 0 "node started" "" $SOS node start --http off
check "data dir created 0700" 0 "=700" "" stat -c %a "$SOS_HOME"
check "control socket is 0600" 0 "=600" "" stat -c %a "$SOS_HOME/sosd.sock"
check "node start again" 0 "already running" "" $SOS node start --http off
check "node status" 0 "running" "" $SOS node status
check "node status --json" 0 '"running":true' "" $SOS node status --json
check "start-up under 100 ms" 0 "ok" "" \
  awk '/sosd: ready/ { ms = $(NF-1); sub(/\(/, "", ms) } END { print (ms + 0 < 100 ? "ok" : "slow " ms) }' \
  "$SOS_HOME/sosd.log"

# ---- deploy and call ---------------------------------------------------------------
check "deploy hello" 0 "deployed hello version 1" "" $SOS deploy apps/hello
check "call hello greet" 0 "=hello, world" "" $SOS call hello greet world
check "the same app again changes nothing" 0 "unchanged: hello version 1" "" $SOS deploy apps/hello
INPUT="from stdin" check "call reads stdin with -" 0 "=hello, from stdin" "" $SOS call hello greet -
check "env parameter" 0 "=hello" "" $SOS call hello env
check "unknown method" 1 "" "NO_METHOD" $SOS call hello nosuch
check "unknown service" 1 "" "no service named nosuch" $SOS call nosuch greet
check "built-in time now" 0 '{"ns":' "" $SOS call time now
check "built-in services list" 0 '"name":"hello"' "" $SOS call services list
check "built-in services describe" 0 '"app_version":"1.0.0"' "" $SOS call services describe '{"name":"hello"}'
check "services describe meets a version requirement" 0 '"name":"hello"' "" \
  $SOS call services describe '{"name":"hello","version":">=1.0, <2"}'
check "services describe refuses an unmet requirement" 1 "" "version_mismatch (2): hello is version 1.0.0, which does not meet ^2" \
  $SOS call services describe '{"name":"hello","version":"^2"}'
check "services describe refuses a bad requirement" 1 "" "bad_requirement (3)" \
  $SOS call services describe '{"name":"hello","version":"=>1"}'
check "services describe of nothing is not_found" 1 "" "not_found (1): no service named nosuch" \
  $SOS call services describe '{"name":"nosuch"}'
check "built-in logs tail" 0 "version 1 deployed" "" $SOS call logs tail '{"service":"hello","lines":5}'
check "built-in time sleep" 0 "={}" "" $SOS call time sleep '{"ms":20}'
check "a typed request is checked against its struct" 1 "" 'Sleep: unknown field "mss"' \
  $SOS call time sleep '{"mss":20}'
check "built-in described" 0 "interface Time {" "" $SOS describe time
check "--raw sends wire bytes to a built-in" 0 "" "" $SOS call --raw time now
check "--data finds the same node" 0 "=hello, data" "" env -u SOS_HOME $SOS call --data "$SOS_HOME" hello greet data
check "another --data has no node" 1 "" "no node is running on $tmp/other" $SOS ps --data "$tmp/other"
check "ps lists hello" 0 "hello" "" $SOS ps
check "ps --json" 0 '"name":"hello"' "" $SOS ps --json
check "logs show the deploy" 0 "version 1 deployed" "" $SOS logs hello
check "deploy counter" 0 "deployed counter" "" $SOS deploy apps/counter
$SOS call counter incr >/dev/null
$SOS call counter incr >/dev/null
check "counter keeps state in memory" 0 "=3" "" $SOS call counter incr
check "deploy fanout" 0 "deployed fanout" "" $SOS deploy apps/fanout
check "fanout calls two services in parallel" 0 "hello, fanout" "" $SOS call fanout both fanout
check "fanout's counter result" 0 "4" "" $SOS call counter get

# ---- the sandbox ----------------------------------------------------------------------
check "deploy proxy" 0 "deployed proxy" "" $SOS deploy tests/apps/proxy
check "proxy may call hello (in uses)" 0 "=0 hello, sandbox" "" $SOS call proxy call "hello greet sandbox"
check "proxy may call built-ins" 0 "0 " "" $SOS call proxy call "time now"
check "proxy may not call counter" 0 "=4 " "" $SOS call proxy call "counter get"
check "the denial is logged" 0 "denied: call to counter" "" $SOS logs proxy
check "deploy sleepy" 0 "deployed sleepy" "" $SOS deploy apps/sleepy
t0=$(date +%s%N)
check "a call's own timeout ends it, and the caller goes on" 0 "=6 timed out" "" \
  $SOS call proxy callt "200 sleepy nap 3000"
ms=$((($(date +%s%N) - t0) / 1000000))
check "after about 200 ms (${ms} ms)" 0 "ok" "" bash -c "[ $ms -ge 150 ] && [ $ms -lt 1500 ] && echo ok"
# A timeout of a second or more is measured on the coarse clock plus its
# resolution (src/kernel/time.c): never early, at most a tick late.  (Without
# the resolution about half of such calls ended 1-4 ms early: three runs.)
got=""
for i in 1 2 3; do got="$got $($SOS call proxy timed "1000 sleepy nap 3000" 2>&1)"; done
check "three calls with a timeout of 1 s time out, none early (status, us:${got})" 0 "ok" "" \
  bash -c "set -- $got; while [ \$# -ge 2 ]; do [ \"\$1\" = 6 ] && [ \"\$2\" -ge 1000000 ] && [ \"\$2\" -lt 1500000 ] || exit 1; shift 2; done; echo ok"
t0=$(date +%s%N)
check "the caller's deadline bounds its nested calls" 1 "" "TIMEOUT" \
  $SOS call --timeout 300 proxy call "sleepy nap 3000"
sleep 0.3
check "the nested call ended with the caller's deadline, not after 3 s" 0 "request nap timed out" "" \
  $SOS logs sleepy

# ---- traps, spinning, memory --------------------------------------------------------------
check "deploy crash" 0 "deployed crash" "" $SOS deploy apps/crash
check "a trap fails the call" 1 "" "TRAPPED" $SOS call crash trap
check "the trap names its kind" 1 "" "unreachable" $SOS call crash trap
check "the next call succeeds" 0 "=ok" "" $SOS call crash ok
check "the trap is logged" 0 "trap: unreachable" "" $SOS logs crash
for i in 1 2 3 4; do $SOS call crash trap >/dev/null 2>&1; done
check "repeated traps back off" 0 "backoff" "" $SOS ps
check "backing off answers unavailable" 1 "" "UNAVAILABLE" $SOS call crash ok
check "deploy memhog" 0 "deployed memhog" "" $SOS deploy apps/memhog
check "memory stops at the limit" 0 "" "" $SOS call memhog grow
got=$($SOS call memhog grow 2>/dev/null)
check "memhog got fewer MiB than its limit" 0 "ok" "" \
  bash -c "[ -n '$got' ] && [ '${got//[!0-9]/}' -lt 16 ] && echo ok"
check "deploy spin" 0 "deployed spin" "" $SOS deploy apps/spin
$SOS call spin spin >"$tmp/spin.out" 2>&1 &
spinner=$!
sleep 0.2
start=$(date +%s%N)
ok=0
for i in $(seq 20); do $SOS call hello greet x >/dev/null && ok=$((ok + 1)); done
elapsed=$((($(date +%s%N) - start) / 1000000))
check "hello answers while spin spins (20 calls)" 0 "=20" "" echo $ok
check "20 calls within 2 s beside a spinner (${elapsed} ms)" 0 "ok" "" \
  bash -c "[ $elapsed -lt 2000 ] && echo ok"
wait $spinner
check "the spinner times out" 0 "TIMEOUT" "" cat "$tmp/spin.out"
check "sleepy is deployed" 0 "sleepy version 1" "" $SOS deploy apps/sleepy
check "sleep suspends and resumes" 0 "=slept" "" $SOS call sleepy nap 50
check "a call past its deadline times out" 1 "" "TIMEOUT" $SOS call --timeout 100 sleepy nap 2000

# ---- queues, jobs, follow, links ---------------------------------------------------------
mkdir -p "$tmp/narrow"
cp apps/sleepy/sleepy.c "$tmp/narrow/"
printf 'app narrow 1.0.0 {\n  sources "sleepy.c"\n  service narrow { instances 1..1; queue 1; timeout 5s }\n}\n' \
  >"$tmp/narrow/app.sos"
check "deploy a one-instance, one-slot service" 0 "deployed narrow" "" $SOS deploy "$tmp/narrow"
$SOS call narrow nap 600 >"$tmp/n1" 2>&1 &
n1=$!
sleep 0.2
$SOS call narrow nap 10 >"$tmp/n2" 2>&1 &
n2=$!
sleep 0.2
check "a request beyond the queue fails fast with busy" 1 "" "BUSY" $SOS call narrow nap 10
wait $n1 $n2
check "the running request finished" 0 "slept" "" cat "$tmp/n1"
check "the queued request finished" 0 "slept" "" cat "$tmp/n2"
# Requests queued when an instance begins one are taken with `next`, in
# the same run: here the second call starts with two more waiting.
sed -i 's/narrow/narrow4/g; s/queue 1/queue 4/' "$tmp/narrow/app.sos"
check "deploy a one-instance, four-slot service" 0 "deployed narrow4" "" $SOS deploy "$tmp/narrow"
$SOS call narrow4 nap 1000 >"$tmp/q0" 2>&1 &
qpids=$!
sleep 0.3
for i in 1 2 3; do
  $SOS call narrow4 nap $((i * 10)) >"$tmp/q$i" 2>&1 &
  qpids+=" $!"
done
wait $qpids
check "four calls through one instance all finished" 0 "=sleptsleptsleptslept" "" \
  cat "$tmp/q0" "$tmp/q1" "$tmp/q2" "$tmp/q3"
check "the last two were taken with next, inside the second's run" 0 "=2" "" \
  echo "$(psf narrow4 calls_next)"
mkdir -p "$tmp/job"
cp "$B/examples/hello.wasm" "$tmp/job/hello.wasm"
printf 'app job 1.0.0 {\n  module "hello.wasm"\n  env GREETING = "Hi"\n  service job {}\n}\n' >"$tmp/job/app.sos"
check "deploy a command module" 0 "deployed job" "" $SOS deploy "$tmp/job"
for i in $(seq 100); do $SOS ps | grep -q "exited" && break; sleep 0.05; done
check "a job runs to completion" 0 "exited(0)" "" $SOS ps
check "a job's stdout is its log" 0 "Hi, " "" $SOS logs job
check "a job takes no calls" 1 "" "job" $SOS call job greet x
timeout 3 $SOS logs -f sleepy >"$tmp/follow" 2>&1 &
follower=$!
sleep 0.5
$SOS call sleepy nap 7 >/dev/null
sleep 0.5
kill $follower 2>/dev/null
wait $follower 2>/dev/null
check "logs -f shows new lines" 0 "napping 7 ms" "" cat "$tmp/follow"
mkdir -p "$tmp/badlink"
printf '(module (import "env" "launch_missiles" (func)) (func (export "_start")))' >"$tmp/badlink/m.wat"
wat2wasm "$tmp/badlink/m.wat" -o "$tmp/badlink/m.wasm"
printf 'app badlink 1.0.0 {\n  module "m.wasm"\n  service badlink {}\n}\n' >"$tmp/badlink/app.sos"
check "an import SOS does not provide is refused" 1 "" "env.launch_missiles is not provided" \
  $SOS deploy "$tmp/badlink"
check "a refused deploy leaves no service" 1 "" "no service named badlink" $SOS call badlink x

# ---- kv stores through the control API ------------------------------------------------------
check "deploy box (a kv store, 5 keys at most)" 0 "deployed box" "" $SOS deploy tests/apps/box
check "kv put" 0 "" "" $SOS kv put box/box a 1
check "kv get" 0 "=1" "" $SOS kv get box/box a
check "kv put binary" 0 "" "" $SOS kv put box/box b $'two\x01\xff'
check "kv get binary into a pipe is raw" 0 "=74776f01ff" "" bash -c "$SOS kv get box/box b | od -An -tx1 | tr -d ' \n'"
check "kv ls escapes what is not text" 0 'two\x01\xff' "" $SOS kv ls box/box
check "kv ls --json" 0 '{"key":"a","value":"1"}' "" $SOS kv ls box/box --json
check "kv ls with a prefix" 0 "!b" "" $SOS kv ls box/box a
check "kv get of a missing key" 1 "" "no key zz in box/box" $SOS kv get box/box zz
check "kv of an undeclared store" 1 "" "box has no kv store named other" $SOS kv get box/other a
for i in 1 2 3; do $SOS kv put box/box k$i v >/dev/null; done
check "the keys quota is enforced" 1 "" "quota exceeded" $SOS kv put box/box k4 v
check "a refused write changed nothing" 1 "" "no key k4" $SOS kv get box/box k4
check "kv del" 0 "" "" $SOS kv del box/box a
check "a deleted key is gone" 1 "" "no key a" $SOS kv get box/box a
check "a delete frees quota" 0 "" "" $SOS kv put box/box k4 v
check "the bytes quota is enforced" 1 "" "quota exceeded" $SOS kv put box/box big "$(head -c 1100 /dev/zero | tr '\0' x)"
check "rm keeps the data" 0 "box removed (its stored data stays" "" $SOS rm box
check "a new deploy finds it" 0 "deployed box" "" $SOS deploy tests/apps/box
check "the data is still there" 0 "=v" "" $SOS kv get box/box k4
# the storage admin calls as the typed built-in `stores` (keys and values in base64)
check "stores kv_get" 0 '={"value":"dg=="}' "" $SOS call stores kv_get '{"service":"box","store":"box","key":"azQ="}'
check "stores kv_list" 0 '{"key":"azQ=","value":"dg=="}' "" $SOS call stores kv_list '{"service":"box","store":"box","prefix":"aw=="}'
check "stores kv_del" 0 "={}" "" $SOS call stores kv_del '{"service":"box","store":"box","key":"azQ="}'
check "stores kv_put (durable, under the box's quota)" 0 "={}" "" \
  $SOS call stores kv_put '{"service":"box","store":"box","key":"azQ=","value":"dzI="}'
check "the put is what sos kv sees" 0 "=w2" "" $SOS kv get box/box k4
check "stores counts against the quota too" 1 "" "quota (4)" \
  $SOS call stores kv_put '{"service":"box","store":"box","key":"azk=","value":"dg=="}'
check "stores kv_get of a missing key" 1 "" "no_key (3)" $SOS call stores kv_get '{"service":"box","store":"box","key":"eno="}'
check "stores of an undeclared store" 1 "" "no_store (2): box has no kv store named other" \
  $SOS call stores kv_get '{"service":"box","store":"other","key":"eno="}'
check "no app may call stores, whatever its uses" 0 "=4 " "" $SOS call proxy call "stores kv_get"

# ---- kv from apps: the SDK, and attempts to escape the namespace -------------------------------
check "deploy kvcount" 0 "deployed kvcount" "" $SOS deploy apps/kvcount
$SOS call kvcount hit a >/dev/null
check "kvcount hit (compare-and-swap)" 0 "=2" "" $SOS call kvcount hit a
check "kvcount add2 (an atomic batch)" 0 "=3 1" "" $SOS call kvcount add2 "a b"
check "kvcount list (a prefix scan)" 0 "b 1" "" $SOS call kvcount list
check "kvcount reset (delete)" 0 "=0" "" $SOS call kvcount reset b
check "the operator sees the app's keys" 0 "c/a	3" "" $SOS kv ls kvcount/counts
check "kv_add: the store adds in place" 0 "=ok" "" $SOS call kvcount bump a
check "... onto the count hit made" 0 "=4" "" $SOS call kvcount get a
for i in $(seq 40); do $SOS call kvcount bump z >/dev/null & done; wait
check "kv_add: 40 at once all count (no conflicts to lose)" 0 "=40" "" $SOS call kvcount get z
check "kv_add without waiting is queued" 0 "=queued" "" $SOS call kvcount tick z
check "... and lands with the next commit" 0 "=41" "" sh -c "sleep 0.2; $SOS call kvcount get z"
$SOS kv put kvcount/counts c/nan abc >/dev/null
check "kv_add on a value that is not a number fails" 1 "" "INVALID" $SOS call kvcount bump nan
check "... and leaves it as it was" 0 "=abc" "" $SOS kv get kvcount/counts c/nan
check "deploy escape" 0 "deployed escape" "" $SOS deploy tests/apps/escape
want='store-with-nul 11
undeclared-store 11
empty-store 11
empty-key 11
long-key 11
max-key 0
big-value 9
forged-key 0
batch-overflow 11
batch-bad-kind 11
batch-empty 11
get-forged 0
get-other-service 11
scan-all 2
log-append-to-kv -11
log-append-undeclared -11
log-append-big -9
log-read-negative -11
log-tail-negative -11
log-tail-empty-now -6
log-trim-negative 11
log-append 0
log-read 1
table-row 0
table-wrong-type 11
table-bad-wire-type 11
table-bad-utf8 11
table-truncated 11
table-varint-past-64-bits 11
table-length-overrun 11
table-on-a-kv-store 11
table-unknown-field-kept 0
table-field-twice-last-counts 0
table-no-key-is-key-0 0
table-query-unindexed -11
table-query-bad-bound -11
table-query-all 2
table-query-bytes 15
table-query-first-row 1'
check "crafted store names, keys, lengths, batches, log calls and rows are refused or confined" 0 "=$want" "" \
  $SOS call escape probe
check "a forged key stays in the caller's store" 0 '\x00box\x00k1	forged' "" $SOS kv ls escape/mine
check "and never reaches the other service's" 0 "=v" "" $SOS kv get box/box k1
check "a key pointer outside memory traps" 1 "" "out of bounds memory access" $SOS call escape wildptr
check "a buffer outside memory traps" 1 "" "out of bounds memory access" $SOS call escape wildbuf

# ---- log stores -----------------------------------------------------------------------------
check "deploy eventlog" 0 "deployed eventlog" "" $SOS deploy apps/eventlog
check "log append answers the offset" 0 "=0" "" $SOS call eventlog add hello
check "log read" 0 "=0 hello" "" $SOS call eventlog since 0
$SOS call eventlog wait 1 >"$tmp/tail" 2>&1 &
tailer=$!
sleep 0.3
check "the tail is still waiting" 0 "" "" bash -c "kill -0 $tailer"
t0=$(date +%s%N)
$SOS call eventlog add second >/dev/null
wait $tailer
woke_ms=$((($(date +%s%N) - t0) / 1000000))
check "an append wakes the tail (${woke_ms} ms)" 0 "=1 second" "" cat "$tmp/tail"
check "a tail with nothing new times out" 1 "" "TIMEOUT" $SOS call --timeout 9000 eventlog wait 2
$SOS call eventlog add third >/dev/null
check "log trim" 0 "=ok" "" $SOS call eventlog trim 2
check "trimmed records are gone" 0 "=2 third" "" $SOS call eventlog since 0
check "offsets never go back" 0 "=3" "" $SOS call eventlog end
check "sos log tail" 0 "2	third" "" $SOS log tail eventlog/events
check "sos log tail of a kv store" 1 "" "no log store named" $SOS log tail kvcount/counts
check "stores log_read from an offset" 0 '={"records":[{"offset":2,"data":"dGhpcmQ="}],"end":3}' "" \
  $SOS call stores log_read '{"service":"eventlog","store":"events","from":1}'

# ---- snapshots and restores (box holds b, k1..k4: its 5-key quota) ---------------------------
check "sos snapshot --help" 0 "Usage: sos snapshot" "" $SOS snapshot --help
check "sos restore --help" 0 "Usage: sos restore" "" $SOS restore --help
out=$($SOS snapshot box 2>&1)
check "sos snapshot" 0 "of box (5 keys)" "" echo "$out"
snap=$(sed -n 's/^snapshot \([^ ]*\) of box.*/\1/p' <<<"$out")
check "a snapshot is named by the UTC time" 0 "=ok" "" \
  bash -c "[[ '$snap' =~ ^[0-9]{8}T[0-9]{6}Z(-[0-9]+)?$ ]] && echo ok"
check "its file is on the node, 0600" 0 "=600" "" stat -c %a "$SOS_HOME/snapshots/box/$snap.snap"
s2=$($SOS snapshot box --json)
s3=$($SOS snapshot box --json)
check "snapshot --json" 0 '"service":"box"' "" echo "$s2"
check "two snapshots never share a name" 0 "=2" "" bash -c "printf '%s\n%s\n' '$s2' '$s3' | sort -u | wc -l"
check "snapshot --list" 0 "$snap" "" $SOS snapshot --list box
check "snapshot --list --json" 0 "{\"id\":\"$snap\",\"bytes\":" "" $SOS snapshot --list box --json
$SOS kv put box/box k1 changed >/dev/null
$SOS kv del box/box k2 >/dev/null
$SOS kv del box/box b >/dev/null
$SOS kv put box/box new v >/dev/null
check "keys changed after the snapshot" 0 "=changed" "" $SOS kv get box/box k1
check "sos restore" 0 "=box restored from $snap (5 keys)" "" $SOS restore box "$snap"
check "a changed value is back" 0 "=v" "" $SOS kv get box/box k1
check "a deleted key is back" 0 "=v" "" $SOS kv get box/box k2
check "a deleted binary value is back" 0 "=74776f01ff" "" bash -c "$SOS kv get box/box b | od -An -tx1 | tr -d ' \n'"
check "a key added since is gone" 1 "" "no key new" $SOS kv get box/box new
check "usage is exact after a restore (the quota is full)" 1 "" "quota exceeded" $SOS kv put box/box k5 v
check "restore --json" 0 '"keys":5' "" $SOS restore box "$snap" --json
check "a snapshot name with a path is refused" 1 "" "a snapshot name is needed" $SOS restore box "../box/$snap"
check "an unknown snapshot is refused" 1 "" "box has no snapshot 19700101T000000Z" \
  $SOS restore box 19700101T000000Z
check "a snapshot of an unknown service is refused" 1 "" "no service named nosuch" $SOS snapshot nosuch
check "restore of an unknown service is refused" 1 "" "no service named nosuch" $SOS restore nosuch "$snap"
check "sos restore needs a snapshot" 2 "" "missing argument" $SOS restore box
sf=$SOS_HOME/snapshots/box/$snap.snap
cp "$sf" "$tmp/good.snap"
size=$(stat -c %s "$sf")
# flip_byte FILE OFFSET: changes one byte of FILE in place.
flip_byte() {
  local b
  b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  printf "\\x$(printf %02x $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
flip_byte "$sf" 29 # the first value's first byte (after store NUL b)
check "the snapshot file was changed" 1 "" "" cmp -s "$sf" "$tmp/good.snap"
$SOS kv put box/box k1 after >/dev/null
check "a tampered snapshot is refused" 1 "" "sha-256 does not match" $SOS restore box "$snap"
check "and changes nothing" 0 "=after" "" $SOS kv get box/box k1
cp "$tmp/good.snap" "$sf"
flip_byte "$sf" $((size / 2))
check "a snapshot with a byte changed in the middle is refused" 1 "" "damaged snapshot" \
  $SOS restore box "$snap"
check "and changes nothing either" 0 "=after" "" $SOS kv get box/box k1
head -c $((size - 1)) "$tmp/good.snap" >"$sf"
check "a truncated snapshot is refused" 1 "" "damaged snapshot" $SOS restore box "$snap"
cp "$tmp/good.snap" "$sf"
check "rm --purge keeps the snapshots" 0 "box removed with its data (5 keys)" "" $SOS rm --purge box
check "deploy box again" 0 "deployed box" "" $SOS deploy tests/apps/box
check "its snapshots are still listed" 0 "$snap" "" $SOS snapshot --list box
check "a restore after a purge" 0 "=box restored from $snap (5 keys)" "" $SOS restore box "$snap"
check "brings the data back" 0 "=v" "" $SOS kv get box/box k1

# ---- the image's files through WASI -----------------------------------------------------------
check "deploy reader (files \"data/\")" 0 "deployed reader" "" $SOS deploy tests/apps/reader
check "fopen and fread an image file" 0 "=hello from the image" "" $SOS call reader cat /data/hello.txt
check "a relative path from the root" 0 "=deep" "" $SOS call reader cat data/sub/deep.txt
check "readdir of the root" 0 "=data/" "" $SOS call reader ls /
check "readdir of a folder" 0 "$(printf 'hello.txt\nsub/')" "" $SOS call reader ls /data
check "stat of a file" 0 "=file 21" "" $SOS call reader stat /data/hello.txt
check "stat of a folder" 0 "=dir" "" $SOS call reader stat /data/sub
check "a missing file" 1 "" "No such file or directory" $SOS call reader cat /data/nope
check ".. cannot leave the root" 1 "" "Capabilities insufficient" $SOS call reader cat /data/../../etc/passwd
check "the tree is read-only" 0 "=Read-only file system" "" $SOS call reader write /data/new.txt
cp -r tests/apps/reader "$tmp/reader2"
printf 'hello from version 2\n' >"$tmp/reader2/data/hello.txt"
sed -i 's/1.0.0/2.0.0/' "$tmp/reader2/app.sos"
check "deploy reader 2.0.0" 0 "deployed reader version 2" "" $SOS deploy "$tmp/reader2"
check "a new version sees its image's files" 0 "=hello from version 2" "" $SOS call reader cat /data/hello.txt
check "rollback reader" 0 "rolled back to version 1" "" $SOS rollback reader
check "rollback brings the old files back" 0 "=hello from the image" "" $SOS call reader cat /data/hello.txt

# ---- writable files: a files store laid over the image --------------------------------------------
check "deploy writer (a files store)" 0 "deployed writer" "" $SOS deploy tests/apps/writer
W="$SOS call writer"
check "fopen w, fputs, fclose" 0 "=ok" "" $W put "/data/new.txt first"
check "the new file reads back" 0 "=first" "" $W cat /data/new.txt
check "fopen a appends" 0 "=ok" "" $W add "/data/new.txt  second"
check "the appended file" 0 "=first second" "" $W cat /data/new.txt
check "an image file can be replaced" 0 "=ok" "" $W put "/data/hello.txt changed"
check "the replaced file reads back" 0 "=changed" "" $W cat /data/hello.txt
check "unlink of an image file" 0 "=ok" "" $W rm /data/hello.txt
check "the deleted image file is gone" 1 "" "No such file or directory" $W cat /data/hello.txt
check "and gone from the listing" 0 "=new.txt" "" $W ls /data
check "mkdir" 0 "=ok" "" $W mkdir /data/d
check "the new folder is listed" 0 "d/" "" $W ls /data
check "rmdir of an empty folder" 0 "=ok" "" $W rmdir /data/d
check "rmdir of a full folder" 0 "=Directory not empty" "" $W rmdir /data
check "writes cannot leave the root" 0 "=Capabilities insufficient" "" $W put "/../../x.txt escape"
check "a file counts against the keys quota" 0 "" "" $W put "/notes.txt top"
check "rename a file" 0 "=ok" "" $W mv "/data/new.txt /data/renamed.txt"
check "the renamed file reads back" 0 "=first second" "" $W cat /data/renamed.txt
check "the old name is gone" 1 "" "No such file or directory" $W cat /data/new.txt
check "rename back" 0 "=ok" "" $W mv "/data/renamed.txt /data/new.txt"
$W put "/data/cut.txt 0123456789" >/dev/null
check "truncate shortens" 0 "=ok" "" $W trunc "/data/cut.txt 4"
check "to the first bytes" 0 "=0123" "" $W cat /data/cut.txt
check "truncate lengthens with zeros" 0 "=file 8" "" bash -c "$W trunc '/data/cut.txt 8' >/dev/null; $W stat /data/cut.txt"
$W rm /data/cut.txt >/dev/null
check "rename of a folder is not supported yet" 0 "=Not supported" "" $W mv "/data /d2"
check "sos files ls" 0 "$(printf 'data/\nnotes.txt')" "" $SOS files ls writer
check "sos files cat" 0 "=first second" "" $SOS files cat writer /data/new.txt
INPUT="from the operator" check "sos files put (stdin)" 0 "" "" $SOS files put writer /data/op.txt
check "the app sees the operator's file" 0 "=from the operator" "" $W cat /data/op.txt
check "sos files ls --json" 0 '["new.txt","op.txt"]' "" $SOS files ls writer /data --json
check "sos files cat of a missing file" 1 "" "no such file or folder" $SOS files cat writer nope
check "sos files put needs a files store" 1 "" "files store" $SOS files put reader x
check "sos files put outside the root" 1 "" "cannot write there" $SOS files put writer ../x
# ---- table stores ---------------------------------------------------------------------------------
check "deploy people (a table with two indexes)" 0 "deployed people" "" $SOS deploy tests/apps/people
P="$SOS call people"
for r in "1 ada 36" "2 bob 25" "3 cy 36" "4 adam 41"; do $P add "$r" >/dev/null; done
check "table get" 0 "=1 ada 36" "" $P get 1
check "a missing row" 1 "" "NOT_FOUND" $P get 9
check "an index range, in index then key order" 0 "=$(printf '1 ada 36\n3 cy 36')" "" $P age "30 40"
check "a text index finds exactly the name" 0 "=1 ada 36" "" $P named ada
check "sos table get" 0 '={"id":3,"name":"cy","age":36}' "" $SOS table get people/people 3
check "sos table query by index" 0 '{"id":4,"name":"adam","age":41}' "" $SOS table query people/people age 40
check "sos table get of a missing key" 1 "" "no row with key 9" $SOS table get people/people 9
check "sos table query of an unknown field" 1 "" "no field named shoe" $SOS table query people/people shoe
$P add "3 cyrus 50" >/dev/null
check "replacing a row moves its index entries" 0 "=1 ada 36" "" $P age "30 40"
check "to the new value" 0 "=3 cyrus 50" "" $P age "50 51"
$P del 2 >/dev/null
check "a deleted row leaves its indexes" 0 '!bob' "" $SOS table query people/people name
for t in 3 -5 0 -100 2147483647 -2147483648; do $P temp -- "$t" >/dev/null; done
check "-- ends the options" 0 "=hello, -x" "" $SOS call hello greet -- -x
check "signed keys sort by value" 0 "=$(printf -- '-2147483648\n-100\n-5\n0\n3\n2147483647')" "" $P temps
# rows are struct values in the wire format: a field left out holds its zero value (key 0
# included), and a table's struct may hold lists, optional fields and enums
$P add "0 zed 5" >/dev/null
check "a row with key 0" 0 "=0 zed 5" "" $P get 0
check "sos table get of key 0" 0 '={"id":0,"name":"zed","age":5}' "" $SOS table get people/people 0
check "a key that is not of the key field's type" 1 "" 'Person.id: "ada"' $SOS table get people/people ada
$P doc "1 hello a,b 7" >/dev/null
$P doc "2 - - -" >/dev/null
$P doc "0 zero x -" >/dev/null
$P doc -- "-3 neg - 9" >/dev/null
check "a row with a list and an optional field, through the generated codec" 0 "=1 hello a,b 7 task" "" \
  $P docget 1
check "zero values and an absent optional field read back as such" 0 "=2 - - - note" "" $P docget 2
check "the generated encoder leaves key 0 out: still the row with key 0" 0 "=0 zero x - note" "" \
  $P docget 0
check "sos table get prints the list and the optional field" 0 \
  '={"id":1,"title":"hello","tags":["a","b"],"due":7,"kind":"task"}' "" $SOS table get people/docs 1
docs_by_title='{"id":2,"title":"","tags":[],"kind":"note"}
{"id":1,"title":"hello","tags":["a","b"],"due":7,"kind":"task"}
{"id":-3,"title":"neg","tags":[],"due":9,"kind":"task"}
{"id":0,"title":"zero","tags":["x"],"kind":"note"}'
check "a row without its indexed field is indexed at the zero value" 0 "=$docs_by_title" "" \
  $SOS table query people/docs title
check "a bound of 0 on a signed key is a bound" 0 '!"id":-3' "" $SOS table query people/docs id 0
check "and so is an upper bound of 0" 0 '={"id":-3,"title":"neg","tags":[],"due":9,"kind":"task"}' "" \
  $SOS table query people/docs id "" 0
check "the SDK's row calls write and read every scalar type" 0 \
  "=7 1 -300 1.5 -0.25 2 18446744073709551615 -5 3" "" $P kinds
check "and the kernel reads them as the struct's fields" 0 \
  '={"k":7,"b":true,"i":-300,"f":1.5,"d":-0.25,"by":"AAE=","big":"18446744073709551615","neg":-5,"l":[1,2,3]}' \
  "" $SOS table get people/kinds 7

# ---- typed services, discovery, time travel ----------------------------------------------------
# psf SERVICE FIELD: a number from sos ps --json
check "deploy greeter (an interface)" 0 "deployed greeter" "" $SOS deploy apps/greeter
check "deploy greeter-client (imports it)" 0 "deployed greeter-client" "" $SOS deploy apps/greeter-client
check "a typed call takes and prints JSON" 0 '={"greeting":"hello, ada hello, ada","words":2}' "" \
  $SOS call greeter hello '{"name":"ada","times":2}'
check "an enum by name" 0 '"greeting":"hello, ada!"' "" $SOS call greeter hello '{"name":"ada","mood":"happy"}'
check "a declared error prints its name and code" 1 "" "no_name (1): a greeting needs a name" \
  $SOS call greeter hello '{}'
check "JSON that does not fit the request struct" 1 "" 'HelloReq: unknown field "nam"' \
  $SOS call greeter hello '{"nam":"x"}'
check "out of range for its type" 1 "" "HelloReq.times: 5000000000 does not fit u32" \
  $SOS call greeter hello '{"name":"x","times":5000000000}'
INPUT=$(printf '\x0a\x05ab') check "malformed wire bytes are refused by the server" 1 "" "INVALID" \
  $SOS call --raw greeter hello -
check "sos describe prints the interface" 0 "interface Greeter {" "" $SOS describe greeter
check "and the structs it reaches" 0 "struct HelloReq {" "" $SOS describe greeter
check "an untyped service has nothing to describe" 1 "" "has no interface" $SOS describe sleepy
check "a typed stub calls the service" 0 "=hello, bob" "" $SOS call greeter-client hi bob
check "two futures awaited together" 0 "oh, it's you, bob" "" $SOS call greeter-client moods bob
check "deploy numbers and planner" 0 "deployed planner" "" \
  bash -c "$SOS deploy tests/apps/numbers && $SOS deploy tests/apps/planner"
check "a plan of 10 dependent calls" 0 "=15" "" $SOS call planner chain "5 10"
reused0=$(psf planner plans_reused)
check "the same plan from another number (reused decoded, with its new request)" 0 "=27" "" \
  $SOS call planner chain "17 10"
check "the kernel ran it from the instance's cached plan" 0 "=1" "" \
  echo "$(grew planner plans_reused $reused0)"
check "a plan of 256 (the most), built across fuel slices" 0 "=256" "" $SOS call planner chain "0 256"
reused0=$(psf planner plans_reused)
check "and again: too large to keep decoded (16 KiB), so decoded again" 0 "=257" "" \
  $SOS call planner chain "1 256"
check "not counted as reused" 0 "=0" "" \
  echo "$(grew planner plans_reused $reused0)"
check "a plan of 257 steps is refused" 1 "" "chain takes N and K (1..256)" $SOS call planner chain "0 257"
check "a plan built once, started with requests of other sizes, the same size, none" 0 \
  "=8 1003 10 100003 100004 3" "" $SOS call planner prepared "5 1000 7 100000 100001 0"
sent0=$(psf planner sent); calls0=$(psf numbers calls); planned0=$(psf numbers calls_planned)
next0=$(psf numbers calls_next)
check "another chain of 10" 0 "=10" "" $SOS call planner chain "0 10"
check "reaches the callee's node as ONE message" 0 "=1" "" \
  echo "$(grew planner sent $sent0)"
check "which ran 10 calls next to the callee" 0 "=10 10" "" \
  echo "$(grew numbers calls $calls0) $(grew numbers calls_planned $planned0)"
check "its steps after the first were taken inside one run of numbers (next)" 0 "=9" "" \
  echo "$(grew numbers calls_next $next0)"
# Chains and single calls from eight callers at once, through next on
# both workers: every answer is its own.
pids=""
for i in 1 2 3 4 5 6 7 8; do
  if [ $((i % 2)) = 0 ]; then
    $SOS call planner chain "$((i * 100)) 50" >"$tmp/cc$i" 2>&1 &
  else
    $SOS call planner seq "$((i * 100)) 20" >"$tmp/cc$i" 2>&1 &
  fi
  pids+=" $!"
done
wait $pids
check "eight callers at once, chains and calls, each get their own answer" 0 \
  "=120 250 320 450 520 650 720 850" "" \
  bash -c "for i in 1 2 3 4 5 6 7 8; do cat '$tmp/cc'\$i; echo; done | tr '\n' ' ' | sed 's/ \$//'"
sent0=$(psf planner sent)
check "the same 10 calls one by one" 0 "=10" "" $SOS call planner seq "0 10"
check "are 10 messages" 0 "=10" "" echo "$(grew planner sent $sent0)"
check "map over a list result, with a filter" 0 "=4: 4 9 16 25" "" $SOS call planner map "6 2"
check "a bind between fields of different types fails the plan" 0 "bind n: step 0's label has another type" "" \
  $SOS call planner badbind
check "a failing step stops the plan" 0 "=status 1, failed step 1, step 0: 0 (n=2), step 1: 1, step 2: 2" "" \
  $SOS call planner fails
check "two kept steps come back" 0 "=8 9" "" $SOS call planner both 7
reused0=$(psf planner plans_reused)
check "the same plan sent again while the first runs, then after" 0 "=102 112 122" "" \
  $SOS call planner overlap 100
check "only the third ran from the cached plan" 0 "=1" "" \
  echo "$(grew planner plans_reused $reused0)"
check "hostile and mistaken plans get a status each, never a crash" 0 "=garbage: invalid request Plan at byte 0: truncated varint in a key
empty: invalid request a plan needs at least one step
truncated: invalid request Plan.steps (tag 1) at byte 2: length 64 runs past the end (1 left)
nul-name: invalid request step 0: bad service or method name
not-in-uses: denied: the caller's definition does not list it in uses step 0: hello is not in the caller's uses
unknown-service: denied: the caller's definition does not list it in uses step 0: nosuch is not in the caller's uses
unknown-path: invalid request Num has no field nosuch
each-not-a-list: invalid request each: step 0's n is not a list of what num takes
untyped-bind: invalid request step 1: numbers.nomethod is not a typed method, so its fields cannot be bound
nested-target: invalid request bind num.n: a bind sets a field of the request itself
repeated-binds: invalid request Step.binds (tag 4) at byte 20: truncated varint in a list element
forward-bind: invalid request step 0: a bind must name a field and an earlier step
extra-request: invalid request requests: one per step at most, as a list of bytes
bad-requests: invalid request Plan.requests (tag 2) at byte 2: list element of 5 bytes runs past the end (0 left)
late-requests: ok =42" "" $SOS call planner bad
check "and the planner still works after them" 0 "=8 9" "" $SOS call planner both 7
planned0=$(psf numbers calls_planned)
check "closing a plan's handle cancels it" 0 "=cancelled" "" $SOS call planner cancel 50
check "only its first step ran" 0 "=1" "" echo "$(grew numbers calls_planned $planned0)"
check "closing a queued call's future" 0 "=dropped" "" $SOS call planner dropq
check "cancels it before it runs" 0 "=4 0" "" bash -c "$SOS logs numbers | grep -c 'slow 100[0-3]' | tr '\n' ' '; $SOS logs numbers | grep -c 'slow 1004' || true"
check "discovery with a version requirement" 0 "=found numbers" "" $SOS call planner lookup ">=1.0, <2"
check "discovery refuses an unmet requirement" 1 "" "numbers is version 1.0.0, which does not meet ^2" \
  $SOS call planner lookup "^2"
cp -r tests/apps/numbers "$tmp/numbers2"
sed -i 's/struct Count { n: u32 = 1 }/struct Count { n: i64 = 1 }/' "$tmp/numbers2/app.sos"
sed -i 's/app numbers 1.0.0/app numbers 2.0.0/' "$tmp/numbers2/app.sos"
cp -r tests/apps/numbers "$tmp/numbers3"
sed -i 's/struct Count { n: u32 = 1 }/struct Count { n: u32 = 1; step: u32 = 2 }/' "$tmp/numbers3/app.sos"
check "sos check --against finds a breaking change" 1 "" "Count.n changed type from u32 to i64" \
  $SOS check --against tests/apps/numbers "$tmp/numbers2"
check "and accepts a new field" 0 "compatible with" "" $SOS check --against tests/apps/numbers "$tmp/numbers3"
check "the caller calls numbers (its instance remembers the checks passed)" 0 "=2" "" \
  $SOS call planner one 1
check "a plan the caller's instance keeps decoded and resolved" 0 "=3: 0 1 4" "" \
  $SOS call planner map "3 0"
check "deploy an incompatible numbers" 0 "deployed numbers version 2" "" $SOS deploy "$tmp/numbers2"
check "a caller with the old interface is refused, not misread" 1 "" "does not match numbers's (version 2): " \
  $SOS call planner one 1
check "also inside a plan, though the same plan was resolved before" 1 "" \
  "does not match numbers's (version 2)" $SOS call planner map "3 0"
check "rollback numbers" 0 "numbers rolled back to version 1" "" $SOS rollback numbers
check "and the caller works again" 0 "=2" "" $SOS call planner one 1
# A kept plan whose callee changes while it runs: the steps after the
# change resolve again (and are refused), not the ones resolved before.
img2=$($SOS build "$tmp/numbers2")
check "a plan of 30 slow steps, kept resolved by the planner's instance" 0 "=30" "" \
  $SOS call planner slowchain 30
reused0=$(psf planner plans_reused)
( sleep 0.15; $SOS deploy "$img2" >/dev/null ) &
check "run again, with an incompatible numbers deployed while it runs" 1 "" \
  "does not match numbers's" $SOS call planner slowchain 30
wait
check "rollback numbers to version 1 again (through 2)" 0 "numbers rolled back to version 1" "" \
  bash -c "$SOS rollback numbers >/dev/null && $SOS rollback numbers"
check "it ran from the kept plan" 0 "=1" "" \
  echo "$(grew planner plans_reused $reused0)"
check "and the kept plan runs again" 0 "=3" "" $SOS call planner slowchain 3
# A step's deadline timer moves from step to step with the plan's spare
# request: it must still end a step that runs past the plan's deadline.
t0=$(date +%s%N)
check "a plan of 10 slow steps (20 ms each) with 70 ms to run times out" 1 "" "TIMEOUT" \
  $SOS call planner slowchain "10 70"
ms=$((($(date +%s%N) - t0) / 1000000))
check "at its deadline, not after its 10 steps (${ms} ms)" 0 "ok" "" \
  bash -c "[ $ms -ge 70 ] && [ $ms -lt 190 ] && echo ok"
check "the next plan runs whole" 0 "=4" "" $SOS call planner slowchain "4 1000"
# Each step has its own deadline from the callee's timeout, and the one
# timer moves to it: with 100 ms a step, a chain of 10 steps of 20 ms
# (200 ms in all) runs whole; a timer left at the first step's deadline
# would end it at 100 ms.
cp -r tests/apps/numbers "$tmp/numbers-short"
sed -i 's/timeout 5s/timeout 100ms/' "$tmp/numbers-short/app.sos"
check "deploy numbers with a 100 ms timeout" 0 "deployed numbers" "" $SOS deploy "$tmp/numbers-short"
check "a chain of 10 steps of 20 ms, each with its own 100 ms deadline, runs whole" 0 "=10" "" \
  $SOS call planner slowchain 10
check "deploy numbers with its 5 s timeout again" 0 "deployed numbers" "" $SOS deploy tests/apps/numbers
check "and the planner calls it again" 0 "=2" "" $SOS call planner one 1

# ---- versions ----------------------------------------------------------------------------
check "deploy hello 1.1.0 (extends hello 1.0.0)" 0 "deployed hello version 2" "" \
  $SOS deploy tests/apps/hello-howdy
check "the new version runs" 0 "=howdy" "" $SOS call hello env
check "rollback" 0 "rolled back to version 1" "" $SOS rollback hello
check "the old version runs again" 0 "=hello" "" $SOS call hello env
check "rollback with nothing before" 1 "" "no version before" $SOS rollback counter

# ---- images and definitions ------------------------------------------------------------------
img=$($SOS build apps/hello 2>"$tmp/err")
check "build prints an image path" 0 ".sosimg" "" echo "$img"
cp "$img" "$tmp/bad.sosimg"
printf 'X' | dd of="$tmp/bad.sosimg" bs=1 seek=200 conv=notrunc 2>/dev/null
check "a tampered image is rejected" 1 "" "sha-256" $SOS deploy "$tmp/bad.sosimg"
mkdir -p "$tmp/broken"
printf 'app broken 1.0.0 {\n  modul "x.wasm"\n}\n' >"$tmp/broken/app.sos"
check "a bad definition is rejected" 1 "" "app.sos:2:3" $SOS deploy "$tmp/broken"

# ---- garbage on the control socket ------------------------------------------------------------
sock=$SOS_HOME/sosd.sock
head -c 100000 /dev/urandom | $B/tests/poke "$sock" >/dev/null
printf '\x05\x00\x00\x00\x00\x00\x00\x00{"op"' | $B/tests/poke "$sock" >/dev/null
printf '\xff\xff\xff\x7f\x00\x00\x00\x00' | $B/tests/poke "$sock" >/dev/null
printf '\x0b\x00\x00\x00\x00\x00\x00\x00{"op":"zz"}' | $B/tests/poke "$sock" >/dev/null
printf '\x02\x00\x00\x00\x00\x00\x00\x00[]' | $B/tests/poke "$sock" >/dev/null
check "the node survives garbage" 0 "=hello, still" "" $SOS call hello greet still

# ---- restart -------------------------------------------------------------------------------------
pid=$(node_pid)
kill -9 "$pid"
sleep 0.1
check "node start after SIGKILL" 0 "node started" "" $SOS node start --http off
check "hello is back after SIGKILL" 0 "=hello, again" "" $SOS call hello greet again
check "its version survived" 0 "=hello" "" $SOS call hello env
check "every service is back" 0 "sleepy" "" $SOS ps
sleep 0.3
check "a finished job does not run again at restart" 0 "=1" "" bash -c "$SOS logs job | grep -c 'job finished'"
check "and still shows its exit code" 0 "exited(0)" "" $SOS ps
check "stored data survives SIGKILL" 0 "=v" "" $SOS kv get box/box k1
check "written files survive SIGKILL" 0 "=first second" "" $SOS call writer cat /data/new.txt
check "and so do deletions" 1 "" "No such file or directory" $SOS call writer cat /data/hello.txt
check "rm --purge deletes the data" 0 "box removed with its data (5 keys)" "" $SOS rm --purge box
check "nothing is left" 0 "deployed box" "" $SOS deploy tests/apps/box
check "a purged key is gone" 1 "" "no key k1" $SOS kv get box/box k1
check "rm" 0 "hello removed" "" $SOS rm hello
check "a removed service is gone" 1 "" "no service named hello" $SOS call hello greet x
check "rm of an unknown service" 1 "" "no service named hello" $SOS rm hello
pid=$(node_pid)
check "node stop" 0 "node stopped" "" $SOS node stop
check "sosd exited cleanly" 0 "sosd: stopped" "" tail -3 "$SOS_HOME/sosd.log"
check "node start after stop" 0 "node started" "" $SOS node start --http off
check "rm survives a restart" 1 "" "no service named hello" $SOS call hello greet x
$SOS call sleepy nap 400 >"$tmp/inflight" 2>&1 &
caller=$!
sleep 0.2
kill -TERM "$(node_pid)"
wait $caller
check "SIGTERM lets a call in flight finish" 0 "=slept" "" cat "$tmp/inflight"
for i in $(seq 100); do [ -S "$SOS_HOME/sosd.sock" ] || break; sleep 0.05; done
check "SIGTERM stops the node" 1 "" "not running" $SOS node status

check "sosd.log has no sanitizer reports" 0 "!Sanitizer" "" cat "$SOS_HOME/sosd.log"

echo "kernel: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

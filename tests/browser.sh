#!/usr/bin/env bash
# tests/browser.sh - the guestbook in a real browser: a real sosd with
# apps/guestbook deployed, driven by headless Chromium (Debian's chromium
# package, through playwright-core from npm, which scripts/deps.sh
# installs into tests/browser/node_modules).  The checks are in
# tests/browser/guestbook.test.js; it ends with
# "browser: N passed, N failed" and saves a screenshot of the page to
# $B/guestbook.png (docs/guestbook.png is one, from a run of this test).
set -uo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
tmp=$(mktemp -d)
export SOS_HOME=$tmp/node SOS=$(pwd)/$B/sos
cleanup() {
  [ -f "$SOS_HOME/sosd.lock" ] && kill -9 "$(cat "$SOS_HOME/sosd.lock" 2>/dev/null)" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL $1"
  echo "browser: 0 passed, 1 failed"
  exit 1
}
make -s -j"$(nproc)" B="$B" "$B/sos" "$B/sosd" >"$tmp/build" 2>&1 || fail "build: $(cat "$tmp/build")"
[ -d tests/browser/node_modules/playwright-core ] || fail "playwright-core is missing: run bash scripts/deps.sh"
# A free port, kept across the restart the test makes.
PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
$SOS node start --http "127.0.0.1:$PORT" >/dev/null || fail "node start"
$SOS deploy apps/guestbook >/dev/null || fail "deploy apps/guestbook"
PORT=$PORT SHOT=$(pwd)/$B/guestbook.png timeout 120 node tests/browser/guestbook.test.js
rc=$?
$SOS node stop >/dev/null 2>&1
exit $rc

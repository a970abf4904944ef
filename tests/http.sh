#!/usr/bin/env bash
# tests/http.sh - the HTTP gateway end to end: a real sosd on a fresh data
# directory, the test app tests/apps/web behind it, and real HTTP clients
# on 127.0.0.1 (curl, and tests/kernel/poke for raw bytes).
#
# Covers issue 6's gateway: routes by prefix and host to typed methods,
# HTTP/1.1 keep-alive, pipelining, chunked and 100-continue bodies, HEAD,
# the answers for failed calls (502, 503, 504), what a service may not
# send (bad status, response splitting, its own framing), the limits
# (431, 413, 414, 408, idle close, connection count) and a corpus of
# malformed and hostile requests (bad framing, smuggling, NUL and bare CR,
# bad chunks), after which sosd must still serve and hold no more file
# descriptors than before.  The access log, node.conf, restarts and a
# port in use.  Ends with "http: N passed, N failed".  B=DIR selects the
# build folder (tests/http.sh runs under ASan too; sosd.log must then
# hold no sanitizer report).
set -uo pipefail
cd "$(dirname "$0")/.."
source tests/lib/check.sh
suite_begin
POKE=$(pwd)/$B/tests/poke
NODES+=("$tmp/other" "$tmp/tls")
doubles=()
on_exit() { for p in "${doubles[@]}"; do kill "$p" 2>/dev/null; done; }
source tests/lib/double.sh

build_or_exit http "sos, sosd and poke" B="$B" ${KERNEL_MAKE_ARGS:-} "$B/sos" "$B/sosd" \
  "$B/tests/poke"

# raw NAME WANT [POKE OPTIONS]: sends stdin to the gateway as is and
# checks that the answer contains WANT ("!TEXT": does not contain TEXT).
raw() {
  local name=$1 want=$2
  shift 2
  check "$name" 0 "$want" "" "$POKE" -p "$@" "127.0.0.1:$PORT"
}
# get PATH [CURL OPTIONS]: curl's output (with -i: the head too).
url() { echo "http://127.0.0.1:$PORT$1"; }
fds() { ls "/proc/$(node_pid)/fd" 2>/dev/null | wc -l; }

# ---- configuration -------------------------------------------------------------------
mkdir -p "$SOS_HOME" && chmod 700 "$SOS_HOME"
echo "htp = 1" >"$SOS_HOME/node.conf"
check "node.conf: an unknown setting stops the node" 1 "" 'node.conf:1: unknown setting "htp"' \
  $SOS node start
echo "http = 127.0.0.1:99999" >"$SOS_HOME/node.conf"
check "node.conf: a bad port stops the node" 1 "" \
  'node.conf:1: bad value "127.0.0.1:99999" for http: write HOST:PORT, PORT or off' $SOS node start
cat >"$SOS_HOME/node.conf" <<'EOF'
# the tests' settings: short timeouts, few connections
http = 127.0.0.1:0            # any free port
http_request_timeout_ms = 1000
http_idle_timeout_ms = 700
http_max_connections = 8
EOF
check "node start with node.conf" 0 "http 127.0.0.1:" "" $SOS node start
PORT=$(gateway_port $SOS)
check "node status shows the gateway's address" 0 "http       127.0.0.1:$PORT" "" $SOS node status
check "no route yet: 404" 0 "404 Not Found" "" curl -si "$(url /)"
check "sos node start --help shows --http" 0 "--http ADDR" "" $SOS node start --help

# ---- routes and requests ---------------------------------------------------------------
check "deploy web" 0 "deployed web version 1" "" $SOS deploy tests/apps/web
check "GET /" 0 "=hello from web" "" curl -s "$(url /)"
check "the service's headers pass" 0 "Content-Type: text/plain; charset=utf-8" "" curl -si "$(url /)"
check "the gateway frames the answer" 0 "Content-Length: 15" "" curl -si "$(url /)"
check "POST with a query and a body" 0 "POST /echo?a=1&b=2 prefix=/ host=127.0.0.1:$PORT n=10" "" \
  curl -s "$(url '/echo?a=1&b=2')" -d 'hello body'
check "the body arrives whole" 0 "hello body" "" curl -s "$(url /echo)" -d 'hello body'
check "header names arrive in lower case" 0 "x-custom-thing: Value One" "" \
  curl -s "$(url /echo)" -H "X-Custom-Thing: Value One"
check "the client's address is passed on" 0 "x-echo: yes" "" curl -si "$(url /echo)"
check "a host route wins over any host" 0 "=other other.test/x" "" \
  curl -s -H "Host: other.test" "$(url /x)"
check "hosts compare without case" 0 "=other OTHER.test/x" "" curl -s -H "Host: OTHER.test" "$(url /x)"
check "the longest prefix wins" 0 "=other 127.0.0.1:$PORT/only/y" "" curl -s "$(url /only/y)"
check "a status the service picks" 0 "HTTP/1.1 201 Created" "" curl -si "$(url /status/201)"
check "a status without a reason phrase" 0 "HTTP/1.1 418 " "" curl -si "$(url /status/418)"
check "a status below 200 is refused: 502" 0 "HTTP/1.1 502 Bad Gateway" "" curl -si "$(url /status/101)"
check "a status above 599 is refused: 502" 0 "answered status 700" "" curl -s "$(url /status/700)"
check "response splitting is refused: 502" 0 "HTTP/1.1 502 Bad Gateway" "" curl -si "$(url /bad-header)"
check "... and nothing of it is sent" 0 "!stolen" "" curl -si "$(url /bad-header)"
check "a header name that is not a token: 502" 0 "HTTP/1.1 502" "" curl -si "$(url /bad-name)"
check "the service cannot set the framing" 0 "Content-Length: 22" "" curl -si "$(url /framing)"
check "... nor close the connection" 0 "!Connection: close" "" curl -si "$(url /framing)"
check "a trap: 502" 0 "web.page: the instance trapped" "" curl -si "$(url /trap)"
check "a service past its timeout: 504" 0 "HTTP/1.1 504 Gateway Timeout" "" curl -si "$(url /slow)"
check "a 3 MB answer" 0 "=3000000" "" sh -c "curl -s '$(url /big/3000000)' | wc -c"
check "HEAD: the head, Content-Length of the body" 0 "Content-Length: 15" "" curl -sI "$(url /)"
printf 'HEAD / HTTP/1.1\r\nHost: a\r\n\r\n' >"$tmp/head"
STDIN=$tmp/head raw "HEAD is answered" "Content-Length: 15"
STDIN=$tmp/head raw "HEAD sends no body" "!hello from web"
check "keep-alive: curl reuses the connection" 0 "Re-using existing connection" "" \
  sh -c "curl -sv '$(url /)' '$(url /status/202)' 2>&1"
check "HTTP/1.0 closes after the answer" 0 "Connection: close" "" curl -si -0 "$(url /)"
head -c 2000 /dev/zero | tr '\0' y >"$tmp/2k"
check "Expect: 100-continue gets 100 Continue" 0 "HTTP/1.1 100 Continue" "" \
  sh -c "curl -sv -H 'Expect: 100-continue' --data-binary @'$tmp/2k' '$(url /echo)' 2>&1"
printf 'GET /status/200 HTTP/1.1\r\nHost: a\r\n\r\nGET /status/201 HTTP/1.1\r\nHost: a\r\n\r\nGET /status/202 HTTP/1.1\r\nHost: a\r\n\r\n' >"$tmp/pipe"
check "pipelined requests are answered in order" 0 "=200 201 202" "" \
  sh -c "'$POKE' -p 127.0.0.1:$PORT <'$tmp/pipe' | grep -o 'HTTP/1.1 20[0-9]' | cut -c10- | tr '\n' ' ' | sed 's/ \$//'"
for i in $(seq 200 219); do printf 'GET /status/%s HTTP/1.1\r\nHost: a\r\n\r\n' "$i"; done >"$tmp/pipe20"
check "20 pipelined requests (each run by the lane as the last is answered): in order, at once" \
  0 "=$(seq -s ' ' 200 219)" "" \
  sh -c "'$POKE' -p 127.0.0.1:$PORT -w 500 <'$tmp/pipe20' | grep -o 'HTTP/1.1 2[0-9][0-9]' | cut -c10- | tr '\n' ' ' | sed 's/ \$//'"
# ---- streams (respond_part) ----
check "a stream: chunked, every part in order" 0 "part 1
part 2
part 3" "" sh -c "curl -s '$(url /stream/3)'"
check "... framed Transfer-Encoding: chunked" 0 "Transfer-Encoding: chunked" "" curl -si "$(url /stream/3)"
printf 'GET /stream/3 HTTP/1.1\r\nHost: a\r\n\r\n' >"$tmp/stream"
check "the first part arrives while the handler still works (200 ms of silence ends the read)" \
  0 "=part 1 " "" sh -c "'$POKE' -p 127.0.0.1:$PORT -w 200 <'$tmp/stream' | grep -ao 'part [0-9]' | tr '\n' ' '"
check "HTTP/1.0 takes it whole, with Content-Length" 0 "Content-Length: 21" "" curl -si -0 "$(url /stream/3)"
check "... and every part" 0 "part 3" "" curl -s -0 "$(url /stream/3)"
check "keep-alive after a stream" 0 "Re-using existing connection" "" \
  sh -c "curl -sv '$(url /stream/2)' '$(url /)' 2>&1"
check "a handler that traps mid-stream: the body stops short, the client sees it incomplete" \
  18 "part 1" "" curl -s "$(url /stream-trap)"
check "and the node serves on" 0 "hello from web" "" curl -s "$(url /)"
printf 'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n' >"$tmp/chunked"
STDIN=$tmp/chunked raw "a chunked body is joined" "n=11"
STDIN=$tmp/chunked raw "... into its bytes" "hello world"

# ---- the crypto and secrets built-ins (through web's routes) ------------------------------------
check "a secret not set yet" 0 "that secret is not set" "" curl -s "$(url /secret)"
INPUT=$'Jefe\n' check "sos secret set reads stdin" 0 "secret WEB_KEY set (4 bytes)" "" \
  $SOS secret set WEB_KEY
check "secrets are the owner's only (folder)" 0 "=700" "" stat -c %a "$SOS_HOME/secrets"
check "secrets are the owner's only (file)" 0 "=600" "" stat -c %a "$SOS_HOME/secrets/WEB_KEY"
check "sos secret ls: names and sizes" 0 "WEB_KEY                          4" "" $SOS secret ls
check "sos secret ls never shows a value" 0 "!Jefe" "" $SOS secret ls --json
check "sos secret ls --json" 0 '[{"name":"WEB_KEY","bytes":4}]' "" $SOS secret ls --json
check "an app reads a secret it declares" 0 "=WEB_KEY has 4 bytes" "" curl -s "$(url /secret)"
check "... not one it does not declare" 0 "the app's definition does not declare that secret" "" \
  curl -s "$(url /secret-other)"
check "... and the refusal is logged" 0 "denied: secret OTHER_KEY" "" $SOS logs web
check "no command prints a secret" 1 "" "secrets are for apps only" \
  $SOS call secrets get '{"name":"WEB_KEY"}'
check "HMAC-SHA256 keyed by a secret's name (RFC 4231 case 2)" 0 \
  "=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" "" \
  curl -s "$(url /hmac)" --data-binary 'what do ya want for nothing?'
check "HMAC with a secret the app does not declare" 0 "the app does not declare that secret" "" \
  curl -s "$(url /hmac-other)" -d x
check "SHA-256 (FIPS 180-2 abc)" 0 "=ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" "" \
  curl -s "$(url /sha256)" -d abc
check "crypto from outside, typed" 0 '"digest":"ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="' "" \
  $SOS call crypto sha256 '{"data":"YWJj"}'
check "constant-time compare: equal" 0 "=equal" "" curl -s "$(url /equal)" -d abcabc
check "constant-time compare: different" 0 "=different" "" curl -s "$(url /equal)" -d abcabd
check "constant-time compare: lengths differ" 0 '"equal":false' "" \
  $SOS call crypto equal '{"a":"YQ==","b":"YWI="}'
r1=$(curl -s "$(url /random/16)"); r2=$(curl -s "$(url /random/16)")
check "random: 16 bytes" 0 "=32" "" sh -c "printf %s '$r1' | wc -c"
check "random: two draws differ" 0 "=differ" "" sh -c "[ '$r1' != '$r2' ] && echo differ"
check "random: at most 64 KiB" 0 "at most 65536 random bytes" "" curl -s "$(url /random/70000)"
check "a secret never reaches a log" 1 "" "" grep -rl Jefe "$SOS_HOME/sosd.log" "$SOS_HOME/access.log" \
  "$SOS_HOME/logs"
check "sos secret rm" 0 "secret WEB_KEY removed" "" $SOS secret rm WEB_KEY
check "sos secret rm of nothing" 1 "" "no secret named WEB_KEY" $SOS secret rm WEB_KEY
check "a removed secret is not set" 0 "that secret is not set" "" curl -s "$(url /secret)"
check "a bad secret name" 1 "" 'bad secret name "bad-name"' $SOS secret set bad-name
for c in secret "secret set" "secret ls" "secret rm"; do
  check "sos $c --help" 0 "Usage: sos $c" "" $SOS $c --help
done

# ---- the http built-in: egress to a local double ------------------------------------------------
start_double "$tmp/double.log"
doubles+=("$DOUBLE_PID")
DPORT=$DOUBLE_PORT
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" -out "$tmp/cert.pem" -days 1 \
  -subj /CN=127.0.0.1 >/dev/null 2>&1
start_double "$tmp/tls.log" "$tmp/cert.pem" "$tmp/key.pem"
doubles+=("$DOUBLE_PID")
TPORT=$DOUBLE_PORT
cp -r tests/apps/web "$tmp/web" && rm -rf "$tmp/web/.sos"
sed -i "s|egress \"http://127.0.0.1:1\"|egress \"http://127.0.0.1:1\", \"http://127.0.0.1:$DPORT\", \"127.0.0.1:$TPORT\"|" \
  "$tmp/web/app.sos"
check "deploy web with the double in its egress" 0 "deployed web version 2" "" $SOS deploy "$tmp/web"
D=http://127.0.0.1:$DPORT
check "fetch: status, headers, body" 0 "x-double: yes" "" curl -s "$(url "/fetch?$D/ok")"
check "fetch: the body" 0 '{"ok":true}' "" curl -s "$(url "/fetch?$D/ok")"
check "fetch: a POST with a body and a header" 0 "POST /echo" "" \
  curl -s "$(url "/fetch?$D/echo")" -d 'posted body' -H 'x-fwd: forwarded'
check "... the double got them" 0 '"x-fwd":"forwarded"' "" grep -F '"body":"posted body"' "$tmp/double.log"
check "fetch: an error status is an answer" 0 "=503" "" sh -c "curl -s '$(url "/fetch?$D/status/503")' | head -1"
check "fetch: redirects are not followed" 0 "location: http://example.com/" "" \
  curl -s "$(url "/fetch?$D/redirect")"
check "fetch: a host not in egress" 0 "https://example.com:443 is not in the egress list of app web" "" \
  curl -s "$(url "/fetch?https://example.com/")"
check "... is logged" 0 "denied: https://example.com:443 is not in the egress list" "" $SOS logs web
check "fetch: plain HTTP to a host listed for HTTPS only" 0 "is not in the egress list" "" \
  curl -s "$(url "/fetch?http://127.0.0.1:$TPORT/ok")"
check "fetch: another port of a listed host" 0 "is not in the egress list" "" \
  curl -s "$(url "/fetch?http://127.0.0.1:$((DPORT + 1))/ok")"
check "fetch: userinfo cannot smuggle a host" 0 "is not in the egress list" "" \
  curl -s "$(url "/fetch?http://127.0.0.1:$DPORT@example.com/")"
check "fetch: not a URL" 0 'bad URL "notaurl"' "" curl -s "$(url "/fetch?notaurl")"
check "fetch: other schemes" 0 "only http and https URLs can be fetched, not ftp" "" curl -s "$(url "/fetch?ftp://127.0.0.1:$DPORT/")"
check "fetch: a certificate that does not verify" 0 "error 1: SSL peer certificate or SSH remote key was not OK" "" \
  curl -s "$(url "/fetch?https://127.0.0.1:$TPORT/ok")"
check "fetch: nothing listening" 0 "Couldn't connect to server" "" curl -s "$(url "/fetch?http://127.0.0.1:1/")"
check "fetch: an answer over max_bytes" 0 "larger than 1048576 bytes" "" \
  curl -s "$(url "/fetch?$D/big/1100000")"
check "fetch: max_bytes raised" 0 "=1100000" "" \
  sh -c "curl -s -H 'x-max: 1200000' '$(url "/fetch?$D/big/1100000")' | tail -1 | tr -d '\n' | wc -c"
check "fetch: its own timeout" 0 "timed out" "" curl -s -H "x-timeout: 300" "$(url "/fetch?$D/slow")"
check "fetch: never past the caller's deadline (web's 1 s)" 0 "timed out" "" curl -s -m 2.5 "$(url "/fetch?$D/slow")"
check "fetch from outside is refused" 1 "" "http is for apps only" \
  $SOS call http fetch "{\"url\":\"$D/ok\"}"

# ---- limits --------------------------------------------------------------------------------
big=$(head -c 20000 /dev/zero | tr '\0' a)
check "a header over 16 KiB: 431" 0 "HTTP/1.1 431" "" curl -si -H "X-Big: $big" "$(url /)"
hdrs=()
for i in $(seq 1 101); do hdrs+=(-H "X-H$i: $i"); done
check "101 headers: 431" 0 "HTTP/1.1 431" "" curl -si "${hdrs[@]}" "$(url /)"
check "a target over 8 KiB: 414" 0 "HTTP/1.1 414" "" curl -si "$(url "/$(head -c 9000 /dev/zero | tr '\0' a)")"
printf 'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\n' >"$tmp/cl"
STDIN=$tmp/cl raw "Content-Length over the limit: 413 before the body" "HTTP/1.1 413"
head -c 1100000 /dev/zero | tr '\0' z >"$tmp/big"
{ printf 'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n' 1100000
  cat "$tmp/big"; printf '\r\n0\r\n\r\n'; } >"$tmp/bigchunk"
STDIN=$tmp/bigchunk raw "a chunked body over the limit: 413" "HTTP/1.1 413"
check "a 1 MB body is within the limit" 0 "n=1000000" "" \
  sh -c "head -c 1000000 /dev/zero | tr '\0' q | curl -s --data-binary @- '$(url /echo)' | head -1"
printf 'GET / HTTP/1.1\r\nHost: a\r\n' >"$tmp/partial"
STDIN=$tmp/partial raw "a request that stalls: 408" "HTTP/1.1 408 Request Timeout" -o -w 3000
STDIN=$tmp/pipe raw "a slow sender past the request timeout: 408" "HTTP/1.1 408" -s 60 -w 3000
printf 'GET / HTTP/1.1\r\nHost: a\r\n\r\n' >"$tmp/one"
start=$(date +%s%N)
STDIN=$tmp/one raw "an idle kept-alive connection is answered" "hello from web" -o -w 5000
took=$((($(date +%s%N) - start) / 1000000))
check "... and closed after the idle timeout, not the client's 5 s" 0 "ok" "" \
  sh -c "[ $took -lt 4000 ] && echo ok || echo 'took $took ms'"
pokes=()
for i in 1 2 3 4 5 6 7 8; do
  "$POKE" -o -w 1500 "127.0.0.1:$PORT" </dev/null >/dev/null &
  pokes+=($!)
done
sleep 0.4
check "past http_max_connections: 503" 0 "HTTP/1.1 503" "" curl -si "$(url /)"
wait "${pokes[@]}"
check "below it again: served" 0 "=hello from web" "" curl -s "$(url /)"

# ---- malformed and hostile requests ----------------------------------------------------------
# Warm up (the first requests start instances and open files), then count
# sosd's file descriptors; the corpus must leave the count where it was.
curl -s "$(url /)" >/dev/null; curl -s "$(url /echo)" -d x >/dev/null
fds_before=$(fds)
corpus() { # NAME WANT REQUEST (printf format)
  printf "$3" >"$tmp/req"
  STDIN=$tmp/req raw "$1" "$2"
  STDIN=$tmp/req raw "$1: the connection closes" "Connection: close"
}
corpus "garbage" "HTTP/1.1 400" 'hello there\r\n\r\n'
corpus "a bad method" "HTTP/1.1 400" 'G@T / HTTP/1.1\r\nHost: a\r\n\r\n'
corpus "a bad version" "HTTP/1.1 400" 'GET / HTTP/9.x\r\nHost: a\r\n\r\n'
corpus "HTTP/1.1 without Host" "HTTP/1.1 400" 'GET / HTTP/1.1\r\n\r\n'
corpus "two Host headers" "HTTP/1.1 400" 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'
corpus "Content-Length and Transfer-Encoding" "HTTP/1.1 400" \
  'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
corpus "two Content-Lengths" "HTTP/1.1 400" \
  'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab'
corpus "a Content-Length that overflows" "HTTP/1.1 400" \
  'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n'
corpus "a negative Content-Length" "HTTP/1.1 400" \
  'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n'
corpus "a Transfer-Encoding that is not chunked last" "HTTP/1.1 400" \
  'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n'
corpus "a bad chunk size" "HTTP/1.1 400" \
  'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n'
corpus "NUL in a header value" "HTTP/1.1 400" 'GET / HTTP/1.1\r\nHost: a\r\nX-A: a\0b\r\n\r\n'
corpus "a bare CR in a header value" "HTTP/1.1 400" 'GET / HTTP/1.1\r\nHost: a\r\nX-A: a\rb\r\n\r\n'
corpus "a space before the colon" "HTTP/1.1 400" 'GET / HTTP/1.1\r\nHost: a\r\nX-A : b\r\n\r\n'
corpus "a header without a colon" "HTTP/1.1 400" 'GET / HTTP/1.1\r\nHost: a\r\nnocolon\r\n\r\n'
corpus "a folded header (obs-fold)" "HTTP/1.1 400" 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n'
corpus "CONNECT" "HTTP/1.1 501" 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'
corpus "a header value that is not UTF-8" "HTTP/1.1 400" 'GET / HTTP/1.1\r\nHost: a\r\nX-A: \xff\xfe\r\n\r\n'
corpus "a target that is no path" "HTTP/1.1 400" 'GET nopath HTTP/1.1\r\nHost: a\r\n\r\n'
printf 'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /status/299 HTTP/1.1\r\nHost: a\r\n\r\n' >"$tmp/smuggle"
STDIN=$tmp/smuggle raw "smuggling (CL.TE): the hidden request is never served" "!299"
printf 'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 40\r\n\r\nabcGET /status/299 HTTP/1.1\r\nHost: a\r\n\r\n' >"$tmp/smuggle2"
STDIN=$tmp/smuggle2 raw "smuggling (CL.CL): the hidden request is never served" "!299"
head -c 200000 /dev/urandom >"$tmp/noise"
STDIN=$tmp/noise raw "random bytes get 400 or a close" "!HTTP/1.1 200"
check "absolute-form targets are served" 0 "GET /echo prefix=/" "" \
  sh -c "printf 'GET http://a/echo HTTP/1.1\r\nHost: a\r\n\r\n' | '$POKE' -p 127.0.0.1:$PORT"
check "sosd still serves after the corpus" 0 "=hello from web" "" curl -s "$(url /)"
sleep 1 # kept-alive connections of curl and poke have closed by now
fds_after=$(fds)
check "no file descriptor is left behind" 0 "=$fds_before" "" echo "$fds_after"

# ---- the access log, removal, restarts --------------------------------------------------------
check "the access log has a line per request" 0 '"GET /status/418" 418 ' "" cat "$SOS_HOME/access.log"
check "... naming the method that answered" 0 "web.page" "" grep -F '"GET /status/201" 201' "$SOS_HOME/access.log"
check "the access log is the owner's only" 0 "=600" "" stat -c %a "$SOS_HOME/access.log"
check "node stop" 0 "node stopped" "" $SOS node stop
check "node start again" 0 "http 127.0.0.1:" "" $SOS node start
PORT=$(gateway_port $SOS)
check "routes come back after a restart" 0 "=hello from web" "" curl -s "$(url /)"
mkdir -p "$tmp/other" && chmod 700 "$tmp/other"
check "a port in use stops a second node with why" 1 "" "address already in use" \
  $SOS node start --data "$tmp/other" --http "127.0.0.1:$PORT"
check "--http off: no gateway" 0 "http off" "" $SOS node start --data "$tmp/other" --http off
$SOS node stop --data "$tmp/other" >/dev/null

# ---- TLS termination -------------------------------------------------------------------------
T=$tmp/tls
mkdir -p "$T" && chmod 700 "$T"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 1 \
  -subj /CN=127.0.0.1 -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1
printf 'http = 127.0.0.1:0\nhttp_tls_cert = %s\n' "$T/cert.pem" >"$T/node.conf"
check "TLS: a certificate without its key stops the node" 1 "" "TLS needs both http_tls_cert and http_tls_key" \
  $SOS node start --data "$T"
printf 'http = 127.0.0.1:0\nhttp_tls_cert = %s\nhttp_tls_key = %s\n' "$T/cert.pem" "$tmp/key.pem" >"$T/node.conf"
check "TLS: a key that does not match the certificate stops the node" 1 "" \
  "key values mismatch" $SOS node start --data "$T"
printf 'http = 127.0.0.1:0\nhttp_tls_cert = %s\nhttp_tls_key = %s\n' "$T/cert.pem" "$T/key.pem" >"$T/node.conf"
check "TLS: a node with a certificate serves HTTPS" 0 "https 127.0.0.1:" "" $SOS node start --data "$T"
SPORT=$(gateway_port $SOS --data "$T")
$SOS deploy --data "$T" tests/apps/web >/dev/null
S=https://127.0.0.1:$SPORT
check "TLS: a request" 0 "=hello from web" "" curl -s --cacert "$T/cert.pem" "$S/"
check "TLS: keep-alive over one TLS connection" 0 "Re-using existing connection" "" \
  sh -c "curl -sv --cacert '$T/cert.pem' '$S/' '$S/status/201' 2>&1"
check "TLS: a 1 MB body in" 0 "n=1000000" "" \
  sh -c "head -c 1000000 /dev/zero | tr '\0' q | curl -s --cacert '$T/cert.pem' --data-binary @- '$S/echo' | head -1"
check "TLS: 3 MB out" 0 "=3000000" "" sh -c "curl -s --cacert '$T/cert.pem' '$S/big/3000000' | wc -c"
check "TLS: a client that does not trust the certificate stops" 60 "" "" curl -s "$S/"
check "TLS: plain HTTP on the TLS port gets no answer" 52 "" "" curl -s -m 5 "http://127.0.0.1:$SPORT/"
STDIN=$tmp/noise check "TLS: random bytes instead of a handshake" 0 "" "" "$POKE" -p "127.0.0.1:$SPORT"
check "TLS: still serving" 0 "=hello from web" "" curl -s --cacert "$T/cert.pem" "$S/"
check "TLS: node stop" 0 "node stopped" "" $SOS node stop --data "$T"
check "TLS: sosd.log has no sanitizer reports" 0 "!Sanitizer" "" cat "$T/sosd.log"

check "rm web" 0 "web removed" "" $SOS rm web
check "its routes go with it: 404" 0 "no route for /" "" curl -s "$(url /)"
check "node stop at the end" 0 "node stopped" "" $SOS node stop
check "sosd.log has no sanitizer reports" 0 "!Sanitizer" "" cat "$SOS_HOME/sosd.log"

echo "http: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

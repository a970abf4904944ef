#!/usr/bin/env bash
# tests/slackbot.sh - apps/slackbot as Slack uses it: a real sosd serving
# the bot's endpoints on its HTTP gateway, this script acting as Slack
# (it signs requests with a test signing secret, as Slack documents),
# and tests/lib/double.js standing in for Slack's Web API on 127.0.0.1,
# recording the bot's chat.postMessage calls.  The bot is deployed from
# a definition that extends apps/slackbot/app.sos with the double's URL.
#
# Checks Slack's own documented signing example, url_verification,
# karma through events and the reply the bot posts (with its token),
# the slash command, and that bad signatures, tampered bodies, stale or
# future timestamps, unsigned requests and replays are refused, that
# Slack's retries are not counted twice, and that the acknowledgement
# does not wait for the reply.  Ends with "slackbot: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
source tests/lib/check.sh
suite_begin
double=
on_exit() { if [ -n "$double" ]; then kill "$double" 2>/dev/null; fi; }
source tests/lib/double.sh

build_or_exit slackbot "sos and sosd" B="$B" ${KERNEL_MAKE_ARGS:-} "$B/sos" "$B/sosd"

start_double "$tmp/slack.log"
double=$DOUBLE_PID
slackbot_def "$tmp/bot" "$DOUBLE_PORT"
check "node start" 0 "node started" "" $SOS node start --http 127.0.0.1:0
PORT=$(gateway_port $SOS)
check "deploy the bot" 0 "deployed slackbot version 1" "" $SOS deploy "$tmp/bot"
SECRET=8f742231b10e8888abcd99yyyzzz85a5 # the signing secret of Slack's documentation
INPUT=$SECRET check "set the signing secret" 0 "secret SLACK_SIGNING_SECRET set" "" \
  $SOS secret set SLACK_SIGNING_SECRET
INPUT=xoxb-test-token check "set the bot token" 0 "secret SLACK_BOT_TOKEN set" "" \
  $SOS secret set SLACK_BOT_TOKEN

# sign BODY [TS [SECRET]]: Slack's v0 signature (hex) of BODY at TS.
sign() {
  printf 'v0:%s:%s' "${2:-$(date +%s)}" "$1" | openssl dgst -sha256 -hmac "${3:-$SECRET}" |
    sed 's/^.*= //'
}
# send PATH BODY [TS [SIG]]: posts as Slack would; prints the status, then the body.
send() {
  local ts=${3:-$(date +%s)}
  local sig=${4:-v0=$(sign "$2" "$ts")}
  curl -s -o "$tmp/out" -w '%{http_code}\n' -H "X-Slack-Request-Timestamp: $ts" \
    -H "X-Slack-Signature: $sig" -H 'Content-Type: application/json' \
    --data-binary "$2" "http://127.0.0.1:$PORT$1"
  cat "$tmp/out"
}
# texts: the text of every message the bot posted, decoded, one JSON string a line.
texts() {
  node -e 'for (const l of require("fs").readFileSync(process.argv[1], "utf8").split("\n"))
             if (l) console.log(JSON.stringify(JSON.parse(JSON.parse(l).body).text))' "$tmp/slack.log"
}
# said: the text of the slash command's answer (in $tmp/out), decoded.
said() { node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).text)' "$tmp/out"; }
posts() { local n; n=$(grep -c 'chat.postMessage' "$tmp/slack.log" 2>/dev/null); echo "${n:-0}"; }
# saw NAME WANT TEXT: checks that TEXT (an output taken before) contains WANT.
saw() { check "$1" 0 "$2" "" echo "$3"; }
# wait_posts N: waits (at most 5 s) until the double has N posts.
wait_posts() { for _ in $(seq 50); do [ "$(posts)" -ge "$1" ] && return 0; sleep 0.1; done; return 1; }

# ---- signatures ----------------------------------------------------------------------------
EX='token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c'
EXSIG=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503
b64() { printf '%s' "$1" | base64 -w0; }
check "Slack's documented example signs to its documented signature (crypto built-in)" 0 "=$EXSIG" "" \
  sh -c "$SOS call crypto hmac_sha256 '{\"key\":\"$(b64 $SECRET)\",\"data\":\"$(b64 "v0:1531420618:$EX")\"}' |
         sed 's/.*\"digest\":\"\\([^\"]*\\)\".*/\\1/' | base64 -d | od -An -tx1 | tr -d ' \\n'"
saw "... and the bot refuses that request: it is years old" "stale timestamp" "$(send /slack/commands "$EX" 1531420618 "v0=$EXSIG")"
CH='{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}'
saw "url_verification answers the challenge" '{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}' "$(send /slack/events "$CH")"
check "an unsigned request is refused" 0 "not signed by Slack" "" \
  curl -s -w '%{http_code}' --data-binary "$CH" "http://127.0.0.1:$PORT/slack/events"
check "... with 401" 0 "=401" "" sh -c "curl -s -o /dev/null -w '%{http_code}' --data-binary '$CH' http://127.0.0.1:$PORT/slack/events"
now=$(date +%s)
saw "a signature with another secret is refused" "bad signature" "$(send /slack/events "$CH" "$now" "v0=$(sign "$CH" "$now" not-the-secret)")"
saw "a tampered body is refused" "bad signature" "$(send /slack/events "${CH/3eZ/4eZ}" "$now" "v0=$(sign "$CH" "$now")")"
saw "a timestamp older than 5 minutes is refused" "stale timestamp" "$(send /slack/events "$CH" "$((now - 400))")"
saw "... and one from the future" "stale timestamp" "$(send /slack/events "$CH" "$((now + 400))")"
saw "a malformed signature is refused" "bad signature" "$(send /slack/events "$CH" "$now" "v1=abc")"
check "GET is refused" 0 "401" "" curl -s -i "http://127.0.0.1:$PORT/slack/events"
check "refusals are logged" 0 "refused a request: bad signature" "" $SOS logs slackbot

# ---- karma through events -----------------------------------------------------------------
ev() { # ev ID TEXT [USER [CHANNEL [EXTRA]]]
  printf '{"type":"event_callback","event_id":"%s","event":{"type":"app_mention","user":"%s","text":"%s","channel":"%s"%s}}' \
    "$1" "${3:-U222}" "$2" "${4:-C1}" "${5:-}"
}
E1=$(ev Ev1 '<@U111> ++ thanks!')
ts=$(date +%s)
sig=v0=$(sign "$E1" "$ts")
saw "an event is acknowledged" "=200" "$(send /slack/events "$E1" "$ts" "$sig" | head -1)"
wait_posts 1
saw "the bot posts the new total" "=1" "$(posts)"
saw "... with its token" '"authorization":"Bearer xoxb-test-token"' "$(cat "$tmp/slack.log")"
saw "... to the channel" '\"channel\":\"C1\"' "$(cat "$tmp/slack.log")"
saw "... saying so" '="<@U111> gets a point: 1 now\n"' "$(texts)"
saw "the same signed request again is a replay" "replayed request" "$(send /slack/events "$E1" "$ts" "$sig")"
saw "Slack's retry (same event, a later signature) is acknowledged" "=200" \
  "$(send /slack/events "$E1" "$((ts + 1))" | head -1)"
sleep 0.5
saw "... and not counted twice" "=1" "$(posts)"
send /slack/events "$(ev Ev2 '<@U111>++ <@U333> ++')" >/dev/null
wait_posts 2
saw "two in one message" '"<@U111> gets a point: 2 now\n<@U333> gets a point: 1 now\n"' "$(texts)"
send /slack/events "$(ev Ev3 '<@U333> --')" >/dev/null
wait_posts 3
saw "-- takes a point" '"<@U333> loses a point: 0 now\n"' "$(texts)"
send /slack/events "$(ev Ev4 '<@U222> ++' U222)" >/dev/null
wait_posts 4
saw "nobody gives themselves karma" '"<@U222> cannot give themselves karma\n"' "$(texts)"
send /slack/events "$(ev Ev5 '<@U111> ++' U999 C1 ',"bot_id":"B1"')" >/dev/null
sleep 0.5
saw "a bot's message is ignored" "=4" "$(posts)"
check "the karma is in the bot's kv store" 0 "U111	2" "" $SOS kv ls slackbot/karma
for k in sig:100:old evts:0000000100:EvOld event:EvOld; do $SOS kv put slackbot/seen "$k" 1 >/dev/null; done
send /slack/events "$(ev Ev8 'no karma here')" >/dev/null
sleep 0.5
seen=$($SOS kv ls slackbot/seen)
saw "old signatures are forgotten" "!sig:100:old" "$seen"
saw "... and old events" "!EvOld" "$seen"
saw "... but not the recent ones" "event:Ev8" "$seen"
saw "... nor their signatures" "sig:$(date +%s | cut -c1-6)" "$seen"

# ---- the slash command ----------------------------------------------------------------------
form() { printf 'command=%%2Fkarma&text=%s&user_id=U222&channel_id=C1' "$1"; }
saw "/karma answers" "=200" "$(send /slack/commands "$(form '')" | head -1)"
saw "... the leaderboard" "$(printf 'Karma leaderboard:\n1. <@U111> 2\n2. <@U333> 0')" "$(said)"
saw "... in the channel" '"response_type":"in_channel"' "$(cat "$tmp/out")"
send /slack/commands "$(form '%3C%40U111%7Cada%3E')" >/dev/null
saw "/karma @someone" "=<@U111> has 2 points" "$(said)"
saw "a command needs a signature too" "bad signature" \
  "$(send /slack/commands "$(form '')" "$(date +%s)" "v0=$(sign x)")"

# ---- the acknowledgement does not wait for the reply ------------------------------------------
E6=$(ev Ev6 '<@U111> ++' U222 CSLOW)
took=$(send /slack/events "$E6" | head -1; curl -s -o /dev/null -w '%{time_total}' \
  -H "X-Slack-Request-Timestamp: $(date +%s)" -H "X-Slack-Signature: v0=$(sign "$(ev Ev7 '<@U111> ++' U222 CSLOW)")" \
  --data-binary "$(ev Ev7 '<@U111> ++' U222 CSLOW)" "http://127.0.0.1:$PORT/slack/events")
check "the ack comes before the slow reply ends (Slack's API takes 2 s here)" 0 "ok" "" \
  awk -v t="$(tail -1 <<<"$took" | tr -d '\n')" 'BEGIN { print (t < 1.5 ? "ok" : "took " t " s") }'
sleep 2
wait_posts 6
saw "... and the reply still goes out" "=6" "$(posts)"
check "node stop" 0 "node stopped" "" $SOS node stop
check "sosd.log has no sanitizer reports" 0 "!Sanitizer" "" cat "$SOS_HOME/sosd.log"

echo "slackbot: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

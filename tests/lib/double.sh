# tests/lib/double.sh - helpers for the suites and benchmarks that stand
# outside HTTP APIs up on 127.0.0.1 (tests/lib/double.js) and read a
# node's gateway address (sourced, not run; from the repository's root).

# start_double LOG [CERT KEY]: starts tests/lib/double.js in the
# background (HTTPS when given a certificate) and waits, at most 5 s, for
# its port; sets DOUBLE_PID and DOUBLE_PORT (empty when it did not start).
start_double() {
  local out
  out=$(mktemp)
  node tests/lib/double.js "$@" >"$out" 2>&1 &
  DOUBLE_PID=$!
  for _ in $(seq 50); do [ -s "$out" ] && break; sleep 0.1; done
  DOUBLE_PORT=$(head -1 "$out")
  rm -f "$out"
}

# slackbot_def DIR PORT: writes DIR/app.sos, apps/slackbot with Slack's
# Web API at the double on PORT (its base URL and its egress).
slackbot_def() {
  mkdir -p "$1"
  cat >"$1/app.sos" <<SOS
app slackbot 1.0.1 extends "$(pwd)/apps/slackbot/app.sos" {
  env SLACK_API = "http://127.0.0.1:$2/api"
  egress "http://127.0.0.1:$2"
}
SOS
}

# gateway_port SOS [--data DIR]: the port the node's HTTP gateway listens on.
gateway_port() {
  "$1" node status "${@:2}" --json | grep -o '"http":"127.0.0.1:[0-9]*"' | grep -o '[0-9]*"$' | tr -d '"'
}

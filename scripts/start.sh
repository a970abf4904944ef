#!/usr/bin/env bash
# The first command to run (see README): installs what SOS needs on Debian
# 12 (scripts/deps.sh, which brings make and compilers too), builds SOS,
# starts a node on the default data directory ($SOS_HOME, else
# ~/.local/share/sos; nothing to configure), deploys the example apps and
# calls them, each step with a one-line caption.  The node keeps running;
# the script ends with what to try next.  Running it again is harmless: the
# node is reused and the apps get new versions only when they changed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -t 1 ]; then bold=$'\033[1m'; dim=$'\033[2m'; off=$'\033[0m'; else bold=""; dim=""; off=""; fi
# caption TEXT: a heading before each step.
caption() { printf '\n%s==> %s%s\n' "$bold" "$*" "$off"; }
# show CMD...: prints a command, then runs it.
show() { printf '%s$ %s%s\n' "$dim" "$*" "$off"; "$@"; }

caption "Installing build dependencies (Debian 12 packages; asks for sudo if needed)"
bash scripts/deps.sh

caption "Building SOS: build/sos (the command), build/sosd (the node kernel), example programs"
make -s -j"$(nproc)" all examples

caption "Starting the node (sosd) on the default data directory"
show build/sos node start
show build/sos node status

caption "Deploying the example apps (each is built from C into a verified image first)"
for app in hello counter fanout sleepy kvcount eventlog greeter greeter-client guestbook; do
  show build/sos deploy apps/$app
done

caption "hello: a service call, addressed by name"
show build/sos call hello greet world
echo

caption "counter: an instance keeps state in its memory between calls"
show build/sos call counter incr
echo
show build/sos call counter incr
echo

caption "fanout: one service calls two others in parallel (async calls, await all)"
show build/sos call fanout both SOS
echo

caption "sleepy: an instance suspends in sleep without holding a thread"
show build/sos call sleepy nap 100
echo

caption "kvcount: a counter in a kv store: durable, so it survives restarts (compare-and-swap)"
show build/sos call kvcount hit visits
echo
show build/sos kv ls kvcount/counts

caption "eventlog: a log store; a reader waiting in log_tail is woken by the append"
show build/sos call eventlog add "started at $(date -u +%H:%M:%S)"
echo
show build/sos log tail eventlog/events -n 3

caption "greeter: a typed interface (app.sos declares it; sos build generates the C)"
show build/sos describe greeter
show build/sos call greeter hello '{"name":"ada","times":2,"mood":"happy"}'
caption "greeter-client: calls it through the generated stub, two futures at once"
show build/sos call greeter-client moods ada
echo

caption "guestbook: a web app behind the node's HTTP gateway (a table of entries, a kv counter)"
show curl -s -X POST http://127.0.0.1:8080/api/entries \
  -d "{\"name\":\"SOS\",\"message\":\"the node started at $(date -u +%H:%M:%S) UTC\"}"
show curl -s http://127.0.0.1:8080/api/stats
echo "  Open http://127.0.0.1:8080/ in a browser to sign it."

caption "The node's services and a log"
show build/sos ps
show build/sos logs hello -n 5

caption "Next"
cat <<'NEXT'
  build/sos --help                     every command (each has --help)
  build/sos call time now              a typed built-in service (also: services list,
                                       logs tail '{"service":"hello"}')
  build/sos deploy apps/crash && build/sos call crash trap
                                       a trap fails one call; the instance is replaced
  build/sos rollback hello             back to the previous version after a redeploy
  build/sos snapshot kvcount           save a service's stores (sos restore brings them back)
  http://127.0.0.1:8080/               the guestbook (docs/http.md: routes, limits, access log)
  build/sos node stop                  stop the node (a restart brings every service back)
  apps/*/README.md                     the example apps; sdk/README.md to write your own
  build/sos wasm run build/examples/hello.wasm SOS
                                       the engine alone, running a WASI program
NEXT

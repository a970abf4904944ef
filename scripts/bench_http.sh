#!/usr/bin/env bash
# scripts/bench_http.sh - the HTTP gateway's benchmark (part of `make
# bench`; not a test: it asserts nothing about speed).
#
# In one run, on 127.0.0.1, with wrk (2 threads, 64 connections, 5 s
# each, after a 1 s warm-up):
#   nginx          an equivalent static page: the guestbook's own HTML,
#                  saved to a file, and its JSON, served by Debian's nginx
#                  (2 workers, access log on, as the gateway keeps one)
#   guestbook /    the dynamic page: the visit counter's in-place add
#                  (queued for the next commit), a read of the counter and
#                  the page rendered around it, per request
#   guestbook api  GET /api/entries: the JSON read path (no write)
# and prints requests/s, p99 latency and the ratio to nginx.  Then the
# Slack bot's event endpoint for verified events (each signed, distinct:
# bench/http/slack_load.js), its p50 and p99.
# Environment: B (build folder), HTTP_BENCH_SECONDS (default 5).
set -uo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
SECS=${HTTP_BENCH_SECONDS:-5}
SOS=$(pwd)/$B/sos
tmp=$(mktemp -d)
export SOS_HOME=$tmp/node
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  [ -f "$tmp/nginx.pid" ] && kill "$(cat "$tmp/nginx.pid" 2>/dev/null)" 2>/dev/null
  [ -f "$SOS_HOME/sosd.lock" ] && kill -9 "$(cat "$SOS_HOME/sosd.lock" 2>/dev/null)" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
for tool in wrk nginx node; do
  command -v "$tool" >/dev/null || { echo "bench_http: $tool is missing (scripts/deps.sh)"; exit 1; }
done
make -s B="$B" "$B/sos" "$B/sosd" || exit 1
source tests/lib/double.sh
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# ---- the node, the guestbook with 20 entries, the bot ------------------------------------
PORT=$(free_port)
$SOS node start --http "127.0.0.1:$PORT" >/dev/null || exit 1
$SOS deploy apps/guestbook >/dev/null || exit 1
for i in $(seq 20); do
  curl -s -o /dev/null -X POST "http://127.0.0.1:$PORT/api/entries" \
    -d "{\"name\":\"visitor $i\",\"message\":\"entry number $i, a line of text\"}"
done

# ---- nginx with the same bytes ------------------------------------------------------------
mkdir -p "$tmp/www/api"
curl -s "http://127.0.0.1:$PORT/" >"$tmp/www/index.html"
curl -s "http://127.0.0.1:$PORT/api/entries" >"$tmp/www/api/entries"
NPORT=$(free_port)
cat >"$tmp/nginx.conf" <<EOF
user root;
worker_processes 2;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log $tmp/nginx-access.log;
  client_body_temp_path $tmp/body;
  proxy_temp_path $tmp/proxy;
  fastcgi_temp_path $tmp/fastcgi;
  uwsgi_temp_path $tmp/uwsgi;
  scgi_temp_path $tmp/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$NPORT;
    root $tmp/www;
    location = /api/entries { default_type application/json; }
    location / { default_type text/html; }
  }
}
EOF
nginx -c "$tmp/nginx.conf" -g 'daemon off;' 2>>"$tmp/nginx-error.log" &
pids+=($!)
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$NPORT/" && break; sleep 0.1; done

# run URL: "RPS P99_MS" from wrk.
run() {
  wrk -t2 -c64 -d1s "$1" >/dev/null 2>&1
  wrk -t2 -c64 -d"${SECS}s" --latency "$1" 2>/dev/null | awk '
    /Requests\/sec/ { rps = $2 }
    $1 == "99%" { v = $2; ms = v + 0; if (v ~ /us$/) ms /= 1000; else if (v ~ /[^m]s$/) ms *= 1000
                  p99 = ms }
    END { printf "%.0f %.2f\n", rps, p99 }'
}
read -r n_rps n_p99 < <(run "http://127.0.0.1:$NPORT/")
read -r p_rps p_p99 < <(run "http://127.0.0.1:$PORT/")
read -r na_rps na_p99 < <(run "http://127.0.0.1:$NPORT/api/entries")
read -r a_rps a_p99 < <(run "http://127.0.0.1:$PORT/api/entries")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf (b > 0 ? "%.2f" : "-"), a / b }'; }

echo
echo "HTTP gateway (wrk -t2 -c64, ${SECS} s, 127.0.0.1; page $(wc -c <"$tmp/www/index.html") bytes)"
printf "  %-34s %10s %10s %10s   %s\n" "" "req/s" "p99 ms" "vs nginx" "target"
printf "  %-34s %10s %10s %10s\n" "nginx: the page as a static file" "$n_rps" "$n_p99" "1.00"
printf "  %-34s %10s %10s %10s   %s\n" "guestbook GET / (query + a write)" "$p_rps" "$p_p99" \
  "$(ratio "$p_rps" "$n_rps")" ">= 0.50, p99 < 10 ms"
printf "  %-34s %10s %10s %10s\n" "nginx: the JSON as a static file" "$na_rps" "$na_p99" "1.00"
printf "  %-34s %10s %10s %10s   %s\n" "guestbook GET /api/entries" "$a_rps" "$a_p99" \
  "$(ratio "$a_rps" "$na_rps")" ">= 0.50, p99 < 10 ms"

# ---- the Slack bot: verified events ----------------------------------------------------------
start_double "$tmp/slack.log"
pids+=("$DOUBLE_PID")
slackbot_def "$tmp/bot" "$DOUBLE_PORT"
printf 'bench-secret' | $SOS secret set SLACK_SIGNING_SECRET >/dev/null
printf 'xoxb-bench' | $SOS secret set SLACK_BOT_TOKEN >/dev/null
$SOS deploy "$tmp/bot" >/dev/null || exit 1
node bench/http/slack_load.js "$PORT" bench-secret 200 8 >/dev/null # warm-up
line=$(node bench/http/slack_load.js "$PORT" bench-secret 2000 8)
printf "  %-34s %10s %10s   %s\n" "slack event (verified), 8 at a time" \
  "p50 $(sed -E 's/.*p50_ms=([^ ]*).*/\1/' <<<"$line")" "p99 $(sed -E 's/.*p99_ms=([^ ]*).*/\1/' <<<"$line")" \
  "($(sed -E 's/.*(events=[0-9]+ failed=[0-9]+).*/\1/' <<<"$line"); Slack allows 3000 ms)"
$SOS node stop >/dev/null

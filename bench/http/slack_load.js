// bench/http/slack_load.js - latency of the Slack bot's event endpoint for
// verified events: sends N distinct events (each signed as Slack signs,
// with its own event_id, so none is a replay), C at a time over
// keep-alive connections, and prints the latencies' percentiles.
//
//   node bench/http/slack_load.js PORT SECRET N C
'use strict';
const http = require('http');
const crypto = require('crypto');
const [port, secret, total, conc] = [Number(process.argv[2]), process.argv[3],
                                     Number(process.argv[4]), Number(process.argv[5])];
const agent = new http.Agent({ keepAlive: true, maxSockets: conc });
let sent = 0, done = 0, failed = 0;
const took = [];
function one() {
  if (sent >= total) return;
  const i = sent++;
  const body = JSON.stringify({ type: 'event_callback', event_id: `EvBench${i}-${process.pid}`,
    event: { type: 'app_mention', user: 'U2', text: `<@U${i % 50}> ++`, channel: 'C1' } });
  const ts = Math.floor(Date.now() / 1000);
  const sig = 'v0=' + crypto.createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex');
  const t0 = process.hrtime.bigint();
  const req = http.request({ host: '127.0.0.1', port, path: '/slack/events', method: 'POST', agent,
    headers: { 'content-type': 'application/json', 'x-slack-request-timestamp': ts,
               'x-slack-signature': sig, 'content-length': Buffer.byteLength(body) } }, (res) => {
    res.resume();
    res.on('end', () => {
      took.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (res.statusCode !== 200) failed++;
      if (++done === total) report(); else one();
    });
  });
  req.on('error', () => { failed++; if (++done === total) report(); else one(); });
  req.end(body);
}
function report() {
  took.sort((a, b) => a - b);
  const p = (q) => took[Math.min(took.length - 1, Math.floor(q * took.length))].toFixed(2);
  console.log(`events=${total} failed=${failed} p50_ms=${p(0.5)} p99_ms=${p(0.99)} max_ms=${took[took.length - 1].toFixed(2)}`);
  agent.destroy();
}
for (let i = 0; i < conc; i++) one();

// tests/lib/double.js - a stand-in for an outside HTTP API, for the tests
// of the http built-in (egress) and of the Slack bot: a real HTTP (or,
// given a certificate, HTTPS) server on 127.0.0.1 that records every
// request it gets and answers by path.
//
//   node tests/lib/double.js LOG [CERT KEY]
//
// prints the port it listens on (any free one), then serves until it is
// killed, or for at most 10 minutes.  Each request is one JSON line in
// LOG: {"method","url","headers","body"}.  Paths:
//   /ok                 200 {"ok":true}, header x-double: yes
//   /status/N           status N
//   /slow               200 after 3 s
//   /big/N              N bytes of "b"
//   /redirect           302 to http://example.com/
//   /api/chat.postMessage  200 {"ok":true} (Slack's answer); after 2 s for
//                       channel CSLOW
//   anything else       200, the request echoed: METHOD URL, then the body
'use strict';
const fs = require('fs');
const [log, cert, key] = process.argv.slice(2);
function handle(req, res) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    fs.appendFileSync(log, JSON.stringify({ method: req.method, url: req.url,
                                            headers: req.headers, body }) + '\n');
    const u = req.url;
    if (u === '/api/chat.postMessage' && body.includes('"channel":"CSLOW"')) {
      setTimeout(() => { res.writeHead(200, { 'content-type': 'application/json' });
                         res.end('{"ok":true}'); }, 2000);
    } else if (u === '/ok' || u === '/api/chat.postMessage') {
      res.writeHead(200, { 'content-type': 'application/json', 'x-double': 'yes' });
      res.end('{"ok":true}');
    } else if (u.startsWith('/status/')) {
      res.writeHead(Number(u.slice(8)) || 500);
      res.end('status ' + u.slice(8));
    } else if (u === '/slow') {
      setTimeout(() => { res.writeHead(200); res.end('slow'); }, 3000);
    } else if (u.startsWith('/big/')) {
      res.writeHead(200);
      res.end('b'.repeat(Number(u.slice(5))));
    } else if (u === '/redirect') {
      res.writeHead(302, { location: 'http://example.com/' });
      res.end();
    } else {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(req.method + ' ' + u + '\n' + body);
    }
  });
}
const server = cert
  ? require('https').createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, handle)
  : require('http').createServer(handle);
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
setTimeout(() => process.exit(0), 600000).unref();

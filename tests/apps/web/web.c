/*
 * web.c - the test service of the HTTP gateway (tests/kernel.sh).
 *
 * page answers by path:
 *   /              200 "hello from web", text/plain
 *   /echo          200, the body "METHOD PATH?QUERY prefix=P host=H n=N"
 *                  then a line per header ("name: value") and the body;
 *                  sets x-echo: yes
 *   /status/N      status N, body "status N"
 *   /big/N         N bytes of 'x'
 *   /slow          sleeps 3 s (longer than the service's 1 s timeout)
 *   /trap          traps
 *   /bad-header    a header whose value holds CR LF (response splitting)
 *   /bad-name      a header whose name holds a space
 *   /framing       tries to set its own Content-Length and Connection
 * other answers "other NAME" for the route that chose it (a host route
 * or a longer prefix).
 */
#include "sos.h"
#include "web.sos.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is(sos_text t, const char *s) {
  return t.len == strlen(s) && memcmp(t.p, s, t.len) == 0;
}

static bool starts(sos_text t, const char *s) {
  return t.len >= strlen(s) && memcmp(t.p, s, strlen(s)) == 0;
}

/* text copied into the arena */
static sos_text text(sos_arena *a, const char *s, size_t n) {
  char *p = sos_arena_alloc(a, n ? n : 1);
  if (p && n) memcpy(p, s, n);
  return (sos_text){p, (uint32_t)n};
}

static void header(sos_HttpResponse *resp, sos_arena *a, const char *name, const char *value) {
  sos_HttpHeader *h = sos_arena_alloc(a, (resp->headers.n + 1) * sizeof *h);
  if (!h) return;
  if (resp->headers.n) memcpy(h, resp->headers.items, resp->headers.n * sizeof *h);
  h[resp->headers.n] = (sos_HttpHeader){text(a, name, strlen(name)), text(a, value, strlen(value))};
  resp->headers.items = h;
  resp->headers.n++;
}

static void body(sos_HttpResponse *resp, sos_arena *a, const char *s, size_t n) {
  sos_text t = text(a, s, n);
  resp->body = (sos_bytes){(const uint8_t *)t.p, t.len};
}

static int echo(const sos_HttpRequest *req, sos_HttpResponse *resp, sos_arena *a) {
  size_t cap = 1024 + req->body.len + req->path.len + req->query.len;
  for (uint32_t i = 0; i < req->headers.n; i++)
    cap += req->headers.items[i].name.len + req->headers.items[i].value.len + 4;
  char *out = sos_arena_alloc(a, cap);
  if (!out) return -SOS_STATUS_TOO_BIG;
  int n = snprintf(out, cap, "%.*s %.*s%s%.*s prefix=%.*s host=%.*s n=%u\n",
                   (int)req->method.len, req->method.p, (int)req->path.len, req->path.p,
                   req->query.len ? "?" : "", (int)req->query.len, req->query.p,
                   (int)req->prefix.len, req->prefix.p, (int)req->host.len, req->host.p,
                   (unsigned)req->body.len);
  for (uint32_t i = 0; i < req->headers.n; i++) {
    const sos_HttpHeader *h = &req->headers.items[i];
    n += snprintf(out + n, cap - (size_t)n, "%.*s: %.*s\n", (int)h->name.len, h->name.p,
                  (int)h->value.len, h->value.p);
  }
  memcpy(out + n, req->body.p, req->body.len);
  resp->body = (sos_bytes){(const uint8_t *)out, (uint32_t)(n + (int)req->body.len)};
  header(resp, a, "x-echo", "yes");
  return 0;
}

int web_Web_page_serve(const sos_HttpRequest *req, sos_HttpResponse *resp, sos_arena *a) {
  sos_text p = req->path;
  char buf[64];
  if (is(p, "/")) {
    header(resp, a, "Content-Type", "text/plain; charset=utf-8");
    body(resp, a, "hello from web\n", 15);
  } else if (is(p, "/echo")) {
    return echo(req, resp, a);
  } else if (starts(p, "/status/")) {
    resp->status = (uint32_t)atoi((const char *)p.p + 8);
    int n = snprintf(buf, sizeof buf, "status %u\n", resp->status);
    body(resp, a, buf, (size_t)n);
  } else if (starts(p, "/big/")) {
    size_t n = (size_t)atol((const char *)p.p + 5);
    char *x = sos_arena_alloc(a, n ? n : 1);
    if (!x) return -SOS_STATUS_TOO_BIG;
    memset(x, 'x', n);
    resp->body = (sos_bytes){(const uint8_t *)x, (uint32_t)n};
  } else if (is(p, "/slow")) {
    sos_sleep_ms(3000);
  } else if (is(p, "/trap")) {
    __builtin_trap();
  } else if (is(p, "/bad-header")) {
    header(resp, a, "x-evil", "a\r\nSet-Cookie: stolen=1");
  } else if (is(p, "/bad-name")) {
    header(resp, a, "x evil", "1");
  } else if (is(p, "/framing")) {
    header(resp, a, "Content-Length", "999");
    header(resp, a, "Connection", "close");
    body(resp, a, "framed by the gateway\n", 22);
  } else {
    resp->status = 404;
    body(resp, a, "no such page\n", 13);
  }
  return 0;
}

int web_Web_other_serve(const sos_HttpRequest *req, sos_HttpResponse *resp, sos_arena *a) {
  char buf[128];
  int n = snprintf(buf, sizeof buf, "other %.*s%.*s\n", (int)req->host.len, req->host.p,
                   (int)req->path.len, req->path.p);
  body(resp, a, buf, (size_t)n);
  return 0;
}

void sos_main(void) { web_Web_register(); }

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
 *   /sha256        hex SHA-256 of the body (crypto.sha256)
 *   /hmac          hex HMAC-SHA256 of the body keyed with the secret
 *                  WEB_KEY by name (crypto.hmac_sha256 with secret)
 *   /hmac-other    the same with OTHER_KEY, which web does not declare
 *   /secret        "WEB_KEY has N bytes" (secrets.get), or the error
 *   /secret-other  secrets.get of OTHER_KEY: not_declared
 *   /equal         "equal" or "different": the body's two halves compared
 *                  in constant time (crypto.equal)
 *   /random/N      N random bytes, hex (crypto.random)
 *   /stream/N      a stream (respond_part): the head and "part 1", then
 *                  "part 2" ... each after 300 ms; the last part is the
 *                  answer's body.  A caller that takes answers whole gets
 *                  the same body in one answer
 *   /stream-trap   a stream whose handler traps after its first part
 *   /fetch?URL     the http built-in's fetch of URL (the request's method,
 *                  body and x-fwd header passed on; max_bytes and
 *                  timeout_ms from the x-max and x-timeout headers): "STATUS\nname: value...\n\nBODY", or the
 *                  error
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

/* The body: data as hex, or the error of the last call. */
static int hex_or_error(sos_HttpResponse *resp, sos_arena *a, int rc, sos_bytes data) {
  if (rc) {
    const char *msg = sos_wire_last_error()->message;
    size_t cap = strlen(msg) + 64;
    char *out = sos_arena_alloc(a, cap);
    if (!out) return -SOS_STATUS_TOO_BIG;
    resp->status = 500;
    int len = snprintf(out, cap, "error %d: %s\n", rc, msg);
    resp->body = (sos_bytes){(const uint8_t *)out, (uint32_t)len};
    return 0;
  }
  char *out = sos_arena_alloc(a, data.len * 2 + 2);
  if (!out) return -SOS_STATUS_TOO_BIG;
  for (uint32_t i = 0; i < data.len; i++) snprintf(out + 2 * i, 3, "%02x", data.p[i]);
  out[2 * data.len] = '\n';
  resp->body = (sos_bytes){(const uint8_t *)out, data.len * 2 + 1};
  return 0;
}

/* The value of request header name, or an empty text. */
static sos_text header_of(const sos_HttpRequest *req, const char *name) {
  for (uint32_t i = 0; i < req->headers.n; i++)
    if (is(req->headers.items[i].name, name)) return req->headers.items[i].value;
  return (sos_text){0};
}

static int fetch(const sos_HttpRequest *req, sos_HttpResponse *resp, sos_arena *a) {
  sos_HttpHeader fwd = {SOS_TEXT("x-fwd"), header_of(req, "x-fwd")};
  sos_text max = header_of(req, "x-max"), tmo = header_of(req, "x-timeout");
  char num[16] = "", ms[16] = "";
  if (max.len && max.len < sizeof num) memcpy(num, max.p, max.len);
  if (tmo.len && tmo.len < sizeof ms) memcpy(ms, tmo.p, tmo.len);
  sos_Fetch in = {.method = req->method, .url = req->query, .body = req->body,
                  .max_bytes = (uint32_t)atoi(num), .timeout_ms = (uint32_t)atoi(ms)};
  if (fwd.value.len) in.headers = (sos_HttpHeader_list){&fwd, 1};
  sos_HttpResponse got = {0};
  int rc = sos_HttpClient_fetch(sos_HttpClient_at("http"), &in, &got, a);
  if (rc) return hex_or_error(resp, a, rc, (sos_bytes){0});
  size_t cap = 64 + got.body.len;
  for (uint32_t i = 0; i < got.headers.n; i++)
    cap += got.headers.items[i].name.len + got.headers.items[i].value.len + 4;
  char *out = sos_arena_alloc(a, cap);
  if (!out) return -SOS_STATUS_TOO_BIG;
  int n = snprintf(out, cap, "%u\n", got.status);
  for (uint32_t i = 0; i < got.headers.n; i++) {
    const sos_HttpHeader *h = &got.headers.items[i];
    n += snprintf(out + n, cap - (size_t)n, "%.*s: %.*s\n", (int)h->name.len, h->name.p,
                  (int)h->value.len, h->value.p);
  }
  out[n++] = '\n';
  memcpy(out + n, got.body.p, got.body.len);
  resp->body = (sos_bytes){(const uint8_t *)out, (uint32_t)n + got.body.len};
  return 0;
}

/* The paths that use the crypto and secrets built-ins; 1 when none matched. */
static int builtins(const sos_HttpRequest *req, sos_HttpResponse *resp, sos_arena *a) {
  sos_text p = req->path;
  sos_Crypto crypto = sos_Crypto_at("crypto");
  sos_Digest d = {0};
  if (is(p, "/sha256")) {
    sos_Data in = {.data = req->body};
    return hex_or_error(resp, a, sos_Crypto_sha256(crypto, &in, &d, a), d.digest);
  }
  if (is(p, "/hmac") || is(p, "/hmac-other")) {
    sos_HmacReq in = {.data = req->body, .secret = is(p, "/hmac") ? SOS_TEXT("WEB_KEY")
                                                                  : SOS_TEXT("OTHER_KEY")};
    return hex_or_error(resp, a, sos_Crypto_hmac_sha256(crypto, &in, &d, a), d.digest);
  }
  if (is(p, "/secret") || is(p, "/secret-other")) {
    sos_SecretName in = {.name = is(p, "/secret") ? SOS_TEXT("WEB_KEY") : SOS_TEXT("OTHER_KEY")};
    sos_SecretValue v = {0};
    int rc = sos_Secrets_get(sos_Secrets_at("secrets"), &in, &v, a);
    if (rc) return hex_or_error(resp, a, rc, v.value);
    char *out = sos_arena_alloc(a, 64);
    if (!out) return -SOS_STATUS_TOO_BIG;
    int n = snprintf(out, 64, "WEB_KEY has %u bytes\n", v.value.len);
    resp->body = (sos_bytes){(const uint8_t *)out, (uint32_t)n};
    return 0;
  }
  if (is(p, "/equal")) {
    uint32_t half = req->body.len / 2;
    sos_EqualReq in = {.a = {req->body.p, half}, .b = {req->body.p + half, req->body.len - half}};
    sos_Equal eq = {0};
    int rc = sos_Crypto_equal(crypto, &in, &eq, a);
    if (rc) return hex_or_error(resp, a, rc, (sos_bytes){0});
    const char *word = eq.equal ? "equal\n" : "different\n";
    resp->body = (sos_bytes){(const uint8_t *)word, (uint32_t)strlen(word)};
    return 0;
  }
  if (is(p, "/fetch")) return fetch(req, resp, a);
  if (starts(p, "/random/")) {
    sos_RandomReq in = {.n = (uint32_t)atoi((const char *)p.p + 8)};
    sos_Data out = {0};
    return hex_or_error(resp, a, sos_Crypto_random(crypto, &in, &out, a), out.data);
  }
  return 1;
}

/* /stream/N: parts "part I\n"; the last one is the answer's body. */
static int stream(int n, bool trap, sos_HttpResponse *resp, sos_arena *a) {
  char line[32];
  size_t whole = 0;
  char *all = sos_arena_alloc(a, (size_t)n * sizeof line + 1);
  if (!all) return SOS_STATUS_TOO_BIG;
  header(resp, a, "Content-Type", "text/plain; charset=utf-8");
  bool streaming = true;
  for (int i = 1; i <= n; i++) {
    int len = snprintf(line, sizeof line, "part %d\n", i);
    if (i == n || !streaming) { /* the answer: the rest */
      memcpy(all + whole, line, (size_t)len);
      whole += (size_t)len;
      continue;
    }
    int st;
    if (i == 1) { /* the head and the first bytes, as an HttpResponse */
      uint8_t buf[256];
      sos_wbuf w;
      sos_wbuf_init(&w, buf, sizeof buf);
      resp->body = (sos_bytes){(const uint8_t *)line, (uint32_t)len};
      st = sos_HttpResponse_encode(resp, &w) ? SOS_STATUS_TOO_BIG
                                              : sos_respond_part(w.p, w.len);
      sos_wbuf_free(&w);
    } else {
      st = sos_respond_part(line, (size_t)len);
    }
    if (st) { /* the caller takes the answer whole */
      streaming = false;
      memcpy(all + whole, line, (size_t)len);
      whole += (size_t)len;
      continue;
    }
    if (trap) __builtin_trap();
    sos_sleep_ms(300);
  }
  resp->body = (sos_bytes){(const uint8_t *)all, (uint32_t)whole};
  return 0;
}

int web_Web_page_serve(const sos_HttpRequest *req, sos_HttpResponse *resp, sos_arena *a) {
  sos_text p = req->path;
  char buf[64];
  int rc = builtins(req, resp, a);
  if (rc <= 0) return rc;
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
  } else if (starts(p, "/stream/")) {
    return stream(atoi((const char *)p.p + 8), false, resp, a);
  } else if (is(p, "/stream-trap")) {
    return stream(3, true, resp, a);
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

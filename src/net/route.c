/*
 * route.c - from an HTTP request to a service call and back.
 *
 * Routes are not kept in a table of their own: each current version's
 * definition has its `http` routes (include/sos/app.h), and a request
 * looks through them under k->mu.  A node runs tens of services, so the
 * walk costs less than keeping a second copy right across deploys,
 * rollbacks and removals.  The best route is the one whose host matches
 * (over one for any host), then the longest prefix.
 *
 * The request travels as an HttpRequest of package sos
 * (src/lang/builtins.c) in the wire format (docs/wire.md), written here
 * field by field; the answer is walked with sos_idl_next after
 * sos_idl_check has vetted it against HttpResponse.  Everything the
 * service answers is checked before it reaches the client: a status
 * outside 200..599, or a header whose name is not a token or whose value
 * holds CR, LF or NUL (response splitting), turns the answer into 502.
 * The gateway writes the framing headers itself (Content-Length,
 * Connection, Date, Server), so a service cannot make a response whose
 * framing disagrees with its body.
 */
#include "net/net.h"

#include <http_parser.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- the request ------------------------------------------------------------- */

int sos__net_split_url(const char *url, size_t len, struct sos__net_request *in) {
  if (len == 1 && url[0] == '*') { /* OPTIONS * */
    in->path = url;
    in->path_len = 1;
    return 0;
  }
  if (len && url[0] != '/') { /* absolute-form: skip "scheme://authority" */
    struct http_parser_url u;
    http_parser_url_init(&u);
    if (http_parser_parse_url(url, len, 0, &u) || !(u.field_set & (1 << UF_HOST))) return -1;
    size_t at = (u.field_set & (1 << UF_PATH)) ? u.field_data[UF_PATH].off : len;
    if (at == len) { /* "http://host" means "/" */
      in->path = "/";
      in->path_len = 1;
      const char *q = memchr(url, '?', len);
      if (q) in->query = q + 1, in->query_len = (size_t)(url + len - q - 1);
      return 0;
    }
    url += at;
    len -= at;
  }
  if (!len || url[0] != '/') return -1;
  const char *hash = memchr(url, '#', len);
  if (hash) len = (size_t)(hash - url);
  const char *q = memchr(url, '?', len);
  in->path = url;
  in->path_len = q ? (size_t)(q - url) : len;
  in->query = q ? q + 1 : NULL;
  in->query_len = q ? (size_t)(url + len - q - 1) : 0;
  return 0;
}

/* How well route rt of service s fits in: 0 not at all, else higher is
 * better (a host match, then the prefix's length). */
static size_t fit(const struct sos_app_route *rt, const struct sos__net_request *in) {
  size_t plen = strlen(rt->prefix);
  if (plen > in->path_len || memcmp(rt->prefix, in->path, plen) != 0) return 0;
  if (rt->host) {
    size_t hl = strlen(rt->host);
    if (hl != in->host_len || strncasecmp(rt->host, in->host, hl) != 0) return 0;
    return plen + 1 + 4096; /* any host match beats any prefix length */
  }
  return plen + 1;
}

/* The service and route that fit in best (k->mu held), or NULL. */
static struct svc *best_route(struct kernel *k, const struct sos__net_request *in,
                              const struct sos_app_route **route) {
  struct svc *best = NULL;
  size_t best_fit = 0;
  for (struct svc *s = k->svcs; s; s = s->next) {
    if (s->removed || !s->cur) continue;
    const struct sos_app *app = s->cur->img->app;
    for (uint32_t i = 0; i < app->nroutes; i++) {
      const struct sos_app_route *rt = &app->routes[i];
      if (strcmp(rt->service, s->name) != 0) continue;
      size_t f = fit(rt, in);
      if (f > best_fit) best = s, best_fit = f, *route = rt;
    }
  }
  return best;
}

/* The wire bytes of in as an HttpRequest whose route has prefix. */
static int encode_request(const struct sos__net_request *in, const char *prefix,
                          struct sos_buf *b) {
  struct sos_buf list = {0};
  sos_idl_put_bytes(b, 1, in->method, strlen(in->method));
  sos_idl_put_bytes(b, 2, in->path, in->path_len);
  if (in->query_len) sos_idl_put_bytes(b, 3, in->query, in->query_len);
  for (uint32_t i = 0; i < in->nh; i++) {
    struct sos_buf e = {0};
    sos_idl_put_bytes(&e, 1, in->hbuf + in->h[i].name, in->h[i].nlen);
    if (in->h[i].vlen) sos_idl_put_bytes(&e, 2, in->hbuf + in->h[i].value, in->h[i].vlen);
    sos_idl_put_inner(&list, 0, &e);
  }
  sos_idl_put_inner(b, 4, &list);
  if (in->body_len) sos_idl_put_bytes(b, 5, in->body, in->body_len);
  if (in->host_len) sos_idl_put_bytes(b, 6, in->host, in->host_len);
  sos_idl_put_bytes(b, 7, in->remote, strlen(in->remote));
  sos_idl_put_bytes(b, 8, prefix, strlen(prefix));
  return b->rc;
}

int sos__net_route(struct kernel *k, const struct sos__net_request *in, int req_type,
                   struct req **out, char *msg, size_t msglen) {
  const struct sos_app_route *rt = NULL;
  struct svc *s = best_route(k, in, &rt);
  *out = NULL;
  if (!s) {
    snprintf(msg, msglen, "no route for %.*s", (int)(in->path_len < 200 ? in->path_len : 200),
             in->path);
    return 404;
  }
  if (k->stopping) return snprintf(msg, msglen, "the node is shutting down"), 503;
  struct sos_buf b = {0};
  char why[300];
  if (encode_request(in, rt->prefix, &b)) {
    sos_buf_free(&b);
    return snprintf(msg, msglen, "out of memory"), 503;
  }
  if (sos_idl_check(k->sos_idl, req_type, b.p, b.len, why, sizeof why)) {
    sos_buf_free(&b);
    snprintf(msg, msglen, "the request cannot be passed on: %s", why);
    return 400;
  }
  struct req *r = sos__k_req_new(rt->method, strlen(rt->method), b.p, b.len);
  sos_buf_free(&b);
  if (!r) return snprintf(msg, msglen, "out of memory"), 503;
  r->svc = s;
  r->deadline = sos__k_now() + s->cur->def->timeout_ms * 1000000u;
  *out = r;
  return 0;
}

/* ---- the response -------------------------------------------------------------- */

/* The reason phrase of status (RFC 9110 §15), "" for one without a name here. */
static const char *reason(unsigned status) {
  switch (status) {
  case 100: return "Continue";
  case 200: return "OK";
  case 201: return "Created";
  case 202: return "Accepted";
  case 204: return "No Content";
  case 301: return "Moved Permanently";
  case 302: return "Found";
  case 303: return "See Other";
  case 304: return "Not Modified";
  case 307: return "Temporary Redirect";
  case 308: return "Permanent Redirect";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 408: return "Request Timeout";
  case 409: return "Conflict";
  case 413: return "Content Too Large";
  case 414: return "URI Too Long";
  case 415: return "Unsupported Media Type";
  case 422: return "Unprocessable Content";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  }
  return "";
}

void sos__net_head_start(struct sos_buf *b, unsigned status, size_t body_len, bool keep) {
  char date[64];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  sos_buf_fmt(b, "HTTP/1.1 %u %s\r\nDate: %s\r\nServer: sos\r\n", status, reason(status), date);
  if (body_len == SOS__NET_CHUNKED) sos_buf_str(b, "Transfer-Encoding: chunked\r\n");
  else sos_buf_fmt(b, "Content-Length: %zu\r\n", body_len);
  if (!keep) sos_buf_str(b, "Connection: close\r\n");
}

bool sos__net_tchar(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Whether name (n bytes) is one of the headers the gateway writes. */
static bool framing(const uint8_t *name, size_t n) {
  static const char *const own[] = {"content-length", "transfer-encoding", "connection",
                                    "date", "server", "keep-alive", NULL};
  for (int i = 0; own[i]; i++)
    if (strlen(own[i]) == n && !strncasecmp(own[i], (const char *)name, n)) return true;
  return false;
}

/* One HttpHeader element (p, n bytes): its name and value, checked. */
static int one_header(const uint8_t *p, size_t n, sos__net_header_fn *each, void *user) {
  const uint8_t *end = p + n, *name = NULL, *value = (const uint8_t *)"";
  size_t nlen = 0, vlen = 0;
  struct sos_idl_item it;
  while (p < end) {
    if (sos_idl_next(&p, end, &it)) return -1;
    if (it.tag == 1) name = it.p, nlen = it.n;
    if (it.tag == 2) value = it.p, vlen = it.n;
  }
  if (!nlen) return -1;
  for (size_t i = 0; i < nlen; i++)
    if (!sos__net_tchar(name[i])) return -1;
  for (size_t i = 0; i < vlen; i++)
    if (value[i] == '\r' || value[i] == '\n' || value[i] == 0) return -1;
  return each(user, name, nlen, value, vlen);
}

int sos__net_headers(const uint8_t *p, size_t n, sos__net_header_fn *each, void *user) {
  const uint8_t *end = p + n;
  while (p < end) {
    uint64_t len = 0;
    unsigned shift = 0;
    while (p < end && shift < 64) { /* the element's length, a varint */
      len |= (uint64_t)(*p & 0x7f) << shift;
      shift += 7;
      if (!(*p++ & 0x80)) break;
    }
    if (len > (uint64_t)(end - p) || one_header(p, (size_t)len, each, user)) return -1;
    p += len;
  }
  return 0;
}

/* Writes one header into the response head (user), unless it is framing. */
static int put_header(void *user, const uint8_t *name, size_t nlen, const uint8_t *value,
                      size_t vlen) {
  struct sos_buf *b = user;
  if (framing(name, nlen)) return 0;
  sos_buf_add(b, name, nlen);
  sos_buf_add(b, ": ", 2);
  sos_buf_add(b, value, vlen);
  sos_buf_add(b, "\r\n", 2);
  return 0;
}

/* A failed call's status for the client. */
static unsigned failed_status(int status) {
  switch (status) {
  case SOS_STATUS_BUSY:
  case SOS_STATUS_UNAVAILABLE:
  case SOS_STATUS_SHUTDOWN: return 503;
  case SOS_STATUS_TIMEOUT: return 504;
  default: return 502;
  }
}

static const char *const status_words[] = {
#define SOS__NET_WORDS(name, val, words) [val] = words,
    SOS_STATUS_MAP(SOS__NET_WORDS)
#undef SOS__NET_WORDS
};

/* Checks the HttpResponse p (n bytes) that r's method answered and
 * writes its head into b, framed by its body's length, or in chunks (a
 * stream); its status, body and body length come back.  0, or -1 with
 * *status and msg saying what to answer. */
static int response_head(const struct sos_idl *idl, int resp_type, const struct req *r,
                         const uint8_t *p, size_t n, bool keep, bool chunked,
                         struct sos_buf *b, unsigned *status, const uint8_t **body,
                         size_t *blen, char *msg, size_t msglen) {
  const char *svc = r->svc ? r->svc->name : "?";
  char why[300];
  if (!idl || sos_idl_check(idl, resp_type, p, n, why, sizeof why)) {
    *status = 502;
    snprintf(msg, msglen, "%s.%s did not answer an HttpResponse: %s", svc, r->method,
             idl ? why : "no schema");
    return -1;
  }
  const uint8_t *end = p + n, *hdrs = NULL;
  size_t hlen = 0;
  uint64_t code = 200;
  struct sos_idl_item it;
  *body = NULL;
  *blen = 0;
  while (p < end && sos_idl_next(&p, end, &it) == 0) {
    if (it.tag == 1) code = it.v ? it.v : 200;
    if (it.tag == 2) hdrs = it.p, hlen = it.n;
    if (it.tag == 3) *body = it.p, *blen = it.n;
  }
  if (code < 200 || code > 599) {
    *status = 502;
    snprintf(msg, msglen, "%s.%s answered status %llu (not 200 to 599)", svc, r->method,
             (unsigned long long)code);
    return -1;
  }
  bool no_body = code == 204 || code == 304;
  if (no_body) *blen = 0;
  sos__net_head_start(b, (unsigned)code, no_body ? 0 : chunked ? SOS__NET_CHUNKED : *blen, keep);
  if (hdrs && sos__net_headers(hdrs, hlen, put_header, b)) {
    sos_buf_free(b);
    *status = 502;
    snprintf(msg, msglen, "%s.%s answered a header the gateway may not send (a name that "
                          "is not a token, or CR, LF or NUL in a value)", svc, r->method);
    return -1;
  }
  sos_buf_add(b, "\r\n", 2);
  *status = (unsigned)code;
  return 0;
}

int sos__net_response(const struct sos_idl *idl, int resp_type, const struct req *r, bool keep,
                      bool head_only, uint8_t **out, size_t *n, unsigned *status,
                      size_t *body_len, char *msg, size_t msglen) {
  if (r->status != SOS_STATUS_OK) {
    *status = failed_status(r->status);
    snprintf(msg, msglen, "%s.%s: %s", r->svc ? r->svc->name : "?", r->method,
             r->status <= SOS_STATUS_LAST ? status_words[r->status] : "failed");
    return -1;
  }
  struct sos_buf b = {0};
  const uint8_t *body;
  size_t blen;
  if (response_head(idl, resp_type, r, r->resp, r->resp_len, keep, false, &b, status, &body,
                    &blen, msg, msglen))
    return -1;
  if (!head_only && blen) sos_buf_add(&b, body, blen);
  *body_len = blen;
  if (sos_buf_finish(&b, (char **)out, n)) {
    *status = 503;
    snprintf(msg, msglen, "out of memory");
    return -1;
  }
  return 0;
}

int sos__net_stream_head(const struct sos_idl *idl, int resp_type, const struct req *r,
                         const uint8_t *p, size_t n, bool keep, uint8_t **out, size_t *outn,
                         unsigned *status, const uint8_t **body, size_t *blen, char *msg,
                         size_t msglen) {
  struct sos_buf b = {0};
  if (response_head(idl, resp_type, r, p, n, keep, true, &b, status, body, blen, msg, msglen))
    return -1;
  if (*status == 204 || *status == 304) { /* no body: no stream either */
    sos_buf_free(&b);
    snprintf(msg, msglen, "%s.%s streamed a %u answer, which has no body",
             r->svc ? r->svc->name : "?", r->method, *status);
    *status = 502;
    return -1;
  }
  if (sos_buf_finish(&b, (char **)out, outn)) {
    *status = 503;
    snprintf(msg, msglen, "out of memory");
    return -1;
  }
  return 0;
}

/* ---- addresses ------------------------------------------------------------------ */

void sos__net_peer(const uv_tcp_t *t, char *buf, size_t n) {
  struct sockaddr_storage sa;
  int len = sizeof sa;
  char ip[64] = "?";
  int port = 0;
  int rc = uv_tcp_getpeername(t, (struct sockaddr *)&sa, &len);
  if (rc) {
    len = sizeof sa;
    rc = uv_tcp_getsockname(t, (struct sockaddr *)&sa, &len);
  }
  if (!rc && sa.ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)&sa;
    uv_ip4_name(a, ip, sizeof ip);
    port = ntohs(a->sin_port);
  } else if (!rc && sa.ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&sa;
    uv_ip6_name(a, ip, sizeof ip);
    port = ntohs(a->sin6_port);
  }
  snprintf(buf, n, "%s:%d", ip, port);
}

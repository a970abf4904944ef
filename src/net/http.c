/*
 * http.c - the HTTP gateway: HTTP/1.1 on a TCP port of the event loop,
 * each request a typed service call (docs/http.md).
 *
 * The parser is Debian's http-parser (RFC 9112 framing: Content-Length,
 * chunked bodies, keep-alive); this file does the rest.  A connection
 * reads into one buffer and runs the parser over it; when a message is
 * complete the parser is paused, reading stops, and the request goes to
 * the kernel as an outside call (struct req, as `sos call` makes) of the
 * method its route names (route.c), with an HttpRequest of package sos as
 * its body.  The answer comes back on the loop (req->answered), is
 * written out, and only then does parsing resume on what is buffered: so
 * pipelined requests are answered in order, one at a time per
 * connection, and a client that sends faster than it reads is held back
 * by TCP rather than by our memory.
 *
 * Limits, each with the answer RFC 9110 gives it: a request line and
 * headers over http_max_head bytes (or over 100 headers) get 431, a body
 * over http_max_body 413 (refused from Content-Length before it is read),
 * a request that does not fully arrive within http_request_timeout_ms
 * 408; each of these, and every request the parser refuses (bad framing:
 * both Content-Length and Transfer-Encoding, two Content-Lengths, one
 * that overflows, a bad chunk; NUL or a bare CR in a header), is answered
 * 400 or its status and the connection closed, so that nothing after an
 * ambiguous message is ever read as a request.  A kept-alive connection
 * idle for http_idle_timeout_ms closes; past http_max_connections new
 * connections get 503.  Each request is one line of DATA/access.log.
 *
 * Connection memory: the handle, its timer, a request in flight and a
 * write in flight each hold a reference; the connection is freed when
 * the last one goes, so a client that disconnects while its service
 * works leaves nothing behind once the answer arrives.
 */
#include "kernel/kernel.h"
#include "net/net.h"

#include <fcntl.h>
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_HEADERS 100
#define MAX_URL 8192
#define HOLD (16 * 1024) /* read no more while a request is in flight and
                            this much is buffered behind it */
#define LOG_BUF 16384    /* access log bytes kept before a write */

enum { S_NONE, S_ON, S_FAILED }; /* a connection's stream */

struct hconn {
  uv_tcp_t tcp;
  uv_timer_t timer;
  struct gateway *g;
  http_parser hp;
  char remote[64];
  char *in; /* received and not yet parsed */
  size_t in_len, in_cap;
  /* the request being read */
  struct sos_buf url, hbuf, body;
  struct sos__net_header h[MAX_HEADERS];
  uint32_t nh;
  bool in_value;   /* the last header callback was a value */
  const char *value_end; /* where that value's bytes ended in this parse */
  bool value_split;      /* ... at the end of the last parse's bytes: its
                            next bytes continue it rather than fold it */
  size_t head;     /* bytes of request line and headers so far */
  int reject;      /* a status to answer before closing (431, 413, 400) */
  bool begun;      /* a message has started */
  bool complete;   /* ... and is complete: the parser is paused */
  /* the request in flight */
  bool busy;
  bool keep;       /* keep the connection after this answer */
  bool head_only;  /* HEAD: headers without the body */
  int stream;      /* the answer as a stream (respond_part): S_* */
  unsigned stream_status; /* ... its status, for the access log */
  size_t streamed; /* ... body bytes sent so far */
  uint64_t t0;
  char line[160];  /* "GET /path" for the access log */
  struct sos__net_tls *tls; /* its TLS state, or NULL */
  uint32_t refs;
  uint32_t writes;  /* writes in flight */
  bool eof;         /* the client has sent all it will: close once answered */
  bool last;        /* the last answer is on its way: read nothing more */
  bool closing;
  bool reading;     /* uv_read_start is in effect */
  struct hconn *prev, *next;
};

/* The gateway runs one lane per worker thread (docs/http.md, "Threads"):
 * the first on sosd's main loop, each other on a loop and thread of its
 * own.  Every lane listens on the same socket (a dup of the first's), so
 * whichever is free accepts the next connection, and serves its
 * connections from start to end, running the instance that answers a
 * request on its own thread when it can (sos__k_help_begin).  What the
 * lanes share is the first lane's: the address, the TLS context, the
 * access log's file and the count of connections. */
struct gateway {
  struct kernel *k;
  struct lane *lane;       /* the loop this lane delivers answers on */
  struct gateway *first;   /* the first lane (itself for the first) */
  uv_loop_t *loop;
  uv_tcp_t listen;
  bool listening;
  char address[96];
  struct hconn *conns;
  uint32_t nconns;
  /* lanes after the first: their own loop, thread and orders */
  struct lane own;
  uv_loop_t own_loop;
  pthread_t thread;
  uv_async_t order;        /* from the main loop: see `orders` */
  _Atomic int orders;      /* 1: stop listening, 2: close everything */
  /* the first lane's: the others, and what all share */
  struct gateway **more;
  uint32_t nmore;
  _Atomic uint32_t conns_all;
  int log_fd;
  struct sos_buf log;      /* access log lines not yet written */
  uv_check_t log_flush;    /* ... written at the end of each loop iteration */
  time_t log_sec;          /* the second log_when names */
  char log_when[32];
  int req_type, resp_type; /* HttpRequest and HttpResponse in k->sos_idl */
  http_parser_settings settings;
  void *tls;               /* the TLS context (tls.c), or NULL: plain HTTP */
  uint8_t scratch[65536];  /* TLS: what one read got, before decryption */
};

/* ---- connection lifetime ------------------------------------------------------ */

static void unref(struct hconn *c) {
  if (--c->refs) return;
  struct gateway *g = c->g;
  if (c->prev) c->prev->next = c->next; else g->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  g->nconns--;
  g->first->conns_all--;
  sos__net_tls_free(c->tls);
  sos_free(c->in);
  sos_buf_free(&c->url);
  sos_buf_free(&c->hbuf);
  sos_buf_free(&c->body);
  sos_free(c);
}

static void on_handle_closed(uv_handle_t *h) { unref(h->data); }

static void conn_close(struct hconn *c) {
  if (c->closing) return;
  c->closing = true;
  uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
  uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

static void on_timeout(uv_timer_t *t);
static void on_alloc(uv_handle_t *h, size_t want, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

/* (Re)starts the connection's one timer: ms from now. */
static void arm(struct hconn *c, uint64_t ms) {
  if (!c->closing) uv_timer_start(&c->timer, on_timeout, ms, 0);
}

/* ---- writing ------------------------------------------------------------------ */

struct hwrite {
  uv_write_t w;
  struct hconn *c;
  bool close_after;
  uint8_t *data;
};

static void on_written(uv_write_t *w, int status);

/* Writes data (taken over; ciphertext when TLS) to c's socket. */
static void send_raw(struct hconn *c, uint8_t *data, size_t n, bool close_after) {
  struct hwrite *wr = data && n ? sos_calloc(1, sizeof *wr) : NULL;
  if (!data || !n) {
    sos_free(data);
    if (close_after) conn_close(c);
    return;
  }
  if (!wr || c->closing) {
    sos_free(wr);
    sos_free(data);
    conn_close(c);
    return;
  }
  wr->c = c;
  wr->close_after = close_after;
  wr->data = data;
  c->refs++;
  c->writes++;
  uv_buf_t b = uv_buf_init((char *)data, (unsigned)n);
  if (uv_write(&wr->w, (uv_stream_t *)&c->tcp, &b, 1, on_written)) {
    c->refs--;
    c->writes--;
    sos_free(data);
    sos_free(wr);
    conn_close(c);
  }
}

static void on_alloc(uv_handle_t *h, size_t want, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

/* Starts or stops reading c (each a system call, so only on a change). */
static void reading(struct hconn *c, bool on) {
  if (c->reading == on || c->closing) return;
  c->reading = on;
  if (on) uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
  else uv_read_stop((uv_stream_t *)&c->tcp);
}

/* Sends data (taken over) on c; closes c once it is written when
 * close_after, else resumes reading the next request. */
static void send_bytes(struct hconn *c, uint8_t *data, size_t n, bool close_after) {
  if (close_after) {
    c->last = true;
    reading(c, false);
  }
  if (c->tls && !c->closing) { /* encrypt: what goes out is the record */
    uint8_t *rec = NULL;
    size_t rn = 0;
    int rc = sos__net_tls_out(c->tls, data, n, &rec, &rn);
    sos_free(data);
    if (rc) {
      sos_free(rec);
      return conn_close(c);
    }
    data = rec, n = rn;
  }
  send_raw(c, data, n, close_after);
}

/* Writes the access log lines g keeps (best effort). */
static void log_write(struct gateway *g) {
  if (g->log.len && write(g->first->log_fd, g->log.p, g->log.len))
    (void)0; /* the log is best effort: a full disk must not stop serving */
  g->log.len = 0;
  g->log.rc = 0;
}

static void on_log_flush(uv_check_t *h) { log_write(h->data); }

/* One line of the access log: time, client, request, status, bytes, time
 * taken, where it went; kept in g->log and written with the others of
 * this loop iteration (one write, not one per request). */
static void access_log(struct hconn *c, unsigned status, size_t bytes, const char *to) {
  struct gateway *g = c->g;
  if (g->first->log_fd < 0) return;
  char line[512];
  time_t now = time(NULL);
  if (now != g->log_sec) {
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(g->log_when, sizeof g->log_when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    g->log_sec = now;
  }
  double ms = c->t0 ? (double)(sos__k_now() - c->t0) / 1e6 : 0;
  int n = snprintf(line, sizeof line, "%s %s \"%s\" %u %zu %.3fms %s\n", g->log_when,
                   c->remote, c->line[0] ? c->line : "-", status, bytes, ms, to ? to : "-");
  if (n <= 0) return;
  sos_buf_add(&g->log, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
  if (g->log.len >= LOG_BUF || g->log.rc) log_write(g);
}

/* Answers the gateway's own errors: status with a one-line text body,
 * then the connection closes (keep: unless the request was fine). */
static void send_error(struct hconn *c, unsigned status, const char *msg, bool keep) {
  struct sos_buf b = {0};
  size_t mlen = strlen(msg);
  sos__net_head_start(&b, status, mlen + 1, keep);
  sos_buf_str(&b, "Content-Type: text/plain; charset=utf-8\r\n\r\n");
  if (!c->head_only) {
    sos_buf_add(&b, msg, mlen);
    sos_buf_add(&b, "\n", 1);
  }
  access_log(c, status, mlen + 1, NULL);
  char *p;
  size_t n;
  if (sos_buf_finish(&b, &p, &n)) return conn_close(c);
  send_bytes(c, (uint8_t *)p, n, !keep);
}

/* ---- reading ------------------------------------------------------------------ */

/* Starts a new message: forgets the last one's parts. */
static int on_begin(http_parser *hp) {
  struct hconn *c = hp->data;
  c->url.len = c->hbuf.len = c->body.len = 0;
  c->nh = 0;
  c->in_value = false;
  c->head = 0;
  c->begun = true;
  c->line[0] = 0;
  c->t0 = sos__k_now();
  arm(c, c->g->k->cfg.http_request_timeout_ms);
  return 0;
}

/* Counts n more bytes of head; refuses past the limit with 431. */
static int head_bytes(struct hconn *c, size_t n) {
  c->head += n;
  if (c->head <= c->g->k->cfg.http_max_head) return 0;
  c->reject = 431;
  return -1;
}

static int on_url(http_parser *hp, const char *p, size_t n) {
  struct hconn *c = hp->data;
  if (c->url.len + n > MAX_URL) {
    c->reject = 414;
    return -1;
  }
  sos_buf_add(&c->url, p, n);
  return head_bytes(c, n);
}

/* Whether header bytes hold something no header may (RFC 9110 §5.5): NUL,
 * CR or LF inside a value. */
static bool bad_header_bytes(const char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i] == 0 || p[i] == '\r' || p[i] == '\n') return true;
  return false;
}

static int on_field(http_parser *hp, const char *p, size_t n) {
  struct hconn *c = hp->data;
  if (head_bytes(c, n)) return -1;
  if (c->in_value || c->nh == 0) { /* a new header */
    if (c->nh == MAX_HEADERS) {
      c->reject = 431;
      return -1;
    }
    c->h[c->nh++] = (struct sos__net_header){(uint32_t)c->hbuf.len, 0, 0, 0};
    c->in_value = false;
  }
  struct sos__net_header *h = &c->h[c->nh - 1];
  for (size_t i = 0; i < n; i++) { /* names are case-insensitive: keep them lower */
    if (!sos__net_tchar((unsigned char)p[i])) { /* RFC 9112 §5.1: "X-A : b" is refused */
      c->reject = 400;
      return -1;
    }
    char ch = p[i] >= 'A' && p[i] <= 'Z' ? (char)(p[i] - 'A' + 'a') : p[i];
    sos_buf_add(&c->hbuf, &ch, 1);
  }
  h->nlen += (uint32_t)n;
  return 0;
}

static int on_value(http_parser *hp, const char *p, size_t n) {
  struct hconn *c = hp->data;
  if (head_bytes(c, n)) return -1;
  if (bad_header_bytes(p, n)) {
    c->reject = 400;
    return -1;
  }
  struct sos__net_header *h = &c->h[c->nh - 1];
  if (c->in_value && (c->value_end ? p != c->value_end : !c->value_split)) {
    c->reject = 400; /* a folded line (obs-fold, RFC 9112 §5.2) */
    return -1;
  }
  if (!c->in_value) {
    h->value = (uint32_t)c->hbuf.len;
    c->in_value = true;
  }
  c->value_end = p + n;
  sos_buf_add(&c->hbuf, p, n);
  h->vlen += (uint32_t)n;
  return 0;
}

/* The value of header name (lower case) and its length, or NULL. */
static const char *header(const struct hconn *c, const char *name, size_t *len) {
  size_t nl = strlen(name);
  for (uint32_t i = 0; i < c->nh; i++)
    if (c->h[i].nlen == nl && !memcmp(c->hbuf.p + c->h[i].name, name, nl)) {
      *len = c->h[i].vlen;
      return (const char *)c->hbuf.p + c->h[i].value;
    }
  return NULL;
}

/* How many headers are named name. */
static unsigned count_headers(const struct hconn *c, const char *name) {
  size_t nl = strlen(name);
  unsigned n = 0;
  for (uint32_t i = 0; i < c->nh; i++)
    n += c->h[i].nlen == nl && !memcmp(c->hbuf.p + c->h[i].name, name, nl);
  return n;
}

static int on_headers_done(http_parser *hp) {
  struct hconn *c = hp->data;
  if (c->hbuf.rc || c->url.rc) {
    c->reject = 503;
    return -1;
  }
  snprintf(c->line, sizeof c->line, "%s %.*s", http_method_str(hp->method),
           (int)(c->url.len < 120 ? c->url.len : 120), (const char *)c->url.p);
  /* RFC 9112 §3.2: an HTTP/1.1 request has exactly one Host header */
  unsigned hosts = count_headers(c, "host");
  if (hosts > 1 || (hosts == 0 && hp->http_major == 1 && hp->http_minor >= 1)) {
    c->reject = 400;
    return -1;
  }
  if ((hp->flags & F_CONTENTLENGTH) && hp->content_length > c->g->k->cfg.http_max_body) {
    c->reject = 413;
    return -1;
  }
  size_t elen;
  const char *expect = header(c, "expect", &elen);
  if (expect && elen == 12 && !strncasecmp(expect, "100-continue", 12) &&
      (hp->flags & (F_CONTENTLENGTH | F_CHUNKED))) {
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    uint8_t *p = sos_malloc(sizeof cont - 1);
    if (p) {
      memcpy(p, cont, sizeof cont - 1);
      send_bytes(c, p, sizeof cont - 1, false);
    }
  }
  c->head_only = hp->method == HTTP_HEAD;
  return 0;
}

static int on_body(http_parser *hp, const char *p, size_t n) {
  struct hconn *c = hp->data;
  if (c->body.len + n > c->g->k->cfg.http_max_body) {
    c->reject = 413;
    return -1;
  }
  sos_buf_add(&c->body, p, n);
  return 0;
}

static int on_complete(http_parser *hp) {
  struct hconn *c = hp->data;
  c->complete = true;
  http_parser_pause(hp, 1); /* one request at a time */
  return 0;
}

/* ---- requests ------------------------------------------------------------------- */

static void on_answer(struct kernel *k, struct req *r);
static void send_parts(struct kernel *k, struct req *r);

/* Sends the complete message in c to its route's service. */
static void dispatch(struct hconn *c) {
  struct gateway *g = c->g;
  struct kernel *k = g->k;
  c->keep = http_should_keep_alive(&c->hp) && !c->hp.upgrade;
  if (c->hp.method == HTTP_CONNECT || c->hp.upgrade)
    return send_error(c, 501, "this gateway does not tunnel or upgrade connections", false);
  struct sos__net_request in;
  memset(&in, 0, sizeof in);
  if (sos__net_split_url((const char *)c->url.p, c->url.len, &in)) {
    c->keep = false;
    return send_error(c, 400, "bad request target", false);
  }
  size_t hlen = 0;
  const char *host = header(c, "host", &hlen);
  in.method = http_method_str(c->hp.method);
  in.host = host ? host : "";
  in.host_len = host ? hlen : 0;
  in.remote = c->remote;
  in.body = c->body.p;
  in.body_len = c->body.len;
  in.hbuf = c->hbuf.p;
  in.h = c->h;
  in.nh = c->nh;
  char msg[300];
  pthread_mutex_lock(&k->mu);
  struct req *r = NULL;
  int status = sos__net_route(k, &in, g->req_type, &r, msg, sizeof msg);
  if (status == 0) {
    r->owner = c;
    r->answered = on_answer;
    r->outside = true;
    r->lane = g->lane;
    /* HTTP/1.1 has chunked bodies, so its answer may stream; HEAD's has no body */
    if (c->hp.http_major == 1 && c->hp.http_minor >= 1 && !c->head_only) r->parted = send_parts;
    c->busy = true;
    c->refs++;
    k->inflight++;
    sos__k_help_begin(g->lane); /* the instance runs here; its answer goes at lane->flush */
    sos__k_submit(k, r);
    sos__k_help_end(g->lane);
  }
  pthread_mutex_unlock(&k->mu);
  if (status == 400) c->keep = false; /* what else it sends is suspect */
  if (status) send_error(c, (unsigned)status, msg, c->keep);
}

/* Runs the parser over what is buffered: answers a finished message, or
 * refuses a bad one. */
static void parse(struct hconn *c) {
  while (!c->busy && !c->closing && !c->last && c->in_len) {
    c->value_end = NULL;
    size_t used = http_parser_execute(&c->hp, &c->g->settings, c->in, c->in_len);
    enum http_errno e = HTTP_PARSER_ERRNO(&c->hp);
    c->value_split = c->value_end == c->in + used;
    memmove(c->in, c->in + used, c->in_len - used);
    c->in_len -= used;
    if (e != HPE_OK && e != HPE_PAUSED) {
      int status = c->reject ? c->reject : 400;
      c->keep = false;
      if (status == 400)
        send_error(c, 400, http_errno_description(e), false);
      else
        send_error(c, (unsigned)status,
                   status == 431 ? "request headers too large"
                   : status == 413 ? "request body too large"
                   : status == 414 ? "request target too long" : "out of memory",
                   false);
      return;
    }
    if (!c->complete) return; /* wait for more bytes */
    c->complete = false;
    c->begun = false;
    uv_timer_stop(&c->timer);
    dispatch(c); /* reading goes on meanwhile, up to HOLD bytes (on_read) */
    if (!c->busy && !c->closing && !c->last) { /* answered at once (404): go on */
      http_parser_pause(&c->hp, 0);
      arm(c, c->g->k->cfg.http_idle_timeout_ms);
      if (!c->eof) reading(c, true);
    }
  }
}

/* The next request may be read: resumes the parser. */
static void next_request(struct hconn *c) {
  if (c->closing || c->last) return;
  http_parser_pause(&c->hp, 0);
  arm(c, c->g->k->cfg.http_idle_timeout_ms);
  parse(c);
  if (!c->busy && !c->closing && !c->eof) reading(c, true);
}

static void on_written(uv_write_t *w, int status) {
  struct hwrite *wr = (struct hwrite *)w;
  struct hconn *c = wr->c;
  c->writes--;
  sos_free(wr->data);
  if (status < 0 || wr->close_after || (c->eof && !c->busy && !c->writes)) conn_close(c);
  sos_free(wr);
  unref(c);
}

/* ---- streams ---------------------------------------------------------------------- */

/* Sends n bytes as one chunk of c's body (last: then the end of it). */
static void send_chunk(struct hconn *c, const uint8_t *p, size_t n, bool last) {
  struct sos_buf b = {0};
  if (n) {
    sos_buf_fmt(&b, "%zx\r\n", n);
    sos_buf_add(&b, p, n);
    sos_buf_add(&b, "\r\n", 2);
  }
  if (last) sos_buf_str(&b, "0\r\n\r\n");
  char *out;
  size_t len;
  if (sos_buf_finish(&b, &out, &len)) return conn_close(c);
  c->streamed += n;
  if (len) send_bytes(c, (uint8_t *)out, len, last && !c->keep);
  else sos_free(out);
}

/* One part of r's answer on c: the first is an HttpResponse, whose head
 * starts the stream; the others are body bytes. */
static void stream_part(struct hconn *c, struct req *r, const uint8_t *p, size_t n) {
  if (c->closing || c->stream == S_FAILED) return;
  if (c->stream == S_ON) return send_chunk(c, p, n, false);
  uint8_t *head;
  size_t hn, blen;
  const uint8_t *body;
  char msg[300];
  if (sos__net_stream_head(c->g->k->sos_idl, c->g->resp_type, r, p, n, c->keep, &head, &hn,
                           &c->stream_status, &body, &blen, msg, sizeof msg)) {
    c->stream = S_FAILED; /* nothing sent yet: the failure is the answer */
    c->keep = false;
    return send_error(c, c->stream_status, msg, false);
  }
  c->stream = S_ON;
  c->streamed = 0;
  send_bytes(c, head, hn, false);
  if (blen) send_chunk(c, body, blen, false);
}

/* Sends the parts of r's answer that have come (loop thread; r->parted). */
static void send_parts(struct kernel *k, struct req *r) {
  struct hconn *c = r->owner;
  for (struct rpart *p = sos__k_take_parts(k, r), *next; p; p = next) {
    next = p->next;
    stream_part(c, r, p->bytes, p->len);
    sos_free(p);
  }
}

/* The end of a stream: the answer's body as the last chunk.  A call
 * that failed after the head went out cannot change its status: the
 * connection closes without the last chunk, which tells the client the
 * body is incomplete. */
static void stream_end(struct hconn *c, struct req *r, const char *to) {
  struct kernel *k = c->g->k;
  int st = c->stream;
  c->stream = S_NONE;
  if (st == S_FAILED || c->closing) return;
  struct sos_idl_value v = {0};
  char why[160];
  if (r->status != SOS_STATUS_OK ||
      sos_idl_check(k->sos_idl, c->g->resp_type, r->resp, r->resp_len, why, sizeof why) ||
      sos_idl_get_field(k->sos_idl, c->g->resp_type, r->resp, r->resp_len, "body", &v, why,
                        sizeof why)) {
    access_log(c, c->stream_status, c->streamed, "- (stream cut)");
    c->keep = false;
    return conn_close(c);
  }
  send_chunk(c, v.p, v.n, true);
  access_log(c, c->stream_status, c->streamed, to);
}

/* The service's answer (loop thread): the response, or the gateway's
 * status for a call that failed. */
static void on_answer(struct kernel *k, struct req *r) {
  struct hconn *c = r->owner;
  struct gateway *g = c->g;
  k->inflight--;
  c->busy = false;
  char to[200];
  snprintf(to, sizeof to, "%s.%s", r->svc ? r->svc->name : "?", r->method);
  send_parts(k, r); /* those that came after the last delivery */
  if (c->stream != S_NONE) {
    stream_end(c, r, to);
    if (c->keep) next_request(c);
  } else if (!c->closing) {
    uint8_t *out = NULL;
    size_t n = 0;
    unsigned status = 0;
    size_t body = 0;
    char msg[300];
    int rc = sos__net_response(k->sos_idl, g->resp_type, r, c->keep,
                               c->head_only, &out, &n, &status, &body, msg, sizeof msg);
    if (rc) {
      send_error(c, status, msg, c->keep);
    } else {
      access_log(c, status, body, to);
      send_bytes(c, out, n, !c->keep);
    }
    if (c->keep) next_request(c);
  }
  unref(c);
}

/* ---- connections ------------------------------------------------------------------ */

static void on_timeout(uv_timer_t *t) {
  struct hconn *c = t->data;
  if (c->busy || c->closing) return;
  if (c->begun) { /* part of a request came, the rest did not */
    c->keep = false;
    reading(c, false);
    return send_error(c, 408, "the request did not arrive in time", false);
  }
  conn_close(c); /* idle */
}

static void on_alloc(uv_handle_t *h, size_t want, uv_buf_t *buf) {
  struct hconn *c = h->data;
  (void)want;
  if (c->tls) { /* ciphertext: decrypted into c->in by on_read */
    *buf = uv_buf_init((char *)c->g->scratch, sizeof c->g->scratch);
    return;
  }
  size_t room = 64 * 1024;
  if (c->in_cap - c->in_len < room) {
    char *grown = sos_realloc(c->in, c->in_len + room);
    if (!grown) {
      *buf = uv_buf_init(NULL, 0);
      return;
    }
    c->in = grown;
    c->in_cap = c->in_len + room;
  }
  *buf = uv_buf_init(c->in + c->in_len, (unsigned)(c->in_cap - c->in_len));
}

/* Decrypts n bytes of c->g->scratch onto c->in and sends what the
 * handshake needs; true when the connection is done with. */
static bool tls_read(struct hconn *c, size_t n) {
  struct sos_buf plain = {0};
  uint8_t *out = NULL;
  size_t outn = 0;
  int rc = sos__net_tls_in(c->tls, c->g->scratch, n, &plain, &out, &outn);
  send_raw(c, out, outn, rc != 0); /* the handshake's next flight, or an alert */
  bool ok = rc == 0;
  if (ok && plain.len) {
    if (c->in_cap - c->in_len < plain.len) {
      char *grown = sos_realloc(c->in, c->in_len + plain.len);
      if (grown) c->in = grown, c->in_cap = c->in_len + plain.len;
      else ok = false;
    }
    if (ok) memcpy(c->in + c->in_len, plain.p, plain.len), c->in_len += plain.len;
  }
  sos_buf_free(&plain);
  if (!ok) {
    reading(c, false);
    if (!c->writes) conn_close(c);
    else c->last = true;
  }
  return !ok;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  struct hconn *c = s->data;
  (void)buf;
  (void)s;
  if (n < 0) { /* EOF or an error: answer what came whole, then close */
    c->eof = true;
    reading(c, false);
    if (!c->busy && !c->writes) conn_close(c);
    return;
  }
  if (c->tls && tls_read(c, (size_t)n)) return;
  if (!c->tls) c->in_len += (size_t)n;
  if (!c->busy) parse(c);
  else if (c->in_len >= HOLD) reading(c, false); /* held back by TCP, not our memory */
}

static void on_connection(uv_stream_t *server, int status) {
  struct gateway *g = server->data;
  if (status < 0) return;
  struct hconn *c = sos_calloc(1, sizeof *c);
  if (!c) return;
  c->g = g;
  c->refs = 2; /* the two handles */
  uv_tcp_init(g->loop, &c->tcp);
  uv_timer_init(g->loop, &c->timer);
  c->tcp.data = c->timer.data = c;
  c->next = g->conns;
  if (g->conns) g->conns->prev = c;
  g->conns = c;
  g->nconns++;
  uint32_t all = ++g->first->conns_all;
  http_parser_init(&c->hp, HTTP_REQUEST);
  c->hp.data = c;
  if (uv_accept(server, (uv_stream_t *)&c->tcp)) return conn_close(c);
  if (g->first->tls && !(c->tls = sos__net_tls_new(g->first->tls))) return conn_close(c);
  uv_tcp_nodelay(&c->tcp, 1);
  sos__net_peer(&c->tcp, c->remote, sizeof c->remote);
  if (all > g->k->cfg.http_max_conns)
    return send_error(c, 503, "too many connections; try again later", false);
  arm(c, g->k->cfg.http_request_timeout_ms);
  reading(c, true);
}

/* ---- the server --------------------------------------------------------------------- */

/* Closes the handles of a lane after the first (its thread, or before
 * its loop ran): its loop ends when the last has closed. */
static void lane_end(struct gateway *g) {
  g->listening = false;
  if (!uv_is_closing((uv_handle_t *)&g->listen)) uv_close((uv_handle_t *)&g->listen, NULL);
  log_write(g);
  uv_close((uv_handle_t *)&g->log_flush, NULL);
  uv_close((uv_handle_t *)&g->order, NULL);
  sos__k_lane_close(&g->own);
}

/* What a lane does when the main loop orders it (its own thread). */
static void on_order(uv_async_t *h) {
  struct gateway *g = h->data;
  if (g->orders < 2) {
    if (g->listening) {
      g->listening = false;
      uv_close((uv_handle_t *)&g->listen, NULL);
    }
    return;
  }
  for (struct hconn *c = g->conns; c; c = c->next) conn_close(c);
  lane_end(g);
}

static void *lane_main(void *arg) {
  struct gateway *g = arg;
  uv_run(g->loop, UV_RUN_DEFAULT);
  return NULL;
}

/* Makes lane g of the first lane f: a gateway on loop (NULL: a new loop
 * and thread of its own), listening on f's socket.  0, or a libuv error. */
static int lane_new(struct kernel *k, struct gateway *f, struct gateway *g, uv_loop_t *loop) {
  g->k = k;
  g->first = f ? f : g;
  g->req_type = sos_idl_struct(k->sos_idl, "HttpRequest");
  g->resp_type = sos_idl_struct(k->sos_idl, "HttpResponse");
  g->settings = (http_parser_settings){.on_message_begin = on_begin,
                                      .on_url = on_url,
                                      .on_header_field = on_field,
                                      .on_header_value = on_value,
                                      .on_headers_complete = on_headers_done,
                                      .on_body = on_body,
                                      .on_message_complete = on_complete};
  g->lane = &k->main;
  g->loop = loop;
  if (!loop) {
    int rc = uv_loop_init(&g->own_loop);
    if (rc) return rc;
    g->loop = &g->own_loop;
    g->lane = &g->own;
    sos__k_lane_open(k, &g->own, g->loop, NULL);
    uv_async_init(g->loop, &g->order, on_order);
    g->order.data = g;
  }
  uv_check_init(g->loop, &g->log_flush);
  g->log_flush.data = g;
  uv_check_start(&g->log_flush, on_log_flush);
  uv_tcp_init(g->loop, &g->listen);
  g->listen.data = g;
  return 0;
}

int sos__k_http_start(struct kernel *k, char *err, size_t errlen) {
  if (k->cfg.http_off) return 0;
  struct gateway *g = sos_calloc(1, sizeof *g);
  if (!g) return SOS_ENOMEM;
  if (!k->cfg.http_tls_cert[0] != !k->cfg.http_tls_key[0]) {
    snprintf(err, errlen, "TLS needs both http_tls_cert and http_tls_key in %s/node.conf",
             k->data);
    sos_free(g);
    return SOS_EINVAL;
  }
  int trc = k->cfg.http_tls_cert[0] ? sos__net_tls_ctx(k->cfg.http_tls_cert, k->cfg.http_tls_key,
                                                       &g->tls, err, errlen)
                                    : 0;
  if (trc) {
    sos_free(g);
    return trc;
  }
  char path[4200];
  snprintf(path, sizeof path, "%s/access.log", k->data);
  g->log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  lane_new(k, NULL, g, &k->loop);
  struct sockaddr_storage sa;
  int rc = uv_ip4_addr(k->cfg.http_host, k->cfg.http_port, (struct sockaddr_in *)&sa);
  if (rc) rc = uv_ip6_addr(k->cfg.http_host, k->cfg.http_port, (struct sockaddr_in6 *)&sa);
  if (!rc) rc = uv_tcp_bind(&g->listen, (const struct sockaddr *)&sa, 0);
  if (!rc) rc = uv_listen((uv_stream_t *)&g->listen, 511, on_connection);
  if (rc) {
    snprintf(err, errlen, "cannot serve HTTP on %s:%d: %s (set http in %s/node.conf)",
             k->cfg.http_host, k->cfg.http_port, uv_strerror(rc), k->data);
    uv_close((uv_handle_t *)&g->listen, NULL);
    uv_close((uv_handle_t *)&g->log_flush, NULL);
    uv_run(&k->loop, UV_RUN_NOWAIT); /* let the handles close before g goes */
    if (g->log_fd >= 0) close(g->log_fd);
    sos__net_tls_ctx_free(g->tls);
    sos_free(g);
    return SOS_EIO;
  }
  g->listening = true;
  sos__net_peer(&g->listen, g->address, sizeof g->address);
  k->http = g;
  /* One more lane per further worker, each on a copy of the socket.  A
   * lane that cannot be made is left out: the others serve. */
  uv_os_fd_t fd;
  uint32_t want = k->nworkers > 1 ? k->nworkers - 1 : 0;
  if (want && uv_fileno((uv_handle_t *)&g->listen, &fd) == 0 &&
      (g->more = sos_calloc(want, sizeof *g->more))) {
    for (uint32_t i = 0; i < want; i++) {
      struct gateway *m = sos_calloc(1, sizeof *m);
      if (!m) break;
      int d = dup(fd);
      bool made = d >= 0 && lane_new(k, g, m, NULL) == 0;
      bool opened = made && uv_tcp_open(&m->listen, d) == 0;
      if (d >= 0 && !opened) close(d); /* once opened, the handle owns it */
      if (!opened || uv_listen((uv_stream_t *)&m->listen, 511, on_connection) ||
          pthread_create(&m->thread, NULL, lane_main, m)) {
        if (made) { /* its loop never ran: close its handles here */
          lane_end(m);
          uv_run(m->loop, UV_RUN_DEFAULT);
          uv_loop_close(m->loop);
        }
        sos_free(m);
        break;
      }
      m->listening = true;
      g->more[g->nmore++] = m;
    }
  }
  return 0;
}

const char *sos__k_http_address(const struct kernel *k) {
  return k->http ? k->http->address : "off";
}

bool sos__k_http_tls(const struct kernel *k) { return k->http && k->http->tls; }

/* Orders every further lane (from the main loop). */
static void order_lanes(struct gateway *g, int o) {
  for (uint32_t i = 0; i < g->nmore; i++) {
    if (g->more[i]->orders >= o) continue;
    g->more[i]->orders = o;
    uv_async_send(&g->more[i]->order);
  }
}

void sos__k_http_stop(struct kernel *k) {
  struct gateway *g = k->http;
  if (!g || !g->listening) return;
  g->listening = false;
  uv_close((uv_handle_t *)&g->listen, NULL);
  log_write(g);
  uv_close((uv_handle_t *)&g->log_flush, NULL);
  order_lanes(g, 1);
}

void sos__k_http_free(struct kernel *k) {
  struct gateway *g = k->http;
  if (!g) return;
  for (uint32_t i = 0; i < g->nmore; i++) { /* ordered to close by close_all */
    struct gateway *m = g->more[i];
    pthread_join(m->thread, NULL);
    sos__k_lane_flush(&m->own); /* answers that came after its loop ended */
    uv_loop_close(m->loop);
    log_write(m);
    sos_buf_free(&m->log);
    sos_free(m);
  }
  sos_free(g->more);
  if (g->log_fd >= 0) {
    log_write(g);
    close(g->log_fd);
  }
  sos_buf_free(&g->log);
  sos__net_tls_ctx_free(g->tls);
  sos_free(g);
  k->http = NULL;
}

void sos__k_http_close_all(struct kernel *k) {
  struct gateway *g = k->http;
  if (!g) return;
  sos__k_http_stop(k);
  for (struct hconn *c = g->conns; c; c = c->next) conn_close(c);
  order_lanes(g, 2);
}

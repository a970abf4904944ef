/*
 * egress.c - the built-in service `http` (interface HttpClient of package
 * sos): apps' requests to outside HTTP APIs, over libcurl.
 *
 * An app reaches only what its definition lists under `egress`: a host
 * (HTTPS to it, on 443 or the port written) or an http:// origin (plain
 * HTTP to exactly that host and port, for a test double).  The URL is
 * parsed by libcurl's own URL parser, the one that will connect, so the
 * host checked is the host reached; redirects are not followed (a
 * redirect could leave the list) and the protocols are limited to the
 * one the entry allows.  Certificates are verified against the system's
 * CA store (Debian's ca-certificates).
 *
 * Transfers run on the event loop through the multi interface: libcurl
 * tells us which sockets to watch (a uv_poll each) and when to wake it
 * (one uv_timer), so a thousand slow APIs cost a thousand sockets, not a
 * thousand threads.  The call arrives on any thread with k->mu held: it
 * is checked there and queued, and the loop (woken through k->main.wake)
 * starts it.  When it ends the loop answers the call with an HttpResponse
 * (status, headers of the final response, body) or a declared error.
 * A call answered before its transfer ends (its deadline passed) is
 * detached (sos__k_egress_detach) and the transfer, bounded by the same
 * deadline, ends unobserved.
 *
 * libcurl is loaded with dlopen by the first call, not linked: with the
 * thirty libraries it brings (GnuTLS, LDAP, Kerberos, SSH, ...) it costs
 * about 6 MB of resident memory, which a node that never calls out
 * should not pay.  The header gives the types; `cu` holds the functions.
 */
#include "kernel/kernel.h"
#include "net/net.h"

#define CURL_DISABLE_TYPECHECK /* the calls below go through pointers */
#include <curl/curl.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CURL_FUNCS(X)                                                         \
  X(curl_global_init) X(curl_global_cleanup) X(curl_easy_init)                \
  X(curl_easy_setopt) X(curl_easy_getinfo) X(curl_easy_cleanup)               \
  X(curl_easy_strerror) X(curl_free) X(curl_multi_init) X(curl_multi_setopt)  \
  X(curl_multi_add_handle) X(curl_multi_remove_handle) X(curl_multi_assign)   \
  X(curl_multi_cleanup) X(curl_multi_info_read) X(curl_multi_socket_action)   \
  X(curl_slist_append) X(curl_slist_free_all) X(curl_url) X(curl_url_cleanup) \
  X(curl_url_get) X(curl_url_set)

/* libcurl's functions, once loaded (load_curl); the code below calls them
 * by their usual names, which name these pointers. */
static struct {
#define CURL_PTR(f) __typeof__(&f) p_##f;
  CURL_FUNCS(CURL_PTR)
#undef CURL_PTR
} cu;
#undef curl_global_init
#define curl_global_init cu.p_curl_global_init
#undef curl_global_cleanup
#define curl_global_cleanup cu.p_curl_global_cleanup
#undef curl_easy_init
#define curl_easy_init cu.p_curl_easy_init
#undef curl_easy_setopt
#define curl_easy_setopt cu.p_curl_easy_setopt
#undef curl_easy_getinfo
#define curl_easy_getinfo cu.p_curl_easy_getinfo
#undef curl_easy_cleanup
#define curl_easy_cleanup cu.p_curl_easy_cleanup
#undef curl_easy_strerror
#define curl_easy_strerror cu.p_curl_easy_strerror
#undef curl_free
#define curl_free cu.p_curl_free
#undef curl_multi_init
#define curl_multi_init cu.p_curl_multi_init
#undef curl_multi_setopt
#define curl_multi_setopt cu.p_curl_multi_setopt
#undef curl_multi_add_handle
#define curl_multi_add_handle cu.p_curl_multi_add_handle
#undef curl_multi_remove_handle
#define curl_multi_remove_handle cu.p_curl_multi_remove_handle
#undef curl_multi_assign
#define curl_multi_assign cu.p_curl_multi_assign
#undef curl_multi_cleanup
#define curl_multi_cleanup cu.p_curl_multi_cleanup
#undef curl_multi_info_read
#define curl_multi_info_read cu.p_curl_multi_info_read
#undef curl_multi_socket_action
#define curl_multi_socket_action cu.p_curl_multi_socket_action
#undef curl_slist_append
#define curl_slist_append cu.p_curl_slist_append
#undef curl_slist_free_all
#define curl_slist_free_all cu.p_curl_slist_free_all
#undef curl_url
#define curl_url cu.p_curl_url
#undef curl_url_cleanup
#define curl_url_cleanup cu.p_curl_url_cleanup
#undef curl_url_get
#define curl_url_get cu.p_curl_url_get
#undef curl_url_set
#define curl_url_set cu.p_curl_url_set

enum { E_NOT_ALLOWED = 1, E_BAD_REQUEST, E_FAILED, E_TOO_BIG, E_TIMEOUT };
#define DEFAULT_TIMEOUT_MS 10000
#define DEFAULT_MAX_BYTES (1u << 20)
#define MAX_BYTES (8u << 20)

struct xfer {
  struct egress *e;
  struct req *r;            /* NULL once detached */
  CURL *easy;
  struct curl_slist *send;  /* request headers */
  struct sos_buf body, heads; /* the answer: body, and headers as name NUL value NUL */
  uint32_t max_bytes;
  bool too_big;
  struct xfer *next;        /* in e->queued, then e->running */
};

struct egress {
  struct kernel *k;
  CURLM *multi;
  uv_timer_t timer;
  struct xfer *queued;      /* checked, waiting for the loop (k->mu) */
  struct xfer *running;     /* owned by the loop */
};

/* A socket libcurl asked us to watch. */
struct watch {
  uv_poll_t poll;
  struct egress *e;
  curl_socket_t fd;
};

/* ---- the request ------------------------------------------------------------ */

/* Whether app's egress list allows scheme://host:port. */
static bool allowed(const struct sos_app *app, const char *scheme, const char *host,
                    long port) {
  for (uint32_t i = 0; i < app->negress; i++) {
    const char *ent = app->egress[i], *h = ent, *want_scheme = "https";
    if (!strncmp(ent, "http://", 7)) h = ent + 7, want_scheme = "http";
    else if (!strncmp(ent, "https://", 8)) h = ent + 8;
    const char *colon = strchr(h, ':');
    size_t hlen = colon ? (size_t)(colon - h) : strlen(h);
    long eport = colon ? atol(colon + 1) : !strcmp(want_scheme, "http") ? 80 : 443;
    if (!strcmp(scheme, want_scheme) && strlen(host) == hlen &&
        !strncasecmp(host, h, hlen) && port == eport)
      return true;
  }
  return false;
}

/* Checks the URL of r's request against the caller's egress list: 0, or a
 * declared error code with why in msg. */
static int check_url(const struct sos_app *app, const char *url, char *msg, size_t msglen) {
  CURLU *u = curl_url();
  char *scheme = NULL, *host = NULL, *port = NULL;
  int code = 0;
  if (!u || curl_url_set(u, CURLUPART_URL, url, 0) ||
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) || curl_url_get(u, CURLUPART_HOST, &host, 0) ||
      curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT)) {
    snprintf(msg, msglen, "bad URL \"%.200s\": write http(s)://HOST[:PORT]/PATH", url);
    code = E_BAD_REQUEST;
  } else if (strcmp(scheme, "https") && strcmp(scheme, "http")) {
    snprintf(msg, msglen, "only http and https URLs can be fetched, not %s", scheme);
    code = E_BAD_REQUEST;
  } else if (!allowed(app, scheme, host, atol(port))) {
    snprintf(msg, msglen, "%s://%s:%s is not in the egress list of app %s", scheme, host, port,
             app->name);
    code = E_NOT_ALLOWED;
  }
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_url_cleanup(u);
  return code;
}

static size_t on_body(char *p, size_t size, size_t n, void *user) {
  struct xfer *x = user;
  (void)size; /* always 1 */
  if (x->body.len + n > x->max_bytes) {
    x->too_big = true;
    return 0; /* stops the transfer */
  }
  sos_buf_add(&x->body, p, n);
  return x->body.rc ? 0 : n;
}

/* Keeps the headers of the last response (a 100 Continue or a status line
 * starts over), names in lower case. */
static size_t on_header(char *p, size_t size, size_t n, void *user) {
  struct xfer *x = user;
  (void)size;
  if (n >= 5 && !memcmp(p, "HTTP/", 5)) {
    x->heads.len = 0;
    return n;
  }
  const char *colon = memchr(p, ':', n);
  if (!colon) return n;
  size_t nl = (size_t)(colon - p), vs = nl + 1, ve = n;
  while (vs < ve && (p[vs] == ' ' || p[vs] == '\t')) vs++;
  while (ve > vs && (p[ve - 1] == '\r' || p[ve - 1] == '\n' || p[ve - 1] == ' ')) ve--;
  for (size_t i = 0; i < nl; i++) {
    char c = p[i] >= 'A' && p[i] <= 'Z' ? (char)(p[i] - 'A' + 'a') : p[i];
    sos_buf_add(&x->heads, &c, 1);
  }
  sos_buf_add(&x->heads, "", 1);
  sos_buf_add(&x->heads, p + vs, ve - vs);
  sos_buf_add(&x->heads, "", 1);
  return n;
}

/* Adds one request header to the transfer (user). */
static int send_header(void *user, const uint8_t *name, size_t nlen, const uint8_t *value,
                       size_t vlen) {
  struct xfer *x = user;
  char line[8200];
  if (nlen + vlen > 8000) return -1;
  snprintf(line, sizeof line, "%.*s: %.*s", (int)nlen, name, (int)vlen, value);
  struct curl_slist *l = curl_slist_append(x->send, line);
  if (!l) return -1;
  x->send = l;
  return 0;
}

/* The request's headers (its HttpHeader list); false when one may not be
 * sent. */
static bool add_headers(struct xfer *x, struct kernel *k, const struct req *r, int type) {
  size_t n;
  const uint8_t *p = sos__k_req_bytes(k, r, type, "headers", &n);
  return !p || sos__net_headers(p, n, send_header, x) == 0;
}

static void xfer_free(struct xfer *x) {
  if (x->easy) curl_easy_cleanup(x->easy);
  curl_slist_free_all(x->send);
  sos_buf_free(&x->body);
  sos_buf_free(&x->heads);
  sos_free(x);
}

/* Sets up the transfer of call r (k->mu held); 0, or a declared error
 * code with why in msg. */
static int prepare(struct kernel *k, struct req *r, int type, struct xfer *x, char *msg,
                   size_t msglen) {
  char url[4096], method[32];
  if (!sos__k_req_text(k, r, type, "url", url, sizeof url)) url[0] = 0; /* too long: bad */
  if (!sos__k_req_text(k, r, type, "method", method, sizeof method)) method[0] = 0;
  int code = check_url(r->caller->ver->img->app, url, msg, msglen);
  if (code) return code;
  uint64_t timeout = sos__k_req_uint(k, r, type, "timeout_ms");
  uint64_t max = sos__k_req_uint(k, r, type, "max_bytes");
  if (!timeout) timeout = DEFAULT_TIMEOUT_MS;
  if (r->deadline) { /* end 50 ms early, so that the caller can still answer */
    uint64_t now = sos__k_now(), left = r->deadline > now ? (r->deadline - now) / 1000000u : 0;
    left = left > 100 ? left - 50 : left / 2;
    if (left < timeout) timeout = left ? left : 1;
  }
  x->max_bytes = max ? (max < MAX_BYTES ? (uint32_t)max : MAX_BYTES) : DEFAULT_MAX_BYTES;
  size_t blen;
  const uint8_t *body = sos__k_req_bytes(k, r, type, "body", &blen);
  if (!add_headers(x, k, r, type)) {
    snprintf(msg, msglen, "a request header is not a valid header (a name that is not a "
                          "token, or CR, LF or NUL in a value)");
    return E_BAD_REQUEST;
  }
  CURL *c = x->easy = curl_easy_init();
  if (!c) return snprintf(msg, msglen, "out of memory"), E_FAILED;
  bool plain = !strncasecmp(url, "http://", 7);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, plain ? "http" : "https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "sos/" SOSD_VERSION);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
  curl_easy_setopt(c, CURLOPT_PRIVATE, x);
  if (x->send) curl_easy_setopt(c, CURLOPT_HTTPHEADER, x->send);
  if (blen || (method[0] && strcasecmp(method, "GET") && strcasecmp(method, "HEAD"))) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
    curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS, body ? (const char *)body : "");
  }
  if (!strcasecmp(method, "HEAD")) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  else if (method[0] && strcasecmp(method, "GET") && strcasecmp(method, "POST"))
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  return 0;
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *user, void *socketp);
static int on_timeout(CURLM *multi, long ms, void *user);

/* Loads libcurl and makes the multi handle, once (k->mu held); 0, or
 * SOS_EIO with why in msg.  The handle is driven by the loop from then. */
static int load_curl(struct egress *e, char *msg, size_t msglen) {
  if (e->multi) return 0;
  if (!cu.p_curl_multi_init) {
    void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      snprintf(msg, msglen, "cannot load libcurl (libcurl.so.4): %s", dlerror());
      return SOS_EIO;
    }
    bool ok = true;
#define CURL_SYM(f) ok = ok && (*(void **)&cu.p_##f = dlsym(h, #f)) != NULL;
    CURL_FUNCS(CURL_SYM)
#undef CURL_SYM
    if (!ok || curl_global_init(CURL_GLOBAL_DEFAULT)) {
      snprintf(msg, msglen, "libcurl.so.4 lacks a function this node needs (7.78 or later)");
      memset(&cu, 0, sizeof cu);
      dlclose(h);
      return SOS_EIO;
    }
  }
  if (!(e->multi = curl_multi_init())) {
    snprintf(msg, msglen, "out of memory");
    return SOS_EIO;
  }
  curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, e);
  curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, on_timeout);
  curl_multi_setopt(e->multi, CURLMOPT_TIMERDATA, e);
  return 0;
}

void sos__k_egress_call(struct kernel *k, struct req *r, int req_type) {
  char msg[400];
  if (!r->caller) /* the owner has curl; egress is an app's, under its list */
    return sos__k_complete(k, r, SOS_STATUS_DENIED, "http is for apps only", 21);
  struct egress *e = k->egress;
  if (e && load_curl(e, msg, sizeof msg)) {
    sos__k_log(r->caller->svc, "error", "http: %s", msg);
    return sos__k_answer_error(k, r, "HttpClient", E_FAILED, msg);
  }
  struct xfer *x = e ? sos_calloc(1, sizeof *x) : NULL;
  if (!x) return sos__k_complete(k, r, SOS_STATUS_BUSY, "out of memory", 13);
  x->e = e;
  int code = prepare(k, r, req_type, x, msg, sizeof msg);
  if (code) {
    xfer_free(x);
    if (code == E_NOT_ALLOWED)
      sos__k_log(r->caller->svc, "warn", "denied: %s", msg);
    return sos__k_answer_error(k, r, "HttpClient", (uint32_t)code, msg);
  }
  x->r = r;
  r->egress = x;
  x->next = e->queued;
  e->queued = x;
  uv_async_send(&k->main.wake);
}

void sos__k_egress_detach(struct kernel *k, struct req *r) {
  (void)k;
  struct xfer *x = r->egress;
  r->egress = NULL;
  if (x) x->r = NULL;
}

/* ---- the loop ------------------------------------------------------------------ */

/* The answer of a finished transfer (k->mu held). */
static void answer(struct kernel *k, struct xfer *x, CURLcode res) {
  struct req *r = x->r;
  char msg[CURL_ERROR_SIZE + 100];
  sos__k_egress_detach(k, r);
  if (res == CURLE_OPERATION_TIMEDOUT) {
    snprintf(msg, sizeof msg, "timed out: %s", curl_easy_strerror(res));
    return sos__k_answer_error(k, r, "HttpClient", E_TIMEOUT, msg);
  }
  if (x->too_big || res == CURLE_FILESIZE_EXCEEDED) {
    snprintf(msg, sizeof msg, "the answer is larger than %u bytes (max_bytes)", x->max_bytes);
    return sos__k_answer_error(k, r, "HttpClient", E_TOO_BIG, msg);
  }
  if (res != CURLE_OK) {
    snprintf(msg, sizeof msg, "%s", curl_easy_strerror(res));
    return sos__k_answer_error(k, r, "HttpClient", E_FAILED, msg);
  }
  long status = 0;
  curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
  struct sos_buf b = {0}, list = {0};
  sos_idl_put_key(&b, 1, 0);
  sos_buf_varint(&b, (uint64_t)status);
  for (size_t at = 0; at < x->heads.len;) {
    const char *name = (const char *)x->heads.p + at, *value = name + strlen(name) + 1;
    struct sos_buf h = {0};
    sos_idl_put_bytes(&h, 1, name, strlen(name));
    if (*value) sos_idl_put_bytes(&h, 2, value, strlen(value));
    sos_idl_put_inner(&list, 0, &h);
    at = (size_t)(value + strlen(value) + 1 - (const char *)x->heads.p);
  }
  sos_idl_put_inner(&b, 2, &list);
  if (x->body.len) sos_idl_put_bytes(&b, 3, x->body.p, x->body.len);
  char why[200];
  if (b.rc) sos__k_complete(k, r, SOS_STATUS_BUSY, "out of memory", 13);
  else if (sos_idl_check(k->sos_idl, sos_idl_struct(k->sos_idl, "HttpResponse"), b.p, b.len,
                         why, sizeof why))
    sos__k_answer_error(k, r, "HttpClient", E_FAILED, "the answer's headers are not UTF-8");
  else sos__k_complete(k, r, SOS_STATUS_OK, b.p, b.len);
  sos_buf_free(&b);
}

/* Answers every transfer that has ended. */
static void check_done(struct egress *e) {
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(e->multi, &left))) {
    if (m->msg != CURLMSG_DONE) continue;
    struct xfer *x = NULL;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
    CURLcode res = m->data.result;
    curl_multi_remove_handle(e->multi, x->easy);
    for (struct xfer **p = &e->running; *p; p = &(*p)->next)
      if (*p == x) {
        *p = x->next;
        break;
      }
    pthread_mutex_lock(&e->k->mu);
    if (x->r) answer(e->k, x, res);
    pthread_mutex_unlock(&e->k->mu);
    xfer_free(x);
  }
}

static void on_poll(uv_poll_t *p, int status, int events) {
  struct watch *w = p->data;
  int flags = status < 0 ? CURL_CSELECT_ERR
                         : ((events & UV_READABLE) ? CURL_CSELECT_IN : 0) |
                               ((events & UV_WRITABLE) ? CURL_CSELECT_OUT : 0);
  int running;
  struct egress *e = w->e;
  curl_multi_socket_action(e->multi, w->fd, flags, &running);
  check_done(e);
}

static void on_watch_closed(uv_handle_t *h) { sos_free(h->data); }

/* libcurl: watch fd for what, or stop watching it. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *user, void *socketp) {
  struct egress *e = user;
  struct watch *w = socketp;
  (void)easy;
  if (what == CURL_POLL_REMOVE) {
    if (w) {
      uv_poll_stop(&w->poll);
      uv_close((uv_handle_t *)&w->poll, on_watch_closed);
      curl_multi_assign(e->multi, fd, NULL);
    }
    return 0;
  }
  if (!w) {
    if (!(w = sos_calloc(1, sizeof *w))) return -1;
    w->e = e;
    w->fd = fd;
    if (uv_poll_init_socket(&e->k->loop, &w->poll, fd)) {
      sos_free(w);
      return -1;
    }
    w->poll.data = w;
    curl_multi_assign(e->multi, fd, w);
  }
  int ev = (what & CURL_POLL_IN ? UV_READABLE : 0) | (what & CURL_POLL_OUT ? UV_WRITABLE : 0);
  uv_poll_start(&w->poll, ev, on_poll);
  return 0;
}

static void on_timer(uv_timer_t *t) {
  struct egress *e = t->data;
  int running;
  curl_multi_socket_action(e->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  check_done(e);
}

/* libcurl: wake it in ms milliseconds (-1: never). */
static int on_timeout(CURLM *multi, long ms, void *user) {
  struct egress *e = user;
  (void)multi;
  if (ms < 0) uv_timer_stop(&e->timer);
  else uv_timer_start(&e->timer, on_timer, (uint64_t)ms, 0);
  return 0;
}

void sos__k_egress_pump(struct kernel *k) {
  struct egress *e = k->egress;
  if (!e) return;
  pthread_mutex_lock(&k->mu);
  struct xfer *q = e->queued;
  e->queued = NULL;
  pthread_mutex_unlock(&k->mu);
  while (q) {
    struct xfer *x = q;
    q = q->next;
    x->next = e->running;
    e->running = x;
    if (curl_multi_add_handle(e->multi, x->easy) != CURLM_OK) {
      e->running = x->next;
      pthread_mutex_lock(&k->mu);
      if (x->r) {
        struct req *r = x->r;
        sos__k_egress_detach(k, r);
        sos__k_answer_error(k, r, "HttpClient", E_FAILED, "cannot start the transfer");
      }
      pthread_mutex_unlock(&k->mu);
      xfer_free(x);
    }
  }
}

/* Sets up egress without libcurl: the first call loads it (load_curl). */
int sos__k_egress_start(struct kernel *k) {
  struct egress *e = sos_calloc(1, sizeof *e);
  if (!e) return SOS_ENOMEM;
  e->k = k;
  uv_timer_init(&k->loop, &e->timer);
  e->timer.data = e;
  k->egress = e;
  return 0;
}

void sos__k_egress_stop(struct kernel *k) {
  struct egress *e = k->egress;
  if (!e) return;
  pthread_mutex_lock(&k->mu); /* transfers end with the loop: their calls fail */
  for (struct xfer *lists[2] = {e->queued, e->running}, **l = lists; l < lists + 2; l++)
    while (*l) {
      struct xfer *x = *l;
      *l = x->next;
      if (l == lists + 1) curl_multi_remove_handle(e->multi, x->easy); /* closes its polls */
      if (x->r) {
        struct req *r = x->r;
        sos__k_egress_detach(k, r);
        sos__k_complete(k, r, SOS_STATUS_SHUTDOWN, "the node is shutting down", 25);
      }
      xfer_free(x);
    }
  e->queued = e->running = NULL;
  pthread_mutex_unlock(&k->mu);
  uv_timer_stop(&e->timer);
  uv_close((uv_handle_t *)&e->timer, NULL);
}

void sos__k_egress_free(struct kernel *k) {
  struct egress *e = k->egress;
  if (!e) return;
  if (e->multi) {
    curl_multi_cleanup(e->multi);
    curl_global_cleanup(); /* libcurl itself stays loaded until the process ends */
  }
  sos_free(e);
  k->egress = NULL;
}

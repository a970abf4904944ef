/*
 * control.c - the control API: a unix socket speaking the framed protocol
 * of include/sos/control.h, served on the event loop.
 *
 * Each connection reads frames into one growing buffer and handles every
 * complete frame in order.  Ops that the loop can answer at once (status,
 * ps, deploy, rollback, rm, logs) reply inline; `call` submits a request
 * and replies when the kernel completes it (service.c queues completions
 * for outside callers on their lane and wakes the loop).  A connection that
 * closes with calls in flight stays allocated, marked closed, until they
 * finish: every call has a deadline, so that wait is bounded.
 *
 * Snapshots and restores of a service's stores copy all of its keys, so
 * they run on libuv's thread pool like deploys; the loop only picks the
 * snapshot's name and answers.
 *
 * Bad input (oversized frames, JSON that does not parse, unknown ops) gets
 * an error reply and the connection is closed; the node carries on.
 */
#include "kernel/kernel.h"

#include "sos/control.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

struct conn {
  uv_pipe_t pipe;
  struct kernel *k;
  uint8_t *buf;
  size_t len, cap;
  uint32_t pending; /* calls in flight */
  bool closed;
};

struct wreq {
  uv_write_t w;
  uint8_t *data;
};

static void on_written(uv_write_t *w, int status) {
  (void)status;
  struct wreq *wr = (struct wreq *)w;
  sos_free(wr->data);
  sos_free(wr);
}

/* Sends one frame: the JSON of j (deleted here) and body. */
static void send_frame(struct conn *c, cJSON *j, const void *body, size_t blen) {
  char *text = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  if (!text || c->closed) {
    cJSON_free(text);
    return;
  }
  size_t jlen = strlen(text);
  struct wreq *wr = sos_malloc(sizeof *wr);
  uint8_t *d = sos_malloc(8 + jlen + blen);
  if (!wr || !d) {
    sos_free(wr);
    sos_free(d);
    cJSON_free(text);
    return;
  }
  uint32_t h[2] = {(uint32_t)jlen, (uint32_t)blen}; /* x86-64 and ARM64: little-endian */
  memcpy(d, h, 8);
  memcpy(d + 8, text, jlen);
  if (blen) memcpy(d + 8 + jlen, body, blen);
  cJSON_free(text);
  wr->data = d;
  uv_buf_t b = uv_buf_init((char *)d, (unsigned)(8 + jlen + blen));
  if (uv_write(&wr->w, (uv_stream_t *)&c->pipe, &b, 1, on_written)) {
    sos_free(d);
    sos_free(wr);
  }
}

static cJSON *ok_reply(void) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddBoolToObject(j, "ok", 1);
  return j;
}

static void send_error(struct conn *c, const char *msg) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddBoolToObject(j, "ok", 0);
  cJSON_AddStringToObject(j, "error", msg);
  send_frame(c, j, NULL, 0);
}

static void on_closed(uv_handle_t *h) {
  struct conn *c = h->data;
  c->closed = true;
  if (!c->pending) {
    sos_free(c->buf);
    sos_free(c);
  }
}

static void conn_close(struct conn *c) {
  if (uv_is_closing((uv_handle_t *)&c->pipe)) return;
  uv_close((uv_handle_t *)&c->pipe, on_closed);
}

/* Counts one more answer owed to c (a call or a deploy). */
static void owe(struct conn *c) {
  c->pending++;
  c->k->inflight++;
}

/* One owed answer was sent; frees c when it closed and owes nothing more. */
static void paid(struct conn *c) {
  c->k->inflight--;
  if (--c->pending == 0 && c->closed) {
    sos_free(c->buf);
    sos_free(c);
  }
}

/* The string field name of j, or NULL. */
static const char *str_field(const cJSON *j, const char *name) {
  const cJSON *v = cJSON_GetObjectItem(j, name);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- ops ------------------------------------------------------------------ */

static const char *const status_names[] = {
#define SOS__STATUS_NAME(name, val, words) [val] = #name,
    SOS_STATUS_MAP(SOS__STATUS_NAME)
#undef SOS__STATUS_NAME
};
static const char *const status_words[] = {
#define SOS__STATUS_WORDS(name, val, words) [val] = words,
    SOS_STATUS_MAP(SOS__STATUS_WORDS)
#undef SOS__STATUS_WORDS
};

/* A call finished (loop thread): reply to the connection that made it. */
static void call_done(struct kernel *k, struct req *r) {
  (void)k;
  struct conn *c = r->owner;
  cJSON *j = cJSON_CreateObject();
  cJSON_AddBoolToObject(j, "ok", r->status == SOS_STATUS_OK);
  if (r->tag >= 0) cJSON_AddNumberToObject(j, "id", (double)r->tag);
  cJSON_AddNumberToObject(j, "status", r->status);
  cJSON_AddStringToObject(j, "status_name", status_names[r->status]);
  if (r->status != SOS_STATUS_OK) cJSON_AddStringToObject(j, "error", status_words[r->status]);
  char *json = NULL;
  size_t jlen = 0;
  if (r->schema && sos__k_typed_response(c->k, r, &json, &jlen) == 0)
    cJSON_AddBoolToObject(j, "typed", 1); /* the body is JSON */
  send_frame(c, j, json ? (const uint8_t *)json : r->resp, json ? jlen : r->resp_len);
  sos_free(json);
  paid(c);
}

static void op_call(struct conn *c, const cJSON *j, const uint8_t *body, uint32_t blen) {
  struct kernel *k = c->k;
  const char *svc = str_field(j, "service"), *method = str_field(j, "method");
  const cJSON *to = cJSON_GetObjectItem(j, "timeout_ms");
  if (!svc || !method || strlen(method) > SOS_ABI_MAX_NAME || blen > SOS_ABI_MAX_MESSAGE)
    return send_error(c, "call needs a service and a method (at most 128 bytes) and a "
                         "request of at most 16 MiB");
  struct req *r = sos__k_req_new(method, strlen(method), body, blen);
  if (!r) return send_error(c, "out of memory");
  r->owner = c;
  r->answered = call_done;
  pthread_mutex_lock(&k->mu);
  struct svc *s = sos__k_svc_find(k, svc);
  bool builtin = sos__k_builtin(svc);
  if ((!s || s->removed) && !builtin) {
    pthread_mutex_unlock(&k->mu);
    sos__k_req_free(k, r);
    char msg[200];
    snprintf(msg, sizeof msg, "no service named %s (see sos ps)", svc);
    return send_error(c, msg);
  }
  r->outside = true;
  r->lane = &k->main;
  cJSON *id = cJSON_GetObjectItem(j, "id");
  r->tag = cJSON_IsNumber(id) ? (int64_t)id->valuedouble : -1;
  uint64_t now = sos__k_now();
  if (cJSON_IsNumber(to) && to->valuedouble > 0)
    r->deadline = now + (uint64_t)to->valuedouble * 1000000u;
  if (s && !builtin) {
    uint64_t d = now + s->cur->def->timeout_ms * 1000000u;
    if (!r->deadline || d < r->deadline) r->deadline = d;
  }
  r->svc = builtin ? NULL : s;
  cJSON *typed = cJSON_GetObjectItem(j, "typed");
  if (cJSON_IsTrue(typed)) {
    char err[512];
    int rc = sos__k_typed_request(k, builtin ? NULL : s, svc, r, err, sizeof err);
    if (rc < 0) {
      sos__k_req_free(k, r);
      pthread_mutex_unlock(&k->mu);
      return send_error(c, err);
    }
  }
  owe(c);
  if (builtin)
    sos__k_builtin_call(k, svc, r);
  else
    sos__k_submit(k, r);
  pthread_mutex_unlock(&k->mu);
}

/* {"op":"describe","service":NAME}: the service's interface in SOS syntax
 * as the body. */
static void op_describe(struct conn *c, const cJSON *j) {
  struct kernel *k = c->k;
  const char *svc = str_field(j, "service");
  char err[300], *text = NULL;
  if (!svc) return send_error(c, "describe needs a service");
  pthread_mutex_lock(&k->mu);
  int rc = sos__k_describe(k, svc, &text, err, sizeof err);
  struct svc *s = rc ? NULL : sos__k_svc_find(k, svc);
  cJSON *reply = rc ? NULL : ok_reply();
  if (!rc && !s) { /* a built-in */
    cJSON_AddStringToObject(reply, "interface", sos__k_builtin_interface(svc));
    cJSON_AddStringToObject(reply, "app", "sos");
    cJSON_AddStringToObject(reply, "app_version", SOSD_VERSION);
    cJSON_AddNumberToObject(reply, "version", 1);
  } else if (s) {
    cJSON_AddStringToObject(reply, "interface", s->cur->def->implements);
    cJSON_AddStringToObject(reply, "app", s->cur->img->app->name);
    cJSON_AddStringToObject(reply, "app_version", s->cur->img->app->version);
    cJSON_AddNumberToObject(reply, "version", s->cur->n);
  }
  pthread_mutex_unlock(&k->mu);
  if (rc) return send_error(c, err);
  send_frame(c, reply, text, strlen(text));
  sos_free(text);
}

static void op_status(struct conn *c) {
  struct kernel *k = c->k;
  cJSON *j = ok_reply();
  pthread_mutex_lock(&k->mu);
  uint32_t n = 0, live = 0;
  for (struct svc *s = k->svcs; s; s = s->next) n += !s->removed, live += s->live;
  pthread_mutex_unlock(&k->mu);
  cJSON_AddNumberToObject(j, "pid", getpid());
  cJSON_AddStringToObject(j, "data", k->data);
  cJSON_AddStringToObject(j, "http", sos__k_http_address(k));
  cJSON_AddBoolToObject(j, "tls", sos__k_http_tls(k));
  cJSON_AddStringToObject(j, "version", SOSD_VERSION);
  cJSON_AddNumberToObject(j, "abi", SOS_ABI_VERSION);
  cJSON_AddNumberToObject(j, "uptime_ms", (double)((sos__k_now() - k->started) / 1000000u));
  cJSON_AddNumberToObject(j, "workers", k->nworkers);
  cJSON_AddNumberToObject(j, "services", n);
  cJSON_AddNumberToObject(j, "instances", live);
  send_frame(c, j, NULL, 0);
}

static void op_ps(struct conn *c) {
  struct kernel *k = c->k;
  pthread_mutex_lock(&k->mu);
  char *text = sos__k_ps_json(k, NULL);
  pthread_mutex_unlock(&k->mu);
  cJSON *arr = text ? cJSON_Parse(text) : NULL;
  sos_free(text);
  if (!arr) return send_error(c, "out of memory");
  cJSON *j = ok_reply();
  cJSON_AddItemToObject(j, "services", arr);
  send_frame(c, j, NULL, 0);
}

/* A deploy in progress: verified and compiled on libuv's thread pool, so
 * that the loop (timers, other connections) never waits for a compile. */
struct deploy {
  uv_work_t work;
  struct conn *c;
  uint8_t *image;
  size_t len;
  struct image_ref *ir;
  int rc;
  char err[1024];
};

static void deploy_work(uv_work_t *w) {
  struct deploy *d = w->data;
  d->rc = sos__k_deploy_prepare(d->c->k, d->image, d->len, &d->ir, d->err, sizeof d->err);
}

static void deploy_done(uv_work_t *w, int status) {
  struct deploy *d = w->data;
  struct conn *c = d->c;
  char *reply = NULL;
  if (status == 0 && d->rc == 0)
    d->rc = sos__k_deploy_finish(c->k, d->ir, &reply, d->err, sizeof d->err);
  cJSON *j = reply ? cJSON_Parse(reply) : NULL;
  cJSON_free(reply);
  if (j) {
    cJSON_AddBoolToObject(j, "ok", 1);
    send_frame(c, j, NULL, 0);
  } else {
    send_error(c, d->rc ? d->err : "out of memory");
  }
  sos_free(d->image);
  sos_free(d);
  paid(c);
}

static void op_deploy(struct conn *c, const uint8_t *body, uint32_t blen) {
  struct deploy *d = sos_calloc(1, sizeof *d);
  if (d) d->image = sos_malloc(blen ? blen : 1);
  if (!d || !d->image) {
    if (d) sos_free(d);
    return send_error(c, "out of memory");
  }
  memcpy(d->image, body, blen);
  d->len = blen;
  d->c = c;
  d->work.data = d;
  owe(c);
  if (uv_queue_work(&c->k->loop, &d->work, deploy_work, deploy_done)) {
    sos_free(d->image);
    sos_free(d);
    send_error(c, "cannot start the deploy");
    paid(c);
  }
}

static void op_named(struct conn *c, const cJSON *j, bool rollback) {
  const char *svc = str_field(j, "service");
  char err[256] = "";
  uint32_t version = 0;
  int64_t purged = 0;
  if (!svc) return send_error(c, "a service name is needed");
  bool purge = cJSON_IsTrue(cJSON_GetObjectItem(j, "purge"));
  int rc = rollback ? sos__k_rollback(c->k, svc, &version, err, sizeof err)
                    : sos__k_remove(c->k, svc, purge, &purged, err, sizeof err);
  if (rc) return send_error(c, err[0] ? err : sos_strerror(rc));
  cJSON *r = ok_reply();
  if (rollback) cJSON_AddNumberToObject(r, "version", version);
  if (purge) cJSON_AddNumberToObject(r, "purged", (double)purged);
  send_frame(c, r, NULL, 0);
}

/* logs: from an offset (follow) or the last lines. */
static void op_logs(struct conn *c, const cJSON *j) {
  struct kernel *k = c->k;
  const char *svc = str_field(j, "service");
  const cJSON *from = cJSON_GetObjectItem(j, "from"), *lines = cJSON_GetObjectItem(j, "lines");
  pthread_mutex_lock(&k->mu);
  bool known = svc && sos__k_svc_find(k, svc);
  pthread_mutex_unlock(&k->mu);
  if (!known) return send_error(c, "no such service (see sos ps)");
  char path[4200];
  snprintf(path, sizeof path, "%s/logs/%s.log", k->data, svc);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  off_t size = fd >= 0 ? lseek(fd, 0, SEEK_END) : 0;
  char *text = NULL;
  size_t len = 0;
  if (cJSON_IsNumber(from) && fd >= 0) {
    off_t at = (off_t)from->valuedouble;
    if (at > size || at < 0) at = size; /* the log was replaced: start over at its end */
    len = (size_t)(size - at) > (1u << 20) ? 1u << 20 : (size_t)(size - at);
    text = sos_malloc(len + 1);
    ssize_t got = text ? pread(fd, text, len, at) : -1;
    len = got > 0 ? (size_t)got : 0;
    size = at + (off_t)len;
  } else {
    unsigned n = cJSON_IsNumber(lines) && lines->valueint > 0 ? (unsigned)lines->valueint : 100;
    sos__k_log_tail(k, svc, n, &text, &len);
  }
  if (fd >= 0) close(fd);
  cJSON *r = ok_reply();
  cJSON_AddNumberToObject(r, "next", (double)size);
  send_frame(c, r, text, len);
  sos_free(text);
}

/* ---- kv: the operator's access to a service's kv stores ------------------ */

/* A kv write from the control API, waited for on libuv's thread pool. */
struct kv_write {
  uv_work_t work;
  struct conn *c;
  struct sos_store_op op;
  struct sos_store_quota q;
  char owner[64];
  uint8_t key[512];
  uint8_t *val;
  int rc;
  bool done;
  pthread_mutex_t mu;
  pthread_cond_t cv;
};

static void kv_write_done(void *user, int rc, uint64_t info) {
  (void)info;
  struct kv_write *w = user;
  pthread_mutex_lock(&w->mu);
  w->rc = rc;
  w->done = true;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

static void kv_write_work(uv_work_t *u) {
  struct kv_write *w = u->data;
  pthread_mutex_lock(&w->mu);
  w->rc = sos_store_submit(w->c->k->store, &w->q, &w->op, 1, kv_write_done, w);
  w->done = w->rc != 0;
  while (!w->done) pthread_cond_wait(&w->cv, &w->mu);
  pthread_mutex_unlock(&w->mu);
}

static void kv_write_after(uv_work_t *u, int status) {
  struct kv_write *w = u->data;
  struct conn *c = w->c;
  if (status || w->rc)
    send_error(c, status ? "cancelled" : sos_strerror(w->rc));
  else
    send_frame(c, ok_reply(), NULL, 0);
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->cv);
  sos_free(w->val);
  sos_free(w);
  paid(c);
}

/* Queues a put (val not NULL) or a delete of prefix+key. */
static void kv_write(struct conn *c, const uint8_t *prefix, size_t plen, const char *key,
                     const struct sos_app_service *def, const char *owner, const uint8_t *val,
                     uint32_t vlen) {
  struct kv_write *w = sos_calloc(1, sizeof *w);
  if (w && val) w->val = sos_malloc(vlen ? vlen : 1);
  if (!w || (val && !w->val)) {
    sos_free(w);
    return send_error(c, "out of memory");
  }
  size_t klen = strlen(key);
  memcpy(w->key, prefix, plen);
  memcpy(w->key + plen, key, klen);
  if (val && vlen) memcpy(w->val, val, vlen);
  snprintf(w->owner, sizeof w->owner, "%s", owner);
  w->q = (struct sos_store_quota){w->owner, def->quota_bytes, def->quota_keys};
  w->op = (struct sos_store_op){val ? SOS_STORE_PUT : SOS_STORE_DEL, false, w->key,
                                (uint32_t)(plen + klen), w->val, vlen};
  w->c = c;
  w->work.data = w;
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  owe(c);
  if (uv_queue_work(&c->k->loop, &w->work, kv_write_work, kv_write_after)) {
    kv_write_after(&w->work, -1);
  }
}

/* kv: {service, store, action: get|put|del|ls, key, limit} (body: value). */
static void op_kv(struct conn *c, const cJSON *j, const uint8_t *body, uint32_t blen) {
  struct kernel *k = c->k;
  const char *svc = str_field(j, "service"), *store = str_field(j, "store");
  const char *action = str_field(j, "action"), *key = str_field(j, "key");
  const cJSON *lim = cJSON_GetObjectItem(j, "limit");
  if (!svc || !store || !action) return send_error(c, "kv needs a service, a store and an action");
  bool ls = !strcmp(action, "ls");
  if (!ls && (!key || !*key || strlen(key) > SOS_ABI_MAX_KEY))
    return send_error(c, "a key of 1 to 256 bytes is needed");
  if (ls && key && strlen(key) > SOS_ABI_MAX_KEY) return send_error(c, "prefix too long");
  uint8_t prefix[200];
  size_t plen = 0;
  struct sos_app_service def = {0};
  pthread_mutex_lock(&k->mu);
  struct svc *s = sos__k_svc_find(k, svc);
  if (s) plen = sos__k_kv_prefix(s, s->cur->img->app, store, strlen(store), prefix);
  if (s) def = *s->cur->def;
  pthread_mutex_unlock(&k->mu);
  char msg[256];
  if (!s) {
    snprintf(msg, sizeof msg, "no service named %s (see sos ps)", svc);
    return send_error(c, msg);
  }
  if (!plen) {
    snprintf(msg, sizeof msg, "%s has no kv store named %s (see its app.sos)", svc, store);
    return send_error(c, msg);
  }
  if (!strcmp(action, "put")) {
    if (blen > SOS_ABI_MAX_VALUE) return send_error(c, "the value is over 1 MiB");
    return kv_write(c, prefix, plen, key, &def, svc, body, blen);
  }
  if (!strcmp(action, "del")) return kv_write(c, prefix, plen, key, &def, svc, NULL, 0);
  size_t cap = ls ? 4u << 20 : SOS_ABI_MAX_VALUE, used = 0;
  uint8_t *buf = sos_malloc(cap);
  if (!buf) return send_error(c, "out of memory");
  cJSON *r = NULL;
  if (ls) {
    uint32_t limit = cJSON_IsNumber(lim) && lim->valuedouble >= 1 ? (uint32_t)lim->valuedouble : 1000;
    int32_t count = 0;
    const char *from = key ? key : "";
    size_t flen = strlen(from);
    uint8_t end[SOS_ABI_MAX_KEY + 1];
    memcpy(end, from, flen); /* the prefix's successor bounds the scan */
    size_t elen = flen;
    while (elen && end[elen - 1] == 0xff) elen--;
    if (elen) end[elen - 1]++;
    int rc = sos__k_kv_scan(k, prefix, plen, from, flen, end, elen, limit, buf, cap, &count, &used);
    if (rc == 0 || (rc == SOS_ETOOBIG && count)) {
      r = ok_reply();
      cJSON_AddNumberToObject(r, "count", count);
    } else {
      send_error(c, sos_strerror(rc));
    }
  } else {
    uint8_t full[200 + SOS_ABI_MAX_KEY];
    memcpy(full, prefix, plen);
    memcpy(full + plen, key, strlen(key));
    int rc = sos_store_get(k->store, full, plen + strlen(key), buf, cap, &used);
    if (rc == SOS_ENOENT) {
      snprintf(msg, sizeof msg, "no key %.200s in %s/%s", key, svc, store);
      send_error(c, msg);
    } else if (rc) {
      send_error(c, sos_strerror(rc));
    } else {
      r = ok_reply();
    }
  }
  if (r) send_frame(c, r, buf, used);
  sos_free(buf);
}

/* log: {service, store, from | lines}: records from an offset, or the
 * last lines ones; the answer's "next" is where to read on from. */
static void op_log(struct conn *c, const cJSON *j) {
  struct kernel *k = c->k;
  const char *svc = str_field(j, "service"), *store = str_field(j, "store");
  const cJSON *from = cJSON_GetObjectItem(j, "from"), *lines = cJSON_GetObjectItem(j, "lines");
  if (!svc || !store) return send_error(c, "log needs a service and a store");
  uint8_t key[200];
  size_t klen = 0;
  pthread_mutex_lock(&k->mu);
  struct svc *s = sos__k_svc_find(k, svc);
  if (s) klen = sos__k_store_prefix(s, s->cur->img->app, store, strlen(store), SOS_APP_STORE_LOG, key);
  pthread_mutex_unlock(&k->mu);
  char msg[256];
  if (!klen) {
    snprintf(msg, sizeof msg, "%s has no log store named %s", svc, store);
    return send_error(c, s ? msg : "no such service (see sos ps)");
  }
  uint64_t end = sos__k_log_end_of(k, key, klen), at;
  if (cJSON_IsNumber(from) && from->valuedouble >= 0) {
    at = (uint64_t)from->valuedouble;
  } else {
    uint64_t n = cJSON_IsNumber(lines) && lines->valuedouble >= 1 ? (uint64_t)lines->valuedouble : 20;
    at = end > n ? end - n : 0;
  }
  size_t cap = 4u << 20, used = 0;
  uint8_t *buf = sos_malloc(cap);
  if (!buf) return send_error(c, "out of memory");
  int32_t count = 0;
  int rc = sos__k_log_read(k, key, klen, at, 100000, buf, cap, &count, &used);
  if (rc && !(rc == SOS_ETOOBIG && count)) {
    sos_free(buf);
    return send_error(c, sos_strerror(rc));
  }
  uint64_t next = at;
  for (size_t p = 0; p + 12 <= used;) { /* the offset after the last record read */
    uint64_t off;
    uint32_t len;
    memcpy(&off, buf + p, 8);
    memcpy(&len, buf + p + 8, 4);
    next = off + 1;
    p += 12 + len;
  }
  cJSON *r = ok_reply();
  cJSON_AddNumberToObject(r, "next", (double)(count ? next : at > end ? at : end));
  cJSON_AddNumberToObject(r, "count", count);
  send_frame(c, r, buf, used);
  sos_free(buf);
}

/* ---- snapshots: all of a service's stores to a file and back ------------- */

/* A snapshot or a restore, run on libuv's thread pool.  Snapshots in
 * progress are listed in pending (loop thread only), so two at the same
 * second get different names before either file exists. */
struct snap_job {
  uv_work_t work;
  struct conn *c;
  bool restore;
  char svc[64];
  char id[64];
  char path[4200];
  uint64_t keys;
  int rc;
  char err[512];
  struct snap_job *next;
};

static struct snap_job *pending;

static void snap_work(uv_work_t *w) {
  struct snap_job *j = w->data;
  struct kernel *k = j->c->k;
  size_t plen = strlen(j->svc) + 1; /* service NUL: every key of every store (as rm --purge) */
  j->rc = j->restore
              ? sos_store_restore(k->store, j->svc, plen, j->svc, j->path, &j->keys, j->err,
                                  sizeof j->err)
              : sos_store_snapshot(k->store, j->svc, plen, j->path, &j->keys, j->err,
                                   sizeof j->err);
}

/* After a restore (k->mu held): a log of the service may now end past
 * what a tail waits for; answer those tails as an append would. */
static void snap_wake_tails(struct kernel *k, const char *svc) {
  size_t plen = strlen(svc) + 1;
  for (bool again = true; again;) {
    again = false;
    for (struct inst *in = k->log_waiters; in; in = in->log_next) {
      if (in->answered || in->log_klen < plen || memcmp(in->log_key, svc, plen)) continue;
      uint64_t end = sos__k_log_end_of(k, in->log_key, in->log_klen);
      if (end <= in->log_from) continue;
      sos__k_log_appended(k, in->log_key, in->log_klen, end); /* may change the list */
      again = true;
      break;
    }
  }
}

static void snap_after(uv_work_t *w, int status) {
  struct snap_job *j = w->data;
  struct conn *c = j->c;
  for (struct snap_job **p = &pending; *p; p = &(*p)->next)
    if (*p == j) {
      *p = j->next;
      break;
    }
  if (status || j->rc) {
    send_error(c, status ? "cancelled" : j->err[0] ? j->err : sos_strerror(j->rc));
  } else {
    cJSON *r = ok_reply();
    if (!j->restore) cJSON_AddStringToObject(r, "snapshot", j->id);
    cJSON_AddNumberToObject(r, "keys", (double)j->keys);
    send_frame(c, r, NULL, 0);
    pthread_mutex_lock(&c->k->mu);
    struct svc *s = sos__k_svc_find(c->k, j->svc);
    if (s && !s->removed) {
      sos__k_log(s, "info", "%s %s (%llu keys)", j->restore ? "restored from snapshot" : "snapshot",
                 j->id, (unsigned long long)j->keys);
      if (j->restore) snap_wake_tails(c->k, j->svc);
    }
    pthread_mutex_unlock(&c->k->mu);
  }
  sos_free(j);
  paid(c);
}

/* A new job for the service named in request j, which must exist; NULL
 * after answering with the error. */
static struct snap_job *snap_job_new(struct conn *c, const cJSON *j) {
  struct kernel *k = c->k;
  const char *svc = str_field(j, "service");
  if (!svc) {
    send_error(c, "a service name is needed");
    return NULL;
  }
  pthread_mutex_lock(&k->mu);
  struct svc *s = sos__k_svc_find(k, svc);
  bool known = s && !s->removed;
  pthread_mutex_unlock(&k->mu);
  if (!known) {
    char msg[200];
    snprintf(msg, sizeof msg, "no service named %.100s (see sos ps)", svc);
    send_error(c, msg);
    return NULL;
  }
  struct snap_job *job = sos_calloc(1, sizeof *job);
  if (!job) send_error(c, "out of memory");
  if (!job) return NULL;
  snprintf(job->svc, sizeof job->svc, "%s", svc);
  job->c = c;
  job->work.data = job;
  return job;
}

/* Queues job on the thread pool. */
static void snap_queue(struct conn *c, struct snap_job *job) {
  owe(c);
  if (uv_queue_work(&c->k->loop, &job->work, snap_work, snap_after)) {
    job->rc = SOS_ESTATE;
    snprintf(job->err, sizeof job->err, "cannot start the %s", job->restore ? "restore" : "snapshot");
    snap_after(&job->work, 0);
  }
}

/* Whether id is a snapshot name: 1 to 63 of [0-9A-Za-z-], so never a path. */
static bool snap_id_ok(const char *id) {
  size_t n = strlen(id);
  if (!n || n > 63) return false;
  for (size_t i = 0; i < n; i++)
    if (!(id[i] >= '0' && id[i] <= '9') && !(id[i] >= 'A' && id[i] <= 'Z') &&
        !(id[i] >= 'a' && id[i] <= 'z') && id[i] != '-')
      return false;
  return true;
}

/* Whether a file or a snapshot in progress already has the path. */
static bool snap_taken(const char *path) {
  struct stat sb;
  if (!stat(path, &sb) || errno != ENOENT) return true;
  for (struct snap_job *p = pending; p; p = p->next)
    if (!strcmp(p->path, path)) return true;
  return false;
}

/* Picks DATA/snapshots/SVC/ID.snap, ID the UTC time (then -2, -3...),
 * creating the folders. */
static int snap_name(struct kernel *k, struct snap_job *job) {
  char dir[4200];
  snprintf(dir, sizeof dir, "%s/snapshots", k->data);
  if (mkdir(dir, 0700) && errno != EEXIST) return SOS_EIO;
  snprintf(dir, sizeof dir, "%s/snapshots/%s", k->data, job->svc);
  if (mkdir(dir, 0700) && errno != EEXIST) return SOS_EIO;
  time_t now = time(NULL);
  struct tm tm;
  char base[32];
  strftime(base, sizeof base, "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
  for (int n = 1; n < 1000; n++) {
    if (n == 1) snprintf(job->id, sizeof job->id, "%s", base);
    else snprintf(job->id, sizeof job->id, "%s-%d", base, n);
    snprintf(job->path, sizeof job->path, "%s/snapshots/%s/%s.snap", k->data, job->svc, job->id);
    if (!snap_taken(job->path)) return 0;
  }
  return SOS_ELIMIT;
}

/* snapshot: {service} -> {snapshot: ID, keys: N}. */
static void op_snapshot(struct conn *c, const cJSON *j) {
  struct snap_job *job = snap_job_new(c, j);
  if (!job) return;
  int rc = snap_name(c->k, job);
  if (rc) {
    char msg[300];
    snprintf(msg, sizeof msg, "cannot name a snapshot in %s/snapshots: %s", c->k->data,
             rc == SOS_EIO ? strerror(errno) : "too many this second");
    sos_free(job);
    return send_error(c, msg);
  }
  job->next = pending;
  pending = job;
  snap_queue(c, job);
}

/* restore: {service, snapshot} -> {keys: N}. */
static void op_restore(struct conn *c, const cJSON *j) {
  const char *id = str_field(j, "snapshot");
  if (!id || !snap_id_ok(id))
    return send_error(c, "a snapshot name is needed: letters, digits and '-' (see sos snapshot --list)");
  struct snap_job *job = snap_job_new(c, j);
  if (!job) return;
  job->restore = true;
  snprintf(job->id, sizeof job->id, "%s", id);
  snprintf(job->path, sizeof job->path, "%s/snapshots/%s/%s.snap", c->k->data, job->svc, id);
  struct stat sb;
  if (stat(job->path, &sb)) {
    char msg[300];
    snprintf(msg, sizeof msg, "%s has no snapshot %s (see sos snapshot --list %s)", job->svc, id,
             job->svc);
    sos_free(job);
    return send_error(c, msg);
  }
  snap_queue(c, job);
}

static int snap_cmp(const void *a, const void *b) {
  return strverscmp(*(char *const *)a, *(char *const *)b);
}

/* snapshots: {service} -> {snapshots: [{id, bytes}]}, oldest first. */
static void op_snapshots(struct conn *c, const cJSON *j) {
  struct snap_job *job = snap_job_new(c, j); /* checks the service */
  if (!job) return;
  char dir[4200];
  snprintf(dir, sizeof dir, "%s/snapshots/%s", c->k->data, job->svc);
  sos_free(job);
  DIR *d = opendir(dir);
  char **names = NULL;
  size_t n = 0, cap = 0;
  for (struct dirent *e; d && (e = readdir(d));) {
    size_t len = strlen(e->d_name);
    if (len < 6 || strcmp(e->d_name + len - 5, ".snap")) continue;
    if (n == cap) {
      char **p = sos_realloc(names, (cap = cap ? 2 * cap : 16) * sizeof *names);
      if (!p) break;
      names = p;
    }
    if (!(names[n] = sos_strndup(e->d_name, len - 5))) break;
    if (snap_id_ok(names[n])) n++;
    else sos_free(names[n]);
  }
  if (d) closedir(d);
  if (n) qsort(names, n, sizeof *names, snap_cmp);
  cJSON *r = ok_reply(), *arr = cJSON_AddArrayToObject(r, "snapshots");
  for (size_t i = 0; i < n; i++) {
    char path[4400];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s.snap", dir, names[i]);
    if (!stat(path, &sb)) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "id", names[i]);
      cJSON_AddNumberToObject(o, "bytes", (double)sb.st_size);
      cJSON_AddItemToArray(arr, o);
    }
    sos_free(names[i]);
  }
  sos_free(names);
  send_frame(c, r, NULL, 0);
}

/* files: {service, action: ls|cat|put, path} (body: the content for put):
 * the tree the service's instances see (image files under its files
 * store's writes). */
static void op_files(struct conn *c, const cJSON *j, const uint8_t *body, uint32_t blen) {
  struct kernel *k = c->k;
  const char *svc = str_field(j, "service"), *action = str_field(j, "action");
  const char *path = str_field(j, "path");
  if (!svc || !action) return send_error(c, "files needs a service and an action");
  if (!path) path = "";
  uint8_t *data = NULL, key[600];
  size_t len = 0, klen = 0;
  char *text = NULL, msg[300];
  struct sos_app_service def = {0};
  int rc = SOS_ENOENT;
  pthread_mutex_lock(&k->mu);
  struct svc *s = sos__k_svc_find(k, svc);
  if (s && !strcmp(action, "cat")) rc = sos__k_files_cat(k, s, path, &data, &len);
  else if (s && !strcmp(action, "ls")) rc = sos__k_files_ls(k, s, path, &text);
  else if (s && !strcmp(action, "put")) {
    klen = sos__k_files_key(s, path, key);
    def = *s->cur->def;
    rc = klen ? 0 : SOS_EINVAL;
  } else if (s) {
    rc = SOS_EINVAL;
  }
  pthread_mutex_unlock(&k->mu);
  if (!s) {
    snprintf(msg, sizeof msg, "no service named %s (see sos ps)", svc);
    return send_error(c, msg);
  }
  if (rc) {
    snprintf(msg, sizeof msg, "%s: %.200s", rc == SOS_ENOENT ? "no such file or folder"
             : rc == SOS_ESTATE ? (strcmp(action, "ls") ? "a folder" : "not a folder")
             : !strcmp(action, "put") ? "cannot write there (does its app declare a files store?)"
             : "bad path or action", path);
    return send_error(c, msg);
  }
  if (!strcmp(action, "put")) {
    if (blen > SOS_ABI_MAX_VALUE - 1) return send_error(c, "the file is over 1 MiB");
    uint8_t *v = sos_malloc(blen + 1u);
    if (!v) return send_error(c, "out of memory");
    v[0] = 1; /* a file (files.c's tags) */
    memcpy(v + 1, body, blen);
    kv_write(c, key, klen, "", &def, svc, v, blen + 1);
    sos_free(v);
    return;
  }
  send_frame(c, ok_reply(), text ? (const void *)text : data, text ? strlen(text) : len);
  sos_free(text);
  sos_free(data);
}

/* The field of t named name (NULL: the key). */
static const struct sos_app_field *table_field(const struct tbl *t, const char *name) {
  if (!name) return t->key;
  for (uint32_t i = 0; i < t->sd->nfields; i++)
    if (!strcmp(t->sd->fields[i].name, name)) return &t->sd->fields[i];
  return NULL;
}

/* The rows of a query's answer (records u32 length + row) as JSON. */
static cJSON *table_rows(const struct tbl *t, const uint8_t *buf, size_t used) {
  cJSON *rows = cJSON_CreateArray();
  for (size_t at = 0; at + 4 <= used;) {
    uint32_t n;
    memcpy(&n, buf + at, 4);
    cJSON_AddItemToArray(rows, sos__k_row_json(t, buf + at + 4, n));
    at += 4 + n;
  }
  return rows;
}

/* The bound typed as text for field f (NULL or "": none) into *b; false
 * with why when text is not a value of f's type. */
static bool table_bound(const struct tbl *t, const struct sos_app_field *f, const char *text,
                        uint8_t **b, size_t *len, char *why, size_t n) {
  *b = NULL;
  *len = 0;
  return !text || !*text || sos__k_table_bound(t, f, text, b, len, why, n) == 0;
}

/* Reads the rows a table request asks for into *rows (k->mu held): the
 * key's row (get) or a query's.  0, or an error with a message in why. */
static int table_read(struct kernel *k, const struct tbl *t, const struct sos_app_field *f,
                      const cJSON *j, bool get, cJSON **rows, char *why, size_t n) {
  const char *from = str_field(j, get ? "key" : "from"), *to = get ? NULL : str_field(j, "to");
  const cJSON *lim = cJSON_GetObjectItem(j, "limit");
  uint8_t *lo = NULL, *hi = NULL, *buf = NULL;
  size_t lolen = 0, hilen = 0, used = 0, cap = 4u << 20;
  int32_t count = 0;
  int rc = SOS_EINVAL;
  if (table_bound(t, f, from, &lo, &lolen, why, n) && table_bound(t, f, to, &hi, &hilen, why, n)) {
    if (get) {
      rc = sos__k_table_get(k, t, lo, lolen, &buf, &used);
      if (!rc) {
        *rows = cJSON_CreateArray();
        cJSON_AddItemToArray(*rows, sos__k_row_json(t, buf, used));
      }
    } else if ((buf = sos_malloc(cap))) {
      uint32_t limit = cJSON_IsNumber(lim) && lim->valuedouble >= 1 ? (uint32_t)lim->valuedouble : 1000;
      rc = sos__k_table_query(k, t, f->tag, lo, lolen, hi, hilen, limit, buf, cap, &count, &used);
      if (!rc) *rows = table_rows(t, buf, used);
    } else {
      rc = SOS_ENOMEM;
    }
    if (rc == SOS_EINVAL) snprintf(why, n, "a value that is not the field's type, or a field "
                                           "without an index: %s", f->name);
  }
  sos_free(lo);
  sos_free(hi);
  sos_free(buf);
  return rc;
}

/* table: {service, store, action: get|query, key | field, from, to, limit}:
 * rows as JSON objects named by the struct's fields (docs/wire.md, JSON). */
static void op_table(struct conn *c, const cJSON *j) {
  struct kernel *k = c->k;
  const char *svc = str_field(j, "service"), *store = str_field(j, "store");
  const char *action = str_field(j, "action"), *fname = str_field(j, "field");
  if (!svc || !store || !action) return send_error(c, "table needs a service, a store and an action");
  bool get = !strcmp(action, "get");
  const char *key = str_field(j, "key");
  if (get && !key) return send_error(c, "get needs a key");
  struct tbl t;
  char msg[600] = "";
  bool found = false;
  cJSON *rows = NULL;
  const struct sos_app_field *f = NULL;
  int rc = SOS_EINVAL;
  pthread_mutex_lock(&k->mu); /* t points into the version's definition */
  struct svc *s = sos__k_svc_find(k, svc);
  if (s) found = sos__k_table_of(s, s->cur->img, store, strlen(store), &t);
  if (found) f = table_field(&t, get ? NULL : fname);
  if (f) rc = table_read(k, &t, f, j, get, &rows, msg, sizeof msg);
  pthread_mutex_unlock(&k->mu);
  if (!s || !found)
    snprintf(msg, sizeof msg, s ? "%s has no table store named %s" : "no service named %s%.0s", svc,
             store);
  else if (!f)
    snprintf(msg, sizeof msg, "no field named %s in the table's struct", fname);
  else if (rc == SOS_ENOENT)
    snprintf(msg, sizeof msg, "no row with key %.200s in %s/%s", key, svc, store);
  else if (rc && !*msg)
    snprintf(msg, sizeof msg, "reading %s/%s: %s", svc, store, sos_strerror(rc));
  if (rc) return send_error(c, msg);
  cJSON *r = ok_reply();
  cJSON_AddItemToObject(r, "rows", rows);
  send_frame(c, r, NULL, 0);
}

/* {"op":"secret","action":"set"|"rm"|"ls","name":NAME}: the node's
 * secrets (secrets.c).  set takes the value as the body; ls answers
 * "NAME<TAB>BYTES" lines; no op ever answers a value. */
static void op_secret(struct conn *c, const cJSON *j, const uint8_t *body, uint32_t blen) {
  const char *action = str_field(j, "action"), *name = str_field(j, "name");
  char err[300];
  int rc;
  if (action && !strcmp(action, "ls")) {
    char *text = NULL;
    if (sos__k_secret_list(c->k, &text)) return send_error(c, "out of memory");
    send_frame(c, ok_reply(), text, strlen(text));
    sos_free(text);
    return;
  }
  if (!action || !name || (strcmp(action, "set") && strcmp(action, "rm")))
    return send_error(c, "secret needs an action (set, rm or ls) and a name");
  rc = !strcmp(action, "set") ? sos__k_secret_set(c->k, name, body, blen, err, sizeof err)
                              : sos__k_secret_rm(c->k, name, err, sizeof err);
  if (rc) return send_error(c, err);
  send_frame(c, ok_reply(), NULL, 0);
}

/* Handles one request frame. */
static void handle(struct conn *c, const char *json, uint32_t jlen, const uint8_t *body,
                   uint32_t blen) {
  cJSON *j = cJSON_ParseWithLength(json, jlen);
  const char *op = str_field(j, "op");
  if (!op) {
    send_error(c, "a request is a JSON object with an \"op\"");
    cJSON_Delete(j);
    conn_close(c);
    return;
  }
  if (!strcmp(op, "call")) op_call(c, j, body, blen);
  else if (!strcmp(op, "describe")) op_describe(c, j);
  else if (!strcmp(op, "status")) op_status(c);
  else if (!strcmp(op, "ps")) op_ps(c);
  else if (!strcmp(op, "deploy")) op_deploy(c, body, blen);
  else if (!strcmp(op, "rollback")) op_named(c, j, true);
  else if (!strcmp(op, "rm")) op_named(c, j, false);
  else if (!strcmp(op, "logs")) op_logs(c, j);
  else if (!strcmp(op, "kv")) op_kv(c, j, body, blen);
  else if (!strcmp(op, "files")) op_files(c, j, body, blen);
  else if (!strcmp(op, "table")) op_table(c, j);
  else if (!strcmp(op, "log")) op_log(c, j);
  else if (!strcmp(op, "snapshot")) op_snapshot(c, j);
  else if (!strcmp(op, "restore")) op_restore(c, j);
  else if (!strcmp(op, "snapshots")) op_snapshots(c, j);
  else if (!strcmp(op, "secret")) op_secret(c, j, body, blen);
  else if (!strcmp(op, "stop")) {
    send_frame(c, ok_reply(), NULL, 0);
    sos__k_shutdown(c->k);
  } else {
    send_error(c, "unknown op");
    conn_close(c);
  }
  cJSON_Delete(j);
}

/* Handles every complete frame in the buffer. */
static void frames(struct conn *c) {
  size_t at = 0;
  while (!uv_is_closing((uv_handle_t *)&c->pipe) && c->len - at >= 8) {
    uint32_t h[2];
    memcpy(h, c->buf + at, 8);
    if (h[0] > SOS_CONTROL_MAX_JSON || h[1] > SOS_CONTROL_MAX_BODY) {
      send_error(c, "frame too large");
      conn_close(c);
      return;
    }
    if (c->len - at - 8 < (size_t)h[0] + h[1]) break;
    handle(c, (const char *)c->buf + at + 8, h[0], c->buf + at + 8 + h[0], h[1]);
    at += 8 + (size_t)h[0] + h[1];
  }
  memmove(c->buf, c->buf + at, c->len - at);
  c->len -= at;
}

static void on_alloc(uv_handle_t *h, size_t want, uv_buf_t *b) {
  struct conn *c = h->data;
  if (want < 65536) want = 65536;
  if (c->cap - c->len < want) {
    uint8_t *p = sos_realloc(c->buf, c->len + want);
    if (!p) {
      *b = uv_buf_init(NULL, 0);
      return;
    }
    c->buf = p;
    c->cap = c->len + want;
  }
  *b = uv_buf_init((char *)c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  (void)b;
  struct conn *c = s->data;
  if (n < 0) {
    conn_close(c);
    return;
  }
  c->len += (size_t)n;
  frames(c);
}

static void on_connect(uv_stream_t *server, int status) {
  struct kernel *k = server->data;
  if (status < 0) return;
  struct conn *c = sos_calloc(1, sizeof *c);
  if (!c) return;
  c->k = k;
  uv_pipe_init(&k->loop, &c->pipe, 0);
  c->pipe.data = c;
  if (uv_accept(server, (uv_stream_t *)&c->pipe) ||
      uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read))
    conn_close(c);
}

/* ---- the server ---------------------------------------------------------- */

int sos__k_control_start(struct kernel *k, char *err, size_t errlen) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", k->data, SOS_CONTROL_SOCKET);
  unlink(path); /* a stale socket: we hold the node's lock */
  uv_pipe_init(&k->loop, &k->ctl, 0);
  k->ctl.data = k;
  int rc = uv_pipe_bind(&k->ctl, path);
  if (!rc) rc = chmod(path, 0600) ? UV_EPERM : 0;
  if (!rc) rc = uv_listen((uv_stream_t *)&k->ctl, 128, on_connect);
  if (rc) {
    snprintf(err, errlen, "cannot listen on %s: %s", path, uv_strerror(rc));
    return SOS_EIO;
  }
  return 0;
}

void sos__k_control_stop(struct kernel *k) {
  if (!uv_is_closing((uv_handle_t *)&k->ctl)) uv_close((uv_handle_t *)&k->ctl, NULL);
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", k->data, SOS_CONTROL_SOCKET);
  unlink(path);
}

static void close_conn(uv_handle_t *h, void *arg) {
  struct kernel *k = arg;
  if (h->type == UV_NAMED_PIPE && h != (uv_handle_t *)&k->ctl) conn_close(h->data);
}

void sos__k_control_close_all(struct kernel *k) { uv_walk(&k->loop, close_conn, k); }

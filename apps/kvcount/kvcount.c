/*
 * kvcount.c - durable counters in a kv store, shared by every instance.
 *
 *   hit NAME     -> adds one to counter NAME; answers its new count
 *   get NAME     -> the count (0 for a counter never hit)
 *   list         -> every counter, one "NAME COUNT" line each, by name
 *   reset NAME   -> deletes the counter; answers 0
 *   add2 A B     -> adds one to A and to B atomically; answers both new
 *                   counts, "A B" (the same name twice adds two)
 *   bump NAME    -> adds one with the store's own add (sos_kv_add): no
 *                   read, no retry, durable; answers "ok"
 *   tick NAME    -> the same without waiting for the disk (the add
 *                   commits with the next group); answers "queued"
 *
 * Counter NAME lives in store `counts` under the key "c/NAME" with its
 * count as decimal text, so `list` is a prefix scan of "c/".  Up to four
 * instances serve requests at once, on this node's worker threads, so two
 * of them can read the same count and both try to write count + 1.  No
 * lock prevents that; compare-and-swap resolves it instead: the write
 * succeeds only if the value is still the one read, and the loser reads
 * again and retries.  add2 does the same for two keys with a batch of two
 * checks and two puts, which the kernel applies all or nothing.
 *
 * Every write returns only once it is durable, so a count answered is a
 * count that survives a restart of the node.
 */
#include "sos.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STORE "counts"
#define PREFIX "c/" /* every counter's key is PREFIX NAME */
#define PREFIX_LEN 2
#define MAX_NAME (SOS_ABI_MAX_KEY - PREFIX_LEN)
#define ATTEMPTS 100 /* compare-and-swap rounds before giving up */
#define DIGITS 24    /* room for a u64 in decimal and a NUL */

/* A counter as read: its key and, when present, the value's bytes. */
struct counter {
  char key[SOS_ABI_MAX_KEY + 1];
  size_t klen;
  const char *name; /* inside key */
  char old[DIGITS];
  size_t olen;
  bool present;
  unsigned long long count;
};

/* Builds c's key from the len bytes of name; false for a name that is
 * empty, too long or holds spaces or control characters. */
static bool counter_init(struct counter *c, const char *name, size_t len) {
  if (!len || len > MAX_NAME) return false;
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)name[i] <= ' ' || name[i] == 0x7f) return false;
  memcpy(c->key, PREFIX, PREFIX_LEN);
  memcpy(c->key + PREFIX_LEN, name, len);
  c->klen = PREFIX_LEN + len;
  c->key[c->klen] = 0;
  c->name = c->key + PREFIX_LEN;
  return true;
}

/* Reads c's current value.  Returns a status; SOS_STATUS_ERROR when the
 * stored value is not a decimal count. */
static int counter_read(struct counter *c) {
  size_t len;
  int status = sos_kv_get_buf(STORE, c->key, c->klen, c->old, sizeof c->old - 1, &len);
  c->present = status == SOS_STATUS_OK;
  c->olen = c->present ? len : 0;
  c->count = 0;
  if (status == SOS_STATUS_NOT_FOUND) return SOS_STATUS_OK;
  if (status != SOS_STATUS_OK) return status;
  if (!len || len >= sizeof c->old) return SOS_STATUS_ERROR;
  c->old[len] = 0;
  char *end;
  c->count = strtoull(c->old, &end, 10);
  return *end || c->old[0] < '0' || c->old[0] > '9' ? SOS_STATUS_ERROR : SOS_STATUS_OK;
}

/* Fails the request after status on counter c; the caller sees the
 * status's words, then "what counter NAME". */
static int counter_fail(const struct counter *c, int status, const char *what) {
  if (status == SOS_STATUS_ERROR)
    return sos_fail(status, "counter %s holds \"%.*s\", not a count", c->name,
                    (int)c->olen, c->old);
  return sos_fail(status, "%s counter %s", what, c->name);
}

static int usage(const char *method, const char *args) {
  return sos_fail(SOS_STATUS_INVALID, "usage: %s %s (names of 1 to %d bytes, no spaces)",
                  method, args, MAX_NAME);
}

static int hit(const struct sos_request *req) {
  struct counter c;
  if (!counter_init(&c, req->body, req->len)) return usage("hit", "NAME");
  for (int i = 0; i < ATTEMPTS; i++) {
    int status = counter_read(&c);
    if (status) return counter_fail(&c, status, "reading");
    char val[DIGITS];
    int n = snprintf(val, sizeof val, "%llu", c.count + 1);
    status = sos_kv_cas(STORE, c.key, c.klen, c.present ? c.old : NULL, c.olen, val,
                        (size_t)n);
    if (status == SOS_STATUS_OK) return sos_respond(val, (size_t)n);
    if (status != SOS_STATUS_CONFLICT) return counter_fail(&c, status, "writing");
  }
  return sos_fail(SOS_STATUS_CONFLICT, "counter %s is too busy: %d attempts failed",
                  c.name, ATTEMPTS);
}

static int get(const struct sos_request *req) {
  struct counter c;
  if (!counter_init(&c, req->body, req->len)) return usage("get", "NAME");
  int status = counter_read(&c);
  return status ? counter_fail(&c, status, "reading") : sos_respondf("%llu", c.count);
}

static int reset(const struct sos_request *req) {
  struct counter c;
  if (!counter_init(&c, req->body, req->len)) return usage("reset", "NAME");
  int status = sos_kv_del(STORE, c.key, c.klen);
  return status ? counter_fail(&c, status, "deleting") : sos_respond_str("0");
}

/* The text list builds, grown as it goes. */
struct text {
  char *p;
  size_t len, cap;
  bool oom; /* memory ran out: the list is incomplete */
};

/* Appends one "NAME COUNT" line for a key of the scan. */
static int list_each(void *user, const char *key, size_t klen, const char *val,
                     size_t vlen) {
  struct text *t = user;
  size_t need = klen - PREFIX_LEN + vlen + 2;
  if (t->cap - t->len < need) {
    size_t cap = t->cap ? 2 * t->cap : 1024;
    while (cap - t->len < need) cap *= 2;
    char *p = realloc(t->p, cap);
    if (!p) return t->oom = true;
    t->p = p;
    t->cap = cap;
  }
  memcpy(t->p + t->len, key + PREFIX_LEN, klen - PREFIX_LEN);
  t->len += klen - PREFIX_LEN;
  t->p[t->len++] = ' ';
  memcpy(t->p + t->len, val, vlen);
  t->len += vlen;
  t->p[t->len++] = '\n';
  return 0;
}

static int list(const struct sos_request *req) {
  (void)req;
  struct text t = {NULL, 0, 0, false};
  int n = sos_kv_scan_prefix(STORE, PREFIX, PREFIX_LEN, list_each, &t);
  if (n >= 0 && t.oom) n = -SOS_STATUS_TOO_BIG; /* the list would be cut short */
  int status = n < 0 ? sos_fail(-n, "listing the counters: %s", sos_status_text(n))
                     : sos_respond(t.p, t.len);
  free(t.p);
  return status;
}

/* Adds to batch b: c must still hold what was read, then c + by. */
static void batch_bump(struct sos_kv_batch *b, const struct counter *c,
                       unsigned long long by, char *val) {
  if (c->present) sos_kv_batch_check(b, c->key, c->klen, c->old, c->olen);
  else sos_kv_batch_check_absent(b, c->key, c->klen);
  int n = snprintf(val, DIGITS, "%llu", c->count + by);
  sos_kv_batch_put(b, c->key, c->klen, val, (size_t)n);
}

/* Reads a and b and writes both plus one in one batch (plus two when
 * they are the same counter).  Returns the batch's status, having failed
 * the request unless it is OK or CONFLICT; the new values are left in va
 * and vb. */
static int add2_once(struct counter *a, struct counter *b, char *va, char *vb) {
  bool same = strcmp(a->key, b->key) == 0;
  int status = counter_read(a);
  if (status) return counter_fail(a, status, "reading");
  if (!same && (status = counter_read(b))) return counter_fail(b, status, "reading");
  struct sos_kv_batch batch = SOS_KV_BATCH_INIT;
  batch_bump(&batch, a, same ? 2 : 1, va);
  if (same) memcpy(vb, va, DIGITS);
  else batch_bump(&batch, b, 1, vb);
  status = sos_kv_batch_commit(&batch, STORE);
  sos_kv_batch_free(&batch);
  if (status != SOS_STATUS_OK && status != SOS_STATUS_CONFLICT)
    return sos_fail(status, "writing counters %s and %s", a->name, b->name);
  return status;
}

static int add2(const struct sos_request *req) {
  struct counter a, b;
  const char *space = memchr(req->body, ' ', req->len);
  if (!space || !counter_init(&a, req->body, (size_t)(space - req->body)) ||
      !counter_init(&b, space + 1, req->len - (size_t)(space - req->body) - 1))
    return usage("add2", "A B");
  char va[DIGITS], vb[DIGITS];
  for (int i = 0; i < ATTEMPTS; i++) {
    int status = add2_once(&a, &b, va, vb);
    if (status == SOS_STATUS_OK) return sos_respondf("%s %s", va, vb);
    if (status != SOS_STATUS_CONFLICT) return status; /* add2_once has answered */
  }
  return sos_fail(SOS_STATUS_CONFLICT,
                  "counters %s and %s are too busy: %d attempts failed", a.name, b.name,
                  ATTEMPTS);
}

/* bump and tick: the store adds in place, so no compare-and-swap loop. */
static int add_one(const struct sos_request *req, int wait) {
  struct counter c;
  if (!counter_init(&c, req->body, req->len)) return usage(wait ? "bump" : "tick", "NAME");
  int status = sos_kv_add(STORE, c.key, c.klen, 1, wait);
  if (status) return sos_fail(status, "adding to counter %s", c.name);
  return sos_respond_str(wait ? "ok" : "queued");
}

static int bump(const struct sos_request *req) { return add_one(req, 1); }
static int tick(const struct sos_request *req) { return add_one(req, 0); }

void sos_main(void) {
  sos_method("bump", bump);
  sos_method("tick", tick);
  sos_method("hit", hit);
  sos_method("get", get);
  sos_method("list", list);
  sos_method("reset", reset);
  sos_method("add2", add2);
}

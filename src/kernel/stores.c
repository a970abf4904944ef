/*
 * stores.c - the built-in service `stores`: the storage admin calls, typed.
 *
 * `sos kv`, `sos log` and the other storage commands speak the control
 * protocol; this service gives the same powers an interface (Stores, in
 * package sos: src/idl/builtins.c), so that `sos call stores kv_get
 * '{"service":"box","store":"box","key":"azE="}'` works, `sos describe
 * stores` documents it, and a program talking to the control socket can
 * use typed calls for it.  It reaches into any service's stores, so only
 * the node's owner may call it: calls from outside (the control socket,
 * mode 0600) are accepted, and every instance is refused, whatever its
 * app's `uses` says (sos__k_builtin_admin) - no ambient authority.
 *
 * Reads answer at once from a read transaction.  Writes go through the
 * store's group commit like an app's, counted against the service's
 * quota, and the call is answered from the committer's callback once the
 * write is durable.  Answers are written straight in the wire format
 * (their structs are small and fixed: sos_idl_put_*), requests read with
 * the schema.
 */
#include "kernel/kernel.h"

#include <stdio.h>
#include <string.h>

enum { E_NO_SERVICE = 1, E_NO_STORE, E_NO_KEY, E_QUOTA, E_BAD_KEY };

/* Answers r with the bytes of b (freed here), or BUSY when b failed. */
static void answer(struct kernel *k, struct req *r, struct sos_buf *b) {
  if (b->rc) sos__k_complete(k, r, SOS_STATUS_BUSY, "out of memory", 13);
  else sos__k_complete(k, r, SOS_STATUS_OK, b->p, b->len);
  sos_buf_free(b);
}

/* ---- reading requests ----------------------------------------------------- */


/* The store named by the request's service and store fields, of kind type
 * (SOS_APP_STORE_*): its key prefix into prefix (room for 200 bytes) and
 * its service; NULL, with the call answered, when there is none. */
static struct svc *target(struct kernel *k, struct req *r, int req_type, int type,
                          uint8_t *prefix, size_t *plen) {
  char name[80], store[80], msg[256];
  size_t n, sn;
  const uint8_t *p = sos__k_req_bytes(k, r, req_type, "service", &n);
  const uint8_t *sp = sos__k_req_bytes(k, r, req_type, "store", &sn);
  snprintf(name, sizeof name, "%.*s", (int)(n < 79 ? n : 79), p ? (const char *)p : "");
  snprintf(store, sizeof store, "%.*s", (int)(sn < 79 ? sn : 79),
           sp ? (const char *)sp : "");
  struct svc *s = sos__k_svc_find(k, name);
  if (!s || s->removed) {
    snprintf(msg, sizeof msg, "no service named %s (see sos ps)", name);
    sos__k_answer_error(k, r, "Stores", E_NO_SERVICE, msg);
    return NULL;
  }
  *plen = sos__k_store_prefix(s, s->cur->img->app, store, strlen(store), type, prefix);
  if (!*plen) {
    snprintf(msg, sizeof msg, "%s has no %s store named %s (see its app.sos)", name,
             type == SOS_APP_STORE_KV ? "kv" : "log", store);
    sos__k_answer_error(k, r, "Stores", E_NO_STORE, msg);
    return NULL;
  }
  return s;
}

/* The full key of the request's key field after prefix, into full (room
 * for 200 + SOS_ABI_MAX_KEY); false, answered, when it is empty or long. */
static bool full_key(struct kernel *k, struct req *r, int req_type, const uint8_t *prefix,
                     size_t plen, uint8_t *full, size_t *flen) {
  size_t n;
  const uint8_t *key = sos__k_req_bytes(k, r, req_type, "key", &n);
  if (!key || !n || n > SOS_ABI_MAX_KEY) {
    sos__k_answer_error(k, r, "Stores", E_BAD_KEY, "a key is 1 to 256 bytes");
    return false;
  }
  memcpy(full, prefix, plen);
  memcpy(full + plen, key, n);
  *flen = plen + n;
  return true;
}

/* ---- the methods ------------------------------------------------------------ */

static void kv_get(struct kernel *k, struct req *r, int req_type) {
  uint8_t prefix[200], full[200 + SOS_ABI_MAX_KEY];
  size_t plen, flen, used = 0;
  if (!target(k, r, req_type, SOS_APP_STORE_KV, prefix, &plen) ||
      !full_key(k, r, req_type, prefix, plen, full, &flen))
    return;
  uint8_t *buf = sos_malloc(SOS_ABI_MAX_VALUE);
  if (!buf) return sos__k_complete(k, r, SOS_STATUS_BUSY, "out of memory", 13);
  int rc = sos_store_get(k->store, full, flen, buf, SOS_ABI_MAX_VALUE, &used);
  if (rc == SOS_ENOENT) {
    sos__k_answer_error(k, r, "Stores", E_NO_KEY, "no such key");
  } else if (rc) {
    sos__k_complete(k, r, SOS_STATUS_ERROR, sos_strerror(rc), strlen(sos_strerror(rc)));
  } else { /* KvValue { value = 1 } */
    struct sos_buf b = {0};
    if (used) sos_idl_put_bytes(&b, 1, buf, used);
    answer(k, r, &b);
  }
  sos_free(buf);
}

/* A write in flight: answered from the committer thread. */
struct write {
  struct kernel *k;
  struct req *r;
};

static void written(void *user, int rc, uint64_t info) {
  struct write *w = user;
  struct kernel *k = w->k;
  (void)info;
  pthread_mutex_lock(&k->mu);
  if (rc == SOS_EQUOTA)
    sos__k_answer_error(k, w->r, "Stores", E_QUOTA,
                        "the service's storage quota is exceeded");
  else if (rc)
    sos__k_complete(k, w->r, SOS_STATUS_ERROR, sos_strerror(rc),
                    strlen(sos_strerror(rc)));
  else sos__k_complete(k, w->r, SOS_STATUS_OK, NULL, 0);
  pthread_mutex_unlock(&k->mu);
  sos_free(w);
}

static void kv_write(struct kernel *k, struct req *r, int req_type, bool put) {
  uint8_t prefix[200], full[200 + SOS_ABI_MAX_KEY];
  size_t plen, flen, vlen = 0;
  struct svc *s = target(k, r, req_type, SOS_APP_STORE_KV, prefix, &plen);
  if (!s || !full_key(k, r, req_type, prefix, plen, full, &flen)) return;
  const uint8_t *val = put ? sos__k_req_bytes(k, r, req_type, "value", &vlen) : NULL;
  if (vlen > SOS_ABI_MAX_VALUE)
    return sos__k_complete(k, r, SOS_STATUS_TOO_BIG, "a value is at most 1 MiB", 24);
  struct write *w = sos_malloc(sizeof *w);
  if (!w) return sos__k_complete(k, r, SOS_STATUS_BUSY, "out of memory", 13);
  *w = (struct write){k, r};
  const struct sos_app_service *def = s->cur->def;
  struct sos_store_quota q = {s->name, def->quota_bytes, def->quota_keys};
  struct sos_store_op op = {
      put ? SOS_STORE_PUT : SOS_STORE_DEL, false,         full, (uint32_t)flen,
      val ? val : (const uint8_t *)"",     (uint32_t)vlen};
  int rc = sos_store_submit(k->store, &q, &op, 1, written, w); /* copies the op */
  if (rc) {
    sos_free(w);
    sos__k_complete(k, r, SOS_STATUS_ERROR, sos_strerror(rc), strlen(sos_strerror(rc)));
  }
}

/* Turns kv_scan records (u32 klen, u32 vlen, key, value) into a KvList. */
static void answer_pairs(struct kernel *k, struct req *r, const uint8_t *buf,
                         size_t used) {
  struct sos_buf list = {0}, out = {0};
  for (size_t p = 0; p + 8 <= used;) {
    uint32_t kl, vl;
    struct sos_buf pair = {0}; /* KvPair { key = 1; value = 2 } */
    memcpy(&kl, buf + p, 4);
    memcpy(&vl, buf + p + 4, 4);
    if (kl) sos_idl_put_bytes(&pair, 1, buf + p + 8, kl);
    if (vl) sos_idl_put_bytes(&pair, 2, buf + p + 8 + kl, vl);
    sos_idl_put_inner(&list, 0, &pair);
    p += 8 + kl + vl;
  }
  sos_idl_put_inner(&out, 1, &list);
  answer(k, r, &out);
}

static void kv_list(struct kernel *k, struct req *r, int req_type) {
  uint8_t prefix[200], end[SOS_ABI_MAX_KEY + 1];
  size_t plen, n;
  if (!target(k, r, req_type, SOS_APP_STORE_KV, prefix, &plen)) return;
  const uint8_t *from = sos__k_req_bytes(k, r, req_type, "prefix", &n);
  if (n > SOS_ABI_MAX_KEY)
    return sos__k_answer_error(k, r, "Stores", E_BAD_KEY, "prefix too long");
  uint64_t limit = sos__k_req_uint(k, r, req_type, "limit");
  size_t elen = n, cap = 4u << 20, used = 0;
  if (n) memcpy(end, from, n); /* the prefix's successor bounds the scan */
  while (elen && end[elen - 1] == 0xff) elen--;
  if (elen) end[elen - 1]++;
  uint8_t *buf = sos_malloc(cap);
  if (!buf) return sos__k_complete(k, r, SOS_STATUS_BUSY, "out of memory", 13);
  int32_t count = 0;
  int rc = sos__k_kv_scan(k, prefix, plen, from ? from : (const uint8_t *)"", n, end,
                          elen, limit && limit < 100000 ? (uint32_t)limit : 1000, buf,
                          cap, &count, &used);
  if (rc && !(rc == SOS_ETOOBIG && count))
    sos__k_complete(k, r, SOS_STATUS_ERROR, sos_strerror(rc), strlen(sos_strerror(rc)));
  else answer_pairs(k, r, buf, used);
  sos_free(buf);
}

/* Turns log_read records (u64 offset, u32 length, bytes) into LogRecords. */
static void answer_records(struct kernel *k, struct req *r, const uint8_t *buf,
                           size_t used, uint64_t end) {
  struct sos_buf list = {0}, out = {0};
  for (size_t p = 0; p + 12 <= used;) {
    uint64_t off;
    uint32_t len;
    struct sos_buf rec = {0}; /* LogRecord { offset = 1; data = 2 } */
    memcpy(&off, buf + p, 8);
    memcpy(&len, buf + p + 8, 4);
    if (off) sos_idl_put_key(&rec, 1, 0), sos_buf_varint(&rec, off);
    if (len) sos_idl_put_bytes(&rec, 2, buf + p + 12, len);
    sos_idl_put_inner(&list, 0, &rec);
    p += 12 + len;
  }
  sos_idl_put_inner(&out, 1, &list);
  if (end) sos_idl_put_key(&out, 2, 0), sos_buf_varint(&out, end);
  answer(k, r, &out);
}

static void log_read(struct kernel *k, struct req *r, int req_type) {
  uint8_t key[200];
  size_t klen, cap = 4u << 20, used = 0;
  if (!target(k, r, req_type, SOS_APP_STORE_LOG, key, &klen)) return;
  uint64_t from = sos__k_req_uint(k, r, req_type, "from"),
           limit = sos__k_req_uint(k, r, req_type, "limit");
  uint8_t *buf = sos_malloc(cap);
  if (!buf) return sos__k_complete(k, r, SOS_STATUS_BUSY, "out of memory", 13);
  int32_t count = 0;
  int rc = sos__k_log_read(k, key, klen, from,
                           limit && limit < 100000 ? (uint32_t)limit : 1000, buf, cap,
                           &count, &used);
  if (rc && !(rc == SOS_ETOOBIG && count))
    sos__k_complete(k, r, SOS_STATUS_ERROR, sos_strerror(rc), strlen(sos_strerror(rc)));
  else answer_records(k, r, buf, used, sos__k_log_end_of(k, key, klen));
  sos_free(buf);
}

void sos__k_stores_call(struct kernel *k, struct req *r, int req_type) {
  const char *m = r->method;
  if (!strcmp(m, "kv_get")) kv_get(k, r, req_type);
  else if (!strcmp(m, "kv_put")) kv_write(k, r, req_type, true);
  else if (!strcmp(m, "kv_del")) kv_write(k, r, req_type, false);
  else if (!strcmp(m, "kv_list")) kv_list(k, r, req_type);
  else log_read(k, r, req_type);
}

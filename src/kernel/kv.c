/*
 * kv.c - the kv store system calls (abi.h: kv_get, kv_put, kv_del, kv_cas,
 * kv_batch, kv_scan) and the kernel's own kv access for the control API.
 *
 * Confinement: the app names a store and a key; the kernel builds the
 * LMDB key as  service NUL store NUL key.  The service is the caller's
 * own, the store must be declared `store NAME: kv` in its definition, and
 * names cannot hold NUL, so no byte string an app passes can produce a key
 * of another service or store.  Every write is charged to the service's
 * quota (`quota`, `keys` in its service block).
 *
 * Reads complete at once.  Writes go to the store's committer
 * (src/store/store.c) and suspend the instance; the committer's callback,
 * on its own thread, takes k->mu and wakes the instance with the status
 * once the write is durable.  A ticket between the two lets an instance
 * be retired while its write is in flight: the callback then finds the
 * ticket's instance gone and only frees the ticket.
 */
#include "kernel/kernel.h"

#include "sos/store.h"

#include <string.h>

#define A32(i) ((uint32_t)c->args[i])
#define NS_MAX (64 + 64 + SOS_ABI_MAX_KEY)

/* A write in flight for an instance. */
struct ticket {
  struct kernel *k;
  struct inst *in;  /* NULL once the instance is gone */
  int mode;         /* what the instance gets back: SOS__K_ANSWER_* */
  size_t log_klen;  /* a log append: the log's key, to wake its tails */
  uint8_t log_key[];
};

/* The status an app sees for a store error. */
static int status_of(int rc) {
  switch (rc) {
  case 0: return SOS_STATUS_OK;
  case SOS_ENOENT: return SOS_STATUS_NOT_FOUND;
  case SOS_ECONFLICT: return SOS_STATUS_CONFLICT;
  case SOS_EQUOTA: return SOS_STATUS_QUOTA;
  case SOS_EINVAL: return SOS_STATUS_INVALID;
  case SOS_ESTATE: return SOS_STATUS_SHUTDOWN;
  case SOS_ETOOBIG: return SOS_STATUS_TOO_BIG;
  default: return SOS_STATUS_ERROR;
  }
}

/* Writes service NUL store NUL into out; returns its length, or 0 when
 * the app does not declare a store of that name and type. */
size_t sos__k_store_prefix(const struct svc *s, const struct sos_app *app, const char *store,
                           size_t slen, int type, uint8_t *out) {
  char name[64];
  if (!slen || slen >= sizeof name || memchr(store, 0, slen)) return 0;
  memcpy(name, store, slen);
  name[slen] = 0;
  const struct sos_app_store *st = sos_app_store(app, name);
  if (!st || st->type != type) return 0;
  size_t n = strlen(s->name);
  memcpy(out, s->name, n + 1);
  memcpy(out + n + 1, name, slen + 1);
  return n + slen + 2;
}

/* The full key for the guest's (store, key) arguments at args a..a+3, or
 * a status: -1 bad memory (trap), else the length (> 0) or 0 (invalid). */
static long guest_key(struct sos_wasm_hostcall *c, int a, uint8_t *out) {
  struct inst *in = sos_wasm_instance_user(c->instance);
  uint32_t slen = A32(a + 1), klen = A32(a + 3);
  const char *sp = sos_wasm_mem(c->instance, A32(a), slen);
  const uint8_t *kp = sos_wasm_mem(c->instance, A32(a + 2), klen);
  if ((!sp && slen) || (!kp && klen)) return -1;
  if (!klen || klen > SOS_ABI_MAX_KEY) return 0;
  size_t n = sos__k_kv_prefix(in->svc, in->ver->img->app, sp, slen, out);
  if (!n) return 0;
  memcpy(out + n, kp, klen);
  return (long)(n + klen);
}

static int oob(struct sos_wasm_hostcall *c) {
  return sos_wasm_host_trap(c, SOS_WASM_TRAP_MEMORY, "out of bounds memory access");
}

static int answer(struct sos_wasm_hostcall *c, int32_t v) {
  c->results[0] = (uint32_t)v;
  return SOS_WASM_HOST_OK;
}

size_t sos__k_kv_prefix(const struct svc *s, const struct sos_app *app, const char *store,
                        size_t slen, uint8_t *out) {
  return sos__k_store_prefix(s, app, store, slen, SOS_APP_STORE_KV, out);
}

/* ---- reads -------------------------------------------------------------- */

/* kv_get(store, store_len, key, key_len, buf, cap, len_out) -> i32 */
int sos__k_h_kv_get(struct sos_wasm_hostcall *c) {
  struct kernel *k = c->env;
  uint8_t key[NS_MAX];
  long kl = guest_key(c, 0, key);
  if (kl < 0) return oob(c);
  if (!kl) return answer(c, SOS_STATUS_INVALID);
  uint32_t cap = A32(5);
  uint8_t *buf = sos_wasm_mem(c->instance, A32(4), cap);
  if (!buf && cap) return oob(c);
  if (!sos_wasm_mem(c->instance, A32(6), 4)) return oob(c);
  size_t len = 0;
  int rc = sos_store_get(k->store, key, (size_t)kl, buf, cap, &len);
  sos_wasm_mem_set32(c->instance, A32(6), (uint32_t)len);
  return answer(c, status_of(rc));
}

struct scan_out {
  uint8_t *buf;
  size_t cap, used, prefix;
  int32_t count;
  size_t need; /* bytes the first record needs when it did not fit */
};

static int scan_record(void *user, const void *k, size_t kl, const void *v, size_t vl) {
  struct scan_out *o = user;
  uint32_t h[2] = {(uint32_t)(kl - o->prefix), (uint32_t)vl};
  size_t n = 8 + h[0] + vl;
  if (o->used + n > o->cap) {
    if (!o->count) o->need = n;
    return 1;
  }
  memcpy(o->buf + o->used, h, 8); /* little-endian hosts only, as wasm is */
  memcpy(o->buf + o->used + 8, (const uint8_t *)k + o->prefix, h[0]);
  memcpy(o->buf + o->used + 8 + h[0], v, vl);
  o->used += n;
  o->count++;
  return 0;
}

/* Scans [prefix+start, prefix+end) (end empty: the rest of the store). */
int sos__k_kv_scan(struct kernel *k, const uint8_t *prefix, size_t plen, const void *start,
                   size_t slen, const void *end, size_t elen, uint32_t limit, uint8_t *buf,
                   size_t cap, int32_t *count, size_t *used) {
  uint8_t lo[NS_MAX], hi[NS_MAX];
  if (slen > SOS_ABI_MAX_KEY || elen > SOS_ABI_MAX_KEY) return SOS_EINVAL;
  memcpy(lo, prefix, plen);
  memcpy(lo + plen, start, slen);
  memcpy(hi, prefix, plen);
  size_t hlen = plen;
  if (elen) {
    memcpy(hi + plen, end, elen);
    hlen += elen;
  } else {
    hi[plen - 1] = 1; /* service NUL store \1: just past every key of the store */
  }
  struct scan_out o = {buf, cap, 0, plen, 0, 0};
  int rc = sos_store_scan(k->store, lo, plen + slen, hi, hlen, limit, scan_record, &o);
  *count = o.count;
  *used = o.count ? o.used : o.need;
  if (rc < 0) return rc;
  return !o.count && o.need ? SOS_ETOOBIG : 0;
}

/* kv_scan(store, store_len, start, start_len, end, end_len, limit, buf,
 *         cap, len_out) -> i32 */
int sos__k_h_kv_scan(struct sos_wasm_hostcall *c) {
  struct kernel *k = c->env;
  struct inst *in = sos_wasm_instance_user(c->instance);
  uint32_t slen = A32(1), alen = A32(3), blen = A32(5), cap = A32(8);
  const char *sp = sos_wasm_mem(c->instance, A32(0), slen);
  const uint8_t *a = sos_wasm_mem(c->instance, A32(2), alen);
  const uint8_t *b = sos_wasm_mem(c->instance, A32(4), blen);
  uint8_t *buf = sos_wasm_mem(c->instance, A32(7), cap);
  if ((!sp && slen) || (!a && alen) || (!b && blen) || (!buf && cap) ||
      !sos_wasm_mem(c->instance, A32(9), 4))
    return oob(c);
  uint8_t prefix[NS_MAX];
  size_t plen = sos__k_kv_prefix(in->svc, in->ver->img->app, sp, slen, prefix);
  if (!plen) return answer(c, -SOS_STATUS_INVALID);
  int32_t count;
  size_t used;
  int rc = sos__k_kv_scan(k, prefix, plen, a, alen, b, blen, A32(6), buf, cap, &count, &used);
  sos_wasm_mem_set32(c->instance, A32(9), (uint32_t)used);
  return answer(c, rc ? -status_of(rc) : count);
}

/* ---- writes -------------------------------------------------------------- */

static void write_done(void *user, int rc, uint64_t info) {
  struct ticket *t = user;
  struct kernel *k = t->k;
  pthread_mutex_lock(&k->mu);
  struct inst *in = t->in;
  if (in) {
    in->ticket = NULL;
    int status = status_of(rc);
    if (t->mode == SOS__K_ANSWER_OFFSET)
      in->answer = rc ? (uint64_t)(int64_t)-status : info;
    else if (t->mode == SOS__K_ANSWER_ERRNO)
      in->answer = rc == 0 ? 0 : rc == SOS_EQUOTA ? SOS_WASI_EDQUOT : SOS_WASI_EIO;
    else
      in->answer = (uint32_t)status;
    in->answered = true;
    sos__k_try_wake(k, in);
  }
  if (!rc && t->log_klen) sos__k_log_appended(k, t->log_key, t->log_klen, info + 1);
  pthread_mutex_unlock(&k->mu);
  sos_free(t);
}

/* Submits ops for the calling instance and suspends it until durable;
 * mode says what it gets back (kernel.h). */
int sos__k_store_write(struct kernel *k, struct sos_wasm_hostcall *c,
                       const struct sos_store_op *ops, uint32_t n, int mode) {
  size_t log_klen = mode == SOS__K_ANSWER_OFFSET ? ops[0].klen : 0;
  struct inst *in = sos_wasm_instance_user(c->instance);
  struct ticket *t = sos_malloc(sizeof *t + log_klen);
  if (!t) return answer(c, SOS_STATUS_ERROR);
  t->k = k;
  t->in = in;
  t->mode = mode;
  t->log_klen = log_klen;
  if (log_klen) memcpy(t->log_key, ops[0].key, log_klen);
  pthread_mutex_lock(&k->mu);
  in->wait = W_STORE;
  in->answered = false;
  in->ticket = t;
  pthread_mutex_unlock(&k->mu);
  const struct sos_app_service *def = in->ver->def;
  struct sos_store_quota q = {in->svc->name, def->quota_bytes, def->quota_keys};
  int rc = sos_store_submit(k->store, &q, ops, n, write_done, t);
  if (!rc) return SOS_WASM_HOST_SUSPEND;
  pthread_mutex_lock(&k->mu);
  in->wait = W_NONE;
  in->ticket = NULL;
  pthread_mutex_unlock(&k->mu);
  sos_free(t);
  if (mode == SOS__K_ANSWER_OFFSET) {
    c->results[0] = (uint64_t)(int64_t)-status_of(rc);
    return SOS_WASM_HOST_OK;
  }
  return answer(c, mode == SOS__K_ANSWER_ERRNO ? SOS_WASI_EIO : status_of(rc));
}

/* kv_put(store, store_len, key, key_len, val, val_len) -> i32 */
int sos__k_h_kv_put(struct sos_wasm_hostcall *c) {
  uint8_t key[NS_MAX];
  long kl = guest_key(c, 0, key);
  uint32_t vlen = A32(5);
  const uint8_t *v = sos_wasm_mem(c->instance, A32(4), vlen);
  if (kl < 0 || (!v && vlen)) return oob(c);
  if (!kl) return answer(c, SOS_STATUS_INVALID);
  if (vlen > SOS_ABI_MAX_VALUE) return answer(c, SOS_STATUS_TOO_BIG);
  struct sos_store_op op = {SOS_STORE_PUT, false, key, (uint32_t)kl, v, vlen};
  return sos__k_store_write(c->env, c, &op, 1, SOS__K_ANSWER_STATUS);
}

/* A kv_add that nobody waits for has ended: nothing to tell. */
static void add_done(void *user, int rc, uint64_t info) {
  (void)user, (void)rc, (void)info;
}

/* kv_add(store, store_len, key, key_len, delta: i64, wait) -> i32: adds
 * delta to the decimal counter at key.  wait 1: suspends until durable;
 * wait 0: queues the add and returns at once (it commits with the next
 * group; a clean stop keeps it, a crash before that commit loses it). */
int sos__k_h_kv_add(struct sos_wasm_hostcall *c) {
  uint8_t key[NS_MAX], delta[8];
  long kl = guest_key(c, 0, key);
  uint32_t wait = A32(5);
  if (kl < 0) return oob(c);
  if (!kl || wait > 1) return answer(c, SOS_STATUS_INVALID);
  uint64_t v = (uint64_t)c->args[4];
  for (int i = 7; i >= 0; i--, v >>= 8) delta[i] = (uint8_t)v;
  struct sos_store_op op = {SOS_STORE_ADD, false, key, (uint32_t)kl, delta, 8};
  if (wait) return sos__k_store_write(c->env, c, &op, 1, SOS__K_ANSWER_STATUS);
  struct kernel *k = c->env;
  struct inst *in = sos_wasm_instance_user(c->instance);
  const struct sos_app_service *def = in->ver->def;
  struct sos_store_quota q = {in->svc->name, def->quota_bytes, def->quota_keys};
  return answer(c, status_of(sos_store_submit(k->store, &q, &op, 1, add_done, NULL)));
}

/* kv_del(store, store_len, key, key_len) -> i32 */
int sos__k_h_kv_del(struct sos_wasm_hostcall *c) {
  uint8_t key[NS_MAX];
  long kl = guest_key(c, 0, key);
  if (kl < 0) return oob(c);
  if (!kl) return answer(c, SOS_STATUS_INVALID);
  struct sos_store_op op = {SOS_STORE_DEL, false, key, (uint32_t)kl, NULL, 0};
  return sos__k_store_write(c->env, c, &op, 1, SOS__K_ANSWER_STATUS);
}

/* kv_cas(store, store_len, key, key_len, old, old_len, new, new_len, flags) */
int sos__k_h_kv_cas(struct sos_wasm_hostcall *c) {
  uint8_t key[NS_MAX];
  long kl = guest_key(c, 0, key);
  uint32_t olen = A32(5), nlen = A32(7), flags = A32(8);
  const uint8_t *o = sos_wasm_mem(c->instance, A32(4), olen);
  const uint8_t *nv = sos_wasm_mem(c->instance, A32(6), nlen);
  if (kl < 0 || (!o && olen) || (!nv && nlen)) return oob(c);
  if (!kl || flags > 3) return answer(c, SOS_STATUS_INVALID);
  if (olen > SOS_ABI_MAX_VALUE || nlen > SOS_ABI_MAX_VALUE) return answer(c, SOS_STATUS_TOO_BIG);
  struct sos_store_op ops[2] = {
      {SOS_STORE_CHECK, flags & SOS_KV_OLD_ABSENT, key, (uint32_t)kl, o, olen},
      {flags & SOS_KV_NEW_ABSENT ? SOS_STORE_DEL : SOS_STORE_PUT, false, key, (uint32_t)kl, nv,
       nlen},
  };
  return sos__k_store_write(c->env, c, ops, 2, SOS__K_ANSWER_STATUS);
}

/* Decodes kv_batch's records into ops with full keys in keys (n at most
 * max).  Returns the count, or -1 when malformed. */
static long decode_batch(struct inst *in, const char *store, size_t slen, const uint8_t *p,
                         size_t len, struct sos_store_op *ops, uint8_t (*keys)[NS_MAX],
                         uint32_t max) {
  static const uint8_t kinds[] = {0, SOS_STORE_PUT, SOS_STORE_DEL, SOS_STORE_CHECK,
                                  SOS_STORE_CHECK};
  uint8_t prefix[NS_MAX];
  size_t plen = sos__k_kv_prefix(in->svc, in->ver->img->app, store, slen, prefix);
  uint32_t n = 0;
  if (!plen) return -1;
  while (len) {
    uint32_t h[2];
    if (len < 9 || n == max || p[0] < 1 || p[0] > 4) return -1;
    memcpy(h, p + 1, 8);
    if (!h[0] || h[0] > SOS_ABI_MAX_KEY || h[1] > SOS_ABI_MAX_VALUE ||
        (uint64_t)h[0] + h[1] > len - 9)
      return -1;
    memcpy(keys[n], prefix, plen);
    memcpy(keys[n] + plen, p + 9, h[0]);
    ops[n] = (struct sos_store_op){kinds[p[0]], p[0] == SOS_KV_OP_CHECK_ABSENT, keys[n],
                                   (uint32_t)(plen + h[0]), p + 9 + h[0], h[1]};
    n++;
    p += 9 + (size_t)h[0] + h[1];
    len -= 9 + (size_t)h[0] + h[1];
  }
  return n ? (long)n : -1;
}

/* kv_batch(store, store_len, ops, ops_len) -> i32 */
int sos__k_h_kv_batch(struct sos_wasm_hostcall *c) {
  enum { MAX = SOS_ABI_MAX_BATCH_OPS };
  struct inst *in = sos_wasm_instance_user(c->instance);
  uint32_t slen = A32(1), len = A32(3);
  const char *sp = sos_wasm_mem(c->instance, A32(0), slen);
  const uint8_t *p = sos_wasm_mem(c->instance, A32(2), len);
  if ((!sp && slen) || (!p && len)) return oob(c);
  if (len > SOS_ABI_MAX_BATCH_BYTES) return answer(c, SOS_STATUS_TOO_BIG);
  struct sos_store_op *ops = sos_malloc(MAX * (sizeof *ops + NS_MAX));
  if (!ops) return answer(c, SOS_STATUS_ERROR);
  uint8_t (*keys)[NS_MAX] = (uint8_t (*)[NS_MAX])(ops + MAX);
  long n = decode_batch(in, sp, slen, p, len, ops, keys, MAX);
  int rc = n < 0 ? answer(c, SOS_STATUS_INVALID)
                 : sos__k_store_write(c->env, c, ops, (uint32_t)n, SOS__K_ANSWER_STATUS);
  sos_free(ops); /* sos_store_submit copied what it needs */
  return rc;
}

/* Forgets a retired instance's write in flight (k->mu held). */
void sos__k_kv_forget(struct inst *in) {
  if (in->ticket) in->ticket->in = NULL;
  in->ticket = NULL;
}

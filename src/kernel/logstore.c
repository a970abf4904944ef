/*
 * logstore.c - the log store system calls (abi.h: log_append, log_read,
 * log_tail, log_trim, log_end) for stores declared `store NAME: log`.
 *
 * A log is the key L = service NUL store NUL; L holds the next offset and
 * record n lives at L + n as 8 big-endian bytes, so records sort in
 * offset order and a read is one range scan.  Appends and trims are store
 * batches (SOS_STORE_APPEND, SOS_STORE_TRIM) that suspend the writer until
 * durable, like kv writes (kv.c).
 *
 * Tails: log_tail suspends the instance until the log's end passes the
 * offset it asks for.  The instance joins k->log_waiters; when an append
 * commits, write_done (kv.c) calls sos__k_log_appended, which answers
 * every waiter of that log whose offset is now below the end.  There is no
 * polling.  To miss no append, log_tail joins the waiters first and only
 * then reads the log's end.
 */
#include "kernel/kernel.h"

#include <string.h>

#define A32(i) ((uint32_t)c->args[i])
#define LOG_KEY_MAX 160

static int oob(struct sos_wasm_hostcall *c) {
  return sos_wasm_host_trap(c, SOS_WASM_TRAP_MEMORY, "out of bounds memory access");
}

/* The log key for the guest's (store, store_len) at args 0 and 1: its
 * length, 0 when the app declares no log of that name, -1 out of bounds. */
static long log_key(struct sos_wasm_hostcall *c, uint8_t *out) {
  struct inst *in = sos_wasm_instance_user(c->instance);
  uint32_t slen = A32(1);
  const char *sp = sos_wasm_mem(c->instance, A32(0), slen);
  if (!sp && slen) return -1;
  return (long)sos__k_store_prefix(in->svc, in->ver->img->app, sp, slen, SOS_APP_STORE_LOG, out);
}

static int result64(struct sos_wasm_hostcall *c, int64_t v) {
  c->results[0] = (uint64_t)v;
  return SOS_WASM_HOST_OK;
}

static int result32(struct sos_wasm_hostcall *c, int32_t v) {
  c->results[0] = (uint32_t)v;
  return SOS_WASM_HOST_OK;
}

static void be64(uint8_t *p, uint64_t v) {
  for (int i = 7; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = v << 8 | p[i];
  return v;
}

uint64_t sos__k_log_end_of(struct kernel *k, const uint8_t *key, size_t klen) {
  uint8_t b[8];
  size_t len = 0;
  return sos_store_get(k->store, key, klen, b, sizeof b, &len) == 0 && len == 8 ? get_be64(b) : 0;
}

/* log_append(store, store_len, rec, rec_len) -> i64 */
int sos__k_h_log_append(struct sos_wasm_hostcall *c) {
  uint8_t key[LOG_KEY_MAX];
  long kl = log_key(c, key);
  uint32_t len = A32(3);
  const uint8_t *rec = sos_wasm_mem(c->instance, A32(2), len);
  if (kl < 0 || (!rec && len)) return oob(c);
  if (!kl) return result64(c, -SOS_STATUS_INVALID);
  if (len > SOS_ABI_MAX_VALUE) return result64(c, -SOS_STATUS_TOO_BIG);
  struct sos_store_op op = {SOS_STORE_APPEND, false, key, (uint32_t)kl, rec, len};
  return sos__k_store_write(c->env, c, &op, 1, SOS__K_ANSWER_OFFSET);
}

/* log_trim(store, store_len, before: i64) -> i32 */
int sos__k_h_log_trim(struct sos_wasm_hostcall *c) {
  uint8_t key[LOG_KEY_MAX], before[8];
  long kl = log_key(c, key);
  if (kl < 0) return oob(c);
  if (!kl || (int64_t)c->args[2] < 0) return result32(c, SOS_STATUS_INVALID);
  be64(before, c->args[2]);
  struct sos_store_op op = {SOS_STORE_TRIM, false, key, (uint32_t)kl, before, 8};
  return sos__k_store_write(c->env, c, &op, 1, SOS__K_ANSWER_STATUS);
}

/* log_end(store, store_len) -> i64 */
int sos__k_h_log_end(struct sos_wasm_hostcall *c) {
  uint8_t key[LOG_KEY_MAX];
  long kl = log_key(c, key);
  if (kl < 0) return oob(c);
  if (!kl) return result64(c, -SOS_STATUS_INVALID);
  return result64(c, (int64_t)sos__k_log_end_of(c->env, key, (size_t)kl));
}

struct read_out {
  uint8_t *buf;
  size_t cap, used, need, klen;
  int32_t count;
};

/* One scanned record: u64 offset, u32 length, the bytes. */
static int read_record(void *user, const void *k, size_t kl, const void *v, size_t vl) {
  struct read_out *o = user;
  if (kl != o->klen + 8) return 0; /* the log key itself */
  size_t n = 12 + vl;
  if (o->used + n > o->cap) {
    if (!o->count) o->need = n;
    return 1;
  }
  uint64_t off = get_be64((const uint8_t *)k + o->klen);
  uint32_t len = (uint32_t)vl;
  memcpy(o->buf + o->used, &off, 8); /* little-endian, as wasm is */
  memcpy(o->buf + o->used + 8, &len, 4);
  memcpy(o->buf + o->used + 12, v, vl);
  o->used += n;
  o->count++;
  return 0;
}

int sos__k_log_read(struct kernel *k, const uint8_t *key, size_t klen, uint64_t from,
                    uint32_t limit, uint8_t *buf, size_t cap, int32_t *count, size_t *used) {
  uint8_t lo[LOG_KEY_MAX + 8], hi[LOG_KEY_MAX];
  memcpy(lo, key, klen);
  be64(lo + klen, from);
  memcpy(hi, key, klen);
  hi[klen - 1] = 1; /* service NUL store \1: past every record */
  struct read_out o = {buf, cap, 0, 0, klen, 0};
  int rc = sos_store_scan(k->store, lo, klen + 8, hi, klen, limit, read_record, &o);
  *count = o.count;
  *used = o.count ? o.used : o.need;
  if (rc < 0) return rc;
  return !o.count && o.need ? SOS_ETOOBIG : 0;
}

/* log_read(store, store_len, from: i64, limit, buf, cap, len_out) -> i32 */
int sos__k_h_log_read(struct sos_wasm_hostcall *c) {
  uint8_t key[LOG_KEY_MAX];
  long kl = log_key(c, key);
  uint32_t cap = A32(5);
  uint8_t *buf = sos_wasm_mem(c->instance, A32(4), cap);
  if (kl < 0 || (!buf && cap) || !sos_wasm_mem(c->instance, A32(6), 4)) return oob(c);
  if (!kl || (int64_t)c->args[2] < 0) return result32(c, -SOS_STATUS_INVALID);
  int32_t count;
  size_t used;
  int rc = sos__k_log_read(c->env, key, (size_t)kl, c->args[2], A32(3), buf, cap, &count, &used);
  sos_wasm_mem_set32(c->instance, A32(6), (uint32_t)used);
  if (rc == SOS_ETOOBIG) return result32(c, -SOS_STATUS_TOO_BIG);
  return result32(c, rc ? -SOS_STATUS_ERROR : count);
}

/* ---- tails ----------------------------------------------------------------- */

void sos__k_log_unwait(struct kernel *k, struct inst *in) {
  for (struct inst **p = &k->log_waiters; *p; p = &(*p)->log_next)
    if (*p == in) {
      *p = in->log_next;
      break;
    }
  in->log_next = NULL;
  sos_free(in->log_key);
  in->log_key = NULL;
}

void sos__k_log_appended(struct kernel *k, const uint8_t *key, size_t klen, uint64_t end) {
  struct inst *in = k->log_waiters, *next;
  for (; in; in = next) {
    next = in->log_next;
    if (in->answered || in->log_klen != klen || memcmp(in->log_key, key, klen) ||
        end <= in->log_from)
      continue;
    in->answer = SOS_STATUS_OK;
    in->answered = true;
    sos__k_try_wake(k, in); /* takes in off the waiters when it wakes */
  }
}

/* log_tail(store, store_len, from: i64, timeout_ms: i32) -> i32 */
int sos__k_h_log_tail(struct sos_wasm_hostcall *c) {
  struct kernel *k = c->env;
  struct inst *in = sos_wasm_instance_user(c->instance);
  uint8_t key[LOG_KEY_MAX];
  long kl = log_key(c, key);
  int32_t timeout = (int32_t)A32(3);
  if (kl < 0) return oob(c);
  if (!kl || (int64_t)c->args[2] < 0) return result32(c, -SOS_STATUS_INVALID);
  uint8_t *copy = sos_malloc((size_t)kl);
  if (!copy) return result32(c, -SOS_STATUS_ERROR);
  memcpy(copy, key, (size_t)kl);
  pthread_mutex_lock(&k->mu); /* join first, then look: no append is missed */
  in->wait = W_LOG;
  in->answered = false;
  in->log_key = copy;
  in->log_klen = (size_t)kl;
  in->log_from = c->args[2];
  in->log_next = k->log_waiters;
  k->log_waiters = in;
  pthread_mutex_unlock(&k->mu);
  bool ready = sos__k_log_end_of(k, key, (size_t)kl) > c->args[2];
  pthread_mutex_lock(&k->mu);
  if (ready || timeout == 0 || in->answered) {
    sos__k_log_unwait(k, in);
    in->wait = W_NONE;
    pthread_mutex_unlock(&k->mu);
    return result32(c, ready || in->answered ? SOS_STATUS_OK : -SOS_STATUS_TIMEOUT);
  }
  if (timeout > 0) {
    in->timer.kind = KT_INST_WAKE;
    sos__k_timer_set(k, &in->timer, sos__k_now() + (uint64_t)timeout * 1000000u);
  }
  pthread_mutex_unlock(&k->mu);
  return SOS_WASM_HOST_SUSPEND;
}

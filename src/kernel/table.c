/*
 * table.c - table stores: rows of a declared struct with a primary key and
 * secondary indexes (abi.h: table_put, table_get, table_del, table_query).
 *
 * A row travels in the row encoding of abi.h (tagged fields) and is
 * checked against its struct before anything is stored.  Keys in LMDB,
 * after the store's prefix P = service NUL store NUL:
 *   P 0x00 enc(pk)                      the row
 *   P 0x01 i enc(field_i) enc(pk)       index i's entry (empty value)
 * enc() preserves order under byte comparison: integers as 8 big-endian
 * bytes (signed ones with the sign bit flipped), bool as one byte, text
 * and bytes with each 0x00 written 0x00 0xff and ended by 0x00 0x00.  So a
 * range of a key or of an index is one ordered scan, and entries with the
 * same indexed value come in key order.
 *
 * A put reads the old row and writes, in one batch: a check that the row
 * is still the one read, the row, the old index entries' deletion and the
 * new ones.  Another writer of the same key in between makes the check
 * fail (CONFLICT) and changes nothing; the SDK retries.
 */
#include "kernel/kernel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define A32(i) ((uint32_t)c->args[i])
#define KEY_MAX SOS_STORE_MAX_KEY

static const struct sos_app_field *field_named(const struct sos_app_struct *sd, const char *n) {
  for (uint32_t i = 0; i < sd->nfields; i++)
    if (!strcmp(sd->fields[i].name, n)) return &sd->fields[i];
  return NULL;
}

/* Fills t for store (slen bytes) of service s whose app is app; false when
 * the app declares no table of that name. */
bool sos__k_table_of(const struct svc *s, const struct sos_app *app, const char *store,
                     size_t slen, struct tbl *t) {
  t->plen = sos__k_store_prefix(s, app, store, slen, SOS_APP_STORE_TABLE, t->prefix);
  if (!t->plen) return false;
  const struct sos_app_store *st = sos_app_store(app, (const char *)t->prefix + strlen(s->name) + 1);
  t->sd = st ? sos_app_struct(app, st->table_struct) : NULL;
  t->key = t->sd ? field_named(t->sd, st->key) : NULL;
  if (!t->key) return false;
  t->nidx = 0;
  for (uint32_t i = 0; i < st->nindexes && i < SOS__K_MAX_INDEXES; i++)
    if ((t->idx[t->nidx] = field_named(t->sd, st->indexes[i]))) t->nidx++;
  return true;
}

/* ---- rows ----------------------------------------------------------------------- */

/* The width of a fixed-size field type, 0 for text and bytes. */
static size_t width(uint8_t type) {
  static const uint8_t w[] = {0, 1, 1, 2, 4, 8, 1, 2, 4, 8, 4, 8, 0, 0};
  return type < sizeof w ? w[type] : 0;
}

/* The field at *at of row (len bytes): its tag, type and value.  false at
 * the end or when malformed (*bad set). */
static bool next_field(const uint8_t *row, size_t len, size_t *at, uint16_t *tag, uint8_t *type,
                       const uint8_t **v, size_t *vlen, bool *bad) {
  if (*at == len) return false;
  *bad = true;
  if (len - *at < 3) return false;
  memcpy(tag, row + *at, 2);
  *type = row[*at + 2];
  size_t p = *at + 3, n = width(*type);
  if (*type < SOS_ROW_T_BOOL || *type > SOS_ROW_T_BYTES) return false;
  if (!n) {
    uint32_t l;
    if (len - p < 4) return false;
    memcpy(&l, row + p, 4);
    p += 4;
    n = l;
  }
  if (len - p < n) return false;
  *v = row + p;
  *vlen = n;
  *at = p + n;
  *bad = false;
  return true;
}

/* Checks row against t's struct: every field declared with its type, at
 * most once, and (need_key) the key present. */
static bool row_valid(const struct tbl *t, const uint8_t *row, size_t len, bool need_key) {
  uint8_t seen[512] = {0};
  size_t at = 0, vlen;
  uint16_t tag;
  uint8_t type;
  const uint8_t *v;
  bool bad = false, key = false;
  while (next_field(row, len, &at, &tag, &type, &v, &vlen, &bad)) {
    uint32_t i = 0;
    while (i < t->sd->nfields && t->sd->fields[i].tag != tag) i++;
    if (i == t->sd->nfields || t->sd->fields[i].type != type || i >= sizeof seen || seen[i]++)
      return false;
    key |= tag == t->key->tag;
  }
  return !bad && (key || !need_key);
}

/* The value of field tag in a valid row, or NULL. */
static const uint8_t *row_field(const uint8_t *row, size_t len, uint16_t want, uint8_t *type,
                                size_t *vlen) {
  size_t at = 0;
  uint16_t tag;
  const uint8_t *v;
  bool bad;
  while (next_field(row, len, &at, &tag, type, &v, vlen, &bad))
    if (tag == want) return v;
  return NULL;
}

/* Appends enc(value) to out (room for cap); returns its length, or 0 when
 * it does not fit. */
static size_t enc(uint8_t type, const uint8_t *v, size_t vlen, uint8_t *out, size_t cap) {
  size_t w = width(type);
  if (w) {
    if (cap < 8) return 0;
    uint64_t x = 0;
    for (size_t i = 0; i < w; i++) x |= (uint64_t)v[i] << (8 * i);
    bool sign = type >= SOS_ROW_T_I8 && type <= SOS_ROW_T_I64;
    if (sign && w < 8 && (x >> (8 * w - 1)) & 1) x |= ~0ull << (8 * w); /* sign-extend */
    if (sign) x ^= 1ull << 63;
    for (int i = 7; i >= 0; i--, x >>= 8) out[i] = (uint8_t)x;
    return 8;
  }
  size_t n = 0;
  for (size_t i = 0; i < vlen; i++) {
    if (n + 2 > cap) return 0;
    out[n++] = v[i];
    if (!v[i]) out[n++] = 0xff;
  }
  if (n + 2 > cap) return 0;
  out[n++] = 0;
  out[n++] = 0;
  return n;
}

/* The length of the enc() at p (as written by enc for type). */
static size_t enc_len(uint8_t type, const uint8_t *p, size_t len) {
  if (width(type)) return len >= 8 ? 8 : 0;
  for (size_t i = 0; i + 1 < len; i++)
    if (!p[i]) {
      if (!p[i + 1]) return i + 2;
      i++; /* 0x00 0xff: an escaped 0x00 */
    }
  return 0;
}

/* P 0x00 enc(pk) of row into key; its length or 0. */
static size_t row_key(const struct tbl *t, const uint8_t *row, size_t len, uint8_t *key) {
  uint8_t type;
  size_t vlen;
  const uint8_t *v = row_field(row, len, (uint16_t)t->key->tag, &type, &vlen);
  if (!v) return 0;
  memcpy(key, t->prefix, t->plen);
  key[t->plen] = 0;
  size_t n = enc(type, v, vlen, key + t->plen + 1, KEY_MAX - t->plen - 1);
  return n ? t->plen + 1 + n : 0;
}

/* P 0x01 i enc(field_i) enc(pk) of row into key; 0 when the row lacks the
 * field or it does not fit. */
static size_t index_key(const struct tbl *t, uint32_t i, const uint8_t *row, size_t len,
                        const uint8_t *rkey, size_t rklen, uint8_t *key) {
  uint8_t type;
  size_t vlen;
  const uint8_t *v = row_field(row, len, (uint16_t)t->idx[i]->tag, &type, &vlen);
  if (!v) return 0;
  memcpy(key, t->prefix, t->plen);
  key[t->plen] = 1;
  key[t->plen + 1] = (uint8_t)i;
  size_t at = t->plen + 2, n = enc(type, v, vlen, key + at, KEY_MAX - at);
  size_t pk = rklen - t->plen - 1;
  if (!n || at + n + pk > KEY_MAX) return 0;
  memcpy(key + at + n, rkey + t->plen + 1, pk);
  return at + n + pk;
}

/* Whether the row's key and every index entry it needs fit LMDB's keys. */
static bool keys_fit(const struct tbl *t, const uint8_t *row, size_t len) {
  uint8_t rkey[KEY_MAX + 1], ikey[KEY_MAX + 1], type;
  size_t rklen = row_key(t, row, len, rkey), vlen;
  if (!rklen) return false;
  for (uint32_t i = 0; i < t->nidx; i++)
    if (row_field(row, len, (uint16_t)t->idx[i]->tag, &type, &vlen) &&
        !index_key(t, i, row, len, rkey, rklen, ikey))
      return false;
  return true;
}

/* The row stored under rkey, in a fresh buffer (*out, sos_free), or NULL. */
static int load_row(struct kernel *k, const uint8_t *rkey, size_t rklen, uint8_t **out,
                    size_t *len) {
  *out = NULL;
  *len = 0;
  int rc = sos_store_get(k->store, rkey, rklen, NULL, 0, len);
  if (rc) return rc == SOS_ENOENT ? 0 : rc;
  if (!(*out = sos_malloc(*len ? *len : 1))) return SOS_ENOMEM;
  return sos_store_get(k->store, rkey, rklen, *out, *len, len);
}

/* ---- the batch of a put or a delete ----------------------------------------------------- */

/* Builds the ops writing row (NULL: deleting) over old (NULL: none) under
 * rkey; keys go in keys[] (2 + 2 * nidx of KEY_MAX + 1 bytes). */
static uint32_t build_ops(const struct tbl *t, const uint8_t *rkey, size_t rklen,
                          const uint8_t *old, size_t olen, const uint8_t *row, size_t len,
                          struct sos_store_op *ops, uint8_t (*keys)[KEY_MAX + 1]) {
  uint32_t n = 0;
  ops[n++] = (struct sos_store_op){SOS_STORE_CHECK, !old, rkey, (uint32_t)rklen, old, (uint32_t)olen};
  if (row)
    ops[n++] = (struct sos_store_op){SOS_STORE_PUT, false, rkey, (uint32_t)rklen, row, (uint32_t)len};
  else
    ops[n++] = (struct sos_store_op){SOS_STORE_DEL, false, rkey, (uint32_t)rklen, NULL, 0};
  for (uint32_t i = 0; i < t->nidx; i++) {
    size_t kl;
    if (old && (kl = index_key(t, i, old, olen, rkey, rklen, keys[n])))
      ops[n] = (struct sos_store_op){SOS_STORE_DEL, false, keys[n], (uint32_t)kl, NULL, 0}, n++;
    if (row && (kl = index_key(t, i, row, len, rkey, rklen, keys[n])))
      ops[n] = (struct sos_store_op){SOS_STORE_PUT, false, keys[n], (uint32_t)kl, "", 0}, n++;
  }
  return n;
}

/* Writes (or deletes, row NULL) under the key of keyrow and suspends until
 * durable.  For the host functions. */
static int table_write(struct sos_wasm_hostcall *c, const struct tbl *t, const uint8_t *keyrow,
                       size_t klen, const uint8_t *row, size_t len) {
  struct kernel *k = c->env;
  uint8_t rkey[KEY_MAX + 1], *old;
  size_t rklen = row_key(t, keyrow, klen, rkey), olen;
  if (!rklen) return (c->results[0] = SOS_STATUS_TOO_BIG), SOS_WASM_HOST_OK;
  int rc = load_row(k, rkey, rklen, &old, &olen);
  if (rc || (!row && !old)) { /* an error, or deleting what is not there */
    c->results[0] = rc ? SOS_STATUS_ERROR : SOS_STATUS_OK;
    return SOS_WASM_HOST_OK;
  }
  size_t nops = 2 + 2 * (size_t)t->nidx;
  struct sos_store_op *ops = sos_malloc(nops * (sizeof *ops + KEY_MAX + 1));
  if (!ops) {
    sos_free(old);
    return (c->results[0] = SOS_STATUS_ERROR), SOS_WASM_HOST_OK;
  }
  uint8_t (*keys)[KEY_MAX + 1] = (uint8_t (*)[KEY_MAX + 1])(ops + nops);
  uint32_t n = build_ops(t, rkey, rklen, old, olen, row, len, ops, keys);
  rc = sos__k_store_write(k, c, ops, n, SOS__K_ANSWER_STATUS);
  sos_free(ops);
  sos_free(old);
  return rc;
}

/* ---- the host functions ---------------------------------------------------------------- */

static int oob(struct sos_wasm_hostcall *c) {
  return sos_wasm_host_trap(c, SOS_WASM_TRAP_MEMORY, "out of bounds memory access");
}

/* The table named by args 0 and 1, and the bytes at args 2 and 3. */
static int table_args(struct sos_wasm_hostcall *c, struct tbl *t, const uint8_t **p,
                      uint32_t *len) {
  struct inst *in = sos_wasm_instance_user(c->instance);
  uint32_t slen = A32(1);
  const char *sp = sos_wasm_mem(c->instance, A32(0), slen);
  *len = A32(3);
  *p = sos_wasm_mem(c->instance, A32(2), *len);
  if ((!sp && slen) || (!*p && *len)) return -1;
  return sos__k_table_of(in->svc, in->ver->img->app, sp ? sp : "", slen, t) ? 0 : 1;
}

int sos__k_h_table_put(struct sos_wasm_hostcall *c) {
  struct tbl t;
  const uint8_t *row;
  uint32_t len;
  int rc = table_args(c, &t, &row, &len);
  if (rc < 0) return oob(c);
  if (rc || len > SOS_ABI_MAX_VALUE || !row_valid(&t, row, len, true))
    return (c->results[0] = len > SOS_ABI_MAX_VALUE ? SOS_STATUS_TOO_BIG : SOS_STATUS_INVALID),
           SOS_WASM_HOST_OK;
  if (!keys_fit(&t, row, len)) return (c->results[0] = SOS_STATUS_TOO_BIG), SOS_WASM_HOST_OK;
  return table_write(c, &t, row, len, row, len);
}

int sos__k_h_table_del(struct sos_wasm_hostcall *c) {
  struct tbl t;
  const uint8_t *key;
  uint32_t len;
  int rc = table_args(c, &t, &key, &len);
  if (rc < 0) return oob(c);
  if (rc || !row_valid(&t, key, len, true))
    return (c->results[0] = SOS_STATUS_INVALID), SOS_WASM_HOST_OK;
  return table_write(c, &t, key, len, NULL, 0);
}

/* table_get(store, store_len, key, key_len, buf, cap, len_out) -> i32 */
int sos__k_h_table_get(struct sos_wasm_hostcall *c) {
  struct kernel *k = c->env;
  struct tbl t;
  const uint8_t *key;
  uint32_t len, cap = A32(5);
  int rc = table_args(c, &t, &key, &len);
  uint8_t *buf = sos_wasm_mem(c->instance, A32(4), cap);
  if (rc < 0 || (!buf && cap) || !sos_wasm_mem(c->instance, A32(6), 4)) return oob(c);
  uint8_t rkey[KEY_MAX + 1];
  size_t rklen = !rc && row_valid(&t, key, len, true) ? row_key(&t, key, len, rkey) : 0, got = 0;
  if (!rklen) return (c->results[0] = SOS_STATUS_INVALID), SOS_WASM_HOST_OK;
  rc = sos_store_get(k->store, rkey, rklen, buf, cap, &got);
  sos_wasm_mem_set32(c->instance, A32(6), (uint32_t)got);
  c->results[0] = rc == 0 ? SOS_STATUS_OK : rc == SOS_ENOENT ? SOS_STATUS_NOT_FOUND : SOS_STATUS_ERROR;
  return SOS_WASM_HOST_OK;
}

/* ---- queries ------------------------------------------------------------------------------ */

struct query_out {
  struct kernel *k;
  const struct tbl *t;
  uint8_t field_type;
  bool by_index;
  uint8_t *buf;
  size_t cap, used, need;
  int32_t count;
};

/* Appends one row as u32 length + bytes; 1 to stop when it does not fit. */
static int put_row(struct query_out *o, const void *row, size_t len) {
  if (o->used + 4 + len > o->cap) {
    if (!o->count) o->need = 4 + len;
    return 1;
  }
  uint32_t l = (uint32_t)len;
  memcpy(o->buf + o->used, &l, 4);
  memcpy(o->buf + o->used + 4, row, len);
  o->used += 4 + len;
  o->count++;
  return 0;
}

static int query_each(void *user, const void *k, size_t kl, const void *v, size_t vl) {
  struct query_out *o = user;
  if (!o->by_index) return put_row(o, v, vl);
  const struct tbl *t = o->t;
  const uint8_t *p = (const uint8_t *)k + t->plen + 2;
  size_t rest = kl - t->plen - 2, fl = enc_len(o->field_type, p, rest);
  if (!fl) return 0; /* not an entry this version writes */
  uint8_t rkey[KEY_MAX + 1], *row;
  size_t rklen = t->plen + 1 + (rest - fl), len;
  memcpy(rkey, t->prefix, t->plen);
  rkey[t->plen] = 0;
  memcpy(rkey + t->plen + 1, p + fl, rest - fl);
  if (load_row(o->k, rkey, rklen, &row, &len) || !row) return 0; /* removed meanwhile */
  int rc = put_row(o, row, len);
  sos_free(row);
  return rc;
}

int sos__k_table_query(struct kernel *k, const struct tbl *t, uint32_t field, const uint8_t *lo,
                       size_t lolen, const uint8_t *hi, size_t hilen, uint32_t limit,
                       uint8_t *buf, size_t cap, int32_t *count, size_t *used) {
  struct query_out o = {k, t, 0, false, buf, cap, 0, 0, 0};
  uint32_t idx = 0;
  if (field != t->key->tag) {
    while (idx < t->nidx && t->idx[idx]->tag != field) idx++;
    if (idx == t->nidx) return SOS_EINVAL;
    o.by_index = true;
  }
  o.field_type = o.by_index ? t->idx[idx]->type : t->key->type;
  uint8_t a[KEY_MAX + 1], b[KEY_MAX + 1];
  size_t head = t->plen + (o.by_index ? 2 : 1), al = head, bl = head;
  memcpy(a, t->prefix, t->plen);
  a[t->plen] = o.by_index ? 1 : 0;
  a[t->plen + 1] = (uint8_t)idx;
  memcpy(b, a, head);
  const uint8_t *bounds[2] = {lo, hi};
  size_t blens[2] = {lolen, hilen}, *lens[2] = {&al, &bl};
  uint8_t *outs[2] = {a, b};
  for (int i = 0; i < 2; i++) {
    if (!blens[i]) continue;
    uint8_t type;
    size_t vlen;
    const uint8_t *v = row_field(bounds[i], blens[i], (uint16_t)field, &type, &vlen);
    size_t n = v && type == o.field_type ? enc(type, v, vlen, outs[i] + head, KEY_MAX - head) : 0;
    if (!n) return SOS_EINVAL;
    *lens[i] += n;
  }
  if (!hilen) { /* past every entry of this key or index */
    bl = head;
    b[head - 1]++;
  }
  int rc = sos_store_scan(k->store, a, al, b, bl, limit, query_each, &o);
  *count = o.count;
  *used = o.count ? o.used : o.need;
  if (rc < 0) return rc;
  return !o.count && o.need ? SOS_ETOOBIG : 0;
}

/* table_query(store, store_len, field, lo, lo_len, hi, hi_len, limit, buf,
 *             cap, len_out) -> i32 */
int sos__k_h_table_query(struct sos_wasm_hostcall *c) {
  struct inst *in = sos_wasm_instance_user(c->instance);
  uint32_t slen = A32(1), lolen = A32(4), hilen = A32(6), cap = A32(9);
  const char *sp = sos_wasm_mem(c->instance, A32(0), slen);
  const uint8_t *lo = sos_wasm_mem(c->instance, A32(3), lolen);
  const uint8_t *hi = sos_wasm_mem(c->instance, A32(5), hilen);
  uint8_t *buf = sos_wasm_mem(c->instance, A32(8), cap);
  if ((!sp && slen) || (!lo && lolen) || (!hi && hilen) || (!buf && cap) ||
      !sos_wasm_mem(c->instance, A32(10), 4))
    return oob(c);
  struct tbl t;
  if (!sos__k_table_of(in->svc, in->ver->img->app, sp ? sp : "", slen, &t) ||
      (lolen && !row_valid(&t, lo, lolen, false)) || (hilen && !row_valid(&t, hi, hilen, false)))
    return (c->results[0] = (uint32_t)-SOS_STATUS_INVALID), SOS_WASM_HOST_OK;
  int32_t count = 0;
  size_t used = 0;
  int rc = sos__k_table_query(c->env, &t, A32(2), lo, lolen, hi, hilen, A32(7), buf, cap, &count,
                              &used);
  sos_wasm_mem_set32(c->instance, A32(10), (uint32_t)used);
  int status = rc == 0 ? 0 : rc == SOS_EINVAL ? SOS_STATUS_INVALID
             : rc == SOS_ETOOBIG ? SOS_STATUS_TOO_BIG : SOS_STATUS_ERROR;
  c->results[0] = (uint32_t)(status ? -status : count);
  return SOS_WASM_HOST_OK;
}

/* ---- for the control API (sos table) ------------------------------------------------- */

#include <cjson/cJSON.h>
#include <errno.h>

size_t sos__k_row_from_text(const struct sos_app_field *f, const char *text, uint8_t *out,
                            size_t cap) {
  uint16_t tag = (uint16_t)f->tag;
  size_t w = width(f->type), tl = strlen(text);
  if (cap < 3 + (w ? w : 4 + tl)) return 0;
  memcpy(out, &tag, 2);
  out[2] = f->type;
  if (!w) { /* text, bytes */
    uint32_t l = (uint32_t)tl;
    memcpy(out + 3, &l, 4);
    memcpy(out + 7, text, tl);
    return 7 + tl;
  }
  char *end;
  errno = 0;
  uint64_t x;
  if (f->type == SOS_ROW_T_BOOL) {
    if (strcmp(text, "true") && strcmp(text, "false")) return 0;
    x = text[0] == 't';
  } else if (f->type == SOS_ROW_T_F32 || f->type == SOS_ROW_T_F64) {
    double d = strtod(text, &end);
    if (*end || !*text) return 0;
    float fl = (float)d;
    if (f->type == SOS_ROW_T_F32) memcpy(&x, &fl, 4), x &= 0xffffffffu;
    else memcpy(&x, &d, 8);
  } else if (f->type >= SOS_ROW_T_I8) {
    long long v = strtoll(text, &end, 10);
    int bits = (int)(8 * w);
    if (*end || !*text || errno || (bits < 64 && (v < -(1ll << (bits - 1)) || v >= (1ll << (bits - 1)))))
      return 0;
    x = (uint64_t)v;
  } else {
    unsigned long long v = strtoull(text, &end, 10);
    if (*end || !*text || text[0] == '-' || errno || (w < 8 && v >> (8 * w))) return 0;
    x = v;
  }
  for (size_t i = 0; i < w; i++) out[3 + i] = (uint8_t)(x >> (8 * i));
  return 3 + w;
}

void *sos__k_row_json(const struct tbl *t, const uint8_t *row, size_t len) {
  cJSON *o = cJSON_CreateObject();
  size_t at = 0, vlen;
  uint16_t tag;
  uint8_t type;
  const uint8_t *v;
  bool bad;
  while (next_field(row, len, &at, &tag, &type, &v, &vlen, &bad)) {
    const char *name = "?";
    for (uint32_t i = 0; i < t->sd->nfields; i++)
      if (t->sd->fields[i].tag == tag) name = t->sd->fields[i].name;
    size_t w = width(type);
    if (type == SOS_ROW_T_TEXT || type == SOS_ROW_T_BYTES) {
      char *s = sos_malloc(vlen * 4 + 1);
      size_t n = 0;
      for (size_t i = 0; s && i < vlen; i++) /* bytes that are not printable ASCII: \xNN */
        n += (size_t)(v[i] >= 0x20 && v[i] < 0x7f && v[i] != '\\' ? sprintf(s + n, "%c", v[i])
                                                                   : sprintf(s + n, "\\x%02x", v[i]));
      if (s) s[n] = 0;
      cJSON_AddStringToObject(o, name, s ? s : "");
      sos_free(s);
      continue;
    }
    uint64_t x = 0;
    for (size_t i = 0; i < w; i++) x |= (uint64_t)v[i] << (8 * i);
    double d;
    if (type == SOS_ROW_T_BOOL) {
      cJSON_AddBoolToObject(o, name, x != 0);
      continue;
    } else if (type == SOS_ROW_T_F64) {
      memcpy(&d, &x, 8);
    } else if (type == SOS_ROW_T_F32) {
      float fl;
      uint32_t x32 = (uint32_t)x;
      memcpy(&fl, &x32, 4);
      d = fl;
    } else if (type >= SOS_ROW_T_I8) {
      if (w < 8 && (x >> (8 * w - 1)) & 1) x |= ~0ull << (8 * w);
      d = (double)(int64_t)x;
    } else {
      d = (double)x;
    }
    cJSON_AddNumberToObject(o, name, d);
  }
  return o;
}

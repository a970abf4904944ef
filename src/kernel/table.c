/*
 * table.c - table stores: rows of a declared struct with a primary key and
 * secondary indexes (abi.h: table_put, table_get, table_del, table_query).
 *
 * A row is a value of the table's struct in the SOS wire format
 * (docs/wire.md), checked against the struct with the image's compiled
 * schema (image_ref.idl, sos_idl_check) before anything is stored, so a
 * table's struct may hold any IDL field: lists, optional fields, unions,
 * enums, structs.  The key and the indexed fields are plain text, bytes
 * or integer fields (the language checks it), picked out of a row with
 * sos_idl_get_field.  As everywhere in the wire format, a field that is
 * absent holds its zero value: a row without its key field has key 0 (or
 * ""), and a row without an indexed field is indexed at 0 (or "").  A
 * key-only row (table_get, table_del, the bounds of table_query) is a
 * message holding just that field; an empty bound means no bound.
 *
 * Keys in LMDB, after the store's prefix P = service NUL store NUL:
 *   P 0x00 enc(pk)                      the row
 *   P 0x01 i enc(field_i) enc(pk)       index i's entry (empty value)
 * enc() preserves order under byte comparison: integers as 8 big-endian
 * bytes (signed ones with the sign bit flipped), text and bytes with each
 * 0x00 written 0x00 0xff and ended by 0x00 0x00.  So a range of a key or
 * of an index is one ordered scan, and entries with the same indexed
 * value come in key order.
 *
 * A put reads the old row and writes, in one batch: a check that the row
 * is still the one read, the row, the old index entries' deletion and the
 * new ones.  Another writer of the same key in between makes the check
 * fail (CONFLICT) and changes nothing; the SDK retries.
 */
#include "kernel/kernel.h"

#include <cjson/cJSON.h>
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

/* Fills t for store (slen bytes) of service s whose image is ir; false
 * when the app declares no table of that name. */
bool sos__k_table_of(const struct svc *s, const struct image_ref *ir, const char *store,
                     size_t slen, struct tbl *t) {
  const struct sos_app *app = ir->app;
  t->plen = sos__k_store_prefix(s, app, store, slen, SOS_APP_STORE_TABLE, t->prefix);
  if (!t->plen || !ir->idl) return false;
  const struct sos_app_store *st = sos_app_store(app, (const char *)t->prefix + strlen(s->name) + 1);
  t->sd = st ? sos_app_struct(app, st->table_struct) : NULL;
  t->key = t->sd ? field_named(t->sd, st->key) : NULL;
  t->idl = ir->idl;
  t->type = t->key ? sos_idl_struct(ir->idl, st->table_struct) : -1;
  if (t->type < 0) return false;
  t->nidx = 0;
  for (uint32_t i = 0; i < st->nindexes && i < SOS__K_MAX_INDEXES; i++)
    if ((t->idx[t->nidx] = field_named(t->sd, st->indexes[i]))) t->nidx++;
  return true;
}

/* ---- rows ----------------------------------------------------------------------- */

/* Whether the len bytes at row are a well-formed value of t's struct. */
static bool row_valid(const struct tbl *t, const uint8_t *row, size_t len) {
  return sos_idl_check(t->idl, t->type, row, len, NULL, 0) == 0;
}

/* Field f of a row into *v (absent: present false, its zero value);
 * false when the row cannot be walked (a row stored under another
 * schema). */
static bool row_field(const struct tbl *t, const struct sos_app_field *f, const uint8_t *row,
                      size_t len, struct sos_idl_value *v) {
  return sos_idl_get_field(t->idl, t->type, row, len, f->name, v, NULL, 0) == 0;
}

/* Whether field type t is encoded by enc() as escaped bytes (text,
 * bytes) rather than as 8 bytes. */
static bool escaped(uint8_t t) { return t == SOS_APP_T_TEXT || t == SOS_APP_T_BYTES; }

/* Appends enc(v) to out (room for cap); returns its length, or 0 when it
 * does not fit. */
static size_t enc(const struct sos_idl_value *v, uint8_t *out, size_t cap) {
  if (!escaped(v->type)) {
    if (cap < 8) return 0;
    bool sign = v->type >= SOS_APP_T_I8 && v->type <= SOS_APP_T_I64;
    uint64_t x = sign ? (uint64_t)v->i ^ (1ull << 63) : v->u;
    for (int i = 7; i >= 0; i--, x >>= 8) out[i] = (uint8_t)x;
    return 8;
  }
  size_t n = 0;
  for (size_t i = 0; i < v->n; i++) {
    if (n + 2 > cap) return 0;
    out[n++] = v->p[i];
    if (!v->p[i]) out[n++] = 0xff;
  }
  if (n + 2 > cap) return 0;
  out[n++] = 0;
  out[n++] = 0;
  return n;
}

/* The length of the enc() at p (as written by enc for a field of type). */
static size_t enc_len(uint8_t type, const uint8_t *p, size_t len) {
  if (!escaped(type)) return len >= 8 ? 8 : 0;
  for (size_t i = 0; i + 1 < len; i++)
    if (!p[i]) {
      if (!p[i + 1]) return i + 2;
      i++; /* 0x00 0xff: an escaped 0x00 */
    }
  return 0;
}

/* P 0x00 enc(pk) of row into key; its length, or 0 when it does not fit. */
static size_t row_key(const struct tbl *t, const uint8_t *row, size_t len, uint8_t *key) {
  struct sos_idl_value v;
  if (!row_field(t, t->key, row, len, &v)) return 0;
  memcpy(key, t->prefix, t->plen);
  key[t->plen] = 0;
  size_t n = enc(&v, key + t->plen + 1, KEY_MAX - t->plen - 1);
  return n ? t->plen + 1 + n : 0;
}

/* P 0x01 i enc(field_i) enc(pk) of row into key; 0 when it does not fit
 * (or the row cannot be read). */
static size_t index_key(const struct tbl *t, uint32_t i, const uint8_t *row, size_t len,
                        const uint8_t *rkey, size_t rklen, uint8_t *key) {
  struct sos_idl_value v;
  if (!row_field(t, t->idx[i], row, len, &v)) return 0;
  memcpy(key, t->prefix, t->plen);
  key[t->plen] = 1;
  key[t->plen + 1] = (uint8_t)i;
  size_t at = t->plen + 2, n = enc(&v, key + at, KEY_MAX - at);
  size_t pk = rklen - t->plen - 1;
  if (!n || at + n + pk > KEY_MAX) return 0;
  memcpy(key + at + n, rkey + t->plen + 1, pk);
  return at + n + pk;
}

/* Whether the row's key and every index entry it needs fit LMDB's keys. */
static bool keys_fit(const struct tbl *t, const uint8_t *row, size_t len) {
  uint8_t rkey[KEY_MAX + 1], ikey[KEY_MAX + 1];
  size_t rklen = row_key(t, row, len, rkey);
  if (!rklen) return false;
  for (uint32_t i = 0; i < t->nidx; i++)
    if (!index_key(t, i, row, len, rkey, rklen, ikey)) return false;
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
  if ((rc = sos_store_get(k->store, rkey, rklen, *out, *len, len))) {
    sos_free(*out);
    *out = NULL;
  }
  return rc;
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
  return sos__k_table_of(in->svc, in->ver->img, sp ? sp : "", slen, t) ? 0 : 1;
}

int sos__k_h_table_put(struct sos_wasm_hostcall *c) {
  struct tbl t;
  const uint8_t *row;
  uint32_t len;
  int rc = table_args(c, &t, &row, &len);
  if (rc < 0) return oob(c);
  if (rc || len > SOS_ABI_MAX_VALUE || !row_valid(&t, row, len))
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
  if (rc || len > SOS_ABI_MAX_VALUE || !row_valid(&t, key, len))
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
  bool ok = !rc && len <= SOS_ABI_MAX_VALUE && row_valid(&t, key, len);
  size_t rklen = ok ? row_key(&t, key, len, rkey) : 0, got = 0;
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

/* Appends enc() of field f of the bound message b (n > 0 bytes) to the
 * scan key at out + head; false when b cannot be read or it does not fit. */
static bool bound_key(const struct tbl *t, const struct sos_app_field *f, const uint8_t *b,
                      size_t n, uint8_t *out, size_t head, size_t *len) {
  struct sos_idl_value v;
  if (!row_field(t, f, b, n, &v)) return false;
  size_t e = enc(&v, out + head, KEY_MAX - head);
  *len = head + e;
  return e != 0;
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
  const struct sos_app_field *f = o.by_index ? t->idx[idx] : t->key;
  o.field_type = f->type;
  uint8_t a[KEY_MAX + 1], b[KEY_MAX + 1];
  size_t head = t->plen + (o.by_index ? 2 : 1), al = head, bl = head;
  memcpy(a, t->prefix, t->plen);
  a[t->plen] = o.by_index ? 1 : 0;
  a[t->plen + 1] = (uint8_t)idx;
  memcpy(b, a, head);
  if ((lolen && !bound_key(t, f, lo, lolen, a, head, &al)) ||
      (hilen && !bound_key(t, f, hi, hilen, b, head, &bl)))
    return SOS_EINVAL;
  if (!hilen) b[head - 1]++; /* past every entry of this key or index */
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
  if (!sos__k_table_of(in->svc, in->ver->img, sp ? sp : "", slen, &t) ||
      lolen > SOS_ABI_MAX_VALUE || hilen > SOS_ABI_MAX_VALUE ||
      (lolen && !row_valid(&t, lo, lolen)) || (hilen && !row_valid(&t, hi, hilen)))
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

int sos__k_table_get(struct kernel *k, const struct tbl *t, const uint8_t *key, size_t klen,
                     uint8_t **row, size_t *len) {
  uint8_t rkey[KEY_MAX + 1];
  *row = NULL;
  *len = 0;
  if (!row_valid(t, key, klen)) return SOS_EINVAL;
  size_t rklen = row_key(t, key, klen, rkey);
  if (!rklen) return SOS_ETOOBIG;
  int rc = load_row(k, rkey, rklen, row, len);
  return rc ? rc : *row ? 0 : SOS_ENOENT;
}

/* Appends the varint v to out at *n (room for 10 more bytes). */
static void put_varint(uint8_t *out, size_t *n, uint64_t v) {
  for (; v >= 0x80; v >>= 7) out[(*n)++] = (uint8_t)(v | 0x80);
  out[(*n)++] = (uint8_t)v;
}

int sos__k_table_bound(const struct tbl *t, const struct sos_app_field *f, const char *text,
                       uint8_t **out, size_t *len, char *err, size_t errlen) {
  *out = NULL;
  snprintf(err, errlen, "out of memory");
  cJSON *o = cJSON_CreateObject(); /* {"field": "text"}: from_json reads digits in strings */
  char *json = o && cJSON_AddStringToObject(o, f->name, text) ? cJSON_PrintUnformatted(o) : NULL;
  cJSON_Delete(o);
  if (!json) return SOS_ENOMEM;
  uint8_t *msg = NULL;
  size_t n = 0;
  int rc = sos_idl_from_json(t->idl, t->type, json, strlen(json), &msg, &n, err, errlen);
  cJSON_free(json);
  if (rc) return rc;
  if (n == 0) { /* the zero value, which from_json leaves out: write it */
    sos_free(msg);
    if (!(msg = sos_malloc(16))) return SOS_ENOMEM;
    put_varint(msg, &n, (uint64_t)f->tag << 3 | (escaped(f->type) ? 2 : 0));
    msg[n++] = 0; /* a varint 0, or a length 0 */
  }
  *out = msg;
  *len = n;
  return 0;
}

void *sos__k_row_json(const struct tbl *t, const uint8_t *row, size_t len) {
  char *json = NULL, err[256] = "out of memory";
  size_t n = 0;
  if (sos_idl_to_json(t->idl, t->type, row, len, &json, &n, err, sizeof err) != 0) {
    cJSON *o = cJSON_CreateObject(); /* a row this schema cannot read: say why */
    cJSON_AddStringToObject(o, "error", err);
    return o;
  }
  cJSON *o = cJSON_ParseWithLength(json, n);
  sos_free(json);
  return o ? o : cJSON_CreateObject();
}

/*
 * wire.c - reading the SOS wire format (docs/wire.md): varints, UTF-8,
 * walking a struct value field by field, checking a message against its
 * schema, and picking one field out of a message.
 *
 * Everything here reads untrusted bytes, so every read is bounds-checked
 * against the end of the enclosing struct, and every length against what
 * remains of it.  Nothing allocates: checking runs on the kernel's call
 * path, once per typed message.
 *
 * The walker (sos_idl_next) knows only the wire format: it reads one key
 * and finds its payload's bounds, whatever the tag.  The checker adds
 * the schema: a known tag must carry its field's wire type and a value
 * that fits its type; text must be UTF-8; nested structs are checked
 * recursively, at most 32 deep (the message being level 1), which also
 * bounds the recursion.  Each occurrence of a repeated field is checked,
 * since a message is rejected as a whole.
 *
 * The UTF-8 check (RFC 3629 §4's table) skips ASCII eight bytes at a
 * time, the common case of names and words.
 */
#include "idl/idl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- varints and UTF-8 ------------------------------------------------------------ */

int sos__idl_varint_slow(const uint8_t **pp, const uint8_t *end, uint64_t *v) {
  const uint8_t *p = *pp;
  uint64_t x = 0;
  for (unsigned i = 0; i < 10; i++) {
    if (p + i >= end) return SOS__IDL_VR_TRUNC;
    uint8_t b = p[i];
    if (i == 9) {
      if (b & 0x80) return SOS__IDL_VR_LONG;
      if (b > 1) return SOS__IDL_VR_BIG; /* past 2^64 - 1 */
    }
    x |= (uint64_t)(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) {
      *v = x;
      *pp = p + i + 1;
      return SOS__IDL_VR_OK;
    }
  }
  return SOS__IDL_VR_LONG; /* not reached */
}

const char *sos__idl_varint_problem(int vr) {
  switch (vr) {
  case SOS__IDL_VR_TRUNC: return "truncated varint";
  case SOS__IDL_VR_LONG: return "varint longer than 10 bytes";
  case SOS__IDL_VR_BIG: return "varint past 2^64 - 1";
  default: return "bad varint";
  }
}

/* Whether the n bytes at p are all ASCII. */
static bool ascii8(const uint8_t *p) {
  uint64_t w;
  memcpy(&w, p, 8);
  return (w & 0x8080808080808080ull) == 0;
}

/* See sos__idl_utf8_seq. */
static inline size_t utf8_seq(const uint8_t *p, size_t n) {
  uint8_t c = p[0];
  if (c < 0x80) return 1;
  size_t need;
  uint8_t lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
  if (c < 0xc2) return 0; /* a continuation byte, or overlong C0/C1 */
  else if (c < 0xe0) need = 1;
  else if (c < 0xf0) {
    need = 2;
    if (c == 0xe0) lo = 0xa0;      /* overlong */
    else if (c == 0xed) hi = 0x9f; /* surrogates */
  } else if (c < 0xf5) {
    need = 3;
    if (c == 0xf0) lo = 0x90;      /* overlong */
    else if (c == 0xf4) hi = 0x8f; /* past U+10FFFF */
  } else return 0;
  if (n <= need || p[1] < lo || p[1] > hi) return 0;
  for (size_t k = 2; k <= need; k++)
    if ((p[k] & 0xc0) != 0x80) return 0;
  return need + 1;
}

size_t sos__idl_utf8_seq(const uint8_t *p, size_t n) {
  return utf8_seq(p, n);
}

size_t sos__idl_utf8_check(const uint8_t *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    while (i + 8 <= n && ascii8(p + i)) i += 8;
    if (i >= n) break;
    if (p[i] < 0x80) {
      i++;
      continue;
    }
    size_t k = utf8_seq(p + i, n - i);
    if (k == 0) return i;
    i += k;
  }
  return n;
}

/* Whether a VARINT value v fits field type t: bool 0/1, integers their
 * range (signed ones zigzagged), enums 0..2^31-1. */
static inline bool fits(uint8_t t, uint64_t v) {
  switch (t) { /* zigzag maps i8's -128..127 onto 0..255, and so on */
  case SOS_APP_T_BOOL: return v <= 1;
  case SOS_APP_T_U8:
  case SOS_APP_T_I8: return v <= 0xff;
  case SOS_APP_T_U16:
  case SOS_APP_T_I16: return v <= 0xffff;
  case SOS_APP_T_U32:
  case SOS_APP_T_I32: return v <= 0xffffffffu;
  case SOS_APP_T_U64:
  case SOS_APP_T_I64: return true;
  case SOS_APP_T_ENUM: return v <= 0x7fffffffu;
  default: return false;
  }
}

/* ---- walking a struct ---------------------------------------------------------- */

static uint64_t load_le(const uint8_t *p, unsigned n) {
  uint64_t v = 0;
  for (unsigned i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

/* See sos_idl_next. */
static inline int next_field(const uint8_t **pp, const uint8_t *end,
                             struct sos_idl_item *it) {
  const uint8_t *p = *pp;
  uint64_t key, len;
  it->key = p;
  int vr = sos__idl_varint(&p, end, &key);
  if (vr) return it->vr = vr, SOS_IDL_NX_KEY;
  it->tag = key >> 3;
  it->wire = (unsigned)(key & 7);
  it->p = p;
  switch (it->wire) {
  case SOS__IDL_VARINT:
    vr = sos__idl_varint(&p, end, &it->v);
    if (vr) return it->vr = vr, SOS_IDL_NX_VARINT;
    break;
  case SOS__IDL_I64:
  case SOS__IDL_I32:
    it->n = it->wire == SOS__IDL_I64 ? 8 : 4;
    if ((size_t)(end - p) < it->n) return SOS_IDL_NX_SHORT;
    it->v = load_le(p, (unsigned)it->n);
    p += it->n;
    break;
  case SOS__IDL_LEN:
    vr = sos__idl_varint(&p, end, &len);
    if (vr) return it->vr = vr, SOS_IDL_NX_LEN;
    it->p = p;
    it->n = len;
    if (len > (uint64_t)(end - p)) return SOS_IDL_NX_PAST;
    p += len;
    break;
  default: return SOS_IDL_NX_WIRE;
  }
  *pp = p;
  return 0;
}

int sos_idl_next(const uint8_t **pp, const uint8_t *end, struct sos_idl_item *it) {
  return next_field(pp, end, it);
}

void sos__idl_next_problem(int nx, const struct sos_idl_item *it, const uint8_t *end,
                           char *buf, size_t n) {
  switch (nx) {
  case SOS_IDL_NX_KEY:
    snprintf(buf, n, "%s in a key", sos__idl_varint_problem(it->vr));
    break;
  case SOS_IDL_NX_WIRE:
    snprintf(buf, n, "bad wire type %u (tag %llu)", it->wire, (unsigned long long)it->tag);
    break;
  case SOS_IDL_NX_VARINT: snprintf(buf, n, "%s", sos__idl_varint_problem(it->vr)); break;
  case SOS_IDL_NX_SHORT:
    snprintf(buf, n, "truncated: %zu bytes needed, %zu left", it->n, (size_t)(end - it->p));
    break;
  case SOS_IDL_NX_LEN:
    snprintf(buf, n, "%s in a length", sos__idl_varint_problem(it->vr));
    break;
  case SOS_IDL_NX_PAST:
    snprintf(buf, n, "length %llu runs past the end (%zu left)",
             (unsigned long long)it->n, (size_t)(end - it->p));
    break;
  default: snprintf(buf, n, "malformed"); break;
  }
}

/* ---- checking ------------------------------------------------------------------------- */

struct chk {
  const struct sos_idl *s;
  const uint8_t *base;
  char *err;
  size_t errlen;
};

static const char *wire_name(unsigned w) {
  switch (w) {
  case SOS__IDL_VARINT: return "VARINT";
  case SOS__IDL_I64: return "I64";
  case SOS__IDL_LEN: return "LEN";
  case SOS__IDL_I32: return "I32";
  default: return "?";
  }
}

/* Reports a malformed message: "Struct.field (tag N) at byte B: what", or
 * without the field when f is NULL. */
static int bad(const struct chk *c, const struct sos__idl_struct *st,
               const struct sos__idl_field *f, const uint8_t *at, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int bad(const struct chk *c, const struct sos__idl_struct *st,
               const struct sos__idl_field *f, const uint8_t *at, const char *fmt, ...) {
  char what[160];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  size_t off = (size_t)(at - c->base);
  if (f)
    return sos__idl_err(c->err, c->errlen, SOS_EMALFORMED, "%s.%s (tag %u) at byte %zu: %s",
                        st->name, f->name, f->tag, off, what);
  return sos__idl_err(c->err, c->errlen, SOS_EMALFORMED, "%s at byte %zu: %s", st->name, off,
                      what);
}

/* Reports varint value v that does not fit field f's type. */
static int bad_value(const struct chk *c, const struct sos__idl_struct *st,
                     const struct sos__idl_field *f, const uint8_t *at, uint64_t v) {
  const char *tn = sos__idl_type_name(c->s, f);
  switch (f->type) {
  case SOS_APP_T_BOOL: return bad(c, st, f, at, "%llu is not a bool (0 or 1)", (unsigned long long)v);
  case SOS_APP_T_I8:
  case SOS_APP_T_I16:
  case SOS_APP_T_I32:
    return bad(c, st, f, at, "%lld does not fit %s", (long long)sos__idl_unzigzag(v), tn);
  case SOS_APP_T_ENUM:
    return bad(c, st, f, at, "%llu is not an enum number (0 to 2^31 - 1)",
               (unsigned long long)v);
  default: return bad(c, st, f, at, "%llu does not fit %s", (unsigned long long)v, tn);
  }
}

static int check_struct(const struct chk *c, uint32_t si, const uint8_t *p,
                        const uint8_t *end, unsigned depth);

/* Checks one text, bytes or struct payload of field f (a list element or
 * the field itself) at p, n bytes. */
static int check_len(const struct chk *c, const struct sos__idl_struct *st,
                     const struct sos__idl_field *f, const uint8_t *p, size_t n,
                     unsigned depth) {
  if (f->type == SOS_APP_T_TEXT) {
    size_t at = sos__idl_utf8_check(p, n);
    return at == n ? 0 : bad(c, st, f, p + at, "invalid UTF-8");
  }
  if (f->type != SOS_APP_T_STRUCT) return 0;
  if (depth >= SOS__IDL_MAX_DEPTH)
    return bad(c, st, f, p, "structs nested deeper than %d levels", SOS__IDL_MAX_DEPTH);
  return check_struct(c, (uint32_t)f->ref, p, p + n, depth + 1);
}

/* Checks the payload of a list field f (p, n bytes): whole elements, each
 * valid for the field's type. */
static int check_list(const struct chk *c, const struct sos__idl_struct *st,
                      const struct sos__idl_field *f, const uint8_t *p, size_t n,
                      unsigned depth) {
  const uint8_t *end = p + n;
  if (f->type == SOS_APP_T_F32 || f->type == SOS_APP_T_F64) {
    size_t w = f->type == SOS_APP_T_F32 ? 4 : 8;
    return n % w == 0 ? 0 : bad(c, st, f, p, "list of %zu bytes is not whole %zu-byte elements", n, w);
  }
  bool len_elems = f->type == SOS_APP_T_TEXT || f->type == SOS_APP_T_BYTES ||
                   f->type == SOS_APP_T_STRUCT;
  while (p < end) {
    const uint8_t *at = p;
    uint64_t v;
    int vr = sos__idl_varint(&p, end, &v);
    if (vr) return bad(c, st, f, at, "%s in a list element", sos__idl_varint_problem(vr));
    if (!len_elems) {
      if (!fits(f->type, v)) return bad_value(c, st, f, at, v);
      continue;
    }
    if (v > (uint64_t)(end - p))
      return bad(c, st, f, at, "list element of %llu bytes runs past the end (%zu left)",
                 (unsigned long long)v, (size_t)(end - p));
    int rc = check_len(c, st, f, p, (size_t)v, depth);
    if (rc) return rc;
    p += v;
  }
  return 0;
}

static int check_struct(const struct chk *c, uint32_t si, const uint8_t *p,
                        const uint8_t *end, unsigned depth) {
  const struct sos__idl_struct *st = &c->s->structs[si];
  struct sos_idl_item it;
  while (p < end) {
    int nx = next_field(&p, end, &it);
    const struct sos__idl_field *f =
        nx == SOS_IDL_NX_KEY ? NULL : sos__idl_by_tag(st, it.tag);
    if (nx) {
      char what[128];
      sos__idl_next_problem(nx, &it, end, what, sizeof what);
      return bad(c, st, f, nx == SOS_IDL_NX_KEY || nx == SOS_IDL_NX_WIRE ? it.key : it.p,
                 "%s", what);
    }
    if (!f) continue; /* unknown tags are skipped */
    if (it.wire != f->wire)
      return bad(c, st, f, it.key, "wire type %s where %s%s needs %s", wire_name(it.wire),
                 f->flags & SOS_APP_F_LIST ? "a list of " : "", sos__idl_type_name(c->s, f),
                 wire_name(f->wire));
    int rc = 0;
    if (f->flags & SOS_APP_F_LIST) rc = check_list(c, st, f, it.p, it.n, depth);
    else if (it.wire == SOS__IDL_VARINT) {
      if (!fits(f->type, it.v)) rc = bad_value(c, st, f, it.p, it.v);
    } else if (it.wire == SOS__IDL_LEN) rc = check_len(c, st, f, it.p, it.n, depth);
    if (rc) return rc;
  }
  return 0;
}

int sos_idl_check(const struct sos_idl *s, int type, const void *p, size_t n, char *err,
                  size_t errlen) {
  if (type < 0 || (uint32_t)type >= s->nstructs || (!p && n))
    return sos__idl_err(err, errlen, SOS_EINVAL, "no struct type %d", type);
  const uint8_t *b = p ? p : (const uint8_t *)"";
  struct chk c = {s, b, err, errlen};
  return check_struct(&c, (uint32_t)type, b, b + n, 1);
}

/* ---- picking a field ------------------------------------------------------------ */

/* Finds the last occurrence of f in the struct bytes [p, end) into *hit
 * (hit->p NULL when absent; a later variant of f's union hides it). */
static int find_last(const struct sos__idl_struct *st, const struct sos__idl_field *f,
                     const uint8_t *p, const uint8_t *end, struct sos_idl_item *hit,
                     char *why, size_t n) {
  struct sos_idl_item it;
  hit->p = NULL;
  while (p < end) {
    int nx = next_field(&p, end, &it);
    if (nx) {
      sos__idl_next_problem(nx, &it, end, why, n);
      return SOS_EMALFORMED;
    }
    if (it.tag == f->tag) *hit = it;
    else if (f->group && hit->p) {
      const struct sos__idl_field *g = sos__idl_by_tag(st, it.tag);
      if (g && g->group == f->group) hit->p = NULL;
    }
  }
  if (hit->p && hit->wire != f->wire) {
    snprintf(why, n, "%s.%s has wire type %s", st->name, f->name, wire_name(hit->wire));
    return SOS_EMALFORMED;
  }
  return 0;
}

/* Describes field f found as hit (hit->p NULL when absent) in *v. */
static void describe_value(const struct sos__idl_field *f, const struct sos_idl_item *hit,
                           struct sos_idl_value *v) {
  memset(v, 0, sizeof *v);
  v->type = f->type;
  v->flags = f->flags;
  v->wire = f->wire;
  v->tag = f->tag;
  v->type_index = f->ref;
  v->present = hit->p != NULL;
  if (!v->present) return;
  if (f->wire == SOS__IDL_LEN) {
    v->p = hit->p;
    v->n = hit->n;
    return;
  }
  v->u = hit->v;
  if (f->type >= SOS_APP_T_I8 && f->type <= SOS_APP_T_I64) v->i = sos__idl_unzigzag(hit->v);
  if (f->type == SOS_APP_T_F64) memcpy(&v->f, &hit->v, 8);
  if (f->type == SOS_APP_T_F32) {
    uint32_t bits = (uint32_t)hit->v;
    float x;
    memcpy(&x, &bits, 4);
    v->f = x;
  }
}

int sos_idl_path_resolve(const struct sos_idl *s, int type, const char *path, size_t len,
                         struct sos_idl_path *out, char *err, size_t errlen) {
  if (type < 0 || (uint32_t)type >= s->nstructs || (!path && len))
    return sos__idl_err(err, errlen, SOS_EINVAL, "no struct type %d", type);
  const struct sos__idl_struct *st = &s->structs[type];
  const char *end = path + len;
  out->type = type;
  out->n = 0;
  for (;;) {
    const char *dot = memchr(path, '.', (size_t)(end - path));
    size_t n = (size_t)((dot ? dot : end) - path);
    if (n == 0) return sos__idl_err(err, errlen, SOS_EINVAL, "empty field name in path");
    const struct sos__idl_field *f = sos__idl_by_name(st, path, n);
    if (!f)
      return sos__idl_err(err, errlen, SOS_ENOENT, "%s has no field %.*s", st->name, (int)n,
                          path);
    if (out->n == SOS_IDL_PATH_MAX)
      return sos__idl_err(err, errlen, SOS_EINVAL, "a field path has at most %d names",
                          SOS_IDL_PATH_MAX);
    out->field[out->n++] = (uint16_t)(f - st->fields);
    if (!dot) return 0;
    if (f->type != SOS_APP_T_STRUCT || (f->flags & SOS_APP_F_LIST))
      return sos__idl_err(err, errlen, SOS_EINVAL, "%s.%s is not a struct", st->name, f->name);
    st = &s->structs[f->ref];
    path = dot + 1;
  }
}

int sos_idl_path_get(const struct sos_idl *s, const struct sos_idl_path *path, const void *p,
                     size_t n, struct sos_idl_value *v, char *err, size_t errlen) {
  const struct sos__idl_struct *st = &s->structs[path->type];
  const uint8_t *b = p ? p : (const uint8_t *)"", *end = b + n;
  for (uint32_t i = 0;; i++) {
    const struct sos__idl_field *f = &st->fields[path->field[i]];
    struct sos_idl_item hit;
    char why[160];
    if (find_last(st, f, b, end, &hit, why, sizeof why))
      return sos__idl_err(err, errlen, SOS_EMALFORMED, "%s", why);
    if (i + 1 == path->n) {
      describe_value(f, &hit, v);
      return 0;
    }
    st = &s->structs[f->ref];
    b = hit.p;
    end = hit.p ? hit.p + hit.n : NULL;
  }
}

int sos_idl_get_field(const struct sos_idl *s, int type, const void *p, size_t n,
                      const char *path, struct sos_idl_value *v, char *err,
                      size_t errlen) {
  struct sos_idl_path at;
  if ((!p && n) || !path)
    return sos__idl_err(err, errlen, SOS_EINVAL, "no struct type %d", type);
  int rc = sos_idl_path_resolve(s, type, path, strlen(path), &at, err, errlen);
  return rc ? rc : sos_idl_path_get(s, &at, p, n, v, err, errlen);
}

/* ---- writing by hand ------------------------------------------------------------ */

void sos_idl_put_key(struct sos_buf *b, uint32_t tag, uint32_t wire) {
  sos_buf_varint(b, (uint64_t)tag << 3 | wire);
}

void sos_idl_put_bytes(struct sos_buf *b, uint32_t tag, const void *p, size_t n) {
  sos_idl_put_key(b, tag, SOS__IDL_LEN);
  sos_buf_varint(b, n);
  sos_buf_add(b, p, n);
}

void sos_idl_put_inner(struct sos_buf *b, uint32_t tag, struct sos_buf *inner) {
  if (inner->rc && !b->rc) b->rc = inner->rc;
  if (tag && inner->len) {
    sos_idl_put_bytes(b, tag, inner->p, inner->len);
  } else if (!tag) {
    sos_buf_varint(b, inner->len);
    sos_buf_add(b, inner->p, inner->len);
  }
  sos_buf_free(inner);
}

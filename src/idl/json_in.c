/*
 * json_in.c - JSON text to wire bytes (sos_idl_from_json).
 *
 * The text is parsed first (json_parse.c) into nodes; then each object is
 * matched against its struct: every member must name a field, once, and
 * the members are then encoded in the struct's declared order, which
 * makes the output canonical whatever order the JSON gave.  Plain fields
 * at their zero value are left out; optional fields and union variants
 * that are given are always written.
 *
 * A LEN payload's length is not known before its content is encoded, so
 * the encoder writes a one-byte placeholder, encodes the content after
 * it, and, when the length needs more than one byte (128 bytes or more),
 * moves the content up to make room.  The move touches each byte once per
 * enclosing struct of 128 bytes or more, at most 32 times.
 *
 * Integers are converted exactly from their digits (cJSON's doubles would
 * lose 64-bit values); a number with a fraction or an exponent is taken
 * only when its value is a whole number below 2^53, where a double is
 * exact.  Floats go through strtod/strtof, which round correctly.
 */
#include "idl/idl.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct enc {
  const struct sos_idl *s;
  struct sos__json doc;
  struct sos_buf out;
  struct sos_buf tmp; /* scratch: decoded strings */
  char *err;
  size_t errlen;
};

/* Where a value sits, for messages: Struct.field, [index] in a list. */
struct where {
  const struct sos__idl_struct *st;
  const struct sos__idl_field *f; /* NULL for the struct itself */
  int64_t index;                  /* -1 outside a list */
};

static int fail(struct enc *e, const struct where *w, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct enc *e, const struct where *w, const char *fmt, ...) {
  char what[200], at[160];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  if (!w->f) snprintf(at, sizeof at, "%s", w->st->name);
  else if (w->index < 0) snprintf(at, sizeof at, "%s.%s", w->st->name, w->f->name);
  else snprintf(at, sizeof at, "%s.%s[%lld]", w->st->name, w->f->name, (long long)w->index);
  return sos__idl_err(e->err, e->errlen, SOS_EINVAL, "%s: %s", at, what);
}

static const struct sos__json_node *node(const struct enc *e, uint32_t i) {
  return &e->doc.nodes[i];
}

/* The text of node nd for a message, cut past 40 bytes. */
static const char *shown(const struct enc *e, const struct sos__json_node *nd, char *buf,
                         size_t n) {
  int len = nd->len > 40 ? 40 : (int)nd->len;
  snprintf(buf, n, "%s%.*s%s%s", nd->kind == SOS__JSON_STRING ? "\"" : "", len,
           e->doc.text + nd->start, nd->len > 40 ? "..." : "",
           nd->kind == SOS__JSON_STRING ? "\"" : "");
  return buf;
}

static int wrong_kind(struct enc *e, const struct where *w, const char *want,
                      const struct sos__json_node *nd) {
  return fail(e, w, "expected %s, got %s", want, sos__json_kind(nd->kind));
}

/* ---- integers --------------------------------------------------------------------- */

/* Reads -?[0-9]+ (n bytes at p) exactly: *neg and *mag.  False when p is
 * something else or the magnitude passes 2^64 - 1. */
static bool exact_integer(const char *p, size_t n, bool *neg, uint64_t *mag) {
  size_t i = 0;
  *neg = n > 0 && p[0] == '-';
  i = *neg;
  if (i == n) return false;
  uint64_t v = 0;
  for (; i < n; i++) {
    if (p[i] < '0' || p[i] > '9') return false;
    unsigned d = (unsigned)(p[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *mag = v;
  return true;
}

/* Copies node text into a NUL-terminated string for strtod: into buf
 * (n bytes) when it fits, else into e->tmp.  NULL when out of memory. */
static const char *cstr(struct enc *e, const struct sos__json_node *nd, char *buf, size_t n) {
  if (nd->len < n) {
    memcpy(buf, e->doc.text + nd->start, nd->len);
    buf[nd->len] = 0;
    return buf;
  }
  e->tmp.len = 0;
  sos_buf_add(&e->tmp, e->doc.text + nd->start, nd->len);
  sos_buf_add(&e->tmp, "", 1);
  return e->tmp.rc ? NULL : (const char *)e->tmp.p;
}

/* Reads an integer from node nd (a number, or a string of digits) into
 * *neg and *mag. */
static int read_integer(struct enc *e, const struct where *w, const struct sos__json_node *nd,
                        bool *neg, uint64_t *mag) {
  const char *p = e->doc.text + nd->start;
  char buf[64];
  if (nd->kind != SOS__JSON_NUMBER && nd->kind != SOS__JSON_STRING)
    return wrong_kind(e, w, "an integer", nd);
  if (nd->kind == SOS__JSON_STRING && (nd->escaped || !exact_integer(p, nd->len, neg, mag)))
    return fail(e, w, "%s is not an integer", shown(e, nd, buf, sizeof buf));
  if (nd->kind == SOS__JSON_STRING || exact_integer(p, nd->len, neg, mag)) return 0;
  if (!memchr(p, '.', nd->len) && !memchr(p, 'e', nd->len) && !memchr(p, 'E', nd->len))
    return fail(e, w, "%s is out of range", shown(e, nd, buf, sizeof buf));
  const char *c = cstr(e, nd, buf, sizeof buf);
  if (!c) return SOS_ENOMEM;
  double d = strtod(c, NULL);
  if (d != floor(d)) return fail(e, w, "%s is not an integer", shown(e, nd, buf, sizeof buf));
  if (fabs(d) >= 9007199254740992.0)
    return fail(e, w, "%s is too large to be exact; write it as digits",
                shown(e, nd, buf, sizeof buf));
  *neg = d < 0;
  *mag = (uint64_t)fabs(d);
  return 0;
}

/* The largest magnitude of integer type t (negative: of its negatives). */
static uint64_t type_max(uint8_t t, bool neg) {
  switch (t) {
  case SOS_APP_T_U8: return neg ? 0 : 0xff;
  case SOS_APP_T_U16: return neg ? 0 : 0xffff;
  case SOS_APP_T_U32: return neg ? 0 : 0xffffffffu;
  case SOS_APP_T_U64: return neg ? 0 : UINT64_MAX;
  case SOS_APP_T_I8: return neg ? 0x80 : 0x7f;
  case SOS_APP_T_I16: return neg ? 0x8000 : 0x7fff;
  case SOS_APP_T_I32: return neg ? 0x80000000u : 0x7fffffffu;
  case SOS_APP_T_I64: return neg ? (uint64_t)1 << 63 : INT64_MAX;
  default: return neg ? 0 : 0x7fffffffu; /* enum */
  }
}

/* The varint of an integer field's value in nd (zigzag for signed). */
static int int_varint(struct enc *e, const struct where *w, uint8_t t,
                      const struct sos__json_node *nd, uint64_t *v) {
  bool neg;
  uint64_t mag;
  char buf[64];
  int rc = read_integer(e, w, nd, &neg, &mag);
  if (rc) return rc;
  if (mag > type_max(t, neg && mag)) {
    const char *tn = t == SOS_APP_T_ENUM ? "an enum (0 to 2^31 - 1)" : sos_app_type_name(t);
    return fail(e, w, "%s does not fit %s", shown(e, nd, buf, sizeof buf), tn);
  }
  if (t >= SOS_APP_T_I8 && t <= SOS_APP_T_I64)
    *v = sos__idl_zigzag(neg ? (int64_t)(0 - mag) : (int64_t)mag);
  else *v = mag;
  return 0;
}

/* The varint of an enum value: a declared name or a number. */
static int enum_varint(struct enc *e, const struct where *w, const struct sos__idl_enum *en,
                       const struct sos__json_node *nd, uint64_t *v) {
  char buf[64];
  uint32_t x;
  if (nd->kind == SOS__JSON_STRING && !nd->escaped &&
      sos__idl_enum_value(en, e->doc.text + nd->start, nd->len, &x)) {
    *v = x;
    return 0;
  }
  bool neg;
  uint64_t mag;
  if (nd->kind == SOS__JSON_STRING &&
      (nd->escaped || !exact_integer(e->doc.text + nd->start, nd->len, &neg, &mag)))
    return fail(e, w, "%s is not a value of enum %s", shown(e, nd, buf, sizeof buf), en->name);
  if (nd->kind != SOS__JSON_STRING && nd->kind != SOS__JSON_NUMBER)
    return wrong_kind(e, w, "an enum name", nd);
  return int_varint(e, w, SOS_APP_T_ENUM, nd, v);
}

/* ---- floats, base64 ----------------------------------------------------------------- */

/* The IEEE 754 bits of a float field's value (f32 in the low 32 bits). */
static int float_bits(struct enc *e, const struct where *w, bool f32,
                      const struct sos__json_node *nd, uint64_t *bits) {
  char buf[64];
  double d;
  float f;
  if (nd->kind == SOS__JSON_STRING) {
    const char *p = e->doc.text + nd->start;
    bool esc = nd->escaped;
    if (!esc && nd->len == 3 && memcmp(p, "NaN", 3) == 0) d = NAN;
    else if (!esc && nd->len == 8 && memcmp(p, "Infinity", 8) == 0) d = INFINITY;
    else if (!esc && nd->len == 9 && memcmp(p, "-Infinity", 9) == 0) d = -INFINITY;
    else return fail(e, w, "%s is not a number", shown(e, nd, buf, sizeof buf));
    f = (float)d;
  } else if (nd->kind == SOS__JSON_NUMBER) {
    const char *c = cstr(e, nd, buf, sizeof buf);
    if (!c) return SOS_ENOMEM;
    d = strtod(c, NULL);
    f = strtof(c, NULL); /* rounds once, not twice through double */
    if (f32 ? isinf(f) : isinf(d))
      return fail(e, w, "%s does not fit %s", shown(e, nd, buf, sizeof buf),
                  f32 ? "f32" : "f64");
  } else return wrong_kind(e, w, "a number", nd);
  if (f32) {
    uint32_t b32;
    memcpy(&b32, &f, 4);
    *bits = b32;
  } else memcpy(bits, &d, 8);
  return 0;
}

static int b64_digit(uint8_t c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

/* Decodes base64 (RFC 4648 §4, padded, unused bits zero) from p (n bytes)
 * onto e->out.  False when it is not such base64. */
static bool base64_decode(struct enc *e, const uint8_t *p, size_t n) {
  if (n % 4) return false;
  for (size_t i = 0; i < n; i += 4) {
    size_t pad = 0;
    if (i + 4 == n && p[i + 3] == '=') pad = p[i + 2] == '=' ? 2 : 1;
    uint32_t v = 0;
    for (size_t k = 0; k < 4; k++) {
      int d = k < 4 - pad ? b64_digit(p[i + k]) : 0;
      if (d < 0) return false;
      v = v << 6 | (uint32_t)d;
    }
    if ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff))) return false;
    uint8_t o[3] = {(uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    sos_buf_add(&e->out, o, 3 - pad);
  }
  return true;
}

/* ---- writing ------------------------------------------------------------------------ */

static void put_key(struct enc *e, const struct sos__idl_field *f) {
  sos_idl_put_key(&e->out, f->tag, f->wire);
}

/* Starts a LEN payload: a one-byte length placeholder.  Returns its offset. */
static size_t begin_len(struct enc *e) {
  sos_buf_add(&e->out, "", 1);
  return e->out.len - 1;
}

/* Ends the LEN payload begun at at: writes its length, moving the content
 * up when the length takes more than one byte.  Returns the length. */
static size_t end_len(struct enc *e, size_t at) {
  if (e->out.rc) return 0;
  size_t len = e->out.len - at - 1, k = sos__idl_varint_len(len);
  if (k > 1) {
    if (!sos_buf_room(&e->out, k - 1)) return 0;
    memmove(e->out.p + at + k, e->out.p + at + 1, len);
    e->out.len += k - 1;
  }
  sos__idl_varint_put(e->out.p + at, len);
  return len;
}

static int encode_struct(struct enc *e, uint32_t si, uint32_t ni, unsigned depth);

/* Encodes one value of field f (a list element when w->index >= 0) from
 * node ni as its payload: a varint, 4 or 8 bytes, or for LEN types the
 * content (without the length). */
static int encode_payload(struct enc *e, const struct where *w, uint32_t ni, unsigned depth,
                          uint64_t *v) {
  const struct sos__idl_field *f = w->f;
  const struct sos__json_node *nd = node(e, ni);
  switch (f->type) {
  case SOS_APP_T_BOOL:
    if (nd->kind != SOS__JSON_TRUE && nd->kind != SOS__JSON_FALSE)
      return wrong_kind(e, w, "true or false", nd);
    *v = nd->kind == SOS__JSON_TRUE;
    return 0;
  case SOS_APP_T_F32:
  case SOS_APP_T_F64: return float_bits(e, w, f->type == SOS_APP_T_F32, nd, v);
  case SOS_APP_T_ENUM: return enum_varint(e, w, &e->s->enums[f->ref], nd, v);
  case SOS_APP_T_TEXT:
    if (nd->kind != SOS__JSON_STRING) return wrong_kind(e, w, "a string", nd);
    sos__json_string(&e->doc, nd, &e->out);
    return 0;
  case SOS_APP_T_BYTES: {
    if (nd->kind != SOS__JSON_STRING) return wrong_kind(e, w, "a base64 string", nd);
    e->tmp.len = 0;
    sos__json_string(&e->doc, nd, &e->tmp);
    if (e->tmp.rc) return e->tmp.rc;
    return base64_decode(e, e->tmp.p, e->tmp.len) ? 0 : fail(e, w, "invalid base64");
  }
  case SOS_APP_T_STRUCT:
    if (nd->kind != SOS__JSON_OBJECT) return wrong_kind(e, w, "an object", nd);
    if (depth >= SOS__IDL_MAX_DEPTH)
      return fail(e, w, "structs nested deeper than %d levels", SOS__IDL_MAX_DEPTH);
    return encode_struct(e, (uint32_t)f->ref, ni, depth + 1);
  default: return int_varint(e, w, f->type, nd, v);
  }
}

/* Appends a fixed-size or varint payload v for type t. */
static void put_scalar(struct enc *e, uint8_t t, uint64_t v) {
  if (t == SOS_APP_T_F32 || t == SOS_APP_T_F64) {
    uint8_t b[8];
    unsigned n = t == SOS_APP_T_F32 ? 4 : 8;
    for (unsigned i = 0; i < n; i++) b[i] = (uint8_t)(v >> (8 * i));
    sos_buf_add(&e->out, b, n);
  } else sos_buf_varint(&e->out, v);
}

static bool len_type(uint8_t t) {
  return t == SOS_APP_T_TEXT || t == SOS_APP_T_BYTES || t == SOS_APP_T_STRUCT;
}

/* Encodes a list field from array node ni: key, length, elements. */
static int encode_list(struct enc *e, const struct sos__idl_struct *st,
                       const struct sos__idl_field *f, uint32_t ni, unsigned depth) {
  struct where w = {st, f, -1};
  const struct sos__json_node *arr = node(e, ni);
  if (arr->kind != SOS__JSON_ARRAY) return wrong_kind(e, &w, "an array", arr);
  if (arr->count == 0 && !(f->flags & SOS_APP_F_OPTIONAL)) return 0;
  put_key(e, f);
  size_t at = begin_len(e);
  uint32_t el = ni + 1;
  for (uint32_t i = 0; i < arr->count; i++, el = node(e, el)->next) {
    uint64_t v = 0;
    w.index = i;
    size_t elat = len_type(f->type) ? begin_len(e) : 0;
    int rc = encode_payload(e, &w, el, depth, &v);
    if (rc) return rc;
    if (len_type(f->type)) end_len(e, elat);
    else put_scalar(e, f->type, v);
  }
  end_len(e, at);
  return 0;
}

/* Encodes field f (not a list) from node ni, unless it is plain and zero. */
static int encode_field(struct enc *e, const struct sos__idl_struct *st,
                        const struct sos__idl_field *f, uint32_t ni, unsigned depth) {
  struct where w = {st, f, -1};
  bool always = (f->flags & SOS_APP_F_OPTIONAL) || f->group;
  size_t mark = e->out.len;
  uint64_t v = 0;
  if (!len_type(f->type)) {
    int rc = encode_payload(e, &w, ni, depth, &v);
    if (rc) return rc;
    if (v == 0 && !always) return 0;
    put_key(e, f);
    put_scalar(e, f->type, v);
    return 0;
  }
  put_key(e, f);
  size_t at = begin_len(e);
  int rc = encode_payload(e, &w, ni, depth, &v);
  if (rc) return rc;
  if (end_len(e, at) == 0 && !always && !e->out.rc) e->out.len = mark; /* zero: unwritten */
  return 0;
}

/* Matches the members of object ni to the fields of st: slot[i] gets the
 * value node of field i (0: not given, UINT32_MAX: null); slot[nfields +
 * g - 1] the first variant given of union g, plus one. */
static int match_members(struct enc *e, const struct sos__idl_struct *st, uint32_t ni,
                         uint32_t *slot) {
  struct where w = {st, NULL, -1};
  uint32_t key = ni + 1;
  for (uint32_t m = 0; m < node(e, ni)->count; m++) {
    const struct sos__json_node *k = node(e, key);
    uint32_t val = key + 1;
    e->tmp.len = 0;
    sos__json_string(&e->doc, k, &e->tmp);
    if (e->tmp.rc) return e->tmp.rc;
    const struct sos__idl_field *f = sos__idl_by_name(st, (const char *)e->tmp.p, e->tmp.len);
    char buf[64];
    if (!f) return fail(e, &w, "unknown field %s", shown(e, k, buf, sizeof buf));
    uint32_t i = (uint32_t)(f - st->fields);
    w.f = f;
    if (slot[i]) return fail(e, &w, "given twice");
    bool nullable = (f->flags & SOS_APP_F_OPTIONAL) || f->group;
    if (node(e, val)->kind == SOS__JSON_NULL && !nullable)
      return fail(e, &w, "null for a field that is not optional");
    slot[i] = node(e, val)->kind == SOS__JSON_NULL ? UINT32_MAX : val;
    if (f->group && slot[i] != UINT32_MAX) {
      uint32_t *first = &slot[st->nfields + f->group - 1];
      if (*first)
        return fail(e, &(struct where){st, NULL, -1},
                    "more than one variant of union %s given (%s, %s)",
                    st->unions[f->group - 1], st->fields[*first - 1].name, f->name);
      *first = i + 1;
    }
    w.f = NULL;
    key = node(e, val)->next;
  }
  return 0;
}

/* Encodes the object at node ni as the content of struct si. */
static int encode_struct(struct enc *e, uint32_t si, uint32_t ni, unsigned depth) {
  const struct sos__idl_struct *st = &e->s->structs[si];
  uint32_t local[64], *slot = local;
  size_t nslots = (size_t)st->nfields + st->nunions;
  if (nslots > 64 && !(slot = sos_calloc(nslots, sizeof *slot))) return SOS_ENOMEM;
  if (slot == local) memset(local, 0, sizeof local);
  int rc = match_members(e, st, ni, slot);
  for (uint32_t i = 0; rc == 0 && i < st->nfields; i++) {
    if (slot[i] == 0 || slot[i] == UINT32_MAX) continue;
    const struct sos__idl_field *f = &st->fields[i];
    if (f->flags & SOS_APP_F_LIST) rc = encode_list(e, st, f, slot[i], depth);
    else rc = encode_field(e, st, f, slot[i], depth);
  }
  if (slot != local) sos_free(slot);
  return rc ? rc : e->out.rc;
}

int sos_idl_from_json(const struct sos_idl *s, int type, const char *json, size_t len,
                      uint8_t **out, size_t *outlen, char *err, size_t errlen) {
  *out = NULL;
  *outlen = 0;
  if (type < 0 || (uint32_t)type >= s->nstructs || (!json && len))
    return sos__idl_err(err, errlen, SOS_EINVAL, "no struct type %d", type);
  struct enc e = {.s = s, .err = err, .errlen = errlen};
  int rc = sos__json_parse(json ? json : "", len, &e.doc, err, errlen);
  if (rc) return rc;
  struct where w = {&s->structs[type], NULL, -1};
  if (e.doc.nodes[0].kind != SOS__JSON_OBJECT) rc = wrong_kind(&e, &w, "an object", &e.doc.nodes[0]);
  else rc = encode_struct(&e, (uint32_t)type, 0, 1);
  sos_buf_room(&e.out, 1); /* never hand out NULL */
  if (rc == 0) rc = e.out.rc;
  sos_free(e.doc.nodes);
  sos_free(e.tmp.p);
  if (rc) {
    if (rc == SOS_ENOMEM) sos__idl_err(err, errlen, rc, "out of memory");
    sos_free(e.out.p);
    return rc;
  }
  *out = e.out.p;
  *outlen = e.out.len;
  return 0;
}

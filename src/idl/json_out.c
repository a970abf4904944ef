/*
 * json_out.c - wire bytes to JSON text (sos_idl_to_json).
 *
 * The message is checked first (sos_idl_check), so printing can trust
 * it.  Each struct is printed in two steps: one pass over its bytes
 * records where the last occurrence of each known field is (a repeated
 * field keeps its last value, and of a union's variants the last one
 * present wins), then the fields are printed in declared order from
 * those places; absent plain fields print as their zero.  A nested struct
 * is printed by the same two steps over its payload, so each byte is
 * looked at a bounded number of times.
 *
 * Numbers: integers exactly, 64-bit ones beyond +-2^53 (where a JavaScript
 * reader would round) as strings; floats in the shortest of 15, 16 or 17
 * significant digits (6 to 9 for f32; from 1 for subnormals) that reads
 * back to the same bits, which %g writes as valid JSON numbers ("1e+20",
 * "-0", "0.1").
 */
#include "idl/idl.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXACT_LIMIT ((uint64_t)1 << 53)

struct prn {
  const struct sos_idl *s;
  struct sos_buf b;
};

/* ---- scalars -------------------------------------------------------------------- */

static void print_text(struct sos_buf *b, const uint8_t *p, size_t n) {
  static const char hex[] = "0123456789abcdef";
  sos_buf_add(b, "\"", 1);
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    uint8_t c = p[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    sos_buf_add(b, p + run, i - run);
    run = i + 1;
    char esc[6] = {'\\', 0, 0, 0, 0, 0};
    size_t len = 2;
    switch (c) {
    case '"': esc[1] = '"'; break;
    case '\\': esc[1] = '\\'; break;
    case '\n': esc[1] = 'n'; break;
    case '\r': esc[1] = 'r'; break;
    case '\t': esc[1] = 't'; break;
    case '\b': esc[1] = 'b'; break;
    case '\f': esc[1] = 'f'; break;
    default:
      memcpy(esc + 1, "u00", 3);
      esc[4] = hex[c >> 4];
      esc[5] = hex[c & 15];
      len = 6;
    }
    sos_buf_add(b, esc, len);
  }
  sos_buf_add(b, p + run, n - run);
  sos_buf_add(b, "\"", 1);
}

static void print_base64(struct sos_buf *b, const uint8_t *p, size_t n) {
  static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  sos_buf_add(b, "\"", 1);
  if (!sos_buf_room(b, (n + 2) / 3 * 4 + 1)) return;
  char *o = (char *)b->p + b->len;
  size_t i = 0;
  for (; i + 3 <= n; i += 3, o += 4) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
    o[0] = abc[v >> 18], o[1] = abc[(v >> 12) & 63], o[2] = abc[(v >> 6) & 63], o[3] = abc[v & 63];
  }
  if (i < n) {
    uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
    o[0] = abc[v >> 18], o[1] = abc[(v >> 12) & 63];
    o[2] = i + 1 < n ? abc[(v >> 6) & 63] : '=';
    o[3] = '=';
    o += 4;
  }
  b->len = (size_t)((uint8_t *)o - b->p);
  sos_buf_add(b, "\"", 1);
}

static void print_double(struct sos_buf *b, double d, bool f32) {
  if (isnan(d) || isinf(d)) {
    sos_buf_str(b, isnan(d) ? "\"NaN\"" : d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    return;
  }
  char buf[40];
  /* Normal numbers carry DBL_DIG (FLT_DIG) digits, so a value whose
   * shortest form is that short prints so at that precision; subnormals
   * carry fewer, and are searched from one digit. */
  bool sub = d != 0 && fabs(d) < (f32 ? FLT_MIN : DBL_MIN);
  for (int prec = sub ? 1 : f32 ? FLT_DIG : DBL_DIG; prec <= (f32 ? 9 : 17); prec++) {
    snprintf(buf, sizeof buf, "%.*g", prec, d);
    if (f32 ? strtof(buf, NULL) == (float)d : strtod(buf, NULL) == d) break;
  }
  sos_buf_str(b, buf);
}

/* Appends v in decimal, after a '-' when neg, quoted when quote. */
static void print_decimal(struct sos_buf *b, uint64_t v, bool neg, bool quote) {
  char buf[24], *p = buf + sizeof buf;
  if (quote) *--p = '"';
  do *--p = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  if (neg) *--p = '-';
  if (quote) *--p = '"';
  sos_buf_add(b, p, (size_t)(buf + sizeof buf - p));
}

static void print_int(struct sos_buf *b, uint8_t t, uint64_t v) {
  if (t == SOS_APP_T_BOOL) {
    sos_buf_str(b, v ? "true" : "false");
  } else if (t >= SOS_APP_T_I8 && t <= SOS_APP_T_I64) {
    uint64_t mag = (v >> 1) + (v & 1); /* |n| from zigzag, 2^63 included */
    print_decimal(b, mag, v & 1, mag > EXACT_LIMIT);
  } else {
    print_decimal(b, v, false, v > EXACT_LIMIT);
  }
}

/* Prints a VARINT, I32 or I64 value v of field f. */
static void print_scalar(struct prn *o, const struct sos__idl_field *f, uint64_t v) {
  if (f->type == SOS_APP_T_F64) {
    double d;
    memcpy(&d, &v, 8);
    print_double(&o->b, d, false);
  } else if (f->type == SOS_APP_T_F32) {
    uint32_t bits = (uint32_t)v;
    float x;
    memcpy(&x, &bits, 4);
    print_double(&o->b, x, true);
  } else if (f->type == SOS_APP_T_ENUM) {
    const char *name = sos__idl_enum_name(&o->s->enums[f->ref], v);
    if (name) {
      sos_buf_add(&o->b, "\"", 1);
      sos_buf_str(&o->b, name);
      sos_buf_add(&o->b, "\"", 1);
    } else print_decimal(&o->b, v, false, false);
  } else print_int(&o->b, f->type, v);
}

/* ---- structs and lists ------------------------------------------------------------ */

static int print_struct(struct prn *o, uint32_t si, const uint8_t *p, const uint8_t *end);

/* Prints a text, bytes or struct payload (p, n bytes) of field f. */
static int print_len(struct prn *o, const struct sos__idl_field *f, const uint8_t *p,
                     size_t n) {
  if (f->type == SOS_APP_T_TEXT) print_text(&o->b, p, n);
  else if (f->type == SOS_APP_T_BYTES) print_base64(&o->b, p, n);
  else return print_struct(o, (uint32_t)f->ref, p, p + n);
  return 0;
}

/* Prints the elements of list field f (payload p, n bytes; checked). */
static int print_list(struct prn *o, const struct sos__idl_field *f, const uint8_t *p,
                      size_t n) {
  const uint8_t *end = p + n;
  size_t width = f->type == SOS_APP_T_F32 ? 4 : f->type == SOS_APP_T_F64 ? 8 : 0;
  bool len = f->type == SOS_APP_T_TEXT || f->type == SOS_APP_T_BYTES ||
             f->type == SOS_APP_T_STRUCT;
  sos_buf_add(&o->b, "[", 1);
  for (bool first = true; p < end; first = false) {
    if (!first) sos_buf_add(&o->b, ",", 1);
    uint64_t v = 0;
    if (width) {
      for (size_t i = 0; i < width; i++) v |= (uint64_t)p[i] << (8 * i);
      p += width;
      print_scalar(o, f, v);
      continue;
    }
    sos__idl_varint(&p, end, &v);
    if (!len) {
      print_scalar(o, f, v);
      continue;
    }
    int rc = print_len(o, f, p, (size_t)v);
    if (rc) return rc;
    p += v;
  }
  sos_buf_add(&o->b, "]", 1);
  return 0;
}

/* Prints field f from its last occurrence (key at k, NULL when absent). */
static int print_field(struct prn *o, const struct sos__idl_field *f, const uint8_t *k,
                       const uint8_t *end) {
  struct sos_idl_item it = {0};
  if (k) sos_idl_next(&k, end, &it);
  else it.p = (const uint8_t *)""; /* absent: the zero value */
  if (f->flags & SOS_APP_F_LIST) return print_list(o, f, it.p, it.n);
  if (f->wire == SOS__IDL_LEN) return print_len(o, f, it.p, it.n);
  print_scalar(o, f, it.v);
  return 0;
}

/* Records in last[] the key of each field's last occurrence in [p, end),
 * and in last[nfields + g - 1] that of union g's last variant. */
static void find_last(const struct sos__idl_struct *st, const uint8_t *p, const uint8_t *end,
                      const uint8_t **last) {
  struct sos_idl_item it;
  while (p < end) {
    if (sos_idl_next(&p, end, &it)) break; /* not reached: checked */
    const struct sos__idl_field *f = sos__idl_by_tag(st, it.tag);
    if (!f) continue;
    last[f - st->fields] = it.key;
    if (f->group) last[st->nfields + f->group - 1] = it.key;
  }
}

static int print_struct(struct prn *o, uint32_t si, const uint8_t *p, const uint8_t *end) {
  const struct sos__idl_struct *st = &o->s->structs[si];
  const uint8_t *local[32], **last = local;
  size_t nslots = (size_t)st->nfields + st->nunions;
  if (nslots > 32 && !(last = sos_calloc(nslots, sizeof *last))) return SOS_ENOMEM;
  if (last == local) memset(local, 0, sizeof local);
  find_last(st, p, end, last);
  int rc = 0;
  bool first = true;
  sos_buf_add(&o->b, "{", 1);
  for (uint32_t i = 0; rc == 0 && i < st->nfields; i++) {
    const struct sos__idl_field *f = &st->fields[i];
    if (f->group ? !last[i] || last[i] != last[st->nfields + f->group - 1]
                 : !last[i] && (f->flags & SOS_APP_F_OPTIONAL))
      continue;
    sos_buf_str(&o->b, first ? "\"" : ",\"");
    sos_buf_str(&o->b, f->name);
    sos_buf_add(&o->b, "\":", 2);
    first = false;
    rc = print_field(o, f, last[i], end);
  }
  sos_buf_add(&o->b, "}", 1);
  if (last != local) sos_free(last);
  return rc;
}

int sos_idl_to_json(const struct sos_idl *s, int type, const void *p, size_t n,
                    char **json, size_t *len, char *err, size_t errlen) {
  *json = NULL;
  if (len) *len = 0;
  int rc = sos_idl_check(s, type, p, n, err, errlen);
  if (rc) return rc;
  struct prn o = {s, {0}};
  const uint8_t *b = p ? p : (const uint8_t *)"";
  rc = print_struct(&o, (uint32_t)type, b, b + n);
  if (rc) o.b.rc = rc;
  rc = sos_buf_finish(&o.b, json, len);
  if (rc) sos__idl_err(err, errlen, rc, "out of memory");
  return rc;
}

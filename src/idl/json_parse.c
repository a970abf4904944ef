/*
 * json_parse.c - a strict JSON reader (RFC 8259) for the codec.
 *
 * Why not cJSON: a message's integers must stay exact to 64 bits (cJSON
 * keeps doubles), its text may hold U+0000 (cJSON's strings end there),
 * and errors should name a byte offset.  So the codec reads JSON itself,
 * into a flat array of nodes in text order (struct sos__json_node): no
 * per-value allocation, strings and numbers left in place in the text to
 * be decoded by whoever knows their field's type, and siblings linked by
 * the index just past each subtree.
 *
 * Everything that could make a later conversion fail for reasons of
 * JSON rather than of the schema is refused here: raw control characters
 * and invalid UTF-8 in strings, unknown escapes, \u escapes that leave a
 * surrogate unpaired, numbers off the grammar, anything after the value.
 * Nesting is limited to 128 levels, which bounds the recursion and is
 * more than a 32-deep struct needs.
 */
#include "idl/idl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MAX_NESTING 128

struct parser {
  const uint8_t *t;
  size_t pos, len;
  struct sos__json *doc;
  char *err;
  size_t errlen;
};

static int fail(struct parser *ps, const char *what) {
  return sos__idl_err(ps->err, ps->errlen, SOS_EINVAL, "invalid JSON at byte %zu: %s", ps->pos,
                      what);
}

static void skip_space(struct parser *ps) {
  while (ps->pos < ps->len) {
    uint8_t c = ps->t[ps->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    ps->pos++;
  }
}

/* A new node of kind at the current position; its index in *idx. */
static int add_node(struct parser *ps, uint8_t kind, uint32_t *idx) {
  struct sos__json *d = ps->doc;
  if (d->n == d->cap) {
    uint32_t cap = d->cap ? d->cap * 2 : 16;
    if (cap < d->cap) return SOS_ENOMEM;
    struct sos__json_node *nodes = sos_realloc(d->nodes, (size_t)cap * sizeof *nodes);
    if (!nodes) return SOS_ENOMEM;
    d->nodes = nodes;
    d->cap = cap;
  }
  *idx = d->n++;
  d->nodes[*idx] = (struct sos__json_node){kind, false, (uint32_t)ps->pos, 0, 0, 0};
  return 0;
}

static int hex4(const uint8_t *p, uint32_t *v) {
  *v = 0;
  for (int i = 0; i < 4; i++) {
    uint8_t c = p[i];
    uint32_t d = c >= '0' && c <= '9'   ? (uint32_t)(c - '0')
                 : c >= 'a' && c <= 'f' ? (uint32_t)(c - 'a' + 10)
                 : c >= 'A' && c <= 'F' ? (uint32_t)(c - 'A' + 10)
                                        : 16;
    if (d == 16) return -1;
    *v = *v << 4 | d;
  }
  return 0;
}

/* Checks the escape at ps->pos (at the backslash) and moves past it. */
static int escape(struct parser *ps) {
  const uint8_t *t = ps->t;
  if (ps->pos + 1 >= ps->len) return fail(ps, "unterminated string");
  uint8_t c = t[ps->pos + 1];
  if (c != 'u') {
    if (!strchr("\"\\/bfnrt", c) || c == 0) return fail(ps, "unknown escape");
    ps->pos += 2;
    return 0;
  }
  uint32_t u, lo;
  if (ps->len - ps->pos < 6 || hex4(t + ps->pos + 2, &u)) return fail(ps, "bad \\u escape");
  if (u >= 0xdc00 && u <= 0xdfff) return fail(ps, "unpaired surrogate in \\u escape");
  if (u >= 0xd800 && u <= 0xdbff) {
    if (ps->len - ps->pos < 12 || t[ps->pos + 6] != '\\' || t[ps->pos + 7] != 'u' ||
        hex4(t + ps->pos + 8, &lo) || lo < 0xdc00 || lo > 0xdfff)
      return fail(ps, "unpaired surrogate in \\u escape");
    ps->pos += 6;
  }
  ps->pos += 6;
  return 0;
}

static int parse_string(struct parser *ps) {
  uint32_t idx;
  ps->pos++; /* the quote */
  int rc = add_node(ps, SOS__JSON_STRING, &idx);
  if (rc) return rc;
  for (;;) {
    if (ps->pos >= ps->len) return fail(ps, "unterminated string");
    uint8_t c = ps->t[ps->pos];
    if (c == '"') break;
    if (c < 0x20) return fail(ps, "control character in a string");
    if (c == '\\') {
      ps->doc->nodes[idx].escaped = true;
      if ((rc = escape(ps))) return rc;
      continue;
    }
    if (c < 0x80) {
      ps->pos++;
      continue;
    }
    size_t k = sos__idl_utf8_seq(ps->t + ps->pos, ps->len - ps->pos);
    if (k == 0) return fail(ps, "invalid UTF-8 in a string");
    ps->pos += k;
  }
  struct sos__json_node *nd = &ps->doc->nodes[idx];
  nd->len = (uint32_t)ps->pos - nd->start;
  nd->next = ps->doc->n;
  ps->pos++;
  return 0;
}

static bool digit(const struct parser *ps) {
  return ps->pos < ps->len && ps->t[ps->pos] >= '0' && ps->t[ps->pos] <= '9';
}

static void digits(struct parser *ps) {
  while (digit(ps)) ps->pos++;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int parse_number(struct parser *ps) {
  uint32_t idx;
  int rc = add_node(ps, SOS__JSON_NUMBER, &idx);
  if (rc) return rc;
  if (ps->t[ps->pos] == '-') ps->pos++;
  if (!digit(ps)) return fail(ps, "bad number");
  if (ps->t[ps->pos] == '0') ps->pos++;
  else digits(ps);
  if (ps->pos < ps->len && ps->t[ps->pos] == '.') {
    ps->pos++;
    if (!digit(ps)) return fail(ps, "bad number");
    digits(ps);
  }
  if (ps->pos < ps->len && (ps->t[ps->pos] == 'e' || ps->t[ps->pos] == 'E')) {
    ps->pos++;
    if (ps->pos < ps->len && (ps->t[ps->pos] == '+' || ps->t[ps->pos] == '-')) ps->pos++;
    if (!digit(ps)) return fail(ps, "bad number");
    digits(ps);
  }
  struct sos__json_node *nd = &ps->doc->nodes[idx];
  nd->len = (uint32_t)ps->pos - nd->start;
  nd->next = ps->doc->n;
  return 0;
}

static int parse_word(struct parser *ps, const char *w, uint8_t kind) {
  size_t n = strlen(w);
  uint32_t idx;
  if (ps->len - ps->pos < n || memcmp(ps->t + ps->pos, w, n) != 0)
    return fail(ps, "unexpected character");
  int rc = add_node(ps, kind, &idx);
  if (rc) return rc;
  ps->pos += n;
  ps->doc->nodes[idx].next = ps->doc->n;
  return 0;
}

static int parse_value(struct parser *ps, unsigned depth);

/* An array or an object (at its bracket); close is ']' or '}'. */
static int parse_container(struct parser *ps, unsigned depth, bool object) {
  uint32_t idx, count = 0;
  uint8_t close = object ? '}' : ']';
  if (depth >= MAX_NESTING) return fail(ps, "nested more than 128 deep");
  int rc = add_node(ps, object ? SOS__JSON_OBJECT : SOS__JSON_ARRAY, &idx);
  if (rc) return rc;
  ps->pos++;
  skip_space(ps);
  if (ps->pos < ps->len && ps->t[ps->pos] == close) ps->pos++;
  else
    for (;;) {
      skip_space(ps);
      if (object) {
        if (ps->pos >= ps->len || ps->t[ps->pos] != '"') return fail(ps, "expected a name");
        if ((rc = parse_string(ps))) return rc;
        skip_space(ps);
        if (ps->pos >= ps->len || ps->t[ps->pos] != ':') return fail(ps, "expected ':'");
        ps->pos++;
      }
      if ((rc = parse_value(ps, depth + 1))) return rc;
      count++;
      skip_space(ps);
      if (ps->pos < ps->len && ps->t[ps->pos] == ',') {
        ps->pos++;
        continue;
      }
      if (ps->pos < ps->len && ps->t[ps->pos] == close) {
        ps->pos++;
        break;
      }
      return fail(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
  ps->doc->nodes[idx].count = count;
  ps->doc->nodes[idx].next = ps->doc->n;
  return 0;
}

static int parse_value(struct parser *ps, unsigned depth) {
  skip_space(ps);
  if (ps->pos >= ps->len) return fail(ps, "unexpected end");
  switch (ps->t[ps->pos]) {
  case '{': return parse_container(ps, depth, true);
  case '[': return parse_container(ps, depth, false);
  case '"': return parse_string(ps);
  case 't': return parse_word(ps, "true", SOS__JSON_TRUE);
  case 'f': return parse_word(ps, "false", SOS__JSON_FALSE);
  case 'n': return parse_word(ps, "null", SOS__JSON_NULL);
  default:
    if (ps->t[ps->pos] == '-' || digit(ps)) return parse_number(ps);
    return fail(ps, "unexpected character");
  }
}

int sos__json_parse(const char *text, size_t len, struct sos__json *doc, char *err,
                    size_t errlen) {
  *doc = (struct sos__json){text, NULL, 0, 0};
  if (len >= UINT32_MAX)
    return sos__idl_err(err, errlen, SOS_ETOOBIG, "JSON text of 4 GiB or more");
  struct parser ps = {(const uint8_t *)text, 0, len, doc, err, errlen};
  int rc = parse_value(&ps, 0);
  if (rc == 0) {
    skip_space(&ps);
    if (ps.pos < len) rc = fail(&ps, "text after the value");
  }
  if (rc) {
    if (rc == SOS_ENOMEM) sos__idl_err(err, errlen, rc, "out of memory");
    sos_free(doc->nodes);
    doc->nodes = NULL;
    doc->n = doc->cap = 0;
  }
  return rc;
}

/* Appends code point u as UTF-8. */
static void put_utf8(struct sos_buf *b, uint32_t u) {
  uint8_t o[4];
  size_t n;
  if (u < 0x80) o[0] = (uint8_t)u, n = 1;
  else if (u < 0x800) o[0] = (uint8_t)(0xc0 | u >> 6), o[1] = (uint8_t)(0x80 | (u & 0x3f)), n = 2;
  else if (u < 0x10000) {
    o[0] = (uint8_t)(0xe0 | u >> 12);
    o[1] = (uint8_t)(0x80 | ((u >> 6) & 0x3f));
    o[2] = (uint8_t)(0x80 | (u & 0x3f));
    n = 3;
  } else {
    o[0] = (uint8_t)(0xf0 | u >> 18);
    o[1] = (uint8_t)(0x80 | ((u >> 12) & 0x3f));
    o[2] = (uint8_t)(0x80 | ((u >> 6) & 0x3f));
    o[3] = (uint8_t)(0x80 | (u & 0x3f));
    n = 4;
  }
  sos_buf_add(b, o, n);
}

void sos__json_string(const struct sos__json *doc, const struct sos__json_node *nd,
                      struct sos_buf *b) {
  const uint8_t *p = (const uint8_t *)doc->text + nd->start, *end = p + nd->len;
  if (!nd->escaped) {
    sos_buf_add(b, p, nd->len);
    return;
  }
  while (p < end) {
    const uint8_t *q = p;
    while (q < end && *q != '\\') q++;
    sos_buf_add(b, p, (size_t)(q - p));
    if (q == end) break;
    uint8_t c = q[1];
    p = q + 2;
    if (c != 'u') {
      static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
      uint8_t o = (uint8_t)to[strchr(from, c) - from];
      sos_buf_add(b, &o, 1);
      continue;
    }
    uint32_t u, lo;
    hex4(p, &u); /* the parser checked every escape */
    p += 4;
    if (u >= 0xd800 && u <= 0xdbff) {
      hex4(p + 2, &lo);
      u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
      p += 6;
    }
    put_utf8(b, u);
  }
}

const char *sos__json_kind(uint8_t kind) {
  static const char *const names[] = {"null",     "false",     "true",      "a number",
                                      "a string", "an array", "an object"};
  return kind <= SOS__JSON_OBJECT ? names[kind] : "?";
}

/*
 * sos_json.c - reading and writing what web apps meet: JSON (webhook
 * bodies such as Slack's events, API requests such as the guestbook's
 * entries) and HTML form data (application/x-www-form-urlencoded).
 *
 * sos_json_text finds one string by a path of object keys without
 * building a tree: it walks the text once, skipping what the path does
 * not name, so a large body costs a scan and the answer an arena copy.
 * Strings are decoded (escapes, \u with surrogate pairs, to UTF-8);
 * malformed JSON on the way, a lone surrogate or a control character in
 * a string is "not found".  Nesting is limited to 64 levels.
 * sos_json_quote writes a string for HTML-safe embedding.
 */
#include "sos_wire.h"

#include <stdio.h>
#include <string.h>

#define MAX_DEPTH 64

struct js {
  const char *p, *end;
};

static void ws(struct js *j) {
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
    j->p++;
}

static int hex4(const char *p, uint32_t *v) {
  *v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    uint32_t d = c >= '0' && c <= '9' ? (uint32_t)(c - '0')
                 : c >= 'a' && c <= 'f' ? (uint32_t)(c - 'a' + 10)
                 : c >= 'A' && c <= 'F' ? (uint32_t)(c - 'A' + 10) : 16;
    if (d == 16) return -1;
    *v = *v << 4 | d;
  }
  return 0;
}

/* Appends code point cp as UTF-8 at out + *o. */
static void put_utf8(char *out, size_t *o, uint32_t cp) {
  if (cp < 0x80) {
    out[(*o)++] = (char)cp;
  } else if (cp < 0x800) {
    out[(*o)++] = (char)(0xc0 | cp >> 6);
    out[(*o)++] = (char)(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out[(*o)++] = (char)(0xe0 | cp >> 12);
    out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[(*o)++] = (char)(0x80 | (cp & 0x3f));
  } else {
    out[(*o)++] = (char)(0xf0 | cp >> 18);
    out[(*o)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[(*o)++] = (char)(0x80 | (cp & 0x3f));
  }
}

/* Reads the string at j (its opening quote), decoded into the arena when
 * out is not NULL.  -1 when malformed. */
static int string(struct js *j, sos_arena *a, sos_text *out) {
  if (j->p >= j->end || *j->p != '"') return -1;
  const char *s = ++j->p;
  char *buf = out ? sos_arena_alloc(a, (size_t)(j->end - s) + 1) : NULL;
  size_t o = 0;
  if (out && !buf) return -1;
  while (s < j->end && *s != '"') {
    unsigned char c = (unsigned char)*s++;
    if (c < 0x20) return -1;
    if (c != '\\') {
      if (buf) buf[o++] = (char)c;
      continue;
    }
    if (s >= j->end) return -1;
    char e = *s++;
    const char *simple = e ? strchr("\"\\/bfnrt", e) : NULL;
    if (simple) {
      if (buf) buf[o++] = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
      continue;
    }
    uint32_t cp, lo;
    if (e != 'u' || j->end - s < 4 || hex4(s, &cp)) return -1;
    s += 4;
    if (cp >= 0xd800 && cp < 0xdc00) { /* a high surrogate needs its low one */
      if (j->end - s < 6 || s[0] != '\\' || s[1] != 'u' || hex4(s + 2, &lo) || lo < 0xdc00 ||
          lo >= 0xe000)
        return -1;
      cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      s += 6;
    } else if (cp >= 0xdc00 && cp < 0xe000) {
      return -1;
    }
    if (buf) put_utf8(buf, &o, cp);
  }
  if (s >= j->end) return -1;
  j->p = s + 1;
  if (out) *out = (sos_text){buf, (uint32_t)o};
  return 0;
}

static int skip(struct js *j, int depth);

/* Skips an object's or an array's members (at its opening bracket). */
static int skip_many(struct js *j, int depth, char close, int keyed) {
  j->p++;
  ws(j);
  if (j->p < j->end && *j->p == close) return j->p++, 0;
  for (;;) {
    if (keyed) {
      if (string(j, NULL, NULL)) return -1;
      ws(j);
      if (j->p >= j->end || *j->p++ != ':') return -1;
    }
    if (skip(j, depth + 1)) return -1;
    ws(j);
    if (j->p < j->end && *j->p == ',') {
      j->p++;
      ws(j);
      continue;
    }
    return j->p < j->end && *j->p++ == close ? 0 : -1;
  }
}

/* Skips one value. */
static int skip(struct js *j, int depth) {
  ws(j);
  if (depth > MAX_DEPTH || j->p >= j->end) return -1;
  if (*j->p == '"') return string(j, NULL, NULL);
  if (*j->p == '{') return skip_many(j, depth, '}', 1);
  if (*j->p == '[') return skip_many(j, depth, ']', 0);
  const char *start = j->p; /* a number, true, false or null */
  while (j->p < j->end && (strchr("+-.eE", *j->p) || (*j->p >= '0' && *j->p <= '9') ||
                           (*j->p >= 'a' && *j->p <= 'z')))
    j->p++;
  return j->p > start ? 0 : -1;
}

/* Finds path (keys joined by '.') in the value at j. */
static int find(struct js *j, const char *path, sos_arena *a, sos_text *out, int depth) {
  ws(j);
  if (!*path) return string(j, a, out);
  if (depth > MAX_DEPTH || j->p >= j->end || *j->p != '{') return -1;
  const char *dot = strchr(path, '.');
  size_t seg = dot ? (size_t)(dot - path) : strlen(path);
  j->p++;
  ws(j);
  while (j->p < j->end && *j->p != '}') {
    sos_text key;
    if (string(j, a, &key)) return -1;
    ws(j);
    if (j->p >= j->end || *j->p++ != ':') return -1;
    if (key.len == seg && !memcmp(key.p, path, seg))
      return find(j, dot ? dot + 1 : "", a, out, depth + 1);
    if (skip(j, depth + 1)) return -1;
    ws(j);
    if (j->p < j->end && *j->p == ',') j->p++, ws(j);
    else break;
  }
  return -1;
}

int sos_json_text(const void *json, size_t len, const char *path, sos_text *out, sos_arena *a) {
  struct js j = {json, (const char *)json + len};
  *out = (sos_text){0};
  if (!a) a = sos_wire_arena();
  return find(&j, path, a, out, 0) ? SOS_STATUS_NOT_FOUND : 0;
}

size_t sos_json_quote(char *out, const char *s, size_t n) {
  size_t o = 0;
  if (out) out[o] = '"';
  o++;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      if (out) out[o] = '\\', out[o + 1] = (char)c;
      o += 2;
    } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
      if (out) snprintf(out + o, 7, "\\u%04x", c);
      o += 6;
    } else {
      if (out) out[o] = (char)c;
      o++;
    }
  }
  if (out) out[o] = '"';
  return o + 1;
}

/* Decodes %XX and + of form data in place; the new length. */
static size_t form_decode(char *s, size_t n) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    uint32_t v;
    char hex[4] = {'0', '0', 0, 0};
    if (c == '+') {
      c = ' ';
    } else if (c == '%' && i + 2 < n) {
      hex[2] = s[i + 1], hex[3] = s[i + 2];
      if (hex4(hex, &v) == 0) c = (char)v, i += 2;
    }
    s[o++] = c;
  }
  return o;
}

int sos_form_text(const void *form, size_t len, const char *key, sos_text *out, sos_arena *a) {
  size_t klen = strlen(key);
  const char *p = form, *end = p + len;
  *out = (sos_text){0};
  if (!a) a = sos_wire_arena();
  while (p < end) {
    const char *amp = memchr(p, '&', (size_t)(end - p)), *stop = amp ? amp : end;
    if ((size_t)(stop - p) > klen && !memcmp(p, key, klen) && p[klen] == '=') {
      size_t n = (size_t)(stop - p) - klen - 1;
      char *v = sos_arena_alloc(a, n + 1);
      if (!v) return SOS_STATUS_TOO_BIG;
      memcpy(v, p + klen + 1, n);
      *out = (sos_text){v, (uint32_t)form_decode(v, n)};
      return 0;
    }
    p = stop + 1;
  }
  return SOS_STATUS_NOT_FOUND;
}

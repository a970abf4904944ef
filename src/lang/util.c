/*
 * util.c - what every part of the SOS language shares besides the lexer:
 * positioned error messages, did-you-mean suggestions, quoting text for
 * messages, and quoting strings into the printers' buffer (struct
 * sos_buf of base.h).
 *
 * Suggestions use the optimal-string-alignment distance (Levenshtein plus
 * swapped neighbours, so "moduel" is one edit from "module").  A word is
 * suggested when it is at most one edit away (two for words of five or
 * more letters), or when what was typed is the start of it and at least
 * three letters long ("mem" -> "memory").  The lists are short, so the
 * quadratic distance costs nothing.
 *
 * The buffer records its first allocation failure and ignores later
 * appends, so a printer appends freely and checks once at the end.
 */
#include "lang/lang.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- messages -------------------------------------------------------------- */

int sos__lang_error(char *err, size_t errlen, const char *file,
                    struct sos_app_pos pos, const char *fmt, ...) {
  if (!err || errlen == 0) return SOS_EINVAL;
  int n = snprintf(err, errlen, "%s:%u:%u: ", file, pos.line, pos.col);
  if (n >= 0 && (size_t)n < errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
  }
  return SOS_EINVAL;
}

const char *sos__lang_show(const char *p, size_t n, char *buf, size_t size) {
  size_t o = 0, shown = 0;
  for (size_t i = 0; i < n && o + 8 < size; i++) {
    unsigned char c = (unsigned char)p[i];
    if (shown++ == 40) {
      memcpy(buf + o, "...", 3);
      o += 3;
      break;
    }
    if (c < 0x20 || c == 0x7f) o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
    else buf[o++] = (char)c;
  }
  if (size) buf[o < size ? o : size - 1] = 0;
  return buf;
}

/* ---- suggestions ---------------------------------------------------------- */

#define MAX_WORD 64

static size_t min3(size_t a, size_t b, size_t c) {
  size_t m = a < b ? a : b;
  return m < c ? m : c;
}

/* Optimal string alignment distance between a (n bytes) and b (m bytes),
 * both shorter than MAX_WORD. */
static size_t distance(const char *a, size_t n, const char *b, size_t m) {
  size_t d[MAX_WORD + 1][MAX_WORD + 1];
  for (size_t i = 0; i <= n; i++) d[i][0] = i;
  for (size_t j = 0; j <= m; j++) d[0][j] = j;
  for (size_t i = 1; i <= n; i++)
    for (size_t j = 1; j <= m; j++) {
      size_t cost = a[i - 1] != b[j - 1];
      d[i][j] = min3(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
          d[i - 2][j - 2] + 1 < d[i][j])
        d[i][j] = d[i - 2][j - 2] + 1;
    }
  return d[n][m];
}

/* How far w (n bytes) is from word for a suggestion, or SIZE_MAX when it
 * is too far to suggest. */
static size_t score(const char *w, size_t n, const char *word) {
  size_t m = strlen(word), d;
  if (n == 0 || n >= MAX_WORD || m >= MAX_WORD) return SIZE_MAX;
  if (n >= 3 && n < m && memcmp(word, w, n) == 0) d = 1; /* a prefix */
  else d = distance(w, n, word, m);
  return d <= (n >= 5 ? 2u : 1u) ? d : SIZE_MAX;
}

const char *sos__lang_suggest(const char *w, size_t n, const char *const *words) {
  const char *best = NULL;
  size_t bestd = SIZE_MAX;
  for (const char *const *p = words; *p; p++) {
    size_t d = score(w, n, *p);
    if (d < bestd) {
      bestd = d;
      best = *p;
    }
  }
  return best;
}

const char *sos__lang_suggest_name(const char *w, size_t n, const void *items,
                                   size_t count, size_t size) {
  const char *best = NULL;
  size_t bestd = SIZE_MAX;
  for (size_t i = 0; i < count; i++) {
    const char *name;
    memcpy(&name, (const char *)items + i * size, sizeof name);
    size_t d = name ? score(w, n, name) : SIZE_MAX;
    if (d < bestd) {
      bestd = d;
      best = name;
    }
  }
  return best;
}

/* ---- quoting into a buffer ------------------------------------------------ */

void sos__buf_quote(struct sos_buf *b, const char *s) {
  sos_buf_add(b, "\"", 1);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      sos_buf_add(b, e, 2);
    } else if (c == '\n') sos_buf_add(b, "\\n", 2);
    else if (c == '\t') sos_buf_add(b, "\\t", 2);
    else if (c == '\r') sos_buf_add(b, "\\r", 2);
    else if (c < 0x20 || c == 0x7f) sos_buf_fmt(b, "\\x%02x", c);
    else sos_buf_add(b, (const char *)&c, 1);
  }
  sos_buf_add(b, "\"", 1);
}


/*
 * buf.c - a growable byte buffer: what the language's printers, the IDL's
 * codec and generator, and the kernel's wire answers write into.
 *
 * A failed growth is remembered in rc, and later writes do nothing, so a
 * writer appends freely and checks once, when it takes the bytes
 * (sos_buf_finish).  The buffer always keeps a spare byte, so the
 * finished bytes can be NUL-terminated without growing.
 */
#include "sos/base.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bool sos__buf_grow(struct sos_buf *b, size_t n) {
  if (b->rc) return false;
  if (b->cap - b->len > n) return true; /* keep a byte for the NUL */
  size_t cap = b->cap ? b->cap : 64;
  while (cap - b->len <= n) {
    if (cap > SIZE_MAX / 2) {
      b->rc = SOS_ENOMEM;
      return false;
    }
    cap *= 2;
  }
  uint8_t *p = sos_realloc(b->p, cap);
  if (!p) {
    b->rc = SOS_ENOMEM;
    return false;
  }
  b->p = p;
  b->cap = cap;
  return true;
}

void sos_buf_add(struct sos_buf *b, const void *p, size_t n) {
  if (n == 0 || !sos_buf_room(b, n)) return;
  memcpy(b->p + b->len, p, n);
  b->len += n;
}

void sos_buf_str(struct sos_buf *b, const char *s) { sos_buf_add(b, s, strlen(s)); }

void sos_buf_fmt(struct sos_buf *b, const char *fmt, ...) {
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof small) {
    sos_buf_add(b, small, (size_t)n);
    return;
  }
  if (!sos_buf_room(b, (size_t)n + 1)) return;
  va_start(ap, fmt);
  vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

int sos_buf_finish(struct sos_buf *b, char **out, size_t *len) {
  sos_buf_room(b, 1);
  int rc = b->rc;
  if (rc) {
    sos_free(b->p);
    *out = NULL;
    if (len) *len = 0;
  } else {
    b->p[b->len] = 0;
    *out = (char *)b->p;
    if (len) *len = b->len;
  }
  *b = (struct sos_buf){0}; /* handed over or freed: empty again */
  return rc;
}

void sos_buf_free(struct sos_buf *b) {
  sos_free(b->p);
  *b = (struct sos_buf){0};
}

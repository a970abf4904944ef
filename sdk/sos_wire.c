/*
 * sos_wire.c - the guest runtime of typed messages (sdk/sos_wire.h): the
 * arena, the write buffer, the parts of the wire format (docs/wire.md)
 * too large to inline, and the error texts.
 *
 * It is plain C11 over the C library, with no imports of its own: the
 * calls to the kernel (sos_call_async, sos_respond ...) are made by the
 * generated code through sos.h.  So the same file builds for wasm32 in
 * every app and natively for the unit tests and the benchmark.
 *
 * The workload is many small messages: a request of a few fields, decoded
 * once and thrown away.  So decoding copies nothing (text and bytes point
 * into the message), lists go to a bump arena that is reset per request,
 * and encoding writes into a caller's stack array, reaching for malloc
 * only past it.  A nested struct's length is not known before its fields
 * are written, so the encoder leaves one byte for it and moves the
 * payload along in the rare case that the length needs more (payloads of
 * 128 bytes or more): cheaper than computing every size twice.
 *
 * Errors are for people: a decode failure names the field, the byte
 * offset and the problem, in the same words as the host's checker
 * (src/idl/wire.c), so a message rejected by both reads alike.
 */
#include "sos_wire.h"

/* From sos.c (sdk/sos.h): the one import this file needs, for sos_wire_result. */
int sos_result_into(int handle, void *buf, size_t cap, size_t *len);

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- the arena -------------------------------------------------------------------- */

/* A block of the arena from malloc: this header, then its bytes. */
struct sos__arena_block {
  struct sos__arena_block *next;
  size_t size;
};

/* A malloc'd pointer the arena frees at reset; the node lives in the
 * arena itself. */
struct sos__arena_owned {
  struct sos__arena_owned *next;
  void *p;
};

#define BLOCK_HEAD ((sizeof(struct sos__arena_block) + 7) & ~(size_t)7)
#define BLOCK_FIRST 4096        /* the first malloc'd block */
#define BLOCK_MAX (256u << 10) /* blocks double up to this */
#define REQUEST_ARENA (16u << 10)

void sos_arena_init(sos_arena *a, void *buf, size_t cap) {
  uintptr_t x = (uintptr_t)buf, pad = (8 - (x & 7)) & 7;
  memset(a, 0, sizeof *a);
  if (!buf || cap <= pad) return;
  a->buf = (uint8_t *)buf + pad;
  a->cap = (cap - pad) & ~(size_t)7;
  a->cur = a->buf;
  a->end = a->buf + a->cap;
}

void *sos__arena_grow(sos_arena *a, size_t n) {
  size_t want = a->blocks ? a->blocks->size * 2 : BLOCK_FIRST;
  if (want > BLOCK_MAX) want = BLOCK_MAX;
  bool alone = n > want / 2; /* a big one gets a block of its own */
  size_t size = alone ? n : want;
  if (size > SIZE_MAX - BLOCK_HEAD) return NULL;
  struct sos__arena_block *b = malloc(BLOCK_HEAD + size);
  if (!b) return NULL;
  uint8_t *data = (uint8_t *)b + BLOCK_HEAD;
  if (alone && a->blocks) { /* keep bumping in the current block */
    b->next = a->blocks->next;
    a->blocks->next = b;
  } else {
    b->next = a->blocks;
    a->blocks = b;
    a->cur = data + n;
    a->end = data + size;
  }
  b->size = size;
  return data;
}

int sos_arena_adopt(sos_arena *a, void *p) {
  if (!p) return 0;
  struct sos__arena_owned *o = sos_arena_alloc(a, sizeof *o);
  if (!o) {
    free(p);
    return SOS_STATUS_TOO_BIG;
  }
  o->p = p;
  o->next = a->owned;
  a->owned = o;
  return 0;
}

void sos__arena_free(sos_arena *a) {
  for (struct sos__arena_owned *o = a->owned; o; o = o->next) free(o->p);
  a->owned = NULL; /* the nodes lived in the blocks freed next */
  for (struct sos__arena_block *b = a->blocks, *next; b; b = next) {
    next = b->next;
    free(b);
  }
  a->blocks = NULL;
  a->cur = a->buf;
  a->end = a->buf ? a->buf + a->cap : NULL;
}

sos_arena *sos_wire_arena(void) {
  static _Alignas(8) uint8_t mem[REQUEST_ARENA];
  static sos_arena arena;
  static bool ready;
  if (!ready) {
    sos_arena_init(&arena, mem, sizeof mem);
    ready = true;
  }
  return &arena;
}

/* ---- the write buffer ------------------------------------------------------------ */

/* Why the encode in progress failed: set by the helpers, read by
 * sos_wire_enc_bad, which prefixes the field. */
static char enc_why[112];
/* The last encode or decode failure, for sos_wire_error. */
static char errbuf[320];

void sos_wbuf_init(sos_wbuf *w, void *buf, size_t cap) {
  w->p = buf;
  w->len = 0;
  w->cap = buf ? cap : 0;
  w->heap = false;
  w->status = 0;
}

void sos_wbuf_free(sos_wbuf *w) {
  if (w->heap) free(w->p);
  sos_wbuf_init(w, NULL, 0);
}

/* Fails w with status and the reason why (kept for sos_wire_error). */
static int wbuf_fail(sos_wbuf *w, int status, const char *why) {
  snprintf(enc_why, sizeof enc_why, "%s", why);
  snprintf(errbuf, sizeof errbuf, "%s", why);
  if (!w->status) w->status = status;
  return w->status;
}

int sos__wbuf_grow(sos_wbuf *w, size_t n) {
  if (w->status) return w->status;
  /* Room for a message at the limit plus the slack the writers ask for. */
  size_t limit = (size_t)SOS_ABI_MAX_MESSAGE + 64;
  if (w->len > limit || n > limit - w->len)
    return wbuf_fail(w, SOS_STATUS_TOO_BIG, "message larger than SOS_ABI_MAX_MESSAGE (16 MiB)");
  size_t cap = w->cap > 64 ? w->cap : 64;
  while (cap - w->len < n) cap *= 2;
  uint8_t *p = w->heap ? realloc(w->p, cap) : malloc(cap);
  if (!p) return wbuf_fail(w, SOS_STATUS_TOO_BIG, "out of memory");
  if (!w->heap && w->len) memcpy(p, w->p, w->len);
  w->p = p;
  w->cap = cap;
  w->heap = true;
  return 0;
}

/* The number of bytes of v as a varint. */
static size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

void sos__wire_patch(sos_wbuf *w, size_t lp, size_t body) {
  size_t extra = varint_size(body) - 1;
  if (sos__wbuf_room(w, extra)) return;
  memmove(w->p + lp + 1 + extra, w->p + lp + 1, body);
  sos_wire_varint_out(w->p + lp, body);
  w->len += extra;
}

/* ---- encoding -------------------------------------------------------------------- */

int sos__wire_enc_why(sos_wbuf *w, const char *why) {
  return wbuf_fail(w, SOS_STATUS_INVALID, why);
}

int sos_wire_enc_bad(sos_wbuf *w, const char *what) {
  snprintf(errbuf, sizeof errbuf, "%s: %s", what, enc_why);
  if (!w->status) w->status = SOS_STATUS_INVALID;
  return w->status;
}

int sos_wire_enc_bad_case(sos_wbuf *w, const char *what, uint32_t tag) {
  char why[64];
  snprintf(why, sizeof why, "case %u is none of the union's tags", (unsigned)tag);
  wbuf_fail(w, SOS_STATUS_INVALID, why);
  return sos_wire_enc_bad(w, what);
}

int sos_wire_enc_too_deep(sos_wbuf *w, const char *what) {
  char why[64];
  snprintf(why, sizeof why, "structs nested deeper than %d levels", SOS_WIRE_MAX_DEPTH);
  wbuf_fail(w, SOS_STATUS_INVALID, why);
  return sos_wire_enc_bad(w, what);
}

/* Appends a varint without a key (a list element). */
static void add_varint(sos_wbuf *w, uint64_t v) {
  if (sos__wbuf_room(w, 10)) return;
  w->len = (size_t)(sos_wire_varint_out(w->p + w->len, v) - w->p);
}

/* Appends the low n bytes of bits, little-endian. */
static void add_fixed(sos_wbuf *w, uint64_t bits, unsigned n) {
  if (sos__wbuf_room(w, n)) return;
  for (unsigned i = 0; i < n; i++) w->p[w->len + i] = (uint8_t)(bits >> (8 * i));
  w->len += n;
}

/* Appends a length-prefixed element (text or bytes). */
static void add_len(sos_wbuf *w, const void *p, size_t n) {
  if (sos__wbuf_room(w, n > SOS_ABI_MAX_MESSAGE ? SIZE_MAX : 10 + n)) return;
  uint8_t *q = sos_wire_varint_out(w->p + w->len, n);
  if (n) memcpy(q, p, n);
  w->len = (size_t)(q + n - w->p);
}

/* Appends item i of a list of type t that is not an integer (those go
 * through add_varints); fails w for a value the wire cannot carry. */
static void add_item(sos_wbuf *w, int t, const void *items, uint32_t i) {
  char why[64];
  switch (t) {
  case SOS_WIRE_T_F32: add_fixed(w, sos_wire_f32_bits(((const float *)items)[i]), 4); break;
  case SOS_WIRE_T_F64: add_fixed(w, sos_wire_f64_bits(((const double *)items)[i]), 8); break;
  case SOS_WIRE_T_ENUM: {
    int32_t v = ((const int32_t *)items)[i];
    if (v < 0) {
      snprintf(why, sizeof why, "item %u: enum number out of 0..2^31 - 1", (unsigned)i);
      wbuf_fail(w, SOS_STATUS_INVALID, why);
    } else add_varint(w, (uint64_t)v);
    break;
  }
  case SOS_WIRE_T_TEXT: {
    sos_text s = ((const sos_text *)items)[i];
    if ((s.len && !s.p) || sos_wire_utf8_check((const uint8_t *)s.p, s.len) != s.len) {
      snprintf(why, sizeof why, "item %u: invalid UTF-8", (unsigned)i);
      wbuf_fail(w, SOS_STATUS_INVALID, why);
    } else add_len(w, s.p, s.len);
    break;
  }
  case SOS_WIRE_T_BYTES: {
    sos_bytes b = ((const sos_bytes *)items)[i];
    if (b.len && !b.p) wbuf_fail(w, SOS_STATUS_INVALID, "bytes with a NULL pointer");
    else add_len(w, b.p, b.len);
    break;
  }
  default: wbuf_fail(w, SOS_STATUS_INVALID, "unknown list type"); break;
  }
}

/* Appends the n items of an integer list of type t, room for all of them
 * made at once (at most 10 bytes each).  Returns false for another t. */
static bool add_varints(sos_wbuf *w, int t, const void *items, uint32_t n) {
  if (sos__wbuf_room(w, n > SOS_ABI_MAX_MESSAGE / 10 ? SIZE_MAX : (size_t)n * 10)) return true;
  uint8_t *q = w->p + w->len;
#define EACH(T, v)                        \
  do {                                    \
    const T *x = items;                   \
    for (uint32_t i = 0; i < n; i++)      \
      q = sos_wire_varint_out(q, (v));    \
  } while (0)
  switch (t) {
  case SOS_WIRE_T_BOOL: EACH(bool, x[i] ? 1 : 0); break;
  case SOS_WIRE_T_U8: EACH(uint8_t, x[i]); break;
  case SOS_WIRE_T_U16: EACH(uint16_t, x[i]); break;
  case SOS_WIRE_T_U32: EACH(uint32_t, x[i]); break;
  case SOS_WIRE_T_U64: EACH(uint64_t, x[i]); break;
  case SOS_WIRE_T_I8: EACH(int8_t, sos_wire_zigzag(x[i])); break;
  case SOS_WIRE_T_I16: EACH(int16_t, sos_wire_zigzag(x[i])); break;
  case SOS_WIRE_T_I32: EACH(int32_t, sos_wire_zigzag(x[i])); break;
  case SOS_WIRE_T_I64: EACH(int64_t, sos_wire_zigzag(x[i])); break;
  default: return false;
  }
#undef EACH
  w->len = (size_t)(q - w->p);
  return true;
}

int sos_wire_put_list(sos_wbuf *w, uint32_t key, int t, const void *items, uint32_t n) {
  if (!n) return w->status;
  if (!items) return sos__wire_enc_why(w, "a list of items at NULL");
  size_t mark = sos_wire_begin(w, key);
  if (!add_varints(w, t, items, n))
    for (uint32_t i = 0; i < n && !w->status; i++) add_item(w, t, items, i);
  sos_wire_end(w, mark, true);
  return w->status;
}

/* ---- UTF-8 ------------------------------------------------------------------------ */

/* Whether the 8 bytes at p are all ASCII. */
static bool all_ascii8(const uint8_t *p) {
  uint64_t x;
  memcpy(&x, p, 8);
  return !(x & 0x8080808080808080ull);
}

/* The length of the UTF-8 sequence at p (n bytes left), or 0 when it is
 * invalid: RFC 3629 §4, which rules out overlong forms, surrogates and
 * code points past U+10FFFF by the range allowed for the second byte. */
static size_t utf8_seq(const uint8_t *p, size_t n) {
  uint8_t c = p[0], lo = 0x80, hi = 0xbf;
  size_t len;
  if (c < 0x80) return 1;
  if (c < 0xc2) return 0; /* a continuation byte, or C0/C1 (overlong) */
  if (c < 0xe0) len = 2;
  else if (c < 0xf0) {
    len = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c < 0xf5) {
    len = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else return 0;
  if (n < len || p[1] < lo || p[1] > hi) return 0;
  for (size_t k = 2; k < len; k++)
    if ((p[k] & 0xc0) != 0x80) return 0;
  return len;
}

size_t sos__wire_utf8_from(const uint8_t *p, size_t n, size_t i) {
  while (i < n) {
    if (n - i >= 8 && all_ascii8(p + i)) {
      i += 8;
      continue;
    }
    size_t len = utf8_seq(p + i, n - i);
    if (!len) return i;
    i += len;
  }
  return n;
}

/* ---- decoding ------------------------------------------------------------------------ */

static const uint8_t empty_message[1];

void sos_wire_dec_init(sos_wire_dec *d, const void *p, sos_arena *a) {
  d->start = p ? p : empty_message;
  d->arena = a ? a : sos_wire_arena();
  d->at = d->start;
  d->status = SOS_STATUS_INVALID;
  d->why[0] = 0;
}

const uint8_t *sos__wire_why(sos_wire_dec *d, const uint8_t *at, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d->why, sizeof d->why, fmt, ap);
  va_end(ap);
  d->at = at;
  return NULL;
}

const uint8_t *sos__wire_varint(sos_wire_dec *d, const uint8_t *p, const uint8_t *end,
                                uint64_t *v) {
  size_t avail = p < end ? (size_t)(end - p) : 0, max = avail < 10 ? avail : 10;
  uint64_t x = 0;
  *v = 0; /* defined on failure too, for compilers that inline this */
  for (size_t i = 0; i < max; i++) {
    uint8_t b = p[i];
    x |= (uint64_t)(b & 0x7f) << (7 * i);
    if (b < 0x80) {
      if (i == 9 && b > 1) return sos__wire_why(d, p, "varint past 2^64 - 1");
      *v = x;
      return p + i + 1;
    }
  }
  return sos__wire_why(d, p, max == 10 ? "varint longer than 10 bytes" : "truncated varint");
}

/* The name of scalar type t in messages. */
static const char *type_name(int t) {
  static const char *const names[] = {"?",   "bool", "u8",  "u16", "u32",  "u64",   "i8",
                                      "i16", "i32",  "i64", "f32", "f64",  "text", "bytes",
                                      "enum"};
  return t > 0 && t <= SOS_WIRE_T_ENUM ? names[t] : "?";
}

const uint8_t *sos__wire_range(sos_wire_dec *d, const uint8_t *at, int t, uint64_t v) {
  unsigned long long u = v;
  if (t == SOS_WIRE_T_BOOL) return sos__wire_why(d, at, "%llu is not a bool (0 or 1)", u);
  if (t == SOS_WIRE_T_ENUM)
    return sos__wire_why(d, at, "%llu is not an enum number (0 to 2^31 - 1)", u);
  if (t >= SOS_WIRE_T_I8 && t <= SOS_WIRE_T_I64)
    return sos__wire_why(d, at, "%lld does not fit %s", (long long)sos_wire_unzigzag(v),
                         type_name(t));
  return sos__wire_why(d, at, "%llu does not fit %s", u, type_name(t));
}

/* n items of size bytes from the arena (NULL with n 0); fails d when
 * memory runs out. */
static bool alloc_items(sos_wire_dec *d, const uint8_t *at, size_t n, size_t size,
                        void **items) {
  *items = NULL;
  if (!n) return true;
  if (n > UINT32_MAX || n > SIZE_MAX / size) {
    sos__wire_why(d, at, "a list of %zu items is too long", n);
    return false;
  }
  if (!(*items = sos_arena_alloc(d->arena, n * size))) {
    d->status = SOS_STATUS_TOO_BIG;
    sos__wire_why(d, at, "out of memory for a list of %zu items", n);
    return false;
  }
  return true;
}

/* Counts the length-prefixed elements of a list payload [p, end). */
static bool count_elements(sos_wire_dec *d, const uint8_t *p, const uint8_t *end,
                           size_t *n) {
  size_t count = 0;
  while (p < end) {
    const uint8_t *q;
    size_t len;
    if (!(p = sos_wire_get_len(d, p, end, &q, &len))) return false;
    count++;
  }
  *n = count;
  return true;
}

/* The size in memory of one item of type t. */
static size_t item_size(int t) {
  switch (t) {
  case SOS_WIRE_T_BOOL: return sizeof(bool);
  case SOS_WIRE_T_U8:
  case SOS_WIRE_T_I8: return 1;
  case SOS_WIRE_T_U16:
  case SOS_WIRE_T_I16: return 2;
  case SOS_WIRE_T_U32:
  case SOS_WIRE_T_I32:
  case SOS_WIRE_T_F32:
  case SOS_WIRE_T_ENUM: return 4;
  case SOS_WIRE_T_TEXT: return sizeof(sos_text);
  case SOS_WIRE_T_BYTES: return sizeof(sos_bytes);
  default: return 8;
  }
}

/* A list of varints: one per byte below 0x80, which ends each. */
static bool get_varints(sos_wire_dec *d, const uint8_t *p, const uint8_t *end, int t,
                        void **items, size_t *n) {
  size_t count = 0;
  for (const uint8_t *q = p; q < end; q++) count += *q < 0x80;
  if (end[-1] & 0x80) {
    sos__wire_why(d, end - 1, "truncated varint in a list element");
    return false;
  }
  if (!alloc_items(d, p, count, item_size(t), items)) return false;
  *n = count;
  /* One loop per type, so that no item pays for a switch. */
#define EACH(T, K, get, V, conv)                                  \
  do {                                                            \
    T *x = *items;                                                \
    for (size_t i = 0; i < count; i++) {                          \
      V v;                                                        \
      if (!(p = get(d, p, end, K, &v))) return false;             \
      x[i] = conv;                                                \
    }                                                             \
  } while (0)
  switch (t) {
  case SOS_WIRE_T_BOOL: EACH(bool, SOS_WIRE_T_BOOL, sos_wire_get_uint, uint64_t, v != 0); break;
  case SOS_WIRE_T_U8: EACH(uint8_t, SOS_WIRE_T_U8, sos_wire_get_uint, uint64_t, (uint8_t)v); break;
  case SOS_WIRE_T_U16:
    EACH(uint16_t, SOS_WIRE_T_U16, sos_wire_get_uint, uint64_t, (uint16_t)v);
    break;
  case SOS_WIRE_T_U32:
    EACH(uint32_t, SOS_WIRE_T_U32, sos_wire_get_uint, uint64_t, (uint32_t)v);
    break;
  case SOS_WIRE_T_U64: EACH(uint64_t, SOS_WIRE_T_U64, sos_wire_get_uint, uint64_t, v); break;
  case SOS_WIRE_T_ENUM:
    EACH(int32_t, SOS_WIRE_T_ENUM, sos_wire_get_uint, uint64_t, (int32_t)v);
    break;
  case SOS_WIRE_T_I8: EACH(int8_t, SOS_WIRE_T_I8, sos_wire_get_sint, int64_t, (int8_t)v); break;
  case SOS_WIRE_T_I16:
    EACH(int16_t, SOS_WIRE_T_I16, sos_wire_get_sint, int64_t, (int16_t)v);
    break;
  case SOS_WIRE_T_I32:
    EACH(int32_t, SOS_WIRE_T_I32, sos_wire_get_sint, int64_t, (int32_t)v);
    break;
  default: EACH(int64_t, SOS_WIRE_T_I64, sos_wire_get_sint, int64_t, v); break;
  }
#undef EACH
  return true;
}

/* A list of f32 or f64: whole elements of w bytes. */
static bool get_fixeds(sos_wire_dec *d, const uint8_t *p, size_t len, unsigned w,
                       void **items, size_t *n) {
  if (len % w) {
    sos__wire_why(d, p, "list of %zu bytes is not whole %u-byte elements", len, w);
    return false;
  }
  if (!alloc_items(d, p, len / w, w, items)) return false;
  for (size_t i = 0; i < len / w; i++) {
    uint64_t x = 0;
    for (unsigned k = 0; k < w; k++) x |= (uint64_t)p[i * w + k] << (8 * k);
    if (w == 4) {
      uint32_t u = (uint32_t)x;
      memcpy((uint8_t *)*items + i * 4, &u, 4);
    } else memcpy((uint8_t *)*items + i * 8, &x, 8);
  }
  *n = len / w;
  return true;
}

/* A list of text or bytes: length-prefixed elements, in place. */
static bool get_strings(sos_wire_dec *d, const uint8_t *p, const uint8_t *end, int t,
                        void **items, size_t *n) {
  size_t count;
  if (!count_elements(d, p, end, &count) || !alloc_items(d, p, count, item_size(t), items))
    return false;
  for (size_t i = 0; i < count; i++) {
    const uint8_t *q;
    size_t len;
    p = sos_wire_get_len(d, p, end, &q, &len); /* cannot fail: counted */
    if (t == SOS_WIRE_T_TEXT) {
      size_t bad = sos_wire_utf8_check(q, len);
      if (bad != len) {
        sos__wire_why(d, q + bad, "invalid UTF-8 in item %zu", i);
        return false;
      }
      sos_text *s = (sos_text *)*items + i;
      s->p = (const char *)q;
      s->len = (uint32_t)len;
    } else {
      sos_bytes *b = (sos_bytes *)*items + i;
      b->p = q;
      b->len = (uint32_t)len;
    }
  }
  *n = count;
  return true;
}

const uint8_t *sos_wire_get_list(sos_wire_dec *d, const uint8_t *p, const uint8_t *end,
                                 int t, void **items, uint32_t *n) {
  const uint8_t *q;
  size_t len, count = 0;
  bool ok;
  *items = NULL;
  *n = 0;
  if (!(p = sos_wire_get_len(d, p, end, &q, &len))) return NULL;
  if (!len) return p;
  if (t == SOS_WIRE_T_F32 || t == SOS_WIRE_T_F64)
    ok = get_fixeds(d, q, len, t == SOS_WIRE_T_F32 ? 4 : 8, items, &count);
  else if (t == SOS_WIRE_T_TEXT || t == SOS_WIRE_T_BYTES)
    ok = get_strings(d, q, q + len, t, items, &count);
  else ok = get_varints(d, q, q + len, t, items, &count);
  if (!ok) return NULL;
  *n = (uint32_t)count;
  return p;
}

const uint8_t *sos_wire_get_items(sos_wire_dec *d, const uint8_t *p, const uint8_t *end,
                                  int depth, size_t size, const uint8_t **q, size_t *qn,
                                  void **items, uint32_t *n) {
  size_t count;
  *items = NULL;
  *n = 0;
  if (!(p = sos_wire_get_struct(d, p, end, depth, q, qn))) return NULL;
  if (!count_elements(d, *q, *q + *qn, &count) || !alloc_items(d, *q, count, size, items))
    return NULL;
  *n = (uint32_t)count;
  return p;
}

/* The name of wire type wt in messages. */
static const char *wire_name(unsigned wt) {
  switch (wt) {
  case SOS_WIRE_VARINT: return "VARINT";
  case SOS_WIRE_I64: return "I64";
  case SOS_WIRE_LEN: return "LEN";
  case SOS_WIRE_I32: return "I32";
  default: return "?";
  }
}

const uint8_t *sos_wire_skip(sos_wire_dec *d, const uint8_t *at, const uint8_t *p,
                             const uint8_t *end, uint64_t key) {
  uint64_t v;
  const uint8_t *q;
  size_t n;
  switch (key & 7) {
  case SOS_WIRE_VARINT: return sos_wire_get_varint(d, p, end, &v);
  case SOS_WIRE_I64: return sos_wire_get_fixed(d, p, end, 8, &v);
  case SOS_WIRE_I32: return sos_wire_get_fixed(d, p, end, 4, &v);
  case SOS_WIRE_LEN: return sos_wire_get_len(d, p, end, &q, &n);
  default:
    return sos__wire_why(d, at, "bad wire type %u (tag %llu)", (unsigned)(key & 7),
                         (unsigned long long)(key >> 3));
  }
}

int sos_wire_bad(sos_wire_dec *d, const char *what) {
  snprintf(errbuf, sizeof errbuf, "%s at byte %zu: %s", what, (size_t)(d->at - d->start),
           d->why);
  return d->status;
}

int sos_wire_wrong_type(sos_wire_dec *d, const uint8_t *at, uint64_t key, const char *what,
                        const char *type, int want) {
  unsigned wt = (unsigned)(key & 7);
  if (wt != SOS_WIRE_VARINT && wt != SOS_WIRE_I64 && wt != SOS_WIRE_LEN && wt != SOS_WIRE_I32)
    sos__wire_why(d, at, "bad wire type %u (tag %llu)", wt, (unsigned long long)(key >> 3));
  else
    sos__wire_why(d, at, "wire type %s where %s needs %s", wire_name(wt), type,
                  wire_name((unsigned)want));
  return sos_wire_bad(d, what);
}

const char *sos_wire_error(void) { return errbuf; }

/* ---- errors of typed calls ------------------------------------------------------------ */

static sos_wire_fault last;
static char fail_msg[448];

/* Copies the n bytes at p into dst (cap bytes) as a NUL-terminated
 * string, cut at a character boundary when too long. */
static void copy_text(char *dst, size_t cap, const void *p, size_t n) {
  if (n >= cap) {
    n = cap - 1;
    while (n && (((const uint8_t *)p)[n] & 0xc0) == 0x80) n--; /* not inside a character */
  }
  if (n) memcpy(dst, p, n);
  dst[n] = 0;
}

const sos_wire_fault *sos_wire_last_error(void) { return &last; }

void sos_wire_note(int status, const char *msg) {
  last.status = status;
  last.code = 0;
  last.name[0] = 0;
  copy_text(last.message, sizeof last.message, msg ? msg : "", msg ? strlen(msg) : 0);
}

int sos_wire_fail(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(fail_msg, sizeof fail_msg, fmt, ap);
  va_end(ap);
  return code;
}

const char *sos_wire_fail_message(void) { return fail_msg; }

void sos_wire_fail_clear(void) { fail_msg[0] = 0; }

int sos_wire_error_encode(sos_wbuf *w, uint32_t code, const char *name, const char *message) {
  size_t nn = name ? strlen(name) : 0, mn = message ? strlen(message) : 0;
  /* A message cut in the middle of a character keeps its valid part. */
  nn = sos_wire_utf8_check((const uint8_t *)name, nn);
  mn = sos_wire_utf8_check((const uint8_t *)message, mn);
  if (code) sos_wire_put_varint(w, SOS_WIRE_KEY(1, SOS_WIRE_VARINT), code);
  if (nn) sos_wire_put_len(w, SOS_WIRE_KEY(2, SOS_WIRE_LEN), name, nn);
  if (mn) sos_wire_put_len(w, SOS_WIRE_KEY(3, SOS_WIRE_LEN), message, mn);
  return w->status;
}

/* Reads one field of an Error struct into f. */
static const uint8_t *error_field(sos_wire_dec *d, const uint8_t *p, const uint8_t *end,
                                  sos_wire_fault *f) {
  const uint8_t *at = p;
  uint64_t key, v;
  sos_text t = {NULL, 0};
  if (!(p = sos_wire_get_varint(d, p, end, &key))) return NULL;
  switch (key) {
  case SOS_WIRE_KEY(1, SOS_WIRE_VARINT):
    if ((p = sos_wire_get_uint(d, p, end, SOS_WIRE_T_U32, &v))) f->code = (uint32_t)v;
    return p;
  case SOS_WIRE_KEY(2, SOS_WIRE_LEN):
  case SOS_WIRE_KEY(3, SOS_WIRE_LEN):
    if (!(p = sos_wire_get_text(d, p, end, &t))) return NULL;
    if (key >> 3 == 2) copy_text(f->name, sizeof f->name, t.p, t.len);
    else copy_text(f->message, sizeof f->message, t.p, t.len);
    return p;
  default:
    if (key >> 3 >= 1 && key >> 3 <= 3) return sos__wire_why(d, at, "wrong wire type");
    return sos_wire_skip(d, at, p, end, key);
  }
}

int sos_wire_error_decode(sos_wire_fault *f, int status, const void *p, size_t n) {
  sos_wire_dec d;
  sos_wire_dec_init(&d, p, NULL);
  const uint8_t *q = d.start, *end = d.start + n;
  memset(f, 0, sizeof *f);
  f->status = status;
  while (q && q < end) q = error_field(&d, q, end, f);
  if (q && f->code) return 0;
  /* Not an Error struct (an untyped service's text, say): keep the bytes. */
  memset(f, 0, sizeof *f);
  f->status = status;
  copy_text(f->message, sizeof f->message, d.start, n);
  return SOS_STATUS_INVALID;
}


int sos_wire_result(int handle, sos_arena *a, const char **body, size_t *len) {
  if (!a) a = sos_wire_arena();
  size_t room = a->cur ? (size_t)(a->end - a->cur) : 0;
  uint8_t *p = a->cur;
  int status = sos_result_into(handle, p, room, len);
  *body = "";
  if (status == SOS_STATUS_PENDING || *len == 0) return status;
  if (*len <= room) {
    a->cur += (*len + 7) & ~(size_t)7; /* sos_arena_alloc's alignment */
  } else if (!(p = sos_arena_alloc(a, *len))) {
    *len = 0;
    sos_wire_note(SOS_STATUS_TOO_BIG, "out of memory for the answer");
    return SOS_STATUS_TOO_BIG;
  } else {
    status = sos_result_into(handle, p, *len, len);
  }
  *body = (const char *)p;
  return status;
}

int sos_wire_outcome(int status, const char *body, size_t len) {
  if (status == SOS_STATUS_OK) return 0;
  if (status == SOS_STATUS_ERROR && len && sos_wire_error_decode(&last, status, body, len) == 0)
    return status;
  sos_wire_note(status, "");
  copy_text(last.message, sizeof last.message, body, len);

  return status;
}

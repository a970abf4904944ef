/*
 * sos_wire.h - the guest runtime of typed messages: what the C code that
 * `sos idl` generates (NAME.sos.h and NAME.sos.c) is built on.
 *
 * docs/wire.md is the contract: every typed message (a method's request
 * and response, the Error of a failed typed call) is one struct value in
 * the SOS wire format.  This runtime is the guest's own implementation of
 * it, compiled with the app for wasm32 (and natively by the tests and the
 * benchmark); it shares no code with the host's codec in src/idl, and the
 * unit tests compare the bytes of both.
 *
 * An app rarely calls this header directly.  It uses the generated types
 * and functions, and from here:
 *
 *   sos_text, sos_bytes   text and bytes: a pointer and a length, not
 *                         NUL-terminated.  Decoded values point into the
 *                         message (zero copy); SOS_TEXT("lit") and
 *                         sos_text_of(s) make one from C strings.
 *   sos_list_u32 ...      lists of scalars: {T *items; uint32_t n;}
 *   sos_wbuf              where encoders write: starts in a caller's
 *                         array (on the stack) and grows with realloc
 *                         only when that is full.
 *   sos_arena             where decoders put lists: a bump allocator over
 *                         a caller's buffer that falls back to malloc
 *                         when the buffer runs out; sos_arena_reset frees
 *                         everything at once.
 *   sos_wire_arena()      the arena of the request being handled, which
 *                         the generated server code resets after each
 *                         request.
 *   sos_wire_error()      why the last encode or decode failed.
 *   sos_wire_last_error() the code, name and message of the last typed
 *                         call that failed (a declared error of the
 *                         callee, or a call status such as TIMEOUT).
 *   sos_wire_fail()       sets the message of a declared error that a
 *                         serve function returns.
 *
 * Functions return 0 or a SOS_STATUS_* (sos/abi.h): SOS_STATUS_INVALID
 * for malformed input or a value that cannot be encoded (invalid UTF-8,
 * an enum number past 2^31 - 1), SOS_STATUS_TOO_BIG when memory runs out
 * or a message would pass SOS_ABI_MAX_MESSAGE.
 *
 * The rest of this header (the sos_wire_put_*, sos_wire_get_* ...
 * helpers) is what generated code calls; the hot ones are inline so that
 * encoding and decoding a small message costs tens of nanoseconds.  An
 * instance runs one request at a time, so the few globals (the error
 * texts, the request arena) need no locks.
 */
#ifndef SOS_WIRE_H
#define SOS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sos/abi.h"

#if defined(__GNUC__) || defined(__clang__)
#define SOS_WIRE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SOS_WIRE_PRINTF(f, a)
#endif

/* ---- values ------------------------------------------------------------------ */

/* UTF-8 text: len bytes at p, not NUL-terminated.  Decoded text points
 * into the message it came from, so it lives as long as that buffer. */
typedef struct sos_text {
  const char *p;
  uint32_t len;
} sos_text;

/* Any bytes: len bytes at p; decoded ones point into their message. */
typedef struct sos_bytes {
  const uint8_t *p;
  uint32_t len;
} sos_bytes;

/* A sos_text of a string literal, without strlen. */
#define SOS_TEXT(lit) ((sos_text){"" lit, (uint32_t)(sizeof(lit) - 1)})

/* A sos_text of the NUL-terminated string s (NULL gives empty text). */
static inline sos_text sos_text_of(const char *s) {
  sos_text t = {s, s ? (uint32_t)strlen(s) : 0};
  return t;
}

/* A sos_bytes of the n bytes at p. */
static inline sos_bytes sos_bytes_of(const void *p, size_t n) {
  sos_bytes b = {(const uint8_t *)p, (uint32_t)n};
  return b;
}

/* Whether text t holds exactly the NUL-terminated string s. */
static inline bool sos_text_is(sos_text t, const char *s) {
  size_t n = strlen(s);
  return n == t.len && (n == 0 || memcmp(t.p, s, n) == 0);
}

/* Lists of scalars, text and bytes: n items at items.  The generated
 * code adds NAME_list types for the structs and enums it declares.
 * Decoded lists live in the arena given to the decoder. */
typedef struct sos_list_bool { bool *items; uint32_t n; } sos_list_bool;
typedef struct sos_list_u8 { uint8_t *items; uint32_t n; } sos_list_u8;
typedef struct sos_list_u16 { uint16_t *items; uint32_t n; } sos_list_u16;
typedef struct sos_list_u32 { uint32_t *items; uint32_t n; } sos_list_u32;
typedef struct sos_list_u64 { uint64_t *items; uint32_t n; } sos_list_u64;
typedef struct sos_list_i8 { int8_t *items; uint32_t n; } sos_list_i8;
typedef struct sos_list_i16 { int16_t *items; uint32_t n; } sos_list_i16;
typedef struct sos_list_i32 { int32_t *items; uint32_t n; } sos_list_i32;
typedef struct sos_list_i64 { int64_t *items; uint32_t n; } sos_list_i64;
typedef struct sos_list_f32 { float *items; uint32_t n; } sos_list_f32;
typedef struct sos_list_f64 { double *items; uint32_t n; } sos_list_f64;
typedef struct sos_list_text { sos_text *items; uint32_t n; } sos_list_text;
typedef struct sos_list_bytes { sos_bytes *items; uint32_t n; } sos_list_bytes;

/* ---- the arena ------------------------------------------------------------- */

struct sos__arena_block;
struct sos__arena_owned;

/* A bump allocator.  Start it with sos_arena_init over a buffer of your
 * own (say a static or stack array), or from all zeros ({0}) to use only
 * malloc.  Allocations are 8-byte aligned and live until sos_arena_reset,
 * which frees the malloc'd overflow and starts over at the buffer.  The
 * fields are private. */
typedef struct sos_arena {
  uint8_t *cur, *end;               /* the free part of the current block */
  uint8_t *buf;                     /* the caller's buffer (aligned), or NULL */
  size_t cap;                       /* its usable bytes */
  struct sos__arena_block *blocks;  /* malloc'd blocks, newest first */
  struct sos__arena_owned *owned;   /* adopted malloc'd pointers */
} sos_arena;

/* Makes an empty arena over the cap bytes at buf (buf may be NULL with
 * cap 0).  The arena borrows buf until it is no longer used. */
void sos_arena_init(sos_arena *a, void *buf, size_t cap);

/* The slow path of sos_arena_alloc: a new malloc'd block.  Internal. */
void *sos__arena_grow(sos_arena *a, size_t n);

/* n bytes, 8-byte aligned and uninitialised, valid until the next reset.
 * Returns NULL when n is 0 or memory runs out. */
static inline void *sos_arena_alloc(sos_arena *a, size_t n) {
  if (n == 0 || n > SIZE_MAX - 8) return NULL;
  n = (n + 7) & ~(size_t)7;
  if ((size_t)(a->end - a->cur) >= n) {
    void *p = a->cur;
    a->cur += n;
    return p;
  }
  return sos__arena_grow(a, n);
}

/* Takes ownership of p, which came from malloc: sos_arena_reset frees it.
 * Returns 0, or SOS_STATUS_TOO_BIG when memory ran out (then p is freed
 * at once).  p may be NULL (nothing to do). */
int sos_arena_adopt(sos_arena *a, void *p);

/* The slow path of sos_arena_reset: blocks or adopted pointers to free.
 * Internal. */
void sos__arena_free(sos_arena *a);

/* Frees every malloc'd block and adopted pointer and empties the arena,
 * keeping its buffer for reuse.  Everything allocated from it is gone. */
static inline void sos_arena_reset(sos_arena *a) {
  if (a->blocks || a->owned) sos__arena_free(a);
  else a->cur = a->buf; /* end is still the buffer's */
}

/* The arena of the request being handled: 16 KiB of static memory, then
 * malloc.  The generated server code decodes requests into it and resets
 * it when the request is answered; a hand-written handler that uses it
 * should call sos_arena_reset(sos_wire_arena()) before returning. */
sos_arena *sos_wire_arena(void);

/* ---- the write buffer -------------------------------------------------------- */

/* Bytes being written: p[0..len).  Start it with sos_wbuf_init over an
 * array of your own (usually on the stack), or from all zeros; it grows
 * with malloc/realloc only when the array is full, up to
 * SOS_ABI_MAX_MESSAGE bytes.  The first failure (out of memory, too
 * large, a value that cannot be encoded) is kept in status: later writes
 * do nothing, and the encoders return it.  Release with sos_wbuf_free. */
typedef struct sos_wbuf {
  uint8_t *p;
  size_t len, cap;
  bool heap;  /* p came from malloc */
  int status; /* 0, or the first failure (SOS_STATUS_*) */
} sos_wbuf;

/* Makes an empty buffer over the cap bytes at buf (borrowed). */
void sos_wbuf_init(sos_wbuf *w, void *buf, size_t cap);

/* Empties w for reuse (keeping its memory) and clears its status. */
static inline void sos_wbuf_clear(sos_wbuf *w) {
  w->len = 0;
  w->status = 0;
}

/* Frees what w allocated; w is then empty, without a buffer. */
void sos_wbuf_free(sos_wbuf *w);

/* Makes room for n more bytes.  Internal: returns 0, or the status. */
int sos__wbuf_grow(sos_wbuf *w, size_t n);

static inline int sos__wbuf_room(sos_wbuf *w, size_t n) {
  return w->cap - w->len >= n && !w->status ? 0 : sos__wbuf_grow(w, n);
}

/* ---- errors ------------------------------------------------------------------ */

/* Why the last encode or decode failed, e.g. "HelloReq.name (tag 1) at
 * byte 3: invalid UTF-8" (offsets count from the message's first byte).
 * A static string, replaced by the next failure. */
const char *sos_wire_error(void);

/* What the last failed typed call said.  For a declared error of the
 * callee (status SOS_STATUS_ERROR with an Error struct, docs/wire.md),
 * code and name are the error's and message its text; for any other
 * failure (SOS_STATUS_TIMEOUT, a request that did not encode, a response
 * that did not decode ...) code is 0, name "" and message says what
 * happened.  Strings are NUL-terminated and cut to fit. */
typedef struct sos_wire_fault {
  int status;        /* the call's status, SOS_STATUS_* */
  uint32_t code;     /* the declared error's code, or 0 */
  char name[64];     /* the declared error's name, or "" */
  char message[448]; /* the message for people */
} sos_wire_fault;

/* The last failed typed call of this instance (status 0 before any).  A
 * static struct, replaced by the next failure; successful calls leave it
 * alone. */
const sos_wire_fault *sos_wire_last_error(void);

/* For serve functions: sets the message of the declared error being
 * returned and returns code, so that a serve function can write
 * `return sos_wire_fail(greeter_Greeter_not_found, "no user %s", n);`.
 * The message is cut at 447 bytes. */
int sos_wire_fail(int code, const char *fmt, ...) SOS_WIRE_PRINTF(2, 3);

/* The message set by sos_wire_fail since sos_wire_fail_clear ("" if
 * none).  For the generated server code. */
const char *sos_wire_fail_message(void);
void sos_wire_fail_clear(void);

/* Encodes the Error struct {code = 1, name = 2, message = 3} of
 * docs/wire.md into w (name and message NUL-terminated; message may be
 * NULL).  Returns w's status. */
int sos_wire_error_encode(sos_wbuf *w, uint32_t code, const char *name, const char *message);

/* Decodes an Error struct from the n bytes at p into f (status set to
 * status).  Returns 0, or SOS_STATUS_INVALID when the bytes are not one
 * (f then holds the bytes, cut, as its message). */
int sos_wire_error_decode(sos_wire_fault *f, int status, const void *p, size_t n);

/* Records a failed call in the last error: status with message msg. */
void sos_wire_note(int status, const char *msg);


/* ---- discovery ------------------------------------------------------------------ */

/* Resolves service name through the services built-in: it must exist,
 * implement interface (unless NULL) and, when requirement is not NULL,
 * belong to an app whose version meets it (">=1.2, <2", "^1", "~1.4").
 * Returns SOS_STATUS_OK, or the failure (SOS_STATUS_ERROR for not_found,
 * version_mismatch, bad_requirement; SOS_STATUS_INVALID for another
 * interface) with its message in sos_wire_last_error().  Typed apps call
 * it through each interface's generated I_service(name, requirement, &s).
 * Defined in sdk/sos_typed.c, compiled into apps that declare types. */
int sos_service_find(const char *name, const char *requirement, const char *interface);

/* For the generated client code: a finished call's outcome without a
 * malloc: the response is copied straight into a (sos_wire_arena() when
 * NULL), where *body points (valid until a is reset; "" when empty).
 * Returns the status (SOS_STATUS_PENDING while it runs), or
 * SOS_STATUS_TOO_BIG when a cannot hold the response. */
int sos_wire_result(int handle, sos_arena *a, const char **body, size_t *len);

/* Records a failed outcome (status not OK, body its response: an Error
 * struct for SOS_STATUS_ERROR, else text) in the last error and returns
 * status; returns 0 for OK. */
int sos_wire_outcome(int status, const char *body, size_t len);

/* ---- the format ---------------------------------------------------------------- */

/* Wire types (docs/wire.md). */
enum { SOS_WIRE_VARINT = 0, SOS_WIRE_I64 = 1, SOS_WIRE_LEN = 2, SOS_WIRE_I32 = 5 };

/* A field's key: its tag and wire type, as written before its payload. */
#define SOS_WIRE_KEY(tag, wt) (((uint32_t)(tag) << 3) | (uint32_t)(wt))

/* The deepest nesting of structs, the message itself being level 1. */
#define SOS_WIRE_MAX_DEPTH 32

/* The bytes on the stack that generated code encodes into before it
 * needs malloc. */
#define SOS_WIRE_STACK 1024

/* Element types of lists, and of the value checks of the decoder. */
enum {
  SOS_WIRE_T_BOOL = 1,
  SOS_WIRE_T_U8,
  SOS_WIRE_T_U16,
  SOS_WIRE_T_U32,
  SOS_WIRE_T_U64,
  SOS_WIRE_T_I8,
  SOS_WIRE_T_I16,
  SOS_WIRE_T_I32,
  SOS_WIRE_T_I64,
  SOS_WIRE_T_F32,
  SOS_WIRE_T_F64,
  SOS_WIRE_T_TEXT,
  SOS_WIRE_T_BYTES,
  SOS_WIRE_T_ENUM, /* a C enum: 4 bytes, 0..2^31 - 1 on the wire */
};

/* The slow path of sos_wire_utf8_check, from byte i on.  Internal. */
size_t sos__wire_utf8_from(const uint8_t *p, size_t n, size_t i);

/* The index of the first byte of the n at p that is not valid UTF-8
 * (RFC 3629), or n when all are.  ASCII, the common case, is checked
 * here eight bytes at a time (the last eight overlapping). */
static inline size_t sos_wire_utf8_check(const uint8_t *p, size_t n) {
  uint64_t x, hi = 0x8080808080808080ull;
  size_t i = 0;
  if (n < 8) { /* 4 to 7 bytes: two overlapping words */
    uint32_t a, b;
    if (n >= 4 && (memcpy(&a, p, 4), memcpy(&b, p + n - 4, 4), !((a | b) & 0x80808080u)))
      return n;
    while (i < n && p[i] < 0x80) i++;
    return i == n ? n : sos__wire_utf8_from(p, n, i);
  }
  for (; i + 8 <= n; i += 8) {
    memcpy(&x, p + i, 8);
    if (x & hi) return sos__wire_utf8_from(p, n, i);
  }
  memcpy(&x, p + n - 8, 8);
  return x & hi ? sos__wire_utf8_from(p, n, i) : n;
}

static inline uint64_t sos_wire_zigzag(int64_t v) {
  return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t sos_wire_unzigzag(uint64_t v) {
  return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static inline uint32_t sos_wire_f32_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

static inline uint64_t sos_wire_f64_bits(double f) {
  uint64_t u;
  memcpy(&u, &f, 8);
  return u;
}

/* ---- encoding (for generated code) ------------------------------------------------ */

/* Writes v as a varint at q; returns the byte after it. */
static inline uint8_t *sos_wire_varint_out(uint8_t *q, uint64_t v) {
  while (v >= 0x80) {
    *q++ = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  *q++ = (uint8_t)v;
  return q;
}

/* Each writes one field, key then payload.  The caller has left out
 * zero values already.  Failures stay in w->status. */
static inline void sos_wire_put_varint(sos_wbuf *w, uint32_t key, uint64_t v) {
  if (sos__wbuf_room(w, 15)) return;
  uint8_t *q = sos_wire_varint_out(w->p + w->len, key);
  w->len = (size_t)(sos_wire_varint_out(q, v) - w->p);
}

static inline void sos_wire_put_sint(sos_wbuf *w, uint32_t key, int64_t v) {
  sos_wire_put_varint(w, key, sos_wire_zigzag(v));
}

static inline void sos_wire_put_fixed(sos_wbuf *w, uint32_t key, uint64_t bits, unsigned n) {
  if (sos__wbuf_room(w, 13)) return;
  uint8_t *q = sos_wire_varint_out(w->p + w->len, key);
  for (unsigned i = 0; i < n; i++) q[i] = (uint8_t)(bits >> (8 * i));
  w->len = (size_t)(q + n - w->p);
}

static inline void sos_wire_put_f32(sos_wbuf *w, uint32_t key, float v) {
  sos_wire_put_fixed(w, key, sos_wire_f32_bits(v), 4);
}

static inline void sos_wire_put_f64(sos_wbuf *w, uint32_t key, double v) {
  sos_wire_put_fixed(w, key, sos_wire_f64_bits(v), 8);
}

/* Records why an encode failed (for sos_wire_error) and fails w with
 * SOS_STATUS_INVALID.  Internal. */
int sos__wire_enc_why(sos_wbuf *w, const char *why);

/* Copies n bytes: 4 to 16 (a short text, the usual field) as two
 * fixed-size moves each way, which a guest runs as plain loads and stores,
 * instead of a memory.copy, whose set-up costs more at these sizes. */
static inline void sos__wire_copy(uint8_t *q, const void *p, size_t n) {
  const uint8_t *s = (const uint8_t *)p;
  if (n >= 8 && n <= 16) {
    uint64_t a, b;
    memcpy(&a, s, 8), memcpy(&b, s + n - 8, 8);
    memcpy(q, &a, 8), memcpy(q + n - 8, &b, 8);
  } else if (n >= 4 && n < 8) {
    uint32_t a, b;
    memcpy(&a, s, 4), memcpy(&b, s + n - 4, 4);
    memcpy(q, &a, 4), memcpy(q + n - 4, &b, 4);
  } else if (n) {
    memcpy(q, s, n);
  }
}

/* Writes a LEN field holding the n bytes at p.  Returns w's status. */
static inline int sos_wire_put_len(sos_wbuf *w, uint32_t key, const void *p, size_t n) {
  if (n && !p) return sos__wire_enc_why(w, "a payload at NULL");
  if (sos__wbuf_room(w, n > SOS_ABI_MAX_MESSAGE ? SIZE_MAX : 13 + n)) return w->status;
  uint8_t *q = sos_wire_varint_out(sos_wire_varint_out(w->p + w->len, key), n);
  sos__wire_copy(q, p, n);
  w->len = (size_t)(q + n - w->p);
  return 0;
}

/* A text field: checks that it is UTF-8 first.  Returns w's status. */
static inline int sos_wire_put_text(sos_wbuf *w, uint32_t key, sos_text t) {
  if (t.len && !t.p) return sos__wire_enc_why(w, "text with a NULL pointer");
  if (sos_wire_utf8_check((const uint8_t *)t.p, t.len) != t.len)
    return sos__wire_enc_why(w, "invalid UTF-8");
  return sos_wire_put_len(w, key, t.p, t.len);
}

static inline int sos_wire_put_bytes(sos_wbuf *w, uint32_t key, sos_bytes b) {
  if (b.len && !b.p) return sos__wire_enc_why(w, "bytes with a NULL pointer");
  return sos_wire_put_len(w, key, b.p, b.len);
}

/* An enum field: its number must be 0..2^31 - 1. */
static inline int sos_wire_put_enum(sos_wbuf *w, uint32_t key, int64_t v) {
  if (v < 0 || v > INT32_MAX) return sos__wire_enc_why(w, "enum number out of 0..2^31 - 1");
  sos_wire_put_varint(w, key, (uint64_t)v);
  return w->status;
}

/* A list field of element type t (SOS_WIRE_T_*) holding the n items at
 * items.  Returns w's status. */
int sos_wire_put_list(sos_wbuf *w, uint32_t key, int t, const void *items, uint32_t n);

/* Starts a LEN field whose payload the caller writes next (a nested
 * struct or a list of structs): writes the key and one byte for the
 * length.  Returns the mark to give sos_wire_end. */
static inline size_t sos_wire_begin(sos_wbuf *w, uint32_t key) {
  size_t mark = w->len;
  if (sos__wbuf_room(w, 6)) return mark;
  uint8_t *q = sos_wire_varint_out(w->p + w->len, key);
  *q++ = 0;
  w->len = (size_t)(q - w->p);
  return mark;
}

/* Moves the payload after the length byte at lp along when its length
 * needs more than one byte.  Internal. */
void sos__wire_patch(sos_wbuf *w, size_t lp, size_t body);

/* Ends the field started at mark: writes the payload's length.  An empty
 * payload is removed with its key unless keep_empty (a struct at its zero
 * value is not written, an optional one is). */
static inline void sos_wire_end(sos_wbuf *w, size_t mark, bool keep_empty) {
  if (w->status) return;
  size_t lp = mark;
  while (w->p[lp] & 0x80) lp++; /* past the key */
  lp++;
  size_t body = w->len - lp - 1;
  if (body == 0 && !keep_empty) w->len = mark;
  else if (body < 0x80) w->p[lp] = (uint8_t)body;
  else sos__wire_patch(w, lp, body);
}

/* Starts one length-prefixed element of a list of structs. */
static inline size_t sos_wire_begin_item(sos_wbuf *w) {
  size_t mark = w->len;
  if (!sos__wbuf_room(w, 1)) w->p[w->len++] = 0;
  return mark;
}

/* Ends the element started at mark. */
static inline void sos_wire_end_item(sos_wbuf *w, size_t mark) {
  if (w->status) return;
  size_t body = w->len - mark - 1;
  if (body < 0x80) w->p[mark] = (uint8_t)body;
  else sos__wire_patch(w, mark, body);
}

/* Fails an encode with "what: why" in sos_wire_error() (what names the
 * field, "HelloReq.name (tag 1)"); the why is the last helper's.
 * Returns w's status. */
int sos_wire_enc_bad(sos_wbuf *w, const char *what);

/* Fails an encode of a union whose NAME_case is not one of its tags. */
int sos_wire_enc_bad_case(sos_wbuf *w, const char *what, uint32_t tag);

/* Fails an encode that nests structs deeper than SOS_WIRE_MAX_DEPTH. */
int sos_wire_enc_too_deep(sos_wbuf *w, const char *what);

/* ---- decoding (for generated code) ------------------------------------------------ */

/* The state of one decode: the message's start (byte offsets count from
 * it), the arena for lists, and what went wrong. */
typedef struct sos_wire_dec {
  const uint8_t *start;
  sos_arena *arena;
  const uint8_t *at; /* where the failure is */
  int status;        /* SOS_STATUS_INVALID, or TOO_BIG when memory ran out */
  char why[112];
} sos_wire_dec;

/* Starts a decode of the message at p (NULL for an empty one) into the
 * arena a (NULL: sos_wire_arena()). */
void sos_wire_dec_init(sos_wire_dec *d, const void *p, sos_arena *a);

/* Records a failure at `at`.  Internal; returns NULL for the helpers. */
const uint8_t *sos__wire_why(sos_wire_dec *d, const uint8_t *at, const char *fmt, ...)
    SOS_WIRE_PRINTF(3, 4);

/* The slow path of sos_wire_get_varint.  Internal. */
const uint8_t *sos__wire_varint(sos_wire_dec *d, const uint8_t *p, const uint8_t *end,
                                uint64_t *v);

/* Each reads one payload at p (before end) and returns the byte after
 * it, or NULL when it is malformed (why in d).  The key is read already. */
static inline const uint8_t *sos_wire_get_varint(sos_wire_dec *d, const uint8_t *p,
                                                 const uint8_t *end, uint64_t *v) {
  if (p < end && *p < 0x80) {
    *v = *p;
    return p + 1;
  }
  if (end - p >= 2 && p[1] < 0x80) { /* p[0] has its high bit set */
    *v = (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7;
    return p + 2;
  }
  return sos__wire_varint(d, p, end, v);
}

/* Reports varint v at `at` that does not fit type t.  Internal. */
const uint8_t *sos__wire_range(sos_wire_dec *d, const uint8_t *at, int t, uint64_t v);

/* An unsigned varint of type t (BOOL, U8 ... U64, ENUM), range-checked. */
static inline const uint8_t *sos_wire_get_uint(sos_wire_dec *d, const uint8_t *p,
                                               const uint8_t *end, int t, uint64_t *v) {
  const uint8_t *q = sos_wire_get_varint(d, p, end, v);
  uint64_t max = t == SOS_WIRE_T_BOOL ? 1
               : t == SOS_WIRE_T_U8   ? UINT8_MAX
               : t == SOS_WIRE_T_U16  ? UINT16_MAX
               : t == SOS_WIRE_T_U32  ? UINT32_MAX
               : t == SOS_WIRE_T_ENUM ? INT32_MAX
                                      : UINT64_MAX;
  if (q && *v > max) return sos__wire_range(d, p, t, *v);
  return q;
}

/* A zigzag varint of type t (I8 ... I64), range-checked. */
static inline const uint8_t *sos_wire_get_sint(sos_wire_dec *d, const uint8_t *p,
                                               const uint8_t *end, int t, int64_t *v) {
  uint64_t u = 0;
  const uint8_t *q = sos_wire_get_varint(d, p, end, &u);
  *v = 0;
  uint64_t max = t == SOS_WIRE_T_I8 ? UINT8_MAX
               : t == SOS_WIRE_T_I16 ? UINT16_MAX
               : t == SOS_WIRE_T_I32 ? UINT32_MAX
                                     : UINT64_MAX;
  if (!q) return NULL;
  if (u > max) return sos__wire_range(d, p, t, u); /* zigzag keeps the width */
  *v = sos_wire_unzigzag(u);
  return q;
}

static inline const uint8_t *sos_wire_get_fixed(sos_wire_dec *d, const uint8_t *p,
                                                const uint8_t *end, unsigned n, uint64_t *v) {
  if ((size_t)(end - p) < n)
    return sos__wire_why(d, p, "truncated: %u bytes needed, %zu left", n, (size_t)(end - p));
  uint64_t x = 0;
  for (unsigned i = 0; i < n; i++) x |= (uint64_t)p[i] << (8 * i);
  *v = x;
  return p + n;
}

static inline const uint8_t *sos_wire_get_f32(sos_wire_dec *d, const uint8_t *p,
                                              const uint8_t *end, float *v) {
  uint64_t x = 0;
  const uint8_t *q = sos_wire_get_fixed(d, p, end, 4, &x);
  if (q) {
    uint32_t u = (uint32_t)x;
    memcpy(v, &u, 4);
  }
  return q;
}

static inline const uint8_t *sos_wire_get_f64(sos_wire_dec *d, const uint8_t *p,
                                              const uint8_t *end, double *v) {
  uint64_t x = 0;
  const uint8_t *q = sos_wire_get_fixed(d, p, end, 8, &x);
  if (q) memcpy(v, &x, 8);
  return q;
}

/* A LEN payload: *q and *n get its bytes (in place). */
static inline const uint8_t *sos_wire_get_len(sos_wire_dec *d, const uint8_t *p,
                                              const uint8_t *end, const uint8_t **q,
                                              size_t *n) {
  uint64_t len = 0;
  const uint8_t *b = sos_wire_get_varint(d, p, end, &len);
  *q = p; /* defined on failure too, which spares callers' compilers doubts */
  *n = 0;
  if (!b) return NULL;
  if (len > (uint64_t)(end - b))
    return sos__wire_why(d, p, "length %llu runs past the end (%zu bytes left)",
                         (unsigned long long)len, (size_t)(end - b));
  *q = b;
  *n = (size_t)len;
  return b + len;
}

static inline const uint8_t *sos_wire_get_text(sos_wire_dec *d, const uint8_t *p,
                                               const uint8_t *end, sos_text *t) {
  const uint8_t *q;
  size_t n;
  if (!(p = sos_wire_get_len(d, p, end, &q, &n))) return NULL;
  size_t bad = sos_wire_utf8_check(q, n);
  if (bad != n) return sos__wire_why(d, q + bad, "invalid UTF-8");
  t->p = (const char *)q;
  t->len = (uint32_t)n;
  return p;
}

static inline const uint8_t *sos_wire_get_bytes(sos_wire_dec *d, const uint8_t *p,
                                                const uint8_t *end, sos_bytes *b) {
  const uint8_t *q;
  size_t n;
  if (!(p = sos_wire_get_len(d, p, end, &q, &n))) return NULL;
  b->p = q;
  b->len = (uint32_t)n;
  return p;
}

/* A nested struct's payload at nesting level depth + 1: fails when that
 * is deeper than SOS_WIRE_MAX_DEPTH. */
static inline const uint8_t *sos_wire_get_struct(sos_wire_dec *d, const uint8_t *p,
                                                 const uint8_t *end, int depth,
                                                 const uint8_t **q, size_t *n) {
  if (depth >= SOS_WIRE_MAX_DEPTH)
    return sos__wire_why(d, p, "structs nested deeper than %d levels", SOS_WIRE_MAX_DEPTH);
  return sos_wire_get_len(d, p, end, q, n);
}

/* A list of element type t (SOS_WIRE_T_*, not structs): allocates its
 * items from the arena and sets *items and *n (NULL and 0 when empty). */
const uint8_t *sos_wire_get_list(sos_wire_dec *d, const uint8_t *p, const uint8_t *end,
                                 int t, void **items, uint32_t *n);

/* A list of structs: reads its payload into *q and *qn, counts its
 * elements into *n and allocates *items for them (size bytes each) from
 * the arena.  Checks nesting as sos_wire_get_struct. */
const uint8_t *sos_wire_get_items(sos_wire_dec *d, const uint8_t *p, const uint8_t *end,
                                  int depth, size_t size, const uint8_t **q, size_t *qn,
                                  void **items, uint32_t *n);

/* Skips the payload at p of an unknown field whose key (read already)
 * starts at `at`. */
const uint8_t *sos_wire_skip(sos_wire_dec *d, const uint8_t *at, const uint8_t *p,
                             const uint8_t *end, uint64_t key);

/* Fails a decode: "what at byte B: why" in sos_wire_error(), what naming
 * the struct or field ("HelloReq.name (tag 1)").  Returns d->status. */
int sos_wire_bad(sos_wire_dec *d, const char *what);

/* Fails a decode that found a known tag with another wire type than its
 * field's (type names the field's type, e.g. "text", "a list of u32"). */
int sos_wire_wrong_type(sos_wire_dec *d, const uint8_t *at, uint64_t key, const char *what,
                        const char *type, int want);

/* ---- JSON and form data (sos_json.c) ------------------------------------------ */

/* Finds the string at path (object keys joined by '.', as "event.text")
 * in the JSON text json (len bytes) and decodes it into *out, allocated
 * in a (NULL: sos_wire_arena()).  Returns 0, or SOS_STATUS_NOT_FOUND when
 * there is no such string or the JSON on the way to it is malformed. */
int sos_json_text(const void *json, size_t len, const char *path, sos_text *out, sos_arena *a);

/* The value of field key in form data (application/x-www-form-urlencoded:
 * key=value pairs joined by &, + for a space, %XX for a byte), decoded
 * into *out in a (NULL: sos_wire_arena()).  The first pair of that key
 * counts.  Returns 0, SOS_STATUS_NOT_FOUND (no such key: *out empty) or
 * SOS_STATUS_TOO_BIG (out of memory). */
int sos_form_text(const void *form, size_t len, const char *key, sos_text *out, sos_arena *a);

/* Writes s (n bytes) as a JSON string, quotes included, into out, with
 * <, > and & escaped too (safe inside HTML); returns its length.  With
 * out NULL, only returns the length (at most 6 n + 2). */
size_t sos_json_quote(char *out, const char *s, size_t n);

#endif

/*
 * decode.c - the WebAssembly binary format (Core 2.0 §5) and the
 * validation of everything outside function bodies (Core 2.0 §3.4).
 *
 * The decoder makes one pass over the module's own copy of the binary
 * (m->bytes), section by section, filling struct sos__module.  Function
 * bodies are not decoded here: each body's local declarations are
 * expanded and its code is recorded as a (pointer, length) into the copy
 * for compile.c, which validates instructions.  Names and data segment
 * bytes also point into the copy, so it must live as long as the module.
 *
 * Reads are bounded by the end of the file, not of the section, as in the
 * reference interpreter: a section (or body) is read as far as its
 * contents go and only then compared with its declared size ("section
 * size mismatch").  Lengths and counts may not exceed the bytes left in
 * the file ("length out of bounds"), so no allocation is larger than a
 * small multiple of the input, except the expanded locals of a body,
 * which the spec allows up to 2^32-1 and this engine caps at
 * SOS__MAX_LOCALS (50,000) per function.
 *
 * A module can be both malformed (§5) and invalid (§3).  The spec decodes
 * the whole module before validating it, so a malformation must win even
 * when it comes later in the file.  The decoder therefore validates as it
 * goes but only records the first validation error (invalid()) and keeps
 * decoding; a malformation ends decoding at once (malformed()).  Each
 * validation check tests its own indices before it uses them, so checks
 * stay memory-safe after an earlier one has failed.
 *
 * Messages read "SECTION section, offset 0xOFF: WHAT", where WHAT begins
 * with the wording of the spec test suite (binary.wast and friends).
 */
#include "wasm/module.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Section ids (Core 2.0 §5.5.2). */
enum {
  SEC_CUSTOM, SEC_TYPE, SEC_IMPORT, SEC_FUNC, SEC_TABLE, SEC_MEMORY,
  SEC_GLOBAL, SEC_EXPORT, SEC_START, SEC_ELEM, SEC_CODE, SEC_DATA,
  SEC_DATACOUNT, SEC_COUNT
};

#define END_MSG "unexpected end of section or function"
#define CODE_MISMATCH "function and code section have inconsistent lengths"
#define DATA_MISMATCH "data count and data section have inconsistent lengths"

struct dec {
  struct sos__module *m;
  const uint8_t *base;  /* m->bytes */
  const uint8_t *p;     /* next byte to read */
  const uint8_t *end;   /* end of the file */
  size_t send;          /* offset where the current section should end */
  const char *where;    /* "type section", for messages */
  char *err;
  size_t errlen;
  bool invalid;         /* a validation error is recorded in err */
  uint32_t nfunc_decls; /* entries of the function section */
  bool has_code, has_data;
};

/* ---- LEB128 (Core 2.0 §5.2.2) -------------------------------------------
 * An N-bit integer takes at most ceil(N/7) bytes ("integer representation
 * too long"); in its last byte the bits beyond N must be zero (unsigned)
 * or copies of the sign bit (signed), else "integer too large".  On error
 * *p is left at the offending byte. */

static int leb_fail(const uint8_t **pp, const uint8_t *p, const char **why,
                    const char *msg) {
  *pp = p;
  if (why) *why = msg;
  return SOS_EMALFORMED;
}

static int leb_u_slow(const uint8_t **pp, const uint8_t *end, unsigned bits,
                      uint64_t *out, const char **why) {
  const uint8_t *p = *pp;
  uint64_t v = 0;
  int left = (int)bits; /* bits not yet read */
  for (unsigned shift = 0;; shift += 7, left -= 7) {
    if (left <= 0)
      return leb_fail(pp, p, why, "integer representation too long");
    if (p >= end) return leb_fail(pp, p, why, END_MSG);
    uint8_t b = *p;
    if (left < 7 && (b & 0x7f) >> left)
      return leb_fail(pp, p, why, "integer too large");
    v |= (uint64_t)(b & 0x7f) << shift;
    p++;
    if (!(b & 0x80)) break;
  }
  *pp = p;
  *out = v;
  return 0;
}

/* Unsigned LEB128 of at most bits bits (see module.h).  A truncated
 * encoding gives "unexpected end of section or function". */
int sos__leb_u(const uint8_t **p, const uint8_t *end, unsigned bits,
               uint64_t *out, const char **why) {
  const uint8_t *q = *p;
  if (q < end && *q < 0x80 && (bits >= 7 || *q >> bits == 0)) {
    *out = *q; /* one byte: the common case for immediates */
    *p = q + 1;
    return 0;
  }
  return leb_u_slow(p, end, bits, out, why);
}

static int leb_s_slow(const uint8_t **pp, const uint8_t *end, unsigned bits,
                      int64_t *out, const char **why) {
  const uint8_t *p = *pp;
  uint64_t v = 0;
  int left = (int)bits;
  unsigned shift = 0;
  for (;;) {
    if (left <= 0)
      return leb_fail(pp, p, why, "integer representation too long");
    if (p >= end) return leb_fail(pp, p, why, END_MSG);
    uint8_t b = *p;
    if (left < 7) { /* the unused bits must copy the sign bit */
      uint8_t mask = (uint8_t)((0x7fu << (left - 1)) & 0x7f);
      if ((b & mask) != 0 && (b & mask) != mask)
        return leb_fail(pp, p, why, "integer too large");
    }
    v |= (uint64_t)(b & 0x7f) << shift;
    p++;
    shift += 7;
    left -= 7;
    if (!(b & 0x80)) {
      if (shift < 64 && (b & 0x40)) v |= ~(uint64_t)0 << shift;
      break;
    }
  }
  *pp = p;
  *out = (int64_t)v;
  return 0;
}

/* Signed LEB128 of at most bits bits, sign-extended (see module.h). */
int sos__leb_s(const uint8_t **p, const uint8_t *end, unsigned bits,
               int64_t *out, const char **why) {
  const uint8_t *q = *p;
  if (q < end && *q < 0x80 && bits >= 7) {
    *out = (int64_t)(*q ^ 0x40) - 0x40; /* sign-extend bit 6 */
    *p = q + 1;
    return 0;
  }
  return leb_s_slow(p, end, bits, out, why);
}

/* ---- errors ----------------------------------------------------------- */

static void vwrite(struct dec *d, const uint8_t *at, const char *fmt,
                   va_list ap) {
  if (!d->err || d->errlen == 0) return;
  int n = snprintf(d->err, d->errlen, "%s, offset 0x%zx: ", d->where,
                   (size_t)(at - d->base));
  if (n >= 0 && (size_t)n < d->errlen)
    vsnprintf(d->err + n, d->errlen - (size_t)n, fmt, ap);
}

/* Records a binary-format error and returns SOS_EMALFORMED, which ends
 * decoding; it replaces any validation error recorded before. */
__attribute__((format(printf, 3, 4))) static int
malformed(struct dec *d, const uint8_t *at, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vwrite(d, at, fmt, ap);
  va_end(ap);
  return SOS_EMALFORMED;
}

/* Records a validation error unless one is recorded already; decoding
 * goes on so that a later malformation can still take precedence. */
__attribute__((format(printf, 3, 4))) static void
invalid(struct dec *d, const uint8_t *at, const char *fmt, ...) {
  if (d->invalid) return;
  d->invalid = true;
  va_list ap;
  va_start(ap, fmt);
  vwrite(d, at, fmt, ap);
  va_end(ap);
}

static int nomem(struct dec *d) {
  if (d->err && d->errlen) snprintf(d->err, d->errlen, "out of memory");
  return SOS_ENOMEM;
}

/* ---- primitive readers ------------------------------------------------ */

static int rd_byte(struct dec *d, uint8_t *b) {
  *b = 0;
  if (d->p >= d->end) return malformed(d, d->p, END_MSG);
  *b = *d->p++;
  return 0;
}

static int rd_uleb(struct dec *d, unsigned bits, uint64_t *v) {
  const char *why = END_MSG;
  *v = 0;
  if (sos__leb_u(&d->p, d->end, bits, v, &why))
    return malformed(d, d->p, "%s", why);
  return 0;
}

static int rd_sleb(struct dec *d, unsigned bits, int64_t *v) {
  const char *why = END_MSG;
  *v = 0;
  if (sos__leb_s(&d->p, d->end, bits, v, &why))
    return malformed(d, d->p, "%s", why);
  return 0;
}

static int rd_u32(struct dec *d, uint32_t *v) {
  uint64_t x = 0;
  int rc = rd_uleb(d, 32, &x);
  *v = (uint32_t)x;
  return rc;
}

/* A length or count: a u32 no larger than the bytes left in the file
 * counted from the start of its own encoding, as the reference does. */
static int rd_len(struct dec *d, uint32_t *n) {
  const uint8_t *at = d->p;
  int rc = rd_u32(d, n);
  if (rc) return rc;
  if (*n > (size_t)(d->end - at))
    return malformed(d, at, "length out of bounds");
  return 0;
}

/* Takes the next n bytes, returning where they start. */
static int rd_skip(struct dec *d, size_t n, const uint8_t **start) {
  *start = d->p;
  if (n > (size_t)(d->end - d->p)) {
    d->p = d->end;
    return malformed(d, d->p, END_MSG);
  }
  d->p += n;
  return 0;
}

/* Little-endian fixed-width bits (f32.const, f64.const). */
static int rd_fixed(struct dec *d, unsigned nbytes, uint64_t *v) {
  if ((size_t)(d->end - d->p) < nbytes) {
    d->p = d->end;
    return malformed(d, d->p, END_MSG);
  }
  *v = 0;
  for (unsigned i = 0; i < nbytes; i++) *v |= (uint64_t)d->p[i] << (8 * i);
  d->p += nbytes;
  return 0;
}

/* Checks UTF-8 as Unicode defines it: no overlong forms, no surrogates,
 * nothing above U+10FFFF (Core 2.0 §5.2.4). */
static bool utf8_valid(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = s[i];
    size_t more;
    uint8_t lo = 0x80, hi = 0xbf; /* range of the second byte */
    if (c < 0x80) { i++; continue; }
    if (c >= 0xc2 && c <= 0xdf) more = 1;
    else if (c >= 0xe0 && c <= 0xef) more = 2;
    else if (c >= 0xf0 && c <= 0xf4) more = 3;
    else return false;
    if (c == 0xe0) lo = 0xa0;      /* overlong */
    else if (c == 0xed) hi = 0x9f; /* surrogates */
    else if (c == 0xf0) lo = 0x90; /* overlong */
    else if (c == 0xf4) hi = 0x8f; /* above U+10FFFF */
    if (n - i <= more || s[i + 1] < lo || s[i + 1] > hi) return false;
    for (size_t k = 2; k <= more; k++)
      if ((s[i + k] & 0xc0) != 0x80) return false;
    i += more + 1;
  }
  return true;
}

static int rd_name(struct dec *d, struct sos_wasm_name *nm) {
  const uint8_t *at = d->p, *s;
  uint32_t n;
  int rc = rd_len(d, &n);
  if (!rc) rc = rd_skip(d, n, &s);
  if (rc) return rc;
  if (!utf8_valid(s, n)) return malformed(d, at, "malformed UTF-8 encoding");
  nm->p = (const char *)s;
  nm->len = n;
  return 0;
}

/* ---- types (Core 2.0 §5.3) ---------------------------------------------- */

static bool is_reftype(uint8_t b) {
  return b == SOS_WASM_FUNCREF || b == SOS_WASM_EXTERNREF;
}

static bool is_valtype(uint8_t b) {
  return (b >= SOS_WASM_F64 && b <= SOS_WASM_I32) || is_reftype(b);
}

/* A one-byte type code.  The reference reads it as a 7-bit signed LEB128,
 * so a continuation bit makes it "integer representation too long". */
static int rd_typecode(struct dec *d, bool (*ok)(uint8_t), const char *what,
                       uint8_t *t) {
  uint8_t b;
  int rc = rd_byte(d, &b);
  if (rc) return rc;
  if (b & 0x80) return malformed(d, d->p, "integer representation too long");
  if (!ok(b)) return malformed(d, d->p - 1, "%s", what);
  *t = b;
  return 0;
}

static int rd_valtype(struct dec *d, uint8_t *t) {
  return rd_typecode(d, is_valtype, "malformed value type", t);
}

static int rd_reftype(struct dec *d, uint8_t *t) {
  return rd_typecode(d, is_reftype, "malformed reference type", t);
}

/* Limits (§5.3.7).  The flag is read as a 1-bit LEB128 as the reference
 * does (so 0x02 is "integer too large").  Without a maximum, max is set to
 * the implicit one. */
static int rd_limits(struct dec *d, struct sos__limits *l, uint32_t implicit) {
  uint64_t flag;
  int rc = rd_uleb(d, 1, &flag);
  if (!rc) rc = rd_u32(d, &l->min);
  l->has_max = flag == 1;
  l->max = implicit;
  if (!rc && l->has_max) rc = rd_u32(d, &l->max);
  return rc;
}

/* Limits must lie in range and have min <= max (§3.2.1). */
static void check_limits(struct dec *d, const uint8_t *at,
                         const struct sos__limits *l, uint64_t range,
                         const char *range_msg) {
  if (l->min > range || (l->has_max && l->max > range))
    invalid(d, at, "%s", range_msg);
  else if (l->has_max && l->min > l->max)
    invalid(d, at, "size minimum must not be greater than maximum");
}

static int rd_tabletype(struct dec *d, struct sos__tabletype *t) {
  const uint8_t *at = d->p;
  int rc = rd_reftype(d, &t->elem);
  if (!rc) rc = rd_limits(d, &t->lim, UINT32_MAX);
  if (!rc)
    check_limits(d, at, &t->lim, UINT32_MAX,
                 "table size must be at most 2^32-1");
  return rc;
}

static int rd_memtype(struct dec *d, struct sos__limits *l) {
  const uint8_t *at = d->p;
  int rc = rd_limits(d, l, SOS__MAX_PAGES);
  if (!rc)
    check_limits(d, at, l, SOS__MAX_PAGES,
                 "memory size must be at most 65536 pages (4GiB)");
  return rc;
}

static int rd_globaltype(struct dec *d, struct sos__globaltype *g) {
  uint8_t mut;
  int rc = rd_valtype(d, &g->type);
  if (!rc) rc = rd_byte(d, &mut);
  if (rc) return rc;
  if (mut > 1) return malformed(d, d->p - 1, "malformed mutability");
  g->mut = mut == 1;
  return 0;
}

/* Reads n value types (one byte each) and returns where they start. */
static int rd_valtypes(struct dec *d, uint32_t *n, const uint8_t **start) {
  int rc = rd_len(d, n);
  *start = d->p;
  uint8_t t;
  for (uint32_t i = 0; !rc && i < *n; i++) rc = rd_valtype(d, &t);
  return rc;
}

static int rd_functype(struct dec *d, struct sos__functype *ft) {
  uint8_t form;
  const uint8_t *params, *results;
  int rc = rd_byte(d, &form);
  if (rc) return rc;
  if (form & 0x80) return malformed(d, d->p, "integer representation too long");
  if (form != 0x60) return malformed(d, d->p - 1, "malformed function type");
  if ((rc = rd_valtypes(d, &ft->nparams, &params))) return rc;
  if ((rc = rd_valtypes(d, &ft->nresults, &results))) return rc;
  ft->types = sos_malloc((size_t)ft->nparams + ft->nresults);
  if (!ft->types) return nomem(d);
  memcpy(ft->types, params, ft->nparams);
  memcpy(ft->types + ft->nparams, results, ft->nresults);
  return 0;
}

/* ---- finding equal items (type canonicalisation, duplicate exports) ---- */

typedef uint32_t (*hash_fn)(const struct sos__module *m, uint32_t i);
typedef bool (*eq_fn)(const struct sos__module *m, uint32_t i, uint32_t j);

static uint32_t fnv1a(const void *p, size_t n, uint32_t h) {
  const uint8_t *s = p;
  for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 16777619u;
  return h;
}

/* Sets first[i] to the least j with item j equal to item i, using an
 * open-addressing table so that many items cost linear time. */
static int first_equal(const struct sos__module *m, uint32_t n, hash_fn hash,
                       eq_fn eq, uint32_t *first) {
  size_t cap = 16;
  while (cap < 2 * (size_t)n) cap *= 2;
  uint32_t *slot = sos_calloc(cap, sizeof *slot); /* item index + 1 */
  if (!slot) return SOS_ENOMEM;
  for (uint32_t i = 0; i < n; i++) {
    size_t h = hash(m, i) & (cap - 1);
    while (slot[h] && !eq(m, slot[h] - 1, i)) h = (h + 1) & (cap - 1);
    if (!slot[h]) slot[h] = i + 1;
    first[i] = slot[h] - 1;
  }
  sos_free(slot);
  return 0;
}

static uint32_t type_hash(const struct sos__module *m, uint32_t i) {
  const struct sos__functype *t = &m->types[i];
  uint32_t h = fnv1a(&t->nparams, sizeof t->nparams, 2166136261u);
  return fnv1a(t->types, (size_t)t->nparams + t->nresults, h);
}

static bool type_eq(const struct sos__module *m, uint32_t i, uint32_t j) {
  const struct sos__functype *a = &m->types[i], *b = &m->types[j];
  return a->nparams == b->nparams && a->nresults == b->nresults &&
         memcmp(a->types, b->types, (size_t)a->nparams + a->nresults) == 0;
}

static uint32_t export_hash(const struct sos__module *m, uint32_t i) {
  return fnv1a(m->exports[i].name.p, m->exports[i].name.len, 2166136261u);
}

static bool export_eq(const struct sos__module *m, uint32_t i, uint32_t j) {
  const struct sos_wasm_name *a = &m->exports[i].name, *b = &m->exports[j].name;
  return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

/* ---- index spaces ------------------------------------------------------ */

/* Grows an array of old elements by add zeroed ones; NULL when out of
 * memory (arr is then still owned by the caller). */
static void *grow(void *arr, uint32_t old, uint32_t add, size_t size) {
  if ((uint64_t)old + add > UINT32_MAX) return NULL;
  size_t bytes = ((size_t)old + add) * size;
  uint8_t *p = sos_realloc(arr, bytes ? bytes : 1);
  if (p) memset(p + (size_t)old * size, 0, (size_t)add * size);
  return p;
}

/* Makes m->declared_refs, one flag per function, all clear. */
static int alloc_refs(struct dec *d) {
  struct sos__module *m = d->m;
  if (!m->declared_refs) {
    m->declared_refs = sos_calloc(m->nfuncs ? m->nfuncs : 1, 1);
    if (!m->declared_refs) return nomem(d);
  }
  return 0;
}

/* Notes that ref.func may name function x outside bodies (§3.4.10).  The
 * function index space is complete by the time any section that can
 * name a function is read. */
static int declare_ref(struct dec *d, uint32_t x) {
  int rc = alloc_refs(d);
  if (!rc && x < d->m->nfuncs) d->m->declared_refs[x] = 1;
  return rc;
}

/* Checks index x of an external kind; returns whether it exists. */
static bool check_index(struct dec *d, const uint8_t *at, uint8_t kind,
                        uint32_t x) {
  static const char *const what[] = {"function", "table", "memory", "global"};
  const struct sos__module *m = d->m;
  uint32_t n[] = {m->nfuncs, m->ntables, m->nmems, m->nglobals};
  if (x < n[kind]) return true;
  invalid(d, at, "unknown %s %u", what[kind], x);
  return false;
}

/* ---- constant expressions (Core 2.0 §3.3.10, §5.4.10) -------------------
 * Only one instruction then `end` is valid, but the spec decodes any
 * instruction sequence first, so other instructions are skipped with
 * their immediates (reporting "constant expression required") and an
 * opcode that does not exist is "illegal opcode". */

static int rd_zero(struct dec *d) {
  uint8_t b;
  int rc = rd_byte(d, &b);
  if (!rc && b != 0) rc = malformed(d, d->p - 1, "zero byte expected");
  return rc;
}

static int rd_u32s(struct dec *d, unsigned n) {
  uint32_t x;
  int rc = 0;
  for (unsigned i = 0; !rc && i < n; i++) rc = rd_u32(d, &x);
  return rc;
}

/* Immediates of the 0xFC prefix (§5.4.5, §5.4.6, §5.4.7). */
static int skip_fc(struct dec *d, const uint8_t *at) {
  uint32_t sub;
  int rc = rd_u32(d, &sub);
  if (rc) return rc;
  if (sub <= 7) return 0; /* saturating truncations */
  switch (sub) {
  case 8: return (rc = rd_u32s(d, 1)) ? rc : rd_zero(d);
  case 10: return (rc = rd_zero(d)) ? rc : rd_zero(d);
  case 11: return rd_zero(d);
  case 12: case 14: return rd_u32s(d, 2);
  case 9: case 13: case 15: case 16: case 17: return rd_u32s(d, 1);
  }
  return malformed(d, at, "illegal opcode fc %u", sub);
}

static int skip_vector(struct dec *d, bool types) {
  uint32_t n;
  uint8_t t;
  int rc = rd_len(d, &n);
  for (uint32_t i = 0; !rc && i < n; i++)
    rc = types ? rd_valtype(d, &t) : rd_u32s(d, 1);
  return rc;
}

/* Skips the immediates of a non-constant instruction op (§5.4). */
static int skip_instr(struct dec *d, uint8_t op, uint32_t *depth) {
  const uint8_t *at = d->p - 1;
  int64_t bt;
  if ((op >= 0x45 && op <= 0xc4) || op <= 0x01 || op == 0x0f || op == 0x1a ||
      op == 0x1b || op == 0xd1)
    return 0;
  if (op >= 0x28 && op <= 0x3e) return rd_u32s(d, 2); /* memarg */
  if ((op >= 0x20 && op <= 0x26) || op == 0x0c || op == 0x0d || op == 0x10 ||
      op == 0xd2)
    return rd_u32s(d, 1);
  switch (op) {
  case 0x02: case 0x03: case 0x04:
    ++*depth;
    return rd_sleb(d, 33, &bt);
  case 0x05:
    return *depth ? 0 : malformed(d, at, "END opcode expected");
  case 0x0e: {
    int rc = skip_vector(d, false);
    return rc ? rc : rd_u32s(d, 1);
  }
  case 0x11: return rd_u32s(d, 2);
  case 0x1c: return skip_vector(d, true);
  case 0x3f: case 0x40: return rd_zero(d);
  case 0xfc: return skip_fc(d, at);
  }
  return malformed(d, at, "illegal opcode %02x", op);
}

/* global.get x in a constant expression: x must be an imported, immutable
 * global (§3.4: C' holds only imported globals).  Returns its type or 0. */
static uint8_t const_global(struct dec *d, const uint8_t *at, uint32_t x) {
  const struct sos__module *m = d->m;
  if (x >= m->nglobal_imports) {
    invalid(d, at, "unknown global %u", x);
    return 0;
  }
  if (m->globals[x].type.mut) {
    invalid(d, at, "constant expression required");
    return 0;
  }
  return m->globals[x].type.type;
}

/* i32/i64/f32/f64.const (0x41-0x44, in the order of SOS__CONST_I32..F64):
 * the value's bits. */
static int const_number(struct dec *d, uint8_t op, struct sos__constexpr *ce,
                        uint8_t *t) {
  static const uint8_t types[] = {SOS_WASM_I32, SOS_WASM_I64, SOS_WASM_F32,
                                  SOS_WASM_F64};
  int64_t s = 0;
  ce->kind = (uint8_t)(SOS__CONST_I32 + (op - 0x41));
  *t = types[op - 0x41];
  if (op == 0x43 || op == 0x44)
    return rd_fixed(d, op == 0x43 ? 4 : 8, &ce->value);
  int rc = rd_sleb(d, op == 0x41 ? 32 : 64, &s);
  ce->value = op == 0x41 ? (uint32_t)s : (uint64_t)s;
  return rc;
}

/* Decodes one instruction of a constant expression into *ce and sets *t
 * to its result type, or to 0 after recording why it is not constant. */
static int const_instr(struct dec *d, uint8_t op, struct sos__constexpr *ce,
                       uint8_t *t, uint32_t *depth) {
  const uint8_t *at = d->p - 1;
  int rc;
  memset(ce, 0, sizeof *ce);
  *t = 0;
  switch (op) {
  case 0x41: case 0x42: case 0x43: case 0x44:
    return const_number(d, op, ce, t);
  case 0xd0: /* ref.null t */
    ce->kind = SOS__CONST_REF_NULL;
    rc = rd_reftype(d, t);
    ce->value = *t;
    return rc;
  case 0xd2: /* ref.func x */
    ce->kind = SOS__CONST_REF_FUNC;
    *t = SOS_WASM_FUNCREF;
    return rd_u32(d, &ce->index);
  case 0x23: /* global.get x */
    ce->kind = SOS__CONST_GLOBAL;
    if (!(rc = rd_u32(d, &ce->index))) *t = const_global(d, at, ce->index);
    return rc;
  }
  rc = skip_instr(d, op, depth);
  if (!rc) invalid(d, at, "constant expression required");
  return rc;
}

/* Checks the one instruction of a constant expression after the others
 * have been found constant: function index and result type. */
static int const_check(struct dec *d, const uint8_t *at, uint32_t n,
                       const struct sos__constexpr *ce, uint8_t type,
                       uint8_t want) {
  if (n == 1 && ce->kind == SOS__CONST_REF_FUNC) {
    if (!check_index(d, at, SOS_WASM_EXTERN_FUNC, ce->index)) return 0;
    int rc = declare_ref(d, ce->index);
    if (rc) return rc;
  }
  if (n != 1 || type != want) invalid(d, at, "type mismatch");
  return 0;
}

/* A constant expression of type want (§3.3.10); the first instruction is
 * stored in *out. */
static int const_expr(struct dec *d, uint8_t want, struct sos__constexpr *out) {
  const uint8_t *at = d->p;
  uint32_t n = 0, depth = 0;
  uint8_t type = 0, t;
  bool constant = true;
  struct sos__constexpr ce;
  memset(out, 0, sizeof *out);
  for (;;) {
    uint8_t op;
    int rc = rd_byte(d, &op);
    if (rc) return rc;
    if (op == 0x0b && depth == 0) break;
    if (op == 0x0b) {
      depth--;
      continue;
    }
    if ((rc = const_instr(d, op, &ce, &t, &depth))) return rc;
    if (!t) constant = false;
    if (n++ == 0) {
      *out = ce;
      type = t;
    }
  }
  return constant ? const_check(d, at, n, out, type, want) : 0;
}

/* ---- sections ------------------------------------------------------------ */

static int sec_custom(struct dec *d) {
  struct sos_wasm_name name;
  int rc = rd_name(d, &name);
  if (rc) return rc;
  size_t at = (size_t)(d->p - d->base), len = (size_t)(d->end - d->base);
  if (at > d->send || d->send > len) return malformed(d, d->end, END_MSG);
  d->p = d->base + d->send; /* contents are not interpreted */
  return 0;
}

static int sec_type(struct dec *d) {
  struct sos__module *m = d->m;
  uint32_t n;
  int rc = rd_len(d, &n);
  if (rc) return rc;
  if (!(m->types = sos_calloc(n ? n : 1, sizeof *m->types))) return nomem(d);
  m->ntypes = n;
  for (uint32_t i = 0; i < n; i++)
    if ((rc = rd_functype(d, &m->types[i]))) return rc;
  uint32_t *first = sos_malloc((n ? n : 1) * sizeof *first);
  if (!first || first_equal(m, n, type_hash, type_eq, first)) {
    sos_free(first);
    return nomem(d);
  }
  for (uint32_t i = 0; i < n; i++) m->types[i].canon = first[i];
  sos_free(first);
  return 0;
}

static int rd_typeidx(struct dec *d, uint32_t *x) {
  const uint8_t *at = d->p;
  int rc = rd_u32(d, x);
  if (!rc && *x >= d->m->ntypes) invalid(d, at, "unknown type %u", *x);
  return rc;
}

static int rd_import(struct dec *d, struct sos__import *im, uint32_t *nmems) {
  int rc = rd_name(d, &im->module);
  if (!rc) rc = rd_name(d, &im->name);
  const uint8_t *at = d->p;
  if (!rc) rc = rd_byte(d, &im->kind);
  if (rc) return rc;
  switch (im->kind) {
  case SOS_WASM_EXTERN_FUNC: return rd_typeidx(d, &im->u.typeidx);
  case SOS_WASM_EXTERN_TABLE: return rd_tabletype(d, &im->u.table);
  case SOS_WASM_EXTERN_MEMORY:
    if (++*nmems > 1) invalid(d, at, "multiple memories");
    return rd_memtype(d, &im->u.mem);
  case SOS_WASM_EXTERN_GLOBAL: return rd_globaltype(d, &im->u.global);
  }
  return malformed(d, at, "malformed import kind");
}

/* Sizes the index spaces for the imports and puts them first. */
static int index_imports(struct dec *d) {
  struct sos__module *m = d->m;
  uint32_t n[4] = {0, 0, 0, 0};
  for (uint32_t i = 0; i < m->nimports; i++) n[m->imports[i].kind]++;
  m->func_types = sos_calloc(n[0] ? n[0] : 1, sizeof *m->func_types);
  m->tables = sos_calloc(n[1] ? n[1] : 1, sizeof *m->tables);
  m->mems = sos_calloc(n[2] ? n[2] : 1, sizeof *m->mems);
  m->globals = sos_calloc(n[3] ? n[3] : 1, sizeof *m->globals);
  if (!m->func_types || !m->tables || !m->mems || !m->globals) return nomem(d);
  for (uint32_t i = 0; i < m->nimports; i++) {
    const struct sos__import *im = &m->imports[i];
    switch (im->kind) {
    case SOS_WASM_EXTERN_FUNC:
      m->func_types[m->nfuncs++] = im->u.typeidx;
      break;
    case SOS_WASM_EXTERN_TABLE: m->tables[m->ntables++] = im->u.table; break;
    case SOS_WASM_EXTERN_MEMORY: m->mems[m->nmems++] = im->u.mem; break;
    default: m->globals[m->nglobals++].type = im->u.global; break;
    }
  }
  m->nfunc_imports = m->nfuncs;
  m->ntable_imports = m->ntables;
  m->nmem_imports = m->nmems;
  m->nglobal_imports = m->nglobals;
  return 0;
}

static int sec_import(struct dec *d) {
  struct sos__module *m = d->m;
  uint32_t n, nmems = 0;
  int rc = rd_len(d, &n);
  if (rc) return rc;
  if (!(m->imports = sos_calloc(n ? n : 1, sizeof *m->imports)))
    return nomem(d);
  m->nimports = n;
  for (uint32_t i = 0; i < n; i++)
    if ((rc = rd_import(d, &m->imports[i], &nmems))) return rc;
  return index_imports(d);
}

static int sec_func(struct dec *d) {
  struct sos__module *m = d->m;
  uint32_t n;
  int rc = rd_len(d, &n);
  if (rc) return rc;
  uint32_t *ft = grow(m->func_types, m->nfuncs, n, sizeof *ft);
  if (!ft) return nomem(d);
  m->func_types = ft;
  for (uint32_t i = 0; i < n; i++)
    if ((rc = rd_typeidx(d, &ft[m->nfuncs + i]))) return rc;
  m->nfuncs += n;
  d->nfunc_decls = n;
  return 0;
}

static int sec_table(struct dec *d) {
  struct sos__module *m = d->m;
  uint32_t n;
  int rc = rd_len(d, &n);
  if (rc) return rc;
  struct sos__tabletype *t = grow(m->tables, m->ntables, n, sizeof *t);
  if (!t) return nomem(d);
  m->tables = t;
  for (uint32_t i = 0; i < n; i++, m->ntables++)
    if ((rc = rd_tabletype(d, &t[m->ntables]))) return rc;
  return 0;
}

static int sec_memory(struct dec *d) {
  struct sos__module *m = d->m;
  uint32_t n;
  int rc = rd_len(d, &n);
  if (rc) return rc;
  struct sos__limits *l = grow(m->mems, m->nmems, n, sizeof *l);
  if (!l) return nomem(d);
  m->mems = l;
  for (uint32_t i = 0; i < n; i++, m->nmems++) {
    if (m->nmems >= 1) invalid(d, d->p, "multiple memories");
    if ((rc = rd_memtype(d, &l[m->nmems]))) return rc;
  }
  return 0;
}

static int sec_global(struct dec *d) {
  struct sos__module *m = d->m;
  uint32_t n;
  int rc = rd_len(d, &n);
  if (rc) return rc;
  struct sos__global *g = grow(m->globals, m->nglobals, n, sizeof *g);
  if (!g) return nomem(d);
  m->globals = g;
  for (uint32_t i = 0; i < n; i++, m->nglobals++) {
    struct sos__global *gl = &g[m->nglobals];
    if ((rc = rd_globaltype(d, &gl->type))) return rc;
    if ((rc = const_expr(d, gl->type.type, &gl->init))) return rc;
  }
  return 0;
}

static int rd_export(struct dec *d, struct sos__export *ex) {
  int rc = rd_name(d, &ex->name);
  const uint8_t *at = d->p;
  if (!rc) rc = rd_byte(d, &ex->kind);
  if (rc) return rc;
  if (ex->kind > SOS_WASM_EXTERN_GLOBAL)
    return malformed(d, at, "malformed export kind");
  if ((rc = rd_u32(d, &ex->index))) return rc;
  if (check_index(d, at, ex->kind, ex->index) &&
      ex->kind == SOS_WASM_EXTERN_FUNC)
    return declare_ref(d, ex->index);
  return 0;
}

/* Export names must be unique (§3.4.10). */
static int check_export_names(struct dec *d) {
  struct sos__module *m = d->m;
  uint32_t n = m->nexports;
  uint32_t *first = sos_malloc((n ? n : 1) * sizeof *first);
  if (!first || first_equal(m, n, export_hash, export_eq, first)) {
    sos_free(first);
    return nomem(d);
  }
  for (uint32_t i = 0; i < n; i++) {
    if (first[i] == i) continue;
    invalid(d, (const uint8_t *)m->exports[i].name.p, "duplicate export name");
    break;
  }
  sos_free(first);
  return 0;
}

static int sec_export(struct dec *d) {
  struct sos__module *m = d->m;
  uint32_t n;
  int rc = rd_len(d, &n);
  if (rc) return rc;
  if (!(m->exports = sos_calloc(n ? n : 1, sizeof *m->exports)))
    return nomem(d);
  m->nexports = n;
  for (uint32_t i = 0; i < n; i++)
    if ((rc = rd_export(d, &m->exports[i]))) return rc;
  return check_export_names(d);
}

/* The start function must exist and have type [] -> [] (§3.4.9). */
static int sec_start(struct dec *d) {
  struct sos__module *m = d->m;
  const uint8_t *at = d->p;
  int rc = rd_u32(d, &m->start);
  if (rc) return rc;
  m->has_start = true;
  if (!check_index(d, at, SOS_WASM_EXTERN_FUNC, m->start)) return 0;
  uint32_t ti = m->func_types[m->start];
  if (ti < m->ntypes && (m->types[ti].nparams || m->types[ti].nresults))
    invalid(d, at, "start function must have type [] -> []");
  return 0;
}

/* Element items: a vector of function indices or of expressions. */
static int rd_elem_items(struct dec *d, struct sos__elem *e, bool exprs) {
  uint32_t n;
  int rc = rd_len(d, &n);
  if (rc) return rc;
  if (!(e->items = sos_calloc(n ? n : 1, sizeof *e->items))) return nomem(d);
  e->n = n;
  for (uint32_t i = 0; i < n && !rc; i++) {
    struct sos__constexpr *it = &e->items[i];
    if (exprs) {
      rc = const_expr(d, e->type, it);
      continue;
    }
    const uint8_t *at = d->p;
    it->kind = SOS__CONST_REF_FUNC;
    if (!(rc = rd_u32(d, &it->index)) &&
        check_index(d, at, SOS_WASM_EXTERN_FUNC, it->index))
      rc = declare_ref(d, it->index);
  }
  return rc;
}

/* The element type of flags 1-3 (§5.5.12): only 0x00, funcref. */
static int rd_elemkind(struct dec *d, uint8_t *type) {
  uint8_t k;
  int rc = rd_byte(d, &k);
  if (!rc && k != 0) rc = malformed(d, d->p - 1, "malformed element kind");
  *type = SOS_WASM_FUNCREF;
  return rc;
}

/* An element segment (§5.5.12).  Flag bit 0: passive or declarative;
 * bit 1: explicit table index (active) or declarative; bit 2: items are
 * expressions. */
static int rd_elem(struct dec *d, struct sos__elem *e) {
  const uint8_t *at = d->p, *tat = NULL;
  uint32_t flags;
  int rc = rd_u32(d, &flags);
  if (rc) return rc;
  if (flags > 7) return malformed(d, at, "malformed elements segment kind");
  e->type = SOS_WASM_FUNCREF;
  e->mode = !(flags & 1) ? SOS__SEG_ACTIVE
            : (flags & 2) ? SOS__SEG_DECLARATIVE : SOS__SEG_PASSIVE;
  if (e->mode == SOS__SEG_ACTIVE) {
    tat = d->p;
    if ((flags & 2) && (rc = rd_u32(d, &e->table))) return rc;
    if ((rc = const_expr(d, SOS_WASM_I32, &e->offset))) return rc;
  }
  if (flags & 3)
    rc = (flags & 4) ? rd_reftype(d, &e->type) : rd_elemkind(d, &e->type);
  if (!rc) rc = rd_elem_items(d, e, flags & 4);
  if (!rc && tat && check_index(d, tat, SOS_WASM_EXTERN_TABLE, e->table) &&
      d->m->tables[e->table].elem != e->type)
    invalid(d, tat, "type mismatch");
  return rc;
}

static int sec_elem(struct dec *d) {
  struct sos__module *m = d->m;
  uint32_t n;
  int rc = rd_len(d, &n);
  if (rc) return rc;
  if (!(m->elems = sos_calloc(n ? n : 1, sizeof *m->elems))) return nomem(d);
  m->nelems = n;
  for (uint32_t i = 0; i < n; i++)
    if ((rc = rd_elem(d, &m->elems[i]))) return rc;
  return 0;
}

static int sec_datacount(struct dec *d) {
  d->m->has_datacount = true;
  return rd_u32(d, &d->m->datacount);
}

/* Local declarations (§5.5.13): the total must fit in u32. */
static int rd_locals(struct dec *d, struct sos__funcbody *b) {
  const uint8_t *at = d->p, *decls;
  uint32_t n, count;
  uint64_t total = 0;
  uint8_t t;
  int rc = rd_len(d, &n);
  decls = d->p;
  for (uint32_t i = 0; i < n && !rc; i++) {
    if (!(rc = rd_u32(d, &count))) rc = rd_valtype(d, &t);
    total += count;
  }
  if (rc) return rc;
  if (total > UINT32_MAX) return malformed(d, at, "too many locals");
  if (total > SOS__MAX_LOCALS) {
    /* An engine limit, checked before a tiny module can make us allocate
     * gigabytes; decoding goes on without the local types. */
    invalid(d, at, "too many locals: %llu (this engine allows %u)",
            (unsigned long long)total, SOS__MAX_LOCALS);
    return 0;
  }
  if (!(b->local_types = sos_malloc(total ? total : 1))) return nomem(d);
  b->nlocals = (uint32_t)total;
  uint64_t k = 0, c = 0;
  for (uint32_t i = 0; i < n; i++) { /* already checked: cannot fail */
    sos__leb_u(&decls, d->end, 32, &c, NULL);
    memset(b->local_types + k, *decls++, c);
    k += c;
  }
  return 0;
}

/* A function body (§5.5.13); its code is left for compile.c, which only
 * relies on it ending with 0x0b. */
static int rd_body(struct dec *d, struct sos__funcbody *b) {
  uint32_t size;
  int rc = rd_len(d, &size);
  if (rc) return rc;
  const uint8_t *start;
  if ((rc = rd_skip(d, size, &start))) return rc;
  const uint8_t *end = d->p;
  d->p = start;
  if ((rc = rd_locals(d, b))) return rc;
  if (d->p > end) return malformed(d, start, "section size mismatch");
  b->code = d->p;
  b->code_len = (size_t)(end - d->p);
  b->code_offset = (size_t)(d->p - d->base);
  if (b->code_len == 0 || end[-1] != 0x0b) /* the body's last `end` */
    return malformed(d, end, end == d->end ? END_MSG : "END opcode expected");
  d->p = end;
  return 0;
}

static int sec_code(struct dec *d) {
  struct sos__module *m = d->m;
  const uint8_t *at = d->p;
  uint32_t n;
  int rc = rd_len(d, &n);
  if (rc) return rc;
  if (n != d->nfunc_decls)
    return malformed(d, at, CODE_MISMATCH);
  d->has_code = true;
  if (!(m->bodies = sos_calloc(n ? n : 1, sizeof *m->bodies))) return nomem(d);
  for (uint32_t i = 0; i < n; i++)
    if ((rc = rd_body(d, &m->bodies[i]))) return rc;
  return 0;
}

/* A data segment (§5.5.14): flags 0 (active, memory 0), 1 (passive) or
 * 2 (active, explicit memory). */
static int rd_data(struct dec *d, struct sos__data *s) {
  const uint8_t *at = d->p, *mat;
  uint32_t flags;
  int rc = rd_u32(d, &flags);
  if (rc) return rc;
  if (flags > 2) return malformed(d, at, "malformed data segment kind");
  s->mode = flags == 1 ? SOS__SEG_PASSIVE : SOS__SEG_ACTIVE;
  mat = d->p;
  if (flags == 2 && (rc = rd_u32(d, &s->mem))) return rc;
  if (flags != 1 && (rc = const_expr(d, SOS_WASM_I32, &s->offset))) return rc;
  if ((rc = rd_len(d, &s->len))) return rc;
  if ((rc = rd_skip(d, s->len, &s->bytes))) return rc;
  if (flags != 1) check_index(d, mat, SOS_WASM_EXTERN_MEMORY, s->mem);
  return 0;
}

static int sec_data(struct dec *d) {
  struct sos__module *m = d->m;
  const uint8_t *at = d->p;
  uint32_t n;
  int rc = rd_len(d, &n);
  if (rc) return rc;
  if (m->has_datacount && n != m->datacount)
    return malformed(d, at, DATA_MISMATCH);
  d->has_data = true;
  if (!(m->datas = sos_calloc(n ? n : 1, sizeof *m->datas))) return nomem(d);
  m->ndatas = n;
  for (uint32_t i = 0; i < n; i++)
    if ((rc = rd_data(d, &m->datas[i]))) return rc;
  return 0;
}

/* ---- the module (Core 2.0 §5.5.16) ----------------------------------- */

static const struct {
  const char *where;
  uint8_t rank; /* sections other than custom come in this order */
  int (*decode)(struct dec *d);
} sections[SEC_COUNT] = {
  [SEC_CUSTOM] = {"custom section", 0, sec_custom},
  [SEC_TYPE] = {"type section", 1, sec_type},
  [SEC_IMPORT] = {"import section", 2, sec_import},
  [SEC_FUNC] = {"function section", 3, sec_func},
  [SEC_TABLE] = {"table section", 4, sec_table},
  [SEC_MEMORY] = {"memory section", 5, sec_memory},
  [SEC_GLOBAL] = {"global section", 6, sec_global},
  [SEC_EXPORT] = {"export section", 7, sec_export},
  [SEC_START] = {"start section", 8, sec_start},
  [SEC_ELEM] = {"element section", 9, sec_elem},
  [SEC_DATACOUNT] = {"data count section", 10, sec_datacount},
  [SEC_CODE] = {"code section", 11, sec_code},
  [SEC_DATA] = {"data section", 12, sec_data},
};

static int rd_header(struct dec *d) {
  static const uint8_t magic[4] = {0x00, 0x61, 0x73, 0x6d};
  static const uint8_t version[4] = {0x01, 0x00, 0x00, 0x00};
  size_t len = (size_t)(d->end - d->base);
  d->where = "module header";
  if (len < 4) return malformed(d, d->end, "unexpected end");
  if (memcmp(d->base, magic, 4) != 0)
    return malformed(d, d->base, "magic header not detected");
  if (len < 8) return malformed(d, d->end, "unexpected end");
  if (memcmp(d->base + 4, version, 4) != 0)
    return malformed(d, d->base + 4, "unknown binary version");
  d->p = d->base + 8;
  return 0;
}

/* Reads one section; *last is the rank of the last non-custom one. */
static int rd_section(struct dec *d, uint8_t *last) {
  const uint8_t *at = d->p;
  uint8_t id = *d->p;
  uint32_t size;
  d->where = "module";
  if (id >= SEC_COUNT) return malformed(d, at, "malformed section id");
  if (id != SEC_CUSTOM && sections[id].rank <= *last)
    return malformed(d, at, "unexpected content after last section");
  if (id != SEC_CUSTOM) *last = sections[id].rank;
  d->p++;
  d->where = sections[id].where;
  int rc = rd_len(d, &size);
  if (rc) return rc;
  const uint8_t *start = d->p;
  d->send = (size_t)(start - d->base) + size;
  if ((rc = sections[id].decode(d))) return rc;
  if ((size_t)(d->p - d->base) != d->send)
    return malformed(d, start, "section size mismatch");
  return 0;
}

/* Checks that need the whole module: counts that must agree. */
static int finish(struct dec *d) {
  struct sos__module *m = d->m;
  if (!d->has_code && d->nfunc_decls) {
    d->where = "code section";
    return malformed(d, d->end, CODE_MISMATCH);
  }
  if (m->has_datacount && !d->has_data && m->datacount) {
    d->where = "data section";
    return malformed(d, d->end, DATA_MISMATCH);
  }
  if (!m->func_types && !(m->func_types = sos_calloc(1, sizeof *m->func_types)))
    return nomem(d);
  return alloc_refs(d);
}

/* The header, the sections in order, then the whole-module checks; a
 * recorded validation error counts only if the binary is well formed. */
static int decode(struct dec *d) {
  uint8_t last = 0;
  int rc = rd_header(d);
  while (!rc && d->p < d->end) rc = rd_section(d, &last);
  if (!rc) rc = finish(d);
  if (!rc && d->invalid) rc = SOS_EINVALID;
  return rc;
}

/* Decodes and checks a module (see module.h).  m need not be initialised;
 * on error it is left cleared and err holds the message. */
int sos__module_decode(struct sos__module *m, const uint8_t *bytes, size_t len,
                       char *err, size_t errlen) {
  memset(m, 0, sizeof *m);
  if (err && errlen) err[0] = 0;
  if (!(m->bytes = sos_malloc(len ? len : 1))) {
    if (err && errlen) snprintf(err, errlen, "out of memory");
    return SOS_ENOMEM;
  }
  if (len) memcpy(m->bytes, bytes, len);
  m->len = len;
  struct dec d = {.m = m, .base = m->bytes, .p = m->bytes,
                  .end = m->bytes + len, .where = "module",
                  .err = err, .errlen = errlen};
  int rc = decode(&d);
  if (rc) sos__module_clear(m);
  return rc;
}

/* Frees what m owns; safe on a zeroed or partly decoded module. */
void sos__module_clear(struct sos__module *m) {
  for (uint32_t i = 0; m->types && i < m->ntypes; i++)
    sos_free(m->types[i].types);
  uint32_t nbodies = m->nfuncs - m->nfunc_imports;
  for (uint32_t i = 0; m->bodies && i < nbodies; i++)
    sos_free(m->bodies[i].local_types);
  for (uint32_t i = 0; m->elems && i < m->nelems; i++)
    sos_free(m->elems[i].items);
  sos_free(m->types);
  sos_free(m->imports);
  sos_free(m->func_types);
  sos_free(m->bodies);
  sos_free(m->tables);
  sos_free(m->mems);
  sos_free(m->globals);
  sos_free(m->exports);
  sos_free(m->elems);
  sos_free(m->datas);
  sos_free(m->declared_refs);
  sos_free(m->bytes);
  memset(m, 0, sizeof *m);
}

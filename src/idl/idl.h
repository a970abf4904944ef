/*
 * idl.h - what the files of src/idl share: the compiled schema (struct
 * sos_idl), varint and UTF-8 decoding, and a growable byte buffer.
 *
 * The compiled schema copies every name it needs out of the app, so the
 * app can be freed as soon as sos_idl_new returns.  Types are referred to
 * by index: a field of type STRUCT or ENUM holds the index of its struct
 * or enum in ref.  Each struct keeps its fields in declared order (the
 * order encoders write and JSON prints) and two indexes over them: by tag
 * (a direct table when the tags are dense, a sorted array otherwise) for
 * decoding, and by name for reading JSON.
 *
 * The varint reader is inline: decoding spends most of its time there,
 * and the one-byte case (tags below 16, small numbers, short lengths)
 * must cost a compare and a load.
 */
#ifndef SOS_IDL_INTERNAL_H
#define SOS_IDL_INTERNAL_H

#include "sos/app.h"
#include "sos/base.h"
#include "sos/idl.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Wire types (docs/wire.md, "A struct value"). */
enum { SOS__IDL_VARINT = 0, SOS__IDL_I64 = 1, SOS__IDL_LEN = 2, SOS__IDL_I32 = 5 };

#define SOS__IDL_MAX_DEPTH 32   /* struct nesting, the outermost being 1 */
#define SOS__IDL_MAX_TAG 65535u

/* One field of a compiled struct. */
struct sos__idl_field {
  char *name;
  uint32_t tag;
  uint8_t type;  /* SOS_APP_T_* */
  uint8_t flags; /* SOS_APP_F_* */
  uint8_t wire;  /* the wire type its key carries (LEN for every list) */
  uint16_t group; /* 0, or 1 + the index of its union in the struct's unions */
  int32_t ref;   /* STRUCT, ENUM: index of the type in the schema; else -1 */
};

/* One compiled struct. */
struct sos__idl_struct {
  char *name, *package;
  struct sos__idl_field *fields; /* declared order */
  uint32_t nfields;
  char **unions; /* union names; field group g is unions[g - 1] */
  uint32_t nunions;
  uint16_t *by_tag;  /* dense: by_tag[tag] = 1 + field index, 0 = unknown,
                        for tag <= max_tag; sparse: field indexes by tag */
  bool dense;
  uint32_t max_tag;
  uint16_t *by_name; /* field indexes sorted by name */
};

struct sos__idl_value {
  char *name;
  uint32_t value;
};

/* One compiled enum: values in declared order and sorted by number. */
struct sos__idl_enum {
  char *name, *package;
  struct sos__idl_value *values;
  uint32_t nvalues;
  uint32_t *by_value; /* value indexes sorted by number */
};

struct sos__idl_method {
  char *name;
  int32_t request, response; /* struct indexes */
};

struct sos__idl_error {
  char *name;
  uint32_t code;
};

struct sos__idl_interface {
  char *name, *package;
  struct sos__idl_method *methods;
  uint32_t nmethods;
  struct sos__idl_error *errors;
  uint32_t nerrors;
};

struct sos_idl {
  struct sos__idl_struct *structs;
  uint32_t nstructs;
  struct sos__idl_enum *enums;
  uint32_t nenums;
  struct sos__idl_interface *interfaces;
  uint32_t ninterfaces;
};

/* ---- schema (schema.c) ------------------------------------------------------ */

/* The field of st with wire tag tag, or NULL. */
static inline const struct sos__idl_field *sos__idl_by_tag(const struct sos__idl_struct *st,
                                                           uint64_t tag) {
  if (tag > st->max_tag) return NULL;
  if (st->dense) {
    uint16_t i = st->by_tag[tag];
    return i ? &st->fields[i - 1] : NULL;
  }
  uint32_t lo = 0, hi = st->nfields;
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    const struct sos__idl_field *f = &st->fields[st->by_tag[mid]];
    if (f->tag == tag) return f;
    if (f->tag < tag) lo = mid + 1;
    else hi = mid;
  }
  return NULL;
}

/* The field of st named name (n bytes, not NUL-terminated), or NULL. */
const struct sos__idl_field *sos__idl_by_name(const struct sos__idl_struct *st,
                                              const char *name, size_t n);

/* The name of value v of enum e, or NULL when e does not declare it. */
const char *sos__idl_enum_name(const struct sos__idl_enum *e, uint64_t v);

/* Whether enum e has a value named name (n bytes); its number in *v. */
bool sos__idl_enum_value(const struct sos__idl_enum *e, const char *name, size_t n,
                         uint32_t *v);

/* The name of a field's type as written in SOS ("u32", "Person"), without
 * list<>.  Static or owned by s. */
const char *sos__idl_type_name(const struct sos_idl *s, const struct sos__idl_field *f);

/* ---- varints and UTF-8 (wire.c) --------------------------------------------- */

/* What a varint read can find wrong. */
enum { SOS__IDL_VR_OK = 0, SOS__IDL_VR_TRUNC, SOS__IDL_VR_LONG, SOS__IDL_VR_BIG };

/* The slow path of sos__idl_varint: two bytes or more. */
int sos__idl_varint_slow(const uint8_t **pp, const uint8_t *end, uint64_t *v);

/* Reads a varint at *pp (before end) into *v and advances *pp.  Returns
 * SOS__IDL_VR_OK or what was wrong (*pp unchanged then). */
static inline int sos__idl_varint(const uint8_t **pp, const uint8_t *end, uint64_t *v) {
  const uint8_t *p = *pp;
  if (p < end && *p < 0x80) {
    *v = *p;
    *pp = p + 1;
    return SOS__IDL_VR_OK;
  }
  return sos__idl_varint_slow(pp, end, v);
}

/* A sentence for a varint problem ("truncated varint"). */
const char *sos__idl_varint_problem(int vr);

/* The number of bytes of v's shortest varint (1..10). */
static inline size_t sos__idl_varint_len(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

/* Writes v's shortest varint at p (room for 10 bytes); returns its length. */
static inline size_t sos__idl_varint_put(uint8_t *p, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    p[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  p[n++] = (uint8_t)v;
  return n;
}

static inline uint64_t sos__idl_zigzag(int64_t v) {
  return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t sos__idl_unzigzag(uint64_t v) {
  return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* The offset of the first byte of p (n bytes) that starts an invalid
 * UTF-8 sequence (RFC 3629), or n when all is valid. */
size_t sos__idl_utf8_check(const uint8_t *p, size_t n);

/* The length (1 to 4) of the valid UTF-8 sequence that starts p (n > 0
 * bytes), or 0 when none does. */
size_t sos__idl_utf8_seq(const uint8_t *p, size_t n);

/* ---- walking a struct value (wire.c) ----------------------------------------- */

/* Writes a sentence for what sos_idl_next returned into buf (n bytes). */
void sos__idl_next_problem(int nx, const struct sos_idl_item *it, const uint8_t *end,
                           char *buf, size_t n);

/* ---- JSON text (json_parse.c) ------------------------------------------------ */

enum {
  SOS__JSON_NULL,
  SOS__JSON_FALSE,
  SOS__JSON_TRUE,
  SOS__JSON_NUMBER,
  SOS__JSON_STRING,
  SOS__JSON_ARRAY,
  SOS__JSON_OBJECT,
};

/* One value of parsed JSON.  The nodes of a document lie in one array in
 * text order: an array's elements follow it, an object's members follow
 * it as a key (a STRING node) and a value each, and next is the index
 * just past a node's whole subtree (so siblings are reached by next). */
struct sos__json_node {
  uint8_t kind;     /* SOS__JSON_* */
  bool escaped;     /* STRING: holds a backslash escape */
  uint32_t start;   /* offset of the text: a STRING's first byte after the
                       quote, a NUMBER's first byte, a container's bracket */
  uint32_t len;     /* STRING: bytes between the quotes; NUMBER: its bytes */
  uint32_t count;   /* ARRAY: elements; OBJECT: members */
  uint32_t next;
};

/* A parsed document (text borrowed, nodes owned). */
struct sos__json {
  const char *text;
  struct sos__json_node *nodes;
  uint32_t n, cap;
};

/* Parses JSON text (len bytes; RFC 8259 strictly: one value, strings of
 * valid UTF-8 without raw control characters, escapes that decode to
 * Unicode scalar values, nesting at most 128 deep) into *doc, whose root
 * is nodes[0].  Errors: SOS_EINVAL with "invalid JSON at byte N: what",
 * SOS_ETOOBIG (4 GiB or more), SOS_ENOMEM; on failure nothing is held.
 * Free doc->nodes with sos_free. */
int sos__json_parse(const char *text, size_t len, struct sos__json *doc, char *err,
                    size_t errlen);

/* Appends the decoded bytes of STRING node nd (UTF-8) to b. */
void sos__json_string(const struct sos__json *doc, const struct sos__json_node *nd,
                      struct sos_buf *b);

/* "a number", "an object", ... for messages. */
const char *sos__json_kind(uint8_t kind);

/* Writes a message into err (errlen bytes) and returns code. */
int sos__idl_err(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif

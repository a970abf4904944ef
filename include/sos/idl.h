/*
 * idl.h - the host's schema-driven codec for the SOS wire format.
 *
 * Typed messages (the requests and responses of interface methods, the
 * errors of typed calls, table rows) are struct values in the wire format
 * of docs/wire.md.  This layer compiles the structs, enums and interfaces
 * of a resolved app definition (include/sos/app.h) into a struct sos_idl,
 * and with it checks messages, converts them to and from JSON (what
 * `sos call` and the kernel's control API speak), picks fields out of
 * them (time travel splices a field of one call's result into the next
 * call's request), describes an interface in SOS syntax (`sos describe`),
 * and decides whether a new version of a definition keeps the old one's
 * clients and servers working (`sos check --against`).
 *
 * Types are named by index: sos_idl_struct gives the index of a struct,
 * which the other calls take as `type`.  Indexes follow the app's structs
 * array (own structs first, then imported ones).
 *
 * Errors are negative SOS_E* codes (include/sos/base.h); the calls that
 * take an err buffer write a message for people there, naming where
 * (byte offset or JSON field), which field (`Struct.field`) and what.
 */
#ifndef SOS_IDL_H
#define SOS_IDL_H

#include "sos/app.h"
#include "sos/base.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A compiled schema.  Opaque; immutable once built, so one schema may be
 * used by any number of threads at once. */
struct sos_idl;

/* Compiles the structs, enums and interfaces of app (a resolved
 * definition, as from sos_app_load, or a parsed one that names only its
 * own types) into *out.  Every name is copied: app may be freed at once.
 * Checks what the codec relies on: every type_name and every method's
 * request and response names a struct (or, for a field of type ENUM, an
 * enum) of app, no struct contains itself by value (directly or through
 * other struct fields; a list breaks the cycle), field types are known,
 * tags are 1..65535 and unique in their struct.
 * Errors: SOS_EINVAL with a message in err ("HelloReq.from: unknown type
 * Persn", "struct A contains itself: A.b -> B.a -> A"), SOS_ENOMEM.  On
 * failure *out is NULL.  Free the schema with sos_idl_free. */
int sos_idl_new(const struct sos_app *app, struct sos_idl **out, char *err,
                size_t errlen);

/* Frees a schema.  Accepts NULL. */
void sos_idl_free(struct sos_idl *s);

/* The index of the struct named name, or SOS_ENOENT. */
int sos_idl_struct(const struct sos_idl *s, const char *name);

/* The name of struct type (owned by s), or NULL when type is no index. */
const char *sos_idl_struct_name(const struct sos_idl *s, int type);

/* The index of the interface named name, or SOS_ENOENT. */
int sos_idl_interface(const struct sos_idl *s, const char *name);

/* Looks method up in interface iface (an index from sos_idl_interface):
 * its request and response struct indexes go to *request and *response
 * (either may be NULL).  Returns the method's index, or SOS_ENOENT when
 * iface or method does not exist. */
int sos_idl_method(const struct sos_idl *s, int iface, const char *method, int *request,
                   int *response);

/* The name of the error with code in interface iface (owned by s), or
 * NULL when the interface declares no such error. */
const char *sos_idl_error_name(const struct sos_idl *s, int iface, uint32_t code);

/* Checks that the n bytes at p are a well-formed value of struct type,
 * per docs/wire.md: varints of at most 10 bytes within 64 bits, wire
 * types 0, 1, 2 and 5 only, lengths within what remains, a known tag
 * with the wire type of its field, values within their type's range
 * (bool 0/1, u8 below 256 ..., enums below 2^31), valid UTF-8 in text,
 * lists whose payload is whole elements, nesting at most 32 structs deep
 * (the message itself being the first).  Unknown tags are skipped.
 * Allocates nothing; safe on any bytes.  Errors: SOS_EMALFORMED with
 * "Struct.field (tag N) at byte B: what" (or "Struct at byte B: what" when
 * no field is concerned) in err, B counting from p; SOS_EINVAL when type
 * is not a struct index. */
int sos_idl_check(const struct sos_idl *s, int type, const void *p, size_t n, char *err,
                  size_t errlen);

/* Converts the wire bytes p (n bytes) of struct type into JSON text, per
 * docs/wire.md "JSON": an object with every field that is neither
 * optional nor a union variant (zeros included) and the optional fields
 * and union variants present, in declared order; 64-bit integers beyond
 * +-2^53 as strings of digits; f32/f64 in the shortest form that reads
 * back to the same value, NaN (any payload), Infinity and -Infinity as
 * the strings "NaN", "Infinity", "-Infinity"; enums by name (a number
 * when undeclared); bytes in base64 with padding; text with JSON escapes
 * for '"', '\\' and control characters.  The text is compact (no
 * spaces).  The bytes are checked first as sos_idl_check does.
 * On success *json (NUL-terminated; its length in *len when len is not
 * NULL) is the caller's, freed with sos_free.  Errors: those of
 * sos_idl_check, SOS_ENOMEM.  On failure *json is NULL. */
int sos_idl_to_json(const struct sos_idl *s, int type, const void *p, size_t n,
                    char **json, size_t *len, char *err, size_t errlen);

/* Converts JSON text (len bytes, RFC 8259, need not be NUL-terminated)
 * holding an object into the canonical wire bytes of struct type: fields
 * in declared order, plain fields at their zero value left out, optional
 * fields and the union variant given always written.  Accepts what
 * sos_idl_to_json prints, and: integers as numbers (a number with a
 * fraction or exponent only when its value is a whole number below 2^53)
 * or as strings of decimal digits with an optional '-'; enums by name or
 * number (0..2^31-1); null for an optional field or union variant, meaning
 * not given.  Rejects invalid JSON (with its byte offset), unknown field
 * names, a field given twice, values of the wrong JSON type, integers out
 * of their type's range, floats out of f32's range, invalid base64 (RFC
 * 4648 §4: length a multiple of 4, padding only at the end, unused bits
 * zero), text that is not valid Unicode (lone surrogates), more than one
 * variant of a union, and structs nested deeper than 32; each message
 * names the field ("HelloReq.times: 300000000000 does not fit u32",
 * "HelloReq.tags[2]: expected a string, got a number").
 * On success *out (*outlen bytes; never NULL, even when empty) is the
 * caller's, freed with sos_free.  Errors: SOS_EINVAL with the message in
 * err, SOS_ETOOBIG for text of 4 GiB or more, SOS_ENOMEM.  On failure
 * *out is NULL. */
int sos_idl_from_json(const struct sos_idl *s, int type, const char *json, size_t len,
                      uint8_t **out, size_t *outlen, char *err, size_t errlen);

/* A field picked out of a message by sos_idl_get_field. */
struct sos_idl_value {
  uint8_t type;    /* SOS_APP_T_* of the field */
  uint8_t flags;   /* SOS_APP_F_* of the field */
  uint8_t wire;    /* its wire type: 0 VARINT, 1 I64, 2 LEN, 5 I32 */
  bool present;    /* whether the message holds it (else it is zero) */
  int type_index;  /* STRUCT, ENUM: the index of the struct or enum; else -1 */
  uint32_t tag;    /* the field's tag */
  /* LEN (text, bytes, a struct, every list): the payload in place in the
   * message (borrowed from it), NULL and 0 when absent.  A list's payload
   * is its elements back to back, as on the wire. */
  const uint8_t *p;
  size_t n;
  /* VARINT: the value as written (signed types still zigzagged); I32,
   * I64: the IEEE 754 bits.  0 when absent. */
  uint64_t u;
  int64_t i;  /* signed integer types: the value */
  double f;   /* f32, f64: the value */
};

/* Finds the field at path in the wire bytes p (n bytes) of struct type.
 * path is field names joined by '.' ("from.name"), each but the last
 * naming a struct field that is not a list; a struct that is absent reads
 * as empty.  The field's last occurrence counts (docs/wire.md), and a
 * union variant is present only when no later variant of its union
 * follows it.  Describes the field in *v; LEN payloads point into p.  The
 * message should have been checked (sos_idl_check): every read is
 * bounds-checked and malformed structure met on the way is an error, but
 * payloads are not validated.  Errors: SOS_ENOENT when a name of path is
 * not a field ("HelloReq has no field nmae"), SOS_EINVAL when a step
 * before the last is not a struct or the path is empty, SOS_EMALFORMED
 * for bytes that cannot be walked; all with a message in err. */
int sos_idl_get_field(const struct sos_idl *s, int type, const void *p, size_t n,
                      const char *path, struct sos_idl_value *v, char *err,
                      size_t errlen);

/* The same in two halves, for a path read many times: resolve finds the
 * names of path (len bytes, not NUL-terminated) in the schema once, with
 * get_field's errors (and SOS_EINVAL past SOS_IDL_PATH_MAX names); get
 * then reads the field from messages of that struct as get_field would,
 * without looking a name up.  With p NULL and n 0 get describes the
 * field's type (absent). */
#define SOS_IDL_PATH_MAX 16
struct sos_idl_path {
  int type;                          /* the struct the path starts in */
  uint32_t n;                        /* names, at least 1 */
  uint16_t field[SOS_IDL_PATH_MAX];  /* each a field's index in its struct */
};
int sos_idl_path_resolve(const struct sos_idl *s, int type, const char *path, size_t len,
                         struct sos_idl_path *out, char *err, size_t errlen);
int sos_idl_path_get(const struct sos_idl *s, const struct sos_idl_path *path, const void *p,
                     size_t n, struct sos_idl_value *v, char *err, size_t errlen);

/* Describes interface `interface` for `sos describe`: the interface, then
 * every struct and enum its methods reach (through fields, recursively)
 * in the order first reached, in SOS language syntax (docs/language.md).
 * *text (NUL-terminated) is the caller's, freed with sos_free.
 * Errors: SOS_ENOENT when there is no such interface, SOS_ENOMEM. */
int sos_idl_describe(const struct sos_idl *s, const char *interface, char **text);

/* Whether definition new_app keeps every client and server of old_app
 * working (docs/wire.md "Evolution"; src/idl/compat.c lists the rules):
 * old_app's own interfaces, their methods' request and response structs
 * and errors, and the structs of its tables.  Both apps must be resolved
 * (every type name found).  Returns 0 when compatible; else SOS_EINVAL
 * with the first breaking change in err, at its place in new_app when it
 * has one ("app.sos:12:5: HelloReq.times changed type from u32 to u64",
 * "app.sos:3:3: interface Greeter lost method count"); SOS_ENOMEM. */
int sos_idl_compat(const struct sos_app *old_app, const struct sos_app *new_app,
                   char *err, size_t errlen);

/* sos_idl_compat for one interface: whether new_app's interface named
 * name keeps every client and server of old_app's interface of that name
 * working (rules 1 to 3 of src/idl/compat.c).  The interface may be own
 * or imported in either definition.  Returns 0 when compatible; SOS_EINVAL
 * with the first breaking change in err (as sos_idl_compat; "interface
 * Greeter was removed" when new_app has none); SOS_ENOENT when old_app
 * has no such interface; SOS_ENOMEM. */
int sos_idl_compat_interface(const struct sos_app *old_app, const struct sos_app *new_app,
                             const char *name, char *err, size_t errlen);

/* Writing wire bytes by hand (docs/wire.md), for messages whose layout is
 * fixed (plan results, the built-ins' answers): the key of field tag with
 * wire type wire (0 VARINT, 1 I64, 2 LEN, 5 I32); a LEN field of n bytes
 * at p; and inner's bytes (freed here) as a list element (tag 0: its
 * length, then its bytes) or as LEN field tag when inner is not empty.  A
 * failed inner fails b (struct sos_buf keeps the first failure). */
void sos_idl_put_key(struct sos_buf *b, uint32_t tag, uint32_t wire);
void sos_idl_put_bytes(struct sos_buf *b, uint32_t tag, const void *p, size_t n);
void sos_idl_put_inner(struct sos_buf *b, uint32_t tag, struct sos_buf *inner);

/* ---- walking a message ----------------------------------------------------- */

/* One field of a message as read from the wire (docs/wire.md).  key is where its key starts; p the
 * payload: for LEN the n bytes of content (after the length), for I32
 * and I64 the n = 4 or 8 bytes, whose little-endian value is in v too,
 * for VARINT where the varint starts, its value in v. */
struct sos_idl_item {
  const uint8_t *key, *p;
  size_t n;
  uint64_t tag, v;
  unsigned wire;
  int vr; /* the varint problem, for the NX codes that have one */
};

/* What sos_idl_next can find wrong. */
enum {
  SOS_IDL_NX_KEY = 1, /* the key's varint (it.vr) */
  SOS_IDL_NX_WIRE,    /* wire type 3, 4, 6 or 7 */
  SOS_IDL_NX_VARINT,  /* a VARINT payload (it.vr) */
  SOS_IDL_NX_SHORT,   /* I32 or I64 past the end */
  SOS_IDL_NX_LEN,     /* the length's varint (it.vr) */
  SOS_IDL_NX_PAST,    /* a length past the end */
};

/* Reads the field at *pp (before end) into *it and advances *pp past it.
 * For walking a message by tag without a schema
 * (check it first with sos_idl_check).  Returns 0 or an SOS_IDL_NX_* code (with it.key, it.tag, it.wire and
 * it.p filled as far as they were read; *pp unchanged). */
int sos_idl_next(const uint8_t **pp, const uint8_t *end, struct sos_idl_item *it);

#endif

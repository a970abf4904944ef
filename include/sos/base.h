/*
 * base.h - errors, memory allocation and file reading shared by every SOS
 * layer.
 *
 * Errors: a fallible function returns int, 0 on success or a negative
 * SOS_E* code from the one table below.  sos_strerror() gives a sentence,
 * sos_err_name() the symbolic name.  Library codes (errno, LMDB, libuv...)
 * are translated where the library is called and never leak further.
 *
 * Allocation: all memory goes through sos_malloc/sos_calloc/sos_realloc/
 * sos_free so that tests can fail the Nth allocation (sos_alloc_fail_at)
 * and so that later layers can account memory per app.  Out of memory is
 * an error to return (SOS_ENOMEM), never an abort.
 *
 * Files: sos_file_read() loads one whole file, for the programs that read
 * modules and scripts from disk.
 */
#ifndef SOS_BASE_H
#define SOS_BASE_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

/* X(name, value, message) */
#define SOS_ERRNO_MAP(X)                                                     \
  X(ENOMEM, -1, "out of memory")                                             \
  X(EINVAL, -2, "invalid argument")                                          \
  X(EMALFORMED, -3, "malformed module")                                      \
  X(EINVALID, -4, "invalid module")                                          \
  X(ELINK, -5, "unknown or incompatible import")                             \
  X(ETRAP, -6, "trap")                                                       \
  X(ELIMIT, -7, "limit exceeded")                                            \
  X(ENOENT, -8, "no such entry")                                             \
  X(EIO, -9, "input/output error")                                           \
  X(ESTATE, -10, "operation not valid in the current state")                 \
  X(ETOOBIG, -11, "value too large")                                         \
  X(ECONFLICT, -12, "the value changed (compare-and-swap failed)")           \
  X(EQUOTA, -13, "storage quota exceeded")                                  \
  X(EPERM, -14, "not permitted")

enum {
#define SOS__ERR_ENUM(name, val, msg) SOS_##name = (val),
  SOS_ERRNO_MAP(SOS__ERR_ENUM)
#undef SOS__ERR_ENUM
};

/* Returns a static sentence describing rc (0 gives "success"). */
const char *sos_strerror(int rc);
/* Returns the static symbolic name of rc, such as "SOS_ENOMEM". */
const char *sos_err_name(int rc);

/* Allocation.  Same contracts as the C library's functions; sos_free(NULL)
 * is a no-op.  sos_realloc(p, 0) frees p and returns NULL. */
void *sos_malloc(size_t n);
void *sos_calloc(size_t count, size_t size);
void *sos_realloc(void *p, size_t n);
void sos_free(void *p);
/* Duplicates the n bytes at s into a fresh NUL-terminated string. */
char *sos_strndup(const char *s, size_t n);

/* Fault injection for tests: the nth allocation from now (1 = the next)
 * fails, and so does every later one until reset with n = 0.
 * Returns the number of allocations made since the last call. */
uint64_t sos_alloc_fail_at(uint64_t n);

/* Reads the whole file at path into a fresh buffer: *out gets the bytes
 * and *len their count.  Any readable name will do, not only a regular
 * file: a pipe, /dev/stdin or /dev/fd/N is read until its end.
 * Errors: SOS_ENOENT when path does not exist; SOS_EIO when it cannot be
 * opened or read for any other reason (a directory, no permission, an I/O
 * error), with errno left as the system set it so that the caller can
 * print strerror(errno); SOS_ENOMEM.  On failure *out is NULL, *len 0.
 * Ownership: *out is allocated with sos_malloc and the caller frees it
 * with sos_free.  For convenience (text parsers) it is NUL-terminated:
 * (*out)[*len] is 0, one byte past the data. */
int sos_file_read(const char *path, uint8_t **out, size_t *len);


/* ---- versions (version.c) ---- */

/* Parses a version MAJOR.MINOR.PATCH (each at most 9 digits) into out.
 * Errors: SOS_EINVAL. */
int sos_version_parse(const char *s, uint64_t out[3]);

/* Whether version (MAJOR.MINOR.PATCH) satisfies requirement req: 1 or 0;
 * SOS_EINVAL when either is malformed.  req is comparisons joined by
 * commas, all of which must hold: `=`, `>`, `>=`, `<`, `<=`, `^`
 * (the same major, or for 0.x the same minor; at least the version) or
 * `~` (the same major and minor, at least the version) before a version
 * of one to three numbers; a bare version means `^`; NULL, "" or "*"
 * accept any version.  ">=1.2, <2" and "^1.2" select the same. */
int sos_version_match(const char *version, const char *req);


/* ---- a growable byte buffer (buf.c) ---- */

/* Bytes being written: p[0..len), from sos_malloc.  Start it all zeros.
 * rc becomes SOS_ENOMEM when a growth fails; later writes then do nothing,
 * so that writers check once, at sos_buf_finish. */
struct sos_buf {
  uint8_t *p;
  size_t len, cap;
  int rc;
};

/* Makes room for n more bytes (and a NUL); false, with rc set, when not.
 * (sos__buf_grow is its slow path: the buffer must grow.) */
bool sos__buf_grow(struct sos_buf *b, size_t n);
static inline bool sos_buf_room(struct sos_buf *b, size_t n) {
  return (!b->rc && b->cap - b->len > n) || sos__buf_grow(b, n); /* a byte for the NUL */
}
void sos_buf_add(struct sos_buf *b, const void *p, size_t n);
void sos_buf_str(struct sos_buf *b, const char *s);
void sos_buf_fmt(struct sos_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends v as a LEB128 varint (docs/wire.md). */
static inline void sos_buf_varint(struct sos_buf *b, uint64_t v) {
  if (!sos_buf_room(b, 10)) return;
  while (v >= 0x80) b->p[b->len++] = (uint8_t)(v | 0x80), v >>= 7;
  b->p[b->len++] = (uint8_t)v;
}
/* Hands the bytes over in *out (NUL-terminated, *len without the NUL;
 * the caller frees them with sos_free); on an earlier failure frees them
 * and returns SOS_ENOMEM.  Either way b is left empty. */
int sos_buf_finish(struct sos_buf *b, char **out, size_t *len);
/* Frees the bytes; b is left empty. */
void sos_buf_free(struct sos_buf *b);

#endif

/*
 * image.h - app images: one immutable, content-addressed file per build.
 *
 * An image holds an app's resolved definition (canonical app.sos text),
 * its WebAssembly module and its files as key-value pairs (path -> bytes).
 * Its identity is the sha-256 of its bytes, written as 64 lowercase hex
 * digits; `sos build` stores it as ID.sosimg.  docs/image.md documents the
 * format byte by byte.  Decoding checks every length and the hash, so a
 * damaged or tampered image is rejected with a reason, never half-used.
 */
#ifndef SOS_IMAGE_H
#define SOS_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define SOS_IMAGE_ID_LEN 64 /* hex digits of the sha-256 */

/* Limits that encode and decode both enforce. */
#define SOS_IMAGE_MAX_BYTES ((size_t)1 << 30) /* the whole encoded image */
#define SOS_IMAGE_MAX_FILES 100000u
#define SOS_IMAGE_MAX_PATH 1024u /* bytes of one file path */

struct sos_image_file {
  char *path; /* "static/index.html": relative, '/'-separated, no "." or ".." parts */
  uint8_t *data;
  size_t len;
};

/* Every pointer is owned by the struct; free with sos_image_free. */
struct sos_image {
  char *definition; /* NUL-terminated canonical app.sos text */
  size_t deflen;
  uint8_t *module;
  size_t modlen;
  struct sos_image_file *files;
  uint32_t nfiles;
  char id[SOS_IMAGE_ID_LEN + 1]; /* set by encode and decode */
};

/* Serialises img and sets img->id.  Sorts img->files by path in place
 * (bytewise), so the encoding of a given content is always the same bytes.
 * Errors: SOS_EINVAL for a duplicate or malformed path (see
 * sos_image_path_check), a NUL inside the definition or a NULL pointer
 * with a non-zero length; SOS_ETOOBIG past a limit above; SOS_ENOMEM.
 * sos_image_write reports the same errors with a reason.  On success *out
 * (len bytes) is freed with sos_free; on failure *out is NULL. */
int sos_image_encode(struct sos_image *img, uint8_t **out, size_t *len);

/* Parses and verifies an encoded image: every length, the canonical form
 * (sorted, unique, well-formed paths; nothing after the trailer) and the
 * checksum in the trailer, then sets the id to the sha-256 of all len
 * bytes.  When expect_id is not NULL (64 lowercase hex digits) the id must
 * equal it.  Errors: SOS_EINVAL with "WHAT at byte N: DETAIL" in err
 * ("bad magic at byte 0: ...", "truncated file section at byte 57: ...",
 * "sha-256 mismatch: the image is damaged or was altered ..."),
 * SOS_ENOMEM.  On success *out owns a fresh image (copies of the bytes,
 * nothing of bytes is kept; free with sos_image_free); on failure *out is
 * NULL. */
int sos_image_decode(const uint8_t *bytes, size_t len, const char *expect_id,
                     struct sos_image **out, char *err, size_t errlen);

/* Writes img to DIR/ID.sosimg (encoding it as sos_image_encode does;
 * atomic: a temporary file in DIR, fsync, rename, fsync of DIR), creating
 * DIR and its missing parents, and puts the path in path (cap bytes).
 * Errors: SOS_EIO with errno's words in err, SOS_EINVAL (a malformed image,
 * or a path longer than cap), SOS_ETOOBIG, SOS_ENOMEM. */
int sos_image_write(struct sos_image *img, const char *dir, char *path,
                    size_t cap, char *err, size_t errlen);

/* Reads and decodes the image at path.  When the file's base name is
 * ID.sosimg (64 lowercase hex digits), the hash must match ID.  Messages
 * start with the path.  Errors as sos_image_decode, plus SOS_ENOENT /
 * SOS_EIO ("cannot open PATH: ...") for the file. */
int sos_image_read(const char *path, struct sos_image **out, char *err,
                   size_t errlen);

/* Checks one file path: 1 to SOS_IMAGE_MAX_PATH bytes, '/'-separated,
 * not absolute, no empty, "." or ".." part, no backslash and no control
 * character (bytes 1-31 and 127).  Returns 0, or SOS_EINVAL with the
 * reason in err ("path has a \"..\" part"). */
int sos_image_path_check(const char *path, char *err, size_t errlen);

/* The file at path in the image, or NULL.  Binary search: img's files must
 * be sorted, as they are after sos_image_encode and sos_image_decode. */
const struct sos_image_file *sos_image_file(const struct sos_image *img,
                                            const char *path);

/* Frees an image.  Accepts NULL. */
void sos_image_free(struct sos_image *img);

#endif

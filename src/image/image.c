/*
 * image.c - the app image format: encoding, decoding and verification.
 *
 * An image is one flat byte string, written once by `sos build` and read
 * by every node that deploys it, so the format favours a strict reader
 * over flexibility: a header (magic and format version), the definition
 * text, the module, the files in bytewise path order, and a trailer that
 * holds the sha-256 of everything before it and an end marker.  All
 * integers are little-endian and every part is length-prefixed, so the
 * reader never searches; docs/image.md gives the layout byte by byte.
 *
 * There is exactly one encoding of a given content (files sorted, no
 * padding, no optional parts), which is what makes the sha-256 of the
 * whole file a name for the content: re-encoding a decoded image gives
 * the same bytes and therefore the same id.  The decoder enforces that
 * canonical form (sorted, unique, well-formed paths; nothing after the
 * trailer) and checks each length against the bytes that remain before
 * it copies anything, so a hostile image costs at most its own size in
 * memory.  The trailer's checksum lets an image be verified without
 * knowing its id (an upload to the control API); a caller that knows the
 * id passes it as well and the whole file's hash must match it.
 *
 * Hashing uses OpenSSL's EVP interface; its failures are translated to
 * SOS_ENOMEM here, the only way a one-shot digest can fail.
 */
#include "image/internal.h"

#include "sos/base.h"

#include <assert.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VERSION 1u
#define HASH_LEN 32u
static const char magic[8] = {'S', 'O', 'S', 'I', 'M', 'A', 'G', 'E'};
static const char end_magic[8] = {'S', 'O', 'S', 'I', 'M', 'E', 'N', 'D'};

enum {
  HEADER_LEN = 12,            /* magic and version */
  TRAILER_LEN = HASH_LEN + 8, /* checksum and end marker */
  MIN_FILE_LEN = 4 + 8,       /* the two lengths of a file */
};

/* ---- shared helpers ------------------------------------------------------ */

/* Formats a message into err (when there is room for one). */
__attribute__((format(printf, 3, 4))) static void say(char *err, size_t errlen,
                                                      const char *fmt, ...) {
  if (!err || !errlen) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

/* sha-256 of n bytes at p into out. */
static int sha256(const uint8_t *p, size_t n, uint8_t out[HASH_LEN]) {
  unsigned int got = 0;
  if (!EVP_Digest(p, n, out, &got, EVP_sha256(), NULL) || got != HASH_LEN)
    return SOS_ENOMEM;
  return 0;
}

/* Writes the 64 lowercase hex digits of a hash and a NUL into id. */
static void hex_id(const uint8_t h[HASH_LEN], char id[SOS_IMAGE_ID_LEN + 1]) {
  static const char digits[] = "0123456789abcdef";
  for (unsigned i = 0; i < HASH_LEN; i++) {
    id[2 * i] = digits[h[i] >> 4];
    id[2 * i + 1] = digits[h[i] & 15];
  }
  id[SOS_IMAGE_ID_LEN] = '\0';
}

/* Whether s is an image id (see internal.h). */
int sos__image_is_id(const char *s) {
  size_t n = strspn(s, "0123456789abcdef");
  return n == SOS_IMAGE_ID_LEN && s[n] == '\0';
}

/* The reason a path of n bytes is malformed, or NULL when it is well
 * formed.  A NUL byte counts as malformed, for the decoder's sake. */
static const char *path_problem(const char *p, size_t n) {
  if (n == 0) return "path is empty";
  if (n > SOS_IMAGE_MAX_PATH) return "path is longer than 1024 bytes";
  if (p[0] == '/') return "path is absolute";
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    if (c == 0) return "path contains a NUL byte";
    if (c == '\\') return "path contains a backslash";
    if (c < 32 || c == 127) return "path contains a control character";
  }
  for (size_t start = 0; start <= n;) { /* each part between slashes */
    const char *slash = memchr(p + start, '/', n - start);
    size_t end = slash ? (size_t)(slash - p) : n, len = end - start;
    if (len == 0) return "path has an empty part";
    if (len == 1 && p[start] == '.') return "path has a \".\" part";
    if (len == 2 && p[start] == '.' && p[start + 1] == '.') return "path has a \"..\" part";
    start = end + 1;
  }
  return NULL;
}

/* Checks one file path (see image.h). */
int sos_image_path_check(const char *path, char *err, size_t errlen) {
  const char *why = path_problem(path, strlen(path));
  if (!why) return 0;
  say(err, errlen, "%s", why);
  return SOS_EINVAL;
}

/* ---- encoding ------------------------------------------------------------ */

static int by_path(const void *a, const void *b) {
  return strcmp(((const struct sos_image_file *)a)->path,
                ((const struct sos_image_file *)b)->path);
}

/* Adds n to *total unless that passes the size limit. */
static int add_size(size_t *total, size_t n) {
  if (n > SOS_IMAGE_MAX_BYTES - *total) return SOS_ETOOBIG;
  *total += n;
  return 0;
}

/* Checks the definition and module and returns the encoded size of the
 * image without its files. */
static int check_parts(const struct sos_image *img, size_t *total, char *err,
                       size_t errlen) {
  if ((!img->definition && img->deflen) || (!img->module && img->modlen)) {
    say(err, errlen, "definition or module is NULL with a non-zero length");
    return SOS_EINVAL;
  }
  if (img->deflen && memchr(img->definition, 0, img->deflen)) {
    say(err, errlen, "the definition contains a NUL byte");
    return SOS_EINVAL;
  }
  if (img->nfiles > SOS_IMAGE_MAX_FILES) {
    say(err, errlen, "%u files, more than the limit of %u", img->nfiles,
        SOS_IMAGE_MAX_FILES);
    return SOS_ETOOBIG;
  }
  *total = HEADER_LEN + 8 + 8 + 4 + TRAILER_LEN;
  if (add_size(total, img->deflen) || add_size(total, img->modlen)) {
    say(err, errlen, "the image would be larger than the 1 GiB limit");
    return SOS_ETOOBIG;
  }
  return 0;
}

/* Sorts the files, checks their paths and adds their encoded size. */
static int check_files(struct sos_image *img, size_t *total, char *err,
                       size_t errlen) {
  if (img->nfiles && !img->files) {
    say(err, errlen, "files is NULL with a non-zero count");
    return SOS_EINVAL;
  }
  for (uint32_t i = 0; i < img->nfiles; i++) {
    const struct sos_image_file *f = &img->files[i];
    const char *why = f->path ? path_problem(f->path, strlen(f->path)) : "path is NULL";
    if (why || (!f->data && f->len)) {
      say(err, errlen, "file \"%s\": %s", f->path ? f->path : "",
          why ? why : "data is NULL with a non-zero length");
      return SOS_EINVAL;
    }
  }
  if (img->nfiles > 1) qsort(img->files, img->nfiles, sizeof *img->files, by_path);
  for (uint32_t i = 0; i < img->nfiles; i++) {
    const struct sos_image_file *f = &img->files[i];
    if (i > 0 && strcmp(f[-1].path, f->path) == 0) {
      say(err, errlen, "file \"%s\" appears twice", f->path);
      return SOS_EINVAL;
    }
    if (add_size(total, 4 + 8) || add_size(total, strlen(f->path)) ||
        add_size(total, f->len)) {
      say(err, errlen, "the image would be larger than the 1 GiB limit");
      return SOS_ETOOBIG;
    }
  }
  return 0;
}

static uint8_t *put_u32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
  return p + 4;
}

static uint8_t *put_u64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
  return p + 8;
}

/* Appends n bytes (p may be NULL when n is 0). */
static uint8_t *put_bytes(uint8_t *out, const void *p, size_t n) {
  if (n) memcpy(out, p, n);
  return out + n;
}

/* Writes the checked image into buf (exactly total bytes). */
static int emit(const struct sos_image *img, uint8_t *buf, size_t total) {
  uint8_t *p = put_bytes(buf, magic, sizeof magic);
  p = put_u32(p, VERSION);
  p = put_bytes(put_u64(p, img->deflen), img->definition, img->deflen);
  p = put_bytes(put_u64(p, img->modlen), img->module, img->modlen);
  p = put_u32(p, img->nfiles);
  for (uint32_t i = 0; i < img->nfiles; i++) {
    const struct sos_image_file *f = &img->files[i];
    size_t n = strlen(f->path);
    p = put_bytes(put_u32(p, (uint32_t)n), f->path, n);
    p = put_bytes(put_u64(p, f->len), f->data, f->len);
  }
  int rc = sha256(buf, (size_t)(p - buf), p);
  if (rc) return rc;
  p = put_bytes(p + HASH_LEN, end_magic, sizeof end_magic);
  assert(p == buf + total); /* check_files counted the same bytes */
  (void)total;
  return 0;
}

/* Encodes img, with the reason for an error in err (see internal.h). */
int sos__image_encode(struct sos_image *img, uint8_t **out, size_t *len,
                      char *err, size_t errlen) {
  *out = NULL;
  *len = 0;
  size_t total;
  int rc = check_parts(img, &total, err, errlen);
  if (!rc) rc = check_files(img, &total, err, errlen);
  if (rc) return rc;
  uint8_t *buf = sos_malloc(total), h[HASH_LEN];
  if (!buf || (rc = emit(img, buf, total)) != 0 || (rc = sha256(buf, total, h)) != 0) {
    sos_free(buf);
    say(err, errlen, "out of memory");
    return buf ? rc : SOS_ENOMEM;
  }
  hex_id(h, img->id);
  *out = buf;
  *len = total;
  return 0;
}

/* Serialises img (see image.h). */
int sos_image_encode(struct sos_image *img, uint8_t **out, size_t *len) {
  return sos__image_encode(img, out, len, NULL, 0);
}

/* ---- decoding ------------------------------------------------------------ */

/* A cursor over the encoded bytes, with the caller's error buffer. */
struct reader {
  const uint8_t *base;
  size_t len, off;
  char *err;
  size_t errlen;
};

/* Reports "WHAT at byte OFF: DETAIL" and returns SOS_EINVAL. */
__attribute__((format(printf, 4, 5))) static int bad(struct reader *r, size_t at,
                                                     const char *what,
                                                     const char *fmt, ...) {
  if (!r->err || !r->errlen) return SOS_EINVAL;
  int n = snprintf(r->err, r->errlen, "%s at byte %zu: ", what, at);
  if (n >= 0 && (size_t)n < r->errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
    va_end(ap);
  }
  return SOS_EINVAL;
}

static size_t left(const struct reader *r) { return r->len - r->off; }

/* The bytes that remain before the trailer's place at the end. */
static size_t room(const struct reader *r) {
  return left(r) > TRAILER_LEN ? left(r) - TRAILER_LEN : 0;
}

/* Reads an n-byte little-endian integer (n is 4 or 8) for what. */
static int get_uint(struct reader *r, unsigned n, const char *what, uint64_t *v) {
  *v = 0;
  if (left(r) < n)
    return bad(r, r->off, what, "its %u-byte length needs %u bytes, %zu remain", n, n,
               left(r));
  for (unsigned i = 0; i < n; i++) *v |= (uint64_t)r->base[r->off + i] << (8 * i);
  r->off += n;
  return 0;
}

/* Reads a length of n bytes, then checks that many bytes remain after it
 * (and room for the trailer); *at is where the bytes start. */
static int get_span(struct reader *r, unsigned n, const char *what, size_t *len,
                    size_t *at) {
  uint64_t v;
  size_t lenpos = r->off;
  int rc = get_uint(r, n, what, &v);
  if (rc) return rc;
  if (v > room(r))
    return bad(r, lenpos, what,
               "length %llu runs past the end: %zu bytes remain before the trailer",
               (unsigned long long)v, room(r));
  *len = (size_t)v;
  *at = r->off;
  r->off += *len;
  return 0;
}

/* A fresh copy of n bytes plus a NUL, or NULL. */
static void *copy(const uint8_t *p, size_t n) {
  return sos_strndup((const char *)p, n);
}

static int read_header(struct reader *r) {
  size_t n = r->len < sizeof magic ? r->len : sizeof magic;
  if (n && memcmp(r->base, magic, n) != 0)
    return bad(r, 0, "bad magic", "this is not a SOS image (expected \"SOSIMAGE\")");
  if (r->len < HEADER_LEN)
    return bad(r, r->len, "truncated header", "it needs %d bytes, the image has %zu",
               HEADER_LEN, r->len);
  uint64_t version;
  r->off = sizeof magic;
  int rc = get_uint(r, 4, "truncated header", &version);
  if (rc) return rc;
  if (version != VERSION)
    return bad(r, 8, "unknown format version",
               "version %llu, but this sos reads version %u",
               (unsigned long long)version, VERSION);
  return 0;
}

static int read_definition(struct reader *r, struct sos_image *img) {
  size_t at;
  int rc = get_span(r, 8, "truncated definition section", &img->deflen, &at);
  if (rc) return rc;
  const uint8_t *nul = memchr(r->base + at, 0, img->deflen);
  if (nul)
    return bad(r, (size_t)(nul - r->base), "bad definition",
               "the text contains a NUL byte");
  img->definition = copy(r->base + at, img->deflen);
  return img->definition ? 0 : SOS_ENOMEM;
}

static int read_module(struct reader *r, struct sos_image *img) {
  size_t at;
  int rc = get_span(r, 8, "truncated module section", &img->modlen, &at);
  if (rc) return rc;
  img->module = copy(r->base + at, img->modlen);
  return img->module ? 0 : SOS_ENOMEM;
}

/* Reads file number i (0-based) into img->files[i]. */
static int read_file(struct reader *r, struct sos_image *img, uint32_t i) {
  struct sos_image_file *f = &img->files[i];
  size_t plen, pat, dat;
  int rc = get_span(r, 4, "truncated file section", &plen, &pat);
  if (rc) return rc;
  const char *path = (const char *)r->base + pat, *why = path_problem(path, plen);
  if (why) return bad(r, pat, "bad file path", "file %u: %s", i + 1, why);
  if (i > 0) {
    const char *prev = img->files[i - 1].path;
    size_t pn = strlen(prev);
    int c = memcmp(prev, path, pn < plen ? pn : plen);
    if (c > 0 || (c == 0 && pn >= plen))
      return bad(r, pat, c == 0 && pn == plen ? "duplicate file" : "unsorted files",
                 "file %u \"%.*s\" does not sort after \"%s\"", i + 1, (int)plen, path,
                 prev);
  }
  if ((rc = get_span(r, 8, "truncated file section", &f->len, &dat)) != 0) return rc;
  f->path = copy(r->base + pat, plen);
  f->data = copy(r->base + dat, f->len);
  return f->path && f->data ? 0 : SOS_ENOMEM;
}

static int read_files(struct reader *r, struct sos_image *img) {
  uint64_t n;
  size_t at = r->off;
  int rc = get_uint(r, 4, "truncated file section", &n);
  if (rc) return rc;
  if (n > SOS_IMAGE_MAX_FILES)
    return bad(r, at, "too many files", "%llu, more than the limit of %u",
               (unsigned long long)n, SOS_IMAGE_MAX_FILES);
  if (n > room(r) / MIN_FILE_LEN)
    return bad(r, at, "truncated file section",
               "%llu files cannot fit in the %zu bytes before the trailer",
               (unsigned long long)n, room(r));
  img->files = sos_calloc((size_t)n, sizeof *img->files);
  if (!img->files) return SOS_ENOMEM;
  img->nfiles = (uint32_t)n;
  for (uint32_t i = 0; i < img->nfiles; i++)
    if ((rc = read_file(r, img, i)) != 0) return rc;
  return 0;
}

/* Checks the trailer: its place, the end marker and the checksum. */
static int read_trailer(struct reader *r) {
  if (left(r) < TRAILER_LEN)
    return bad(r, r->off, "truncated trailer", "it needs %u bytes, %zu remain",
               (unsigned)TRAILER_LEN, left(r));
  if (left(r) > TRAILER_LEN)
    return bad(r, r->off + TRAILER_LEN, "trailing garbage",
               "%zu bytes after the end marker", left(r) - TRAILER_LEN);
  if (memcmp(r->base + r->off + HASH_LEN, end_magic, sizeof end_magic) != 0)
    return bad(r, r->off + HASH_LEN, "bad end marker", "expected \"SOSIMEND\"");
  uint8_t h[HASH_LEN];
  int rc = sha256(r->base, r->off, h);
  if (rc) return rc;
  if (memcmp(h, r->base + r->off, HASH_LEN) != 0)
    return bad(r, r->off, "sha-256 mismatch",
               "the image is damaged or was altered (the checksum of bytes 0 to %zu "
               "does not match)", r->off - 1);
  return 0;
}

/* Sets img->id from the whole file and compares it with expect_id. */
static int check_id(struct reader *r, struct sos_image *img, const char *expect_id) {
  uint8_t h[HASH_LEN];
  int rc = sha256(r->base, r->len, h);
  if (rc) return rc;
  hex_id(h, img->id);
  if (expect_id && strcmp(img->id, expect_id) != 0) {
    say(r->err, r->errlen,
        "sha-256 mismatch: the image is damaged or was altered (expected %s, "
        "its hash is %s)", expect_id, img->id);
    return SOS_EINVAL;
  }
  return 0;
}

static int decode_into(struct reader *r, struct sos_image *img, const char *expect_id) {
  int rc = read_header(r);
  if (!rc) rc = read_definition(r, img);
  if (!rc) rc = read_module(r, img);
  if (!rc) rc = read_files(r, img);
  if (!rc) rc = read_trailer(r);
  if (!rc) rc = check_id(r, img, expect_id);
  return rc;
}

/* Parses and verifies an encoded image (see image.h). */
int sos_image_decode(const uint8_t *bytes, size_t len, const char *expect_id,
                     struct sos_image **out, char *err, size_t errlen) {
  struct reader r = {bytes, len, 0, err, errlen};
  *out = NULL;
  if (expect_id && !sos__image_is_id(expect_id)) {
    say(err, errlen, "expected id \"%.80s\" is not 64 lowercase hex digits", expect_id);
    return SOS_EINVAL;
  }
  if (len > SOS_IMAGE_MAX_BYTES)
    return bad(&r, SOS_IMAGE_MAX_BYTES, "image too large",
               "%zu bytes, more than the 1 GiB limit", len);
  struct sos_image *img = sos_calloc(1, sizeof *img);
  int rc = img ? decode_into(&r, img, expect_id) : SOS_ENOMEM;
  if (rc) {
    if (rc == SOS_ENOMEM) say(err, errlen, "out of memory");
    sos_image_free(img);
    return rc;
  }
  *out = img;
  return 0;
}

/* ---- access -------------------------------------------------------------- */

/* The file at path, by binary search over the sorted files. */
const struct sos_image_file *sos_image_file(const struct sos_image *img,
                                            const char *path) {
  size_t lo = 0, hi = img->nfiles;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(img->files[mid].path, path);
    if (c == 0) return &img->files[mid];
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return NULL;
}

/* Frees an image and everything it owns. */
void sos_image_free(struct sos_image *img) {
  if (!img) return;
  for (uint32_t i = 0; img->files && i < img->nfiles; i++) {
    sos_free(img->files[i].path);
    sos_free(img->files[i].data);
  }
  sos_free(img->files);
  sos_free(img->definition);
  sos_free(img->module);
  sos_free(img);
}

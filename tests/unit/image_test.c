/*
 * image_test.c - app images (src/image): the encoding byte by byte, round
 * trips, every rejection of the decoder with its reason and byte offset,
 * tampering (every byte of a small image flipped) and truncation (every
 * length), each allocation failing in turn, and writing and reading image
 * files in a fresh folder.
 *
 * Malformed images are built by hand with struct raw, which appends the
 * trailer (checksum and end marker) itself, so each one breaks exactly
 * one rule and the test can check that the decoder names that rule.
 */
#include "sos/base.h"
#include "sos/image.h"
#include "test.h"

#include <dirent.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers -------------------------------------------------------------- */

static char def_text[] = "app hello 1.0.0 {\n  module \"hello.wasm\"\n}\n";
static uint8_t mod_bytes[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};

/* A sample image whose files are given out of order, one of them empty. */
struct sample {
  struct sos_image img;
  struct sos_image_file files[3];
};

static void sample_init(struct sample *s) {
  memset(s, 0, sizeof *s);
  s->files[0] = (struct sos_image_file){(char *)"static/index.html", (uint8_t *)"<h1>hi</h1>", 11};
  s->files[1] = (struct sos_image_file){(char *)"a.txt", (uint8_t *)"a\0b", 3};
  s->files[2] = (struct sos_image_file){(char *)"static/empty", NULL, 0};
  s->img.definition = def_text;
  s->img.deflen = strlen(def_text);
  s->img.module = mod_bytes;
  s->img.modlen = sizeof mod_bytes;
  s->img.files = s->files;
  s->img.nfiles = 3;
}

/* Encodes the sample image; the caller frees *out. */
static int encode_sample(uint8_t **out, size_t *len, char id[SOS_IMAGE_ID_LEN + 1]) {
  struct sample s;
  sample_init(&s);
  int rc = sos_image_encode(&s.img, out, len);
  if (id) memcpy(id, s.img.id, sizeof s.img.id);
  return rc;
}

/* The hex sha-256 of n bytes, computed here independently of image.c. */
static void hex_sha256(const uint8_t *p, size_t n, char out[SOS_IMAGE_ID_LEN + 1]) {
  uint8_t h[32];
  unsigned int hl = 0;
  EVP_Digest(p, n, h, &hl, EVP_sha256(), NULL);
  for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* A hand-built image: raw_* append fields, raw_finish the trailer. */
struct raw {
  uint8_t b[4096];
  size_t n;
};

static void raw_bytes(struct raw *r, const void *p, size_t n) {
  memcpy(r->b + r->n, p, n);
  r->n += n;
}

static void raw_u32(struct raw *r, uint32_t v) {
  for (int i = 0; i < 4; i++) r->b[r->n++] = (uint8_t)(v >> (8 * i));
}

static void raw_u64(struct raw *r, uint64_t v) {
  for (int i = 0; i < 8; i++) r->b[r->n++] = (uint8_t)(v >> (8 * i));
}

/* Appends a length-prefixed string (u32 or u64 prefix). */
static void raw_str32(struct raw *r, const char *s) {
  raw_u32(r, (uint32_t)strlen(s));
  raw_bytes(r, s, strlen(s));
}

static void raw_str64(struct raw *r, const char *s) {
  raw_u64(r, strlen(s));
  raw_bytes(r, s, strlen(s));
}

/* Header, definition "d" and module "m": the start of most raw images. */
static void raw_start(struct raw *r) {
  r->n = 0;
  raw_bytes(r, "SOSIMAGE", 8);
  raw_u32(r, 1);
  raw_str64(r, "d");
  raw_str64(r, "m");
}

static void raw_finish(struct raw *r) {
  uint8_t h[32];
  unsigned int hl = 0;
  EVP_Digest(r->b, r->n, h, &hl, EVP_sha256(), NULL);
  raw_bytes(r, h, 32);
  raw_bytes(r, "SOSIMEND", 8);
}

/* Decodes r and returns the error message ("" on success). */
static const char *raw_error(const struct raw *r, int *rc) {
  static char err[512];
  struct sos_image *img = NULL;
  err[0] = '\0';
  *rc = sos_image_decode(r->b, r->n, NULL, &img, err, sizeof err);
  sos_image_free(img);
  return err;
}

/* Checks that decoding r fails with SOS_EINVAL and a message that
 * contains want. */
#define CHECK_REJECTS(r, want)                                                \
  do {                                                                        \
    int rc_;                                                                  \
    const char *e_ = raw_error(r, &rc_);                                      \
    CHECK_EQ(rc_, SOS_EINVAL);                                                \
    if (!strstr(e_, want)) {                                                  \
      char m_[700];                                                           \
      snprintf(m_, sizeof m_, "message \"%s\" contains \"%s\"", e_, want);    \
      sos_test_fail(__FILE__, __LINE__, m_);                                  \
    }                                                                         \
  } while (0)

/* ---- encoding --------------------------------------------------------------- */

TEST(image_encoding_is_the_documented_layout) {
  struct sos_image_file f = {(char *)"x", (uint8_t *)"yz", 2};
  struct sos_image img = {.definition = (char *)"ab", .deflen = 2,
                          .module = (uint8_t *)"m", .modlen = 1,
                          .files = &f, .nfiles = 1};
  uint8_t *out;
  size_t len;
  REQUIRE(sos_image_encode(&img, &out, &len) == 0);
  struct raw want = {.n = 0};
  raw_bytes(&want, "SOSIMAGE\1\0\0\0", 12);
  raw_bytes(&want, "\2\0\0\0\0\0\0\0ab", 10);
  raw_bytes(&want, "\1\0\0\0\0\0\0\0m", 9);
  raw_bytes(&want, "\1\0\0\0", 4);
  raw_bytes(&want, "\1\0\0\0x\2\0\0\0\0\0\0\0yz", 15);
  raw_finish(&want);
  CHECK_EQ(len, 12 + 10 + 9 + 4 + 15 + 40);
  CHECK(len == want.n && memcmp(out, want.b, len) == 0);
  char id[SOS_IMAGE_ID_LEN + 1];
  hex_sha256(out, len, id);
  CHECK_STR(img.id, id); /* the id is the hash of the whole file */
  sos_free(out);
}

TEST(image_round_trip) {
  struct sample s;
  sample_init(&s);
  uint8_t *out;
  size_t len;
  REQUIRE(sos_image_encode(&s.img, &out, &len) == 0);
  CHECK_STR(s.files[0].path, "a.txt"); /* sorted in place */
  CHECK_STR(s.files[2].path, "static/index.html");
  char err[256] = "";
  struct sos_image *img;
  REQUIRE(sos_image_decode(out, len, s.img.id, &img, err, sizeof err) == 0);
  CHECK_STR(img->id, s.img.id);
  CHECK_STR(img->definition, def_text);
  CHECK_EQ(img->deflen, strlen(def_text));
  CHECK(img->modlen == sizeof mod_bytes && memcmp(img->module, mod_bytes, img->modlen) == 0);
  REQUIRE(img->nfiles == 3);
  for (uint32_t i = 0; i < 3; i++) {
    CHECK_STR(img->files[i].path, s.files[i].path);
    CHECK_EQ(img->files[i].len, s.files[i].len);
    CHECK(img->files[i].len == 0 ||
          memcmp(img->files[i].data, s.files[i].data, img->files[i].len) == 0);
  }
  const struct sos_image_file *f = sos_image_file(img, "a.txt");
  CHECK(f && f->len == 3 && memcmp(f->data, "a\0b", 3) == 0);
  CHECK(sos_image_file(img, "static/empty") == &img->files[1]);
  CHECK(sos_image_file(img, "static") == NULL);
  CHECK(sos_image_file(img, "zzz") == NULL);
  uint8_t *again; /* the encoding is canonical: same bytes, same id */
  size_t len2;
  REQUIRE(sos_image_encode(img, &again, &len2) == 0);
  CHECK(len2 == len && memcmp(again, out, len) == 0);
  CHECK_STR(img->id, s.img.id);
  sos_free(again);
  sos_free(out);
  sos_image_free(img);
  sos_image_free(NULL);
}

TEST(image_empty_parts_round_trip) {
  struct sos_image img = {0};
  uint8_t *out;
  size_t len;
  REQUIRE(sos_image_encode(&img, &out, &len) == 0);
  CHECK_EQ(len, 12 + 8 + 8 + 4 + 40);
  struct sos_image *back;
  char err[256];
  REQUIRE(sos_image_decode(out, len, NULL, &back, err, sizeof err) == 0);
  CHECK_STR(back->definition, "");
  CHECK_EQ(back->modlen, 0);
  CHECK_EQ(back->nfiles, 0);
  CHECK(sos_image_file(back, "a") == NULL);
  sos_free(out);
  sos_image_free(back);
}

TEST(image_different_content_different_id) {
  char id1[SOS_IMAGE_ID_LEN + 1];
  uint8_t *out;
  size_t len;
  REQUIRE(encode_sample(&out, &len, id1) == 0);
  sos_free(out);
  struct sample s;
  sample_init(&s);
  s.files[1].data = (uint8_t *)"a\0c";
  REQUIRE(sos_image_encode(&s.img, &out, &len) == 0);
  CHECK(strcmp(s.img.id, id1) != 0);
  CHECK_EQ(strspn(s.img.id, "0123456789abcdef"), SOS_IMAGE_ID_LEN);
  sos_free(out);
}

/* Encodes the sample with file 0's path replaced; returns the status. */
static int encode_with_path(const char *path) {
  struct sample s;
  sample_init(&s);
  s.files[0].path = (char *)path;
  uint8_t *out = (uint8_t *)"x";
  size_t len;
  int rc = sos_image_encode(&s.img, &out, &len);
  if (rc == 0) sos_free(out);
  else if (out != NULL) return 99; /* *out must be NULL on failure */
  return rc;
}

TEST(image_encode_rejects_bad_input) {
  CHECK_EQ(encode_with_path("a.txt"), SOS_EINVAL); /* a duplicate */
  CHECK_EQ(encode_with_path("/etc/passwd"), SOS_EINVAL);
  CHECK_EQ(encode_with_path("a/../b"), SOS_EINVAL);
  CHECK_EQ(encode_with_path(""), SOS_EINVAL);
  CHECK_EQ(encode_with_path("b"), 0);
  struct sample s;
  sample_init(&s);
  uint8_t *out;
  size_t len;
  s.img.definition = (char *)"a\0b";
  s.img.deflen = 3;
  CHECK_EQ(sos_image_encode(&s.img, &out, &len), SOS_EINVAL);
  sample_init(&s);
  s.files[1].data = NULL; /* with len 3 */
  CHECK_EQ(sos_image_encode(&s.img, &out, &len), SOS_EINVAL);
  sample_init(&s);
  s.img.module = NULL;
  CHECK_EQ(sos_image_encode(&s.img, &out, &len), SOS_EINVAL);
  sample_init(&s);
  s.img.nfiles = SOS_IMAGE_MAX_FILES + 1; /* refused before files is read */
  CHECK_EQ(sos_image_encode(&s.img, &out, &len), SOS_ETOOBIG);
  sample_init(&s);
  s.img.modlen = SOS_IMAGE_MAX_BYTES; /* never read: the size is refused */
  CHECK_EQ(sos_image_encode(&s.img, &out, &len), SOS_ETOOBIG);
}

TEST(image_path_check_reasons) {
  static const struct {
    const char *path, *why;
  } cases[] = {
      {"index.html", NULL},
      {"static/css/site.css", NULL},
      {".hidden/..x/x..", NULL},
      {"", "path is empty"},
      {"/abs", "path is absolute"},
      {"a//b", "path has an empty part"},
      {"a/", "path has an empty part"},
      {"./a", "path has a \".\" part"},
      {"a/.", "path has a \".\" part"},
      {"..", "path has a \"..\" part"},
      {"a/../b", "path has a \"..\" part"},
      {"a\\b", "path contains a backslash"},
      {"a\nb", "path contains a control character"},
      {"a\x7f", "path contains a control character"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char err[128] = "";
    int rc = sos_image_path_check(cases[i].path, err, sizeof err);
    CHECK_EQ(rc, cases[i].why ? SOS_EINVAL : 0);
    if (cases[i].why) CHECK_STR(err, cases[i].why);
  }
  char longp[SOS_IMAGE_MAX_PATH + 2];
  memset(longp, 'a', sizeof longp - 1);
  longp[SOS_IMAGE_MAX_PATH + 1] = '\0';
  char err[128];
  CHECK_EQ(sos_image_path_check(longp, err, sizeof err), SOS_EINVAL);
  CHECK_STR(err, "path is longer than 1024 bytes");
  longp[SOS_IMAGE_MAX_PATH] = '\0';
  CHECK_EQ(sos_image_path_check(longp, err, sizeof err), 0);
}

/* ---- decoding: one test per rule ------------------------------------------ */

TEST(image_decode_accepts_a_raw_image) {
  struct raw r;
  raw_start(&r);
  raw_u32(&r, 2);
  raw_str32(&r, "a");
  raw_str64(&r, "1");
  raw_str32(&r, "a0");
  raw_str64(&r, "22");
  raw_finish(&r);
  int rc;
  CHECK_STR(raw_error(&r, &rc), "");
  CHECK_EQ(rc, 0);
}

TEST(image_decode_rejects_bad_header) {
  struct raw r = {.n = 0};
  raw_bytes(&r, "SOSIMAGX\1\0\0\0", 12);
  CHECK_REJECTS(&r, "bad magic at byte 0");
  r.n = 0;
  raw_bytes(&r, "SOSIMAGE\2\0\0\0", 12);
  CHECK_REJECTS(&r, "unknown format version at byte 8: version 2");
  r.n = 10;
  CHECK_REJECTS(&r, "truncated header at byte 10");
  r.n = 0;
  CHECK_REJECTS(&r, "truncated header at byte 0");
  raw_bytes(&r, "ELF", 3);
  CHECK_REJECTS(&r, "bad magic at byte 0");
}

TEST(image_decode_rejects_lengths_past_the_end) {
  struct raw r = {.n = 0};
  raw_bytes(&r, "SOSIMAGE\1\0\0\0", 12);
  raw_u64(&r, 1000);
  raw_bytes(&r, "d", 1);
  raw_finish(&r);
  CHECK_REJECTS(&r, "truncated definition section at byte 12: length 1000 runs past the end");
  r.n = 0;
  raw_bytes(&r, "SOSIMAGE\1\0\0\0", 12);
  raw_u64(&r, UINT64_MAX); /* no overflow in the bounds check */
  raw_finish(&r);
  CHECK_REJECTS(&r, "truncated definition section at byte 12");
  r.n = 0;
  raw_bytes(&r, "SOSIMAGE\1\0\0\0", 12);
  raw_str64(&r, "d");
  raw_u64(&r, 41); /* the module would eat the trailer */
  raw_finish(&r);
  CHECK_REJECTS(&r, "truncated module section at byte 21");
  raw_start(&r);
  raw_u32(&r, 1);
  raw_u32(&r, 500);
  raw_bytes(&r, "ppppppppppppp", 13); /* room for one file, not for 500 bytes */
  raw_finish(&r);
  CHECK_REJECTS(&r, "truncated file section at byte 34");
  raw_start(&r);
  raw_u32(&r, 1);
  raw_str32(&r, "p");
  raw_u64(&r, 7);
  raw_finish(&r);
  CHECK_REJECTS(&r, "truncated file section at byte 39");
}

TEST(image_decode_rejects_file_counts) {
  struct raw r;
  raw_start(&r);
  raw_u32(&r, SOS_IMAGE_MAX_FILES + 1);
  raw_finish(&r);
  CHECK_REJECTS(&r, "too many files at byte 30: 100001");
  raw_start(&r);
  raw_u32(&r, 3); /* fewer bytes than three files need */
  raw_str32(&r, "a");
  raw_u64(&r, 0);
  raw_finish(&r);
  CHECK_REJECTS(&r, "truncated file section at byte 30: 3 files cannot fit");
}

/* A raw image with one file of the given path (n bytes). */
static void raw_one_file(struct raw *r, const char *path, size_t n) {
  raw_start(r);
  raw_u32(r, 1);
  raw_u32(r, (uint32_t)n);
  raw_bytes(r, path, n);
  raw_u64(r, 0);
  raw_finish(r);
}

TEST(image_decode_rejects_bad_paths) {
  static const struct {
    const char *path;
    size_t n;
    const char *why;
  } cases[] = {
      {"/abs", 4, "bad file path at byte 38: file 1: path is absolute"},
      {"a/../b", 6, "path has a \"..\" part"},
      {"a/./b", 5, "path has a \".\" part"},
      {"a//b", 4, "path has an empty part"},
      {"a\\b", 3, "path contains a backslash"},
      {"a\0b", 3, "path contains a NUL byte"},
      {"", 0, "path is empty"},
  };
  struct raw r;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    raw_one_file(&r, cases[i].path, cases[i].n);
    CHECK_REJECTS(&r, cases[i].why);
  }
  char longp[SOS_IMAGE_MAX_PATH + 1];
  memset(longp, 'a', sizeof longp);
  raw_one_file(&r, longp, sizeof longp);
  CHECK_REJECTS(&r, "path is longer than 1024 bytes");
}

/* A raw image with two empty files, a then b. */
static void raw_two_files(struct raw *r, const char *a, const char *b) {
  raw_start(r);
  raw_u32(r, 2);
  raw_str32(r, a);
  raw_u64(r, 0);
  raw_str32(r, b);
  raw_u64(r, 0);
  raw_finish(r);
}

TEST(image_decode_rejects_unsorted_and_duplicate_files) {
  struct raw r;
  raw_two_files(&r, "b", "a");
  CHECK_REJECTS(&r, "unsorted files at byte 51: file 2 \"a\" does not sort after \"b\"");
  raw_two_files(&r, "ab", "a"); /* a prefix sorts first */
  CHECK_REJECTS(&r, "unsorted files");
  raw_two_files(&r, "a", "a");
  CHECK_REJECTS(&r, "duplicate file at byte 51");
  raw_two_files(&r, "a", "ab");
  int rc;
  raw_error(&r, &rc);
  CHECK_EQ(rc, 0);
  raw_two_files(&r, "Z", "a"); /* bytewise: 'Z' < 'a' */
  raw_error(&r, &rc);
  CHECK_EQ(rc, 0);
}

TEST(image_decode_rejects_a_nul_in_the_definition) {
  struct raw r = {.n = 0};
  raw_bytes(&r, "SOSIMAGE\1\0\0\0", 12);
  raw_u64(&r, 3);
  raw_bytes(&r, "a\0b", 3);
  raw_str64(&r, "m");
  raw_u32(&r, 0);
  raw_finish(&r);
  CHECK_REJECTS(&r, "bad definition at byte 21");
}

TEST(image_decode_rejects_bad_trailers) {
  struct raw r;
  raw_start(&r);
  raw_u32(&r, 0);
  raw_finish(&r);
  size_t body = r.n - 40;
  r.b[r.n++] = 0;
  CHECK_REJECTS(&r, "trailing garbage at byte 74: 1 bytes after the end marker");
  r.n -= 2;
  CHECK_REJECTS(&r, "truncated trailer at byte 34: it needs 40 bytes, 39 remain");
  r.n += 1;
  r.b[r.n - 1] = 'd';
  CHECK_REJECTS(&r, "bad end marker at byte 66");
  r.b[r.n - 1] = 'D';
  r.b[body] ^= 1;
  CHECK_REJECTS(&r, "sha-256 mismatch at byte 34: the image is damaged or was altered");
  r.b[body] ^= 1;
  r.b[29] = 'M'; /* the module's byte: the structure holds, the hash does not */
  CHECK_REJECTS(&r, "sha-256 mismatch");
}

TEST(image_decode_checks_the_expected_id) {
  uint8_t *out;
  size_t len;
  char id[SOS_IMAGE_ID_LEN + 1], err[512];
  REQUIRE(encode_sample(&out, &len, id) == 0);
  struct sos_image *img = (struct sos_image *)1;
  char other[SOS_IMAGE_ID_LEN + 1];
  memcpy(other, id, sizeof other);
  other[5] = other[5] == '0' ? '1' : '0';
  CHECK_EQ(sos_image_decode(out, len, other, &img, err, sizeof err), SOS_EINVAL);
  CHECK(img == NULL);
  CHECK(strncmp(err, "sha-256 mismatch: the image is damaged or was altered", 53) == 0);
  CHECK(strstr(err, other) && strstr(err, id));
  char upper[SOS_IMAGE_ID_LEN + 1];
  for (int i = 0; i <= SOS_IMAGE_ID_LEN; i++) upper[i] = (char)(id[i] >= 'a' ? id[i] - 32 : id[i]);
  CHECK_EQ(sos_image_decode(out, len, upper, &img, err, sizeof err), SOS_EINVAL);
  CHECK(strstr(err, "is not 64 lowercase hex digits") != NULL);
  CHECK_EQ(sos_image_decode(out, len, "abc", &img, err, sizeof err), SOS_EINVAL);
  CHECK_EQ(sos_image_decode(out, len, id, &img, err, sizeof err), 0);
  sos_image_free(img);
  sos_free(out);
}

TEST(image_decode_rejects_oversized_input) {
  uint8_t small[16] = "SOSIMAGE";
  struct sos_image *img;
  char err[256];
  /* refused on its length alone: the bytes past 16 are never read */
  CHECK_EQ(sos_image_decode(small, SOS_IMAGE_MAX_BYTES + 1, NULL, &img, err, sizeof err),
           SOS_EINVAL);
  CHECK(strncmp(err, "image too large", 15) == 0);
}

/* ---- tampering, truncation, allocation ------------------------------------ */

TEST(image_every_flipped_byte_is_rejected) {
  uint8_t *out;
  size_t len;
  char id[SOS_IMAGE_ID_LEN + 1], err[512];
  REQUIRE(encode_sample(&out, &len, id) == 0);
  int missed = 0;
  for (size_t i = 0; i < len; i++) {
    for (int mask = 1; mask <= 0x80; mask <<= 1) {
      out[i] ^= (uint8_t)mask;
      struct sos_image *img = NULL;
      int rc1 = sos_image_decode(out, len, NULL, &img, err, sizeof err);
      sos_image_free(img);
      int rc2 = sos_image_decode(out, len, id, &img, err, sizeof err);
      sos_image_free(img);
      if (rc1 != SOS_EINVAL || rc2 != SOS_EINVAL || !err[0]) missed++;
      out[i] ^= (uint8_t)mask;
    }
  }
  CHECK_EQ(missed, 0);
  sos_free(out);
}

TEST(image_every_truncation_is_rejected) {
  uint8_t *out;
  size_t len;
  char err[512];
  REQUIRE(encode_sample(&out, &len, NULL) == 0);
  int missed = 0;
  for (size_t n = 0; n < len; n++) {
    uint8_t *cut = malloc(n ? n : 1); /* exact size: ASan sees any over-read */
    memcpy(cut, out, n);
    struct sos_image *img = NULL;
    err[0] = '\0';
    if (sos_image_decode(cut, n, NULL, &img, err, sizeof err) != SOS_EINVAL || !err[0])
      missed++;
    sos_image_free(img);
    free(cut);
  }
  CHECK_EQ(missed, 0);
  sos_free(out);
}

TEST(image_unwinds_every_allocation_failure) {
  uint8_t *out;
  size_t len;
  REQUIRE(encode_sample(&out, &len, NULL) == 0);
  int failures = 0, rc = SOS_ENOMEM;
  for (uint64_t n = 1; rc == SOS_ENOMEM && n < 100; n++) {
    struct sos_image *img = (struct sos_image *)1;
    char err[256] = "";
    sos_alloc_fail_at(n);
    rc = sos_image_decode(out, len, NULL, &img, err, sizeof err);
    sos_alloc_fail_at(0);
    if (rc == SOS_ENOMEM) {
      CHECK(img == NULL);
      CHECK_STR(err, "out of memory");
      failures++;
    }
    sos_image_free(img == (struct sos_image *)1 ? NULL : img);
  }
  CHECK_EQ(rc, 0);
  CHECK_EQ(failures, 10); /* struct, definition, module, array, 3 x (path, data) */
  sos_alloc_fail_at(1);
  struct sample s;
  sample_init(&s);
  uint8_t *again = (uint8_t *)"x";
  rc = sos_image_encode(&s.img, &again, &len);
  sos_alloc_fail_at(0);
  CHECK_EQ(rc, SOS_ENOMEM);
  CHECK(again == NULL);
  sos_free(out);
}

/* ---- files on disk ----------------------------------------------------------- */

/* Counts the entries of dir other than . and .. */
static int count_entries(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
  closedir(d);
  return n;
}

/* Writes n bytes to path. */
static int put_file(const char *path, const uint8_t *p, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t put = fwrite(p, 1, n, f);
  return fclose(f) == 0 && put == n ? 0 : -1;
}

TEST(image_write_and_read_files) {
  char dir[] = "/tmp/sos_image_XXXXXX", sub[128], path[256], err[512];
  REQUIRE(mkdtemp(dir) != NULL);
  snprintf(sub, sizeof sub, "%s/out/images/", dir); /* missing, with a slash */
  struct sample s;
  sample_init(&s);
  REQUIRE(sos_image_write(&s.img, sub, path, sizeof path, err, sizeof err) == 0);
  char want[256];
  snprintf(want, sizeof want, "%s/out/images/%s.sosimg", dir, s.img.id);
  CHECK(strcmp(path, want) == 0);
  snprintf(sub, sizeof sub, "%s/out/images", dir);
  CHECK_EQ(count_entries(sub), 1); /* no temporary file left behind */
  struct stat st;
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
  struct sos_image *img;
  REQUIRE(sos_image_read(path, &img, err, sizeof err) == 0);
  CHECK_STR(img->id, s.img.id);
  CHECK_STR(img->definition, def_text);
  CHECK_EQ(img->nfiles, 3);
  sos_image_free(img);
  REQUIRE(sos_image_write(&s.img, sub, path, sizeof path, err, sizeof err) == 0);
  CHECK_EQ(count_entries(sub), 1); /* written again, same name */
  char shortp[20];
  CHECK_EQ(sos_image_write(&s.img, sub, shortp, sizeof shortp, err, sizeof err), SOS_EINVAL);
  CHECK(strstr(err, "longer than 20 bytes") != NULL);
  uint8_t *bytes;
  size_t len;
  REQUIRE(sos_file_read(path, &bytes, &len) == 0);
  /* the same bytes under another id's name: the name does not match */
  char wrong[256], plain[256];
  snprintf(wrong, sizeof wrong, "%s/%064d.sosimg", dir, 0);
  snprintf(plain, sizeof plain, "%s/copy.sosimg", dir);
  REQUIRE(put_file(wrong, bytes, len) == 0 && put_file(plain, bytes, len) == 0);
  CHECK_EQ(sos_image_read(wrong, &img, err, sizeof err), SOS_EINVAL);
  CHECK(strstr(err, wrong) == err && strstr(err, ": sha-256 mismatch: ") != NULL);
  REQUIRE(sos_image_read(plain, &img, err, sizeof err) == 0); /* no id in the name */
  CHECK_STR(img->id, s.img.id);
  sos_image_free(img);
  bytes[20] ^= 4; /* damaged on disk */
  REQUIRE(put_file(path, bytes, len) == 0);
  CHECK_EQ(sos_image_read(path, &img, err, sizeof err), SOS_EINVAL);
  CHECK(strstr(err, "sha-256 mismatch") != NULL);
  sos_free(bytes);
  unlink(path);
  CHECK_EQ(sos_image_read(path, &img, err, sizeof err), SOS_ENOENT);
  CHECK(strstr(err, "cannot open ") == err && strstr(err, "No such file") != NULL);
  CHECK_EQ(sos_image_read(dir, &img, err, sizeof err), SOS_EIO);
  /* a file where the folder should be */
  snprintf(sub, sizeof sub, "%s/copy.sosimg/x", dir);
  CHECK_EQ(sos_image_write(&s.img, sub, path, sizeof path, err, sizeof err), SOS_EIO);
  CHECK(strstr(err, "cannot create folder ") == err);
  unlink(wrong);
  unlink(plain);
  snprintf(sub, sizeof sub, "rm -rf %s", dir);
  CHECK(system(sub) == 0);
}

TEST(image_write_reports_a_bad_image) {
  char dir[] = "/tmp/sos_image_XXXXXX", path[256], err[256];
  REQUIRE(mkdtemp(dir) != NULL);
  struct sample s;
  sample_init(&s);
  s.files[2].path = (char *)"static/../../etc";
  CHECK_EQ(sos_image_write(&s.img, dir, path, sizeof path, err, sizeof err), SOS_EINVAL);
  CHECK_STR(err, "file \"static/../../etc\": path has a \"..\" part");
  CHECK_EQ(count_entries(dir), 0);
  sample_init(&s);
  for (uint64_t n = 1; n < 3; n++) { /* the encoding's buffer, then nothing */
    sos_alloc_fail_at(n);
    int rc = sos_image_write(&s.img, dir, path, sizeof path, err, sizeof err);
    sos_alloc_fail_at(0);
    CHECK_EQ(rc, n == 1 ? SOS_ENOMEM : 0);
  }
  CHECK_EQ(count_entries(dir), 1);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK(system(cmd) == 0);
}

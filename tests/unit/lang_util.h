/*
 * lang_util.h - helpers shared by the two unit tests of the SOS language
 * (src/lang): app_test.c (app definitions) and lang_idl_test.c (the IDL
 * part).  Both include it.
 *
 * Parsing and formatting work on text named "app.sos"; the helpers print
 * what went wrong to stderr and leave the verdict to CHECK.  Loading works
 * on real files under one temporary folder a test makes with make_root
 * and removes with remove_root: put writes a file there (making its
 * folders), at turns a relative path into a full one, and in the messages
 * load_fails expects every "@" stands for that folder.  The allocation
 * sweep fails each allocation of an operation in turn.  Everything here is
 * static inline (tmp_root static) so that each test file has its own copy
 * and takes only what it uses.
 */
#ifndef SOS_LANG_UTIL_H
#define SOS_LANG_UTIL_H

#include "lang/lang.h"
#include "test.h"

#include <ftw.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- parsing, printing, formatting ---------------------------------------------- */

/* Parses text as "app.sos"; NULL (with the message printed) on error. */
static inline struct sos_app *parse(const char *text) {
  struct sos_app *app = NULL;
  char err[512];
  int rc = sos_app_parse(text, strlen(text), "app.sos", &app, err, sizeof err);
  if (rc) fprintf(stderr, "  unexpected error %d: %s\n", rc, err);
  return app;
}

/* Whether parsing text fails with SOS_EINVAL and exactly the message want
 * (which starts after "app.sos:"). */
static inline bool parse_fails(const char *text, const char *want) {
  struct sos_app *app = (struct sos_app *)1;
  char err[512] = "", full[512];
  int rc = sos_app_parse(text, strlen(text), "app.sos", &app, err, sizeof err);
  snprintf(full, sizeof full, "app.sos:%s", want);
  bool ok = rc == SOS_EINVAL && app == NULL && strcmp(err, full) == 0;
  if (!ok) fprintf(stderr, "  got %d \"%s\"\n  want \"%s\"\n", rc, err, full);
  if (rc == 0) sos_app_free(app);
  return ok;
}

#define FAILS(text, want) CHECK(parse_fails(text, want))

/* A definition with a module around body, which starts on line 3. */
#define WRAP(body) "app x 1.0.0 {\n  module \"x.wasm\"\n" body "}\n"

/* Whether got equals want; prints both in full when not (CHECK_STR cuts
 * long texts). */
static inline bool same_text(const char *got, const char *want) {
  if (got && want && strcmp(got, want) == 0) return true;
  fprintf(stderr, "  got:\n%s\n  want:\n%s\n", got ? got : "(null)",
          want ? want : "(null)");
  return false;
}

/* app's canonical text, freed with sos_free (NULL on error). */
static inline char *print(const struct sos_app *app) {
  char *out = NULL;
  size_t len;
  if (!app || sos_app_print(app, &out, &len) != 0) return NULL;
  CHECK_EQ(len, strlen(out));
  return out;
}

/* Formats text; the result is freed with sos_free (NULL on error). */
static inline char *fmt(const char *text) {
  char *out = NULL, err[512];
  size_t len;
  int rc = sos_app_fmt(text, strlen(text), "app.sos", &out, &len, err, sizeof err);
  if (rc) fprintf(stderr, "  fmt error %d: %s\n", rc, err);
  else CHECK_EQ(len, strlen(out));
  return out;
}

/* ---- temporary folders ----------------------------------------------------------- */

/* The folder of the running test ("" when make_root failed). */
static char tmp_root[64];

/* Makes a new temporary folder into tmp_root. */
static inline void make_root(void) {
  snprintf(tmp_root, sizeof tmp_root, "/tmp/sos_lang_XXXXXX");
  if (!mkdtemp(tmp_root)) tmp_root[0] = 0;
}

/* Removes one file or (emptied) folder: nftw's callback for remove_root. */
static inline int remove_one(const char *path, const struct stat *st, int flag,
                             struct FTW *f) {
  (void)st, (void)flag, (void)f;
  return remove(path);
}

/* Removes tmp_root and everything in it. */
static inline void remove_root(void) {
  if (tmp_root[0]) nftw(tmp_root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The path root/rel in a static buffer (one of four, used in turn). */
static inline const char *at(const char *rel) {
  static char bufs[4][256];
  static int k;
  char *b = bufs[k++ & 3];
  snprintf(b, 256, "%s/%s", tmp_root, rel);
  return b;
}

/* Makes every folder of root/rel up to its last '/'. */
static inline void make_dirs(const char *rel) {
  char dir[256];
  snprintf(dir, sizeof dir, "%s", at(rel));
  for (char *s = dir + strlen(tmp_root) + 1; (s = strchr(s, '/')) != NULL; s++) {
    *s = 0;
    mkdir(dir, 0755);
    *s = '/';
  }
}

/* Writes text to root/rel, making its folders. */
static inline void put(const char *rel, const char *text) {
  make_dirs(rel);
  FILE *f = fopen(at(rel), "w");
  if (!f) {
    CHECK(!"cannot write a temporary file");
    return;
  }
  fputs(text, f);
  fclose(f);
}

/* ---- loading ----------------------------------------------------------------------- */

/* Loads root/rel; NULL (with the message printed) on error. */
static inline struct sos_app *load(const char *rel) {
  struct sos_app *app = NULL;
  char err[1024];
  int rc = sos_app_load(at(rel), &app, err, sizeof err);
  if (rc) fprintf(stderr, "  load error %d: %s\n", rc, err);
  return app;
}

/* Whether loading root/rel fails with rc and the message want, in which
 * every "@" stands for the temporary root. */
static inline bool load_fails(const char *rel, int want_rc, const char *want) {
  struct sos_app *app = (struct sos_app *)1;
  char err[1024] = "", full[1024];
  size_t o = 0;
  for (const char *w = want; *w && o < sizeof full - 64; w++)
    o += (size_t)(*w == '@' ? snprintf(full + o, sizeof full - o, "%s", tmp_root)
                            : snprintf(full + o, sizeof full - o, "%c", *w));
  full[o] = 0;
  int rc = sos_app_load(at(rel), &app, err, sizeof err);
  bool ok = rc == want_rc && app == NULL && strcmp(err, full) == 0;
  if (!ok) fprintf(stderr, "  got %d \"%s\"\n  want %d \"%s\"\n", rc, err, want_rc, full);
  if (rc == 0) sos_app_free(app);
  return ok;
}

#define LOAD_FAILS(rel, want) CHECK(load_fails(rel, SOS_EINVAL, want))

/* ---- out of memory ------------------------------------------------------------------ */

/* The operations under test: each returns its rc and, on success, the
 * canonical text of what it made (to compare with a run without faults). */
enum op { OP_PARSE, OP_PRINT, OP_FMT, OP_LOAD };

/* Runs op on arg (text, or a path for OP_LOAD) or on given (OP_PRINT);
 * *text is the canonical text of the result on success, else NULL. */
static inline int run_op(enum op op, const char *arg, const struct sos_app *given,
                         char **text) {
  struct sos_app *a = NULL;
  char err[512];
  size_t len;
  int rc;
  *text = NULL;
  switch (op) {
  case OP_PARSE:
    rc = sos_app_parse(arg, strlen(arg), "app.sos", &a, err, sizeof err);
    break;
  case OP_PRINT: return sos_app_print(given, text, &len);
  case OP_FMT:
    return sos_app_fmt(arg, strlen(arg), "app.sos", text, &len, err, sizeof err);
  default: rc = sos_app_load(arg, &a, err, sizeof err);
  }
  if (rc == SOS_ENOMEM) CHECK(a == NULL);
  if (rc == 0) {
    sos_alloc_fail_at(0);
    CHECK_EQ(sos_app_print(a, text, &len), 0);
  }
  sos_app_free(a);
  return rc;
}

/* Fails the Nth allocation of op (and every one after it) for N = 1, 2,
 * ... until op succeeds: each failing run must return SOS_ENOMEM with
 * nothing made (and, under ASan, nothing leaked), and the first run that
 * succeeds must make what a run without faults makes.  Returns the number
 * of allocations op needs (0 on a failure). */
static inline int sweep(enum op op, const char *arg, const struct sos_app *given) {
  char *want, *got;
  int rc = run_op(op, arg, given, &want);
  if (rc != 0) {
    CHECK(!"the operation fails without faults");
    return 0;
  }
  for (uint64_t n = 1; n < 100000; n++) {
    sos_alloc_fail_at(n);
    rc = run_op(op, arg, given, &got);
    sos_alloc_fail_at(0);
    if (rc == 0) {
      CHECK(same_text(got, want));
      sos_free(got);
      sos_free(want);
      return (int)n;
    }
    CHECK_EQ(rc, SOS_ENOMEM);
    CHECK(got == NULL);
    if (rc != SOS_ENOMEM) break;
  }
  sos_free(want);
  return 0;
}

#endif

/*
 * store_test.c - the LMDB store layer (include/sos/store.h) on real files:
 * each test opens a store in a fresh mkdtemp folder and removes it after.
 *
 * What is checked: persistence across close and reopen; reads (get with
 * every kind of buffer, scans over ranges with limits and early stops);
 * writes through sos_store_submit, waited for with submit_sync (a mutex
 * and a condition variable signalled by the done callback); CHECK ops and
 * the atomicity of a failed batch; quotas by bytes and by keys with exact
 * usage; every submit the layer must refuse (and never call done for);
 * purge; group commit under four submitting threads; and close committing
 * what is still queued.
 */
#include "sos/base.h"
#include "sos/store.h"
#include "test.h"

#include <openssl/evp.h>

#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers -------------------------------------------------------------- */

/* A store in its own temporary folder. */
struct fixture {
  char dir[64];
  char path[96]; /* dir/store, the folder sos_store_open creates */
  sos_store *st;
};

/* Opens a store in a new temporary folder with map_size (0: default). */
static bool fx_open(struct fixture *f, uint64_t map_size) {
  snprintf(f->dir, sizeof f->dir, "/tmp/sos-store-test-XXXXXX");
  f->st = NULL;
  if (!mkdtemp(f->dir)) return false;
  snprintf(f->path, sizeof f->path, "%s/store", f->dir);
  struct sos_store_config cfg = {map_size};
  char err[256] = "";
  int rc = sos_store_open(f->path, &cfg, &f->st, err, sizeof err);
  if (rc) fprintf(stderr, "  sos_store_open: %s (%s)\n", err, sos_err_name(rc));
  return rc == 0 && f->st;
}

/* Closes the store and opens it again from the same files. */
static bool fx_reopen(struct fixture *f) {
  sos_store_close(f->st);
  f->st = NULL;
  char err[256] = "";
  return sos_store_open(f->path, NULL, &f->st, err, sizeof err) == 0 && f->st;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

/* Closes the store and removes its folder. */
static void fx_close(struct fixture *f) {
  sos_store_close(f->st);
  f->st = NULL;
  if (f->dir[0]) nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Waits for one batch's done callback. */
struct waiter {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool done;
  int rc;
  uint32_t failed;
  int calls;
};

static void waiter_done(void *user, int rc, uint64_t failed) {
  struct waiter *w = user;
  pthread_mutex_lock(&w->mu);
  w->done = true;
  w->rc = rc;
  w->failed = failed;
  w->calls++;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

/* Submits a batch and waits for it: returns submit's error, or else the
 * batch's outcome, with the failed index in *failed (may be NULL). */
static int submit_sync(sos_store *st, const struct sos_store_quota *q,
                       const struct sos_store_op *ops, uint32_t n, uint32_t *failed) {
  struct waiter w = {.rc = 12345, .failed = 12345};
  pthread_mutex_init(&w.mu, NULL);
  pthread_cond_init(&w.cv, NULL);
  int rc = sos_store_submit(st, q, ops, n, waiter_done, &w);
  if (rc == 0) {
    pthread_mutex_lock(&w.mu);
    while (!w.done) pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    rc = w.rc;
    if (failed) *failed = w.failed;
  }
  pthread_mutex_destroy(&w.mu);
  pthread_cond_destroy(&w.cv);
  return rc;
}

static const struct sos_store_quota anyone = {"owner", 0, 0};

static struct sos_store_op op_put(const char *k, const char *v) {
  return (struct sos_store_op){SOS_STORE_PUT,       false, k,
                               (uint32_t)strlen(k), v,     (uint32_t)strlen(v)};
}

static struct sos_store_op op_del(const char *k) {
  return (struct sos_store_op){SOS_STORE_DEL, false, k, (uint32_t)strlen(k), NULL, 0};
}

static struct sos_store_op op_check(const char *k, const char *v) {
  return (struct sos_store_op){SOS_STORE_CHECK,     false, k,
                               (uint32_t)strlen(k), v,     (uint32_t)strlen(v)};
}

static struct sos_store_op op_absent(const char *k) {
  return (struct sos_store_op){SOS_STORE_CHECK, true, k, (uint32_t)strlen(k), NULL, 0};
}

/* Puts k = v for owner q (NULL: anyone) and returns the outcome. */
static int put(sos_store *st, const struct sos_store_quota *q, const char *k,
               const char *v) {
  struct sos_store_op op = op_put(k, v);
  return submit_sync(st, q ? q : &anyone, &op, 1, NULL);
}

static int del(sos_store *st, const struct sos_store_quota *q, const char *k) {
  struct sos_store_op op = op_del(k);
  return submit_sync(st, q ? q : &anyone, &op, 1, NULL);
}

/* The value of k as a string in a static buffer, or "(absent)". */
static const char *get(sos_store *st, const char *k) {
  static char buf[256];
  size_t len = 99;
  int rc = sos_store_get(st, k, strlen(k), buf, sizeof buf - 1, &len);
  if (rc == SOS_ENOENT) return len == 0 ? "(absent)" : "(absent, len set)";
  if (rc) return "(error)";
  buf[len < sizeof buf - 1 ? len : sizeof buf - 1] = 0;
  return buf;
}

static uint64_t usage_bytes(sos_store *st, const char *owner) {
  uint64_t b = 999, k = 999;
  return sos_store_usage(st, owner, &b, &k) ? 999 : b;
}

static uint64_t usage_keys(sos_store *st, const char *owner) {
  uint64_t b = 999, k = 999;
  return sos_store_usage(st, owner, &b, &k) ? 999 : k;
}

/* Collects a scan's keys as "k=v," text. */
struct seen {
  char text[200];
  size_t n;
  int stop_after; /* 0: never stop */
};

static int seen_each(void *user, const void *k, size_t kl, const void *v, size_t vl) {
  struct seen *s = user;
  size_t at = strlen(s->text);
  snprintf(s->text + at, sizeof s->text - at, "%.*s=%.*s,", (int)kl, (const char *)k,
           (int)vl, (const char *)v);
  s->n++;
  return s->stop_after && (int)s->n >= s->stop_after ? 7 : 0;
}

/* ---- open, close, reopen --------------------------------------------------- */

TEST(store_open_creates_and_reopen_keeps_data) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  struct stat sb;
  CHECK(stat(f.path, &sb) == 0 && S_ISDIR(sb.st_mode) && (sb.st_mode & 0777) == 0700);
  CHECK_EQ(put(f.st, NULL, "k1", "one"), 0);
  CHECK_EQ(put(f.st, NULL, "k2", "two"), 0);
  CHECK_EQ(del(f.st, NULL, "k2"), 0);
  REQUIRE(fx_reopen(&f));
  CHECK_STR(get(f.st, "k1"), "one");
  CHECK_STR(get(f.st, "k2"), "(absent)");
  CHECK_EQ(usage_bytes(f.st, "owner"), 5);
  CHECK_EQ(usage_keys(f.st, "owner"), 1);
  REQUIRE(fx_reopen(&f)); /* reopening twice changes nothing */
  CHECK_STR(get(f.st, "k1"), "one");
  fx_close(&f);
}

TEST(store_open_fails_where_no_folder_can_be) {
  char dir[] = "/tmp/sos-store-test-XXXXXX", path[128];
  REQUIRE(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/file", dir);
  FILE *fp = fopen(path, "w");
  REQUIRE(fp);
  fclose(fp);
  snprintf(path, sizeof path, "%s/file/store", dir); /* under a regular file */
  sos_store *st = (sos_store *)&st;
  char err[256] = "";
  CHECK_EQ(sos_store_open(path, NULL, &st, err, sizeof err), SOS_EIO);
  CHECK(st == NULL);
  CHECK(strstr(err, path) != NULL);
  snprintf(path, sizeof path, "%s/file", dir); /* a regular file itself */
  st = (sos_store *)&st;
  CHECK(sos_store_open(path, NULL, &st, err, sizeof err) < 0);
  CHECK(st == NULL);
  sos_store_close(NULL); /* accepts NULL */
  nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- get ------------------------------------------------------------------- */

TEST(store_get_found_missing_and_short_buffers) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  CHECK_EQ(put(f.st, NULL, "key", "0123456789"), 0);
  char buf[16];
  size_t len = 0;
  memset(buf, '#', sizeof buf);
  CHECK_EQ(sos_store_get(f.st, "key", 3, buf, sizeof buf, &len), 0);
  CHECK_EQ(len, 10);
  CHECK(memcmp(buf, "0123456789######", 16) == 0);

  memset(buf, '#', sizeof buf); /* cap smaller: a prefix, the full length */
  len = 0;
  CHECK_EQ(sos_store_get(f.st, "key", 3, buf, 4, &len), 0);
  CHECK_EQ(len, 10);
  CHECK(memcmp(buf, "0123####", 8) == 0);

  len = 0; /* cap 0: only the length, buf untouched (NULL is fine) */
  CHECK_EQ(sos_store_get(f.st, "key", 3, NULL, 0, &len), 0);
  CHECK_EQ(len, 10);

  len = 77;
  CHECK_EQ(sos_store_get(f.st, "kez", 3, buf, sizeof buf, &len), SOS_ENOENT);
  CHECK_EQ(len, 0);
  len = 77; /* a prefix of a key is a different key */
  CHECK_EQ(sos_store_get(f.st, "ke", 2, buf, sizeof buf, &len), SOS_ENOENT);
  CHECK_EQ(len, 0);
  len = 77; /* keys the store could never hold are simply not there */
  CHECK_EQ(sos_store_get(f.st, "", 0, buf, sizeof buf, &len), SOS_ENOENT);
  CHECK_EQ(len, 0);
  static char longkey[600];
  memset(longkey, 'k', sizeof longkey);
  len = 77;
  CHECK_EQ(sos_store_get(f.st, longkey, sizeof longkey, buf, sizeof buf, &len),
           SOS_ENOENT);
  CHECK_EQ(len, 0);
  fx_close(&f);
}

TEST(store_binary_keys_values_and_edge_sizes) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  /* Keys and values with NUL bytes, an empty value, a key of exactly
   * SOS_STORE_MAX_KEY bytes and a value of exactly SOS_STORE_MAX_VALUE. */
  static char maxkey[SOS_STORE_MAX_KEY];
  memset(maxkey, 'm', sizeof maxkey);
  char *big = malloc(SOS_STORE_MAX_VALUE);
  REQUIRE(big);
  for (size_t i = 0; i < SOS_STORE_MAX_VALUE; i++) big[i] = (char)(i * 31 + 7);
  struct sos_store_op ops[] = {
      {SOS_STORE_PUT, false, "a\0b", 3, "x\0y\0", 4},
      {SOS_STORE_PUT, false, "empty", 5, NULL, 0},
      {SOS_STORE_PUT, false, maxkey, SOS_STORE_MAX_KEY, "max", 3},
      {SOS_STORE_PUT, false, "big", 3, big, SOS_STORE_MAX_VALUE},
  };
  CHECK_EQ(submit_sync(f.st, &anyone, ops, 4, NULL), 0);
  char buf[8];
  size_t len = 0;
  CHECK_EQ(sos_store_get(f.st, "a\0b", 3, buf, sizeof buf, &len), 0);
  CHECK(len == 4 && memcmp(buf, "x\0y\0", 4) == 0);
  CHECK_EQ(sos_store_get(f.st, "a", 1, buf, sizeof buf, &len), SOS_ENOENT);
  len = 9;
  CHECK_EQ(sos_store_get(f.st, "empty", 5, buf, sizeof buf, &len), 0); /* found, empty */
  CHECK_EQ(len, 0);
  CHECK_EQ(sos_store_get(f.st, maxkey, sizeof maxkey, buf, sizeof buf, &len), 0);
  CHECK(len == 3 && memcmp(buf, "max", 3) == 0);
  char *back = malloc(SOS_STORE_MAX_VALUE);
  REQUIRE(back);
  CHECK_EQ(sos_store_get(f.st, "big", 3, back, SOS_STORE_MAX_VALUE, &len), 0);
  CHECK_EQ(len, SOS_STORE_MAX_VALUE);
  CHECK(memcmp(back, big, SOS_STORE_MAX_VALUE) == 0);
  CHECK_EQ(usage_keys(f.st, "owner"), 4);
  CHECK_EQ(usage_bytes(f.st, "owner"),
           3 + 4 + 5 + SOS_STORE_MAX_KEY + 3 + 3 + SOS_STORE_MAX_VALUE);
  free(back);
  free(big);
  fx_close(&f);
}

/* ---- scan ------------------------------------------------------------------ */

/* Puts the keys the scan tests walk: a, b, b\0, ba, bb, c, d, \xff. */
static void scan_keys(sos_store *st) {
  struct sos_store_op ops[] = {
      op_put("d", "4"),    op_put("ba", "21"),
      op_put("a", "1"),    op_put("c", "3"),
      op_put("bb", "22"),  op_put("b", "2"),
      op_put("\xff", "9"), {SOS_STORE_PUT, false, "b\0", 2, "20", 2},
  };
  CHECK_EQ(submit_sync(st, &anyone, ops, 8, NULL), 0);
}

TEST(store_scan_ranges_in_byte_order) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  scan_keys(f.st);
  struct seen s = {0};
  CHECK_EQ(sos_store_scan(f.st, NULL, 0, NULL, 0, 100, seen_each, &s), 0);
  CHECK_STR(s.text, "a=1,b=2,b=20,ba=21,bb=22,c=3,d=4,\xff=9,"); /* "b\0" prints as "b" */
  CHECK_EQ(s.n, 8);

  memset(&s, 0, sizeof s); /* [b, c): the prefix b */
  CHECK_EQ(sos_store_scan(f.st, "b", 1, "c", 1, 100, seen_each, &s), 0);
  CHECK_STR(s.text, "b=2,b=20,ba=21,bb=22,");

  memset(&s, 0, sizeof s); /* a start between keys, no end */
  CHECK_EQ(sos_store_scan(f.st, "b1", 2, NULL, 0, 100, seen_each, &s), 0);
  CHECK_STR(s.text, "ba=21,bb=22,c=3,d=4,\xff=9,");

  memset(&s, 0, sizeof s); /* the end is exclusive, even for an existing key */
  CHECK_EQ(sos_store_scan(f.st, "a", 1, "bb", 2, 100, seen_each, &s), 0);
  CHECK_STR(s.text, "a=1,b=2,b=20,ba=21,");

  memset(&s, 0, sizeof s); /* an end that is a longer key than some in range */
  CHECK_EQ(sos_store_scan(f.st, "b", 1, "ba\0", 3, 100, seen_each, &s), 0);
  CHECK_STR(s.text, "b=2,b=20,ba=21,");

  memset(&s, 0, sizeof s); /* start past every key */
  CHECK_EQ(sos_store_scan(f.st, "\xff\xff", 2, NULL, 0, 100, seen_each, &s), 0);
  CHECK_EQ(s.n, 0);

  memset(&s, 0, sizeof s); /* start after end: nothing */
  CHECK_EQ(sos_store_scan(f.st, "c", 1, "b", 1, 100, seen_each, &s), 0);
  CHECK_EQ(s.n, 0);
  fx_close(&f);
}

TEST(store_scan_limit_and_early_stop) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  scan_keys(f.st);
  struct seen s = {0};
  CHECK_EQ(sos_store_scan(f.st, "b", 1, NULL, 0, 3, seen_each, &s), 0);
  CHECK_STR(s.text, "b=2,b=20,ba=21,");
  memset(&s, 0, sizeof s);
  CHECK_EQ(sos_store_scan(f.st, NULL, 0, NULL, 0, 0, seen_each, &s), 0); /* limit 0 */
  CHECK_EQ(s.n, 0);
  memset(&s, 0, sizeof s);
  CHECK_EQ(sos_store_scan(f.st, NULL, 0, NULL, 0, 1, seen_each, &s), 0);
  CHECK_STR(s.text, "a=1,");
  memset(&s, 0, sizeof s); /* the callback stops it: its value comes back */
  s.stop_after = 2;
  CHECK_EQ(sos_store_scan(f.st, "ba", 2, NULL, 0, 100, seen_each, &s), 7);
  CHECK_STR(s.text, "ba=21,bb=22,");
  fx_close(&f);
}

/* A scan walks many pages in order; a range inside them is exact. */
struct order {
  int n;
  bool ordered;
};

static int order_each(void *user, const void *k, size_t kl, const void *v, size_t vl) {
  struct order *o = user;
  char want[16];
  snprintf(want, sizeof want, "k%05d", o->n++);
  if (kl != strlen(want) || memcmp(k, want, kl) || vl != kl || memcmp(v, want, vl))
    o->ordered = false;
  return 0;
}

TEST(store_scan_many_keys) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  enum { N = 3000 };
  static struct sos_store_op ops[N];
  static char keys[N][16];
  for (int i = 0; i < N; i++) { /* submitted out of order */
    snprintf(keys[i], sizeof keys[i], "k%05d", (i * 7919) % N);
    ops[i] = op_put(keys[i], keys[i]);
  }
  CHECK_EQ(submit_sync(f.st, &anyone, ops, N, NULL), 0);
  CHECK_EQ(usage_keys(f.st, "owner"), N);
  struct order o = {0, true};
  CHECK_EQ(sos_store_scan(f.st, NULL, 0, NULL, 0, UINT32_MAX, order_each, &o), 0);
  CHECK_EQ(o.n, N);
  CHECK(o.ordered);
  struct seen s = {0};
  CHECK_EQ(sos_store_scan(f.st, "k01000", 6, "k01003", 6, 1000, seen_each, &s), 0);
  CHECK_STR(s.text, "k01000=k01000,k01001=k01001,k01002=k01002,");
  fx_close(&f);
}

/* ---- del ------------------------------------------------------------------- */

TEST(store_del_present_and_absent) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  CHECK_EQ(put(f.st, NULL, "a", "12345"), 0);
  CHECK_EQ(put(f.st, NULL, "b", "6"), 0);
  CHECK_EQ(usage_bytes(f.st, "owner"), 8);
  CHECK_EQ(del(f.st, NULL, "a"), 0);
  CHECK_STR(get(f.st, "a"), "(absent)");
  CHECK_STR(get(f.st, "b"), "6");
  CHECK_EQ(usage_bytes(f.st, "owner"), 2);
  CHECK_EQ(usage_keys(f.st, "owner"), 1);
  CHECK_EQ(del(f.st, NULL, "a"), 0); /* absent: no error, no change */
  CHECK_EQ(del(f.st, NULL, "never"), 0);
  CHECK_EQ(usage_bytes(f.st, "owner"), 2);
  CHECK_EQ(usage_keys(f.st, "owner"), 1);
  fx_close(&f);
}

/* ---- CHECK ops and atomicity ---------------------------------------------- */

TEST(store_check_with_value) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  CHECK_EQ(put(f.st, NULL, "k", "v1"), 0);
  struct sos_store_op ops[2] = {op_check("k", "v1"), op_put("k", "v2")};
  uint32_t failed = 99;
  CHECK_EQ(submit_sync(f.st, &anyone, ops, 2, &failed), 0);
  CHECK_STR(get(f.st, "k"), "v2");
  /* The same batch again: k is v2 now, so the check fails at index 0. */
  failed = 99;
  CHECK_EQ(submit_sync(f.st, &anyone, ops, 2, &failed), SOS_ECONFLICT);
  CHECK_EQ(failed, 0);
  CHECK_STR(get(f.st, "k"), "v2");
  /* A longer or shorter value is not equal: "v" and "v22" against "v2". */
  struct sos_store_op shorter = op_check("k", "v"), longer = op_check("k", "v22");
  CHECK_EQ(submit_sync(f.st, &anyone, &shorter, 1, NULL), SOS_ECONFLICT);
  CHECK_EQ(submit_sync(f.st, &anyone, &longer, 1, NULL), SOS_ECONFLICT);
  /* A check with a value fails on an absent key, even an empty value. */
  struct sos_store_op none = op_check("nope", "");
  CHECK_EQ(submit_sync(f.st, &anyone, &none, 1, NULL), SOS_ECONFLICT);
  /* An empty value matches an empty value (and not absence). */
  CHECK_EQ(put(f.st, NULL, "e", ""), 0);
  struct sos_store_op empty = op_check("e", ""), eabs = op_absent("e");
  CHECK_EQ(submit_sync(f.st, &anyone, &empty, 1, NULL), 0);
  CHECK_EQ(submit_sync(f.st, &anyone, &eabs, 1, NULL), SOS_ECONFLICT);
  fx_close(&f);
}

TEST(store_check_absent) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  struct sos_store_op ops[2] = {op_absent("k"), op_put("k", "first")};
  uint32_t failed = 99;
  CHECK_EQ(submit_sync(f.st, &anyone, ops, 2, &failed), 0); /* create if absent */
  CHECK_STR(get(f.st, "k"), "first");
  ops[1] = op_put("k", "second");
  CHECK_EQ(submit_sync(f.st, &anyone, ops, 2, &failed), SOS_ECONFLICT);
  CHECK_EQ(failed, 0);
  CHECK_STR(get(f.st, "k"), "first");
  CHECK_EQ(del(f.st, NULL, "k"), 0);
  CHECK_EQ(submit_sync(f.st, &anyone, ops, 2, &failed), 0); /* absent again */
  CHECK_STR(get(f.st, "k"), "second");
  fx_close(&f);
}

/* Checks see the batch's own earlier ops. */
TEST(store_check_sees_earlier_ops_of_its_batch) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  struct sos_store_op ops[] = {op_put("k", "new"), op_check("k", "new"), op_del("k"),
                               op_absent("k"), op_put("j", "j")};
  CHECK_EQ(submit_sync(f.st, &anyone, ops, 5, NULL), 0);
  CHECK_STR(get(f.st, "k"), "(absent)");
  CHECK_STR(get(f.st, "j"), "j");
  CHECK_EQ(usage_keys(f.st, "owner"), 1);
  CHECK_EQ(usage_bytes(f.st, "owner"), 2);
  fx_close(&f);
}

TEST(store_failed_batch_writes_nothing) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  CHECK_EQ(put(f.st, NULL, "keep", "old"), 0);
  CHECK_EQ(put(f.st, NULL, "there", "x"), 0);
  uint64_t b0 = usage_bytes(f.st, "owner"), k0 = usage_keys(f.st, "owner");
  /* Puts, an overwrite and a delete before the failing check, one after. */
  struct sos_store_op ops[] = {op_put("n1", "1"),  op_put("keep", "changed"),
                               op_del("there"),    op_check("keep", "old"),
                               op_absent("there"), op_put("n2", "2")};
  /* op 3 sees "changed" and fails: the batch's own put came first. */
  uint32_t failed = 99;
  CHECK_EQ(submit_sync(f.st, &anyone, ops, 6, &failed), SOS_ECONFLICT);
  CHECK_EQ(failed, 3);
  CHECK_STR(get(f.st, "n1"), "(absent)");
  CHECK_STR(get(f.st, "keep"), "old");
  CHECK_STR(get(f.st, "there"), "x");
  CHECK_STR(get(f.st, "n2"), "(absent)");
  CHECK_EQ(usage_bytes(f.st, "owner"), b0);
  CHECK_EQ(usage_keys(f.st, "owner"), k0);
  /* Failing at the last op: index 5. */
  struct sos_store_op late[] = {op_put("n1", "1"), op_put("n2", "2"),   op_del("keep"),
                                op_put("n3", "3"), op_check("n1", "1"), op_absent("n3")};
  failed = 99;
  CHECK_EQ(submit_sync(f.st, &anyone, late, 6, &failed), SOS_ECONFLICT);
  CHECK_EQ(failed, 5);
  CHECK_STR(get(f.st, "n1"), "(absent)");
  CHECK_STR(get(f.st, "n3"), "(absent)");
  CHECK_STR(get(f.st, "keep"), "old");
  REQUIRE(fx_reopen(&f)); /* and nothing of it is on disk either */
  CHECK_STR(get(f.st, "n1"), "(absent)");
  CHECK_STR(get(f.st, "keep"), "old");
  CHECK_EQ(usage_bytes(f.st, "owner"), b0);
  fx_close(&f);
}

/* Batches committed in one group: a failing one between two good ones
 * takes neither down. */
struct multi {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int rc[3];
  int calls;
};

static struct multi group_state;

static void group_done(void *user, int rc, uint64_t failed) {
  (void)failed;
  struct multi *m = &group_state;
  pthread_mutex_lock(&m->mu);
  m->rc[(intptr_t)user] = rc;
  m->calls++;
  pthread_cond_signal(&m->cv);
  pthread_mutex_unlock(&m->mu);
}

TEST(store_failed_batch_spares_its_group) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  struct multi *m = &group_state;
  pthread_mutex_init(&m->mu, NULL);
  pthread_cond_init(&m->cv, NULL);
  CHECK_EQ(put(f.st, NULL, "c", "exists"), 0);
  struct sos_store_op a = op_put("a", "A"), bad[2] = {op_put("b", "B"), op_absent("c")},
                      c = op_put("d", "D");
  CHECK_EQ(sos_store_submit(f.st, &anyone, &a, 1, group_done, (void *)0), 0);
  CHECK_EQ(sos_store_submit(f.st, &anyone, bad, 2, group_done, (void *)1), 0);
  CHECK_EQ(sos_store_submit(f.st, &anyone, &c, 1, group_done, (void *)2), 0);
  pthread_mutex_lock(&m->mu);
  while (m->calls < 3) pthread_cond_wait(&m->cv, &m->mu);
  pthread_mutex_unlock(&m->mu);
  CHECK_EQ(m->rc[0], 0);
  CHECK_EQ(m->rc[1], SOS_ECONFLICT);
  CHECK_EQ(m->rc[2], 0);
  CHECK_STR(get(f.st, "a"), "A");
  CHECK_STR(get(f.st, "b"), "(absent)");
  CHECK_STR(get(f.st, "d"), "D");
  CHECK_EQ(usage_keys(f.st, "owner"), 3);
  fx_close(&f);
}

/* ---- quotas ------------------------------------------------------------------ */

TEST(store_quota_bytes) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  struct sos_store_quota q = {"svc", 10, 0};
  CHECK_EQ(put(f.st, &q, "a", "123456789"), 0); /* 1 + 9 = 10: at the limit */
  CHECK_EQ(usage_bytes(f.st, "svc"), 10);
  CHECK_EQ(put(f.st, &q, "b", ""), SOS_EQUOTA); /* one byte more */
  CHECK_STR(get(f.st, "b"), "(absent)");
  CHECK_EQ(usage_bytes(f.st, "svc"), 10);
  CHECK_EQ(usage_keys(f.st, "svc"), 1);
  CHECK_EQ(put(f.st, &q, "a", "1234567890"), SOS_EQUOTA); /* a bigger overwrite */
  CHECK_STR(get(f.st, "a"), "123456789");
  CHECK_EQ(put(f.st, &q, "a", "12345678"), 0); /* a smaller one frees a byte */
  CHECK_EQ(usage_bytes(f.st, "svc"), 9);
  CHECK_EQ(put(f.st, &q, "b", ""), 0);
  CHECK_EQ(usage_bytes(f.st, "svc"), 10);
  CHECK_EQ(usage_keys(f.st, "svc"), 2);
  /* A batch that frees and uses within the limit passes as a whole... */
  struct sos_store_op swap[] = {op_del("a"), op_put("c", "12345678")};
  CHECK_EQ(submit_sync(f.st, &q, swap, 2, NULL), 0);
  CHECK_EQ(usage_bytes(f.st, "svc"), 10);
  /* ...and one whose total is over fails with nothing written. */
  struct sos_store_op over[] = {op_del("b"), op_put("d", "123456789")};
  CHECK_EQ(submit_sync(f.st, &q, over, 2, NULL), SOS_EQUOTA);
  CHECK_STR(get(f.st, "b"), "");
  CHECK_STR(get(f.st, "d"), "(absent)");
  CHECK_EQ(usage_bytes(f.st, "svc"), 10);
  CHECK_EQ(usage_keys(f.st, "svc"), 2);
  /* Quotas are per owner: another owner has its own count. */
  struct sos_store_quota other = {"other", 10, 0};
  CHECK_EQ(put(f.st, &other, "o", "123456789"), 0);
  CHECK_EQ(usage_bytes(f.st, "other"), 10);
  CHECK_EQ(usage_bytes(f.st, "svc"), 10);
  fx_close(&f);
}

TEST(store_quota_keys) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  struct sos_store_quota q = {"svc", 0, 2};
  CHECK_EQ(put(f.st, &q, "a", "1"), 0);
  CHECK_EQ(put(f.st, &q, "b", "2"), 0);
  CHECK_EQ(put(f.st, &q, "c", "3"), SOS_EQUOTA);
  CHECK_STR(get(f.st, "c"), "(absent)");
  CHECK_EQ(put(f.st, &q, "a", "a longer value than before"),
           0); /* overwrite: no new key */
  CHECK_EQ(usage_keys(f.st, "svc"), 2);
  CHECK_EQ(usage_bytes(f.st, "svc"), 1 + 26 + 2);
  struct sos_store_op swap[] = {op_del("b"), op_put("c", "3")};
  CHECK_EQ(submit_sync(f.st, &q, swap, 2, NULL), 0);
  CHECK_STR(get(f.st, "b"), "(absent)");
  CHECK_STR(get(f.st, "c"), "3");
  struct sos_store_op two[] = {op_put("x", "x"), op_del("x"), op_put("y", "y")};
  CHECK_EQ(submit_sync(f.st, &q, two, 3, NULL), SOS_EQUOTA); /* net one key more */
  CHECK_STR(get(f.st, "y"), "(absent)");
  CHECK_EQ(usage_keys(f.st, "svc"), 2);
  CHECK_EQ(del(f.st, &q, "a"), 0);
  CHECK_EQ(usage_keys(f.st, "svc"), 1);
  CHECK_EQ(usage_bytes(f.st, "svc"), 2);
  CHECK_EQ(del(f.st, &q, "c"), 0);
  CHECK_EQ(usage_keys(f.st, "svc"), 0);
  CHECK_EQ(usage_bytes(f.st, "svc"), 0);
  REQUIRE(fx_reopen(&f));
  CHECK_EQ(usage_keys(f.st, "svc"), 0);
  fx_close(&f);
}

/* Quota checks see the batches committed before them in the same group:
 * twenty one-key batches queued at once against a limit of ten keys. */
static atomic_int quota_ok, quota_full, quota_other;

static void quota_done(void *user, int rc, uint64_t failed) {
  (void)user, (void)failed;
  atomic_fetch_add(rc == 0            ? &quota_ok
                   : rc == SOS_EQUOTA ? &quota_full
                                      : &quota_other,
                   1);
}

TEST(store_quota_holds_within_a_group) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  struct sos_store_quota q = {"svc", 0, 10};
  char keys[20][8];
  for (int i = 0; i < 20; i++) {
    snprintf(keys[i], sizeof keys[i], "k%02d", i);
    struct sos_store_op op = op_put(keys[i], "v");
    CHECK_EQ(sos_store_submit(f.st, &q, &op, 1, quota_done, NULL), 0);
  }
  sos_store_close(f.st); /* commits everything queued */
  f.st = NULL;
  CHECK_EQ(atomic_load(&quota_ok), 10);
  CHECK_EQ(atomic_load(&quota_full), 10);
  CHECK_EQ(atomic_load(&quota_other), 0);
  REQUIRE(fx_reopen(&f));
  CHECK_EQ(usage_keys(f.st, "svc"), 10);
  CHECK_EQ(usage_bytes(f.st, "svc"), 40);
  struct seen s = {0};
  CHECK_EQ(sos_store_scan(f.st, NULL, 0, NULL, 0, 100, seen_each, &s), 0);
  CHECK_EQ(s.n, 10); /* the first ten in submit order */
  CHECK_STR(s.text, "k00=v,k01=v,k02=v,k03=v,k04=v,k05=v,k06=v,k07=v,k08=v,k09=v,");
  fx_close(&f);
}

/* A value the map cannot hold fails the batch with SOS_EQUOTA, and the
 * store goes on working. */
TEST(store_full_map_is_quota) {
  struct fixture f;
  REQUIRE(fx_open(&f, 1u << 20));
  char *big = calloc(1, 2u << 20);
  REQUIRE(big);
  struct sos_store_op ops[] = {op_put("small", "s"),
                               {SOS_STORE_PUT, false, "big", 3, big, 2u << 20}};
  CHECK_EQ(submit_sync(f.st, &anyone, ops, 2, NULL), SOS_EQUOTA);
  CHECK_STR(get(f.st, "small"), "(absent)");
  CHECK_EQ(put(f.st, NULL, "after", "ok"), 0);
  CHECK_STR(get(f.st, "after"), "ok");
  CHECK_EQ(usage_keys(f.st, "owner"), 1);
  free(big);
  fx_close(&f);
}

/* ---- refused submits ------------------------------------------------------ */

static atomic_int refused_calls;

static void refused_done(void *user, int rc, uint64_t failed) {
  (void)user, (void)rc, (void)failed;
  atomic_fetch_add(&refused_calls, 1);
}

TEST(store_submit_refuses_bad_batches) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  static char key512[512], key511[511];
  memset(key512, 'k', sizeof key512);
  memset(key511, 'k', sizeof key511);
  char *big = malloc(SOS_STORE_MAX_VALUE + 1u);
  REQUIRE(big);
  struct sos_store_op good = op_put("good", "g");
  struct sos_store_op cases[][2] = {
      {good, {SOS_STORE_PUT, false, "", 0, "v", 1}},         /* empty key */
      {good, {SOS_STORE_PUT, false, key512, 512, "v", 1}},   /* key 512 bytes */
      {good, {SOS_STORE_DEL, false, key512, 512, NULL, 0}},  /* also for del */
      {good, {SOS_STORE_CHECK, true, key512, 512, NULL, 0}}, /* and check */
      {good,
       {SOS_STORE_PUT, false, "k", 1, big, SOS_STORE_MAX_VALUE + 1}}, /* value too big */
      {good, {0, false, "k", 1, "v", 1}},                             /* kind 0 */
      {good, {SOS_STORE_TRIM + 1, false, "k", 1, "v", 1}},            /* one past the last kind */
      {good, {SOS_STORE_TRIM, false, "k", 1, "v", 1}},                /* trim without 8 bytes */
      {good, {255, false, "k", 1, "v", 1}},                           /* kind 255 */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    CHECK_EQ(sos_store_submit(f.st, &anyone, cases[i], 2, refused_done, NULL),
             SOS_EINVAL);
  CHECK_EQ(sos_store_submit(f.st, &anyone, &good, 0, refused_done, NULL),
           SOS_EINVAL); /* n 0 */
  static struct sos_store_op many[4097];
  for (int i = 0; i < 4097; i++) many[i] = good;
  CHECK_EQ(sos_store_submit(f.st, &anyone, many, 4097, refused_done, NULL), SOS_EINVAL);
  struct sos_store_quota noone = {NULL, 0, 0};
  CHECK_EQ(sos_store_submit(f.st, &noone, &good, 1, refused_done, NULL), SOS_EINVAL);
  CHECK_EQ(sos_store_submit(f.st, NULL, &good, 1, refused_done, NULL), SOS_EINVAL);
  char owner64[65];
  memset(owner64, 'o', 64);
  owner64[64] = 0;
  struct sos_store_quota longowner = {owner64, 0, 0};
  CHECK_EQ(sos_store_submit(f.st, &longowner, &good, 1, refused_done, NULL), SOS_EINVAL);
  /* The limits themselves are accepted: 4096 ops, a 511-byte key, an owner
   * of 63 bytes. */
  owner64[63] = 0;
  CHECK_EQ(submit_sync(f.st, &longowner, many, 4096, NULL), 0);
  struct sos_store_op k511 = {SOS_STORE_PUT, false, key511, 511, "v", 1};
  CHECK_EQ(submit_sync(f.st, &anyone, &k511, 1, NULL), 0);
  sos_store_close(f.st); /* every done has run by now */
  f.st = NULL;
  CHECK_EQ(atomic_load(&refused_calls), 0);
  REQUIRE(fx_reopen(&f));
  CHECK_STR(get(f.st, "good"), "g"); /* only from the 4096-op batch */
  CHECK_STR(get(f.st, "k"), "(absent)");
  CHECK_EQ(usage_keys(f.st, "owner"), 1);
  CHECK_EQ(usage_keys(f.st, owner64), 1);
  free(big);
  fx_close(&f);
}

/* ---- purge ------------------------------------------------------------------- */

TEST(store_purge_deletes_the_prefix_only) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  enum { N = 2500 }; /* enough keys for many pages */
  static struct sos_store_op ops[N];
  static char keys[N][24];
  for (int i = 0; i < N; i++) {
    snprintf(keys[i], sizeof keys[i], "svcA/k%05d", i);
    ops[i] = op_put(keys[i], "value");
  }
  struct sos_store_quota a = {"A", 0, 0}, b = {"B", 0, 0};
  CHECK_EQ(submit_sync(f.st, &a, ops, N, NULL), 0);
  struct sos_store_op others[] = {op_put("svcA", "x"),   op_put("svc", "x"),
                                  op_put("svcA.", "x"),  op_put("svcA0", "x"),
                                  op_put("svcB/k", "x"), op_put("a", "x")};
  CHECK_EQ(submit_sync(f.st, &b, others, 6, NULL), 0);
  CHECK_EQ(usage_keys(f.st, "A"), N);
  CHECK_EQ(usage_bytes(f.st, "A"), N * (11 + 5));
  CHECK_EQ(sos_store_purge(f.st, "svcA/", 5, "A"), N);
  CHECK_EQ(usage_keys(f.st, "A"), 0);
  CHECK_EQ(usage_bytes(f.st, "A"), 0);
  CHECK_EQ(usage_keys(f.st, "B"), 6);
  struct seen s = {0};
  CHECK_EQ(sos_store_scan(f.st, NULL, 0, NULL, 0, 100, seen_each, &s), 0);
  CHECK_STR(s.text, "a=x,svc=x,svcA=x,svcA.=x,svcA0=x,svcB/k=x,");
  CHECK_EQ(sos_store_purge(f.st, "svcA/", 5, "A"), 0); /* nothing left */
  CHECK_EQ(usage_bytes(f.st, "A"), 0);
  REQUIRE(fx_reopen(&f)); /* durable */
  CHECK_STR(get(f.st, keys[0]), "(absent)");
  CHECK_STR(get(f.st, keys[N - 1]), "(absent)");
  CHECK_EQ(usage_keys(f.st, "A"), 0);
  fx_close(&f);
}

/* Purging the keys at the end of the database: the cursor runs off it. */
TEST(store_purge_at_the_end_and_everything) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  struct sos_store_op ops[] = {op_put("a/1", "x"), op_put("z/1", "x"),
                               op_put("z/2", "y")};
  CHECK_EQ(submit_sync(f.st, &anyone, ops, 3, NULL), 0);
  CHECK_EQ(sos_store_purge(f.st, "z/", 2, "owner"), 2);
  CHECK_STR(get(f.st, "a/1"), "x");
  CHECK_EQ(usage_keys(f.st, "owner"), 1);
  CHECK_EQ(sos_store_purge(f.st, "a/", 2, "owner"), 1); /* the database is empty after */
  CHECK_EQ(usage_keys(f.st, "owner"), 0);
  CHECK_EQ(usage_bytes(f.st, "owner"), 0);
  CHECK_EQ(sos_store_purge(f.st, "a/", 2, "owner"), 0); /* on an empty database */
  CHECK_EQ(put(f.st, NULL, "b", "again"), 0);           /* still writable */
  CHECK_STR(get(f.st, "b"), "again");
  fx_close(&f);
}

/* ---- group commit and close ------------------------------------------------ */

enum { THREADS = 4, PER_THREAD = 500 };

/* One submitting thread's batches: batch i puts keys[i] = vals[i]. */
struct gc {
  sos_store *st;
  int t;
  atomic_int calls[PER_THREAD]; /* done calls of each batch */
  atomic_int bad;               /* submits refused and batches failed */
  atomic_int finished;          /* done calls in all */
  char keys[PER_THREAD][16];
  char vals[PER_THREAD][16];
};

struct gc_slot {
  struct gc *g;
  int i;
};

static struct gc_slot slots[THREADS][PER_THREAD];

static void gc_done(void *user, int rc, uint64_t failed) {
  struct gc_slot *s = user;
  (void)failed;
  atomic_fetch_add(&s->g->calls[s->i], 1);
  if (rc) atomic_fetch_add(&s->g->bad, 1);
  atomic_fetch_add(&s->g->finished, 1);
}

static void *gc_thread(void *arg) {
  struct gc *g = arg;
  for (int i = 0; i < PER_THREAD; i++) {
    snprintf(g->keys[i], sizeof g->keys[i], "t%d/%04d", g->t, i);
    snprintf(g->vals[i], sizeof g->vals[i], "v%d.%d", g->t, i);
    struct sos_store_op op = op_put(g->keys[i], g->vals[i]);
    slots[g->t][i] = (struct gc_slot){g, i};
    if (sos_store_submit(g->st, &anyone, &op, 1, gc_done, &slots[g->t][i]))
      atomic_fetch_add(&g->bad, 1);
  }
  return NULL;
}

TEST(store_group_commit_four_threads) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  static struct gc g[THREADS];
  pthread_t th[THREADS];
  for (int t = 0; t < THREADS; t++) {
    g[t].st = f.st;
    g[t].t = t;
    REQUIRE(pthread_create(&th[t], NULL, gc_thread, &g[t]) == 0);
  }
  for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
  for (int t = 0; t < THREADS; t++) /* wait for every done */
    while (atomic_load(&g[t].finished) < PER_THREAD) usleep(1000);
  uint64_t commits = 0, batches = 0;
  sos_store_stats(f.st, &commits, &batches);
  CHECK_EQ(batches, THREADS * PER_THREAD);
  CHECK(commits >= 1 && commits < batches);
  for (int t = 0; t < THREADS; t++) {
    CHECK_EQ(atomic_load(&g[t].bad), 0);
    for (int i = 0; i < PER_THREAD; i++) {
      CHECK_EQ(atomic_load(&g[t].calls[i]), 1);
      CHECK_STR(get(f.st, g[t].keys[i]), g[t].vals[i]);
    }
  }
  CHECK_EQ(usage_keys(f.st, "owner"), THREADS * PER_THREAD);
  usleep(10000); /* no late second calls */
  for (int t = 0; t < THREADS; t++)
    for (int i = 0; i < PER_THREAD; i++) CHECK_EQ(atomic_load(&g[t].calls[i]), 1);
  fx_close(&f);
}

/* Close commits what is queued before it returns, and calls every done. */
static atomic_int close_ok, close_calls;

static void close_done(void *user, int rc, uint64_t failed) {
  (void)user, (void)failed;
  if (rc == 0) atomic_fetch_add(&close_ok, 1);
  atomic_fetch_add(&close_calls, 1);
}

TEST(store_close_commits_queued_batches) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  /* A big first batch keeps the committer busy while the rest queue. */
  char *big = calloc(1, SOS_STORE_MAX_VALUE);
  REQUIRE(big);
  struct sos_store_op first = {SOS_STORE_PUT, false, "big", 3, big, SOS_STORE_MAX_VALUE};
  CHECK_EQ(sos_store_submit(f.st, &anyone, &first, 1, close_done, NULL), 0);
  char keys[100][8];
  for (int i = 0; i < 100; i++) {
    snprintf(keys[i], sizeof keys[i], "q%02d", i);
    struct sos_store_op op = op_put(keys[i], keys[i]);
    CHECK_EQ(sos_store_submit(f.st, &anyone, &op, 1, close_done, NULL), 0);
  }
  sos_store_close(f.st);
  f.st = NULL;
  CHECK_EQ(atomic_load(&close_calls), 101);
  CHECK_EQ(atomic_load(&close_ok), 101);
  REQUIRE(fx_reopen(&f));
  for (int i = 0; i < 100; i++) CHECK(strcmp(get(f.st, keys[i]), keys[i]) == 0);
  size_t len = 0;
  CHECK_EQ(sos_store_get(f.st, "big", 3, NULL, 0, &len), 0);
  CHECK_EQ(len, SOS_STORE_MAX_VALUE);
  CHECK_EQ(usage_keys(f.st, "owner"), 101);
  free(big);
  fx_close(&f);
}

/* Regression: an empty owner was accepted and failed only at commit. */
TEST(store_submit_refuses_an_empty_owner) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  struct sos_store_quota q = {"", 0, 0};
  struct sos_store_op op = op_put("k", "v");
  CHECK_EQ(sos_store_submit(f.st, &q, &op, 1, waiter_done, NULL), SOS_EINVAL);
  fx_close(&f);
}

/* Regression: purge with an empty prefix failed instead of purging all. */
TEST(store_purge_with_an_empty_prefix_deletes_everything) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  CHECK_EQ(put(f.st, &anyone, "a", "1"), 0);
  CHECK_EQ(put(f.st, &anyone, "b", "2"), 0);
  CHECK_EQ(sos_store_purge(f.st, "", 0, "owner"), 2);
  CHECK_STR(get(f.st, "a"), "(absent)");
  CHECK_EQ(usage_keys(f.st, "owner"), 0);
  fx_close(&f);
}

static int count_each(void *user, const void *k, size_t kl, const void *v, size_t vl) {
  (void)k, (void)kl, (void)v, (void)vl;
  ++*(int *)user;
  return 0;
}

/* Log appends: offsets 0, 1, 2... in order, records at L + 8 big-endian
 * bytes, the first append's offset reported; trim deletes below. */
TEST(store_log_append_and_trim) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  struct sos_store_op ap = {SOS_STORE_APPEND, false, "L", 1, "rec", 3};
  uint32_t off = 99;
  for (uint32_t i = 0; i < 3; i++) {
    CHECK_EQ(submit_sync(f.st, &anyone, &ap, 1, &off), 0);
    CHECK_EQ(off, i);
  }
  struct sos_store_op two[2] = {ap, ap};
  CHECK_EQ(submit_sync(f.st, &anyone, two, 2, &off), 0);
  CHECK_EQ(off, 3); /* the first of the two; the second got 4 */
  char key[9] = {'L', 0, 0, 0, 0, 0, 0, 0, 4};
  size_t len = 0;
  char buf[8];
  CHECK_EQ(sos_store_get(f.st, key, 9, buf, sizeof buf, &len), 0);
  CHECK_EQ(len, 3);
  CHECK_EQ(usage_keys(f.st, "owner"), 6); /* five records and L */
  uint8_t before[8] = {0, 0, 0, 0, 0, 0, 0, 3};
  struct sos_store_op trim = {SOS_STORE_TRIM, false, "L", 1, before, 8};
  CHECK_EQ(submit_sync(f.st, &anyone, &trim, 1, NULL), 0);
  int n = 0;
  CHECK_EQ(sos_store_scan(f.st, "L", 1, "M", 1, 100, count_each, &n), 0);
  CHECK_EQ(n, 3); /* L, records 3 and 4 */
  CHECK_EQ(usage_keys(f.st, "owner"), 3);
  CHECK_EQ(submit_sync(f.st, &anyone, &ap, 1, &off), 0);
  CHECK_EQ(off, 5); /* offsets never go back */
  fx_close(&f);
}

/* ---- snapshots and restores ------------------------------------------------ */

/* Prefixes as the kernel builds them: service NUL. */
#define PA "svcA\0"
#define PB "svcA0" /* shares "svcA" with PA, without the NUL */
#define PLEN 5

/* Puts prefix + k = v for owner (a static buffer holds the key). */
static int put_p(sos_store *st, const char *prefix, const char *owner, const char *k,
                 const void *v, uint32_t vlen) {
  char key[SOS_STORE_MAX_KEY];
  size_t kl = strlen(k);
  memcpy(key, prefix, PLEN);
  memcpy(key + PLEN, k, kl);
  struct sos_store_quota q = {owner, 0, 0};
  struct sos_store_op op = {SOS_STORE_PUT, false, key, (uint32_t)(PLEN + kl), v, vlen};
  return submit_sync(st, &q, &op, 1, NULL);
}

static int del_p(sos_store *st, const char *prefix, const char *owner, const char *k) {
  char key[SOS_STORE_MAX_KEY];
  size_t kl = strlen(k);
  memcpy(key, prefix, PLEN);
  memcpy(key + PLEN, k, kl);
  struct sos_store_quota q = {owner, 0, 0};
  struct sos_store_op op = {SOS_STORE_DEL, false, key, (uint32_t)(PLEN + kl), NULL, 0};
  return submit_sync(st, &q, &op, 1, NULL);
}

/* The value of prefix + k as a string, or "(absent)". */
static const char *get_p(sos_store *st, const char *prefix, const char *k) {
  static char buf[256];
  char key[SOS_STORE_MAX_KEY];
  size_t kl = strlen(k), len = 0;
  memcpy(key, prefix, PLEN);
  memcpy(key + PLEN, k, kl);
  int rc = sos_store_get(st, key, PLEN + kl, buf, sizeof buf - 1, &len);
  if (rc) return rc == SOS_ENOENT ? "(absent)" : "(error)";
  buf[len < sizeof buf - 1 ? len : sizeof buf - 1] = 0;
  return buf;
}

static int seen_nul_each(void *user, const void *k, size_t kl, const void *v, size_t vl) {
  struct seen *s = user;
  size_t at = strlen(s->text);
  for (size_t i = 0; i < kl && at + 1 < sizeof s->text; i++)
    s->text[at++] = ((const char *)k)[i] ? ((const char *)k)[i] : '|';
  snprintf(s->text + at, sizeof s->text - at, "=%.*s,", (int)(vl > 20 ? 20 : vl), (const char *)v);
  return 0;
}

/* As dump, with NUL bytes of keys shown as '|'. */
static const char *dump_all(sos_store *st) {
  static struct seen s;
  memset(&s, 0, sizeof s);
  return sos_store_scan(st, NULL, 0, NULL, 0, 1000, seen_nul_each, &s) ? "(error)" : s.text;
}

/* Two services' keys: A (owner "A") and B (owner "B", prefix PB). */
static void fill_two(sos_store *st) {
  CHECK_EQ(put_p(st, PA, "A", "k1", "one", 3), 0);
  CHECK_EQ(put_p(st, PA, "A", "k2", "two", 3), 0);
  CHECK_EQ(put_p(st, PA, "A", "k3", "three", 5), 0);
  CHECK_EQ(put_p(st, PB, "B", "k1", "bee", 3), 0);
}

static char snap_path[160];

/* The path of a snapshot file name in the fixture's folder. */
static const char *in_dir(const struct fixture *f, const char *name) {
  snprintf(snap_path, sizeof snap_path, "%s/%s", f->dir, name);
  return snap_path;
}

TEST(store_snapshot_and_restore_round_trip) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  fill_two(f.st);
  static char big[200000]; /* over the reader's 64 KiB buffer */
  for (size_t i = 0; i < sizeof big; i++) big[i] = (char)('a' + i % 26);
  CHECK_EQ(put_p(f.st, PA, "A", "big", big, sizeof big), 0);
  uint8_t bin[3] = {0, 0xff, 0}; /* binary key bytes */
  CHECK_EQ(put_p(f.st, PA, "A", "b\x01\xff", bin, 3), 0);
  uint64_t bytes = usage_bytes(f.st, "A"), keys = 0;
  char err[256] = "";
  const char *path = in_dir(&f, "one.snap");
  char p1[160];
  snprintf(p1, sizeof p1, "%s", path);
  CHECK_EQ(sos_store_snapshot(f.st, PA, PLEN, p1, &keys, err, sizeof err), 0);
  CHECK_EQ(keys, 5);
  struct stat sb;
  REQUIRE(stat(p1, &sb) == 0);
  CHECK_EQ(sb.st_size, 16 + 5 * 8 + (2 + 2 + 2 + 3 + 3) + (3 + 3 + 5 + 3 + sizeof big) + 40);
  CHECK_EQ(sb.st_mode & 0777, 0600);
  CHECK_EQ(sos_store_purge(f.st, PA, PLEN, "A"), 5);
  CHECK_STR(get_p(f.st, PA, "k1"), "(absent)");
  keys = 0;
  CHECK_EQ(sos_store_restore(f.st, PA, PLEN, "A", p1, &keys, err, sizeof err), 0);
  CHECK_EQ(keys, 5);
  REQUIRE(fx_reopen(&f)); /* durable */
  CHECK_STR(get_p(f.st, PA, "k1"), "one");
  CHECK_STR(get_p(f.st, PA, "k3"), "three");
  CHECK_STR(get_p(f.st, PB, "k1"), "bee");
  char *back = malloc(sizeof big);
  size_t len = 0;
  char key[PLEN + 3];
  memcpy(key, PA "big", PLEN + 3);
  CHECK_EQ(sos_store_get(f.st, key, PLEN + 3, back, sizeof big, &len), 0);
  CHECK_EQ(len, sizeof big);
  CHECK(back && memcmp(back, big, sizeof big) == 0);
  free(back);
  uint8_t vb[4];
  memcpy(key, PA "b\x01\xff", PLEN + 3);
  CHECK_EQ(sos_store_get(f.st, key, PLEN + 3, vb, sizeof vb, &len), 0);
  CHECK(len == 3 && memcmp(vb, bin, 3) == 0);
  CHECK_EQ(usage_bytes(f.st, "A"), bytes);
  CHECK_EQ(usage_keys(f.st, "A"), 5);
  CHECK_EQ(usage_keys(f.st, "B"), 1);
  fx_close(&f);
}

TEST(store_restore_undoes_later_changes_and_leaves_other_prefixes) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  fill_two(f.st);
  uint64_t keys = 0;
  char err[256] = "", p1[160];
  snprintf(p1, sizeof p1, "%s", in_dir(&f, "s.snap"));
  CHECK_EQ(sos_store_snapshot(f.st, PA, PLEN, p1, &keys, err, sizeof err), 0);
  CHECK_EQ(keys, 3);
  const char *before = "svcA|k1=one,svcA|k2=two,svcA|k3=three,svcA0k1=bee,";
  CHECK_STR(dump_all(f.st), before);
  CHECK_EQ(put_p(f.st, PA, "A", "k0", "new", 3), 0);   /* added */
  CHECK_EQ(put_p(f.st, PA, "A", "k2", "TWO!!", 5), 0); /* changed */
  CHECK_EQ(del_p(f.st, PA, "A", "k3"), 0);             /* deleted */
  CHECK_EQ(put_p(f.st, PA, "A", "zz", "last", 4), 0);  /* added at the end */
  CHECK_EQ(put_p(f.st, PB, "B", "k2", "b2", 2), 0);    /* another service: stays */
  CHECK_EQ(put(f.st, NULL, "svcA", "nonul"), 0);      /* the name without NUL: stays */
  CHECK_EQ(sos_store_restore(f.st, PA, PLEN, "A", p1, &keys, err, sizeof err), 0);
  CHECK_EQ(keys, 3);
  CHECK_STR(dump_all(f.st), "svcA=nonul,svcA|k1=one,svcA|k2=two,svcA|k3=three,svcA0k1=bee,"
                            "svcA0k2=b2,");
  CHECK_EQ(usage_keys(f.st, "A"), 3);
  CHECK_EQ(usage_bytes(f.st, "A"), 3 * (PLEN + 2) + 3 + 3 + 5);
  CHECK_EQ(usage_keys(f.st, "B"), 2);
  CHECK_EQ(usage_keys(f.st, "owner"), 1);
  fx_close(&f);
}

/* The owner's usage is set to what was written, even when it was wrong or
 * counted keys the snapshot does not have. */
TEST(store_restore_sets_usage_exactly) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  CHECK_EQ(put_p(f.st, PA, "A", "k", "v", 1), 0);
  uint64_t keys = 0;
  char err[256] = "", p1[160];
  snprintf(p1, sizeof p1, "%s", in_dir(&f, "u.snap"));
  CHECK_EQ(sos_store_snapshot(f.st, PA, PLEN, p1, &keys, err, sizeof err), 0);
  for (int i = 0; i < 20; i++) {
    char k[8];
    snprintf(k, sizeof k, "x%d", i);
    CHECK_EQ(put_p(f.st, PA, "A", k, "0123456789", 10), 0);
  }
  CHECK_EQ(usage_keys(f.st, "A"), 21);
  CHECK_EQ(sos_store_restore(f.st, PA, PLEN, "A", p1, &keys, err, sizeof err), 0);
  CHECK_EQ(usage_keys(f.st, "A"), 1);
  CHECK_EQ(usage_bytes(f.st, "A"), PLEN + 1 + 1);
  /* a restore ignores quotas: the limits apply to later writes */
  struct sos_store_quota q = {"A", 0, 1};
  char key[PLEN + 2];
  memcpy(key, PA "k2", PLEN + 2);
  struct sos_store_op op = {SOS_STORE_PUT, false, key, PLEN + 2, "v", 1};
  CHECK_EQ(submit_sync(f.st, &q, &op, 1, NULL), SOS_EQUOTA);
  fx_close(&f);
}

TEST(store_snapshot_of_nothing_restores_to_nothing) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  uint64_t keys = 9;
  char err[256] = "", p1[160];
  snprintf(p1, sizeof p1, "%s", in_dir(&f, "empty.snap"));
  CHECK_EQ(sos_store_snapshot(f.st, PA, PLEN, p1, &keys, err, sizeof err), 0);
  CHECK_EQ(keys, 0);
  struct stat sb;
  CHECK(stat(p1, &sb) == 0 && sb.st_size == 16 + 40);
  fill_two(f.st);
  CHECK_EQ(sos_store_restore(f.st, PA, PLEN, "A", p1, &keys, err, sizeof err), 0);
  CHECK_EQ(keys, 0);
  CHECK_STR(dump_all(f.st), "svcA0k1=bee,");
  CHECK_EQ(usage_keys(f.st, "A"), 0);
  CHECK_EQ(usage_bytes(f.st, "A"), 0);
  fx_close(&f);
}

/* Counts the entries of a folder whose names contain part. */
static int count_files(const char *dir, const char *part) {
  char cmd[300];
  snprintf(cmd, sizeof cmd, "ls -a %s | grep -c -- '%s'", dir, part);
  FILE *p = popen(cmd, "r");
  int n = -1;
  if (p && fscanf(p, "%d", &n) != 1) n = -1;
  if (p) pclose(p);
  return n;
}

TEST(store_snapshot_never_replaces_a_file_and_leaves_no_temporary) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  fill_two(f.st);
  uint64_t keys = 0;
  char err[256] = "", p1[160];
  snprintf(p1, sizeof p1, "%s", in_dir(&f, "x.snap"));
  CHECK_EQ(sos_store_snapshot(f.st, PA, PLEN, p1, &keys, err, sizeof err), 0);
  CHECK_EQ(put_p(f.st, PA, "A", "k9", "nine", 4), 0);
  CHECK_EQ(sos_store_snapshot(f.st, PA, PLEN, p1, &keys, err, sizeof err), SOS_ECONFLICT);
  CHECK_EQ(keys, 0);
  CHECK(strstr(err, "x.snap") != NULL);
  CHECK_EQ(count_files(f.dir, "x.snap"), 1); /* the temporary is gone */
  CHECK_EQ(sos_store_restore(f.st, PA, PLEN, "A", p1, &keys, err, sizeof err), 0);
  CHECK_EQ(keys, 3); /* the first snapshot, intact */
  char bad[200];
  snprintf(bad, sizeof bad, "%s/no/such/folder/y.snap", f.dir);
  CHECK_EQ(sos_store_snapshot(f.st, PA, PLEN, bad, &keys, err, sizeof err), SOS_EIO);
  CHECK(strstr(err, "cannot create") != NULL);
  fx_close(&f);
}

TEST(store_restore_of_a_missing_file_changes_nothing) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  fill_two(f.st);
  uint64_t keys = 7;
  char err[256] = "";
  CHECK_EQ(sos_store_restore(f.st, PA, PLEN, "A", in_dir(&f, "none.snap"), &keys, err, sizeof err),
           SOS_ENOENT);
  CHECK_EQ(keys, 0);
  CHECK(strstr(err, "none.snap") != NULL);
  CHECK_EQ(usage_keys(f.st, "A"), 3);
  CHECK_STR(get_p(f.st, PA, "k3"), "three");
  CHECK_EQ(sos_store_restore(f.st, PA, PLEN, "A", f.dir, &keys, err, sizeof err), SOS_EIO);
  fx_close(&f);
}

/* Writes n bytes to path. */
static bool write_file(const char *path, const void *p, size_t n) {
  FILE *o = fopen(path, "wb");
  if (!o) return false;
  bool ok = fwrite(p, 1, n, o) == n;
  return fclose(o) == 0 && ok;
}

/* Every damaged copy of a small snapshot (each byte changed, each
 * truncation, a byte more) is refused and changes nothing. */
TEST(store_restore_refuses_every_damaged_byte) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  fill_two(f.st);
  uint64_t keys = 0;
  char err[256] = "", p1[160], p2[160];
  snprintf(p1, sizeof p1, "%s", in_dir(&f, "good.snap"));
  snprintf(p2, sizeof p2, "%s", in_dir(&f, "bad.snap"));
  CHECK_EQ(sos_store_snapshot(f.st, PA, PLEN, p1, &keys, err, sizeof err), 0);
  CHECK_EQ(put_p(f.st, PA, "A", "k2", "changed", 7), 0); /* so a restore would show */
  CHECK_EQ(put_p(f.st, PA, "A", "k4", "four", 4), 0);
  char want[200];
  snprintf(want, sizeof want, "%s", dump_all(f.st));
  uint64_t ub = usage_bytes(f.st, "A"), uk = usage_keys(f.st, "A");
  uint8_t *good;
  size_t len;
  REQUIRE(sos_file_read(p1, &good, &len) == 0);
  REQUIRE(len > 56);
  uint8_t *copy = malloc(len + 1);
  REQUIRE(copy);
  int refused = 0, sha = 0;
  for (size_t i = 0; i < len; i++) {
    for (int flip = 0; flip < 2; flip++) {
      memcpy(copy, good, len);
      copy[i] ^= flip ? 0xff : 0x01;
      REQUIRE(write_file(p2, copy, len));
      err[0] = 0;
      int rc = sos_store_restore(f.st, PA, PLEN, "A", p2, &keys, err, sizeof err);
      refused += rc == SOS_EINVAL && err[0];
      sha += strstr(err, "sha-256") != NULL;
    }
  }
  CHECK_EQ(refused, 2 * (int)len);
  CHECK(sha > (int)len); /* most damage is found by the hash; the rest by the format */
  for (size_t n = 0; n < len; n++) {
    REQUIRE(write_file(p2, good, n));
    refused += sos_store_restore(f.st, PA, PLEN, "A", p2, &keys, err, sizeof err) == SOS_EINVAL;
  }
  memcpy(copy, good, len);
  copy[len] = 0;
  REQUIRE(write_file(p2, copy, len + 1));
  refused += sos_store_restore(f.st, PA, PLEN, "A", p2, &keys, err, sizeof err) == SOS_EINVAL;
  CHECK_EQ(refused, 3 * (int)len + 1);
  CHECK_STR(dump_all(f.st), want);
  CHECK_EQ(usage_bytes(f.st, "A"), ub);
  CHECK_EQ(usage_keys(f.st, "A"), uk);
  CHECK_EQ(sos_store_restore(f.st, PA, PLEN, "A", p1, &keys, err, sizeof err), 0);
  CHECK_STR(get_p(f.st, PA, "k2"), "two"); /* the good one still restores */
  free(copy);
  sos_free(good);
  fx_close(&f);
}

/* A crafted snapshot: header with version, the records given as
 * "key=value" strings, the count given, and a correct sha-256. */
static size_t craft(uint8_t *out, uint32_t version, const char *const *recs, int n,
                    uint64_t count) {
  size_t at = 0;
  memcpy(out, "SOSSNAP", 8);
  for (int i = 0; i < 4; i++) out[8 + i] = (uint8_t)(version >> (8 * i)), out[12 + i] = 0;
  at = 16;
  for (int r = 0; r < n; r++) {
    const char *eq = strchr(recs[r], '=');
    uint32_t kl = (uint32_t)(eq - recs[r]), vl = (uint32_t)strlen(eq + 1);
    for (int i = 0; i < 4; i++) out[at + i] = (uint8_t)(kl >> (8 * i));
    for (int i = 0; i < 4; i++) out[at + 4 + i] = (uint8_t)(vl >> (8 * i));
    memcpy(out + at + 8, recs[r], kl);
    memcpy(out + at + 8 + kl, eq + 1, vl);
    at += 8 + kl + vl;
  }
  for (int i = 0; i < 8; i++) out[at + i] = (uint8_t)(count >> (8 * i));
  at += 8;
  unsigned hl = 0;
  EVP_Digest(out, at, out + at, &hl, EVP_sha256(), NULL);
  return at + hl;
}

/* Files with a correct hash but a bad structure are refused too. */
TEST(store_restore_checks_the_format_behind_the_hash) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  fill_two(f.st);
  static uint8_t buf[4096];
  char err[256], p2[160];
  snprintf(p2, sizeof p2, "%s", in_dir(&f, "c.snap"));
  uint64_t keys = 0;
  const char *ok[] = {"a=1", "b=2", "ba=3"};
  size_t n = craft(buf, 1, ok, 3, 3);
  REQUIRE(write_file(p2, buf, n));
  CHECK_EQ(sos_store_restore(f.st, PA, PLEN, "A", p2, &keys, err, sizeof err), 0);
  CHECK_EQ(keys, 3); /* the crafting is right */
  CHECK_STR(dump_all(f.st), "svcA|a=1,svcA|b=2,svcA|ba=3,svcA0k1=bee,");
  struct {
    const char *recs[3];
    int n;
    uint32_t version;
    uint64_t count;
    const char *why;
  } bad[] = {
      {{"a=1", "a=2"}, 2, 1, 2, "bad record 1"},         /* a repeated key */
      {{"b=1", "a=2"}, 2, 1, 2, "bad record 1"},         /* out of order */
      {{"ab=1", "a=2"}, 2, 1, 2, "bad record 1"},        /* a shorter key after */
      {{"a=1", "b=2"}, 2, 1, 3, "says 3 records"},       /* the count */
      {{"a=1", "b=2"}, 2, 1, 1, "says 1 records"},
      {{"a=1"}, 1, 2, 1, "version 2"},                   /* an unknown version */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    n = craft(buf, bad[i].version, bad[i].recs, bad[i].n, bad[i].count);
    REQUIRE(write_file(p2, buf, n));
    err[0] = 0;
    CHECK_EQ(sos_store_restore(f.st, PA, PLEN, "A", p2, &keys, err, sizeof err), SOS_EINVAL);
    if (!strstr(err, bad[i].why)) fprintf(stderr, "  case %zu: %s\n", i, err);
    CHECK(strstr(err, bad[i].why) != NULL);
  }
  static char longrec[600];
  memset(longrec, 'k', SOS_STORE_MAX_KEY - PLEN + 1); /* one byte over with the prefix */
  strcpy(longrec + SOS_STORE_MAX_KEY - PLEN + 1, "=v");
  const char *lr[] = {longrec};
  n = craft(buf, 1, lr, 1, 1);
  REQUIRE(write_file(p2, buf, n));
  CHECK_EQ(sos_store_restore(f.st, PA, PLEN, "A", p2, &keys, err, sizeof err), SOS_EINVAL);
  longrec[SOS_STORE_MAX_KEY - PLEN] = '='; /* exactly the limit: accepted */
  longrec[SOS_STORE_MAX_KEY - PLEN + 1] = 'v';
  longrec[SOS_STORE_MAX_KEY - PLEN + 2] = 0;
  n = craft(buf, 1, lr, 1, 1);
  REQUIRE(write_file(p2, buf, n));
  CHECK_EQ(sos_store_restore(f.st, PA, PLEN, "A", p2, &keys, err, sizeof err), 0);
  CHECK_EQ(usage_keys(f.st, "A"), 1);
  CHECK_EQ(usage_bytes(f.st, "A"), SOS_STORE_MAX_KEY + 1);
  CHECK_STR(get_p(f.st, PB, "k1"), "bee");
  fx_close(&f);
}

/* One ADD of delta to k, as the kernel's kv_add submits it. */
static int add(sos_store *st, const char *k, int64_t delta) {
  uint8_t be[8];
  uint64_t v = (uint64_t)delta;
  for (int i = 7; i >= 0; i--, v >>= 8) be[i] = (uint8_t)v;
  struct sos_store_op op = {SOS_STORE_ADD, false, k, (uint32_t)strlen(k), be, 8};
  return submit_sync(st, &anyone, &op, 1, NULL);
}

TEST(store_add_counts_in_place) {
  struct fixture f;
  REQUIRE(fx_open(&f, 0));
  CHECK_EQ(add(f.st, "n", 5), 0); /* absent: from 0 */
  CHECK_STR(get(f.st, "n"), "5");
  CHECK_EQ(add(f.st, "n", -7), 0);
  CHECK_STR(get(f.st, "n"), "-2");
  CHECK_EQ(put(f.st, NULL, "e", ""), 0); /* empty: 0 */
  CHECK_EQ(add(f.st, "e", 1), 0);
  CHECK_STR(get(f.st, "e"), "1");
  CHECK_EQ(usage_keys(f.st, "owner"), 2);
  /* not a number, or a sum past the i64 range: the batch fails, nothing changes */
  CHECK_EQ(put(f.st, NULL, "t", "12x"), 0);
  CHECK_EQ(add(f.st, "t", 1), SOS_EINVAL);
  CHECK_STR(get(f.st, "t"), "12x");
  CHECK_EQ(put(f.st, NULL, "big", "9223372036854775807"), 0);
  CHECK_EQ(add(f.st, "big", 1), SOS_EINVAL);
  CHECK_STR(get(f.st, "big"), "9223372036854775807");
  CHECK_EQ(add(f.st, "big", -9), 0);
  CHECK_STR(get(f.st, "big"), "9223372036854775798");
  /* an ADD needs its 8-byte delta */
  struct sos_store_op bad = {SOS_STORE_ADD, false, "n", 1, "1", 1};
  CHECK_EQ(sos_store_submit(f.st, &anyone, &bad, 1, waiter_done, NULL), SOS_EINVAL);
  fx_close(&f);
}

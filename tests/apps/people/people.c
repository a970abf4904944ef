/*
 * people.c - a test service over a table store (app.sos: Person rows keyed
 * by id, indexed by age and by name), for the table system calls and the
 * SDK's row builder and readers.  Requests are words separated by spaces:
 *
 *   add ID NAME AGE   puts the row; answers "ok"
 *   get ID            answers "ID NAME AGE", or fails with NOT_FOUND
 *   del ID            deletes the row; answers "ok"
 *   age LO HI         the rows with LO <= age < HI, in age order (then id)
 *   named NAME        the rows whose name is exactly NAME, in id order
 *   all               every row, in id order
 *   temp T            puts T (a signed 32-bit number) in the temps table,
 *                     keyed by itself; answers "ok"
 *   temps             every T in key order, one per line: negative
 *                     numbers first, so the key encoding keeps signs
 *   doc ID TITLE TAGS DUE
 *                     puts a Doc row (a list and an optional field) encoded
 *                     with the generated people_Doc_encode: ID a signed
 *                     number, TAGS words joined by commas, DUE a number;
 *                     "-" for an empty TITLE, no TAGS, no DUE.  A DUE makes
 *                     the Doc's kind task.  Answers "ok"
 *   docget ID         reads it back with people_Doc_decode: "ID TITLE TAGS
 *                     DUE KIND", "-" for the empty ones
 *   kinds             puts a Kinds row of every scalar type (and a list
 *                     written by hand) with the sos_row_* appenders, reads
 *                     it back with sos_row_get_* and answers "K B I F D BY
 *                     BIG NEG L" (BY the bytes' length, L the list's)
 *
 * The queries answer one "ID NAME AGE" line per row, each ending in a
 * newline (nothing for no rows).  NAME is one word.
 *
 * `named` asks for the names in [NAME, NAME "\0"): text is ordered
 * bytewise, a string before every longer one it begins, so the first text
 * after NAME is NAME followed by one NUL byte and the range holds NAME
 * alone.  (NAME "\x01" as the upper bound would also let in the names
 * that continue NAME with a NUL.)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "people.sos.h"
#include "sos.h"

#define STORE "people"
#define F_ID 1
#define F_NAME 2
#define F_AGE 3

/* The next space-separated word of *p: its start and length, and *p moved
 * past it.  False when there is none. */
static bool next_word(const char **p, const char **word, size_t *len) {
  const char *s = *p;
  while (*s == ' ') s++;
  size_t n = strcspn(s, " ");
  if (!n) return false;
  *word = s;
  *len = n;
  *p = s + n;
  return true;
}

/* The next word of *p as a decimal number of at most max; false when
 * there is none or it is not one. */
static bool next_number(const char **p, uint64_t max, uint64_t *out) {
  const char *w;
  size_t n;
  if (!next_word(p, &w, &n) || w[0] < '0' || w[0] > '9') return false;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(w, &end, 10);
  if (errno || end != w + n || v > max) return false;
  *out = v;
  return true;
}

/* True when nothing but spaces is left at p. */
static bool at_end(const char *p) {
  while (*p == ' ') p++;
  return !*p;
}

/* An answer being built: lines appended, with a failure kept. */
struct text {
  char *p;
  size_t len, cap;
  bool oom;
};

/* Appends n bytes at s to t. */
static void text_add(struct text *t, const void *s, size_t n) {
  if (t->oom) return;
  if (n > t->cap - t->len) {
    size_t cap = t->cap ? t->cap : 256;
    while (cap - t->len < n) cap *= 2;
    char *q = realloc(t->p, cap);
    if (!q) {
      t->oom = true;
      return;
    }
    t->p = q;
    t->cap = cap;
  }
  memcpy(t->p + t->len, s, n);
  t->len += n;
}

/* Appends the decimal form of v to t. */
static void text_number(struct text *t, uint64_t v) {
  char digits[24];
  size_t n = 0;
  do digits[sizeof digits - ++n] = (char)('0' + v % 10);
  while ((v /= 10) && n < sizeof digits);
  text_add(t, digits + sizeof digits - n, n);
}

/* Appends "ID NAME AGE" for an encoded row to t ("?" for a field it does
 * not hold). */
static void text_row(struct text *t, const unsigned char *row, size_t len) {
  uint64_t id, age;
  const unsigned char *name;
  size_t nlen;
  if (sos_row_get_u64(row, len, F_ID, &id) == SOS_STATUS_OK) text_number(t, id);
  else text_add(t, "?", 1);
  text_add(t, " ", 1);
  if (sos_row_find(row, len, F_NAME, NULL, &name, &nlen) == SOS_STATUS_OK)
    text_add(t, name, nlen);
  else
    text_add(t, "?", 1);
  text_add(t, " ", 1);
  if (sos_row_get_u64(row, len, F_AGE, &age) == SOS_STATUS_OK) text_number(t, age);
  else text_add(t, "?", 1);
}

/* A query's callback: one line per row. */
static int each_row(void *user, const unsigned char *row, size_t len) {
  struct text *t = user;
  text_row(t, row, len);
  text_add(t, "\n", 1);
  return t->oom; /* stop once memory ran out */
}

/* Runs a query into lines and answers with them. */
static int answer_query(unsigned field, const struct sos_row *lo, const struct sos_row *hi) {
  struct text t = {0};
  int n = sos_table_query(STORE, field, lo, hi, 0, each_row, &t);
  int status;
  if (n < 0) status = sos_fail(-n, "query: %s", sos_status_text(n));
  else if (t.oom) status = sos_fail(SOS_STATUS_ERROR, "out of memory");
  else status = sos_respond(t.p, t.len);
  free(t.p);
  return status;
}

/* A key row for id. */
static struct sos_row key_of(uint64_t id) {
  struct sos_row key = SOS_ROW_INIT;
  sos_row_u64(&key, F_ID, id);
  return key;
}

/* The status of a write as the answer: "ok" or the failure. */
static int answer_write(const char *what, int status) {
  if (status != SOS_STATUS_OK) return sos_fail(status, "%s: %s", what, sos_status_text(status));
  return sos_respond_str("ok");
}

static int add(const struct sos_request *req) {
  const char *p = req->body, *name;
  size_t nlen;
  uint64_t id, age;
  if (!next_number(&p, UINT64_MAX, &id) || !next_word(&p, &name, &nlen) ||
      !next_number(&p, UINT32_MAX, &age) || !at_end(p))
    return sos_fail(SOS_STATUS_INVALID, "usage: add ID NAME AGE");
  struct sos_row row = SOS_ROW_INIT;
  sos_row_u64(&row, F_ID, id);
  sos_row_textn(&row, F_NAME, name, nlen);
  sos_row_u32(&row, F_AGE, (uint32_t)age);
  int status = sos_table_put(STORE, &row);
  sos_row_free(&row);
  return answer_write("put", status);
}

static int get(const struct sos_request *req) {
  const char *p = req->body;
  uint64_t id;
  if (!next_number(&p, UINT64_MAX, &id) || !at_end(p))
    return sos_fail(SOS_STATUS_INVALID, "usage: get ID");
  struct sos_row key = key_of(id);
  char *row;
  size_t len;
  int status = sos_table_get(STORE, &key, &row, &len);
  sos_row_free(&key);
  if (status == SOS_STATUS_NOT_FOUND) return sos_fail(status, "no person %" PRIu64, id);
  if (status != SOS_STATUS_OK) return sos_fail(status, "get: %s", sos_status_text(status));
  struct text t = {0};
  text_row(&t, (const unsigned char *)row, len);
  free(row);
  status = t.oom ? sos_fail(SOS_STATUS_ERROR, "out of memory") : sos_respond(t.p, t.len);
  free(t.p);
  return status;
}

static int del(const struct sos_request *req) {
  const char *p = req->body;
  uint64_t id;
  if (!next_number(&p, UINT64_MAX, &id) || !at_end(p))
    return sos_fail(SOS_STATUS_INVALID, "usage: del ID");
  struct sos_row key = key_of(id);
  int status = sos_table_del(STORE, &key);
  sos_row_free(&key);
  return answer_write("del", status);
}

static int age(const struct sos_request *req) {
  const char *p = req->body;
  uint64_t lo, hi;
  if (!next_number(&p, UINT32_MAX, &lo) || !next_number(&p, UINT32_MAX, &hi) || !at_end(p))
    return sos_fail(SOS_STATUS_INVALID, "usage: age LO HI");
  struct sos_row from = SOS_ROW_INIT, to = SOS_ROW_INIT;
  sos_row_u32(&from, F_AGE, (uint32_t)lo);
  sos_row_u32(&to, F_AGE, (uint32_t)hi);
  int status = answer_query(F_AGE, &from, &to);
  sos_row_free(&from);
  sos_row_free(&to);
  return status;
}

static int named(const struct sos_request *req) {
  const char *p = req->body, *name;
  size_t nlen;
  if (!next_word(&p, &name, &nlen) || !at_end(p))
    return sos_fail(SOS_STATUS_INVALID, "usage: named NAME");
  char *after = malloc(nlen + 1); /* NAME "\0": the first text after NAME */
  if (!after) return sos_fail(SOS_STATUS_ERROR, "out of memory");
  memcpy(after, name, nlen);
  after[nlen] = 0;
  struct sos_row from = SOS_ROW_INIT, to = SOS_ROW_INIT;
  sos_row_textn(&from, F_NAME, name, nlen);
  sos_row_textn(&to, F_NAME, after, nlen + 1);
  free(after);
  int status = answer_query(F_NAME, &from, &to);
  sos_row_free(&from);
  sos_row_free(&to);
  return status;
}

static int all(const struct sos_request *req) {
  if (!at_end(req->body)) return sos_fail(SOS_STATUS_INVALID, "usage: all");
  return answer_query(F_ID, NULL, NULL);
}

static int temp(const struct sos_request *req) {
  char *end;
  long v = strtol(req->body, &end, 10);
  if (!req->len || *end || v < INT32_MIN || v > INT32_MAX)
    return sos_fail(SOS_STATUS_INVALID, "usage: temp T (a signed 32-bit number)");
  struct sos_row r = SOS_ROW_INIT;
  sos_row_i32(&r, 1, (int32_t)v);
  int status = sos_table_put("temps", &r);
  sos_row_free(&r);
  return status ? sos_fail(status, NULL) : sos_respond_str("ok");
}

struct lines {
  char buf[4096];
  size_t n;
};

static int temp_line(void *user, const unsigned char *row, size_t len) {
  struct lines *t = user;
  int64_t v;
  if (sos_row_get_i64(row, len, 1, &v)) return 1;
  t->n += (size_t)snprintf(t->buf + t->n, sizeof t->buf - t->n, "%" PRId64 "\n", v);
  return t->n >= sizeof t->buf - 32;
}

static int temps(const struct sos_request *req) {
  (void)req;
  struct lines t = {{0}, 0};
  int rc = sos_table_query("temps", 1, NULL, NULL, 0, temp_line, &t);
  return rc < 0 ? sos_fail(-rc, NULL) : sos_respond(t.buf, t.n);
}

/* ---- docs: rows of any field type, through the generated codec ----------- */

/* The next word of *p as a signed decimal number; false when there is
 * none or it is not one. */
static bool next_signed(const char **p, int64_t *out) {
  const char *w;
  size_t n;
  char num[24];
  if (!next_word(p, &w, &n) || n >= sizeof num) return false;
  memcpy(num, w, n);
  num[n] = 0;
  char *end;
  errno = 0;
  long long v = strtoll(num, &end, 10);
  if (errno || *end || end == num) return false;
  *out = v;
  return true;
}

/* Whether the n bytes at w are the word "-" (none). */
static bool none(const char *w, size_t n) { return n == 1 && w[0] == '-'; }

/* Splits the n bytes at w at commas into up to cap texts of items (they
 * point into w); their count. */
static uint32_t split_tags(const char *w, size_t n, sos_text *items, uint32_t cap) {
  uint32_t k = 0;
  for (const char *end = w + n; !none(w, n) && k < cap;) {
    const char *comma = memchr(w, ',', (size_t)(end - w));
    const char *stop = comma ? comma : end;
    items[k++] = (sos_text){w, (uint32_t)(stop - w)};
    if (!comma) break;
    w = comma + 1;
  }
  return k;
}

/* Encodes d and calls sos_table_put (put) or sos_table_get with it,
 * which then fills *row and *len. */
static int doc_call(const people_Doc *d, bool put, char **row, size_t *len) {
  uint8_t mem[512];
  sos_wbuf w;
  sos_wbuf_init(&w, mem, sizeof mem);
  int status = people_Doc_encode(d, &w); /* id 0 is left out: still the key 0 */
  struct sos_row r = sos_row_of(w.p, w.len);
  if (!status) status = put ? sos_table_put("docs", &r) : sos_table_get("docs", &r, row, len);
  sos_wbuf_free(&w);
  return status;
}

static int doc(const struct sos_request *req) {
  const char *p = req->body, *title, *tags, *due;
  size_t tn, gn, dn;
  uint64_t v = 0;
  people_Doc d = {0};
  sos_text items[8];
  if (!next_signed(&p, &d.id) || !next_word(&p, &title, &tn) || !next_word(&p, &tags, &gn) ||
      !next_word(&p, &due, &dn) || !at_end(p))
    return sos_fail(SOS_STATUS_INVALID, "usage: doc ID TITLE TAG,TAG... DUE (- for none)");
  d.has_due = !none(due, dn);
  if (d.has_due && !next_number(&due, UINT32_MAX, &v))
    return sos_fail(SOS_STATUS_INVALID, "doc: DUE is a number or -");
  d.title = (sos_text){title, none(title, tn) ? 0 : (uint32_t)tn};
  d.tags = (sos_list_text){items, split_tags(tags, gn, items, 8)};
  d.due = (uint32_t)v;
  d.kind = d.has_due ? people_Kind_task : people_Kind_note;
  return answer_write("put", doc_call(&d, true, NULL, NULL));
}

/* Appends text s to t, or "-" when it is empty. */
static void text_or_none(struct text *t, const char *s, size_t n) {
  text_add(t, n ? s : "-", n ? n : 1);
}

/* Appends "ID TITLE TAGS DUE KIND" for d to t. */
static void doc_line(struct text *t, const people_Doc *d) {
  if (d->id < 0) text_add(t, "-", 1);
  text_number(t, d->id < 0 ? 0 - (uint64_t)d->id : (uint64_t)d->id);
  text_add(t, " ", 1);
  text_or_none(t, d->title.p, d->title.len);
  text_add(t, " ", 1);
  for (uint32_t i = 0; i < d->tags.n; i++) {
    if (i) text_add(t, ",", 1);
    text_add(t, d->tags.items[i].p, d->tags.items[i].len);
  }
  if (!d->tags.n) text_add(t, "-", 1);
  text_add(t, " ", 1);
  if (d->has_due) text_number(t, d->due);
  else text_add(t, "-", 1);
  const char *kind = people_Kind_name(d->kind);
  text_add(t, " ", 1);
  text_or_none(t, kind, kind ? strlen(kind) : 0);
}

static int docget(const struct sos_request *req) {
  const char *p = req->body;
  people_Doc d = {0};
  if (!next_signed(&p, &d.id) || !at_end(p)) return sos_fail(SOS_STATUS_INVALID, "usage: docget ID");
  char *row = NULL;
  size_t len = 0;
  int status = doc_call(&d, false, &row, &len);
  if (status) return sos_fail(status, "docget: %s", sos_status_text(status));
  struct text t = {0};
  status = people_Doc_decode(&d, row, len, NULL); /* d's text points into row */
  if (!status) doc_line(&t, &d);
  free(row);
  sos_arena_reset(sos_wire_arena()); /* where the list was decoded */
  if (status) status = sos_fail(status, "docget: %s", sos_wire_error());
  else status = t.oom ? sos_fail(SOS_STATUS_ERROR, "out of memory") : sos_respond(t.p, t.len);
  free(t.p);
  return status;
}

/* ---- kinds: the SDK's row calls for every scalar type ---------------------- */

static int kinds(const struct sos_request *req) {
  (void)req;
  struct sos_row r = SOS_ROW_INIT, key = SOS_ROW_INIT;
  sos_row_u32(&r, 1, 7);
  sos_row_bool(&r, 2, 5);
  sos_row_i32(&r, 3, -300);
  sos_row_f32(&r, 4, 1.5f);
  sos_row_f64(&r, 5, -0.25);
  sos_row_bytes(&r, 6, "\0\1", 2);
  sos_row_u64(&r, 7, UINT64_MAX);
  sos_row_i64(&r, 8, -5);
  sos_row_field(&r, 9, SOS_ROW_LEN, "\1\2\3", 3); /* list<u32>: varints back to back */
  int status = sos_table_put("kinds", &r);
  sos_row_free(&r);
  char *row = NULL;
  size_t len = 0;
  sos_row_u32(&key, 1, 7);
  if (!status) status = sos_table_get("kinds", &key, &row, &len);
  sos_row_free(&key);
  if (status) return sos_fail(status, "kinds: %s", sos_status_text(status));
  uint64_t k = 0, b = 0, big = 0;
  int64_t i = 0, neg = 0;
  double f = 0, d = 0;
  size_t blen = 0, llen = 0;
  sos_row_get_u64(row, len, 1, &k);
  sos_row_get_u64(row, len, 2, &b);
  sos_row_get_i64(row, len, 3, &i);
  sos_row_get_f64(row, len, 4, &f);
  sos_row_get_f64(row, len, 5, &d);
  sos_row_find(row, len, 6, NULL, NULL, &blen);
  sos_row_get_u64(row, len, 7, &big);
  sos_row_get_i64(row, len, 8, &neg);
  sos_row_find(row, len, 9, NULL, NULL, &llen);
  free(row);
  char out[256];
  int n = snprintf(out, sizeof out, "%" PRIu64 " %" PRIu64 " %" PRId64 " %g %g %zu %" PRIu64
                   " %" PRId64 " %zu", k, b, i, f, d, blen, big, neg, llen);
  return sos_respond(out, (size_t)n);
}

void sos_main(void) {
  sos_method("temp", temp);
  sos_method("temps", temps);
  sos_method("add", add);
  sos_method("get", get);
  sos_method("del", del);
  sos_method("age", age);
  sos_method("named", named);
  sos_method("all", all);
  sos_method("doc", doc);
  sos_method("docget", docget);
  sos_method("kinds", kinds);
}

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

void sos_main(void) {
  sos_method("temp", temp);
  sos_method("temps", temps);
  sos_method("add", add);
  sos_method("get", get);
  sos_method("del", del);
  sos_method("age", age);
  sos_method("named", named);
  sos_method("all", all);
}

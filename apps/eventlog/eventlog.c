/*
 * eventlog.c - an append-only event log in a log store, with tails.
 *
 *   add TEXT  -> appends TEXT as one record; answers its offset
 *   since N   -> every record from offset N, one "OFFSET TEXT" line each
 *                (an empty answer when there is none)
 *   wait N    -> waits up to 5 s for a record at offset >= N, then answers
 *                as `since N`; fails with TIMEOUT when none comes
 *   trim N    -> deletes the records below offset N; answers "ok"
 *   end       -> the offset the next record will get
 *
 * The records live in store `events` (`store events: log`), shared by
 * every instance of the service.  `wait` shows the point of a log over a
 * kv store: sos_log_tail suspends the instance in the kernel until some
 * instance appends, with no polling and no thread held, and the append
 * wakes it at once.  Several waiters can wait on one log; `instances 1..4`
 * leaves room for the appender while others wait.
 */
#include "sos.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STORE "events"
#define WAIT_MS 5000 /* how long `wait` waits for a record */

/* Parses the request as a non-negative decimal offset into *out. */
static bool parse_offset(const struct sos_request *req, int64_t *out) {
  if (!req->len || req->len > 18) return false; /* 18 digits cannot overflow */
  int64_t v = 0;
  for (size_t i = 0; i < req->len; i++) {
    if (req->body[i] < '0' || req->body[i] > '9') return false;
    v = v * 10 + (req->body[i] - '0');
  }
  *out = v;
  return true;
}

static int usage(const char *method) {
  return sos_fail(SOS_STATUS_INVALID, "usage: %s N (an offset, 0 or more)", method);
}

static int add(const struct sos_request *req) {
  int64_t off = sos_log_append(STORE, req->body, req->len);
  if (off < 0) return sos_fail((int)-off, "appending: %s", sos_status_text((int)off));
  return sos_respondf("%lld", (long long)off);
}

/* The answer `since` builds, grown as it goes. */
struct text {
  char *p;
  size_t len, cap;
  bool oom; /* memory ran out: the answer is incomplete */
};

/* Appends one "OFFSET TEXT" line for a record. */
static int since_each(void *user, int64_t offset, const char *rec, size_t len) {
  struct text *t = user;
  char num[24];
  int n = snprintf(num, sizeof num, "%lld ", (long long)offset);
  size_t need = (size_t)n + len + 1;
  if (t->cap - t->len < need) {
    size_t cap = t->cap ? 2 * t->cap : 1024;
    while (cap - t->len < need) cap *= 2;
    char *p = realloc(t->p, cap);
    if (!p) return t->oom = true;
    t->p = p;
    t->cap = cap;
  }
  memcpy(t->p + t->len, num, (size_t)n);
  memcpy(t->p + t->len + (size_t)n, rec, len);
  t->len += need;
  t->p[t->len - 1] = '\n';
  return 0;
}

/* Answers every record from offset from. */
static int answer_since(int64_t from) {
  struct text t = {NULL, 0, 0, false};
  int n = sos_log_read(STORE, from, since_each, &t);
  if (n >= 0 && t.oom) n = -SOS_STATUS_TOO_BIG; /* the answer would be cut short */
  int status = n < 0 ? sos_fail(-n, "reading the log: %s", sos_status_text(n))
                     : sos_respond(t.p, t.len);
  free(t.p);
  return status;
}

static int since(const struct sos_request *req) {
  int64_t from;
  if (!parse_offset(req, &from)) return usage("since");
  return answer_since(from);
}

static int tail(const struct sos_request *req) {
  int64_t from;
  if (!parse_offset(req, &from)) return usage("wait");
  int status = sos_log_tail(STORE, from, WAIT_MS);
  if (status)
    return sos_fail(status, "waiting for offset %lld: %s", (long long)from,
                    sos_status_text(status));
  return answer_since(from);
}

static int trim(const struct sos_request *req) {
  int64_t before;
  if (!parse_offset(req, &before)) return usage("trim");
  int status = sos_log_trim(STORE, before);
  if (status) return sos_fail(status, "trimming: %s", sos_status_text(status));
  return sos_respond_str("ok");
}

static int end_of_log(const struct sos_request *req) {
  (void)req;
  int64_t off = sos_log_end(STORE);
  if (off < 0) return sos_fail((int)-off, "reading the end: %s", sos_status_text((int)off));
  return sos_respondf("%lld", (long long)off);
}

void sos_main(void) {
  sos_method("add", add);
  sos_method("since", since);
  sos_method("wait", tail);
  sos_method("trim", trim);
  sos_method("end", end_of_log);
}

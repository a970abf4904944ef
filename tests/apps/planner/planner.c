/*
 * planner.c - time travel from a guest: plans of dependent calls to the
 * numbers service, and the same work done call by call, to compare.
 * Requests and responses are text (decimal numbers separated by spaces).
 *
 *   chain "N K"   a plan of K numbers.next steps, each step's n bound to
 *                 the previous step's result: answers N + K.  One message.
 *   seq "N K"     the same with K typed calls, one after the other.
 *   map "N MIN"   range(N), then square for each item whose n >= MIN:
 *                 answers the squares.
 *   badbind       binds a text field to an i64 field: the plan fails.
 *   fails         a chain whose middle step fails: which, and how.
 *   both "N"      keeps two steps of a chain: "N+1 N+2".
 *   lookup "REQ"  discovery: numbers_Numbers_service with requirement REQ.
 *   cancel "K"    starts a chain of K slow steps (20 ms each) and closes its
 *                 handle at once: the steps after the first never run.
 *   dropq         five slow calls at once to numbers (4 instances at most):
 *                 the fifth waits in the queue, and closing its handle
 *                 cancels it before it runs (numbers logs "slow N" for
 *                 the calls that run: 1000..1003, never 1004).
 *   bad           hostile and mistaken plans, each answered with a status
 *                 and never a crash: one line "case: status message" each.
 *   slowchain "K [MS]"  a chain of K numbers.slow steps (20 ms each), with
 *                 a timeout of MS (none when left out): answers K.
 *   one "N"       one typed call of next (the benchmark's reference).
 *   prepared "N..."  a chain of 3 built once and started once per N, each
 *                 time with sos_plan_set_request (requests of other
 *                 sizes, the same size, none): answers each N + 3.
 */
#include "planner.sos.h"
#include "sos.h"

#include <stdio.h>
#include <stdlib.h>

#define ARENA sos_wire_arena()

/* Encodes {n} as a Num into w (over buf). */
static void num_request(sos_wbuf *w, uint8_t *buf, size_t cap, int64_t n) {
  numbers_Num m = {.n = n};
  sos_wbuf_init(w, buf, cap);
  numbers_Num_encode(&m, w);
}

/* Sends plan p, waits, and leaves its PlanResult in *res (free()). */
static int run_timed(sos_plan *p, uint32_t timeout_ms, char **res, size_t *len) {
  int h = sos_plan_start(p, timeout_ms);
  sos_plan_free(p);
  if (h < 0) return -h;
  int rc = sos_await_all(&h, 1, SOS_FOREVER);
  if (rc < 0) return -rc;
  return sos_result(h, res, len);
}
static int run(sos_plan *p, char **res, size_t *len) { return run_timed(p, 0, res, len); }

/* The n of a kept step's Num response, or fails. */
static int step_n(const char *res, size_t len, int step, int64_t *n) {
  const void *body;
  size_t blen;
  numbers_Num m;
  int st = sos_plan_result(res, len, step, &body, &blen);
  if (st) return st;
  if (numbers_Num_decode(&m, body, blen, ARENA)) return SOS_STATUS_INVALID;
  *n = m.n;
  return 0;
}

/* A new plan of k calls of numbers' method (next, slow: Num -> Num), each
 * step's n bound to the previous step's result, the first with request
 * req (len bytes); the last step kept.  Its index in *last. */
static sos_plan *chain_plan(const char *method, long long k, const void *req, size_t len,
                            int *last) {
  sos_plan *p = sos_plan_new();
  *last = sos_plan_call(p, "numbers", method, req, len);
  for (long long i = 1; i < k; i++) {
    int s = sos_plan_call(p, "numbers", method, NULL, 0);
    sos_plan_bind(p, s, "n", *last, "n");
    *last = s;
  }
  sos_plan_keep(p, *last);
  return p;
}

/* Runs plan p (with a timeout, 0 for none) and answers its kept step
 * last's n, or fails with the plan's message. */
static int answer_last(sos_plan *p, int last, uint32_t timeout_ms) {
  char *res = NULL;
  size_t len = 0;
  int64_t n = 0;
  int st = run_timed(p, timeout_ms, &res, &len);
  if (!st) st = step_n(res, len, last, &n);
  int rc = st ? sos_fail(st, "plan: %.*s", (int)len, res ? res : "")
              : sos_respondf("%lld", (long long)n);
  free(res);
  sos_arena_reset(ARENA);
  return rc;
}

static int chain(const struct sos_request *r) {
  long long n0 = 0, k = 0;
  if (sscanf(r->body, "%lld %lld", &n0, &k) != 2 || k < 1 || k > SOS_PLAN_MAX_STEPS)
    return sos_fail(SOS_STATUS_INVALID, "chain takes N and K (1..%d)", SOS_PLAN_MAX_STEPS);
  uint8_t buf[32];
  sos_wbuf w;
  num_request(&w, buf, sizeof buf, n0);
  int last;
  sos_plan *p = chain_plan("next", k, w.p, w.len, &last);
  return answer_last(p, last, 0);
}

static int prepared(const struct sos_request *r) {
  int last;
  sos_plan *p = chain_plan("next", 3, NULL, 0, &last);
  char out[256];
  size_t o = 0;
  const char *at = r->body;
  int rc = 0;
  for (char *end; *at && !rc && o < sizeof out - 24; at = end) {
    long long n0 = strtoll(at, &end, 10);
    if (end == at) break;
    uint8_t buf[32];
    sos_wbuf w;
    num_request(&w, buf, sizeof buf, n0);
    char *res = NULL;
    size_t len = 0;
    int64_t n = 0;
    int h = sos_plan_set_request(p, 0, w.p, w.len) ? -SOS_STATUS_INVALID : sos_plan_start(p, 0);
    rc = h < 0 ? -h : sos_await_all(&h, 1, SOS_FOREVER) < 0 ? SOS_STATUS_ERROR
                                                             : sos_result(h, &res, &len);
    if (h >= 0) sos_close(h);
    if (!rc) rc = step_n(res, len, last, &n);
    free(res);
    sos_arena_reset(ARENA);
    o += (size_t)snprintf(out + o, sizeof out - o, "%s%lld", o ? " " : "", (long long)n);
  }
  sos_plan_free(p);
  return rc ? sos_fail(rc, "prepared plan failed after \"%.*s\"", (int)o, out)
            : sos_respond(out, o);
}

static int seq(const struct sos_request *r) {
  long long n0 = 0, k = 0;
  if (sscanf(r->body, "%lld %lld", &n0, &k) != 2 || k < 1)
    return sos_fail(SOS_STATUS_INVALID, "seq takes N and K");
  numbers_Numbers s = numbers_Numbers_at("numbers");
  numbers_Num m = {.n = n0};
  for (long long i = 0; i < k; i++) {
    numbers_Num out;
    int st = numbers_Numbers_next(s, &m, &out, ARENA);
    if (st) return sos_fail(st, "next: %s", sos_wire_last_error()->message);
    m.n = out.n;
    sos_arena_reset(ARENA);
  }
  return sos_respondf("%lld", (long long)m.n);
}

static int one(const struct sos_request *r) {
  numbers_Num m = {.n = atoll(r->body)}, out;
  int st = numbers_Numbers_next(numbers_Numbers_at("numbers"), &m, &out, ARENA);
  sos_arena_reset(ARENA);
  return st ? sos_fail(st, "next: %s", sos_wire_last_error()->message)
            : sos_respondf("%lld", (long long)out.n);
}

static int map(const struct sos_request *r) {
  long long count = 0, min = 0;
  if (sscanf(r->body, "%lld %lld", &count, &min) != 2)
    return sos_fail(SOS_STATUS_INVALID, "map takes N and MIN");
  numbers_Count c = {.n = (uint32_t)count};
  uint8_t buf[32];
  sos_wbuf w;
  sos_wbuf_init(&w, buf, sizeof buf);
  numbers_Count_encode(&c, &w);
  sos_plan *p = sos_plan_new();
  int a = sos_plan_call(p, "numbers", "range", w.p, w.len);
  int b = sos_plan_call(p, "numbers", "square", NULL, 0);
  sos_plan_each(p, b, "num", a, "items");
  sos_plan_where_int(p, b, "n", SOS_PLAN_GE, min);
  sos_plan_keep(p, b);
  char *res = NULL, out[1024];
  size_t len = 0, o = 0;
  int st = run(p, &res, &len);
  size_t items = st ? 0 : sos_plan_items(res, len, b);
  o += (size_t)snprintf(out, sizeof out, "%zu:", items);
  for (size_t i = 0; i < items && o < sizeof out - 24; i++) {
    const void *body;
    size_t blen;
    numbers_Num m;
    if (sos_plan_item(res, len, b, i, &body, &blen) ||
        numbers_Num_decode(&m, body, blen, ARENA))
      st = SOS_STATUS_INVALID;
    else
      o += (size_t)snprintf(out + o, sizeof out - o, " %lld", (long long)m.n);
  }
  int rc = st ? sos_fail(st, "plan: %.*s", (int)len, res ? res : "") : sos_respond(out, o);
  free(res);
  sos_arena_reset(ARENA);
  return rc;
}

static int badbind(const struct sos_request *r) {
  uint8_t buf[32];
  sos_wbuf w;
  (void)r;
  num_request(&w, buf, sizeof buf, 1);
  sos_plan *p = sos_plan_new();
  int a = sos_plan_call(p, "numbers", "next", w.p, w.len);
  int b = sos_plan_call(p, "numbers", "next", NULL, 0);
  sos_plan_bind(p, b, "n", a, "label"); /* text into an i64 */
  sos_plan_keep(p, b);
  char *res = NULL;
  size_t len = 0;
  int st = run(p, &res, &len);
  int rc = sos_respondf("%s: %.*s", sos_status_text(st), (int)len, res ? res : "");
  free(res);
  return rc;
}

static int fails(const struct sos_request *r) {
  uint8_t buf[32];
  sos_wbuf w;
  (void)r;
  num_request(&w, buf, sizeof buf, 1);
  sos_plan *p = sos_plan_new();
  int a = sos_plan_call(p, "numbers", "next", w.p, w.len);
  int b = sos_plan_call(p, "numbers", "fail", NULL, 0);
  int c = sos_plan_call(p, "numbers", "next", NULL, 0);
  sos_plan_bind(p, b, "n", a, "n");
  sos_plan_bind(p, c, "n", b, "n");
  sos_plan_keep(p, a);
  sos_plan_keep(p, b);
  sos_plan_keep(p, c);
  char *res = NULL;
  size_t len = 0;
  int st = run(p, &res, &len);
  int64_t n = 0;
  const void *body;
  size_t blen;
  int sa = step_n(res, len, a, &n);
  int sb = sos_plan_result(res, len, b, &body, &blen);
  int sc = sos_plan_result(res, len, c, &body, &blen);
  int rc = sos_respondf("status %d, failed step %d, step 0: %d (n=%lld), step 1: %d, step 2: %d",
                        st, sos_plan_failed(res, len), sa, (long long)n, sb, sc);
  free(res);
  sos_arena_reset(ARENA);
  return rc;
}

static int both(const struct sos_request *r) {
  uint8_t buf[32];
  sos_wbuf w;
  num_request(&w, buf, sizeof buf, atoll(r->body));
  sos_plan *p = sos_plan_new();
  int a = sos_plan_call(p, "numbers", "next", w.p, w.len);
  int b = sos_plan_call(p, "numbers", "next", NULL, 0);
  sos_plan_bind(p, b, "n", a, "n");
  sos_plan_keep(p, a);
  sos_plan_keep(p, b);
  char *res = NULL;
  size_t len = 0;
  int64_t x = 0, y = 0;
  int st = run(p, &res, &len);
  if (!st) st = step_n(res, len, a, &x);
  if (!st) st = step_n(res, len, b, &y);
  int rc = st ? sos_fail(st, "plan failed") : sos_respondf("%lld %lld", (long long)x, (long long)y);
  free(res);
  sos_arena_reset(ARENA);
  return rc;
}

/* Plans of the same steps, numbers.slow(N) then next, with N = B, B + 10,
 * B + 20: the first two at once (the second is sent while the first, the
 * instance's cached plan, runs), the third after them.  Answers the
 * three results. */
static int overlap(const struct sos_request *r) {
  long long base = atoll(r->body);
  int h[3];
  char out[128];
  size_t o = 0;
  for (int i = 0; i < 3; i++) {
    uint8_t buf[32];
    sos_wbuf w;
    num_request(&w, buf, sizeof buf, base + 10 * i);
    sos_plan *p = sos_plan_new();
    int a = sos_plan_call(p, "numbers", "slow", w.p, w.len);
    int b = sos_plan_call(p, "numbers", "next", NULL, 0);
    sos_plan_bind(p, b, "n", a, "n");
    sos_plan_keep(p, b);
    h[i] = sos_plan_start(p, 0);
    sos_plan_free(p);
    if (h[i] < 0) return sos_fail(-h[i], "plan %d not sent", i);
    if (i == 1 || i == 2) { /* the third after the first two */
      for (int j = i == 1 ? 0 : 2; j <= i; j++) {
        char *res = NULL;
        size_t len = 0;
        int64_t n = 0;
        sos_await_all(&h[j], 1, SOS_FOREVER);
        int st = sos_result(h[j], &res, &len);
        sos_close(h[j]);
        if (!st) st = step_n(res, len, b, &n);
        free(res);
        if (st) return sos_fail(st, "plan %d failed", j);
        o += (size_t)snprintf(out + o, sizeof out - o, "%s%lld", o ? " " : "", (long long)n);
      }
    }
  }
  sos_arena_reset(ARENA);
  return sos_respond(out, o);
}

/* A plan of K numbers.slow steps (20 ms each), each bound to the one
 * before, from 0, with a timeout of MS (0: none); answers the last n, or
 * the plan's failure. */
static int slowchain(const struct sos_request *r) {
  long long k = 0, ms = 0;
  if (sscanf(r->body, "%lld %lld", &k, &ms) < 1 || k < 1 || k > SOS_PLAN_MAX_STEPS || ms < 0)
    return sos_fail(SOS_STATUS_INVALID, "slowchain takes K [MS]");
  int last;
  sos_plan *p = chain_plan("slow", k, NULL, 0, &last);
  return answer_last(p, last, (uint32_t)ms);
}

static int lookup(const struct sos_request *r) {
  numbers_Numbers s;
  int st = numbers_Numbers_service("numbers", r->len ? r->body : NULL, &s);
  if (st) return sos_fail(st, "%s", sos_wire_last_error()->message);
  return sos_respondf("found %s", s.service);
}

static int cancel(const struct sos_request *r) {
  long long k = atoll(r->body);
  uint8_t buf[32];
  sos_wbuf w;
  num_request(&w, buf, sizeof buf, 0);
  sos_plan *p = sos_plan_new();
  int last = sos_plan_call(p, "numbers", "slow", w.p, w.len);
  for (long long i = 1; i < k; i++) {
    int s = sos_plan_call(p, "numbers", "slow", NULL, 0);
    sos_plan_bind(p, s, "n", last, "n");
    last = s;
  }
  int h = sos_plan_start(p, 0);
  sos_plan_free(p);
  if (h < 0) return sos_fail(-h, "start failed");
  sos_close(h);
  sos_sleep_ms(100); /* time for a chain that was not cancelled to run */
  return sos_respond_str("cancelled");
}

static int dropq(const struct sos_request *r) {
  numbers_Numbers s = numbers_Numbers_at("numbers");
  int h[5];
  (void)r;
  for (int i = 0; i < 5; i++) {
    numbers_Num m = {.n = 1000 + i};
    h[i] = numbers_Numbers_slow_start(s, &m);
    if (h[i] < 0) return sos_fail(-h[i], "start %d failed", i);
  }
  sos_close(h[4]); /* still queued: cancelled */
  int rc = sos_await_all(h, 4, SOS_FOREVER);
  if (rc < 0) return sos_fail(-rc, "await failed");
  for (int i = 0; i < 4; i++) sos_close(h[i]);
  sos_sleep_ms(60); /* time for a call that was not cancelled to run */
  return sos_respond_str("dropped");
}

/* The raw import, to send bytes the builder would never make. */
__attribute__((import_module(SOS_ABI_MODULE), import_name("call_plan"))) int32_t
sos__abi_call_plan(const void *plan, size_t len, uint32_t timeout_ms);

/* Runs plan bytes (or builder p when bytes is NULL) and appends
 * "name: STATUS message" to out, and for a plan that succeeds with a kept
 * step 0, that step's n ("=N"). */
static size_t run_case(char *out, size_t o, size_t cap, const char *name, const void *bytes,
                       size_t n, sos_plan *p) {
  int h = bytes ? sos__abi_call_plan(bytes, n, 0) : sos_plan_start(p, 0);
  sos_plan_free(p);
  char *res = NULL;
  size_t len = 0;
  int st = h < 0 ? -h : 0;
  if (h > 0) {
    sos_await_all(&h, 1, SOS_FOREVER);
    st = sos_result(h, &res, &len);
    sos_close(h);
  }
  int64_t kn = 0;
  bool kept = !st && res && step_n(res, len, 0, &kn) == 0;
  int w = kept ? snprintf(out + o, cap - o, "%s: %s =%lld\n", name, sos_status_text(st),
                          (long long)kn)
               : snprintf(out + o, cap - o, "%s: %s %.*s\n", name, sos_status_text(st),
                          st && res ? (int)len : 0, res ? res : "");
  free(res);
  return o + (w > 0 ? (size_t)w : 0);
}

static int bad(const struct sos_request *r) {
  static char out[4096];
  size_t o = 0, cap = sizeof out;
  (void)r;
  o = run_case(out, o, cap, "garbage", "\xff\xff\xff\xff", 4, NULL);
  o = run_case(out, o, cap, "empty", "", 0, NULL);
  /* steps: a list whose length runs past the end */
  o = run_case(out, o, cap, "truncated", "\x0a\x40\x05", 3, NULL);
  /* a step with a service name holding a NUL */
  o = run_case(out, o, cap, "nul-name", "\x0a\x07\x06\x0a\x04n\x00" "ab", 9, NULL);
  sos_plan *p = sos_plan_new();
  sos_plan_call(p, "hello", "greet", "x", 1);
  o = run_case(out, o, cap, "not-in-uses", NULL, 0, p);
  p = sos_plan_new();
  sos_plan_call(p, "nosuch", "x", NULL, 0);
  o = run_case(out, o, cap, "unknown-service", NULL, 0, p);
  p = sos_plan_new();
  int a = sos_plan_call(p, "numbers", "next", NULL, 0);
  int b = sos_plan_call(p, "numbers", "next", NULL, 0);
  sos_plan_bind(p, b, "n", a, "nosuch");
  o = run_case(out, o, cap, "unknown-path", NULL, 0, p);
  p = sos_plan_new();
  a = sos_plan_call(p, "numbers", "next", NULL, 0);
  b = sos_plan_call(p, "numbers", "square", NULL, 0);
  sos_plan_each(p, b, "num", a, "n"); /* n is no list */
  o = run_case(out, o, cap, "each-not-a-list", NULL, 0, p);
  p = sos_plan_new();
  a = sos_plan_call(p, "numbers", "next", NULL, 0);
  b = sos_plan_call(p, "numbers", "nomethod", NULL, 0);
  sos_plan_bind(p, b, "n", a, "n");
  o = run_case(out, o, cap, "untyped-bind", NULL, 0, p);
  p = sos_plan_new();
  a = sos_plan_call(p, "numbers", "next", NULL, 0);
  b = sos_plan_call(p, "numbers", "square", NULL, 0);
  sos_plan_bind(p, b, "num.n", a, "n"); /* a field inside the request's num */
  o = run_case(out, o, cap, "nested-target", NULL, 0, p);
  /* a step with two lists of binds, the first malformed: only the last
   * counts, but the first must decode too */
  o = run_case(out, o, cap, "repeated-binds",
               "\x0a\x15\x14\x0a\x07numbers\x12\x04next\x22\x01\xff\x22\x00", 23, NULL);
  /* a bind to a step that comes later: refused by the kernel */
  o = run_case(out, o, cap, "forward-bind",
               "\x0a\x1a\x19\x0a\x07numbers\x12\x04next\x22\x08\x07\x0a\x01n\x12\x02\x08\x05",
               28, NULL);
  /* Plan.requests (field 2) with two elements for a plan of one step */
  o = run_case(out, o, cap, "extra-request",
               "\x12\x02\x00\x00\x0a\x10\x0f\x0a\x07numbers\x12\x04next", 22, NULL);
  /* ... with an element whose length runs past the list */
  o = run_case(out, o, cap, "bad-requests",
               "\x12\x01\x05\x0a\x10\x0f\x0a\x07numbers\x12\x04next", 21, NULL);
  /* requests after the steps count as well: Num { n: 41 } for the one
   * kept step, numbers.next, which answers 42 */
  o = run_case(out, o, cap, "late-requests",
               "\x0a\x12\x11\x0a\x07numbers\x12\x04next\x40\x01\x12\x03\x02\x08\x52", 25,
               NULL);
  return sos_respond(out, o);
}

void sos_main(void) {
  sos_method("dropq", dropq);
  sos_method("bad", bad);
  sos_method("cancel", cancel);
  sos_method("chain", chain);
  sos_method("seq", seq);
  sos_method("prepared", prepared);
  sos_method("one", one);
  sos_method("map", map);
  sos_method("badbind", badbind);
  sos_method("fails", fails);
  sos_method("both", both);
  sos_method("overlap", overlap);
  sos_method("slowchain", slowchain);
  sos_method("lookup", lookup);
}

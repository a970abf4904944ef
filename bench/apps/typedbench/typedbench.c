/*
 * typedbench.c - round trips as the caller sees them (p50 of N, ns):
 *
 *   rtt N [K]  answers "untyped typed plan1 chain10 seq10 prepared10 text"
 *           (with K, only kind K, 0..6, is measured; the others are 0):
 *             untyped   echo.ping with 1 byte (the untyped reference)
 *             typed     numbers.next through its generated stub: encode,
 *                       call, the server's decode and encode, decode
 *             plan1     a plan of that one call
 *             chain10   a plan of 10 numbers.next, each bound to the
 *                       previous result (one message)
 *             seq10     the same 10 calls made one after the other
 *             prepared10  chain10 built once and started N times (only
 *                       its first request changes): the plan's execution
 *                       without the guest building it
 *             text      numbers.next_text, the untyped equivalent of next on
 *                       decimal text (atoll and snprintf on both sides)
 *           The kinds take turns, BLOCK round trips at a time.
 */
#include "typedbench.sos.h"
#include "sos.h"

#include <stdio.h>
#include <stdlib.h>

#define ARENA sos_wire_arena()

static int cmp(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static int64_t p50(int64_t *t, int n) {
  qsort(t, (size_t)n, sizeof *t, cmp);
  return t[n / 2];
}

/* A plan of k chained next calls starting at 0; its status. */
static int chain(int k) {
  uint8_t buf[16];
  sos_wbuf w;
  numbers_Num m = {.n = 1};
  sos_wbuf_init(&w, buf, sizeof buf);
  numbers_Num_encode(&m, &w);
  sos_plan *p = sos_plan_new();
  int last = sos_plan_call(p, "numbers", "next", w.p, w.len);
  for (int i = 1; i < k; i++) {
    int s = sos_plan_call(p, "numbers", "next", NULL, 0);
    sos_plan_bind(p, s, "n", last, "n");
    last = s;
  }
  sos_plan_keep(p, last);
  int h = sos_plan_start(p, 0);
  sos_plan_free(p);
  if (h < 0) return -h;
  sos_await_all(&h, 1, SOS_FOREVER);
  int st = sos_result(h, NULL, NULL);
  sos_close(h);
  return st;
}

/* The chain of 10 built once; each start sets a new first request. */
static sos_plan *prepared;
static int prepared_last;

static int run_prepared(int64_t n) {
  uint8_t buf[16];
  sos_wbuf w;
  numbers_Num m = {.n = n};
  if (!prepared) {
    prepared = sos_plan_new();
    int last = sos_plan_call(prepared, "numbers", "next", NULL, 0);
    for (int i = 1; i < 10; i++) {
      int s = sos_plan_call(prepared, "numbers", "next", NULL, 0);
      sos_plan_bind(prepared, s, "n", last, "n");
      last = s;
    }
    sos_plan_keep(prepared, last);
    prepared_last = last;
  }
  sos_wbuf_init(&w, buf, sizeof buf);
  numbers_Num_encode(&m, &w);
  sos_plan_set_request(prepared, 0, w.p, w.len);
  int h = sos_plan_start(prepared, 0);
  if (h < 0) return -h;
  sos_await_all(&h, 1, SOS_FOREVER);
  int st = sos_result(h, NULL, NULL);
  sos_close(h);
  return st;
}

/* The untyped equivalent of one typed next: decimal text both ways. */
static int text_next(int64_t n) {
  char req[24], *resp = NULL;
  size_t len = 0;
  int rlen = snprintf(req, sizeof req, "%lld", (long long)n);
  int st = sos_call("numbers", "next_text", req, (size_t)rlen, &resp, &len);
  if (!st && atoll(resp) != n + 1) st = SOS_STATUS_ERROR;
  free(resp);
  return st;
}

static int typed_next(int k) {
  numbers_Numbers s = numbers_Numbers_at("numbers");
  numbers_Num m = {.n = 1}, out;
  for (int i = 0; i < k; i++) {
    int st = numbers_Numbers_next(s, &m, &out, ARENA);
    sos_arena_reset(ARENA);
    if (st) return st;
    m.n = out.n;
  }
  return 0;
}

/* One round trip of kind k (i: its index), timed. */
static int sample(int k, int i, int64_t *ns) {
  int64_t t0 = sos_monotonic_ns();
  int st = k == 0   ? sos_call("echo", "ping", "x", 1, NULL, NULL)
           : k == 1 ? typed_next(1)
           : k == 2 ? chain(1)
           : k == 3 ? chain(10)
           : k == 4 ? typed_next(10)
           : k == 5 ? run_prepared(i)
                    : text_next(i);
  *ns = sos_monotonic_ns() - t0;
  return st;
}

/* The kinds take turns in blocks of BLOCK round trips, so that the
 * machine's slower moments (other tenants, the other core) fall on all of
 * them alike and their ratios hold from run to run; within a block each
 * kind runs warm, as it would alone. */
#define BLOCK 100

static int rtt(const struct sos_request *req) {
  char *end;
  int n = (int)strtol(req->body, &end, 10), only = -1;
  if (*end == ' ') only = atoi(end + 1);
  if (n <= 0 || n > 200000 || only > 6)
    return sos_fail(SOS_STATUS_INVALID, "rtt takes 1..200000 [and a kind 0..6]");
  int64_t *t = malloc(7 * (size_t)n * sizeof *t), r[7] = {0};
  if (!t) return sos_fail(SOS_STATUS_ERROR, "out of memory");
  for (int at = 0; at < n; at += BLOCK)
    for (int k = 0; k < 7; k++)
      for (int i = at; (only < 0 || k == only) && i < n && i < at + BLOCK; i++) {
        int st = sample(k, i, &t[(size_t)k * (size_t)n + (size_t)i]);
        if (st) {
          free(t);
          return sos_fail(st, "kind %d call %d failed", k, i);
        }
      }
  for (int k = 0; k < 7; k++)
    if (only < 0 || k == only) r[k] = p50(t + (size_t)k * (size_t)n, n);
  free(t);
  return sos_respondf("%lld %lld %lld %lld %lld %lld %lld", (long long)r[0], (long long)r[1],
                      (long long)r[2], (long long)r[3], (long long)r[4], (long long)r[5],
                      (long long)r[6]);
}

/* codec "N": ns per encode + decode of a Num in this instance (the
 * interpreter's cost of the generated code, without a call). */
static int codec(const struct sos_request *req) {
  int n = atoi(req->body);
  uint8_t buf[32];
  int64_t sum = 0, t0 = sos_monotonic_ns();
  for (int i = 0; i < n; i++) {
    sos_wbuf w;
    numbers_Num m = {.n = i, .label = SOS_TEXT("next")}, out;
    sos_wbuf_init(&w, buf, sizeof buf);
    numbers_Num_encode(&m, &w);
    numbers_Num_decode(&out, w.p, w.len, ARENA);
    sum += out.n;
    sos_arena_reset(ARENA);
  }
  return sos_respondf("%lld ns (%lld)", (long long)((sos_monotonic_ns() - t0) / (n ? n : 1)),
                      (long long)sum);
}

/* loop "N K": N plans of K chained calls (K 0: the prepared chain of 10;
 * -1: N typed calls, -2: N untyped ones), for profiling. */
static int loop(const struct sos_request *req) {
  int n = 0, k = 0;
  if (sscanf(req->body, "%d %d", &n, &k) != 2) return sos_fail(SOS_STATUS_INVALID, "loop N K");
  for (int i = 0; i < n; i++) {
    int st = k > 0     ? chain(k)
             : k == 0  ? run_prepared(i)
             : k == -1 ? typed_next(1)
                       : sos_call("echo", "ping", "x", 1, NULL, NULL);
    if (st) return sos_fail(st, "plan %d failed", i);
  }
  return sos_respond_str("ok");
}

void sos_main(void) {
  sos_method("rtt", rtt);
  sos_method("loop", loop);
  sos_method("codec", codec);
}

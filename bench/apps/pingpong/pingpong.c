/*
 * pingpong.c - the caller side of the node benchmark.
 *
 *   rtt N        N calls of echo.ping, one after the other; answers
 *                "p50_ns p99_ns mean_ns" of the round trips as this
 *                instance sees them (call, suspend, echo runs, resume).
 *   flood N K    N calls of echo.ping with K in flight at once; answers
 *                the elapsed ns.
 */
#include <stdio.h>
#include <stdlib.h>

#include "sos.h"

static int cmp(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static int rtt(const struct sos_request *req) {
  int n = atoi(req->body);
  if (n <= 0 || n > 1000000) return sos_fail(SOS_STATUS_INVALID, "rtt takes 1..1000000");
  int64_t *t = malloc((size_t)n * sizeof *t), sum = 0;
  if (!t) return sos_fail(SOS_STATUS_ERROR, "out of memory");
  for (int i = 0; i < n; i++) {
    int64_t t0 = sos_monotonic_ns();
    int status = sos_call("echo", "ping", "x", 1, NULL, NULL);
    t[i] = sos_monotonic_ns() - t0;
    sum += t[i];
    if (status) {
      free(t);
      return sos_fail(status, "call %d failed", i);
    }
  }
  qsort(t, (size_t)n, sizeof *t, cmp);
  int rc = sos_respondf("%lld %lld %lld", (long long)t[n / 2], (long long)t[n * 99 / 100],
                        (long long)(sum / n));
  free(t);
  return rc;
}

static int flood(const struct sos_request *req) {
  int n = 0, k = 0;
  if (sscanf(req->body, "%d %d", &n, &k) != 2 || n <= 0 || k <= 0 || k > 256)
    return sos_fail(SOS_STATUS_INVALID, "flood takes N and K (1..256)");
  int h[256], started = 0, done = 0;
  int64_t t0 = sos_monotonic_ns();
  for (; started < k && started < n; started++) h[started] = sos_call_async("echo", "ping", "x", 1, 0);
  int live = started;
  while (done < n) {
    int i = sos_await_any(h, (size_t)live, SOS_FOREVER);
    if (i < 0) return sos_fail(-i, "await failed");
    int status = sos_result(h[i], NULL, NULL);
    sos_close(h[i]);
    if (status) return sos_fail(status, "call failed");
    done++;
    if (started < n) {
      h[i] = sos_call_async("echo", "ping", "x", 1, 0);
      started++;
    } else {
      h[i] = h[--live];
    }
  }
  return sos_respondf("%lld", (long long)(sos_monotonic_ns() - t0));
}

void sos_main(void) {
  sos_method("rtt", rtt);
  sos_method("flood", flood);
}

/*
 * kvbench.c - the guest side of the storage benchmark.
 *
 *   fill N       puts keys k00000000..k(N-1) (16-byte values) in batches of
 *                256; answers the elapsed ns
 *   get N K      N gets of random keys among the first K; answers ns
 *   put N B TAG  N durable puts of keys TAG-i, B per batch (B = 1: one
 *                kv_put each); answers ns
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sos.h"

static const char val[16] = "0123456789abcdef";

/* Writes "k" and i as 8 decimal digits into key (9 bytes): cheap, so that
 * the benchmark times the store and not printf. */
static void key_of(char *key, uint32_t i) {
  key[0] = 'k';
  for (int d = 8; d >= 1; d--, i /= 10) key[d] = (char)('0' + i % 10);
}

static int fill(const struct sos_request *req) {
  int n = atoi(req->body);
  int64_t t0 = sos_monotonic_ns();
  for (int i = 0; i < n;) {
    struct sos_kv_batch b = {0};
    for (int j = 0; j < 256 && i < n; j++, i++) {
      char key[16];
      int kl = snprintf(key, sizeof key, "k%08d", i);
      sos_kv_batch_put(&b, key, (size_t)kl, val, sizeof val);
    }
    int status = sos_kv_batch_commit(&b, "data");
    sos_kv_batch_free(&b);
    if (status) return sos_fail(status, "fill failed at %d", i);
  }
  return sos_respondf("%lld", (long long)(sos_monotonic_ns() - t0));
}

static int get(const struct sos_request *req) {
  int n = 0, k = 0;
  if (sscanf(req->body, "%d %d", &n, &k) != 2 || k <= 0) return sos_fail(SOS_STATUS_INVALID, "N K");
  uint32_t x = 12345;
  char buf[64];
  size_t len;
  int64_t t0 = sos_monotonic_ns();
  for (int i = 0; i < n; i++) {
    x = x * 1664525u + 1013904223u;
    char key[9];
    key_of(key, x % (uint32_t)k);
    if (sos_kv_get_buf("data", key, sizeof key, buf, sizeof buf, &len))
      return sos_fail(SOS_STATUS_ERROR, "missing key %u", x % (uint32_t)k);
  }
  return sos_respondf("%lld", (long long)(sos_monotonic_ns() - t0));
}

static int put(const struct sos_request *req) {
  int n = 0, per = 1;
  char tag[32];
  if (sscanf(req->body, "%d %d %31s", &n, &per, tag) != 3 || per <= 0 || per > 256)
    return sos_fail(SOS_STATUS_INVALID, "N B TAG");
  int64_t t0 = sos_monotonic_ns();
  for (int i = 0; i < n;) {
    char key[48];
    int status;
    if (per == 1) {
      int kl = snprintf(key, sizeof key, "%s-%d", tag, i++);
      status = sos_kv_put("data", key, (size_t)kl, val, sizeof val);
    } else {
      struct sos_kv_batch b = {0};
      for (int j = 0; j < per && i < n; j++, i++) {
        int kl = snprintf(key, sizeof key, "%s-%d", tag, i);
        sos_kv_batch_put(&b, key, (size_t)kl, val, sizeof val);
      }
      status = sos_kv_batch_commit(&b, "data");
      sos_kv_batch_free(&b);
    }
    if (status) return sos_fail(status, "put failed at %d", i);
  }
  return sos_respondf("%lld", (long long)(sos_monotonic_ns() - t0));
}

void sos_main(void) {
  sos_method("fill", fill);
  sos_method("get", get);
  sos_method("put", put);
}

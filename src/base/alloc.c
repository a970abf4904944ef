/*
 * alloc.c - the one replaceable allocator.
 *
 * A thin layer over the C library's allocator with a fault-injection
 * counter: tests call sos_alloc_fail_at(n) to make the nth allocation from
 * then on fail, which lets them check that every error path unwinds
 * without leaking (SQLite's technique).  The counters are atomic so that
 * worker threads may allocate concurrently.
 */
#include "sos/base.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static _Atomic uint64_t count;   /* allocations since last reset */
static _Atomic uint64_t fail_at; /* 0: never fail */

static int should_fail(void) {
  uint64_t n = atomic_fetch_add(&count, 1) + 1;
  uint64_t f = atomic_load(&fail_at);
  return f != 0 && n >= f;
}

uint64_t sos_alloc_fail_at(uint64_t n) {
  uint64_t made = atomic_exchange(&count, 0);
  atomic_store(&fail_at, n);
  return made;
}

void *sos_malloc(size_t n) {
  if (should_fail()) return NULL;
  return malloc(n ? n : 1);
}

void *sos_calloc(size_t count_, size_t size) {
  if (should_fail()) return NULL;
  if (count_ == 0 || size == 0) return calloc(1, 1);
  /* glibc's calloc bypasses its per-thread cache (tcache): a small block
   * is cheaper as malloc and memset, and its free then refills the cache
   * instead of reaching the arena (measured on the kernel's request path:
   * docs/performance.md). */
  if (count_ <= 1024 / size) {
    void *p = malloc(count_ * size);
    return p ? memset(p, 0, count_ * size) : NULL;
  }
  return calloc(count_, size);
}

void *sos_realloc(void *p, size_t n) {
  if (n == 0) {
    free(p);
    return NULL;
  }
  if (should_fail()) return NULL;
  return realloc(p, n);
}

void sos_free(void *p) { free(p); }

char *sos_strndup(const char *s, size_t n) {
  char *d = sos_malloc(n + 1);
  if (!d) return NULL;
  memcpy(d, s, n);
  d[n] = 0;
  return d;
}

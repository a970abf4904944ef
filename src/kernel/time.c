/*
 * time.c - the kernel's clocks and its one timer heap.
 *
 * Every deadline in the node (request timeouts, sleeps, await timeouts)
 * is a struct ktimer embedded in the object it belongs to, kept in a
 * binary min-heap ordered by time.  Each ktimer remembers its heap index,
 * so clearing one (a call finishing before its deadline, the common case)
 * is O(log n) without searching.  Workers add timers under k->mu; when a
 * new timer becomes the earliest they wake the loop, which re-arms its one
 * uv_timer (libuv timers may only be touched on the loop thread).
 */
#include "kernel/kernel.h"

#include <time.h>

static uint64_t clock_ns(clockid_t id) {
  struct timespec t;
  clock_gettime(id, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

uint64_t sos__k_now(void) { return clock_ns(CLOCK_MONOTONIC); }

/* The monotonic time ms from now.  A call computes its deadline on every
 * call, and CLOCK_MONOTONIC costs 16 ns where the tick-grained
 * CLOCK_MONOTONIC_COARSE costs 4: long timeouts (the usual seconds) use
 * the coarse clock plus its resolution, so that they are never early and
 * at most a tick (4 ms at 250 Hz) late; short ones keep the exact clock. */
uint64_t sos__k_after_ms(uint64_t ms) {
  static int64_t res = -1; /* the coarse clock's resolution, read once */
  int64_t r = __atomic_load_n(&res, __ATOMIC_RELAXED);
  if (r < 0) {
    struct timespec t;
    r = clock_getres(CLOCK_MONOTONIC_COARSE, &t) ? 0 : t.tv_sec * 1000000000 + t.tv_nsec;
    __atomic_store_n(&res, r, __ATOMIC_RELAXED);
  }
  if (ms < 1000 || !r) return sos__k_now() + ms * 1000000u;
  return clock_ns(CLOCK_MONOTONIC_COARSE) + (uint64_t)r + ms * 1000000u;
}
uint64_t sos__k_wall(void) { return clock_ns(CLOCK_REALTIME); }

static void place(struct kernel *k, uint32_t i, struct ktimer *t) {
  k->heap[i] = t;
  t->idx = (int32_t)i;
}

static void sift_up(struct kernel *k, uint32_t i) {
  struct ktimer *t = k->heap[i];
  while (i > 0) {
    uint32_t parent = (i - 1) / 2;
    if (k->heap[parent]->at <= t->at) break;
    place(k, i, k->heap[parent]);
    i = parent;
  }
  place(k, i, t);
}

static void sift_down(struct kernel *k, uint32_t i) {
  struct ktimer *t = k->heap[i];
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= k->nheap) break;
    if (c + 1 < k->nheap && k->heap[c + 1]->at < k->heap[c]->at) c++;
    if (t->at <= k->heap[c]->at) break;
    place(k, i, k->heap[c]);
    i = c;
  }
  place(k, i, t);
}

/* Sets (or moves) t to fire at `at`.  Wakes the loop when t becomes the
 * earliest and is earlier than the loop's timer is armed for (a later one
 * is re-armed for when that timer fires, without waking anyone now: a
 * call's deadline is set and cleared on every call).  Out of memory leaves t unset; its owner then waits for its
 * other way out (every timed wait has one: the request's own end). */
void sos__k_timer_set(struct kernel *k, struct ktimer *t, uint64_t at) {
  if (t->idx >= 0) { /* moves: a plan's steps mostly keep one deadline */
    if (t->at == at) return;
    bool later = at > t->at;
    t->at = at;
    if (later) {
      sift_down(k, (uint32_t)t->idx);
      return; /* the loop wakes for it earlier, and re-arms */
    }
    sift_up(k, (uint32_t)t->idx);
    goto wake;
  }
  if (k->nheap == k->capheap) {
    uint32_t cap = k->capheap ? k->capheap * 2 : 64;
    struct ktimer **h = sos_realloc(k->heap, cap * sizeof *h);
    if (!h) return;
    k->heap = h;
    k->capheap = cap;
  }
  t->at = at;
  place(k, k->nheap++, t);
  sift_up(k, (uint32_t)t->idx);
wake:
  if (t->idx == 0 && (!k->armed_at || at < k->armed_at)) { /* earlier than the loop knows */
    k->armed_at = at;
    uv_async_send(&k->main.wake);
  }
}

/* Removes t from the heap if it is there. */
void sos__k_timer_clear(struct kernel *k, struct ktimer *t) {
  if (t->idx < 0) return;
  uint32_t i = (uint32_t)t->idx;
  t->idx = -1;
  struct ktimer *last = k->heap[--k->nheap];
  if (i == k->nheap) return;
  place(k, i, last);
  sift_down(k, i);
  sift_up(k, (uint32_t)last->idx);
}

struct ktimer *sos__k_timer_due(struct kernel *k, uint64_t now) {
  if (!k->nheap || k->heap[0]->at > now) return NULL;
  struct ktimer *t = k->heap[0];
  sos__k_timer_clear(k, t);
  return t;
}

/* The loop's timer callback: fires every due timer. */
static void on_timer(uv_timer_t *h) {
  struct kernel *k = h->data;
  pthread_mutex_lock(&k->mu);
  uint64_t now = sos__k_now();
  struct ktimer *t;
  while ((t = sos__k_timer_due(k, now))) sos__k_timer_fired(k, t);
  pthread_mutex_unlock(&k->mu);
  sos__k_timer_arm(k);
}

void sos__k_timer_arm(struct kernel *k) {
  pthread_mutex_lock(&k->mu);
  bool any = k->nheap > 0;
  uint64_t at = any ? k->heap[0]->at : 0;
  k->armed_at = at;
  pthread_mutex_unlock(&k->mu);
  if (!any) {
    uv_timer_stop(&k->timer);
    return;
  }
  uint64_t now = sos__k_now();
  uint64_t ms = at > now ? (at - now + 999999) / 1000000 : 0;
  k->timer.data = k;
  uv_timer_start(&k->timer, on_timer, ms, 0);
}

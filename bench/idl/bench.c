/*
 * bench.c - the cost of the generated wire codec: encoding and decoding
 * the typical request of bench.sos (ten fields: three integers, two
 * texts of 12 and 17 bytes, a bool, an f64, an enum, a list of four u32,
 * a nested struct of two fields) with the C that `sos idl` generates and
 * the guest runtime sdk/sos_wire.c, compiled natively with gcc -O2 (what
 * the guest compiles to wasm32; the engine's own cost is measured by
 * bench/micro.c).
 *
 * Each round clears a write buffer on the stack, encodes, resets an
 * arena on the stack and decodes, as a service does per request; nothing
 * allocates.  The figure is the best of five runs of ROUNDS rounds, in
 * nanoseconds per round (encode + decode), then each half alone.  The
 * decoded value is checked against the original every round's end, so
 * the work cannot be optimised away and a wrong codec fails loudly.
 *
 * Output, one line for scripts/bench.sh:
 *   idl: encode+decode NS ns (encode NS, decode NS; BYTES-byte request of 10 fields)
 */
#include "bench.sos.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROUNDS 2000000
#define RUNS 5

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint32_t shards[] = {3, 17, 300, 65536};

/* The request every round sends. */
static void fill(bench_Request *r) {
  memset(r, 0, sizeof *r);
  r->id = 1234567890123ull;
  r->count = 25;
  r->offset = -40;
  r->user = SOS_TEXT("ada@example.");
  r->path = SOS_TEXT("/v1/things/42/new");
  r->urgent = true;
  r->score = 0.875;
  r->level = bench_Level_high;
  r->shards.items = shards;
  r->shards.n = 4;
  r->origin.x = 100;
  r->origin.y = -7;
}

/* Whether d decoded back into what fill wrote. */
static int same(const bench_Request *a, const bench_Request *d) {
  return d->id == a->id && d->count == a->count && d->offset == a->offset &&
         d->user.len == a->user.len && memcmp(d->user.p, a->user.p, a->user.len) == 0 &&
         d->path.len == a->path.len && d->urgent == a->urgent && d->score == a->score &&
         d->level == a->level && d->shards.n == 4 && d->shards.items[3] == 65536 &&
         d->origin.x == 100 && d->origin.y == -7;
}

/* One run of `rounds` rounds of what mode says (1 encode, 2 decode, 3
 * both); ns per round. */
static double run(const bench_Request *req, int mode, long rounds) {
  uint8_t wstack[256], astack[256];
  sos_wbuf w;
  sos_arena a;
  bench_Request back;
  sos_wbuf_init(&w, wstack, sizeof wstack);
  sos_arena_init(&a, astack, sizeof astack);
  bench_Request_encode(req, &w); /* the bytes that decode-only rounds read */
  double t0 = now_ns();
  for (long i = 0; i < rounds; i++) {
    if (mode & 1) {
      sos_wbuf_clear(&w);
      if (bench_Request_encode(req, &w)) abort();
    }
    if (mode & 2) {
      sos_arena_reset(&a);
      if (bench_Request_decode(&back, w.p, w.len, &a)) abort();
    }
    __asm__ volatile("" : : "g"(w.p), "g"(&back) : "memory"); /* keep every round */
  }
  double t = (now_ns() - t0) / (double)rounds;
  if ((mode & 2) && !same(req, &back)) {
    fprintf(stderr, "idl bench: the request did not decode to itself\n");
    exit(1);
  }
  if (w.heap || a.blocks) {
    fprintf(stderr, "idl bench: the codec allocated\n");
    exit(1);
  }
  return t;
}

/* The best of RUNS runs. */
static double best(const bench_Request *req, int mode, long rounds) {
  double b = 0;
  for (int r = 0; r < RUNS; r++) {
    double t = run(req, mode, rounds);
    if (r == 0 || t < b) b = t;
  }
  return b;
}

/* sos_wire.c's one link to the SDK's calls (sos.c), which a native
 * benchmark of the codec never makes. */
int sos_result_into(int handle, void *buf, size_t cap, size_t *len);
int sos_result_into(int handle, void *buf, size_t cap, size_t *len) {
  (void)handle, (void)buf, (void)cap;
  *len = 0;
  return SOS_STATUS_INVALID;
}

int main(int argc, char **argv) {
  long rounds = argc > 1 ? atol(argv[1]) : ROUNDS;
  if (rounds <= 0) rounds = ROUNDS;
  bench_Request req;
  uint8_t stack[256];
  sos_wbuf w;
  fill(&req);
  sos_wbuf_init(&w, stack, sizeof stack);
  if (bench_Request_encode(&req, &w)) return 1;
  double both = best(&req, 3, rounds), enc = best(&req, 1, rounds), dec = best(&req, 2, rounds);
  printf("idl: encode+decode %.1f ns (encode %.1f, decode %.1f; %zu-byte request of 10 fields)\n",
         both, enc, dec, w.len);
  return 0;
}

/*
 * kernel_fib.c - direct calls: naive recursive Fibonacci.
 *
 * Almost all of the time is call and return of a two-instruction
 * function, so this measures the cost of a direct call (frame set-up,
 * argument passing, return) more than anything else.  One unit of work
 * is fib(27) or fib(28): 0.6 to 1 million calls.
 */
#include "bench.h"

__attribute__((noinline)) static uint32_t fib(uint32_t k) {
  return k < 2 ? k : fib(k - 1) + fib(k - 2);
}

/* n times fib(27 + i % 2), mixed into one checksum. */
uint64_t run(uint32_t n) {
  uint64_t h = 0;
  for (uint32_t i = 0; i < n; i++) h = bench_mix(h, fib(27 + (i & 1)));
  return h;
}

BENCH_SIZES(800, 12)

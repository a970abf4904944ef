/*
 * kernel_sieve.c - integer and memory: the sieve of Eratosthenes.
 *
 * One unit marks the composites below 1,000,000 in a byte array and
 * counts the primes: strided byte stores over a 1 MB array (more than
 * L2) and a branchy counting pass.  Measures memory bounds checks and
 * byte loads/stores in tight loops.
 */
#include "bench.h"

#define LIMIT 1000000

static uint8_t composite[LIMIT];

static uint32_t sieve(uint32_t limit) {
  for (uint32_t i = 0; i < limit; i++) composite[i] = 0;
  for (uint32_t i = 2; i * i < limit; i++)
    if (!composite[i])
      for (uint32_t j = i * i; j < limit; j += i) composite[j] = 1;
  uint32_t count = 0;
  for (uint32_t i = 2; i < limit; i++) count += !composite[i];
  return count;
}

/* n sieves with slightly different limits. */
uint64_t run(uint32_t n) {
  uint64_t h = 0;
  for (uint32_t i = 0; i < n; i++) h = bench_mix(h, sieve(LIMIT - (i & 255)));
  return h;
}

BENCH_SIZES(300, 3)

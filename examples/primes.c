/*
 * primes.c - counts primes with the sieve of Eratosthenes and times it.
 *
 * Run:  build/sos wasm run build/examples/primes.wasm [LIMIT]
 * A tight loop over linear memory: a fair first look at the engine's speed.
 * Timing uses clock_gettime(CLOCK_MONOTONIC), WASI's clock_time_get.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  long limit = argc > 1 ? atol(argv[1]) : 5000000;
  if (limit < 2) {
    fprintf(stderr, "usage: primes [LIMIT >= 2]\n");
    return 2;
  }
  unsigned char *composite = calloc((size_t)limit + 1, 1);
  if (!composite) {
    fprintf(stderr, "primes: not enough memory for a sieve of %ld\n", limit);
    return 1;
  }
  double start = seconds();
  for (long i = 2; i * i <= limit; i++)
    if (!composite[i])
      for (long j = i * i; j <= limit; j += i) composite[j] = 1;
  long count = 0, last[5] = {0};
  for (long i = 2; i <= limit; i++)
    if (!composite[i]) last[count++ % 5] = i;
  double took = seconds() - start;

  printf("%ld primes up to %ld, found in %.1f ms\n", count, limit, took * 1e3);
  printf("the largest:");
  for (long k = count - 5; k < count; k++)
    if (k >= 0) printf(" %ld", last[k % 5]);
  printf("\n");
  free(composite);
  return 0;
}

/*
 * native_main.c - times one benchmark kernel compiled natively.
 *
 * Linked with one kernel_*.c (gcc -O2), this is the "native" column of
 * scripts/bench.sh.  Usage: bench-native-KERNEL [N | interp]: runs run(N)
 * once, N defaulting to the kernel's bench_n(); "interp" uses the smaller
 * bench_interp_n() so the checksum can be compared with wasm-interp's.
 * Prints "n=N checksum=C run_s=S" on one line; S is wall-clock seconds
 * of run() alone, measured with CLOCK_MONOTONIC.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  uint32_t n = bench_n();
  if (argc > 1)
    n = strcmp(argv[1], "interp") == 0 ? bench_interp_n()
                                       : (uint32_t)strtoul(argv[1], NULL, 0);
  double t0 = now();
  uint64_t sum = run(n);
  double t1 = now();
  printf("n=%u checksum=%llu run_s=%.6f\n", n, (unsigned long long)sum, t1 - t0);
  return 0;
}

/*
 * kernel_matmul.c - memory: dense matrix multiplication.
 *
 * C = A x B for 128 x 128 matrices of f64, in the i-k-j loop order that
 * streams rows of B and C: loads and stores through computed addresses,
 * which in WebAssembly are bounds-checked linear-memory accesses.  The
 * three matrices (384 KiB) fit in L2.  One unit is one product, about
 * 2 million multiply-adds; the checksum is the bits of the trace.
 */
#include "bench.h"

#define N 128

static double a[N][N], b[N][N], c[N][N];

static void init(uint32_t seed) {
  uint32_t x = seed * 2654435761u + 1;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) {
      x = x * 1664525u + 1013904223u;
      a[i][j] = (double)(x >> 16) / 65536.0 - 0.5;
      x = x * 1664525u + 1013904223u;
      b[i][j] = (double)(x >> 16) / 65536.0 - 0.5;
    }
}

static void multiply(void) {
  for (int i = 0; i < N; i++) {
    for (int j = 0; j < N; j++) c[i][j] = 0;
    for (int k = 0; k < N; k++) {
      double aik = a[i][k];
      for (int j = 0; j < N; j++) c[i][j] += aik * b[k][j];
    }
  }
}

/* n products; the inputs change every 16 so nothing can be hoisted. */
uint64_t run(uint32_t n) {
  uint64_t h = 0;
  for (uint32_t i = 0; i < n; i++) {
    if ((i & 15) == 0) init(i);
    multiply();
    double trace = 0;
    for (int k = 0; k < N; k++) trace += c[k][k] + c[k][N - 1 - k];
    h = bench_mix(h, bench_f64_bits(trace));
  }
  return h;
}

BENCH_SIZES(800, 3)

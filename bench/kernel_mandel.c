/*
 * kernel_mandel.c - floating point: the Mandelbrot set.
 *
 * A 256 x 256 image of the set with up to 64 iterations per point: f64
 * multiply and add in a loop with a data-dependent exit.  Almost no
 * memory traffic; measures arithmetic and loop-branch cost.
 */
#include "bench.h"

static uint32_t point(double cr, double ci) {
  double zr = 0, zi = 0;
  uint32_t k = 0;
  while (k < 64 && zr * zr + zi * zi <= 4.0) {
    double t = zr * zr - zi * zi + cr;
    zi = 2 * zr * zi + ci;
    zr = t;
    k++;
  }
  return k;
}

static uint64_t image(double shift) {
  uint64_t h = 0;
  for (int y = 0; y < 256; y++) {
    uint32_t row = 0;
    for (int x = 0; x < 256; x++)
      row = row * 31 + point(-2.0 + shift + x * (3.0 / 256), -1.5 + y * (3.0 / 256));
    h = bench_mix(h, row);
  }
  return h;
}

/* n images, each shifted a little. */
uint64_t run(uint32_t n) {
  uint64_t h = 0;
  for (uint32_t i = 0; i < n; i++) h = bench_mix(h, image((i & 15) * 0.001));
  return h;
}

BENCH_SIZES(200, 4)

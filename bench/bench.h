/*
 * bench.h - what every benchmark kernel provides.
 *
 * A kernel is one small C file with no library dependence, built twice:
 * natively (gcc -O2, linked with native_main.c, which times it) and for
 * wasm32 (clang -O2 -nostdlib, no imports at all), so the same code runs
 * natively, in SOS, in V8 and in wabt's wasm-interp.  Its entry point is
 * run(n): n repetitions of a fixed unit of work, so time grows linearly
 * in n and a slow engine can be timed on a smaller n and scaled.  run
 * returns a 64-bit checksum of everything it computed; every port of a
 * kernel must return the same checksum for the same n.
 *
 * BENCH_SIZES(n, interp_n) defines three tiny helpers that the drivers
 * call: bench_n() (repetitions for a run of a few tenths of a second
 * natively), bench_interp_n() (the smaller count for wasm-interp) and
 * run_interp() = run(interp_n), which takes no argument because
 * wasm-interp can only call exports with `--run-all-exports`, and then
 * only those without parameters.
 */
#ifndef SOS_BENCH_H
#define SOS_BENCH_H

#include <stdint.h>

uint64_t run(uint32_t n);
uint32_t bench_n(void);
uint32_t bench_interp_n(void);
uint64_t run_interp(void);

#define BENCH_SIZES(n, interp_n)                                             \
  uint32_t bench_n(void) { return (n); }                                     \
  uint32_t bench_interp_n(void) { return (interp_n); }                       \
  uint64_t run_interp(void) { return run(interp_n); }

/* The exact bits of a double, for checksums that must match everywhere. */
static inline uint64_t bench_f64_bits(double d) {
  union {
    double d;
    uint64_t u;
  } v;
  v.d = d;
  return v.u;
}

/* One step of a 64-bit mixing function (the finaliser of SplitMix64). */
static inline uint64_t bench_mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  h ^= h >> 31;
  h *= 0xbf58476d1ce4e5b9ull;
  return h ^ (h >> 29);
}

#endif

/*
 * kernel_hash.c - integer arithmetic: hashing a buffer.
 *
 * Fills a 64 KiB buffer with xorshift output, then hashes it twice per
 * unit: byte at a time with 32-bit FNV-1a (loads of bytes, xor, 32-bit
 * multiply) and word at a time with a 64-bit multiply-rotate mix (64-bit
 * loads and multiplies).  Little memory traffic beyond the L1-resident
 * buffer, so this is mostly ALU throughput and loop overhead.
 */
#include "bench.h"

#define WORDS 8192

static uint64_t buf[WORDS];

static void fill(uint64_t seed) {
  uint64_t x = seed | 1;
  for (uint32_t i = 0; i < WORDS; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    buf[i] = x;
  }
}

static uint32_t fnv1a(const uint8_t *p, uint32_t len) {
  uint32_t h = 2166136261u;
  for (uint32_t i = 0; i < len; i++) h = (h ^ p[i]) * 16777619u;
  return h;
}

static uint64_t mix64(const uint64_t *p, uint32_t n) {
  uint64_t h = 0x243f6a8885a308d3ull;
  for (uint32_t i = 0; i < n; i++) {
    uint64_t k = p[i] * 0x87c37b91114253d5ull;
    k = (k << 31) | (k >> 33);
    h = ((h ^ k) << 27 | (h ^ k) >> 37) * 5 + 0x52dce729;
  }
  return h;
}

/* n units: refill with a new seed, hash both ways. */
uint64_t run(uint32_t n) {
  uint64_t h = 0;
  for (uint32_t i = 0; i < n; i++) {
    fill(i + 1);
    h = bench_mix(h, fnv1a((const uint8_t *)buf, sizeof buf));
    h = bench_mix(h, mix64(buf, WORDS));
  }
  return h;
}

BENCH_SIZES(5000, 80)

/*
 * kernel_dispatch.c - indirect calls through a table of function pointers.
 *
 * Each step picks one of eight small functions from the current state and
 * calls it through a pointer, as a plug-in interface or a vtable would.
 * The index depends on the previous result, so no compiler can turn the
 * calls into direct ones.  In WebAssembly each is a call_indirect with its
 * table bounds check and signature check.  One unit is 1,000,000 calls.
 */
#include "bench.h"

typedef uint32_t (*op_fn)(uint32_t x, uint32_t k);

static uint32_t op_add(uint32_t x, uint32_t k) { return x + k; }
static uint32_t op_sub(uint32_t x, uint32_t k) { return x - k * 3; }
static uint32_t op_mul(uint32_t x, uint32_t k) { return x * (k | 1); }
static uint32_t op_xor(uint32_t x, uint32_t k) { return x ^ (k << 7); }
static uint32_t op_rol(uint32_t x, uint32_t k) { return ((x << 5) | (x >> 27)) + (k & 1); }
static uint32_t op_shr(uint32_t x, uint32_t k) { return x ^ (x >> (k & 15)); }
static uint32_t op_not(uint32_t x, uint32_t k) { return ~x + k; }
static uint32_t op_mix(uint32_t x, uint32_t k) { return (x ^ k) * 0x9e3779b1u; }

/* Not const, so the table really lives in memory and calls stay indirect. */
static op_fn table[8] = {op_add, op_sub, op_mul, op_xor,
                         op_rol, op_shr, op_not, op_mix};

/* n units of 1,000,000 dispatches each. */
uint64_t run(uint32_t n) {
  uint64_t h = 0;
  uint32_t x = 12345;
  for (uint32_t i = 0; i < n; i++) {
    for (uint32_t j = 0; j < 1000000; j++) x = table[(x >> 13) & 7](x, j);
    h = bench_mix(h, x);
  }
  return h;
}

BENCH_SIZES(120, 4)

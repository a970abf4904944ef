/*
 * kernel_sort.c - memory: sorting integers.
 *
 * Fills an array of 100,000 32-bit keys from a linear congruential
 * generator and sorts it with a hand-written quicksort (median of three,
 * insertion sort below 16 elements): unpredictable compare branches,
 * loads and stores all over a 400 KB array, and recursion.  One unit is
 * one fill and sort; the checksum samples the sorted order.
 */
#include "bench.h"

#define LEN 100000

static uint32_t keys[LEN];

static void insertion(uint32_t *v, int n) {
  for (int i = 1; i < n; i++) {
    uint32_t k = v[i];
    int j = i - 1;
    while (j >= 0 && v[j] > k) {
      v[j + 1] = v[j];
      j--;
    }
    v[j + 1] = k;
  }
}

static void swap(uint32_t *x, uint32_t *y) {
  uint32_t t = *x;
  *x = *y;
  *y = t;
}

static void quicksort(uint32_t *v, int n) {
  while (n > 16) {
    int mid = n / 2;
    if (v[mid] < v[0]) swap(&v[mid], &v[0]);
    if (v[n - 1] < v[0]) swap(&v[n - 1], &v[0]);
    if (v[n - 1] < v[mid]) swap(&v[n - 1], &v[mid]);
    uint32_t pivot = v[mid];
    int i = 0, j = n - 1;
    for (;;) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i >= j) break;
      swap(&v[i++], &v[j--]);
    }
    quicksort(v, j + 1); /* recurse on the left, loop on the right */
    v += j + 1;
    n -= j + 1;
  }
  insertion(v, n);
}

/* n fills and sorts. */
uint64_t run(uint32_t n) {
  uint64_t h = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t x = i + 1;
    for (int k = 0; k < LEN; k++) keys[k] = x = x * 1103515245u + 12345u;
    quicksort(keys, LEN);
    for (int k = 0; k < LEN; k += 997) h = bench_mix(h, keys[k]);
  }
  return h;
}

BENCH_SIZES(80, 2)

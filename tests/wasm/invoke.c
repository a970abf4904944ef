/* invoke.c - exports for `sos wasm run --invoke`. */
#include <stdint.h>

__attribute__((export_name("add"))) int add(int a, int b) { return a + b; }

__attribute__((export_name("fact"))) int64_t fact(int64_t n) {
  int64_t r = 1;
  for (int64_t i = 2; i <= n; i++) r *= i;
  return r;
}

__attribute__((export_name("half"))) double half(double x) { return x / 2; }

int main(void) { return 0; }

/* trap.c - traps in the way argv[1] names: unreachable, oob, div0,
 * recurse (call stack exhaustion) or loop (runs until fuel runs out). */
#include <stdio.h>
#include <string.h>

volatile int sink;

/* Not tail-recursive: the store after the call keeps every frame alive,
 * and no local lives in linear memory, so the wasm call stack overflows
 * before the C shadow stack does. */
static int recurse(int n) {
  if (n == -1) return 0;
  int r = recurse(n + 1);
  sink = r;
  return r + 1;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  printf("trapping: %s\n", mode);
  fflush(stdout);
  if (strcmp(mode, "unreachable") == 0) __builtin_trap();
  if (strcmp(mode, "oob") == 0) {
    volatile int *far = (volatile int *)0xfffffff0u;
    return *far;
  }
  if (strcmp(mode, "div0") == 0) {
    volatile int zero = 0;
    return 10 / zero;
  }
  if (strcmp(mode, "recurse") == 0) return recurse(0);
  if (strcmp(mode, "loop") == 0)
    for (;;) sink++;
  return 0;
}

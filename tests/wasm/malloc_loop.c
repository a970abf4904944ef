/* malloc_loop.c - allocates 64 KiB blocks until malloc fails, then reports
 * how far it got.  Under --max-memory the failure must be a clean NULL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where each block goes, so that the compiler cannot drop the calls. */
char *volatile last;

int main(void) {
  size_t total = 0;
  for (;;) {
    char *p = malloc(65536);
    if (!p) break;
    memset(p, 0xab, 65536); /* touch it: the memory must really be there */
    last = p;
    total += 65536;
    if (total > (size_t)3 << 30) break;
  }
  printf("malloc returned NULL after %zu KiB\n", total / 1024);
  return 0;
}

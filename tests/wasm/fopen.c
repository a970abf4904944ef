/* fopen.c - opening files must fail cleanly: there is no file system. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

int main(void) {
  FILE *f = fopen("/etc/passwd", "r");
  if (f) {
    puts("fopen unexpectedly succeeded");
    return 1;
  }
  printf("fopen failed: %s\n", strerror(errno));
  f = fopen("out.txt", "w");
  printf("fopen for writing %s\n", f ? "succeeded" : "failed");
  return 0;
}

/* seek.c - lseek on stdin; prints ESPIPE when stdin is a pipe, the new
 * offset otherwise. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

int main(void) {
  off_t r = lseek(0, 0, SEEK_CUR);
  if (r < 0 && errno == ESPIPE) puts("ESPIPE");
  else if (r < 0) printf("error %d\n", errno);
  else printf("offset %lld\n", (long long)r);
  return 0;
}

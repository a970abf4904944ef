/* random.c - fills buffers with getentropy (random_get) and checks that
 * they are filled and differ. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
  unsigned char a[64], b[64];
  memset(a, 0, sizeof a);
  memset(b, 0, sizeof b);
  if (getentropy(a, sizeof a) || getentropy(b, sizeof b)) {
    puts("random FAILED");
    return 1;
  }
  int zeros = 0;
  for (size_t i = 0; i < sizeof a; i++) zeros += a[i] == 0;
  printf("random %s\n", zeros < 8 && memcmp(a, b, sizeof a) ? "ok" : "NOT RANDOM");
  return 0;
}

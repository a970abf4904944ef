/* clock.c - checks that the monotonic clock increases, that the real-time
 * clock is plausible and that nanosleep sleeps. */
#include <stdio.h>
#include <time.h>

static long long ns(clockid_t id) {
  struct timespec t;
  if (clock_gettime(id, &t)) return -1;
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(void) {
  long long prev = ns(CLOCK_MONOTONIC);
  int bad = 0;
  for (int i = 0; i < 1000; i++) {
    long long now = ns(CLOCK_MONOTONIC);
    if (now < prev) bad = 1;
    prev = now;
  }
  struct timespec nap = {0, 20 * 1000000};
  long long before = ns(CLOCK_MONOTONIC);
  nanosleep(&nap, NULL);
  long long slept = ns(CLOCK_MONOTONIC) - before;
  long long real = ns(CLOCK_REALTIME) / 1000000000LL;
  printf("monotonic %s\n", bad || prev <= 0 ? "BROKEN" : "increasing");
  printf("sleep %s\n", slept >= 20000000 ? "ok" : "TOO SHORT");
  printf("realtime %s\n", real > 1600000000LL ? "plausible" : "WRONG");
  printf("cputime %s\n", ns(CLOCK_PROCESS_CPUTIME_ID) > 0 ? "ok" : "BROKEN");
  return 0;
}

/*
 * hello.c - the smallest tour of WASI: arguments, environment, clocks.
 *
 * Run:  build/sos wasm run --env GREETING=Hi build/examples/hello.wasm Ada
 * The program sees only the arguments and environment variables that the
 * command line hands it; nothing leaks in from the host.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

extern char **environ;

int main(int argc, char **argv) {
  const char *greeting = getenv("GREETING");
  const char *name = argc > 1 ? argv[1] : "world";
  printf("%s, %s! This is C compiled to WebAssembly, running on SOS.\n",
         greeting ? greeting : "Hello", name);

  for (int i = 0; i < argc; i++) printf("  argv[%d] = %s\n", i, argv[i]);
  int n = 0;
  for (char **e = environ; *e; e++, n++) printf("  env: %s\n", *e);
  printf("  %d environment variable%s (only what --env passed in)\n", n,
         n == 1 ? "" : "s");

  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  char when[64];
  strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
  printf("  the host clock says %s\n", when);
  return 0;
}

/* args.c - prints its arguments and environment, one per line. */
#include <stdio.h>

extern char **environ;

int main(int argc, char **argv) {
  for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
  int n = 0;
  for (char **e = environ; *e; e++, n++) printf("env %s\n", *e);
  printf("envc=%d\n", n);
  return 0;
}

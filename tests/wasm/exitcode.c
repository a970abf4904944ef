/* exitcode.c - `exitcode return N` returns N from main; `exitcode exit N`
 * calls exit(N) (proc_exit) from a nested function. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void leave(int code) {
  printf("exiting with %d\n", code);
  exit(code);
}

int main(int argc, char **argv) {
  if (argc != 3) return 100;
  int code = atoi(argv[2]);
  if (strcmp(argv[1], "exit") == 0) leave(code);
  return code;
}

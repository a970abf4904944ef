/*
 * main.c - runs every registered unit test, each in a forked child with a
 * 60-second alarm, and prints "unit: N passed, N failed".  An argument
 * runs only the tests whose names contain it.
 */
#include "test.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static struct sos_test *head, **tail = &head;
int sos_test_failures;

void sos_test_register(struct sos_test *t) {
  *tail = t;
  tail = &t->next;
}

void sos_test_fail(const char *file, int line, const char *expr) {
  fprintf(stderr, "  %s:%d: check failed: %s\n", file, line, expr);
  sos_test_failures++;
}

static int run_one(struct sos_test *t) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    alarm(60);
    t->fn();
    exit(sos_test_failures ? 1 : 0);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) < 0) return 0;
  if (WIFSIGNALED(status))
    fprintf(stderr, "  %s: killed by signal %d\n", t->name, WTERMSIG(status));
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(int argc, char **argv) {
  int passed = 0, failed = 0;
  for (struct sos_test *t = head; t; t = t->next) {
    if (argc > 1 && !strstr(t->name, argv[1])) continue;
    if (run_one(t)) {
      passed++;
    } else {
      failed++;
      printf("FAIL %s\n", t->name);
    }
  }
  printf("unit: %d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}

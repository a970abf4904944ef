/*
 * spin.c - a handler that never returns.
 *
 *   spin  -> never answers; the caller gets "timed out" after 1 s
 *   ok    -> "ok", to show the service still answers afterwards
 *
 * The loop makes no system call, so nothing suspends it: the engine's
 * fuel preempts it and the kernel ends the request at its deadline,
 * while the node's other instances keep running.
 */
#include "sos.h"

static int spin(const struct sos_request *req) {
  (void)req;
  volatile unsigned long long n = 0; /* volatile: the loop must really run */
  for (;;) n++;
}

static int ok(const struct sos_request *req) {
  (void)req;
  return sos_respond_str("ok");
}

void sos_main(void) {
  sos_method("spin", spin);
  sos_method("ok", ok);
}

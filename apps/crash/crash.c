/*
 * crash.c - a service that traps on request.
 *
 *   trap  -> executes `unreachable`; the caller gets "the instance trapped"
 *   ok    -> "ok"
 *
 * A trap fails the request it happened in and retires the instance; the
 * kernel starts a fresh one for the next request, and backs off when
 * traps keep coming.
 */
#include "sos.h"

static int trap(const struct sos_request *req) {
  (void)req;
  __builtin_trap();
}

static int ok(const struct sos_request *req) {
  (void)req;
  return sos_respond_str("ok");
}

void sos_main(void) {
  sos_method("trap", trap);
  sos_method("ok", ok);
}

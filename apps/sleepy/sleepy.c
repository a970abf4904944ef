/*
 * sleepy.c - suspension: a handler that sleeps.
 *
 *   nap  MS  -> "slept", after MS milliseconds (decimal, up to the
 *               service's 10 s timeout)
 *
 * sos_sleep_ms suspends the instance in the kernel: no worker thread
 * waits for it, so many naps cost no more than many idle instances.  A
 * nap longer than the request's deadline ends in "timed out".
 */
#include <stdlib.h>

#include "sos.h"

static int nap(const struct sos_request *req) {
  char *end;
  long long ms = strtoll(req->body, &end, 10);
  if (!req->len || *end || ms < 0)
    return sos_fail(SOS_STATUS_INVALID, "nap wants milliseconds as a decimal number, "
                    "not \"%s\"", req->body);
  sos_info("napping %lld ms", ms);
  sos_sleep_ms(ms);
  return sos_respond_str("slept");
}

void sos_main(void) { sos_method("nap", nap); }

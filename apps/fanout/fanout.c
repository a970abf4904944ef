/*
 * fanout.c - calling other services in parallel.
 *
 *   both  NAME  -> hello.greet(NAME) and counter.incr() as two lines:
 *                  "hello, NAME\n7"
 *   seq   NAME  -> the same, one call after the other with sos_call
 *
 * In `both` the two calls start at once with sos_call_async and the
 * handler suspends in sos_await_all until both have finished, so the
 * request takes as long as the slower call rather than the sum.  Neither
 * call sets a timeout of its own (0): each gets the rest of this request's
 * deadline.  If either call fails, so does the request, with that call's
 * status and message.
 */
#include <stdlib.h>

#include "sos.h"

static int both(const struct sos_request *req) {
  int h[2];
  h[0] = sos_call_async("hello", "greet", req->body, req->len, 0);
  if (h[0] < 0) return sos_fail(-h[0], "hello.greet: %s", sos_status_text(h[0]));
  h[1] = sos_call_async("counter", "incr", "", 0, 0);
  if (h[1] < 0) return sos_fail(-h[1], "counter.incr: %s", sos_status_text(h[1]));
  int rc = sos_await_all(h, 2, SOS_FOREVER);
  if (rc < 0) return sos_fail(-rc, "waiting: %s", sos_status_text(rc));

  char *greeting, *count;
  size_t glen, clen;
  int gs = sos_result(h[0], &greeting, &glen);
  int cs = sos_result(h[1], &count, &clen);
  int status;
  if (gs)
    status = sos_fail(gs, "hello.greet: %s", greeting ? greeting : sos_status_text(gs));
  else if (cs)
    status = sos_fail(cs, "counter.incr: %s", count ? count : sos_status_text(cs));
  else
    status = sos_respondf("%.*s\n%.*s", (int)glen, greeting, (int)clen, count);
  free(greeting);
  free(count);
  return status; /* the kernel closes both handles when we return */
}

/* The same two calls with the synchronous sos_call: simpler, and the
 * request takes the sum of both calls' times. */
static int seq(const struct sos_request *req) {
  char *greeting, *count = NULL;
  size_t glen, clen;
  int status = sos_call("hello", "greet", req->body, req->len, &greeting, &glen);
  if (status)
    status = sos_fail(status, "hello.greet: %s", greeting ? greeting : sos_status_text(status));
  else if ((status = sos_call("counter", "incr", "", 0, &count, &clen)))
    status = sos_fail(status, "counter.incr: %s", count ? count : sos_status_text(status));
  else
    status = sos_respondf("%.*s\n%.*s", (int)glen, greeting, (int)clen, count);
  free(greeting);
  free(count);
  return status;
}

void sos_main(void) {
  sos_method("both", both);
  sos_method("seq", seq);
}

/*
 * proxy.c - a test service: method `call` takes "SERVICE METHOD [BODY]",
 * makes that call and answers "STATUS RESPONSE", so tests see exactly what
 * the kernel gave the caller (DENIED for services not in `uses`); `callt`
 * takes "MS SERVICE METHOD [BODY]" and gives the call a timeout of its own;
 * `timed` does the same and answers the status and the microseconds the
 * call took, as the caller's clock saw them.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sos.h"

static int call(const struct sos_request *req) {
  char svc[64], method[64];
  int used = 0;
  if (sscanf(req->body, "%63s %63s %n", svc, method, &used) < 2)
    return sos_fail(SOS_STATUS_INVALID, "want: SERVICE METHOD [BODY]");
  const char *body = used ? req->body + used : "";
  char *resp = NULL;
  size_t len = 0;
  int status = sos_call(svc, method, body, strlen(body), &resp, &len);
  int rc = sos_respondf("%d %.*s", status, (int)len, resp ? resp : "");
  free(resp);
  return rc;
}

/* callt MS SERVICE METHOD [BODY]: the same with a timeout of its own
 * (timed: answering "STATUS MICROSECONDS" instead of the response). */
static int call_timed(const struct sos_request *req, bool timed) {
  char svc[64], method[64];
  unsigned ms = 0;
  int used = 0;
  if (sscanf(req->body, "%u %63s %63s %n", &ms, svc, method, &used) < 3)
    return sos_fail(SOS_STATUS_INVALID, "want: MS SERVICE METHOD [BODY]");
  const char *body = used ? req->body + used : "";
  int64_t t0 = sos_monotonic_ns();
  int h = sos_call_async(svc, method, body, strlen(body), ms);
  if (h < 0) return sos_respondf("%d", -h);
  int rc = sos_await_all(&h, 1, SOS_FOREVER);
  int64_t us = (sos_monotonic_ns() - t0) / 1000;
  char *resp = NULL;
  size_t len = 0;
  int status = rc < 0 ? -rc : sos_result(h, &resp, &len);
  sos_close(h);
  rc = timed ? sos_respondf("%d %lld", status, (long long)us)
             : sos_respondf("%d %.*s", status, (int)len, resp ? resp : "");
  free(resp);
  return rc;
}

static int callt(const struct sos_request *req) { return call_timed(req, false); }
static int timed(const struct sos_request *req) { return call_timed(req, true); }

void sos_main(void) {
  sos_method("call", call);
  sos_method("callt", callt);
  sos_method("timed", timed);
}

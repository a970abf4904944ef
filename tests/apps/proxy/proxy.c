/*
 * proxy.c - a test service: method `call` takes "SERVICE METHOD [BODY]",
 * makes that call and answers "STATUS RESPONSE", so tests see exactly what
 * the kernel gave the caller (DENIED for services not in `uses`).
 */
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

void sos_main(void) { sos_method("call", call); }

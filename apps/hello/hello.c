/*
 * hello.c - the smallest SOS service: one method that echoes its request
 * after a greeting, and one that reads an `env` parameter.
 *
 *   greet  NAME  -> "hello, NAME"  (the request bytes as they came, NULs too)
 *   env          -> the value of the app's GREETING parameter
 */
#include <stdlib.h>
#include <string.h>

#include "sos.h"

static int greet(const struct sos_request *req) {
  static const char prefix[] = "hello, ";
  size_t plen = sizeof prefix - 1;
  char *text = malloc(plen + req->len);
  if (!text) return sos_fail(SOS_STATUS_ERROR, "out of memory");
  memcpy(text, prefix, plen);
  memcpy(text + plen, req->body, req->len);
  int status = sos_respond(text, plen + req->len);
  free(text);
  return status;
}

static int env(const struct sos_request *req) {
  (void)req;
  const char *greeting = sos_param_str("GREETING", NULL);
  if (!greeting) return sos_fail(SOS_STATUS_NOT_FOUND, "GREETING is not set in app.sos");
  return sos_respond_str(greeting);
}

void sos_main(void) {
  sos_method("greet", greet);
  sos_method("env", env);
}

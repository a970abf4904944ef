/*
 * mock_sos.c - the few calls of the guest SDK (sdk/sos.h) that generated
 * code makes, done in-process for idl_gen_test.c's native driver.
 *
 * A "kernel" of one instance: sos_method fills a method table;
 * sos_call_async records the call and returns a handle; the call runs
 * (its handler called with a copy of the request, as the kernel would)
 * only when sos_await_any/all waits for it, so a handle looked at before
 * shows SOS_STATUS_PENDING as a real one would.  Any service name other
 * than MOCK_SERVICE is SOS_STATUS_NOT_FOUND.  sos_result copies the
 * answer with malloc, as the SDK does.
 */
#include "sos.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOCK_SERVICE "everything"
#define MAX_CALLS 8
#define MAX_METHODS 8

struct call {
  bool open, done;
  char method[SOS_ABI_MAX_NAME + 1];
  char *req;
  size_t len;
  int status;
  char *resp;
  size_t resp_len;
};

static struct call calls[MAX_CALLS];
static struct {
  char name[SOS_ABI_MAX_NAME + 1];
  sos_handler *fn;
} methods[MAX_METHODS];
static size_t nmethods;
static char *answer; /* the response of the request being handled */
static size_t answer_len;

int sos_method(const char *name, sos_handler *fn) {
  for (size_t i = 0; i < nmethods && i < MAX_METHODS; i++)
    if (strcmp(methods[i].name, name) == 0) {
      methods[i].fn = fn;
      return 0;
    }
  if (nmethods == MAX_METHODS || strlen(name) > SOS_ABI_MAX_NAME) return SOS_STATUS_INVALID;
  snprintf(methods[nmethods].name, sizeof methods[0].name, "%s", name);
  methods[nmethods++].fn = fn;
  return 0;
}

int sos_respond(const void *p, size_t len) {
  free(answer);
  answer = malloc(len + 1);
  if (!answer) abort();
  if (len) memcpy(answer, p, len);
  answer_len = len;
  return SOS_STATUS_OK;
}

int sos_fail(int status, const char *fmt, ...) {
  char text[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt ? fmt : "failed", ap);
  va_end(ap);
  sos_respond(text, strlen(text));
  return status ? status : SOS_STATUS_ERROR;
}

const char *sos_status_text(int status) {
  switch (status < 0 ? -status : status) {
  case SOS_STATUS_OK: return "ok";
  case SOS_STATUS_ERROR: return "the service answered with an error";
  case SOS_STATUS_NOT_FOUND: return "not found";
  case SOS_STATUS_NO_METHOD: return "no such method";
  case SOS_STATUS_BUSY: return "busy";
  case SOS_STATUS_INVALID: return "invalid request";
  case SOS_STATUS_PENDING: return "not finished yet";
  default: return "unknown status";
  }
}

int sos_call_async(const char *service, const char *method, const void *req, size_t len,
                   uint32_t timeout_ms) {
  (void)timeout_ms;
  if (strcmp(service, MOCK_SERVICE) != 0) return -SOS_STATUS_NOT_FOUND;
  for (int i = 0; i < MAX_CALLS; i++) {
    struct call *c = &calls[i];
    if (c->open) continue;
    memset(c, 0, sizeof *c);
    c->open = true;
    snprintf(c->method, sizeof c->method, "%s", method);
    c->req = malloc(len + 1); /* the handler sees a NUL after the body, as in sos.c */
    if (!c->req) abort();
    if (len) memcpy(c->req, req, len);
    c->req[len] = 0;
    c->len = len;
    return i + 1;
  }
  return -SOS_STATUS_BUSY;
}

/* The call of handle h, or NULL. */
static struct call *find(int h) {
  return h >= 1 && h <= MAX_CALLS && calls[h - 1].open ? &calls[h - 1] : NULL;
}

/* Runs call c's handler now, as the callee's instance would. */
static void run(struct call *c) {
  if (c->done) return;
  sos_handler *fn = NULL;
  for (size_t i = 0; i < nmethods && i < MAX_METHODS; i++)
    if (strcmp(methods[i].name, c->method) == 0) fn = methods[i].fn;
  answer = NULL;
  answer_len = 0;
  struct sos_request r = {c->method, c->req, c->len};
  c->status = fn ? fn(&r) : sos_fail(SOS_STATUS_NO_METHOD, "no method \"%s\"", c->method);
  c->resp = answer;
  c->resp_len = answer_len;
  answer = NULL;
  c->done = true;
}

int sos_await_all(const int *handles, size_t n, int timeout_ms) {
  (void)timeout_ms;
  for (size_t i = 0; i < n; i++)
    if (!find(handles[i])) return -SOS_STATUS_INVALID;
  for (size_t i = 0; i < n; i++) run(find(handles[i]));
  return 0;
}

int sos_await_any(const int *handles, size_t n, int timeout_ms) {
  (void)timeout_ms;
  if (!n || !find(handles[0])) return -SOS_STATUS_INVALID;
  run(find(handles[0]));
  return 0;
}

int sos_result(int handle, char **resp, size_t *resp_len) {
  struct call *c = find(handle);
  if (resp) *resp = NULL;
  if (resp_len) *resp_len = 0;
  if (!c) return SOS_STATUS_INVALID;
  if (!c->done) return SOS_STATUS_PENDING;
  if (resp_len) *resp_len = c->resp_len;
  if (resp) {
    *resp = malloc(c->resp_len + 1);
    if (!*resp) abort();
    if (c->resp_len) memcpy(*resp, c->resp, c->resp_len);
    (*resp)[c->resp_len] = 0;
  }
  return c->status;
}

int sos_result_into(int handle, void *buf, size_t cap, size_t *len) {
  struct call *c = find(handle);
  *len = 0;
  if (!c) return SOS_STATUS_INVALID;
  if (!c->done) return SOS_STATUS_PENDING;
  *len = c->resp_len;
  if (c->resp_len && c->resp_len <= cap) memcpy(buf, c->resp, c->resp_len);
  return c->status;
}

void sos_close(int handle) {
  struct call *c = find(handle);
  if (!c) return;
  free(c->req);
  free(c->resp);
  memset(c, 0, sizeof *c);
}

/* How many calls are open: the driver checks that the stubs close theirs. */
int mock_open_calls(void);
int mock_open_calls(void) {
  int n = 0;
  for (int i = 0; i < MAX_CALLS; i++) n += calls[i].open;
  return n;
}

/*
 * builtin.c - the built-in system services, reachable like any other
 * service but answered by the kernel itself, without an instance.
 *
 *   time      now                 -> wall-clock ns since 1970, decimal text
 *             sleep  MS (decimal) -> "ok" after MS milliseconds
 *   services  list                -> JSON array, one object per service
 *             describe NAME       -> JSON object for one service
 *   logs      tail NAME [N]       -> the last N (default 20) lines of its log
 *
 * Payloads are text until the IDL (issue 5) gives these services typed
 * interfaces.  Every answer but sleep is immediate; sleep uses the
 * request's own timer, so it costs no instance and no thread.
 */
#include "kernel/kernel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const builtins[] = {"time", "services", "logs"};

bool sos__k_builtin(const char *name) {
  for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
    if (strcmp(builtins[i], name) == 0) return true;
  return false;
}

/* Parses the request as a decimal number (up to 19 digits). */
static bool number(const struct req *r, uint64_t *out) {
  if (!r->len || r->len > 19) return false;
  uint64_t v = 0;
  for (uint32_t i = 0; i < r->len; i++) {
    if (r->body[i] < '0' || r->body[i] > '9') return false;
    v = v * 10 + (uint64_t)(r->body[i] - '0');
  }
  *out = v;
  return true;
}

static void answer_text(struct kernel *k, struct req *r, int status, const char *text) {
  sos__k_complete(k, r, status, text, strlen(text));
}

/* Answers with owned text, freeing it; out of memory becomes an error. */
static void answer_owned(struct kernel *k, struct req *r, char *text) {
  if (!text) return answer_text(k, r, SOS_STATUS_ERROR, "out of memory");
  answer_text(k, r, SOS_STATUS_OK, text);
  sos_free(text);
}

static void time_call(struct kernel *k, struct req *r) {
  if (strcmp(r->method, "now") == 0) {
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)sos__k_wall());
    return answer_text(k, r, SOS_STATUS_OK, buf);
  }
  uint64_t ms;
  if (strcmp(r->method, "sleep") == 0) {
    if (!number(r, &ms) || ms > 86400000)
      return answer_text(k, r, SOS_STATUS_INVALID, "sleep takes milliseconds in decimal");
    r->timer.kind = KT_REQ_SLEEP;
    sos__k_timer_set(k, &r->timer, sos__k_now() + ms * 1000000u);
    return;
  }
  answer_text(k, r, SOS_STATUS_NO_METHOD, "time has methods now and sleep");
}

/* The request as a NUL-terminated string in buf, or NULL when too long. */
static const char *text_of(const struct req *r, char *buf, size_t cap) {
  if (r->len >= cap || memchr(r->body, 0, r->len)) return NULL;
  memcpy(buf, r->body, r->len);
  buf[r->len] = 0;
  return buf;
}

static void services_call(struct kernel *k, struct req *r) {
  char name[80];
  if (strcmp(r->method, "list") == 0) return answer_owned(k, r, sos__k_ps_json(k, NULL));
  if (strcmp(r->method, "describe") == 0) {
    if (!text_of(r, name, sizeof name) || !sos__k_svc_find(k, name))
      return answer_text(k, r, SOS_STATUS_NOT_FOUND, "no such service");
    return answer_owned(k, r, sos__k_ps_json(k, name));
  }
  answer_text(k, r, SOS_STATUS_NO_METHOD, "services has methods list and describe");
}

static void logs_call(struct kernel *k, struct req *r) {
  char arg[96], name[80];
  if (strcmp(r->method, "tail") != 0)
    return answer_text(k, r, SOS_STATUS_NO_METHOD, "logs has the method tail");
  unsigned lines = 20;
  if (!text_of(r, arg, sizeof arg) || sscanf(arg, "%79s %u", name, &lines) < 1 || lines > 10000)
    return answer_text(k, r, SOS_STATUS_INVALID, "tail takes a service name and a line count");
  if (!sos__k_svc_find(k, name)) return answer_text(k, r, SOS_STATUS_NOT_FOUND, "no such service");
  char *text = NULL;
  size_t len = 0;
  sos__k_log_tail(k, name, lines, &text, &len);
  if (!text) return answer_text(k, r, SOS_STATUS_OK, "");
  sos__k_complete(k, r, SOS_STATUS_OK, text, len);
  sos_free(text);
}

void sos__k_builtin_call(struct kernel *k, const char *name, struct req *r) {
  r->state = R_RUNNING;
  if (strcmp(name, "time") == 0)
    time_call(k, r);
  else if (strcmp(name, "services") == 0)
    services_call(k, r);
  else
    logs_call(k, r);
}

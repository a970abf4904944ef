/*
 * builtin.c - the built-in system services, reachable like any other
 * service but answered by the kernel itself, without an instance.  Their
 * interfaces are declared in package sos (src/idl/builtins.c), so they
 * speak the wire format of docs/wire.md like any typed service, and
 * `sos call time now` or `sos describe services` work as for apps:
 *
 *   time      now(Empty) -> Now                wall clock, ns since 1970
 *             sleep(Sleep) -> Empty            after Sleep.ms milliseconds
 *   services  list(Empty) -> ServiceList       every service
 *             describe(Lookup) -> ServiceInfo  one service, with its schema;
 *                                              Lookup.version is a requirement
 *                                              (">=1.2", "^1") its app's
 *                                              version must meet: discovery
 *   logs      tail(TailReq) -> TailResp        the last lines of a service's log
 *   stores    kv_get, kv_put, kv_del, kv_list, log_read: the storage admin
 *             calls (stores.c), for the node's owner only
 *   crypto    sha256, hmac_sha256, equal, random (crypto.c)
 *   secrets   get: a secret the calling app declares (secrets.c)
 *   http      fetch: a request to a host the app lists under egress
 *             (src/net/egress.c, over libcurl)
 *
 * Requests are checked against their struct first; declared errors
 * (not_found, version_mismatch, bad_requirement) answer with the Error
 * struct and status ERROR.  Answers are built as JSON and encoded through
 * the schema: these calls are rare and small, and it keeps each answer a
 * few readable lines.  Every answer but sleep is immediate; sleep uses the
 * request's own timer, so it costs no instance and no thread.
 */
#include "kernel/kernel.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const builtins[][2] = {
    {"time", "Time"},       {"services", "Services"}, {"logs", "Logs"},
    {"stores", "Stores"},   {"crypto", "Crypto"},     {"secrets", "Secrets"},
    {"http", "HttpClient"}};
#define NBUILTINS (sizeof builtins / sizeof builtins[0])

bool sos__k_builtin(const char *name) { return sos__k_builtin_interface(name) != NULL; }

bool sos__k_builtin_admin(const char *name) { return strcmp(name, "stores") == 0; }

const char *sos__k_builtin_interface(const char *name) {
  for (size_t i = 0; i < NBUILTINS; i++)
    if (strcmp(builtins[i][0], name) == 0) return builtins[i][1];
  return NULL;
}

/* Answers r with text (a failure's message). */
static void answer_text(struct kernel *k, struct req *r, int status, const char *text) {
  sos__k_complete(k, r, status, text, strlen(text));
}

/* Answers r with JSON j (deleted here) encoded as struct type. */
static void answer_json(struct kernel *k, struct req *r, int type, cJSON *j) {
  char *text = j ? cJSON_PrintUnformatted(j) : NULL, err[256];
  uint8_t *wire = NULL;
  size_t n = 0;
  cJSON_Delete(j);
  int rc = text ? sos_idl_from_json(k->sos_idl, type, text, strlen(text), &wire, &n, err,
                                    sizeof err)
                : SOS_ENOMEM;
  cJSON_free(text);
  if (rc) return answer_text(k, r, SOS_STATUS_ERROR, rc == SOS_ENOMEM ? "out of memory" : err);
  sos__k_complete(k, r, SOS_STATUS_OK, wire, n);
  sos_free(wire);
}

void sos__k_answer_error(struct kernel *k, struct req *r, const char *iface, uint32_t code,
                         const char *message) {
  int ix = sos_idl_interface(k->sos_idl, iface);
  cJSON *j = cJSON_CreateObject();
  cJSON_AddNumberToObject(j, "code", code);
  cJSON_AddStringToObject(j, "name", sos_idl_error_name(k->sos_idl, ix, code));
  cJSON_AddStringToObject(j, "message", message);
  char *text = cJSON_PrintUnformatted(j), err[256];
  uint8_t *wire = NULL;
  size_t n = 0;
  cJSON_Delete(j);
  if (!text || sos_idl_from_json(k->sos_idl, k->err_type, text, strlen(text), &wire, &n, err,
                                 sizeof err))
    answer_text(k, r, SOS_STATUS_ERROR, message);
  else
    sos__k_complete(k, r, SOS_STATUS_ERROR, wire, n);
  cJSON_free(text);
  sos_free(wire);
}

const uint8_t *sos__k_req_bytes(struct kernel *k, const struct req *r, int type,
                               const char *name, size_t *n) {
  struct sos_idl_value v;
  char err[8];
  *n = 0;
  if (sos_idl_get_field(k->sos_idl, type, r->body, r->len, name, &v, err, sizeof err) ||
      !v.present)
    return NULL;
  *n = v.n;
  return v.p;
}

const char *sos__k_req_text(struct kernel *k, const struct req *r, int type, const char *name,
                            char *buf, size_t cap) {
  struct sos_idl_value v;
  char err[8];
  if (sos_idl_get_field(k->sos_idl, type, r->body, r->len, name, &v, err, sizeof err) ||
      v.n >= cap)
    return NULL;
  memcpy(buf, v.p ? (const char *)v.p : "", v.n);
  buf[v.n] = 0;
  return buf;
}

uint64_t sos__k_req_uint(struct kernel *k, const struct req *r, int type, const char *name) {
  struct sos_idl_value v;
  char err[8];
  return sos_idl_get_field(k->sos_idl, type, r->body, r->len, name, &v, err, sizeof err) ? 0
                                                                                          : v.u;
}

static void time_call(struct kernel *k, struct req *r, int req_type, int resp_type) {
  if (strcmp(r->method, "now") == 0) {
    cJSON *j = cJSON_CreateObject();
    char ns[24];
    snprintf(ns, sizeof ns, "%llu", (unsigned long long)sos__k_wall());
    cJSON_AddStringToObject(j, "ns", ns);
    return answer_json(k, r, resp_type, j);
  }
  uint64_t ms = sos__k_req_uint(k, r, req_type, "ms");
  if (ms > 86400000) return answer_text(k, r, SOS_STATUS_INVALID, "sleep: ms is at most a day");
  uint64_t at = sos__k_now() + ms * 1000000u;
  /* The request's one timer: the sleep's end, or its deadline when that
   * comes first (then the call times out, as any call past its deadline). */
  r->timer.kind = r->deadline && r->deadline < at ? KT_REQ_DEADLINE : KT_REQ_SLEEP;
  sos__k_timer_set(k, &r->timer, r->timer.kind == KT_REQ_SLEEP ? at : r->deadline);
}

/* One ServiceInfo; schema included when with_schema. */
static cJSON *service_info(struct kernel *k, struct svc *s, bool with_schema) {
  cJSON *o = cJSON_CreateObject();
  const struct sos_app *app = s->cur->img->app;
  char calls[24];
  uint32_t live = 0;
  for (const struct inst *in = s->all; in; in = in->all_next) live++;
  cJSON_AddStringToObject(o, "name", s->name);
  cJSON_AddStringToObject(o, "app", app->name);
  cJSON_AddStringToObject(o, "app_version", app->version);
  cJSON_AddNumberToObject(o, "version", s->cur->n);
  if (s->cur->def->implements) cJSON_AddStringToObject(o, "interface", s->cur->def->implements);
  cJSON_AddStringToObject(o, "state", s->crashes ? "crashing" : "running");
  cJSON_AddNumberToObject(o, "instances", live);
  snprintf(calls, sizeof calls, "%llu", (unsigned long long)s->calls);
  cJSON_AddStringToObject(o, "calls", calls);
  char *text = NULL, err[8];
  if (with_schema && sos__k_describe(k, s->name, &text, err, sizeof err) == 0)
    cJSON_AddStringToObject(o, "schema", text);
  sos_free(text);
  return o;
}

static void services_call(struct kernel *k, struct req *r, int req_type, int resp_type) {
  if (strcmp(r->method, "list") == 0) {
    cJSON *j = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(j, "services");
    for (struct svc *s = k->svcs; s; s = s->next)
      if (!s->removed) cJSON_AddItemToArray(a, service_info(k, s, false));
    return answer_json(k, r, resp_type, j);
  }
  char name[80], want[128], msg[300];
  struct svc *s = NULL;
  if (!sos__k_req_text(k, r, req_type, "name", name, sizeof name) ||
      !(s = sos__k_svc_find(k, name)) || s->removed) {
    snprintf(msg, sizeof msg, "no service named %.79s", name);
    return sos__k_answer_error(k, r, "Services", 1, msg);
  }
  const char *version = s->cur->img->app->version;
  int m = sos_version_match(version, sos__k_req_text(k, r, req_type, "version", want, sizeof want));
  if (m < 0) {
    snprintf(msg, sizeof msg, "bad version requirement \"%.100s\"; write one such as >=1.2 "
             "or ^1", want);
    return sos__k_answer_error(k, r, "Services", 3, msg);
  }
  if (!m) {
    snprintf(msg, sizeof msg, "%s is version %s, which does not meet %.100s", name, version,
             want);
    return sos__k_answer_error(k, r, "Services", 2, msg);
  }
  answer_json(k, r, resp_type, service_info(k, s, true));
}

static void logs_call(struct kernel *k, struct req *r, int req_type, int resp_type) {
  char name[80], msg[128];
  uint64_t lines = sos__k_req_uint(k, r, req_type, "lines");
  if (!sos__k_req_text(k, r, req_type, "service", name, sizeof name) || !sos__k_svc_find(k, name)) {
    snprintf(msg, sizeof msg, "no service named %.79s", name);
    return sos__k_answer_error(k, r, "Logs", 1, msg);
  }
  char *text = NULL;
  size_t len = 0;
  sos__k_log_tail(k, name, lines && lines <= 10000 ? (unsigned)lines : 20, &text, &len);
  cJSON *j = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(j, "lines");
  for (char *p = text, *e; p && p < text + len; p = e + 1) {
    e = memchr(p, '\n', (size_t)(text + len - p));
    if (!e) e = text + len;
    cJSON_AddItemToArray(a, cJSON_CreateString((*e = 0, p)));
  }
  sos_free(text);
  answer_json(k, r, resp_type, j);
}

void sos__k_builtin_call(struct kernel *k, const char *name, struct req *r) {
  const char *iface = sos__k_builtin_interface(name);
  int ix = sos_idl_interface(k->sos_idl, iface), req_type, resp_type;
  char err[256];
  r->state = R_RUNNING;
  if (sos_idl_method(k->sos_idl, ix, r->method, &req_type, &resp_type) < 0) {
    snprintf(err, sizeof err, "%s has no method %.128s (see sos describe %s)", name, r->method,
             name);
    return answer_text(k, r, SOS_STATUS_NO_METHOD, err);
  }
  if (sos_idl_check(k->sos_idl, req_type, r->body, r->len, err, sizeof err))
    return answer_text(k, r, SOS_STATUS_INVALID, err);
  if (strcmp(name, "time") == 0)
    time_call(k, r, req_type, resp_type);
  else if (strcmp(name, "services") == 0)
    services_call(k, r, req_type, resp_type);
  else if (strcmp(name, "logs") == 0)
    logs_call(k, r, req_type, resp_type);
  else if (strcmp(name, "crypto") == 0)
    sos__k_crypto_call(k, r, req_type);
  else if (strcmp(name, "secrets") == 0)
    sos__k_secrets_call(k, r, req_type);
  else if (strcmp(name, "http") == 0)
    sos__k_egress_call(k, r, req_type);
  else
    sos__k_stores_call(k, r, req_type);
}

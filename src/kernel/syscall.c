/*
 * syscall.c - the system-call ABI (include/sos/abi.h, docs/abi.md): the
 * host functions of module "sos", import linking, and the built-in
 * services.
 *
 * Each host function finds its instance through the engine's user
 * pointer and checks every guest range before touching it: a bad pointer
 * or length traps the calling instance ("out of bounds memory access"),
 * never the node.  Functions that wait (await, sleep) record what they
 * wait for and return SOS_WASM_HOST_SUSPEND; the worker then parks the
 * instance and whoever completes the wait resumes it (service.c).
 *
 * Calls are addressed by name.  The caller's definition must list the
 * callee in `uses` unless it is a built-in service (time, services, logs);
 * otherwise the call fails with "denied" and the caller's log says so.
 * A call's deadline is the earliest of its own timeout, the callee's
 * `timeout` and the deadline of the request the caller is handling, so
 * nested calls never outlive the request that made them.
 */
#include "kernel/kernel.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#define A32(i) ((uint32_t)c->args[i])

static struct inst *me(struct sos_wasm_hostcall *c) {
  return sos_wasm_instance_user(c->instance);
}

static int oob(struct sos_wasm_hostcall *c) {
  return sos_wasm_host_trap(c, SOS_WASM_TRAP_MEMORY, "out of bounds memory access");
}

/* Copies len bytes to guest memory at addr; false when out of bounds. */
static bool put(struct sos_wasm_hostcall *c, uint32_t addr, const void *p, size_t len) {
  uint8_t *d = sos_wasm_mem(c->instance, addr, len);
  if (!d && len) return false;
  if (len) memcpy(d, p, len);
  return true;
}

/* ---- requests and responses --------------------------------------------- */

static int h_request(struct sos_wasm_hostcall *c) {
  struct inst *in = me(c);
  struct req *r = in->cur;
  if (!r) return SOS_WASM_HOST_OK; /* no current request: nothing to copy */
  if (!put(c, A32(0), r->method, r->mlen) || !put(c, A32(1), r->body, r->len))
    return oob(c);
  return SOS_WASM_HOST_OK;
}

/* The response bytes (ptr, len) of respond and respond_now: 0 with *p, or
 * the trap to return for a length over the limit or bytes out of bounds. */
static int response_bytes(struct sos_wasm_hostcall *c, const uint8_t **p, uint32_t *len) {
  *len = A32(1);
  if (*len > SOS_ABI_MAX_MESSAGE)
    return sos_wasm_host_trap(c, SOS_WASM_TRAP_HOST, "response of %u bytes exceeds %u", *len,
                              SOS_ABI_MAX_MESSAGE);
  *p = sos_wasm_mem(c->instance, A32(0), *len);
  return !*p && *len ? oob(c) : 0;
}

static int h_respond(struct sos_wasm_hostcall *c) {
  struct inst *in = me(c);
  const uint8_t *p;
  uint32_t len;
  int trap = response_bytes(c, &p, &len);
  if (trap) return trap;
  uint8_t *copy = sos_malloc(len ? len : 1);
  if (!copy) return sos_wasm_host_trap(c, SOS_WASM_TRAP_HOST, "out of memory");
  if (len) memcpy(copy, p, len);
  sos_free(in->resp);
  in->resp = copy;
  in->resp_len = len;
  return SOS_WASM_HOST_OK;
}

static int h_next(struct sos_wasm_hostcall *c) {
  c->results[0] = (uint64_t)sos__k_next(c->env, me(c), A32(0));
  return SOS_WASM_HOST_OK;
}

/* respond_now(ptr, len): answers the current request now.  The request
 * is completed (its caller may free it at once), and the instance goes on
 * under a stand-in request that nobody awaits, with the same method and
 * deadline: the deadline still stops a handler that runs too long, and
 * its later answer goes nowhere. */
static int h_respond_now(struct sos_wasm_hostcall *c) {
  struct kernel *k = c->env;
  struct inst *in = me(c);
  const uint8_t *p;
  uint32_t len;
  int trap = response_bytes(c, &p, &len);
  if (trap) return trap;
  pthread_mutex_lock(&k->mu);
  struct req *r = in->task == T_REQ ? in->cur : NULL, *rest = NULL;
  if (r && r->state == R_RUNNING && !r->detached &&
      (rest = sos__k_req_new(r->method, r->mlen, NULL, 0))) {
    rest->svc = r->svc;
    rest->state = R_RUNNING;
    rest->runner = in;
    rest->detached = true;
    rest->deadline = r->deadline;
    if (r->timer.idx >= 0) { /* the deadline moves to the stand-in */
      sos__k_timer_clear(k, &r->timer);
      rest->timer.kind = KT_REQ_DEADLINE;
      sos__k_timer_set(k, &rest->timer, rest->deadline);
    }
    in->cur = rest;
    r->runner = NULL;
    sos__k_complete(k, r, SOS_STATUS_OK, p, len);
  }
  pthread_mutex_unlock(&k->mu);
  if (r && !rest) return sos_wasm_host_trap(c, SOS_WASM_TRAP_HOST, "out of memory");
  return SOS_WASM_HOST_OK;
}

/* respond_part(ptr, len) -> i32: sends part of the current request's
 * answer now, to a caller that takes a stream (the HTTP gateway: the
 * first part is an HttpResponse, the rest body bytes; docs/http.md).
 * INVALID when the caller takes answers whole (an instance, `sos call`),
 * or there is no request, or it was answered. */
static int h_respond_part(struct sos_wasm_hostcall *c) {
  struct kernel *k = c->env;
  struct inst *in = me(c);
  const uint8_t *p;
  uint32_t len;
  int trap = response_bytes(c, &p, &len);
  if (trap) return trap;
  struct rpart *part = sos_malloc(sizeof *part + (len ? len : 1));
  if (!part) return sos_wasm_host_trap(c, SOS_WASM_TRAP_HOST, "out of memory");
  part->next = NULL;
  part->len = len;
  if (len) memcpy(part->bytes, p, len);
  pthread_mutex_lock(&k->mu);
  struct req *r = in->task == T_REQ ? in->cur : NULL;
  int status = !r || r->state != R_RUNNING || r->detached || !r->parted ? SOS_STATUS_INVALID : 0;
  if (!status) {
    *(r->parts ? r->parts_end : &r->parts) = part;
    r->parts_end = &part->next;
    part = NULL;
    if (!r->part_queued) {
      r->part_queued = true;
      r->part_next = r->lane->parted;
      r->lane->parted = r;
      sos__k_lane_wake(r->lane);
    }
  }
  pthread_mutex_unlock(&k->mu);
  sos_free(part);
  c->results[0] = (uint32_t)status;
  return SOS_WASM_HOST_OK;
}

/* ---- calls -------------------------------------------------------------- */

/* Whether in's definition lets it call name. */
bool sos__k_allowed(const struct sos_app *app, const char *name) {
  if (sos__k_builtin(name)) return !sos__k_builtin_admin(name); /* no ambient authority */
  for (uint32_t i = 0; i < app->nuses; i++)
    if (strcmp(app->uses[i], name) == 0) return true;
  return false;
}

/* A free handle number for in (1-based), or 0 when all are taken. */
static uint32_t new_handle(struct inst *in) {
  for (uint32_t i = 0; i < in->nh; i++)
    if (!in->h[i]) return i + 1;
  if (in->nh == SOS_ABI_MAX_HANDLES) return 0;
  if (in->nh == in->caph) {
    uint32_t cap = in->caph ? in->caph * 2 : 8;
    struct req **h = sos_realloc(in->h, cap * sizeof *h);
    if (!h) return 0;
    in->h = h;
    in->caph = cap;
  }
  in->h[in->nh++] = NULL;
  return in->nh;
}

/* The deadline for a call from in with timeout_ms (0: none of its own). */
static uint64_t call_deadline(const struct inst *in, const struct svc *target,
                              uint32_t timeout_ms) {
  uint64_t ms = target ? target->cur->def->timeout_ms : 0, d = 0;
  if (timeout_ms && (!ms || timeout_ms < ms)) ms = timeout_ms;
  if (ms) d = sos__k_after_ms(ms);
  if (in->cur && in->cur->deadline && (!d || in->cur->deadline < d)) d = in->cur->deadline;
  return d;
}

/* call(svc, svc_len, method, method_len, req, req_len, timeout_ms) -> i32 */
static int h_call(struct sos_wasm_hostcall *c) {
  struct kernel *k = c->env;
  struct inst *in = me(c);
  uint32_t slen = A32(1), mlen = A32(3), len = A32(5);
  const char *sp = sos_wasm_mem(c->instance, A32(0), slen);
  const char *mp = sos_wasm_mem(c->instance, A32(2), mlen);
  const uint8_t *body = sos_wasm_mem(c->instance, A32(4), len);
  if ((!sp && slen) || (!mp && mlen) || (!body && len)) return oob(c);
  c->results[0] = (uint32_t)-(len > SOS_ABI_MAX_MESSAGE ? SOS_STATUS_TOO_BIG : SOS_STATUS_INVALID);
  if (!slen || slen > SOS_ABI_MAX_NAME || mlen > SOS_ABI_MAX_NAME || len > SOS_ABI_MAX_MESSAGE ||
      memchr(sp, 0, slen) || memchr(mp, 0, mlen))
    return SOS_WASM_HOST_OK;
  char name[SOS_ABI_MAX_NAME + 1];
  memcpy(name, sp, slen);
  name[slen] = 0;
  pthread_mutex_lock(&k->mu);
  int status = 0;
  struct svc *target = NULL;
  uint32_t h = 0;
  struct req *r = NULL;
  bool known = in->last_call.gen == k->svc_gen && in->last_call.len == slen &&
               memcmp(in->last_call.name, name, slen) == 0;
  if (known) {
    target = in->last_call.svc;
  } else if (!sos__k_allowed(in->ver->img->app, name)) {
    status = SOS_STATUS_DENIED;
    sos__k_log(in->svc, "warn", "denied: call to %s (not in uses of app %s)", name,
               in->ver->img->app->name);
  } else if (!sos__k_builtin(name) && (!(target = sos__k_svc_find(k, name)) || target->removed)) {
    status = SOS_STATUS_NOT_FOUND;
  }
  if (!status && !(h = new_handle(in))) {
    status = SOS_STATUS_BUSY;
  } else if (!status && !(r = sos__k_req_new(mp, mlen, body, len))) {
    status = SOS_STATUS_BUSY;
  }
  if (status) {
    pthread_mutex_unlock(&k->mu);
    c->results[0] = (uint32_t)-status;
    return SOS_WASM_HOST_OK;
  }
  in->h[h - 1] = r;
  in->svc->sent++;
  r->caller = in;
  r->svc = target;
  r->deadline = call_deadline(in, target, A32(6));
  char why[512];
  if (!known && target && sos__k_typed_agree(k, in->ver->img, target, why, sizeof why)) {
    sos__k_log(in->svc, "warn", "call to %s refused: %s", name, why);
    sos__k_complete(k, r, SOS_STATUS_INVALID, why, strlen(why));
  } else {
    if (!known) { /* every check passed: the next call to name skips them */
      in->last_call.gen = k->svc_gen;
      in->last_call.svc = target;
      in->last_call.len = slen;
      memcpy(in->last_call.name, name, slen + 1);
    }
    if (target)
      sos__k_submit(k, r);
    else
      sos__k_builtin_call(k, name, r);
  }
  pthread_mutex_unlock(&k->mu);
  c->results[0] = h;
  return SOS_WASM_HOST_OK;
}

/* call_plan(plan, plan_len, timeout_ms) -> i32: a handle, or -status. */
static int h_call_plan(struct sos_wasm_hostcall *c) {
  struct kernel *k = c->env;
  struct inst *in = me(c);
  uint32_t len = A32(1);
  const uint8_t *body = sos_wasm_mem(c->instance, A32(0), len);
  if (!body && len) return oob(c);
  if (len > SOS_ABI_MAX_MESSAGE) {
    c->results[0] = (uint32_t)-SOS_STATUS_TOO_BIG;
    return SOS_WASM_HOST_OK;
  }
  pthread_mutex_lock(&k->mu);
  uint32_t h = new_handle(in);
  struct req *r = h ? sos__k_req_new("plan", 4, body, len) : NULL;
  if (!r) {
    pthread_mutex_unlock(&k->mu);
    c->results[0] = (uint32_t)-SOS_STATUS_BUSY;
    return SOS_WASM_HOST_OK;
  }
  in->h[h - 1] = r;
  r->caller = in;
  r->state = R_RUNNING;
  r->deadline = call_deadline(in, NULL, A32(2));
  if (r->deadline) {
    r->timer.kind = KT_REQ_DEADLINE;
    sos__k_timer_set(k, &r->timer, r->deadline);
  }
  sos__k_plan_start(k, in, r);
  pthread_mutex_unlock(&k->mu);
  c->results[0] = h;
  return SOS_WASM_HOST_OK;
}

/* The open call behind handle h of in, or NULL. */
static struct req *handle_req(struct inst *in, uint32_t h) {
  return h >= 1 && h <= in->nh ? in->h[h - 1] : NULL;
}

/* await(handles, n, mode, timeout_ms) -> i32 */
static int h_await(struct sos_wasm_hostcall *c) {
  struct kernel *k = c->env;
  struct inst *in = me(c);
  uint32_t n = A32(1), mode = A32(2);
  int32_t timeout = (int32_t)A32(3);
  if (n > SOS_ABI_MAX_HANDLES || (mode != SOS_AWAIT_ANY && mode != SOS_AWAIT_ALL) || !n) {
    c->results[0] = (uint32_t)-SOS_STATUS_INVALID;
    return SOS_WASM_HOST_OK;
  }
  const uint8_t *p = sos_wasm_mem(c->instance, A32(0), (uint64_t)n * 4);
  if (!p) return oob(c);
  uint32_t *hs = n <= 4 ? in->wait_few : sos_malloc(n * sizeof *hs);
  if (!hs) return sos_wasm_host_trap(c, SOS_WASM_TRAP_HOST, "out of memory");
  pthread_mutex_lock(&k->mu);
  int32_t found = -1;
  uint32_t done = 0;
  for (uint32_t i = 0; i < n; i++) {
    memcpy(&hs[i], p + 4 * i, 4);
    struct req *r = handle_req(in, hs[i]);
    if (!r) {
      found = -SOS_STATUS_INVALID;
      break;
    }
    if (r->state == R_DONE) {
      done++;
      if (mode == SOS_AWAIT_ANY && found < 0) found = (int32_t)i;
    }
  }
  if (found == -1 && mode == SOS_AWAIT_ALL && done == n) found = 0;
  if (found == -1 && timeout == 0) found = -SOS_STATUS_TIMEOUT;
  if (found != -1) {
    pthread_mutex_unlock(&k->mu);
    if (hs != in->wait_few) sos_free(hs);
    c->results[0] = (uint32_t)found;
    return SOS_WASM_HOST_OK;
  }
  in->wait = mode == SOS_AWAIT_ANY ? W_ANY : W_ALL;
  in->wait_h = hs;
  in->wait_n = n;
  if (timeout > 0) {
    in->timer.kind = KT_INST_WAKE;
    sos__k_timer_set(k, &in->timer, sos__k_now() + (uint64_t)timeout * 1000000u);
  }
  pthread_mutex_unlock(&k->mu);
  return SOS_WASM_HOST_SUSPEND;
}

/* result(handle, buf, cap, len_out) -> i32 */
static int h_result(struct sos_wasm_hostcall *c) {
  struct kernel *k = c->env;
  struct inst *in = me(c);
  pthread_mutex_lock(&k->mu);
  struct req *r = handle_req(in, A32(0));
  int status = !r ? -SOS_STATUS_INVALID : r->state != R_DONE ? SOS_STATUS_PENDING : r->status;
  uint32_t len = r && r->state == R_DONE ? r->resp_len : 0;
  uint32_t take = len < A32(2) ? len : A32(2);
  bool ok = put(c, A32(1), r ? r->resp : NULL, r && r->state == R_DONE ? take : 0) &&
            put(c, A32(3), &len, 4);
  pthread_mutex_unlock(&k->mu);
  if (!ok) return oob(c);
  c->results[0] = (uint32_t)status;
  return SOS_WASM_HOST_OK;
}

static int h_close(struct sos_wasm_hostcall *c) {
  struct kernel *k = c->env;
  struct inst *in = me(c);
  uint32_t h = A32(0);
  pthread_mutex_lock(&k->mu);
  struct req *r = handle_req(in, h);
  if (r) {
    in->h[h - 1] = NULL;
    sos__k_release(k, r);
  }
  pthread_mutex_unlock(&k->mu);
  return SOS_WASM_HOST_OK;
}

/* ---- the rest ----------------------------------------------------------- */

static int h_log(struct sos_wasm_hostcall *c) {
  static const char *const levels[] = {"debug", "info", "warn", "error"};
  uint32_t level = A32(0), len = A32(2);
  const uint8_t *p = sos_wasm_mem(c->instance, A32(1), len);
  if (!p && len) return oob(c);
  if (len > 65536) len = 65536;
  sos__k_log_bytes(me(c)->svc, levels[level < 4 ? level : 1], p, len);
  return SOS_WASM_HOST_OK;
}

static int h_now(struct sos_wasm_hostcall *c) {
  c->results[0] = sos__k_wall();
  return SOS_WASM_HOST_OK;
}

static int h_monotonic(struct sos_wasm_hostcall *c) {
  c->results[0] = sos__k_now();
  return SOS_WASM_HOST_OK;
}

static int h_sleep(struct sos_wasm_hostcall *c) {
  struct kernel *k = c->env;
  struct inst *in = me(c);
  int64_t ms = (int64_t)c->args[0];
  if (ms <= 0) return SOS_WASM_HOST_OK;
  if (ms > 86400000) ms = 86400000;
  pthread_mutex_lock(&k->mu);
  in->wait = W_SLEEP;
  in->timer.kind = KT_INST_WAKE;
  sos__k_timer_set(k, &in->timer, sos__k_now() + (uint64_t)ms * 1000000u);
  pthread_mutex_unlock(&k->mu);
  return SOS_WASM_HOST_SUSPEND;
}

static int h_random(struct sos_wasm_hostcall *c) {
  uint32_t len = A32(1);
  uint8_t *p = sos_wasm_mem(c->instance, A32(0), len);
  if (!p && len) return oob(c);
  while (len) {
    ssize_t n = getrandom(p, len, 0);
    if (n <= 0) continue; /* EINTR; getrandom cannot fail otherwise here */
    p += n;
    len -= (uint32_t)n;
  }
  return SOS_WASM_HOST_OK;
}

static int h_param(struct sos_wasm_hostcall *c) {
  struct inst *in = me(c);
  uint32_t nlen = A32(1), cap = A32(3);
  const char *name = sos_wasm_mem(c->instance, A32(0), nlen);
  if (!name && nlen) return oob(c);
  const struct sos_app *app = in->ver->img->app;
  for (uint32_t i = 0; i < app->nparams; i++) {
    const struct sos_app_param *p = &app->params[i];
    if (strlen(p->name) != nlen || memcmp(p->name, name, nlen)) continue;
    size_t len = strlen(p->value);
    if (!put(c, A32(2), p->value, len < cap ? len : cap)) return oob(c);
    c->results[0] = (uint32_t)len;
    return SOS_WASM_HOST_OK;
  }
  c->results[0] = (uint32_t)-SOS_STATUS_NOT_FOUND;
  return SOS_WASM_HOST_OK;
}

static int h_exit(struct sos_wasm_hostcall *c) { return sos_wasm_host_exit(c, A32(0)); }

/* ---- the import table ---------------------------------------------------- */

/* Signatures as strings: 'i' i32, 'I' i64. */
static const struct abi_def {
  const char *name, *params, *results;
  sos_wasm_host_fn fn;
} defs[] = {
    {"request", "ii", "", h_request},
    {"respond", "ii", "", h_respond},
    {"respond_now", "ii", "", h_respond_now},
    {"next", "i", "I", h_next},
    {"respond_part", "ii", "i", h_respond_part},
    {"call", "iiiiiii", "i", h_call},
    {"call_plan", "iii", "i", h_call_plan},
    {"await", "iiii", "i", h_await},
    {"result", "iiii", "i", h_result},
    {"close", "i", "", h_close},
    {"log", "iii", "", h_log},
    {"now", "", "I", h_now},
    {"monotonic", "", "I", h_monotonic},
    {"sleep", "I", "", h_sleep},
    {"random", "ii", "", h_random},
    {"param", "iiii", "i", h_param},
    {"exit", "i", "", h_exit},
    {"kv_get", "iiiiiii", "i", sos__k_h_kv_get},
    {"kv_put", "iiiiii", "i", sos__k_h_kv_put},
    {"kv_del", "iiii", "i", sos__k_h_kv_del},
    {"kv_cas", "iiiiiiiii", "i", sos__k_h_kv_cas},
    {"kv_add", "iiiiIi", "i", sos__k_h_kv_add},
    {"kv_batch", "iiii", "i", sos__k_h_kv_batch},
    {"kv_scan", "iiiiiiiiii", "i", sos__k_h_kv_scan},
    {"log_append", "iiii", "I", sos__k_h_log_append},
    {"log_read", "iiIiiii", "i", sos__k_h_log_read},
    {"log_tail", "iiIi", "i", sos__k_h_log_tail},
    {"log_trim", "iiI", "i", sos__k_h_log_trim},
    {"log_end", "ii", "I", sos__k_h_log_end},
    {"table_put", "iiii", "i", sos__k_h_table_put},
    {"table_get", "iiiiiii", "i", sos__k_h_table_get},
    {"table_del", "iiii", "i", sos__k_h_table_del},
    {"table_query", "iiiiiiiiiii", "i", sos__k_h_table_query},
};
#define NDEFS (sizeof defs / sizeof defs[0])

/* Turns "iI" into value types. */
static uint32_t types(const char *s, uint8_t *out) {
  uint32_t n = 0;
  for (; *s; s++) out[n++] = *s == 'I' ? SOS_WASM_I64 : SOS_WASM_I32;
  return n;
}

int sos__k_abi_init(struct kernel *k) {
  k->abi_funcs = sos_calloc(NDEFS, sizeof *k->abi_funcs);
  if (!k->abi_funcs) return SOS_ENOMEM;
  for (size_t i = 0; i < NDEFS; i++) {
    uint8_t p[16], r[2];
    struct sos_wasm_functype t = {.params = p, .results = r};
    t.nparams = types(defs[i].params, p);
    t.nresults = types(defs[i].results, r);
    if (!(k->abi_funcs[i] = sos_wasm_func_new(&t, defs[i].fn, k))) return SOS_ENOMEM;
  }
  return 0;
}

void sos__k_abi_free(struct kernel *k) {
  if (!k->abi_funcs) return;
  for (size_t i = 0; i < NDEFS; i++) sos_wasm_func_free(k->abi_funcs[i]);
  sos_free(k->abi_funcs);
  k->abi_funcs = NULL;
}

static bool name_is(const struct sos_wasm_name *n, const char *s) {
  return n->len == strlen(s) && memcmp(n->p, s, n->len) == 0;
}

/* Resolves one "sos" import; SOS_ENOENT when the ABI has no such call. */
static int link_abi(struct kernel *k, const struct sos_wasm_name *name,
                    struct sos_wasm_extern *out) {
  for (size_t i = 0; i < NDEFS; i++)
    if (name_is(name, defs[i].name)) {
      out->kind = SOS_WASM_EXTERN_FUNC;
      out->u.func = k->abi_funcs[i];
      return 0;
    }
  return SOS_ENOENT;
}

int sos__k_link(struct kernel *k, struct image_ref *ir, char *err, size_t errlen) {
  uint32_t n = sos_wasm_module_import_count(ir->mod);
  ir->imports = sos_calloc(n ? n : 1, sizeof *ir->imports);
  if (!ir->imports) return SOS_ENOMEM;
  ir->nimports = n;
  for (uint32_t i = 0; i < n; i++) {
    struct sos_wasm_name mod, name;
    struct sos_wasm_externtype type;
    sos_wasm_module_import(ir->mod, i, &mod, &name, &type);
    int rc = SOS_ENOENT;
    if (name_is(&mod, SOS_ABI_MODULE))
      rc = link_abi(k, &name, &ir->imports[i]);
    else if (name_is(&mod, "wasi_snapshot_preview1"))
      rc = sos_wasi_resolve(ir->wasi, &mod, &name, &type, &ir->imports[i]);
    if (rc) {
      snprintf(err, errlen, "import %.*s.%.*s is not provided by SOS (ABI v%d: modules \"sos\" "
               "and \"wasi_snapshot_preview1\")", (int)mod.len, mod.p, (int)name.len, name.p,
               SOS_ABI_VERSION);
      return rc == SOS_ENOMEM ? rc : SOS_ELINK;
    }
  }
  return 0;
}

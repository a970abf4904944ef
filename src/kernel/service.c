/*
 * service.c - services as actors: instance pools, request queues, the life
 * of a request and of an instance.
 *
 * A request submitted to a service goes to an idle instance when there is
 * one; otherwise a new instance is started while the pool is below its
 * maximum (the request waits in the queue while it initialises); otherwise
 * the request waits in the queue up to the definition's bound and beyond
 * it fails at once with "busy".  An instance that finishes a request takes
 * the next one from the queue, else goes idle (most recently used first,
 * so a warm instance serves the next call).
 *
 * Failures: a trap fails the request with its message and retires the
 * instance (a fresh one replaces it when needed).  After K_BACKOFF_AFTER
 * consecutive traps the service backs off: no new instance for 100 ms,
 * doubling to 30 s, and a call that finds no instance alive fails with
 * "unavailable" instead of queueing.  A request past its deadline fails
 * with "timed out" and the instance handling it is retired, wherever it
 * is: running (after its slice), ready, or suspended.
 *
 * Everything here runs with k->mu held.
 */
#include "kernel/kernel.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define container_of(p, type, field) ((type *)((char *)(p) - offsetof(type, field)))

/* ---- requests ----------------------------------------------------------- */

/* Fills r (tail of cap bytes) as a new request. */
static struct req *req_init(struct req *r, size_t cap, const char *method, size_t mlen,
                            const void *body, size_t len) {
  memset(r, 0, sizeof *r);
  r->cap = (uint32_t)cap;
  r->timer.idx = -1;
  r->method = r->tail;
  memcpy(r->method, method, mlen);
  r->method[mlen] = 0;
  r->mlen = (uint32_t)mlen;
  r->body = (uint8_t *)r->tail + mlen + 1;
  if (len) body ? memcpy(r->body, body, len) : memset(r->body, 0, len);
  r->len = (uint32_t)len;
  return r;
}

struct req *sos__k_req_new(const char *method, size_t mlen, const void *body,
                           size_t len) {
  struct req *r = sos_malloc(sizeof *r + mlen + 1 + len);
  return r ? req_init(r, mlen + 1 + len, method, mlen, body, len) : NULL;
}

struct req *sos__k_req_renew(struct kernel *k, struct req *old, const char *method,
                             size_t mlen, const void *body, size_t len) {
  if (old && old->cap >= mlen + 1 + len && !old->body_owned && !old->parts && !old->typed &&
      !old->resp) {
    struct ktimer t = old->timer; /* still in the heap, maybe: submit moves it */
    req_init(old, old->cap, method, mlen, body, len);
    old->timer = t;
    return old;
  }
  sos__k_req_free(k, old);
  return sos__k_req_new(method, mlen, body, len);
}

void sos__k_req_body(struct req *r, uint8_t *body, uint32_t len) {
  if (r->body_owned) sos_free(r->body);
  r->body = body;
  r->len = len;
  r->body_owned = body != NULL;
}

struct rpart *sos__k_take_parts(struct kernel *k, struct req *r) {
  pthread_mutex_lock(&k->mu);
  struct rpart *p = r->parts;
  r->parts = NULL;
  r->parts_end = NULL;
  pthread_mutex_unlock(&k->mu);
  return p;
}

void sos__k_req_free(struct kernel *k, struct req *r) {
  if (!r) return;
  for (struct rpart *p = r->parts, *next; p; p = next) {
    next = p->next;
    sos_free(p);
  }
  sos__k_timer_clear(k, &r->timer);
  if (r->typed) sos__k_image_unref(k, r->typed);
  sos__k_req_body(r, NULL, 0);
  sos_free(r->resp);
  sos_free(r);
}

void sos__k_complete(struct kernel *k, struct req *r, int status,
                     const void *resp, size_t len) {
  uint8_t *copy = r->state == R_DONE ? NULL : sos_malloc(len ? len : 1);
  if (copy && len) memcpy(copy, resp, len);
  sos__k_complete_own(k, r, status, copy, copy ? len : 0);
}

void sos__k_complete_own(struct kernel *k, struct req *r, int status, uint8_t *resp,
                         size_t len) {
  if (r->egress) sos__k_egress_detach(k, r); /* answered first: by its deadline */
  if (r->state == R_DONE) {
    sos_free(resp);
    return;
  }
  r->state = R_DONE;
  /* A plan step's deadline timer stays for its next step (the plan's
   * spare request, sos__k_req_renew), which mostly has the same deadline:
   * firing on a done request does nothing.  The plan clears it at its end. */
  if (!r->plan) sos__k_timer_clear(k, &r->timer);
  if (r->plan_self) sos__k_plan_orphan(k, r);
  if (r->runner) { /* answered (timed out) while an instance handles it */
    r->runner->cur = NULL;
    r->runner->kill = true;
    r->runner = NULL;
  }
  r->status = status;
  r->resp = resp;
  r->resp_len = resp ? (uint32_t)len : 0;
  if (r->svc && status != SOS_STATUS_OK) r->svc->errors++;
  if (r->plan) {
    sos__k_plan_step_done(k, r);
  } else if (r->detached) {
    sos__k_req_free(k, r);
  } else if (r->caller) {
    sos__k_try_wake(k, r->caller);
  } else if (r->outside) {
    struct lane *l = r->lane;
    if (r->part_queued) { /* answered() takes the parts left */
      for (struct req **p = &l->parted; *p; p = &(*p)->part_next)
        if (*p == r) {
          *p = r->part_next;
          break;
        }
      r->part_queued = false;
    }
    r->next = l->done;
    l->done = r;
    sos__k_lane_wake(l);
  }
}

/* Completes r with a printf-made message. */
static void fail(struct kernel *k, struct req *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail(struct kernel *k, struct req *r, int status, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  if ((size_t)n >= sizeof msg) n = sizeof msg - 1;
  sos__k_complete(k, r, status, msg, (size_t)n);
}

/* ---- logs --------------------------------------------------------------- */

void sos__k_log_bytes(struct svc *s, const char *level, const uint8_t *p, size_t n) {
  if (!s || s->log_fd < 0) return;
  uint64_t ns = sos__k_wall();
  time_t secs = (time_t)(ns / 1000000000u);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char line[4096];
  while (n > 0) { /* one log record per line of text */
    const uint8_t *nl = memchr(p, '\n', n);
    size_t take = nl ? (size_t)(nl - p) : n;
    size_t show = take > 3000 ? 3000 : take;
    int h = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ %-5s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, (unsigned)(ns / 1000000u % 1000u), level);
    memcpy(line + h, p, show);
    line[h + show] = '\n';
    ssize_t w = write(s->log_fd, line, (size_t)h + show + 1);
    (void)w; /* a log that cannot be written must not stop the service */
    p += take + (nl ? 1 : 0);
    n -= take + (nl ? 1 : 0);
  }
}

void sos__k_log(struct svc *s, const char *level, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof msg) n = sizeof msg - 1;
  sos__k_log_bytes(s, level, (const uint8_t *)msg, (size_t)n);
}

/* ---- instances ---------------------------------------------------------- */

/* Begins a call of the export name with args; false when there is none. */
static bool begin_export(struct inst *in, const char *name, const sos_wasm_val *args,
                         uint32_t nargs) {
  struct sos_wasm_extern e;
  if (sos_wasm_instance_export(in->wi, name, strlen(name), &e) ||
      e.kind != SOS_WASM_EXTERN_FUNC)
    return false;
  return sos_wasm_call_begin(in->wi, e.u.func, args, nargs) == 0;
}

/* Begins the next initialisation call; false when initialisation is over. */
static bool begin_init(struct inst *in) {
  static const char *const steps[] = {"_initialize", "sos_init"};
  while (in->init_step < 2)
    if (begin_export(in, steps[in->init_step++], NULL, 0)) return true;
  return false;
}

static void inst_idle(struct kernel *k, struct inst *in);

/* Makes a new instance of s's current version and starts its
 * initialisation (or, for a job, its _start). */
static struct inst *inst_new(struct kernel *k, struct svc *s) {
  struct inst *in = sos_calloc(1, sizeof *in);
  if (!in) return NULL;
  in->timer.idx = -1;
  in->svc = s;
  in->ver = s->cur;
  in->task = s->cur->img->is_job ? T_JOB : T_INIT;
  if (in->task == T_JOB) s->job_state = 1;
  in->all_next = s->all;
  s->all = in;
  s->live++;
  sos__k_ready(k, in, false); /* a worker instantiates it (sos__k_inst_start) */
  return in;
}

/* Instantiates in's module and runs the first slice of its first call:
 * _start for a job, else its initialisation.  Runs on a worker without
 * k->mu, so that instances start in parallel: it touches only in and its
 * version, which outlive it.  Returns as sos_wasm_run (SOS_WASM_DONE when
 * there is nothing to run); SOS_ETRAP with *trap saying why when the
 * instance cannot be made, which counts as a trap. */
int sos__k_inst_start(struct inst *in, struct sos_wasm_trap *trap) {
  struct ver *v = in->ver;
  struct sos_wasm_limits lim = {.max_memory = v->def->memory};
  char err[160];
  int rc = sos_wasm_instance_new(v->img->mod, &lim, v->img->imports, v->img->nimports,
                                 &in->wi, err, sizeof err);
  if (rc) {
    trap->kind = SOS_WASM_TRAP_HOST;
    snprintf(trap->message, sizeof trap->message, "cannot start an instance: %s", err);
    return SOS_ETRAP;
  }
  sos_wasm_instance_set_user(in->wi, in);
  bool begun = in->task == T_JOB ? begin_export(in, "_start", NULL, 0) : begin_init(in);
  return begun ? sos_wasm_run(in->wi, K_SLICE_FUEL, trap) : SOS_WASM_DONE;
}

/* Whether a request may be ready for in when r ends: its plan's next
 * step, or a queued call. */
static bool more(const struct inst *in, const struct req *r) {
  return (r->plan && sos__k_plan_more(r)) || in->svc->qhead;
}

/* Gives r to in: prepares the sos_handle call and makes in ready. */
static void start_req(struct kernel *k, struct inst *in, struct req *r) {
  sos_wasm_val args[3];
  args[0] = r->mlen;
  args[1] = r->len;
  args[2] = more(in, r) ? SOS_HANDLE_MORE : 0;
  r->state = R_RUNNING;
  r->runner = in;
  in->cur = r;
  in->cur_planned = r->plan != NULL;
  sos_free(in->resp); /* a `respond` outside a request does not carry over */
  in->resp = NULL;
  in->resp_len = 0;
  in->task = T_REQ;
  if (in->looping) { /* `next` returns it to the running sos_handle */
    in->state = I_RUNNING;
    return;
  }
  if (!in->handle) { /* looked up once: most instances serve many requests */
    struct sos_wasm_extern e;
    if (!sos_wasm_instance_export(in->wi, "sos_handle", 10, &e) &&
        e.kind == SOS_WASM_EXTERN_FUNC) {
      in->handle = e.u.func;
      in->handle_args = sos_wasm_func_type(e.u.func)->nparams == 3 ? 3 : 2;
    }
  }
  if (!in->handle || sos_wasm_call_begin(in->wi, in->handle, args, in->handle_args)) {
    fail(k, r, SOS_STATUS_NO_METHOD, "service %s does not export sos_handle", in->svc->name);
    in->task = T_NONE;
    in->kill = false;
    inst_idle(k, in);
    return;
  }
  sos__k_ready(k, in, true);
}

/* Pops the oldest queued request of s, or NULL. */
static struct req *dequeue(struct svc *s) {
  struct req *r = s->qhead;
  if (!r) return NULL;
  s->qhead = r->next;
  if (!s->qhead) s->qtail = NULL;
  s->qlen--;
  r->next = NULL;
  return r;
}

/* in has nothing to run: it takes the next request or goes idle. */
static void inst_idle(struct kernel *k, struct inst *in) {
  struct svc *s = in->svc;
  in->task = T_NONE;
  if (in->kill || in->ver != s->cur || k->stopping) {
    sos__k_inst_retire(k, in);
    return;
  }
  struct req *r = dequeue(s);
  if (r) {
    start_req(k, in, r);
    return;
  }
  in->state = I_IDLE;
  in->next = s->idle;
  s->idle = in;
}

/* Forgets every call in's guest still holds: answered ones are freed,
 * pending ones are left to finish on their own. */
static void drop_handles(struct kernel *k, struct inst *in) {
  for (uint32_t i = 0; i < in->nh; i++) {
    struct req *r = in->h[i];
    if (!r) continue;
    sos__k_release(k, r);
    in->h[i] = NULL;
  }
  in->nh = 0;
}

static void svc_release(struct kernel *k, struct svc *s);

/* Takes in out of s's idle list, if it is there. */
static void idle_unlink(struct svc *s, struct inst *in) {
  for (struct inst **p = &s->idle; *p; p = &(*p)->next)
    if (*p == in) {
      *p = in->next;
      break;
    }
}

void sos__k_inst_retire(struct kernel *k, struct inst *in) {
  struct svc *s = in->svc;
  idle_unlink(s, in);
  for (struct inst **p = &s->all; *p; p = &(*p)->all_next)
    if (*p == in) {
      *p = in->all_next;
      break;
    }
  s->live--;
  if (in->cur) fail(k, in->cur, SOS_STATUS_TRAPPED, "the instance was stopped");
  drop_handles(k, in);
  sos__k_plan_drop(k, in);
  sos__k_kv_forget(in);
  if (in->wait == W_LOG) sos__k_log_unwait(k, in);
  sos__k_timer_clear(k, &in->timer);
  sos__k_files_free(in);
  sos_free(in->h);
  if (in->wait_h != in->wait_few) sos_free(in->wait_h);
  sos_free(in->resp);
  sos_wasm_instance_free(in->wi);
  sos_free(in);
  if (s->removed) { /* the last instance frees the service */
    if (!s->live) svc_release(k, s);
    return;
  }
  sos__k_svc_fill(k, s);
  if (s->qhead && !s->idle && s->live < s->cur->def->max_instances &&
      sos__k_now() >= s->backoff_until)
    inst_new(k, s);
}

/* Whether s is backing off after repeated traps. */
static bool backing_off(const struct svc *s) { return sos__k_now() < s->backoff_until; }

void sos__k_svc_fill(struct kernel *k, struct svc *s) {
  if (s->removed || s->cur->img->is_job || k->stopping || backing_off(s)) return;
  while (s->live < s->cur->def->min_instances)
    if (!inst_new(k, s)) break;
}

void sos__k_svc_start(struct kernel *k, struct svc *s) {
  k->svc_gen++; /* what callers remember of s may be stale */
  sos__k_plan_stale(k);
  /* Idle instances of older versions go now; busy ones after their
   * request (inst_idle). */
  struct inst *in = s->idle, *next;
  for (; in; in = next) {
    next = in->next;
    if (in->ver != s->cur) sos__k_inst_retire(k, in);
  }
  s->crashes = 0;
  s->backoff_until = 0;
  if (s->cur->img->is_job) {
    s->job_state = s->job_done == s->cur->n ? 2 : 0; /* a job runs once per version */
    if (s->job_state == 0) inst_new(k, s);
  } else {
    sos__k_svc_fill(k, s);
  }
}

/* ---- submitting --------------------------------------------------------- */

static void enqueue(struct svc *s, struct req *r) {
  r->state = R_QUEUED;
  r->next = NULL;
  if (s->qtail)
    s->qtail->next = r;
  else
    s->qhead = r;
  s->qtail = r;
  s->qlen++;
}

void sos__k_submit(struct kernel *k, struct req *r) {
  struct svc *s = r->svc;
  s->calls++;
  if (r->deadline) {
    r->timer.kind = KT_REQ_DEADLINE;
    sos__k_timer_set(k, &r->timer, r->deadline);
  } else {
    sos__k_timer_clear(k, &r->timer); /* a renewed request's old deadline */
  }
  if (k->stopping) return fail(k, r, SOS_STATUS_SHUTDOWN, "the node is shutting down");
  if (s->cur->img->is_job)
    return fail(k, r, SOS_STATUS_NO_METHOD, "%s is a job (a command module); it takes no calls",
                s->name);
  struct inst *in = s->idle;
  if (in) {
    s->idle = in->next;
    return start_req(k, in, r);
  }
  bool off = backing_off(s);
  if (off && s->live == 0)
    return fail(k, r, SOS_STATUS_UNAVAILABLE,
                "%s is crashing (%u traps in a row) and backing off", s->name, s->crashes);
  if (s->qlen >= s->cur->def->queue)
    return fail(k, r, SOS_STATUS_BUSY, "%s has %u requests waiting", s->name, s->qlen);
  enqueue(s, r);
  if (!off && s->live < s->cur->def->max_instances) inst_new(k, s);
}

/* ---- after a run -------------------------------------------------------- */

/* Maps a guest's returned status to a call status. */
static int guest_status(uint32_t v) {
  return v == 0 ? SOS_STATUS_OK : v <= SOS_STATUS_LAST ? (int)v : SOS_STATUS_ERROR;
}

/* A job ended with code: it is done for this version, also after a
 * restart of the node (state.json remembers it). */
static void job_finished(struct kernel *k, struct svc *s, uint32_t code) {
  s->job_state = 2;
  s->job_code = code;
  s->job_done = s->cur->n;
  if (sos__k_save(k)) sos__k_log(s, "warn", "cannot save state.json: the job may run again");
}

/* Ends in's current request with the guest's status and the answer it
 * set with `respond`. */
static inline __attribute__((always_inline)) void answer_cur(struct kernel *k, struct inst *in,
                                                            int status) {
  struct req *r = in->cur;
  uint8_t *resp = in->resp;
  uint32_t resp_len = in->resp_len;
  in->cur = NULL;
  in->resp = NULL;
  in->resp_len = 0;
  in->svc->crashes = 0;
  drop_handles(k, in);
  /* Idle first, then answer: a call the answer makes at once (a plan's next
   * step) finds this instance free, warm, instead of queueing. */
  inst_idle(k, in);
  if (r) {
    r->runner = NULL;
    sos__k_complete_own(k, r, status, resp, resp_len);
  } else {
    sos_free(resp);
  }
}

int64_t sos__k_next(struct kernel *k, struct inst *in, uint32_t status) {
  struct svc *s = in->svc;
  /* Only when a request may follow at once: a plan's next step, or one
   * already queued (read without the lock: a hint, checked below; in->cur
   * itself may be cleared meanwhile by its deadline, on the loop's thread). */
  if (in->task != T_REQ ||
      (!in->cur_planned && !__atomic_load_n(&s->qhead, __ATOMIC_RELAXED)))
    return -1;
  pthread_mutex_lock(&k->mu);
  int64_t next = -1;
  if (!in->kill && in->cur && in->ver == s->cur && !k->stopping) {
    in->looping = true;
    answer_cur(k, in, guest_status(status));
    in->looping = false;
    if (in->state == I_IDLE) { /* nothing for it: the run ends as usual */
      idle_unlink(s, in);
      in->next = NULL;
      in->state = I_RUNNING;
      in->task = T_REQ; /* the run's end finds no request and goes idle */
    } else {
      struct req *r = in->cur;
      next = (int64_t)more(in, r) << 62 | (int64_t)r->mlen << 32 | r->len;
      s->calls_next++;
    }
  }
  pthread_mutex_unlock(&k->mu);
  return next;
}

static void run_done(struct kernel *k, struct inst *in) {
  struct svc *s = in->svc;
  if (in->task == T_INIT) {
    if (begin_init(in))
      sos__k_ready(k, in, true);
    else
      inst_idle(k, in);
    return;
  }
  if (in->task == T_JOB) {
    sos__k_log(s, "info", "job finished");
    job_finished(k, s, 0);
    sos__k_inst_retire(k, in);
    return;
  }
  uint32_t n;
  const sos_wasm_val *res = sos_wasm_results(in->wi, &n);
  answer_cur(k, in, n ? guest_status((uint32_t)res[0]) : SOS_STATUS_OK);
}

static void run_trapped(struct kernel *k, struct inst *in, const struct sos_wasm_trap *t) {
  struct svc *s = in->svc;
  if (t->kind == SOS_WASM_TRAP_EXIT) {
    sos__k_log(s, "info", "instance exited with code %u", t->exit_code);
    if (in->task == T_JOB) {
      job_finished(k, s, t->exit_code);
    } else if (in->cur) {
      fail(k, in->cur, SOS_STATUS_ERROR, "the instance exited with code %u", t->exit_code);
    }
    sos__k_inst_retire(k, in);
    return;
  }
  s->traps++;
  s->crashes++;
  sos__k_log(s, "error", "trap: %s: %s", sos_wasm_trap_name(t->kind), t->message);
  if (in->cur) fail(k, in->cur, SOS_STATUS_TRAPPED, "trap: %s: %s", sos_wasm_trap_name(t->kind),
                    t->message);
  if (in->task == T_JOB) job_finished(k, s, 134);
  if (s->crashes >= K_BACKOFF_AFTER) {
    uint32_t shift = s->crashes - K_BACKOFF_AFTER;
    uint64_t ms = shift > 10 ? K_BACKOFF_MAX_MS : (uint64_t)K_BACKOFF_MIN_MS << shift;
    if (ms > K_BACKOFF_MAX_MS) ms = K_BACKOFF_MAX_MS;
    s->backoff_until = sos__k_now() + ms * 1000000u;
    sos__k_log(s, "warn", "%u traps in a row: backing off for %llu ms", s->crashes,
               (unsigned long long)ms);
  }
  sos__k_inst_retire(k, in);
}

void sos__k_after_run(struct kernel *k, struct inst *in, int rc,
                      const struct sos_wasm_trap *trap) {
  if (in->kill) {
    sos__k_inst_retire(k, in);
    return;
  }
  switch (rc) {
  case SOS_WASM_YIELDED:
    sos__k_requeue(k, in);
    return;
  case SOS_WASM_SUSPENDED:
    in->state = I_WAIT;
    sos__k_try_wake(k, in);
    return;
  case SOS_WASM_DONE:
    run_done(k, in);
    return;
  case SOS_ETRAP:
    run_trapped(k, in, trap);
    return;
  default: {
    struct sos_wasm_trap t = {.kind = SOS_WASM_TRAP_HOST};
    snprintf(t.message, sizeof t.message, "run failed: %s", sos_strerror(rc));
    run_trapped(k, in, &t);
  }
  }
}

/* ---- waking ------------------------------------------------------------- */

/* Resumes a waiting instance with an i32 result (or none) and readies it. */
static void wake(struct kernel *k, struct inst *in, bool has_result, sos_wasm_val v) {
  if (in->wait == W_LOG) sos__k_log_unwait(k, in);
  sos__k_timer_clear(k, &in->timer);
  in->wait = W_NONE;
  if (in->wait_h != in->wait_few) sos_free(in->wait_h);
  in->wait_h = NULL;
  in->wait_n = 0;
  sos_wasm_resume(in->wi, &v, has_result ? 1 : 0);
  sos__k_ready(k, in, true);
}

/* Whether handle h (1-based) of in names a finished call. */
static bool handle_done(const struct inst *in, uint32_t h) {
  return h >= 1 && h <= in->nh && in->h[h - 1] && in->h[h - 1]->state == R_DONE;
}

bool sos__k_try_wake(struct kernel *k, struct inst *in) {
  if (in->state != I_WAIT) return false;
  if (in->wait == W_ANY) {
    for (uint32_t i = 0; i < in->wait_n; i++)
      if (handle_done(in, in->wait_h[i])) {
        wake(k, in, true, i);
        return true;
      }
  } else if (in->wait == W_ALL) {
    for (uint32_t i = 0; i < in->wait_n; i++)
      if (!handle_done(in, in->wait_h[i])) return false;
    wake(k, in, true, 0);
    return true;
  } else if ((in->wait == W_STORE || in->wait == W_LOG) && in->answered) {
    wake(k, in, true, in->answer);
    return true;
  }
  return false;
}

static void unqueue(struct svc *s, struct req *r);

void sos__k_release(struct kernel *k, struct req *r) {
  if (r->state == R_DONE) {
    sos__k_req_free(k, r);
    return;
  }
  r->caller = NULL;
  r->detached = true;
  if (r->plan_self) {
    sos__k_plan_cancel(k, r);
  } else if (r->state == R_QUEUED && r->svc) { /* not started: it never will be */
    unqueue(r->svc, r);
    sos__k_complete(k, r, SOS_STATUS_CANCELLED, NULL, 0);
  } else if (!r->svc && r->timer.kind == KT_REQ_SLEEP) { /* a built-in's wait */
    sos__k_complete(k, r, SOS_STATUS_CANCELLED, NULL, 0);
  }
}

/* Takes r out of its service's queue. */
static void unqueue(struct svc *s, struct req *r) {
  struct req *prev = NULL;
  for (struct req *q = s->qhead; q; prev = q, q = q->next) {
    if (q != r) continue;
    if (prev)
      prev->next = q->next;
    else
      s->qhead = q->next;
    if (s->qtail == q) s->qtail = prev;
    s->qlen--;
    return;
  }
}

void sos__k_timer_fired(struct kernel *k, struct ktimer *t) {
  if (t->kind == KT_INST_WAKE) {
    struct inst *in = container_of(t, struct inst, timer);
    if (in->state != I_WAIT) return;
    if (in->wait == W_SLEEP)
      wake(k, in, false, 0);
    else
      wake(k, in, true, (uint32_t)-SOS_STATUS_TIMEOUT);
    return;
  }
  struct req *r = container_of(t, struct req, timer);
  if (t->kind == KT_REQ_SLEEP) { /* time.sleep: an Empty answer */
    sos__k_complete(k, r, SOS_STATUS_OK, NULL, 0);
    return;
  }
  if (r->state == R_QUEUED && r->svc) unqueue(r->svc, r);
  struct inst *in = r->state == R_RUNNING ? r->runner : NULL;
  if (in) /* before fail(), which may free r */
    sos__k_log(in->svc, "warn", "request %s timed out; the instance is replaced", r->method);
  fail(k, r, SOS_STATUS_TIMEOUT, "timed out");
  if (in && in->state == I_WAIT) sos__k_inst_retire(k, in);
}

/* ---- services ----------------------------------------------------------- */

struct svc *sos__k_svc_find(struct kernel *k, const char *name) {
  for (struct svc *s = k->svcs; s; s = s->next)
    if (strcmp(s->name, name) == 0) return s;
  return NULL;
}

/* Frees s and its versions once no instance is left. */
static void svc_release(struct kernel *k, struct svc *s) {
  struct ver *v = s->vers;
  while (v) {
    struct ver *prev = v->prev;
    sos__k_image_unref(k, v->img);
    sos_free(v);
    v = prev;
  }
  if (s->log_fd >= 0) close(s->log_fd);
  sos_free(s);
}

void sos__k_svc_free(struct kernel *k, struct svc *s) {
  for (struct svc **p = &k->svcs; *p; p = &(*p)->next)
    if (*p == s) {
      *p = s->next;
      break;
    }
  struct req *r;
  while ((r = dequeue(s))) fail(k, r, SOS_STATUS_NOT_FOUND, "service %s was removed", s->name);
  s->removed = true;
  k->svc_gen++;
  sos__k_plan_stale(k);
  s->live++; /* hold s while its instances go */
  struct inst *in = s->all, *next;
  for (; in; in = next) {
    next = in->all_next;
    if (in->state == I_IDLE || in->state == I_WAIT || in->state == I_NEW)
      sos__k_inst_retire(k, in);
    else
      in->kill = true;
  }
  if (!--s->live) svc_release(k, s);
}

/*
 * kernel.h - the node kernel's internal structures, shared by src/kernel.
 *
 * sosd is one process: a libuv event loop (the control socket, timers,
 * signals) and a pool of worker threads that run WebAssembly instances.
 * One mutex, k->mu, guards every structure below; workers hold it only
 * between runs (never while wasm executes), host functions take it for the
 * few steps that touch shared state, and the loop takes it in callbacks.
 *
 * Objects and their lives:
 *   svc   a deployed service: its versions, its pool of instances, its
 *         queue of waiting requests, its crash count.  Lives until `rm`.
 *   ver   one version of a service: an image, the compiled module, the
 *         resolved definition.  Kept for rollback.
 *   inst  a WebAssembly instance of a version: an actor that handles one
 *         request at a time.  Retired when it traps, times out or when
 *         its version is no longer current.
 *   req   one service call in flight, from an instance (a handle in its
 *         table) or from outside (a control connection).  Owned by the
 *         kernel from submission; freed when both its answer is known and
 *         its caller has let go of it.
 *
 * Time: every deadline (request timeouts, sleeps, await timeouts) is a
 * struct ktimer in one binary heap; the loop's one uv_timer is armed at
 * the earliest.
 */
#ifndef SOS_KERNEL_H
#define SOS_KERNEL_H

#include "sos/abi.h"
#include "sos/app.h"
#include "sos/base.h"
#include "sos/idl.h"
#include "sos/image.h"
#include "sos/store.h"
#include "sos/wasi.h"
#include "sos/wasm.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define SOSD_VERSION "0.1.0"
#define K_SLICE_FUEL 200000       /* fuel per run slice: about a millisecond */
#define K_BACKOFF_AFTER 3         /* consecutive traps before backing off */
#define K_BACKOFF_MIN_MS 100
#define K_BACKOFF_MAX_MS 30000

struct kernel;
struct svc;
struct inst;

/* A deadline in the kernel's timer heap. */
enum { KT_REQ_DEADLINE = 1, KT_REQ_SLEEP, KT_INST_WAKE };
struct ktimer {
  uint64_t at;  /* monotonic ns */
  int32_t idx;  /* position in the heap, -1 when not in it */
  uint8_t kind; /* KT_* says which struct holds it */
};

/* A service call in flight. */
enum { R_QUEUED, R_RUNNING, R_DONE };
struct req {
  struct svc *svc;        /* target, NULL for a built-in service */
  char *method;           /* NUL-terminated, in tail */
  uint32_t mlen;          /* its length */
  uint32_t cap;           /* bytes tail has room for */
  uint8_t *body;          /* request bytes: in tail, or owned if body_owned */
  uint32_t len;
  bool body_owned;        /* set by sos__k_req_body */
  uint8_t *resp;          /* owned response bytes once done */
  uint32_t resp_len;
  int status;             /* SOS_STATUS_* once done */
  int state;              /* R_* */
  uint64_t deadline;      /* monotonic ns, 0: none */
  struct ktimer timer;    /* the deadline (or a built-in's wake-up) */
  struct inst *runner;    /* the instance handling it while R_RUNNING */
  struct inst *caller;    /* the instance that awaits it, or NULL */
  /* An outside caller (a control or HTTP connection) is told on its
   * lane's thread: sos__k_lane_flush calls answered(k, r), then frees r. */
  bool outside;
  struct lane *lane;      /* the outside caller's lane (its answer goes there) */
  /* A stream (respond_part): parts of the answer sent before it, for an
   * outside caller that takes them (parted set): a FIFO the lane drains
   * through parted(k, r), then answered(k, r) drains what is left. */
  void (*parted)(struct kernel *k, struct req *r);
  struct rpart *parts, **parts_end;
  struct req *part_next;  /* in its lane's list of requests with parts */
  bool part_queued;       /* ... while it is in that list */
  void *owner;
  void (*answered)(struct kernel *k, struct req *r);
  int64_t tag;            /* an outside caller's "id", -1: none */
  bool detached;          /* nobody wants the answer: free when done */
  const struct sos_idl *schema; /* an outside typed call: the schema whose
                                   resp_type struct the response is
                                   converted from (JSON), else NULL */
  struct image_ref *typed;      /* the image holding schema (a reference), or
                                   NULL for a built-in's */
  int resp_type;
  struct plan *plan;      /* a step's call of this plan (plan.c), or NULL */
  uint32_t plan_step, plan_item;
  struct plan *plan_self; /* this request is a plan's, run by it, or NULL */
  struct xfer *egress;    /* a call of the http built-in: its transfer
                             (src/net/egress.c), detached when r completes */
  struct req *next;       /* in a service's queue or the done list */
  char tail[];            /* the method, then the request bytes: one
                             allocation per request */
};

/* What an instance is doing. */
enum { I_NEW, I_IDLE, I_READY, I_RUNNING, I_WAIT };
enum { T_NONE, T_INIT, T_REQ, T_JOB };
enum { W_NONE, W_ANY, W_ALL, W_SLEEP, W_STORE, W_LOG };

struct inst {
  struct svc *svc;
  struct ver *ver;
  sos_wasm_instance *wi;
  sos_wasm_func *handle;  /* its sos_handle export, once looked up */
  uint32_t handle_args;   /* 2, or 3 when it takes flags (SOS_HANDLE_*) */
  int state;              /* I_* */
  int task;               /* T_*: what the current run is for */
  int init_step;          /* 0: _initialize next, 1: sos_init next, 2: done */
  struct req *cur;        /* the request being handled (T_REQ) */
  uint8_t *resp;          /* `respond` bytes for cur */
  uint32_t resp_len;
  struct req **h;         /* open calls: handle n is h[n - 1] */
  uint32_t nh, caph;
  int wait;               /* W_*: why it is suspended */
  uint32_t *wait_h;       /* the handles awaited: wait_few, or owned */
  uint32_t wait_n;
  uint32_t wait_few[4];   /* up to 4 of them: no malloc per await */
  struct ktimer timer;    /* sleep or await deadline */
  struct ticket *ticket;  /* a store write in flight (kv.c) */
  sos_wasm_val answer;    /* W_STORE, W_LOG: the result, once answered */
  bool answered;
  uint8_t *log_key;       /* W_LOG: the log waited on (owned) */
  size_t log_klen;
  uint64_t log_from;      /* W_LOG: wake when the log's end passes this */
  struct inst *log_next;  /* W_LOG: in k->log_waiters */
  struct kfile *files;    /* open files of the WASI tree (files.c) */
  uint32_t nfiles;
  bool kill;              /* retire as soon as it stops running */
  bool looping;           /* inside `next`: a request given to it is taken
                           * there, not begun as a new sos_handle call */
  bool cur_planned;       /* cur (as given) is a plan's step: read by `next`
                           * without the lock, which cur is not */
  struct inst *next;      /* in the ready queue or the idle list */
  struct inst *all_next;  /* in the service's list of all instances */
  struct plan *plan;      /* the last plan it sent, kept decoded (plan.c) */
  /* The last service it called that passed every check (its uses, the
   * service found, the interfaces agree), for k->svc_gen: the next call
   * to the same name skips them (syscall.c). */
  struct {
    uint64_t gen;         /* 0: none */
    struct svc *svc;      /* NULL: a built-in */
    uint32_t len;
    char name[SOS_ABI_MAX_NAME + 1];
  } last_call;
};

/* One version of a service. */
struct ver {
  uint32_t n;                   /* 1, 2, ... */
  char image[SOS_IMAGE_ID_LEN + 1];
  struct image_ref *img;        /* the shared loaded image */
  const struct sos_app_service *def; /* in img->app */
  struct ver *prev;             /* the next older version */
};

/* A loaded image: the decoded definition and the compiled module, shared by
 * every version that comes from it. */
/* Whether a caller image's interfaces agree with a callee image's
 * (typed.c), remembered per pair. */
struct verdict {
  char callee[SOS_IMAGE_ID_LEN + 1];
  bool ok;
  char why[512];
  struct verdict *next;
};

struct image_ref {
  char id[SOS_IMAGE_ID_LEN + 1];
  struct sos_idl *idl;          /* its compiled schema, or NULL when untyped */
  struct verdict *verdicts;     /* agreement with callees' images */
  uint32_t refs;
  struct sos_image *img;
  struct sos_app *app;
  sos_wasm_module *mod;
  sos_wasi *wasi;               /* one WASI context for all its instances */
  struct sos_wasm_extern *imports;
  uint32_t nimports;
  bool is_job;                  /* exports _start */
  bool listed;                  /* in k->images */
  struct image_ref *next;
};

/* A deployed service. */
struct svc {
  char name[64];
  struct ver *vers;             /* every version, newest first (->prev) */
  struct ver *cur;              /* the current one, in vers */
  struct inst *all;             /* every live instance */
  struct inst *idle;            /* idle instances, most recent first */
  uint32_t live;                /* instances alive */
  struct req *qhead, *qtail;    /* waiting requests */
  uint32_t qlen;
  uint32_t crashes;             /* consecutive traps */
  uint64_t backoff_until;       /* monotonic ns */
  uint64_t calls, errors, traps;
  uint64_t sent;                /* calls and plans its instances sent: messages */
  uint64_t calls_planned;       /* of calls, those a plan made for its caller */
  uint64_t calls_next;          /* of calls, those an instance took with
                                   `next`, inside its run (service.c) */
  uint64_t plans_reused;        /* of the plans sent, those run from the
                                   instance's cached plan (plan.c) */
  int job_state;                /* for jobs: 0 not run, 1 running, 2 exited */
  uint32_t job_code;
  uint32_t job_done;            /* the version whose job has run, or 0 */
  int log_fd;
  bool removed;                 /* `rm`ed: freed with its last instance */
  struct svc *next;
};

/* The node's settings (config.c: DATA/node.conf, then sosd's options). */
struct kconfig {
  char http_host[64];             /* the gateway's address (127.0.0.1) */
  int http_port;                  /* 8080; 0: any free port */
  bool http_off;                  /* no gateway */
  uint32_t http_max_head;         /* request line and headers, bytes: else 431 */
  uint64_t http_max_body;         /* bytes: else 413 */
  uint32_t http_max_conns;        /* open connections: more are refused with 503 */
  uint64_t http_request_timeout_ms; /* a request must arrive within it: else 408 */
  uint64_t http_idle_timeout_ms;  /* a kept-alive connection idle this long closes */
  char http_tls_cert[1024];       /* PEM certificate chain: serve HTTPS, or "" */
  char http_tls_key[1024];        /* its PEM private key */
};

struct worker {
  struct kernel *k;
  pthread_t thread;
  struct inst *next; /* run this next, before the shared queue */
};

/* A thread with an event loop that outside callers' requests come from:
 * sosd's main loop (the control socket, timers, egress) and each further
 * loop of the HTTP gateway (http.c).  Their answers are delivered there:
 * from another thread through wake, from its own at the end of the loop
 * iteration (flush). */
/* Part of an answer sent before the answer (respond_part). */
struct rpart {
  struct rpart *next;
  uint32_t len;
  uint8_t bytes[];
};

struct lane {
  struct kernel *k;
  uv_async_t wake;      /* answers (main lane: also timers, egress) wait */
  uv_check_t flush;     /* delivers what this thread answered itself */
  struct req *done;     /* answered outside requests to deliver (k->mu) */
  struct req *parted;   /* requests with parts to deliver (k->mu) */
  struct worker helper; /* this thread while it helps (sched.c) */
  bool closed;          /* its handles are closed: nothing wakes it */
};

struct kernel {
  char *data;                   /* the data directory */
  int lock_fd;
  uv_loop_t loop;
  uv_pipe_t ctl;
  struct lane main;             /* the loop's lane */
  uv_timer_t timer;
  uv_signal_t sigterm, sigint;
  uint64_t started;             /* monotonic ns */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct inst *rq_head, *rq_tail; /* ready instances */
  struct worker *workers;
  uint32_t nworkers;
  bool stopping;
  bool tearing;                 /* workers gone: freeing everything */
  struct svc *svcs;
  uint64_t svc_gen;             /* changes whenever a service comes, goes or
                                   changes version (from 1) */
  struct image_ref *images;
  sos_store *store;             /* DATA/store: every service's stores */
  struct inst *log_waiters;     /* instances in log_tail */
  struct sos_wasi_fs files;     /* the WASI tree "/" (files.c) */
  struct ktimer **heap;
  uint32_t nheap, capheap;
  uint64_t armed_at;            /* when the loop's timer fires (the heap's top
                                   when it was armed), 0: not armed.  A new
                                   timer wakes the loop only when earlier: a
                                   later one is found when the timer fires */
  sos_wasm_func **abi_funcs;    /* the "sos" imports, one per ABI call */
  _Atomic uint32_t inflight;    /* requests from outside not yet answered */
  struct sos_idl *sos_idl;      /* package sos (src/lang/builtins.c), typed.c */
  int err_type, plan_type;      /* its structs Error and Plan */
  struct sos_buf plan_buf;      /* plan.c's scratch for a step's request */
  struct plan *plan_spare;      /* plan.c's block for the next plan */
  struct kconfig cfg;
  struct gateway *http;         /* the HTTP gateway (src/net/http.c), or NULL */
  struct egress *egress;        /* the http built-in's transfers (egress.c) */
};

/* ---- time.c: clocks and the timer heap --------------------------------- */
uint64_t sos__k_now(void);        /* monotonic ns */
uint64_t sos__k_after_ms(uint64_t ms); /* monotonic ns, ms from now */
uint64_t sos__k_wall(void);       /* ns since 1970 */
void sos__k_timer_set(struct kernel *k, struct ktimer *t, uint64_t at);
void sos__k_timer_clear(struct kernel *k, struct ktimer *t);
/* Pops the earliest timer due at or before now, or NULL. */
struct ktimer *sos__k_timer_due(struct kernel *k, uint64_t now);
/* Arms the loop's uv_timer for the earliest deadline (loop thread). */
void sos__k_timer_arm(struct kernel *k);

/* ---- sched.c: workers and the run loop -------------------------------- */
int sos__k_sched_start(struct kernel *k, uint32_t nworkers);
void sos__k_sched_stop(struct kernel *k);
/* Queues inst to run (k->mu held).  warm: it may run next on this worker
 * (a hand-off); otherwise it goes to the back of the shared queue. */
void sos__k_ready(struct kernel *k, struct inst *in, bool warm);
/* Queues inst, whose slice ran out, behind the others (k->mu held). */
void sos__k_requeue(struct kernel *k, struct inst *in);
/* Lane l's thread helps (k->mu held): what it makes ready (warm) between
 * help_begin and help_end, it runs itself at help_end, briefly (sched.c),
 * instead of waking a worker. */
void sos__k_help_begin(struct lane *l);
void sos__k_help_end(struct lane *l);
/* Whether this thread is lane l's, helping. */
bool sos__k_helping(const struct lane *l);

/* ---- service.c: services, instances, requests ------------------------- */
/* Submits r to its service (k->mu held): an idle instance takes it, a new
 * one is started, or it waits in the queue; else it fails "busy". */
void sos__k_submit(struct kernel *k, struct req *r);
/* Finishes r with status and a copy of resp (k->mu held). */
void sos__k_complete(struct kernel *k, struct req *r, int status,
                     const void *resp, size_t len);
/* The same with resp (from sos_malloc, or NULL for none) given to r. */
void sos__k_complete_own(struct kernel *k, struct req *r, int status, uint8_t *resp,
                         size_t len);
/* The caller lets go of r (k->mu held): frees it when answered, else
 * cancels what can be cancelled (a request still queued, a plan's later
 * steps, a built-in's wait) and lets the rest finish unobserved. */
void sos__k_release(struct kernel *k, struct req *r);
/* Frees r (k->mu held, r not in any queue or heap). */
void sos__k_req_free(struct kernel *k, struct req *r);
/* A request for method with a copy of body (len bytes; body NULL: len
 * zeroed bytes to fill), both in one allocation with r. */
struct req *sos__k_req_new(const char *method, size_t mlen, const void *body,
                           size_t len);
/* The same in old's block when it has room (old: a finished request its
 * owner took the answer from, or NULL), else in a new one (old freed). */
struct req *sos__k_req_renew(struct kernel *k, struct req *old, const char *method,
                             size_t mlen, const void *body, size_t len);
/* The parts r's handler has sent since they were last taken, oldest
 * first (the caller's, freed with sos_free; takes k->mu). */
struct rpart *sos__k_take_parts(struct kernel *k, struct req *r);
/* Replaces r's request bytes with body (from sos_malloc; r owns it). */
void sos__k_req_body(struct req *r, uint8_t *body, uint32_t len);
/* The `next` import (docs/abi.md): ends in's current request with the
 * guest's status when another request may follow at once, and gives in
 * the next one without leaving its run.  Returns the new request's
 * more << 62 | method_len << 32 | req_len (more: SOS_HANDLE_MORE for it),
 * or -1: sos_handle returns as usual. */
int64_t sos__k_next(struct kernel *k, struct inst *in, uint32_t status);
/* Handles a run's outcome (k->mu held, called by workers). */
void sos__k_after_run(struct kernel *k, struct inst *in, int rc,
                      const struct sos_wasm_trap *trap);
/* A timer came due (k->mu held). */
void sos__k_timer_fired(struct kernel *k, struct ktimer *t);
/* Whether inst's wait is satisfied; if so resumes it (k->mu held). */
bool sos__k_try_wake(struct kernel *k, struct inst *in);
/* Makes a new instance's WebAssembly instance and runs its first slice
 * (a worker, without k->mu); returns as sos_wasm_run. */
int sos__k_inst_start(struct inst *in, struct sos_wasm_trap *trap);
/* Retires an instance (k->mu held, not running). */
void sos__k_inst_retire(struct kernel *k, struct inst *in);
/* Starts instances up to the service's minimum (k->mu held). */
void sos__k_svc_fill(struct kernel *k, struct svc *s);
struct svc *sos__k_svc_find(struct kernel *k, const char *name);
/* Stops and frees a service, failing its requests (k->mu held). */
void sos__k_svc_free(struct kernel *k, struct svc *s);
/* Appends one line to a service's log (any thread; does not need k->mu). */
void sos__k_log(struct svc *s, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sos__k_log_bytes(struct svc *s, const char *level, const uint8_t *p,
                      size_t n);
/* Starts a job or fills the pool of a version just made current. */
void sos__k_svc_start(struct kernel *k, struct svc *s);

/* ---- syscall.c: the "sos" imports and built-in services --------------- */
int sos__k_abi_init(struct kernel *k);
void sos__k_abi_free(struct kernel *k);
/* Resolves image imports (sos + WASI) into ir->imports. */
int sos__k_link(struct kernel *k, struct image_ref *ir, char *err, size_t errlen);
/* Whether name is a built-in service. */
bool sos__k_builtin(const char *name);
/* The interface (of package sos) of built-in service name, or NULL. */
const char *sos__k_builtin_interface(const char *name);
/* Whether built-in service name is for the node's owner only (stores):
 * no instance may call it. */
bool sos__k_builtin_admin(const char *name);
/* Fails r with declared error code of interface iface of package sos (the
 * Error struct, status ERROR); k->mu held. */
void sos__k_answer_error(struct kernel *k, struct req *r, const char *iface, uint32_t code,
                         const char *message);
/* Answers a call r of the stores built-in (stores.c); k->mu held. */
void sos__k_stores_call(struct kernel *k, struct req *r, int req_type);
/* Answers a call r of the crypto or secrets built-in (crypto.c,
 * secrets.c); k->mu held. */
void sos__k_crypto_call(struct kernel *k, struct req *r, int req_type);
void sos__k_secrets_call(struct kernel *k, struct req *r, int req_type);
/* The value of the node's secret name for the app of instance caller, in
 * *val (sos_free; *len bytes).  Errors: SOS_EPERM when the caller is not
 * an instance whose app declares it, SOS_ENOENT when it is not set,
 * SOS_EIO. */
int sos__k_secret_get(struct kernel *k, const struct inst *caller, const char *name,
                      uint8_t **val, size_t *len);
/* For the control ops (loop thread): set (value written to DATA/secrets/
 * NAME, mode 0600, durably), remove, and list as "NAME\tBYTES\n" lines.
 * SOS_EINVAL for a bad name (message in err). */
int sos__k_secret_set(struct kernel *k, const char *name, const uint8_t *val, size_t len,
                      char *err, size_t errlen);
int sos__k_secret_rm(struct kernel *k, const char *name, char *err, size_t errlen);
int sos__k_secret_list(struct kernel *k, char **text);
/* Fields of a built-in's request r, whose body (checked) is struct type of
 * package sos.  sos__k_req_bytes: a LEN field in place in r->body (*n
 * bytes), NULL when absent.  sos__k_req_text: a copy in buf, NUL-
 * terminated ("" when absent), NULL when it does not fit in cap.
 * sos__k_req_uint: an unsigned field, 0 when absent. */
const uint8_t *sos__k_req_bytes(struct kernel *k, const struct req *r, int type,
                               const char *name, size_t *n);
const char *sos__k_req_text(struct kernel *k, const struct req *r, int type, const char *name,
                            char *buf, size_t cap);
uint64_t sos__k_req_uint(struct kernel *k, const struct req *r, int type, const char *name);
/* Answers r, addressed to built-in service name (k->mu held). */
void sos__k_builtin_call(struct kernel *k, const char *name, struct req *r);

/* ---- typed.c: interfaces, schemas and JSON ------------------------------ */

int sos__k_typed_init(struct kernel *k);
void sos__k_typed_free(struct kernel *k);
/* Compiles ir->app's schema into ir->idl (left NULL for an app that
 * declares no types).  Errors as sos_idl_new. */
int sos__k_typed_image(struct image_ref *ir, char *err, size_t errlen);
void sos__k_typed_image_free(struct image_ref *ir);
/* For an outside call r to s, or to built-in service builtin when s is
 * NULL (k->mu held): when it implements an interface
 * declaring r's method, converts r's JSON body to wire bytes, sets
 * r->typed (a new reference on the image) and r->resp_type and returns
 * 1; returns 0 for an untyped call; a negative error with a message when
 * the JSON does not fit the request struct. */
int sos__k_typed_request(struct kernel *k, struct svc *s, const char *builtin, struct req *r,
                         char *err, size_t errlen);
/* The JSON of a finished typed call's response (OK) or Error struct
 * (ERROR) in *json (sos_free); an error when there is none or the bytes do
 * not decode. */
int sos__k_typed_response(struct kernel *k, struct req *r, char **json, size_t *len);
/* The interface of service name and the types it reaches, in SOS syntax
 * (k->mu held).  *text is the caller's (sos_free).  Errors: SOS_ENOENT
 * (no such service, or untyped) with a message. */
int sos__k_describe(struct kernel *k, const char *name, char **text, char *err,
                    size_t errlen);
/* Checks that caller's image and callee's current one agree on the
 * callee's interface (k->mu held); SOS_EINVAL with why in err. */
int sos__k_typed_agree(struct kernel *k, struct image_ref *caller, struct svc *callee,
                       char *err, size_t errlen);

/* ---- plan.c: time travel ------------------------------------------------ */

/* Runs the plan in r's body for caller (k->mu held); r completes with the
 * encoded PlanResult, or a status and a message.  Returns 0. */
int sos__k_plan_start(struct kernel *k, struct inst *caller, struct req *r);
/* Decodes plan message msg (len bytes) as sos__k_plan_start would and
 * drops it: 0, or the status it would fail with, err saying why (what
 * tests/fuzz/fuzz_plan.c runs on arbitrary bytes; needs only k->sos_idl
 * and k->plan_type). */
int sos__k_plan_decode(struct kernel *k, const uint8_t *msg, uint32_t len, char *err,
                       size_t errlen);
/* Frees the plan block the node keeps for the next plan. */
void sos__k_plan_free_spare(struct kernel *k);
/* One call of a plan's step finished (k->mu held); frees r. */
void sos__k_plan_step_done(struct kernel *k, struct req *r);
/* Whether step request r's plan has steps left to launch (one may be for
 * the instance that runs r: SOS_HANDLE_MORE). */
bool sos__k_plan_more(const struct req *r);
/* The caller let go of plan request r: start no more steps. */
void sos__k_plan_cancel(struct kernel *k, struct req *r);
/* Plan request r is being answered before its plan finished (a deadline):
 * the plan stops and frees itself once its running calls are done. */
void sos__k_plan_orphan(struct kernel *k, struct req *r);
/* Instance in retires: its cached plan goes (when that runs: once done). */
void sos__k_plan_drop(struct kernel *k, struct inst *in);
/* A service came or went (k->svc_gen moved): the instances' cached plans
 * let go of what they resolved (the images they hold), to resolve again
 * when next sent; those that run do it then. */
void sos__k_plan_stale(struct kernel *k);
/* Whether an app may call service name (its uses, or a built-in). */
bool sos__k_allowed(const struct sos_app *app, const char *name);

/* ---- kv.c: the kv store system calls ---------------------------------- */
int sos__k_h_kv_get(struct sos_wasm_hostcall *c);
int sos__k_h_kv_put(struct sos_wasm_hostcall *c);
int sos__k_h_kv_del(struct sos_wasm_hostcall *c);
int sos__k_h_kv_add(struct sos_wasm_hostcall *c);
int sos__k_h_kv_cas(struct sos_wasm_hostcall *c);
int sos__k_h_kv_batch(struct sos_wasm_hostcall *c);
int sos__k_h_kv_scan(struct sos_wasm_hostcall *c);
/* Writes service NUL store NUL into out (room for 128 bytes) and returns
 * its length, or 0 when app declares no kv store of that name. */
size_t sos__k_kv_prefix(const struct svc *s, const struct sos_app *app, const char *store,
                        size_t slen, uint8_t *out);
/* Scans a store (prefix from sos__k_kv_prefix) into buf as kv_scan does. */
int sos__k_kv_scan(struct kernel *k, const uint8_t *prefix, size_t plen, const void *start,
                   size_t slen, const void *end, size_t elen, uint32_t limit, uint8_t *buf,
                   size_t cap, int32_t *count, size_t *used);
/* Forgets a retired instance's write in flight (k->mu held). */
void sos__k_kv_forget(struct inst *in);
/* As sos__k_kv_prefix for a store of any SOS_APP_STORE_* type. */
size_t sos__k_store_prefix(const struct svc *s, const struct sos_app *app, const char *store,
                           size_t slen, int type, uint8_t *out);
/* Submits ops for the calling instance and suspends it until they are
 * durable (a host function's return value); mode is what it gets back:
 * the i32 status, the i64 offset of ops[0], an append to the log whose
 * key it names (and whose tails it wakes), or a WASI errno. */
enum { SOS__K_ANSWER_STATUS, SOS__K_ANSWER_OFFSET, SOS__K_ANSWER_ERRNO };
int sos__k_store_write(struct kernel *k, struct sos_wasm_hostcall *c,
                       const struct sos_store_op *ops, uint32_t n, int mode);

/* ---- files.c: the image's files as the WASI tree "/" ------------------ */
/* Fills k->files, the file system every instance's WASI sees. */
void sos__k_files_init(struct kernel *k);
/* Closes every file an instance has open (k->mu not needed). */
void sos__k_files_free(struct inst *in);
/* For `sos files` (k->mu held; s not removed): a copy of the file at path
 * in s's current tree (*data, sos_free), or its listing as "name" and
 * "name/" lines.  Errors: SOS_ENOENT, SOS_ESTATE (a folder where a file is
 * wanted, or the reverse), SOS_EINVAL (a path that leaves the root). */
int sos__k_files_cat(struct kernel *k, const struct svc *s, const char *path, uint8_t **data,
                     size_t *len);
int sos__k_files_ls(struct kernel *k, const struct svc *s, const char *path, char **text);
/* The store key of path in s's files store (room for 600 bytes), or 0
 * when s's app has none.  Its values start with a tag byte: 1 a file. */
size_t sos__k_files_key(const struct svc *s, const char *path, uint8_t *key);

/* ---- table.c: the table store system calls --------------------------- */
#define SOS__K_MAX_INDEXES 16
/* A table store as a definition declares it: its rows are values of
 * struct `type` of schema idl, in the wire format (docs/wire.md). */
struct tbl {
  const struct sos_app_struct *sd;
  const struct sos_app_field *key;
  const struct sos_app_field *idx[SOS__K_MAX_INDEXES];
  uint32_t nidx;
  const struct sos_idl *idl;    /* the image's schema */
  int type;                     /* sd's index in idl */
  uint8_t prefix[140];
  size_t plen;
};
int sos__k_h_table_put(struct sos_wasm_hostcall *c);
int sos__k_h_table_get(struct sos_wasm_hostcall *c);
int sos__k_h_table_del(struct sos_wasm_hostcall *c);
int sos__k_h_table_query(struct sos_wasm_hostcall *c);
/* Fills t for the table store (slen bytes) of service s with image ir
 * (t borrows from ir); false when its app declares no table of that name. */
bool sos__k_table_of(const struct svc *s, const struct image_ref *ir, const char *store,
                     size_t slen, struct tbl *t);
/* Rows of t whose field (the key's tag or an index's) is in [lo, hi)
 * (lo and hi are wire messages holding the field, checked against t's
 * struct; empty: no bound), at most limit, into buf as table_query does.
 * SOS_EINVAL for a field that is neither or a bound too long for a key,
 * SOS_ETOOBIG when not even the first row fits (*used: what it needs). */
int sos__k_table_query(struct kernel *k, const struct tbl *t, uint32_t field, const uint8_t *lo,
                       size_t lolen, const uint8_t *hi, size_t hilen, uint32_t limit,
                       uint8_t *buf, size_t cap, int32_t *count, size_t *used);

/* For `sos table`.  sos__k_table_get: the row whose key is key's (a wire
 * message) into *row (sos_free) and *len; SOS_ENOENT when there is none,
 * SOS_EINVAL for a malformed key, SOS_ETOOBIG for one too long, SOS_ENOMEM.
 * sos__k_table_bound: the wire message holding only field f with the
 * value written as text (integers in decimal, text as is, bytes in
 * base64), the field written even at its zero value; *out (sos_free).
 * Errors: those of sos_idl_from_json, with a message in err.
 * sos__k_row_json: a row as a cJSON object named by the struct's fields
 * (returned as void * to keep cJSON out of this header); a row the schema
 * cannot read becomes {"error": why}. */
int sos__k_table_get(struct kernel *k, const struct tbl *t, const uint8_t *key, size_t klen,
                     uint8_t **row, size_t *len);
int sos__k_table_bound(const struct tbl *t, const struct sos_app_field *f, const char *text,
                       uint8_t **out, size_t *len, char *err, size_t errlen);
void *sos__k_row_json(const struct tbl *t, const uint8_t *row, size_t len);

/* ---- logstore.c: the log store system calls ------------------------- */
int sos__k_h_log_append(struct sos_wasm_hostcall *c);
int sos__k_h_log_read(struct sos_wasm_hostcall *c);
int sos__k_h_log_tail(struct sos_wasm_hostcall *c);
int sos__k_h_log_trim(struct sos_wasm_hostcall *c);
int sos__k_h_log_end(struct sos_wasm_hostcall *c);
/* The log with key L now ends at end: wakes its tails (k->mu held). */
void sos__k_log_appended(struct kernel *k, const uint8_t *key, size_t klen, uint64_t end);
/* Takes a tailing instance off the waiters (k->mu held). */
void sos__k_log_unwait(struct kernel *k, struct inst *in);
/* The next offset of log key L (0 for a new log). */
uint64_t sos__k_log_end_of(struct kernel *k, const uint8_t *key, size_t klen);
/* Reads records of log L from offset from into buf as log_read does. */
int sos__k_log_read(struct kernel *k, const uint8_t *key, size_t klen, uint64_t from,
                    uint32_t limit, uint8_t *buf, size_t cap, int32_t *count, size_t *used);

/* ---- node.c: data directory, images, deployments, state --------------- */
int sos__k_node_open(struct kernel *k, char *err, size_t errlen);
/* Deploys in two steps.  prepare (any thread, without k->mu: it is the
 * slow part) verifies the image, stores it in DATA/images and compiles and
 * links its module into *out; finish (k->mu not held) makes the new
 * versions, saves state.json and writes a JSON answer into *reply (freed
 * with cJSON_free).  finish takes over *out. */
int sos__k_deploy_prepare(struct kernel *k, const uint8_t *bytes, size_t len,
                          struct image_ref **out, char *err, size_t errlen);
int sos__k_deploy_finish(struct kernel *k, struct image_ref *ir, char **reply, char *err,
                         size_t errlen);
/* Makes the version before the current one current; *version gets its
 * number.  Errors (message in err): SOS_ENOENT, SOS_ESTATE (no older
 * version), or what saving state.json returned. */
int sos__k_rollback(struct kernel *k, const char *name, uint32_t *version, char *err,
                    size_t errlen);
/* Stops and forgets a service and its log; with purge also deletes every
 * key of its stores (*purged: how many).  Without purge its data stays,
 * for a later deploy of the same name.  Errors as sos__k_rollback. */
int sos__k_remove(struct kernel *k, const char *name, bool purge, int64_t *purged, char *err,
                  size_t errlen);
/* Saves the deployments to DATA/state.json (k->mu held). */
int sos__k_save(struct kernel *k);
void sos__k_image_unref(struct kernel *k, struct image_ref *ir);
/* JSON text describing every service, or only the one named (k->mu held).
 * Freed with sos_free; NULL when out of memory. */
char *sos__k_ps_json(struct kernel *k, const char *only);
/* The last n lines of a service's log: *out (sos_free) and *len; *out is
 * NULL when there is no log yet. */
void sos__k_log_tail(struct kernel *k, const char *name, unsigned n, char **out,
                     size_t *len);

/* ---- config.c: DATA/node.conf ------------------------------------------ */
void sos__k_config_defaults(struct kconfig *c);
/* Reads DATA/node.conf over c (a missing file changes nothing).  Errors:
 * SOS_EINVAL for an unknown setting or a bad value, SOS_EIO; with
 * "PATH:LINE: why" in err. */
int sos__k_config_load(struct kconfig *c, const char *data, char *err, size_t errlen);
/* Sets one setting by name; SOS_EINVAL with why in err. */
int sos__k_config_set(struct kconfig *c, const char *name, const char *value, char *err,
                      size_t errlen);

/* ---- src/net/http.c: the HTTP gateway ---------------------------------- */
/* Listens as k->cfg says (nothing when http is off).  Errors: SOS_EIO
 * with the address and why in err. */
int sos__k_http_start(struct kernel *k, char *err, size_t errlen);
/* Stops accepting connections (shutdown); requests in flight finish. */
void sos__k_http_stop(struct kernel *k);
/* Closes every connection (loop thread, at the end). */
void sos__k_http_close_all(struct kernel *k);
/* Frees the gateway once the loop has stopped. */
void sos__k_http_free(struct kernel *k);
/* The address the gateway listens on ("127.0.0.1:8080"), or "off". */
const char *sos__k_http_address(const struct kernel *k);
/* Whether the gateway speaks HTTPS (node.conf http_tls_cert and _key). */
bool sos__k_http_tls(const struct kernel *k);

/* ---- src/net/egress.c: the http built-in ------------------------------- */
int sos__k_egress_start(struct kernel *k);
/* Answers a call r of the http built-in (k->mu held): checks it against
 * the caller's egress list and queues its transfer for the loop. */
void sos__k_egress_call(struct kernel *k, struct req *r, int req_type);
/* Starts the queued transfers (loop thread, on k->main.wake). */
void sos__k_egress_pump(struct kernel *k);
/* r completes before its transfer: forget it (k->mu held). */
void sos__k_egress_detach(struct kernel *k, struct req *r);
/* Ends every transfer, failing their calls (loop thread, at shutdown). */
void sos__k_egress_stop(struct kernel *k);
void sos__k_egress_free(struct kernel *k);

/* ---- src/net/control.c: the control socket ---------------------------- */
int sos__k_control_start(struct kernel *k, char *err, size_t errlen);
void sos__k_control_stop(struct kernel *k);
/* Closes every client connection (loop thread, at shutdown). */
void sos__k_control_close_all(struct kernel *k);

/* Opens lane l on loop (its thread, or before it runs): on_wake runs when
 * another thread wakes it (NULL: it delivers answers). */
void sos__k_lane_open(struct kernel *k, struct lane *l, uv_loop_t *loop,
                      uv_async_cb on_wake);
/* Closes l's handles (its thread); answers still owed to it are then
 * delivered by whoever flushes it last. */
void sos__k_lane_close(struct lane *l);
/* Tells l's outside callers their answers (l's thread): each finished
 * request on l->done goes to its r->answered, then is freed. */
void sos__k_lane_flush(struct lane *l);
/* The same for the main lane. */
void sos__k_flush(struct kernel *k);
/* Has l deliver what waits for it (k->mu held): at once from another
 * thread, at the end of its loop iteration from its own. */
void sos__k_lane_wake(struct lane *l);
/* Begins a clean shutdown (loop thread). */
void sos__k_shutdown(struct kernel *k);

#endif

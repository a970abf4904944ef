/*
 * sosd.c - the node kernel's program: options, start-up, the event loop,
 * clean shutdown.
 *
 * Start-up: resolve the data directory (--data, else $SOS_HOME, else
 * ~/.local/share/sos), take its lock, load state.json (every deployed
 * service and its images), start the workers, bring every service to its
 * minimum of instances, listen on the control socket, print one line
 * "sosd: ready ..." on stderr.
 *
 * Shutdown (SIGTERM, SIGINT or the control op "stop"): stop accepting
 * connections, let requests from outside callers finish for up to
 * K_GRACE_MS, fail what is left with "shutting down", stop the workers
 * after their current slice, free everything, exit 0.  Nothing needs
 * saving at that point: every deployment was saved when it was made.
 */
#include "kernel/kernel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define K_GRACE_MS 5000

static const char usage[] =
    "Usage: sosd [--data DIR] [--workers N] [--http HOST:PORT|off]\n"
    "\n"
    "The SOS node kernel: runs the services deployed on this machine, serves\n"
    "the control API that the `sos` command uses and the HTTP gateway that\n"
    "apps' http routes answer on.  Normally started with `sos node start`.\n"
    "Runs in the foreground; stops cleanly on SIGTERM.  Settings are read\n"
    "from DATA/node.conf (docs/operations.md); options override them.\n"
    "\n"
    "Options:\n"
    "  --data DIR    the node's data directory (default: $SOS_HOME, else\n"
    "                ~/.local/share/sos); created on first start\n"
    "  --workers N   threads that run instances (default: one per core)\n"
    "  --http ADDR   where the HTTP gateway listens: HOST:PORT, PORT (on\n"
    "                127.0.0.1) or off (default: 127.0.0.1:8080)\n"
    "  --help        this text\n"
    "  --version     print the version\n";

static struct kernel K;

/* ---- the loop ---------------------------------------------------------------- */

void sos__k_lane_flush(struct lane *l) {
  struct kernel *k = l->k;
  /* Until none is left: delivering an answer may answer more on this
   * thread (the connection's next pipelined request, run by its lane),
   * and nothing would wake the loop for those. */
  for (;;) {
    pthread_mutex_lock(&k->mu);
    struct req *r = l->done, *parted = l->parted;
    l->done = NULL;
    l->parted = NULL;
    for (struct req *q = parted; q; q = q->part_next) q->part_queued = false;
    pthread_mutex_unlock(&k->mu);
    /* Parts first: a request of both lists is answered after them.  Only
     * this thread frees a request it delivers, so each is still here. */
    for (struct req *q = parted, *next; q; q = next) {
      next = q->part_next;
      q->parted(k, q);
    }
    if (!r && !parted) return;
    while (r) {
      struct req *next = r->next;
      r->answered(k, r);
      pthread_mutex_lock(&k->mu);
      sos__k_req_free(k, r);
      pthread_mutex_unlock(&k->mu);
      r = next;
    }
  }
}

void sos__k_flush(struct kernel *k) { sos__k_lane_flush(&k->main); }

void sos__k_lane_wake(struct lane *l) {
  if (!sos__k_helping(l) && !l->closed) uv_async_send(&l->wake); /* else l->flush */
}

static void on_flush(uv_check_t *h) { sos__k_lane_flush(h->data); }
static void on_lane_wake(uv_async_t *h) { sos__k_lane_flush(h->data); }

void sos__k_lane_open(struct kernel *k, struct lane *l, uv_loop_t *loop,
                      uv_async_cb on_wake) {
  l->k = k;
  uv_async_init(loop, &l->wake, on_wake ? on_wake : on_lane_wake);
  l->wake.data = on_wake ? (void *)k : (void *)l;
  uv_check_init(loop, &l->flush);
  l->flush.data = l;
  uv_check_start(&l->flush, on_flush);
}

void sos__k_lane_close(struct lane *l) {
  pthread_mutex_lock(&l->k->mu);
  l->closed = true;
  pthread_mutex_unlock(&l->k->mu);
  uv_close((uv_handle_t *)&l->wake, NULL);
  uv_close((uv_handle_t *)&l->flush, NULL);
}

static void on_wake(uv_async_t *h) {
  struct kernel *k = h->data;
  sos__k_egress_pump(k);
  sos__k_flush(k);
  sos__k_timer_arm(k);
}

static uv_timer_t grace;
static uint64_t grace_until;

static void finish(struct kernel *k) {
  uv_timer_stop(&grace);
  uv_close((uv_handle_t *)&grace, NULL);
  sos__k_sched_stop(k);
  sos__k_flush(k);
  uv_timer_stop(&k->timer);
  uv_close((uv_handle_t *)&k->timer, NULL);
  sos__k_lane_close(&k->main);
  uv_close((uv_handle_t *)&k->sigterm, NULL);
  uv_close((uv_handle_t *)&k->sigint, NULL);
  sos__k_control_close_all(k);
  sos__k_http_close_all(k);
  sos__k_egress_stop(k);
  sos__k_flush(k);
}

/* Fails every request still waiting for outside callers (k->mu held). */
static void fail_outside(struct kernel *k) {
  for (struct svc *s = k->svcs; s; s = s->next) {
    struct req *q = s->qhead; /* rebuild the queue without outside callers */
    s->qhead = s->qtail = NULL;
    s->qlen = 0;
    while (q) {
      struct req *r = q;
      q = q->next;
      r->next = NULL;
      if (r->outside) {
        sos__k_complete(k, r, SOS_STATUS_SHUTDOWN, "the node is shutting down", 25);
        continue;
      }
      if (s->qtail) s->qtail->next = r; else s->qhead = r;
      s->qtail = r;
      s->qlen++;
    }
    for (struct inst *in = s->all; in; in = in->all_next)
      if (in->cur && in->cur->outside)
        sos__k_complete(k, in->cur, SOS_STATUS_SHUTDOWN, "the node is shutting down", 25);
  }
}

static void on_grace(uv_timer_t *t) {
  struct kernel *k = t->data;
  sos__k_flush(k);
  pthread_mutex_lock(&k->mu);
  bool idle = k->inflight == 0, late = sos__k_now() >= grace_until;
  if (!idle && late) fail_outside(k);
  pthread_mutex_unlock(&k->mu);
  sos__k_flush(k);
  if (idle || late) finish(k);
}

void sos__k_shutdown(struct kernel *k) {
  pthread_mutex_lock(&k->mu);
  bool again = k->stopping;
  k->stopping = true; /* new calls fail with "shutting down" */
  pthread_mutex_unlock(&k->mu);
  if (again) return;
  fprintf(stderr, "sosd: shutting down\n");
  sos__k_control_stop(k);
  sos__k_http_stop(k);
  grace_until = sos__k_now() + (uint64_t)K_GRACE_MS * 1000000u;
  uv_timer_init(&k->loop, &grace);
  grace.data = k;
  uv_timer_start(&grace, on_grace, 0, 10);
}

static void on_signal(uv_signal_t *h, int sig) {
  (void)sig;
  sos__k_shutdown(h->data);
}

/* ---- start and stop ---------------------------------------------------------- */

/* The data directory from --data, $SOS_HOME or ~/.local/share/sos. */
static char *data_dir(const char *opt) {
  const char *home = getenv("HOME");
  char buf[4096];
  if (opt)
    snprintf(buf, sizeof buf, "%s", opt);
  else if (getenv("SOS_HOME") && *getenv("SOS_HOME"))
    snprintf(buf, sizeof buf, "%s", getenv("SOS_HOME"));
  else {
    snprintf(buf, sizeof buf, "%s/.local", home ? home : "/root");
    mkdir(buf, 0755);
    snprintf(buf, sizeof buf, "%s/.local/share", home ? home : "/root");
    mkdir(buf, 0755);
    snprintf(buf, sizeof buf, "%s/.local/share/sos", home ? home : "/root");
  }
  return sos_strndup(buf, strlen(buf));
}

/* Frees every service, instance and image (workers stopped). */
static void teardown(struct kernel *k) {
  pthread_mutex_lock(&k->mu);
  k->tearing = true; /* from now on nothing runs: every instance can go */
  pthread_mutex_unlock(&k->mu);
  sos_store_close(k->store); /* commits what is queued; wakes nobody now */
  k->store = NULL;
  pthread_mutex_lock(&k->mu);
  k->rq_head = k->rq_tail = NULL;
  for (struct svc *s = k->svcs; s; s = s->next)
    for (struct inst *in = s->all; in; in = in->all_next)
      if (in->state != I_IDLE) in->state = I_WAIT;
  while (k->svcs) sos__k_svc_free(k, k->svcs);
  pthread_mutex_unlock(&k->mu);
  sos__k_flush(k);
  sos__k_abi_free(k);
  sos__k_typed_free(k);
  sos__k_http_free(k);
  sos__k_egress_free(k);
  sos_free(k->heap);
  sos_free(k->data);
}

static int start(struct kernel *k, uint32_t workers) {
  char err[1024];
  k->started = sos__k_now();
  pthread_mutex_init(&k->mu, NULL);
  pthread_cond_init(&k->cv, NULL);
  uv_loop_init(&k->loop);
  sos__k_lane_open(k, &k->main, &k->loop, on_wake);
  uv_timer_init(&k->loop, &k->timer);
  k->timer.data = k;
  sos__k_files_init(k);
  int rc = sos__k_abi_init(k);
  if (!rc) rc = sos__k_typed_init(k);
  if (!rc) rc = sos__k_egress_start(k);
  if (!rc) rc = sos__k_node_open(k, err, sizeof err);
  if (!rc) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/store", k->data);
    rc = sos_store_open(dir, NULL, &k->store, err, sizeof err);
  }
  if (!rc) rc = sos__k_sched_start(k, workers);
  if (rc) {
    fprintf(stderr, "sosd: %s\n", rc == SOS_ENOMEM ? "out of memory" : err);
    return rc;
  }
  pthread_mutex_lock(&k->mu);
  for (struct svc *s = k->svcs; s; s = s->next) sos__k_svc_start(k, s);
  pthread_mutex_unlock(&k->mu);
  /* the gateway first: a node that cannot serve it never opens its
   * control socket, so `sos node start` sees it fail, not answer */
  if ((rc = sos__k_http_start(k, err, sizeof err)) ||
      (rc = sos__k_control_start(k, err, sizeof err))) {
    fprintf(stderr, "sosd: %s\n", err);
    return rc;
  }
  uv_signal_init(&k->loop, &k->sigterm);
  uv_signal_init(&k->loop, &k->sigint);
  k->sigterm.data = k->sigint.data = k;
  uv_signal_start(&k->sigterm, on_signal, SIGTERM);
  uv_signal_start(&k->sigint, on_signal, SIGINT);
  fprintf(stderr, "sosd: ready (pid %d, data %s, %s %s, %u workers, %.1f ms)\n",
          (int)getpid(), k->data, sos__k_http_tls(k) ? "https" : "http",
          sos__k_http_address(k), k->nworkers,
          (double)(sos__k_now() - k->started) / 1e6);
  return 0;
}

int main(int argc, char **argv) {
  const char *data = NULL, *http = NULL;
  long workers = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(usage, stdout);
      return 0;
    } else if (!strcmp(argv[i], "--version")) {
      printf("sosd %s (ABI v%d)\n", SOSD_VERSION, SOS_ABI_VERSION);
      return 0;
    } else if (!strcmp(argv[i], "--data") && i + 1 < argc) {
      data = argv[++i];
    } else if (!strncmp(argv[i], "--data=", 7)) {
      data = argv[i] + 7;
    } else if (!strcmp(argv[i], "--http") && i + 1 < argc) {
      http = argv[++i];
    } else if (!strcmp(argv[i], "--workers") && i + 1 < argc) {
      char *end;
      workers = strtol(argv[++i], &end, 10);
      if (*end || workers < 1 || workers > 256) {
        fprintf(stderr, "sosd: --workers takes a number from 1 to 256\n");
        return 2;
      }
    } else {
      fprintf(stderr, "sosd: unknown option '%s'\nRun 'sosd --help' for usage.\n", argv[i]);
      return 2;
    }
  }
  struct kernel *k = &K;
  k->lock_fd = -1;
  if (!(k->data = data_dir(data))) return 1;
  char err[1200];
  sos__k_config_defaults(&k->cfg);
  if (sos__k_config_load(&k->cfg, k->data, err, sizeof err) ||
      (http && sos__k_config_set(&k->cfg, "http", http, err, sizeof err))) {
    fprintf(stderr, "sosd: %s\n", err);
    return 2;
  }
  if (start(k, (uint32_t)workers)) return 1;
  uv_run(&k->loop, UV_RUN_DEFAULT);
  teardown(k);
  uv_loop_close(&k->loop);
  fprintf(stderr, "sosd: stopped\n");
  return 0;
}

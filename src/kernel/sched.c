/*
 * sched.c - worker threads that run ready instances.
 *
 * A ready instance is one with a prepared or resumed run (a new request,
 * an answered await, a slice that ran out of fuel).  Workers take ready
 * instances from one FIFO queue and run each for one slice of fuel
 * (K_SLICE_FUEL), so a service that spins cannot hold a worker for longer
 * than a slice while others wait: it goes to the back of the queue.
 *
 * A call between two instances is a hand-off: the caller suspends in
 * `await` and the callee becomes ready, usually on the same worker.  So
 * that this costs no thread wake-up, each worker has a one-instance
 * "next" slot (as Go's scheduler has runnext): an instance made ready by
 * the worker's own run goes there and runs right after, on a warm cache.
 * Slices that merely ran out of fuel always go to the shared queue, so
 * the slot cannot starve anyone.
 *
 * A lane's thread helps: a request that arrives from outside (HTTP)
 * would otherwise cost two thread hand-offs, loop to worker and back,
 * which on a small machine cost more than the request itself.  So while
 * a lane submits it (sos__k_help_begin .. sos__k_help_end), the lane's
 * thread is a worker with its own next slot: the instance that takes the
 * request runs right there, for a short slice (K_HELP_FUEL), and its
 * answer is written in the same loop iteration.  What does not finish in
 * that slice, suspends, or is more than K_HELP_RUNS runs goes to the
 * workers as usual, so a slow handler cannot hold the loop for long.
 */
#include "kernel/kernel.h"

#include <unistd.h>

static __thread struct worker *self; /* the worker running this thread */

#define K_HELP_FUEL (K_SLICE_FUEL / 4) /* a slice on the loop thread */
#define K_HELP_RUNS 4                  /* slices per help */

/* Puts in at the back of the shared queue and wakes a worker. */
static void share(struct kernel *k, struct inst *in) {
  if (k->rq_tail)
    k->rq_tail->next = in;
  else
    k->rq_head = in;
  k->rq_tail = in;
  pthread_cond_signal(&k->cv);
}

void sos__k_requeue(struct kernel *k, struct inst *in) {
  in->state = I_READY;
  in->next = NULL;
  /* A worker whose slice ran out takes from the queue next (unless its
   * next slot holds another instance, which runs first and may hand on
   * to others for long): when nothing else waits there it takes this
   * instance back, and waking another worker for it would cost a thread
   * switch for nothing. */
  bool worker = self && self >= k->workers && self < k->workers + k->nworkers;
  if (worker && !self->next && !k->rq_head && !k->tearing) {
    k->rq_head = k->rq_tail = in;
    return;
  }
  sos__k_ready(k, in, false);
}

void sos__k_ready(struct kernel *k, struct inst *in, bool warm) {
  if (k->tearing) { /* nothing runs any more */
    in->state = I_WAIT;
    return;
  }
  in->state = I_READY;
  in->next = NULL;
  if (warm && self && self->k == k && !self->next) {
    self->next = in;
    return;
  }
  share(k, in);
}

/* Runs one slice of in (k->mu held, released while it runs). */
static void run_slice(struct kernel *k, struct inst *in, int64_t fuel) {
  in->state = I_RUNNING;
  pthread_mutex_unlock(&k->mu);
  struct sos_wasm_trap trap;
  int rc = in->wi ? sos_wasm_run(in->wi, fuel, &trap) : sos__k_inst_start(in, &trap);
  pthread_mutex_lock(&k->mu);
  sos__k_after_run(k, in, rc, &trap);
}

bool sos__k_helping(const struct lane *l) { return self == &l->helper; }

void sos__k_help_begin(struct lane *l) {
  l->helper.k = l->k;
  self = &l->helper;
}

void sos__k_help_end(struct lane *l) {
  struct kernel *k = l->k;
  struct inst *in;
  for (int runs = 0; (in = l->helper.next); runs++) {
    l->helper.next = NULL;
    in->next = NULL;
    if (in->kill) {
      sos__k_inst_retire(k, in);
      continue;
    }
    if (runs == K_HELP_RUNS || k->stopping) { /* enough: a worker goes on */
      share(k, in);
      continue;
    }
    run_slice(k, in, K_HELP_FUEL);
  }
  self = NULL;
}

/* The next instance to run, or NULL to stop (k->mu held). */
static struct inst *take(struct kernel *k, struct worker *w) {
  for (;;) {
    struct inst *in = w->next;
    if (in) {
      w->next = NULL;
    } else if ((in = k->rq_head)) {
      k->rq_head = in->next;
      if (!k->rq_head) k->rq_tail = NULL;
    } else if (k->stopping) {
      return NULL;
    } else {
      pthread_cond_wait(&k->cv, &k->mu);
      continue;
    }
    in->next = NULL;
    if (in->kill) { /* timed out while waiting for a worker */
      sos__k_inst_retire(k, in);
      continue;
    }
    return in;
  }
}

static void *worker_main(void *arg) {
  struct worker *w = arg;
  struct kernel *k = w->k;
  self = w;
  pthread_mutex_lock(&k->mu);
  struct inst *in;
  while ((in = take(k, w))) run_slice(k, in, K_SLICE_FUEL);
  pthread_mutex_unlock(&k->mu);
  return NULL;
}

/* Starts n workers (0: one per core). */
int sos__k_sched_start(struct kernel *k, uint32_t n) {
  if (!n) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    n = cores > 0 ? (uint32_t)cores : 1;
  }
  k->workers = sos_calloc(n, sizeof *k->workers);
  if (!k->workers) return SOS_ENOMEM;
  for (uint32_t i = 0; i < n; i++) {
    k->workers[i].k = k;
    if (pthread_create(&k->workers[i].thread, NULL, worker_main, &k->workers[i]))
      return SOS_ENOMEM;
    k->nworkers++;
  }
  return 0;
}

/* Tells workers to finish and joins them (k->stopping already set). */
void sos__k_sched_stop(struct kernel *k) {
  pthread_mutex_lock(&k->mu);
  k->stopping = true;
  pthread_cond_broadcast(&k->cv);
  pthread_mutex_unlock(&k->mu);
  for (uint32_t i = 0; i < k->nworkers; i++) pthread_join(k->workers[i].thread, NULL);
  sos_free(k->workers);
  k->workers = NULL;
  k->nworkers = 0;
}

/*
 * engine_run_test.c - tests of how the WebAssembly engine runs code, the
 * features that make it fit SOS: suspension in host calls (resumed from
 * other threads, from deep recursion, ten thousand instances suspended at
 * once), the state errors of sos_wasm_run and sos_wasm_resume, fuel
 * slices that preempt and continue a call, the hard fuel budget, and the
 * limits of sos_wasm_limits (call depth, value stack, memory and table
 * growth).
 *
 * Most tests prepare a call with sos_wasm_call_begin and drive it through
 * sos_wasm_run, answering each suspension of the host function "next"
 * with a value the test can predict.  The modules are binaries assembled
 * once with wat2wasm from the text in the comment above each array, so
 * the tests need no tools at run time; the helpers they share are in
 * engine_util.h.
 */
#include "engine_util.h"

#include <pthread.h>

/* ---- test modules -------------------------------------------------------- */

/*
 * (module
 *   (import "host" "next" (func $next (param i32) (result i32)))
 *   (func (export "sum") (param i32) (result i32) (local i32)
 *     (block (loop
 *       (br_if 1 (i32.eqz (local.get 0)))
 *       (local.set 1 (i32.add (local.get 1) (call $next (local.get 0))))
 *       (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
 *       (br 0)))
 *     (local.get 1))
 *   (func $deep (export "deep") (param i32) (result i32)
 *     (if (result i32) (i32.eqz (local.get 0))
 *       (then (call $next (i32.const 0)))
 *       (else (i32.add (call $deep (i32.sub (local.get 0) (i32.const 1))) (local.get 0)))))
 *   (func (export "once") (param i32) (result i32)
 *     (i32.add (call $next (local.get 0)) (i32.const 1)))
 *   (func (export "plain") (param i32) (result i32)
 *     (i32.mul (local.get 0) (i32.const 2))))
 */
static const uint8_t m_susp[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60,
    0x01, 0x7f, 0x01, 0x7f, 0x02, 0x0d, 0x01, 0x04, 0x68, 0x6f, 0x73, 0x74,
    0x04, 0x6e, 0x65, 0x78, 0x74, 0x00, 0x00, 0x03, 0x05, 0x04, 0x00, 0x00,
    0x00, 0x00, 0x07, 0x1d, 0x04, 0x03, 0x73, 0x75, 0x6d, 0x00, 0x01, 0x04,
    0x64, 0x65, 0x65, 0x70, 0x00, 0x02, 0x04, 0x6f, 0x6e, 0x63, 0x65, 0x00,
    0x03, 0x05, 0x70, 0x6c, 0x61, 0x69, 0x6e, 0x00, 0x04, 0x0a, 0x4f, 0x04,
    0x23, 0x01, 0x01, 0x7f, 0x02, 0x40, 0x03, 0x40, 0x20, 0x00, 0x45, 0x0d,
    0x01, 0x20, 0x01, 0x20, 0x00, 0x10, 0x00, 0x6a, 0x21, 0x01, 0x20, 0x00,
    0x41, 0x01, 0x6b, 0x21, 0x00, 0x0c, 0x00, 0x0b, 0x0b, 0x20, 0x01, 0x0b,
    0x17, 0x00, 0x20, 0x00, 0x45, 0x04, 0x7f, 0x41, 0x00, 0x10, 0x00, 0x05,
    0x20, 0x00, 0x41, 0x01, 0x6b, 0x10, 0x02, 0x20, 0x00, 0x6a, 0x0b, 0x0b,
    0x09, 0x00, 0x20, 0x00, 0x10, 0x00, 0x41, 0x01, 0x6a, 0x0b, 0x07, 0x00,
    0x20, 0x00, 0x41, 0x02, 0x6c, 0x0b,
};

/*
 * (module
 *   (func (export "spin") (loop (br 0)))
 *   (func (export "count") (param i32) (result i32) (local i32)
 *     (loop
 *       (local.set 1 (i32.add (local.get 1) (local.get 0)))
 *       (br_if 0 (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
 *     (local.get 1))
 *   (func $rec (export "rec") (param i32) (result i32)
 *     (if (result i32) (i32.eqz (local.get 0))
 *       (then (i32.const 0))
 *       (else (i32.add (call $rec (i32.sub (local.get 0) (i32.const 1))) (i32.const 1))))))
 */
static const uint8_t m_fuel[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x09, 0x02, 0x60,
    0x00, 0x00, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x03, 0x04, 0x03, 0x00, 0x01,
    0x01, 0x07, 0x16, 0x03, 0x04, 0x73, 0x70, 0x69, 0x6e, 0x00, 0x00, 0x05,
    0x63, 0x6f, 0x75, 0x6e, 0x74, 0x00, 0x01, 0x03, 0x72, 0x65, 0x63, 0x00,
    0x02, 0x0a, 0x39, 0x03, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b,
    0x19, 0x01, 0x01, 0x7f, 0x03, 0x40, 0x20, 0x01, 0x20, 0x00, 0x6a, 0x21,
    0x01, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x22, 0x00, 0x0d, 0x00, 0x0b, 0x20,
    0x01, 0x0b, 0x15, 0x00, 0x20, 0x00, 0x45, 0x04, 0x7f, 0x41, 0x00, 0x05,
    0x20, 0x00, 0x41, 0x01, 0x6b, 0x10, 0x02, 0x41, 0x01, 0x6a, 0x0b, 0x0b,
};

/*
 * Abridged; the full text is tests/unit/wat/engine_limits.wat.
 *
 * (module
 *   (memory 1)
 *   (table 1 funcref)
 *   (func $rec (export "rec") (param i32) (result i32)
 *     (if (result i32) (i32.le_u (local.get 0) (i32.const 1))
 *       (then (i32.const 1))
 *       (else (i32.add (call $rec (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))))
 *   (func $inf (export "inf") (call $inf))
 *   (func $big (export "big") (param i32) (result i32) (local i64 ... i64) ;; 100 i64 locals
 *     (if (result i32) (i32.le_u (local.get 0) (i32.const 1))
 *       (then (i32.const 1))
 *       (else (i32.add (call $big (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))))
 *   (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
 *   (func (export "tgrow") (param i32) (result i32)
 *     (table.grow 0 (ref.null func) (local.get 0))))
 */
static const uint8_t m_limits[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x09, 0x02, 0x60,
    0x01, 0x7f, 0x01, 0x7f, 0x60, 0x00, 0x00, 0x03, 0x06, 0x05, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x04, 0x04, 0x01, 0x70, 0x00, 0x01, 0x05, 0x03, 0x01,
    0x00, 0x01, 0x07, 0x22, 0x05, 0x03, 0x72, 0x65, 0x63, 0x00, 0x00, 0x03,
    0x69, 0x6e, 0x66, 0x00, 0x01, 0x03, 0x62, 0x69, 0x67, 0x00, 0x02, 0x04,
    0x67, 0x72, 0x6f, 0x77, 0x00, 0x03, 0x05, 0x74, 0x67, 0x72, 0x6f, 0x77,
    0x00, 0x04, 0x0a, 0x49, 0x05, 0x17, 0x00, 0x20, 0x00, 0x41, 0x01, 0x4d,
    0x04, 0x7f, 0x41, 0x01, 0x05, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x10, 0x00,
    0x41, 0x01, 0x6a, 0x0b, 0x0b, 0x04, 0x00, 0x10, 0x01, 0x0b, 0x19, 0x01,
    0x64, 0x7e, 0x20, 0x00, 0x41, 0x01, 0x4d, 0x04, 0x7f, 0x41, 0x01, 0x05,
    0x20, 0x00, 0x41, 0x01, 0x6b, 0x10, 0x02, 0x41, 0x01, 0x6a, 0x0b, 0x0b,
    0x06, 0x00, 0x20, 0x00, 0x40, 0x00, 0x0b, 0x09, 0x00, 0xd0, 0x70, 0x20,
    0x00, 0xfc, 0x0f, 0x00, 0x0b,
};

/* ---- suspension ------------------------------------------------------------- */

/* What host_next saw, kept as the instance's user pointer. */
struct susp {
  uint32_t arg, calls;
};

/* "host"."next" (i32) -> i32: always suspends; the answer comes through
 * sos_wasm_resume. */
static int host_next(struct sos_wasm_hostcall *call) {
  struct susp *s = sos_wasm_instance_user(call->instance);
  if (s) {
    s->arg = (uint32_t)call->args[0];
    s->calls++;
  }
  return SOS_WASM_HOST_SUSPEND;
}

static sos_wasm_func *next_new(void) {
  struct sos_wasm_functype ft = {1, 1, t_i32, t_i32};
  return sos_wasm_func_new(&ft, host_next, NULL);
}

/* The answer the tests give to host_next(arg). */
static sos_wasm_val answer(uint32_t arg) { return (sos_wasm_val)(arg * 7u + 1u); }

/* sum(n) calls next(n), next(n-1), ..., next(1) and adds the answers. */
static uint32_t sum_answers(uint32_t n) { return 7u * n * (n + 1) / 2 + n; }

/* Opens m_susp importing next, with s as the instance's user data. */
static sos_wasm_instance *susp_open(struct fx *f, sos_wasm_func *next, struct susp *s,
                                    const struct sos_wasm_limits *lim) {
  struct sos_wasm_extern x = func_import(next);
  sos_wasm_instance *in = fx_open(f, m_susp, sizeof m_susp, lim, &x, 1);
  if (in) sos_wasm_instance_set_user(in, s);
  return in;
}

/* Runs a prepared call to its end in slices of fuel, answering every
 * suspension; returns the final run code.  *nsusp counts suspensions. */
static int drive(sos_wasm_instance *in, int64_t fuel, uint32_t *nsusp) {
  struct susp *s = sos_wasm_instance_user(in);
  struct sos_wasm_trap t;
  for (uint32_t guard = 0; guard < 10000000; guard++) {
    int rc = sos_wasm_run(in, fuel, &t);
    if (rc == SOS_WASM_YIELDED) continue;
    if (rc != SOS_WASM_SUSPENDED) return rc;
    if (nsusp) (*nsusp)++;
    sos_wasm_val v = answer(s->arg);
    rc = sos_wasm_resume(in, &v, 1);
    if (rc) return rc;
  }
  return SOS_ESTATE;
}

TEST(engine_suspend_loop_resumed_1000_times) {
  sos_wasm_func *next = next_new();
  REQUIRE(next);
  struct susp s = {0};
  struct fx f;
  sos_wasm_instance *in = susp_open(&f, next, &s, NULL);
  REQUIRE(in);
  REQUIRE(sos_wasm_call_begin(in, fn(in, "sum"), (sos_wasm_val[]){1000}, 1) == 0);
  struct sos_wasm_trap t;
  for (uint32_t k = 0; k < 1000; k++) {
    int rc = sos_wasm_run(in, -1, &t);
    if (rc != SOS_WASM_SUSPENDED || s.arg != 1000 - k) {
      CHECK_EQ(rc, SOS_WASM_SUSPENDED);
      CHECK_EQ(s.arg, 1000 - k);
      break;
    }
    sos_wasm_val v = answer(s.arg);
    CHECK_EQ(sos_wasm_resume(in, &v, 1), 0);
  }
  CHECK_EQ(sos_wasm_run(in, -1, &t), SOS_WASM_DONE);
  CHECK_EQ(result1(in), sum_answers(1000));
  CHECK_EQ(s.calls, 1000);
  /* The instance takes new calls afterwards, suspending or not. */
  CHECK_EQ(CALL(in, "plain", 21), 42);
  REQUIRE(sos_wasm_call_begin(in, fn(in, "sum"), (sos_wasm_val[]){3}, 1) == 0);
  CHECK_EQ(drive(in, -1, NULL), SOS_WASM_DONE);
  CHECK_EQ(result1(in), sum_answers(3));
  fx_close(&f);
  sos_wasm_func_free(next);
}

TEST(engine_suspend_mixed_with_fuel_slices) {
  sos_wasm_func *next = next_new();
  REQUIRE(next);
  struct susp s = {0};
  struct fx f;
  sos_wasm_instance *in = susp_open(&f, next, &s, NULL);
  REQUIRE(in);
  for (int64_t slice = 1; slice <= 9; slice += 4) {
    uint32_t nsusp = 0;
    REQUIRE(sos_wasm_call_begin(in, fn(in, "sum"), (sos_wasm_val[]){50}, 1) == 0);
    CHECK_EQ(drive(in, slice, &nsusp), SOS_WASM_DONE);
    CHECK_EQ(nsusp, 50);
    CHECK_EQ(result1(in), sum_answers(50));
  }
  fx_close(&f);
  sos_wasm_func_free(next);
}

TEST(engine_suspend_from_depth_100) {
  sos_wasm_func *next = next_new();
  REQUIRE(next);
  struct susp s = {0};
  struct fx f;
  sos_wasm_instance *in = susp_open(&f, next, &s, NULL);
  REQUIRE(in);
  /* deep(n) recurses to deep(0), which calls next(0); each frame then
   * adds its n on the way out. */
  struct sos_wasm_trap t;
  REQUIRE(sos_wasm_call_begin(in, fn(in, "deep"), (sos_wasm_val[]){100}, 1) == 0);
  CHECK_EQ(sos_wasm_run(in, -1, &t), SOS_WASM_SUSPENDED);
  CHECK_EQ(s.arg, 0);
  CHECK_EQ(sos_wasm_resume(in, (sos_wasm_val[]){5}, 1), 0);
  CHECK_EQ(sos_wasm_run(in, -1, &t), SOS_WASM_DONE);
  CHECK_EQ(result1(in), 5 + 5050);
  /* Again, deeper, in slices of 3 units of fuel. */
  REQUIRE(sos_wasm_call_begin(in, fn(in, "deep"), (sos_wasm_val[]){1000}, 1) == 0);
  CHECK_EQ(drive(in, 3, NULL), SOS_WASM_DONE);
  CHECK_EQ(result1(in), answer(0) + 500500);
  fx_close(&f);
  sos_wasm_func_free(next);
}

enum { NTHREAD_INST = 8 };

/* One step of one instance on a thread of its own. */
struct step {
  sos_wasm_instance *in;
  uint32_t n; /* begin sum(n) when non-zero, else resume */
  int rc;
};

static void *step_thread(void *p) {
  struct step *st = p;
  struct susp *s = sos_wasm_instance_user(st->in);
  if (st->n) {
    st->rc = sos_wasm_call_begin(st->in, fn(st->in, "sum"), (sos_wasm_val[]){st->n}, 1);
  } else {
    sos_wasm_val v = answer(s->arg);
    st->rc = sos_wasm_resume(st->in, &v, 1);
  }
  if (st->rc) return NULL;
  do st->rc = sos_wasm_run(st->in, 5, NULL);
  while (st->rc == SOS_WASM_YIELDED);
  return NULL;
}

/* Runs one step of each instance not yet finished, all at once, instance
 * i on thread (i + round) % n; clears *live for those that finish. */
static void step_round(sos_wasm_instance **ins, bool *live, uint32_t round, bool begin) {
  pthread_t th[NTHREAD_INST];
  struct step st[NTHREAD_INST];
  bool started[NTHREAD_INST] = {false};
  for (uint32_t j = 0; j < NTHREAD_INST; j++) {
    uint32_t i = (j + round) % NTHREAD_INST;
    st[j] = (struct step){ins[i], begin ? 10 + i : 0, 0};
    if (live[i]) started[j] = pthread_create(&th[j], NULL, step_thread, &st[j]) == 0;
    if (live[i] && !started[j]) CHECK(!"pthread_create failed");
  }
  for (uint32_t j = 0; j < NTHREAD_INST; j++) {
    uint32_t i = (j + round) % NTHREAD_INST;
    if (!started[j]) continue;
    pthread_join(th[j], NULL);
    if (st[j].rc == SOS_WASM_DONE) live[i] = false;
    else if (st[j].rc != SOS_WASM_SUSPENDED) CHECK_EQ(st[j].rc, SOS_WASM_SUSPENDED);
  }
}

TEST(engine_suspend_and_resume_on_other_threads) {
  sos_wasm_func *next = next_new();
  REQUIRE(next);
  struct fx f[NTHREAD_INST];
  struct susp s[NTHREAD_INST] = {{0}};
  sos_wasm_instance *ins[NTHREAD_INST];
  bool live[NTHREAD_INST];
  for (uint32_t i = 0; i < NTHREAD_INST; i++) {
    ins[i] = susp_open(&f[i], next, &s[i], NULL);
    REQUIRE(ins[i]);
    live[i] = true;
  }
  /* Instance i runs sum(10 + i); every step moves it to another thread. */
  step_round(ins, live, 0, true);
  uint32_t round = 1;
  for (; round < 40; round++) {
    bool any = false;
    for (uint32_t i = 0; i < NTHREAD_INST; i++) any |= live[i];
    if (!any) break;
    step_round(ins, live, round, false);
  }
  CHECK(round < 40);
  for (uint32_t i = 0; i < NTHREAD_INST; i++) {
    CHECK_EQ(s[i].calls, 10 + i);
    CHECK_EQ(result1(ins[i]), sum_answers(10 + i));
    fx_close(&f[i]);
  }
  sos_wasm_func_free(next);
}

TEST(engine_suspend_ten_thousand_instances) {
  enum { N = 10000 };
  sos_wasm_func *next = next_new();
  sos_wasm_module *m = NULL;
  char err[256];
  REQUIRE(next);
  REQUIRE(sos_wasm_module_new(m_susp, sizeof m_susp, &m, err, sizeof err) == 0);
  sos_wasm_instance **ins = sos_calloc(N, sizeof *ins);
  REQUIRE(ins);
  struct sos_wasm_extern x = func_import(next);
  uint32_t bad = 0;
  for (uint32_t i = 0; i < N; i++) {
    if (sos_wasm_instance_new(m, NULL, &x, 1, &ins[i], err, sizeof err) != 0 ||
        sos_wasm_call_begin(ins[i], fn(ins[i], "once"), (sos_wasm_val[]){i}, 1) != 0 ||
        sos_wasm_run(ins[i], -1, NULL) != SOS_WASM_SUSPENDED)
      bad++;
  }
  CHECK_EQ(bad, 0);
  sos_wasm_module_free(m); /* the instances keep the module alive */
  for (uint32_t i = 0; i < N && !bad; i++) {
    sos_wasm_val v = (sos_wasm_val)i * 3;
    if (sos_wasm_resume(ins[i], &v, 1) != 0 ||
        sos_wasm_run(ins[i], -1, NULL) != SOS_WASM_DONE ||
        result1(ins[i]) != (sos_wasm_val)i * 3 + 1)
      bad++;
  }
  CHECK_EQ(bad, 0);
  for (uint32_t i = 0; i < N; i++) sos_wasm_instance_free(ins[i]);
  sos_free(ins);
  sos_wasm_func_free(next);
}

TEST(engine_run_state_errors) {
  sos_wasm_func *next = next_new();
  REQUIRE(next);
  struct susp s = {0};
  struct fx f;
  sos_wasm_instance *in = susp_open(&f, next, &s, NULL);
  REQUIRE(in);
  struct sos_wasm_trap t;
  sos_wasm_val v = 1, r;
  /* Idle: nothing to run or resume. */
  CHECK_EQ(sos_wasm_run(in, -1, &t), SOS_ESTATE);
  CHECK_EQ(sos_wasm_resume(in, &v, 1), SOS_ESTATE);
  CHECK(sos_wasm_results(in, NULL) == NULL);
  CHECK_EQ(sos_wasm_call_begin(in, fn(in, "plain"), NULL, 0), SOS_EINVAL);
  CHECK_EQ(sos_wasm_call_begin(in, fn(in, "plain"), (sos_wasm_val[]){1, 2}, 2),
           SOS_EINVAL);
  /* Done: the results stay; running or resuming again is an error. */
  CHECK_EQ(CALL(in, "plain", 4), 8);
  CHECK_EQ(sos_wasm_run(in, -1, &t), SOS_ESTATE);
  CHECK_EQ(sos_wasm_resume(in, &v, 1), SOS_ESTATE);
  CHECK_EQ(result1(in), 8);
  /* Suspended: no new call, no run before resume, results not ready. */
  REQUIRE(sos_wasm_call_begin(in, fn(in, "once"), (sos_wasm_val[]){7}, 1) == 0);
  CHECK_EQ(sos_wasm_run(in, -1, &t), SOS_WASM_SUSPENDED);
  CHECK_EQ(sos_wasm_call_begin(in, fn(in, "plain"), &v, 1), SOS_ESTATE);
  CHECK_EQ(sos_wasm_call(in, fn(in, "plain"), &v, 1, &r, 1, &t), SOS_ESTATE);
  CHECK_EQ(sos_wasm_run(in, -1, &t), SOS_ESTATE);
  uint32_t n = 99;
  CHECK(sos_wasm_results(in, &n) == NULL && n == 0);
  CHECK_EQ(sos_wasm_resume(in, (sos_wasm_val[]){1, 2}, 2), SOS_EINVAL);
  CHECK_EQ(sos_wasm_resume(in, NULL, 0), SOS_EINVAL);
  /* The suspension is still there after those errors. */
  CHECK_EQ(sos_wasm_resume(in, (sos_wasm_val[]){10}, 1), 0);
  CHECK_EQ(sos_wasm_resume(in, (sos_wasm_val[]){10}, 1), SOS_ESTATE);
  CHECK_EQ(sos_wasm_run(in, -1, &t), SOS_WASM_DONE);
  CHECK_EQ(result1(in), 11);
  /* Abort a suspended call; then new calls work. */
  REQUIRE(sos_wasm_call_begin(in, fn(in, "sum"), (sos_wasm_val[]){5}, 1) == 0);
  CHECK_EQ(sos_wasm_run(in, -1, &t), SOS_WASM_SUSPENDED);
  sos_wasm_call_abort(in);
  CHECK_EQ(sos_wasm_resume(in, &v, 1), SOS_ESTATE);
  CHECK_EQ(sos_wasm_run(in, -1, &t), SOS_ESTATE);
  CHECK_EQ(CALL(in, "plain", 5), 10);
  REQUIRE(sos_wasm_call_begin(in, fn(in, "sum"), (sos_wasm_val[]){4}, 1) == 0);
  CHECK_EQ(drive(in, -1, NULL), SOS_WASM_DONE);
  CHECK_EQ(result1(in), sum_answers(4));
  /* sos_wasm_call does not allow a suspension and leaves the instance
   * ready for the next call. */
  CHECK_EQ(sos_wasm_call(in, fn(in, "once"), &v, 1, &r, 1, &t), SOS_ESTATE);
  CHECK_EQ(CALL(in, "plain", 6), 12);
  fx_close(&f);
  sos_wasm_func_free(next);
}

TEST(engine_suspend_in_host_entry_then_run_gives_done) {
  /* A host function called directly as the entry may suspend too; after
   * resume, sos_wasm_run finishes the call as wasm.h describes. */
  sos_wasm_func *next = next_new();
  REQUIRE(next);
  struct susp s = {0};
  struct fx f;
  sos_wasm_instance *in = susp_open(&f, next, &s, NULL);
  REQUIRE(in);
  struct sos_wasm_trap t;
  REQUIRE(sos_wasm_call_begin(in, next, (sos_wasm_val[]){3}, 1) == 0);
  CHECK_EQ(sos_wasm_run(in, -1, &t), SOS_WASM_SUSPENDED);
  CHECK_EQ(s.arg, 3);
  CHECK_EQ(sos_wasm_resume(in, (sos_wasm_val[]){44}, 1), 0);
  CHECK_EQ(sos_wasm_run(in, -1, &t), SOS_WASM_DONE);
  CHECK_EQ(result1(in), 44);
  CHECK_EQ(CALL(in, "plain", 1), 2);
  fx_close(&f);
  sos_wasm_func_free(next);
}

/* ---- fuel ---------------------------------------------------------------------- */

TEST(engine_fuel_slices_preempt_infinite_loop) {
  struct fx f;
  sos_wasm_instance *in = OPEN(&f, m_fuel);
  REQUIRE(in);
  struct sos_wasm_trap t;
  REQUIRE(sos_wasm_call_begin(in, fn(in, "spin"), NULL, 0) == 0);
  uint64_t before = sos_wasm_fuel_used(in);
  for (int k = 1; k <= 5; k++) {
    CHECK_EQ(sos_wasm_run(in, 1000, &t), SOS_WASM_YIELDED);
    uint64_t used = sos_wasm_fuel_used(in) - before;
    /* Each slice spends its fuel, give or take one loop iteration. */
    if (used + 10 < 1000 || used > 1000 + 10) CHECK_EQ(used, 1000);
    before += used;
  }
  /* A yielded call is in progress: no new call, no resume. */
  CHECK_EQ(sos_wasm_call_begin(in, fn(in, "spin"), NULL, 0), SOS_ESTATE);
  CHECK_EQ(sos_wasm_resume(in, NULL, 0), SOS_ESTATE);
  sos_wasm_call_abort(in);
  CHECK_EQ(sos_wasm_run(in, 1000, &t), SOS_ESTATE);
  CHECK_EQ(CALL(in, "count", 4), 10);
  fx_close(&f);
}

TEST(engine_fuel_slices_continue_where_they_stopped) {
  struct fx f;
  sos_wasm_instance *in = OPEN(&f, m_fuel);
  REQUIRE(in);
  struct sos_wasm_trap t;
  /* count(10000) sums 10000..1 in a loop of several instructions. */
  REQUIRE(sos_wasm_call_begin(in, fn(in, "count"), (sos_wasm_val[]){10000}, 1) == 0);
  int rc, yields = 0;
  while ((rc = sos_wasm_run(in, 1000, &t)) == SOS_WASM_YIELDED && yields < 100000)
    yields++;
  CHECK_EQ(rc, SOS_WASM_DONE);
  CHECK(yields >= 10);
  CHECK_EQ(result1(in), 50005000);
  uint64_t used = sos_wasm_fuel_used(in);
  CHECK(used >= 10000 * 3);
  /* The same with a slice of one unit still finishes. */
  REQUIRE(sos_wasm_call_begin(in, fn(in, "count"), (sos_wasm_val[]){100}, 1) == 0);
  yields = 0;
  while ((rc = sos_wasm_run(in, 1, &t)) == SOS_WASM_YIELDED && yields < 100000) yields++;
  CHECK_EQ(rc, SOS_WASM_DONE);
  CHECK(yields >= 50); /* about one loop iteration per slice */
  CHECK_EQ(result1(in), 5050);
  CHECK(sos_wasm_fuel_used(in) > used);
  /* Recursion is preempted and continued too. */
  REQUIRE(sos_wasm_call_begin(in, fn(in, "rec"), (sos_wasm_val[]){500}, 1) == 0);
  yields = 0;
  while ((rc = sos_wasm_run(in, 7, &t)) == SOS_WASM_YIELDED && yields < 100000) yields++;
  CHECK_EQ(rc, SOS_WASM_DONE);
  CHECK(yields >= 100);
  CHECK_EQ(result1(in), 500);
  fx_close(&f);
}

TEST(engine_fuel_hard_budget_traps) {
  struct sos_wasm_limits lim = {0};
  lim.fuel = 10000;
  struct fx f;
  sos_wasm_instance *in = fx_open(&f, m_fuel, sizeof m_fuel, &lim, NULL, 0);
  REQUIRE(in);
  struct sos_wasm_trap t;
  CHECK_EQ(CALL(in, "count", 10), 55); /* small calls fit */
  uint64_t left = 10000 - sos_wasm_fuel_used(in);
  REQUIRE(sos_wasm_call_begin(in, fn(in, "spin"), NULL, 0) == 0);
  int rc, yields = 0;
  while ((rc = sos_wasm_run(in, 3000, &t)) == SOS_WASM_YIELDED && yields < 100) yields++;
  CHECK_EQ(rc, SOS_ETRAP);
  CHECK_EQ(t.kind, SOS_WASM_TRAP_FUEL);
  CHECK_STR(t.message, "fuel exhausted");
  CHECK_EQ(yields, (left - 1) / 3000); /* whole slices, then the budget's end */
  CHECK_EQ(sos_wasm_run(in, 3000, &t), SOS_ESTATE); /* the trap ended the run */
  uint64_t used = sos_wasm_fuel_used(in);
  CHECK(used <= 10000 && used + 10 >= 10000);
  /* The budget covers the instance's life: later calls trap at once. */
  CHECK_EQ(TRAP(in, "count", 1000), SOS_WASM_TRAP_FUEL);
  fx_close(&f);
}

TEST(engine_fuel_charges_recursion_without_loops) {
  struct sos_wasm_limits lim = {0};
  lim.fuel = 1000;
  struct fx f;
  sos_wasm_instance *in = fx_open(&f, m_fuel, sizeof m_fuel, &lim, NULL, 0);
  REQUIRE(in);
  uint64_t used = sos_wasm_fuel_used(in);
  CHECK_EQ(CALL(in, "rec", 0), 0); /* straight-line code is charged too */
  CHECK(sos_wasm_fuel_used(in) > used);
  CHECK_EQ(CALL(in, "rec", 10), 10);
  CHECK_EQ(TRAP(in, "rec", 10000), SOS_WASM_TRAP_FUEL);
  CHECK(sos_wasm_fuel_used(in) <= 1000);
  fx_close(&f);
  /* Without a budget the same call works and is charged. */
  in = OPEN(&f, m_fuel);
  REQUIRE(in);
  CHECK_EQ(CALL(in, "rec", 10000), 10000);
  CHECK(sos_wasm_fuel_used(in) >= 10000 * 3);
  fx_close(&f);
}

/* ---- limits ---------------------------------------------------------------------- */

/* Calls export name, with arg when it takes one, expecting the
 * stack-exhaustion trap. */
static void expect_stack_trap(int line, sos_wasm_instance *in, const char *name,
                              sos_wasm_val arg) {
  uint32_t nargs = sos_wasm_func_type(fn(in, name))->nparams;
  struct sos_wasm_trap t = {0};
  sos_wasm_val r;
  int rc = invoke(in, name, &arg, nargs, &r, 1, &t);
  if (rc != SOS_ETRAP || t.kind != SOS_WASM_TRAP_STACK ||
      strcmp(t.message, "call stack exhausted") != 0) {
    char msg[300];
    snprintf(msg, sizeof msg, "%s(%llu): rc %d kind %d \"%s\"", name,
             (unsigned long long)arg, rc, t.kind, t.message);
    sos_test_fail(__FILE__, line, msg);
  }
}

TEST(engine_limit_call_depth) {
  struct sos_wasm_limits lim = {0};
  lim.max_call_depth = 100;
  struct fx f;
  sos_wasm_instance *in = fx_open(&f, m_limits, sizeof m_limits, &lim, NULL, 0);
  REQUIRE(in);
  /* rec(n) is n wasm frames deep. */
  CHECK_EQ(CALL(in, "rec", 99), 99);
  CHECK_EQ(CALL(in, "rec", 100), 100);
  expect_stack_trap(__LINE__, in, "rec", 101);
  CHECK_EQ(CALL(in, "rec", 50), 50); /* usable after the trap */
  expect_stack_trap(__LINE__, in, "inf", 0);
  CHECK_EQ(CALL(in, "rec", 100), 100);
  fx_close(&f);
  /* The default depth stops unbounded recursion too. */
  in = OPEN(&f, m_limits);
  REQUIRE(in);
  expect_stack_trap(__LINE__, in, "inf", 0);
  CHECK_EQ(CALL(in, "rec", 1000), 1000);
  fx_close(&f);
}

TEST(engine_limit_value_stack) {
  struct sos_wasm_limits lim = {0};
  lim.max_stack = 64 * 1024; /* 8192 slots: big() frames hold 100+ each */
  struct fx f;
  sos_wasm_instance *in = fx_open(&f, m_limits, sizeof m_limits, &lim, NULL, 0);
  REQUIRE(in);
  CHECK_EQ(CALL(in, "big", 20), 20);
  expect_stack_trap(__LINE__, in, "big", 1000);
  CHECK_EQ(CALL(in, "big", 20), 20);
  CHECK_EQ(CALL(in, "rec", 1000), 1000); /* small frames fit many more */
  expect_stack_trap(__LINE__, in, "inf", 0);
  expect_stack_trap(__LINE__, in, "big", 100000);
  CHECK_EQ(CALL(in, "big", 2), 2);
  fx_close(&f);
}

TEST(engine_limit_memory_and_table_growth) {
  struct sos_wasm_limits lim = {0};
  lim.max_memory = 3 * 65536;
  lim.max_table = 5;
  struct fx f;
  sos_wasm_instance *in = fx_open(&f, m_limits, sizeof m_limits, &lim, NULL, 0);
  REQUIRE(in);
  CHECK_EQ(CALL(in, "grow", 1), 1);
  CHECK_EQ(CALL(in, "grow", 2), U32(-1));
  CHECK_EQ(CALL(in, "grow", 1), 2);
  CHECK_EQ(CALL(in, "grow", 1), U32(-1));
  CHECK_EQ(sos_wasm_memory_size(sos_wasm_instance_memory(in)), 3 * 65536);
  CHECK_EQ(CALL(in, "tgrow", 5), U32(-1));
  CHECK_EQ(CALL(in, "tgrow", 4), 1);
  CHECK_EQ(CALL(in, "tgrow", 1), U32(-1));
  CHECK_EQ(CALL(in, "tgrow", 0), 5);
  fx_close(&f);
}

TEST(engine_limit_memory_minimum_fails_instantiation) {
  /* (module (memory 1)) against a limit of less than one page. */
  struct sos_wasm_limits lim = {0};
  lim.max_memory = 65535;
  sos_wasm_module *m = NULL;
  sos_wasm_instance *in = NULL;
  char err[256] = "";
  REQUIRE(sos_wasm_module_new(m_limits, sizeof m_limits, &m, err, sizeof err) == 0);
  CHECK_EQ(sos_wasm_instance_new(m, &lim, NULL, 0, &in, err, sizeof err), SOS_ELIMIT);
  CHECK(in == NULL);
  CHECK(err[0] != 0);
  lim.max_memory = 0;
  lim.max_table = 0;
  CHECK_EQ(sos_wasm_instance_new(m, &lim, NULL, 0, &in, err, sizeof err), 0);
  sos_wasm_instance_free(in);
  sos_wasm_module_free(m);
}

/* (module (memory 1) (func (export "fill") (param i32)
 *   (memory.fill (i32.const 0) (i32.const 7) (local.get 0)))) */
static const uint8_t m_bulk_fuel[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60,
    0x01, 0x7f, 0x00, 0x03, 0x02, 0x01, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01,
    0x07, 0x08, 0x01, 0x04, 0x66, 0x69, 0x6c, 0x6c, 0x00, 0x00, 0x0a, 0x0d,
    0x01, 0x0b, 0x00, 0x41, 0x00, 0x41, 0x07, 0x20, 0x00, 0xfc, 0x0b, 0x00,
    0x0b};

/* A bulk op pays fuel for its length (1 per 64 bytes): filling 64 KiB
 * costs about 1,024, so a hard budget of 500 traps before anything is
 * written, and one of 5,000 does not. */
TEST(engine_fuel_bulk_memory_pays_for_its_length) {
  struct sos_wasm_limits lim = {.fuel = 500};
  struct fx f;
  REQUIRE(fx_open(&f, m_bulk_fuel, sizeof m_bulk_fuel, &lim, NULL, 0));
  sos_wasm_val n = 65536;
  struct sos_wasm_trap t;
  CHECK_EQ(sos_wasm_call(f.in, fn(f.in, "fill"), &n, 1, NULL, 0, &t), SOS_ETRAP);
  CHECK_EQ(t.kind, SOS_WASM_TRAP_FUEL);
  const uint8_t *m = sos_wasm_mem(f.in, 0, 65536);
  CHECK(m && m[0] == 0 && m[65535] == 0);
  fx_close(&f);
  lim.fuel = 5000;
  REQUIRE(fx_open(&f, m_bulk_fuel, sizeof m_bulk_fuel, &lim, NULL, 0));
  CHECK_EQ(sos_wasm_call(f.in, fn(f.in, "fill"), &n, 1, NULL, 0, &t), 0);
  m = sos_wasm_mem(f.in, 0, 65536);
  CHECK(m && m[0] == 7 && m[65535] == 7);
  CHECK(sos_wasm_fuel_used(f.in) >= 1024);
  fx_close(&f);
}

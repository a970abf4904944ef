/*
 * micro.c - micro-benchmarks of the SOS engine's service machinery.
 *
 * Three costs that matter to a kernel running many short requests in
 * many instances, each measured on a tiny hand-assembled module:
 *
 *  1. instantiate-to-first-host-call: from sos_wasm_instance_new of an
 *     already compiled module to the moment its exported function, which
 *     immediately calls an imported host function, enters that host
 *     function.  Measured per iteration with CLOCK_MONOTONIC and averaged;
 *     done for a module without memory and one with a 1-page memory.
 *  2. suspend/resume round trip: a wasm loop calls a host function that
 *     returns SOS_WASM_HOST_SUSPEND; each call costs one return of
 *     sos_wasm_run with SOS_WASM_SUSPENDED, one sos_wasm_resume and one
 *     sos_wasm_run to continue.
 *  3. yield via fuel: a countdown loop run in slices of 100 and of 1,000
 *     fuel; the extra time over an unsliced run, per yield (best of 3).
 *
 * Usage: build/bench/micro [SCALE]: SCALE (default 1) multiplies the
 * iteration counts (100,000 instantiations, 1,000,000 round trips and
 * 50,000,000 loop iterations), so 0.1 gives a quick run.
 * Prints one "micro: NAME VALUE UNIT" line per measurement.
 */
#include "sos/wasm.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* (module (import "env" "host" (func)) (func (export "main") call 0)) */
static const uint8_t first_call_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,             /* header */
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00,                         /* type () */
    0x02, 0x0c, 0x01, 0x03, 'e', 'n', 'v', 0x04, 'h', 'o', 's', 't',
    0x00, 0x00,                                                 /* import */
    0x03, 0x02, 0x01, 0x00,                                     /* func */
    0x07, 0x08, 0x01, 0x04, 'm', 'a', 'i', 'n', 0x00, 0x01,     /* export */
    0x0a, 0x06, 0x01, 0x04, 0x00, 0x10, 0x00, 0x0b};            /* code */

/* The same plus (memory 1), between the function and export sections. */
static const uint8_t first_call_mem_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
    0x02, 0x0c, 0x01, 0x03, 'e', 'n', 'v', 0x04, 'h', 'o', 's', 't',
    0x00, 0x00,
    0x03, 0x02, 0x01, 0x00,
    0x05, 0x03, 0x01, 0x00, 0x01,                               /* memory */
    0x07, 0x08, 0x01, 0x04, 'm', 'a', 'i', 'n', 0x00, 0x01,
    0x0a, 0x06, 0x01, 0x04, 0x00, 0x10, 0x00, 0x0b};

/* (import "env" "host" (func)) (func (export "loop") (param i32)
 *   (loop call 0  local.get 0  i32.const 1  i32.sub  local.tee 0  br_if 0)) */
static const uint8_t suspend_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x08, 0x02, 0x60, 0x00, 0x00, 0x60, 0x01, 0x7f, 0x00, /* types */
    0x02, 0x0c, 0x01, 0x03, 'e', 'n', 'v', 0x04, 'h', 'o', 's', 't',
    0x00, 0x00,
    0x03, 0x02, 0x01, 0x01,
    0x07, 0x08, 0x01, 0x04, 'l', 'o', 'o', 'p', 0x00, 0x01,
    0x0a, 0x12, 0x01, 0x10, 0x00, 0x03, 0x40, 0x10, 0x00, 0x20, 0x00, 0x41,
    0x01, 0x6b, 0x22, 0x00, 0x0d, 0x00, 0x0b, 0x0b};

/* (func (export "spin") (param i32) (result i32)
 *   (loop local.get 0  i32.const 1  i32.sub  local.tee 0  br_if 0)
 *   local.get 0) */
static const uint8_t spin_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f,
    0x03, 0x02, 0x01, 0x00,
    0x07, 0x08, 0x01, 0x04, 's', 'p', 'i', 'n', 0x00, 0x00,
    0x0a, 0x12, 0x01, 0x10, 0x00, 0x03, 0x40, 0x20, 0x00, 0x41, 0x01, 0x6b,
    0x22, 0x00, 0x0d, 0x00, 0x0b, 0x20, 0x00, 0x0b};

static const uint8_t no_types[1];
static const struct sos_wasm_functype void_type = {0, 0, no_types, no_types};

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Prints a message and exits: a micro-benchmark that fails is a bug. */
static void die(const char *what, int rc, const char *err) {
  fprintf(stderr, "micro: %s: %s%s%s\n", what, sos_strerror(rc),
          err && *err ? ": " : "", err ? err : "");
  exit(1);
}

static sos_wasm_module *compile(const uint8_t *bytes, size_t len) {
  char err[256] = "";
  sos_wasm_module *m = NULL;
  int rc = sos_wasm_module_new(bytes, len, &m, err, sizeof err);
  if (rc < 0) die("compile", rc, err);
  return m;
}

static sos_wasm_func *export_func(sos_wasm_instance *in, const char *name,
                                  size_t len) {
  struct sos_wasm_extern ex;
  int rc = sos_wasm_instance_export(in, name, len, &ex);
  if (rc < 0 || ex.kind != SOS_WASM_EXTERN_FUNC) die(name, SOS_ENOENT, NULL);
  return ex.u.func;
}

/* Host function of (1): records when it was entered. */
static int host_mark(struct sos_wasm_hostcall *call) {
  *(uint64_t *)call->env = now_ns();
  return SOS_WASM_HOST_OK;
}

/* Host function of (2): always asks to be resumed later. */
static int host_suspend(struct sos_wasm_hostcall *call) {
  (void)call;
  return SOS_WASM_HOST_SUSPEND;
}

/* (1) over `iters` fresh instances; prints microseconds per instance. */
static void bench_first_call(const char *label, const uint8_t *bytes,
                             size_t len, uint32_t iters) {
  sos_wasm_module *m = compile(bytes, len);
  uint64_t entered = 0, sum = 0;
  struct sos_wasm_extern imp = {.kind = SOS_WASM_EXTERN_FUNC};
  imp.u.func = sos_wasm_func_new(&void_type, host_mark, &entered);
  if (!imp.u.func) die("func_new", SOS_ENOMEM, NULL);
  char err[256] = "";
  struct sos_wasm_trap trap;
  uint64_t start = now_ns();
  for (uint32_t i = 0; i < iters; i++) {
    sos_wasm_instance *in = NULL;
    uint64_t t0 = now_ns();
    int rc = sos_wasm_instance_new(m, NULL, &imp, 1, &in, err, sizeof err);
    if (rc < 0) die("instantiate", rc, err);
    rc = sos_wasm_call(in, export_func(in, "main", 4), NULL, 0, NULL, 0, &trap);
    if (rc < 0) die("call main", rc, trap.message);
    sum += entered - t0;
    sos_wasm_instance_free(in);
  }
  uint64_t total = now_ns() - start;
  printf("micro: %s %.3f us (whole cycle with call and free: %.3f us)\n", label,
         (double)sum / iters / 1e3, (double)total / iters / 1e3);
  sos_wasm_func_free(imp.u.func);
  sos_wasm_module_free(m);
}

/* (2): `iters` suspend/resume round trips; prints ns per round trip. */
static void bench_suspend(uint32_t iters) {
  sos_wasm_module *m = compile(suspend_wasm, sizeof suspend_wasm);
  struct sos_wasm_extern imp = {.kind = SOS_WASM_EXTERN_FUNC};
  imp.u.func = sos_wasm_func_new(&void_type, host_suspend, NULL);
  char err[256] = "";
  sos_wasm_instance *in = NULL;
  int rc = imp.u.func ? sos_wasm_instance_new(m, NULL, &imp, 1, &in, err, sizeof err)
                      : SOS_ENOMEM;
  if (rc < 0) die("instantiate", rc, err);
  sos_wasm_val n = iters;
  rc = sos_wasm_call_begin(in, export_func(in, "loop", 4), &n, 1);
  struct sos_wasm_trap trap;
  uint32_t trips = 0;
  uint64_t t0 = now_ns();
  while (rc == 0 && (rc = sos_wasm_run(in, -1, &trap)) == SOS_WASM_SUSPENDED) {
    trips++;
    rc = sos_wasm_resume(in, NULL, 0);
  }
  uint64_t t1 = now_ns();
  if (rc < 0 || trips != iters) die("suspend loop", rc < 0 ? rc : SOS_ESTATE, NULL);
  printf("micro: suspend_resume %.1f ns per round trip (%u trips)\n",
         (double)(t1 - t0) / trips, trips);
  sos_wasm_instance_free(in);
  sos_wasm_func_free(imp.u.func);
  sos_wasm_module_free(m);
}

/* Runs spin(iters) in slices of `slice` fuel (< 0: one slice); returns
 * nanoseconds and sets *yields. */
static uint64_t spin(sos_wasm_module *m, uint32_t iters, int64_t slice,
                     uint64_t *yields) {
  char err[256] = "";
  sos_wasm_instance *in = NULL;
  int rc = sos_wasm_instance_new(m, NULL, NULL, 0, &in, err, sizeof err);
  if (rc < 0) die("instantiate", rc, err);
  sos_wasm_val n = iters;
  rc = sos_wasm_call_begin(in, export_func(in, "spin", 4), &n, 1);
  struct sos_wasm_trap trap;
  *yields = 0;
  uint64_t t0 = now_ns();
  while (rc == 0 && (rc = sos_wasm_run(in, slice, &trap)) == SOS_WASM_YIELDED) {
    ++*yields;
    rc = 0;
  }
  uint64_t t1 = now_ns();
  if (rc != SOS_WASM_DONE) die("spin", rc < 0 ? rc : SOS_ESTATE, trap.message);
  sos_wasm_instance_free(in);
  return t1 - t0;
}

/* (3): prints the extra cost of a yield for two slice sizes.  Each run is
 * repeated three times, interleaved, and the fastest kept, so that noise
 * from other processes does not swamp a difference of a few percent. */
static void bench_yield(uint32_t iters) {
  static const int64_t slices[] = {-1, 100, 1000};
  enum { NSLICES = sizeof slices / sizeof *slices };
  sos_wasm_module *m = compile(spin_wasm, sizeof spin_wasm);
  uint64_t best[NSLICES] = {0}, yields[NSLICES] = {0};
  for (int round = 0; round < 3; round++)
    for (int i = 0; i < NSLICES; i++) {
      uint64_t t = spin(m, iters, slices[i], &yields[i]);
      if (round == 0 || t < best[i]) best[i] = t;
    }
  printf("micro: spin_unsliced %.3f ns per loop iteration\n",
         (double)best[0] / iters);
  for (int i = 1; i < NSLICES; i++) {
    if (yields[i] == 0) die("yield: no yields", SOS_ESTATE, NULL);
    printf("micro: yield_slice_%lld %.1f ns per yield over unsliced "
           "(%.1f ns per slice in all, %llu yields)\n",
           (long long)slices[i],
           ((double)best[i] - (double)best[0]) / (double)yields[i],
           (double)best[i] / (double)yields[i], (unsigned long long)yields[i]);
  }
  sos_wasm_module_free(m);
}

int main(int argc, char **argv) {
  double scale = argc > 1 ? atof(argv[1]) : 1.0;
  if (scale <= 0) scale = 1.0;
  bench_first_call("instantiate_to_host_call", first_call_wasm,
                   sizeof first_call_wasm, (uint32_t)(100000 * scale) + 1);
  bench_first_call("instantiate_to_host_call_with_memory", first_call_mem_wasm,
                   sizeof first_call_mem_wasm, (uint32_t)(100000 * scale) + 1);
  bench_suspend((uint32_t)(1000000 * scale) + 1);
  bench_yield((uint32_t)(50000000 * scale) + 1);
  return 0;
}

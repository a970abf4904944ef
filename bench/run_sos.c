/*
 * run_sos.c - times one benchmark kernel in the SOS engine: the "sos"
 * column of scripts/bench.sh.
 *
 * Usage: build/bench/run_sos KERNEL.wasm [N]
 * Loads the module, compiles it (sos_wasm_module_new), instantiates it
 * with no imports, then calls run(N) once with no fuel limit; N defaults
 * to the module's exported bench_n().  Each phase is timed in-process
 * with CLOCK_MONOTONIC, so process start-up and file reading are not
 * counted.  Prints "n=N checksum=C compile_s=S inst_s=S run_s=S fuel=F",
 * F the fuel the run charged (docs/engine.md, "Fuel accounting").
 * Exit status 1 on any error, with a message on stderr.
 */
#include "sos/wasm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Calls the export `name` with at most one i32 argument; one result. */
static int call_export(sos_wasm_instance *in, const char *name,
                       const sos_wasm_val *args, uint32_t nargs,
                       sos_wasm_val *result) {
  struct sos_wasm_extern ex;
  struct sos_wasm_trap trap;
  int rc = sos_wasm_instance_export(in, name, strlen(name), &ex);
  if (rc == 0 && ex.kind != SOS_WASM_EXTERN_FUNC) rc = SOS_ENOENT;
  if (rc == 0) rc = sos_wasm_call(in, ex.u.func, args, nargs, result, 1, &trap);
  if (rc == SOS_ETRAP)
    fprintf(stderr, "run_sos: %s: trap: %s\n", name, trap.message);
  else if (rc < 0)
    fprintf(stderr, "run_sos: %s: %s\n", name, sos_strerror(rc));
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: run_sos KERNEL.wasm [N]\n");
    return 2;
  }
  size_t len;
  uint8_t *bytes;
  if (sos_file_read(argv[1], &bytes, &len) != 0) {
    fprintf(stderr, "run_sos: cannot read %s\n", argv[1]);
    return 1;
  }
  char err[256] = "";
  sos_wasm_module *m = NULL;
  sos_wasm_instance *in = NULL;
  double t0 = now();
  int rc = sos_wasm_module_new(bytes, len, &m, err, sizeof err);
  double t1 = now();
  if (rc == 0) rc = sos_wasm_instance_new(m, NULL, NULL, 0, &in, err, sizeof err);
  double t2 = now();
  sos_free(bytes);
  if (rc < 0) {
    fprintf(stderr, "run_sos: %s: %s: %s\n", argv[1], sos_strerror(rc), err);
    sos_wasm_module_free(m);
    return 1;
  }
  sos_wasm_val n = 0, sum = 0;
  if (argc > 2)
    n = (uint32_t)strtoul(argv[2], NULL, 0);
  else
    rc = call_export(in, "bench_n", NULL, 0, &n);
  double t3 = now(), t4 = t3;
  if (rc == 0) {
    rc = call_export(in, "run", &n, 1, &sum);
    t4 = now();
  }
  if (rc == 0)
    printf("n=%u checksum=%llu compile_s=%.6f inst_s=%.6f run_s=%.6f fuel=%llu\n",
           (unsigned)n, (unsigned long long)sum, t1 - t0, t2 - t1, t4 - t3,
           (unsigned long long)sos_wasm_fuel_used(in));
  sos_wasm_instance_free(in);
  sos_wasm_module_free(m);
  return rc == 0 ? 0 : 1;
}

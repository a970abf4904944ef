/*
 * diff_run.c - the SOS side of the differential tests (tests/diff.sh).
 *
 * Usage: build/tests/diff_run MODULE.wasm
 * Does exactly what tests/diff/diff_run.js does in V8, printing the same
 * lines, so that any difference between the two outputs is a difference
 * between the engines:
 *   log NAME VALUES   a call of the "fuzzing-support" import NAME
 *   host NAME VALUES  a call of any other function import (returns zeros)
 *   call NAME         an exported function is about to be called
 *   result VALUES     its results
 *   trap              it trapped (the instance stays usable)
 *   exhausted         it used its fuel budget; nothing more is run
 *   instantiate trap  a segment did not fit, or the start function trapped
 * Values print as TYPE:VALUE, integers in signed decimal, floats as their
 * bits in hex except that every NaN prints as "nan" (payloads may differ
 * between engines), references as null or non-null.  Every exported
 * function is called in export order with zero arguments, each with a
 * fuel budget of DIFF_FUEL so a runaway loop ends.  With DIFF_FUEL_LINES
 * set in the environment, each call also prints "fuel N", the fuel it
 * used, before its outcome (V8 has no such line: tests/diff.sh drops them
 * to compare with it).  Exit status: 0, 1 on
 * an engine error, 3 when the module has non-function imports (skipped).
 */
#include "sos/wasm.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIFF_FUEL 500000000 /* per exported call */

/* Prints one value of the given type, preceded by a space. */
static void show(uint8_t type, sos_wasm_val v) {
  uint32_t lo = (uint32_t)v;
  switch (type) {
  case SOS_WASM_I32: printf(" i32:%" PRId32, (int32_t)lo); break;
  case SOS_WASM_I64: printf(" i64:%" PRId64, (int64_t)v); break;
  case SOS_WASM_F32:
    if ((lo & 0x7f800000u) == 0x7f800000u && (lo & 0x7fffffu)) printf(" f32:nan");
    else printf(" f32:0x%08" PRIx32, lo);
    break;
  case SOS_WASM_F64:
    if ((v & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (v << 12))
      printf(" f64:nan");
    else printf(" f64:0x%016" PRIx64, v);
    break;
  case SOS_WASM_FUNCREF: printf(" funcref:%s", v ? "func" : "null"); break;
  case SOS_WASM_EXTERNREF: printf(" externref:%s", v ? "value" : "null"); break;
  default: printf(" type%u:?", type);
  }
}

/* What a host stub knows of itself: its import's name and type. */
struct stub {
  struct sos_wasm_name module, name;
  struct sos_wasm_functype type;
};

/* Every function import: prints its arguments, returns zeros. */
static int host_log(struct sos_wasm_hostcall *call) {
  const struct stub *s = call->env;
  bool fuzz = s->module.len == 15 && memcmp(s->module.p, "fuzzing-support", 15) == 0;
  printf("%s %.*s", fuzz ? "log" : "host", (int)s->name.len, s->name.p);
  for (uint32_t i = 0; i < s->type.nparams; i++) show(s->type.params[i], call->args[i]);
  printf("\n");
  memset(call->results, 0, s->type.nresults * sizeof *call->results);
  return SOS_WASM_HOST_OK;
}

/* Runs a prepared call to its end.  Prints its results, "trap" or
 * "exhausted"; returns false after "exhausted" (stop everything). */
static bool finish(sos_wasm_instance *in, const struct sos_wasm_functype *t) {
  struct sos_wasm_trap trap;
  uint64_t before = sos_wasm_fuel_used(in);
  int rc = sos_wasm_run(in, DIFF_FUEL, &trap);
  if (getenv("DIFF_FUEL_LINES")) /* for comparing SOS's two engines */
    printf("fuel %" PRIu64 "\n", sos_wasm_fuel_used(in) - before);
  if (rc == SOS_WASM_YIELDED) {
    printf("exhausted\n");
    sos_wasm_call_abort(in);
    return false;
  }
  if (rc == SOS_ETRAP) {
    printf("trap\n");
    return true;
  }
  if (rc != SOS_WASM_DONE) {
    printf("error %s\n", sos_err_name(rc < 0 ? rc : SOS_ESTATE));
    exit(1);
  }
  uint32_t n;
  const sos_wasm_val *r = sos_wasm_results(in, &n);
  printf("result");
  for (uint32_t i = 0; i < n && i < t->nresults; i++) show(t->results[i], r[i]);
  printf("\n");
  return true;
}

/* Calls f with zero arguments; false when the run was exhausted. */
static bool call_zero(sos_wasm_instance *in, sos_wasm_func *f) {
  static const sos_wasm_val zeros[1000];
  const struct sos_wasm_functype *t = sos_wasm_func_type(f);
  int rc = t->nparams <= 1000 ? sos_wasm_call_begin(in, f, zeros, t->nparams) : SOS_EINVAL;
  if (rc < 0) {
    printf("error %s\n", sos_err_name(rc));
    exit(1);
  }
  return finish(in, t);
}

/* Makes the host stubs; exits with status 3 for a non-function import. */
static struct sos_wasm_extern *make_imports(sos_wasm_module *m, struct stub **stubs) {
  uint32_t n = sos_wasm_module_import_count(m);
  struct sos_wasm_extern *ext = sos_calloc(n + 1, sizeof *ext);
  *stubs = sos_calloc(n + 1, sizeof **stubs);
  if (!ext || !*stubs) exit(1);
  for (uint32_t i = 0; i < n; i++) {
    struct sos_wasm_externtype t;
    struct stub *s = &(*stubs)[i];
    sos_wasm_module_import(m, i, &s->module, &s->name, &t);
    if (t.kind != SOS_WASM_EXTERN_FUNC) {
      printf("unsupported import %.*s.%.*s\n", (int)s->module.len, s->module.p,
             (int)s->name.len, s->name.p);
      exit(3);
    }
    s->type = t.u.func;
    ext[i].kind = SOS_WASM_EXTERN_FUNC;
    if (!(ext[i].u.func = sos_wasm_func_new(&s->type, host_log, s))) exit(1);
  }
  return ext;
}

/* Calls the start function, then every exported function in order. */
static void run_all(sos_wasm_module *m, sos_wasm_instance *in) {
  sos_wasm_func *start = sos_wasm_instance_start(in);
  if (start) {
    struct sos_wasm_trap trap;
    int rc = sos_wasm_call_begin(in, start, NULL, 0);
    if (rc == 0) rc = sos_wasm_run(in, DIFF_FUEL, &trap);
    if (rc == SOS_ETRAP) printf("instantiate trap\n");
    if (rc == SOS_WASM_YIELDED) printf("exhausted\n");
    if (rc != SOS_WASM_DONE) return;
  }
  for (uint32_t i = 0, n = sos_wasm_module_export_count(m); i < n; i++) {
    struct sos_wasm_name name;
    struct sos_wasm_externtype t;
    struct sos_wasm_extern ex;
    sos_wasm_module_export(m, i, &name, &t);
    if (t.kind != SOS_WASM_EXTERN_FUNC) continue;
    printf("call %.*s\n", (int)name.len, name.p);
    if (sos_wasm_instance_export(in, name.p, name.len, &ex) < 0) exit(1);
    if (!call_zero(in, ex.u.func)) return;
  }
}

int main(int argc, char **argv) {
  size_t len;
  uint8_t *bytes;
  if (argc != 2 || sos_file_read(argv[1], &bytes, &len) != 0) {
    fprintf(stderr, "usage: diff_run MODULE.wasm\n");
    return 2;
  }
  char err[256] = "";
  sos_wasm_module *m = NULL;
  int rc = sos_wasm_module_new(bytes, len, &m, err, sizeof err);
  sos_free(bytes);
  if (rc < 0) {
    printf("compile error: %s: %s\n", sos_err_name(rc), err);
    return 0;
  }
  struct stub *stubs;
  struct sos_wasm_extern *ext = make_imports(m, &stubs);
  uint32_t nimports = sos_wasm_module_import_count(m);
  sos_wasm_instance *in = NULL;
  rc = sos_wasm_instance_new(m, NULL, ext, nimports, &in, err, sizeof err);
  if (rc == SOS_ETRAP) printf("instantiate trap\n");
  else if (rc < 0) printf("instantiate error: %s: %s\n", sos_err_name(rc), err);
  else run_all(m, in);
  fflush(stdout);
  sos_wasm_instance_free(in);
  for (uint32_t i = 0; i < nimports; i++) sos_wasm_func_free(ext[i].u.func);
  sos_free(ext);
  sos_free(stubs);
  sos_wasm_module_free(m);
  return 0;
}

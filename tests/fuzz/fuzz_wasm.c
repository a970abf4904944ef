/*
 * fuzz_wasm.c - libFuzzer target for the WebAssembly engine.
 *
 * Every input is treated as a module binary.  If sos_wasm_module_new
 * accepts it, the module is instantiated with every import satisfied by a
 * host stub of the right type (functions return zeros; tables, memories
 * and globals are made with sos_wasm_*_new to match the import's type),
 * its start function is run, and then every exported function is called
 * with zero arguments.  So decoding, validation, compilation,
 * instantiation and execution all see the input.
 *
 * Runs are bounded: fuel 100,000 over the instance's life, 16 MiB of
 * memory, 500 frames.  To reach the engine's stop-and-continue paths as
 * well, every run goes in slices of 1,000 fuel (each yield continues it)
 * and every second host call suspends and is resumed with zero results.
 * Everything is freed, so LeakSanitizer checks the engine's frees too.
 *
 * Built by scripts/fuzz.sh with clang -fsanitize=fuzzer,address,undefined.
 */
#include "sos/wasm.h"

#include <string.h>

#define FUZZ_MAX_IMPORT_PAGES 256    /* host memories larger are skipped */
#define FUZZ_MAX_IMPORT_TABLE 100000 /* so are larger host tables */
#define FUZZ_SLICE 1000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Host calls made for the current input (reset per input, so that a run
 * depends on its input alone), and the result count of the host function
 * that last suspended, for sos_wasm_resume. */
static unsigned host_calls;
static uint32_t suspended_nresults;

/* Every host stub: writes zero results; suspends on every second call. */
static int host_stub(struct sos_wasm_hostcall *call) {
  const struct sos_wasm_functype *t = call->env;
  memset(call->results, 0, t->nresults * sizeof *call->results);
  if (++host_calls & 1) return SOS_WASM_HOST_OK;
  suspended_nresults = t->nresults;
  return SOS_WASM_HOST_SUSPEND;
}

/* The host objects made for one instance. */
struct stubs {
  uint32_t n;
  struct sos_wasm_extern *ext;
  struct sos_wasm_functype *types; /* env of each function stub */
};

static void stubs_free(struct stubs *s) {
  for (uint32_t i = 0; i < s->n; i++) {
    struct sos_wasm_extern *e = &s->ext[i];
    switch (e->kind) {
    case SOS_WASM_EXTERN_FUNC: sos_wasm_func_free(e->u.func); break;
    case SOS_WASM_EXTERN_TABLE: sos_wasm_table_free(e->u.table); break;
    case SOS_WASM_EXTERN_MEMORY: sos_wasm_memory_free(e->u.memory); break;
    case SOS_WASM_EXTERN_GLOBAL: sos_wasm_global_free(e->u.global); break;
    }
  }
  sos_free(s->ext);
  sos_free(s->types);
}

/* Makes one host object matching type t into e; false when it cannot
 * (out of memory, or too big to be worth making). */
static bool stub_make(const struct sos_wasm_externtype *t,
                      struct sos_wasm_functype *ft, struct sos_wasm_extern *e) {
  e->kind = t->kind;
  switch (t->kind) {
  case SOS_WASM_EXTERN_FUNC:
    *ft = t->u.func; /* the arrays are borrowed from the module */
    return (e->u.func = sos_wasm_func_new(ft, host_stub, ft)) != NULL;
  case SOS_WASM_EXTERN_TABLE:
    if (t->u.table.min > FUZZ_MAX_IMPORT_TABLE) return false;
    e->u.table = sos_wasm_table_new(t->u.table.elem, t->u.table.min,
                                    t->u.table.has_max, t->u.table.max);
    return e->u.table != NULL;
  case SOS_WASM_EXTERN_MEMORY:
    if (t->u.memory.min > FUZZ_MAX_IMPORT_PAGES) return false;
    e->u.memory = sos_wasm_memory_new(t->u.memory.min, t->u.memory.has_max,
                                      t->u.memory.max);
    return e->u.memory != NULL;
  case SOS_WASM_EXTERN_GLOBAL:
    e->u.global = sos_wasm_global_new(t->u.global.type, t->u.global.mut, 0);
    return e->u.global != NULL;
  }
  return false;
}

/* Makes a stub for each of m's imports; false if any could not be made. */
static bool stubs_make(sos_wasm_module *m, struct stubs *s) {
  uint32_t n = sos_wasm_module_import_count(m);
  s->n = 0;
  s->ext = sos_calloc(n ? n : 1, sizeof *s->ext);
  s->types = sos_calloc(n ? n : 1, sizeof *s->types);
  if (!s->ext || !s->types) return false;
  for (uint32_t i = 0; i < n; i++) {
    struct sos_wasm_name mod, name;
    struct sos_wasm_externtype t;
    sos_wasm_module_import(m, i, &mod, &name, &t);
    if (!stub_make(&t, &s->types[i], &s->ext[i])) return false;
    s->n = i + 1;
  }
  return true;
}

/* Runs f with zero arguments to its end, continuing after every yield
 * and resuming every suspension with zero results. */
static void call_zero(sos_wasm_instance *in, sos_wasm_func *f) {
  static const sos_wasm_val zeros[256];
  const struct sos_wasm_functype *t = sos_wasm_func_type(f);
  if (t->nparams > 256) return;
  if (sos_wasm_call_begin(in, f, zeros, t->nparams) < 0) return;
  struct sos_wasm_trap trap;
  for (;;) {
    int rc = sos_wasm_run(in, FUZZ_SLICE, &trap);
    if (rc == SOS_WASM_SUSPENDED)
      rc = sos_wasm_resume(in, zeros, suspended_nresults);
    else if (rc != SOS_WASM_YIELDED) break;
    if (rc < 0) {
      sos_wasm_call_abort(in);
      break;
    }
  }
  uint32_t nres;
  (void)sos_wasm_results(in, &nres);
}

/* Calls the start function, then every exported function. */
static void run_instance(sos_wasm_module *m, sos_wasm_instance *in) {
  sos_wasm_func *start = sos_wasm_instance_start(in);
  if (start) call_zero(in, start);
  for (uint32_t i = 0, n = sos_wasm_module_export_count(m); i < n; i++) {
    struct sos_wasm_name name;
    struct sos_wasm_externtype t;
    struct sos_wasm_extern ex;
    sos_wasm_module_export(m, i, &name, &t);
    if (sos_wasm_instance_export(in, name.p, name.len, &ex) < 0) continue;
    if (ex.kind == SOS_WASM_EXTERN_FUNC) call_zero(in, ex.u.func);
  }
}

/* The libFuzzer entry point. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[256];
  sos_wasm_module *m = NULL;
  host_calls = 0;
  if (sos_wasm_module_new(data, size, &m, err, sizeof err) < 0) return 0;
  struct stubs s = {0};
  if (stubs_make(m, &s)) {
    struct sos_wasm_limits lim = {.max_memory = 16u << 20,
                                  .max_call_depth = 500,
                                  .fuel = 100000};
    sos_wasm_instance *in = NULL;
    if (sos_wasm_instance_new(m, &lim, s.ext, s.n, &in, err, sizeof err) == 0)
      run_instance(m, in);
    sos_wasm_instance_free(in);
  }
  stubs_free(&s);
  sos_wasm_module_free(m);
  return 0;
}

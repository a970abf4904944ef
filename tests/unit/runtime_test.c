/*
 * runtime_test.c - modules, host objects, instances and memory access
 * (src/wasm/runtime.c).
 *
 * The modules are tiny binaries assembled once with wat2wasm from the
 * text given above each array, so the tests need no tools at run time.
 * They check import and export descriptions, linking (missing imports,
 * wrong kinds, types and limits, §4.5.2), instance limits, element and
 * data segments (including a failing segment whose earlier writes stay
 * visible through an imported table or memory, §4.5.4), memory and table
 * growth, host memory access bounds, and every allocation failure of
 * sos_wasm_module_new and sos_wasm_instance_new.  Some checks look at the
 * internal structs of runtime.h directly.
 */
#include "sos/wasm.h"
#include "test.h"
#include "wasm/runtime.h"

#include <stdbool.h>

/* ---- test modules -------------------------------------------------------- */

/*
 * (module
 *   (type $t (func (param i32 i64) (result f32)))
 *   (import "env" "f" (func $f (type $t)))
 *   (import "env" "t" (table 1 10 funcref))
 *   (import "env" "m" (memory 1))
 *   (import "env" "g" (global $g (mut i32)))
 *   (func $add (export "add") (param i32 i32) (result i32)
 *     local.get 0 local.get 1 i32.add)
 *   (global $h (export "h") i64 (i64.const -5))
 *   (export "tab" (table 0))
 *   (export "mem" (memory 0))
 *   (export "f" (func $f))
 *   (export "g" (global $g)))
 */
static const uint8_t m_impexp[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0d, 0x02, 0x60,
    0x02, 0x7f, 0x7e, 0x01, 0x7d, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x02,
    0x26, 0x04, 0x03, 0x65, 0x6e, 0x76, 0x01, 0x66, 0x00, 0x00, 0x03, 0x65,
    0x6e, 0x76, 0x01, 0x74, 0x01, 0x70, 0x01, 0x01, 0x0a, 0x03, 0x65, 0x6e,
    0x76, 0x01, 0x6d, 0x02, 0x00, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x01, 0x67,
    0x03, 0x7f, 0x01, 0x03, 0x02, 0x01, 0x01, 0x06, 0x06, 0x01, 0x7e, 0x00,
    0x42, 0x7b, 0x0b, 0x07, 0x1f, 0x06, 0x03, 0x61, 0x64, 0x64, 0x00, 0x01,
    0x01, 0x68, 0x03, 0x01, 0x03, 0x74, 0x61, 0x62, 0x01, 0x00, 0x03, 0x6d,
    0x65, 0x6d, 0x02, 0x00, 0x01, 0x66, 0x00, 0x00, 0x01, 0x67, 0x03, 0x00,
    0x0a, 0x09, 0x01, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b,
};

/*
 * (module (import "env" "m" (memory 1 2)))
 */
static const uint8_t m_memmax[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x02, 0x0b, 0x01, 0x03,
    0x65, 0x6e, 0x76, 0x01, 0x6d, 0x02, 0x01, 0x01, 0x02,
};

/*
 * (module (memory 10))
 */
static const uint8_t m_mem10[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x03, 0x01, 0x00,
    0x0a,
};

/*
 * (module (table 100 funcref))
 */
static const uint8_t m_tab100[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x04, 0x04, 0x01, 0x70,
    0x00, 0x64,
};

/*
 * (module
 *   (memory (export "mem") 1 3)
 *   (data (i32.const 0) "hello")
 *   (data (i32.const 65530) "world!")
 *   (data "passive"))
 */
static const uint8_t m_data[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x04, 0x01, 0x01,
    0x01, 0x03, 0x07, 0x07, 0x01, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x0b,
    0x21, 0x03, 0x00, 0x41, 0x00, 0x0b, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f,
    0x00, 0x41, 0xfa, 0xff, 0x03, 0x0b, 0x06, 0x77, 0x6f, 0x72, 0x6c, 0x64,
    0x21, 0x01, 0x07, 0x70, 0x61, 0x73, 0x73, 0x69, 0x76, 0x65,
};

/*
 * (module
 *   (import "env" "off" (global i32))
 *   (import "env" "m" (memory 1))
 *   (data (global.get 0) "abc")
 *   (data (i32.const 65534) "xyz"))
 */
static const uint8_t m_dataoob[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x02, 0x15, 0x02, 0x03,
    0x65, 0x6e, 0x76, 0x03, 0x6f, 0x66, 0x66, 0x03, 0x7f, 0x00, 0x03, 0x65,
    0x6e, 0x76, 0x01, 0x6d, 0x02, 0x00, 0x01, 0x0b, 0x13, 0x02, 0x00, 0x23,
    0x00, 0x0b, 0x03, 0x61, 0x62, 0x63, 0x00, 0x41, 0xfe, 0xff, 0x03, 0x0b,
    0x03, 0x78, 0x79, 0x7a,
};

/*
 * (module
 *   (import "env" "t" (table 2 funcref))
 *   (import "env" "u" (table 2 funcref))
 *   (func $a (result i32) i32.const 42)
 *   (func $b (result i32) i32.const 43)
 *   (elem (table 0) (i32.const 0) func $a $b)
 *   (elem (table 1) (i32.const 0) func $b)
 *   (elem (table 0) (i32.const 1) func $a $b))
 */
static const uint8_t m_elemoob[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60,
    0x00, 0x01, 0x7f, 0x02, 0x15, 0x02, 0x03, 0x65, 0x6e, 0x76, 0x01, 0x74,
    0x01, 0x70, 0x00, 0x02, 0x03, 0x65, 0x6e, 0x76, 0x01, 0x75, 0x01, 0x70,
    0x00, 0x02, 0x03, 0x03, 0x02, 0x00, 0x00, 0x09, 0x17, 0x03, 0x00, 0x41,
    0x00, 0x0b, 0x02, 0x00, 0x01, 0x02, 0x01, 0x41, 0x00, 0x0b, 0x00, 0x01,
    0x01, 0x00, 0x41, 0x01, 0x0b, 0x02, 0x00, 0x01, 0x0a, 0x0b, 0x02, 0x04,
    0x00, 0x41, 0x2a, 0x0b, 0x04, 0x00, 0x41, 0x2b, 0x0b,
};

/*
 * (module
 *   (table (export "t") 3 funcref)
 *   (func $a (export "a")) (func $b)
 *   (elem (i32.const 1) $a $b)
 *   (elem declare func $b)
 *   (global (export "gf") funcref (ref.func $a)))
 */
static const uint8_t m_elem[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60,
    0x00, 0x00, 0x03, 0x03, 0x02, 0x00, 0x00, 0x04, 0x04, 0x01, 0x70, 0x00,
    0x03, 0x06, 0x06, 0x01, 0x70, 0x00, 0xd2, 0x00, 0x0b, 0x07, 0x0e, 0x03,
    0x01, 0x74, 0x01, 0x00, 0x01, 0x61, 0x00, 0x00, 0x02, 0x67, 0x66, 0x03,
    0x00, 0x09, 0x0c, 0x02, 0x00, 0x41, 0x01, 0x0b, 0x02, 0x00, 0x01, 0x03,
    0x00, 0x01, 0x01, 0x0a, 0x07, 0x02, 0x02, 0x00, 0x0b, 0x02, 0x00, 0x0b,
};

/*
 * (module
 *   (type (func (param i32))) (type (func)) (type (func (param i32)))
 *   (func (export "x") (type 2))
 *   (func (export "y") (type 0))
 *   (func $s (type 1))
 *   (start $s))
 */
static const uint8_t m_types[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0c, 0x03, 0x60,
    0x01, 0x7f, 0x00, 0x60, 0x00, 0x00, 0x60, 0x01, 0x7f, 0x00, 0x03, 0x04,
    0x03, 0x02, 0x00, 0x01, 0x07, 0x09, 0x02, 0x01, 0x78, 0x00, 0x00, 0x01,
    0x79, 0x00, 0x01, 0x08, 0x01, 0x02, 0x0a, 0x0a, 0x03, 0x02, 0x00, 0x0b,
    0x02, 0x00, 0x0b, 0x02, 0x00, 0x0b,
};

/* ---- helpers ------------------------------------------------------------- */

#define LOAD(bytes) load(bytes, sizeof bytes)

static sos_wasm_module *load(const uint8_t *bytes, size_t len) {
  char err[256];
  sos_wasm_module *m = NULL;
  int rc = sos_wasm_module_new(bytes, len, &m, err, sizeof err);
  if (rc) fprintf(stderr, "  module_new: %s: %s\n", sos_err_name(rc), err);
  return m;
}

static bool starts_with(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool name_is(struct sos_wasm_name n, const char *s) {
  return n.len == strlen(s) && memcmp(n.p, s, n.len) == 0;
}

static int host_nop(struct sos_wasm_hostcall *call) {
  (void)call;
  return SOS_WASM_HOST_OK;
}

static const uint8_t i32_i64[] = {SOS_WASM_I32, SOS_WASM_I64};
static const uint8_t f32_only[] = {SOS_WASM_F32};

/* Host objects matching m_impexp's imports, in import order. */
struct env {
  sos_wasm_func *f;
  sos_wasm_table *t;
  sos_wasm_memory *m;
  sos_wasm_global *g;
  struct sos_wasm_extern x[4];
};

static void env_link(struct env *e) {
  e->x[0].kind = SOS_WASM_EXTERN_FUNC;
  e->x[0].u.func = e->f;
  e->x[1].kind = SOS_WASM_EXTERN_TABLE;
  e->x[1].u.table = e->t;
  e->x[2].kind = SOS_WASM_EXTERN_MEMORY;
  e->x[2].u.memory = e->m;
  e->x[3].kind = SOS_WASM_EXTERN_GLOBAL;
  e->x[3].u.global = e->g;
}

static void env_make(struct env *e) {
  struct sos_wasm_functype ft = {2, 1, i32_i64, f32_only};
  e->f = sos_wasm_func_new(&ft, host_nop, NULL);
  e->t = sos_wasm_table_new(SOS_WASM_FUNCREF, 1, true, 10);
  e->m = sos_wasm_memory_new(1, false, 0);
  e->g = sos_wasm_global_new(SOS_WASM_I32, true, 7);
  env_link(e);
}

static void env_free(struct env *e) {
  sos_wasm_func_free(e->f);
  sos_wasm_table_free(e->t);
  sos_wasm_memory_free(e->m);
  sos_wasm_global_free(e->g);
}

/* Instantiates m with imports; returns the code and leaves err filled. */
static int inst(sos_wasm_module *m, const struct sos_wasm_limits *lim,
                const struct sos_wasm_extern *x, uint32_t n,
                sos_wasm_instance **out, char *err) {
  return sos_wasm_instance_new(m, lim, x, n, out, err, 256);
}

/* ---- descriptions -------------------------------------------------------- */

TEST(runtime_import_descriptions) {
  sos_wasm_module *m = LOAD(m_impexp);
  REQUIRE(m);
  CHECK_EQ(sos_wasm_module_import_count(m), 4);
  struct sos_wasm_name mod, name;
  struct sos_wasm_externtype t;
  sos_wasm_module_import(m, 0, &mod, &name, &t);
  CHECK(name_is(mod, "env") && name_is(name, "f"));
  CHECK_EQ(t.kind, SOS_WASM_EXTERN_FUNC);
  CHECK_EQ(t.u.func.nparams, 2);
  CHECK_EQ(t.u.func.nresults, 1);
  CHECK(memcmp(t.u.func.params, i32_i64, 2) == 0);
  CHECK_EQ(t.u.func.results[0], SOS_WASM_F32);
  sos_wasm_module_import(m, 1, &mod, &name, &t);
  CHECK(name_is(name, "t"));
  CHECK_EQ(t.kind, SOS_WASM_EXTERN_TABLE);
  CHECK_EQ(t.u.table.elem, SOS_WASM_FUNCREF);
  CHECK(t.u.table.has_max);
  CHECK_EQ(t.u.table.min, 1);
  CHECK_EQ(t.u.table.max, 10);
  sos_wasm_module_import(m, 2, &mod, &name, &t);
  CHECK(name_is(name, "m"));
  CHECK_EQ(t.kind, SOS_WASM_EXTERN_MEMORY);
  CHECK_EQ(t.u.memory.min, 1);
  CHECK(!t.u.memory.has_max);
  sos_wasm_module_import(m, 3, &mod, &name, &t);
  CHECK(name_is(name, "g"));
  CHECK_EQ(t.kind, SOS_WASM_EXTERN_GLOBAL);
  CHECK_EQ(t.u.global.type, SOS_WASM_I32);
  CHECK(t.u.global.mut);
  sos_wasm_module_free(m);
}

TEST(runtime_export_descriptions) {
  sos_wasm_module *m = LOAD(m_impexp);
  REQUIRE(m);
  REQUIRE(sos_wasm_module_export_count(m) == 6);
  static const char *names[] = {"add", "h", "tab", "mem", "f", "g"};
  static const uint8_t kinds[] = {0, 3, 1, 2, 0, 3};
  struct sos_wasm_name name;
  struct sos_wasm_externtype t;
  for (uint32_t i = 0; i < 6; i++) {
    sos_wasm_module_export(m, i, &name, &t);
    CHECK(name_is(name, names[i]));
    CHECK_EQ(t.kind, kinds[i]);
  }
  sos_wasm_module_export(m, 0, NULL, &t);
  CHECK_EQ(t.u.func.nparams, 2);
  CHECK_EQ(t.u.func.nresults, 1);
  CHECK_EQ(t.u.func.params[1], SOS_WASM_I32);
  CHECK_EQ(t.u.func.results[0], SOS_WASM_I32);
  sos_wasm_module_export(m, 1, NULL, &t);
  CHECK_EQ(t.u.global.type, SOS_WASM_I64);
  CHECK(!t.u.global.mut);
  sos_wasm_module_export(m, 2, NULL, &t);
  CHECK_EQ(t.u.table.max, 10);
  sos_wasm_module_export(m, 4, NULL, &t); /* a re-exported import */
  CHECK_EQ(t.u.func.nparams, 2);
  CHECK_EQ(t.u.func.results[0], SOS_WASM_F32);
  sos_wasm_module_free(m);
}

TEST(runtime_module_new_rejects_bad_version) {
  static const uint8_t bad[] = {0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00};
  sos_wasm_module *m = (sos_wasm_module *)1;
  char err[256];
  CHECK_EQ(sos_wasm_module_new(bad, sizeof bad, &m, err, sizeof err),
           SOS_EMALFORMED);
  CHECK(m == NULL);
  CHECK(err[0] != 0);
}

/* ---- linking ------------------------------------------------------------- */

TEST(runtime_instance_links_host_imports) {
  struct env e;
  env_make(&e);
  sos_wasm_module *m = LOAD(m_impexp);
  REQUIRE(m);
  sos_wasm_instance *in = NULL;
  char err[256];
  REQUIRE(inst(m, NULL, e.x, 4, &in, err) == 0);
  struct sos_wasm_extern x;
  CHECK(sos_wasm_instance_export(in, "f", 1, &x) == 0 && x.u.func == e.f);
  CHECK(sos_wasm_instance_export(in, "g", 1, &x) == 0 && x.u.global == e.g);
  CHECK(sos_wasm_instance_export(in, "tab", 3, &x) == 0 && x.u.table == e.t);
  CHECK(sos_wasm_instance_export(in, "mem", 3, &x) == 0 && x.u.memory == e.m);
  CHECK(sos_wasm_instance_memory(in) == e.m);
  CHECK_EQ(sos_wasm_instance_export(in, "ad", 2, &x), SOS_ENOENT);
  CHECK_EQ(sos_wasm_instance_export(in, "addx", 4, &x), SOS_ENOENT);
  REQUIRE(sos_wasm_instance_export(in, "add", 3, &x) == 0);
  CHECK_EQ(x.kind, SOS_WASM_EXTERN_FUNC);
  CHECK(x.u.func->inst == in && x.u.func->code != NULL);
  CHECK_EQ(sos_wasm_func_type(x.u.func)->nparams, 2);
  REQUIRE(sos_wasm_instance_export(in, "h", 1, &x) == 0);
  CHECK_EQ(sos_wasm_global_get(x.u.global), (uint64_t)-5);
  CHECK_EQ(sos_wasm_global_type(x.u.global), SOS_WASM_I64);
  CHECK(sos_wasm_instance_start(in) == NULL);
  sos_wasm_instance_free(in);
  sos_wasm_module_free(m);
  env_free(&e);
}

TEST(runtime_link_missing_import) {
  struct env e;
  env_make(&e);
  sos_wasm_module *m = LOAD(m_impexp);
  REQUIRE(m);
  sos_wasm_instance *in = NULL;
  char err[256];
  CHECK_EQ(inst(m, NULL, e.x, 3, &in, err), SOS_ELINK);
  CHECK(starts_with(err, "unknown import"));
  CHECK(strstr(err, "\"env\".\"g\"") != NULL);
  CHECK(in == NULL);
  CHECK_EQ(inst(m, NULL, NULL, 0, &in, err), SOS_ELINK);
  CHECK(starts_with(err, "unknown import"));
  e.x[1].u.table = NULL;
  CHECK_EQ(inst(m, NULL, e.x, 4, &in, err), SOS_ELINK);
  CHECK(starts_with(err, "unknown import"));
  CHECK(in == NULL);
  sos_wasm_module_free(m);
  env_free(&e);
}

/* Expects instantiating m_impexp with e's imports to fail linking. */
static void expect_incompatible(sos_wasm_module *m, struct env *e) {
  sos_wasm_instance *in = NULL;
  char err[256];
  env_link(e);
  CHECK_EQ(inst(m, NULL, e->x, 4, &in, err), SOS_ELINK);
  CHECK(starts_with(err, "incompatible import type"));
  CHECK(in == NULL);
}

TEST(runtime_link_wrong_kind_and_func_type) {
  struct env e;
  env_make(&e);
  sos_wasm_module *m = LOAD(m_impexp);
  REQUIRE(m);
  env_link(&e);
  e.x[1].kind = SOS_WASM_EXTERN_MEMORY; /* a memory where a table goes */
  e.x[1].u.memory = e.m;
  sos_wasm_instance *in = NULL;
  char err[256];
  CHECK_EQ(inst(m, NULL, e.x, 4, &in, err), SOS_ELINK);
  CHECK(starts_with(err, "incompatible import type"));
  sos_wasm_func *good = e.f;
  struct sos_wasm_functype ft = {1, 1, i32_i64, f32_only}; /* (i32) -> f32 */
  e.f = sos_wasm_func_new(&ft, host_nop, NULL);
  expect_incompatible(m, &e);
  sos_wasm_func_free(e.f);
  struct sos_wasm_functype ft2 = {2, 0, i32_i64, NULL}; /* no result */
  e.f = sos_wasm_func_new(&ft2, host_nop, NULL);
  expect_incompatible(m, &e);
  sos_wasm_func_free(e.f);
  e.f = good;
  sos_wasm_module_free(m);
  env_free(&e);
}

/* Replaces e's table and checks whether m_impexp links with it. */
static void try_table(sos_wasm_module *m, struct env *e, uint8_t elem,
                      uint32_t min, bool has_max, uint32_t max, bool ok) {
  sos_wasm_table_free(e->t);
  e->t = sos_wasm_table_new(elem, min, has_max, max);
  REQUIRE(e->t);
  if (!ok) {
    expect_incompatible(m, e);
    return;
  }
  sos_wasm_instance *in = NULL;
  char err[256];
  env_link(e);
  CHECK_EQ(inst(m, NULL, e->x, 4, &in, err), 0);
  sos_wasm_instance_free(in);
}

TEST(runtime_link_table_limits) {
  struct env e;
  env_make(&e);
  sos_wasm_module *m = LOAD(m_impexp);
  REQUIRE(m); /* imports (table 1 10 funcref) */
  try_table(m, &e, SOS_WASM_FUNCREF, 1, false, 0, false);  /* no max */
  try_table(m, &e, SOS_WASM_FUNCREF, 1, true, 11, false);  /* max too big */
  try_table(m, &e, SOS_WASM_FUNCREF, 0, true, 10, false);  /* min too small */
  try_table(m, &e, SOS_WASM_EXTERNREF, 1, true, 10, false); /* elem type */
  try_table(m, &e, SOS_WASM_FUNCREF, 2, true, 5, true);
  try_table(m, &e, SOS_WASM_FUNCREF, 10, true, 10, true);
  /* A table grown past the declared minimum counts by its current size. */
  try_table(m, &e, SOS_WASM_FUNCREF, 0, true, 10, false);
  CHECK_EQ(sos__table_grow(e.t, 1, 0), 0);
  sos_wasm_instance *in = NULL;
  char err[256];
  env_link(&e);
  CHECK_EQ(inst(m, NULL, e.x, 4, &in, err), 0);
  sos_wasm_instance_free(in);
  sos_wasm_module_free(m);
  env_free(&e);
}

/* Instantiates m_memmax (memory 1 2) with mem; checks the outcome. */
static void try_memory(sos_wasm_module *m, sos_wasm_memory *mem, int want) {
  struct sos_wasm_extern x = {.kind = SOS_WASM_EXTERN_MEMORY};
  x.u.memory = mem;
  sos_wasm_instance *in = NULL;
  char err[256];
  CHECK_EQ(inst(m, NULL, &x, 1, &in, err), want);
  if (want) CHECK(starts_with(err, "incompatible import type"));
  sos_wasm_instance_free(in);
  sos_wasm_memory_free(mem);
}

TEST(runtime_link_memory_limits) {
  sos_wasm_module *m = LOAD(m_memmax);
  REQUIRE(m);
  try_memory(m, sos_wasm_memory_new(1, false, 0), SOS_ELINK);
  try_memory(m, sos_wasm_memory_new(1, true, 3), SOS_ELINK);
  try_memory(m, sos_wasm_memory_new(0, true, 2), SOS_ELINK);
  try_memory(m, sos_wasm_memory_new(1, true, 2), 0);
  try_memory(m, sos_wasm_memory_new(2, true, 2), 0);
  try_memory(m, sos_wasm_memory_new(1, true, 1), 0);
  sos_wasm_memory *grown = sos_wasm_memory_new(0, true, 2);
  REQUIRE(grown);
  CHECK_EQ(sos__memory_grow(grown, 1), 0);
  try_memory(m, grown, 0);
  sos_wasm_module_free(m);
}

TEST(runtime_link_global_types) {
  struct env e;
  env_make(&e);
  sos_wasm_module *m = LOAD(m_impexp);
  REQUIRE(m); /* imports (global (mut i32)) */
  sos_wasm_global *good = e.g;
  e.g = sos_wasm_global_new(SOS_WASM_I32, false, 0);
  expect_incompatible(m, &e);
  sos_wasm_global_free(e.g);
  e.g = sos_wasm_global_new(SOS_WASM_I64, true, 0);
  expect_incompatible(m, &e);
  sos_wasm_global_free(e.g);
  e.g = good;
  sos_wasm_module_free(m);
  env_free(&e);
}

/* ---- limits -------------------------------------------------------------- */

TEST(runtime_memory_minimum_over_limit) {
  sos_wasm_module *m = LOAD(m_mem10);
  REQUIRE(m);
  struct sos_wasm_limits lim = {.max_memory = 5 * SOS__PAGE};
  sos_wasm_instance *in = NULL;
  char err[256];
  CHECK_EQ(inst(m, &lim, NULL, 0, &in, err), SOS_ELIMIT);
  CHECK(in == NULL);
  CHECK(strstr(err, "memory 0") != NULL);
  lim.max_memory = 10 * SOS__PAGE;
  REQUIRE(inst(m, &lim, NULL, 0, &in, err) == 0);
  sos_wasm_memory *mem = sos_wasm_instance_memory(in);
  CHECK_EQ(sos_wasm_memory_size(mem), 10 * SOS__PAGE);
  CHECK_EQ(sos__memory_grow(mem, 1), -1); /* the limit is the maximum */
  CHECK_EQ(sos__memory_grow(mem, 0), 10);
  sos_wasm_instance_free(in);
  sos_wasm_module_free(m);
}

TEST(runtime_table_minimum_over_limit) {
  sos_wasm_module *m = LOAD(m_tab100);
  REQUIRE(m);
  struct sos_wasm_limits lim = {.max_table = 50};
  sos_wasm_instance *in = NULL;
  char err[256];
  CHECK_EQ(inst(m, &lim, NULL, 0, &in, err), SOS_ELIMIT);
  CHECK(in == NULL);
  lim.max_table = 100;
  REQUIRE(inst(m, &lim, NULL, 0, &in, err) == 0);
  CHECK_EQ(sos__table_grow(in->tables[0], 1, 0), -1);
  CHECK_EQ(sos_wasm_table_size(in->tables[0]), 100);
  sos_wasm_instance_free(in);
  sos_wasm_module_free(m);
}

/* ---- segments ------------------------------------------------------------ */

TEST(runtime_data_segments_written) {
  sos_wasm_module *m = LOAD(m_data);
  REQUIRE(m);
  sos_wasm_instance *in = NULL;
  char err[256];
  REQUIRE(inst(m, NULL, NULL, 0, &in, err) == 0);
  const char *p = sos_wasm_mem(in, 0, 5);
  CHECK(p && memcmp(p, "hello", 5) == 0);
  p = sos_wasm_mem(in, 65530, 6);
  CHECK(p && memcmp(p, "world!", 6) == 0);
  p = sos_wasm_mem(in, 5, 1);
  CHECK(p && *p == 0);
  CHECK(in->data_dropped[0] && in->data_dropped[1]);
  CHECK(!in->data_dropped[2]); /* passive: kept for memory.init */
  sos_wasm_instance_free(in);
  sos_wasm_module_free(m);
}

TEST(runtime_data_segment_oob_keeps_earlier_writes) {
  sos_wasm_module *m = LOAD(m_dataoob);
  REQUIRE(m);
  sos_wasm_global *off = sos_wasm_global_new(SOS_WASM_I32, false, 100);
  sos_wasm_memory *mem = sos_wasm_memory_new(1, false, 0);
  REQUIRE(off && mem);
  struct sos_wasm_extern x[2] = {{.kind = SOS_WASM_EXTERN_GLOBAL},
                                 {.kind = SOS_WASM_EXTERN_MEMORY}};
  x[0].u.global = off;
  x[1].u.memory = mem;
  sos_wasm_instance *in = NULL;
  char err[256];
  CHECK_EQ(inst(m, NULL, x, 2, &in, err), SOS_ETRAP);
  CHECK(starts_with(err, "out of bounds memory access"));
  CHECK(in == NULL);
  CHECK(memcmp(mem->data + 100, "abc", 3) == 0);
  CHECK(mem->data[65534] == 0 && mem->data[65535] == 0);
  /* With a second page the same module fits. */
  CHECK_EQ(sos__memory_grow(mem, 1), 1);
  REQUIRE(inst(m, NULL, x, 2, &in, err) == 0);
  CHECK(memcmp(mem->data + 65534, "xyz", 3) == 0);
  sos_wasm_instance_free(in);
  sos_wasm_module_free(m);
  sos_wasm_memory_free(mem);
  sos_wasm_global_free(off);
}

/* Calls the function in cell i of table t and returns its i32 result. */
static uint64_t call_cell(sos_wasm_table *t, uint32_t i) {
  sos_wasm_func *f = (sos_wasm_func *)(uintptr_t)t->elems[i];
  sos_wasm_val r = 0;
  struct sos_wasm_trap trap;
  if (!f || sos_wasm_call(f->inst, f, NULL, 0, &r, 1, &trap) != 0) return 0;
  return r;
}

/* Instantiates m_elemoob with tables t and u; returns the code. */
static int inst_elemoob(sos_wasm_module *m, sos_wasm_table *t,
                        sos_wasm_table *u, char *err) {
  struct sos_wasm_extern x[2] = {{.kind = SOS_WASM_EXTERN_TABLE},
                                 {.kind = SOS_WASM_EXTERN_TABLE}};
  x[0].u.table = t;
  x[1].u.table = u;
  sos_wasm_instance *in = NULL;
  int rc = inst(m, NULL, x, 2, &in, err);
  CHECK(rc != 0 || in != NULL);
  sos_wasm_instance_free(in);
  return rc;
}

/* The failed instance's functions stay callable from the imported tables
 * until the last of them is freed (linking.wast, "Unlike in the v1
 * spec"); the module lives on with them. */
TEST(runtime_elem_segment_oob_keeps_earlier_writes) {
  sos_wasm_module *m = LOAD(m_elemoob);
  REQUIRE(m);
  sos_wasm_table *t = sos_wasm_table_new(SOS_WASM_FUNCREF, 2, false, 0);
  sos_wasm_table *u = sos_wasm_table_new(SOS_WASM_FUNCREF, 2, false, 0);
  REQUIRE(t && u);
  char err[256];
  CHECK_EQ(inst_elemoob(m, t, u, err), SOS_ETRAP);
  CHECK(starts_with(err, "out of bounds table access"));
  sos_wasm_module_free(m); /* the kept instance holds a reference */
  CHECK_EQ(call_cell(t, 0), 42); /* the first segment stays */
  CHECK_EQ(call_cell(t, 1), 43);
  CHECK_EQ(call_cell(u, 0), 43);
  CHECK_EQ(u->elems[1], 0);
  sos_wasm_table_free(t);
  CHECK_EQ(call_cell(u, 0), 43); /* u still keeps the instance */
  sos_wasm_table_free(u);          /* frees it; LeakSanitizer checks */
}

TEST(runtime_elem_segment_oob_same_table_twice) {
  sos_wasm_module *m = LOAD(m_elemoob);
  REQUIRE(m);
  sos_wasm_table *t = sos_wasm_table_new(SOS_WASM_FUNCREF, 2, false, 0);
  REQUIRE(t);
  char err[256];
  CHECK_EQ(inst_elemoob(m, t, t, err), SOS_ETRAP);
  CHECK_EQ(call_cell(t, 0), 43); /* the second segment overwrote cell 0 */
  CHECK_EQ(call_cell(t, 1), 43);
  sos_wasm_module_free(m);
  sos_wasm_table_free(t); /* frees the instance once */
}

TEST(runtime_elem_segments_fit_larger_tables) {
  sos_wasm_module *m = LOAD(m_elemoob);
  REQUIRE(m);
  sos_wasm_table *t = sos_wasm_table_new(SOS_WASM_FUNCREF, 3, false, 0);
  sos_wasm_table *u = sos_wasm_table_new(SOS_WASM_FUNCREF, 2, false, 0);
  REQUIRE(t && u);
  char err[256];
  CHECK_EQ(inst_elemoob(m, t, u, err), 0);
  sos_wasm_module_free(m);
  sos_wasm_table_free(t);
  sos_wasm_table_free(u);
}

TEST(runtime_elem_segments_and_ref_func) {
  sos_wasm_module *m = LOAD(m_elem);
  REQUIRE(m);
  sos_wasm_instance *in = NULL;
  char err[256];
  REQUIRE(inst(m, NULL, NULL, 0, &in, err) == 0);
  struct sos_wasm_extern a, t, gf;
  REQUIRE(sos_wasm_instance_export(in, "a", 1, &a) == 0);
  REQUIRE(sos_wasm_instance_export(in, "t", 1, &t) == 0);
  REQUIRE(sos_wasm_instance_export(in, "gf", 2, &gf) == 0);
  CHECK_EQ(sos_wasm_table_size(t.u.table), 3);
  CHECK_EQ(t.u.table->elems[0], 0);
  CHECK(t.u.table->elems[1] == (uint64_t)(uintptr_t)a.u.func);
  CHECK(t.u.table->elems[2] == (uint64_t)(uintptr_t)in->funcs[1]);
  CHECK(sos_wasm_global_get(gf.u.global) == (uint64_t)(uintptr_t)a.u.func);
  CHECK(in->elem_dropped[0] && in->elem_dropped[1]); /* active, declarative */
  sos_wasm_instance_free(in);
  sos_wasm_module_free(m);
}

/* ---- types and start --------------------------------------------------- */

TEST(runtime_types_canonicalised) {
  sos_wasm_module *m = LOAD(m_types);
  REQUIRE(m);
  CHECK_EQ(m->d.types[0].canon, 0);
  CHECK_EQ(m->d.types[1].canon, 1);
  CHECK_EQ(m->d.types[2].canon, 0);
  CHECK(sos__functype_eq(&m->d.types[0], &m->d.types[2]));
  CHECK(!sos__functype_eq(&m->d.types[0], &m->d.types[1]));
  sos_wasm_instance *in = NULL;
  char err[256];
  REQUIRE(inst(m, NULL, NULL, 0, &in, err) == 0);
  struct sos_wasm_extern x, y;
  REQUIRE(sos_wasm_instance_export(in, "x", 1, &x) == 0);
  REQUIRE(sos_wasm_instance_export(in, "y", 1, &y) == 0);
  CHECK(x.u.func->sig == y.u.func->sig);
  CHECK(x.u.func->sig == &m->d.types[0]);
  CHECK(sos_wasm_instance_start(in) == in->funcs[2]);
  sos_wasm_instance_free(in);
  sos_wasm_module_free(m);
}

TEST(runtime_module_outlives_creator_reference) {
  sos_wasm_module *m = LOAD(m_types);
  REQUIRE(m);
  sos_wasm_instance *a = NULL, *b = NULL;
  char err[256];
  REQUIRE(inst(m, NULL, NULL, 0, &a, err) == 0);
  REQUIRE(inst(m, NULL, NULL, 0, &b, err) == 0);
  sos_wasm_module_free(m); /* the instances keep it alive */
  struct sos_wasm_extern x;
  CHECK(sos_wasm_instance_export(a, "x", 1, &x) == 0);
  sos_wasm_instance_free(a);
  CHECK(sos_wasm_instance_export(b, "y", 1, &x) == 0);
  sos_wasm_instance_free(b);
}

TEST(runtime_user_pointer) {
  sos_wasm_module *m = LOAD(m_types);
  REQUIRE(m);
  sos_wasm_instance *in = NULL;
  char err[256];
  REQUIRE(inst(m, NULL, NULL, 0, &in, err) == 0);
  CHECK(sos_wasm_instance_user(in) == NULL);
  int cookie;
  sos_wasm_instance_set_user(in, &cookie);
  CHECK(sos_wasm_instance_user(in) == &cookie);
  sos_wasm_instance_free(in);
  sos_wasm_module_free(m);
}

/* ---- growth -------------------------------------------------------------- */

TEST(runtime_memory_grow_to_declared_max) {
  sos_wasm_module *m = LOAD(m_data); /* (memory 1 3) */
  REQUIRE(m);
  sos_wasm_instance *in = NULL;
  char err[256];
  REQUIRE(inst(m, NULL, NULL, 0, &in, err) == 0);
  sos_wasm_memory *mem = sos_wasm_instance_memory(in);
  REQUIRE(mem);
  CHECK(sos_wasm_mem(in, SOS__PAGE, 1) == NULL);
  CHECK_EQ(sos__memory_grow(mem, 1), 1);
  CHECK_EQ(sos_wasm_memory_size(mem), 2 * SOS__PAGE);
  uint8_t *p = sos_wasm_mem(in, 2 * SOS__PAGE - 1, 1);
  REQUIRE(p);
  CHECK_EQ(*p, 0);
  *p = 42; /* the new page is writable */
  CHECK_EQ(sos__memory_grow(mem, 2), -1);
  CHECK_EQ(sos__memory_grow(mem, 1), 2);
  CHECK_EQ(sos__memory_grow(mem, 1), -1);
  CHECK_EQ(sos__memory_grow(mem, 0), 3);
  CHECK_EQ(sos__memory_grow(mem, UINT32_MAX), -1);
  CHECK_EQ(sos_wasm_memory_size(mem), 3 * SOS__PAGE);
  sos_wasm_instance_free(in);
  sos_wasm_module_free(m);
}

TEST(runtime_memory_grow_capped_by_limit) {
  sos_wasm_module *m = LOAD(m_data); /* (memory 1 3) */
  REQUIRE(m);
  struct sos_wasm_limits lim = {.max_memory = 2 * SOS__PAGE + 100};
  sos_wasm_instance *in = NULL;
  char err[256];
  REQUIRE(inst(m, &lim, NULL, 0, &in, err) == 0);
  sos_wasm_memory *mem = sos_wasm_instance_memory(in);
  CHECK_EQ(sos__memory_grow(mem, 1), 1);
  CHECK_EQ(sos__memory_grow(mem, 1), -1);
  CHECK_EQ(sos_wasm_memory_size(mem), 2 * SOS__PAGE);
  sos_wasm_instance_free(in);
  sos_wasm_module_free(m);
}

TEST(runtime_host_memory_grow) {
  CHECK(sos_wasm_memory_new(2, true, 1) == NULL);
  CHECK(sos_wasm_memory_new(SOS__MAX_PAGES + 1, false, 0) == NULL);
  sos_wasm_memory *z = sos_wasm_memory_new(0, true, 0);
  REQUIRE(z);
  CHECK(z->data != NULL);
  CHECK_EQ(sos_wasm_memory_size(z), 0);
  CHECK_EQ(sos__memory_grow(z, 0), 0);
  CHECK_EQ(sos__memory_grow(z, 1), -1);
  sos_wasm_memory_free(z);
  sos_wasm_memory *mem = sos_wasm_memory_new(0, false, 0);
  REQUIRE(mem);
  CHECK_EQ(sos__memory_grow(mem, 4), 0);
  CHECK_EQ(sos_wasm_memory_size(mem), 4 * SOS__PAGE);
  mem->data[4 * SOS__PAGE - 1] = 1;
  CHECK_EQ(sos__memory_grow(mem, SOS__MAX_PAGES - 4), 4);
  CHECK_EQ(sos__memory_grow(mem, 1), -1);
  CHECK_EQ(sos_wasm_memory_size(mem), (uint64_t)SOS__MAX_PAGES * SOS__PAGE);
  sos_wasm_memory_free(mem);
}

TEST(runtime_host_table_grow) {
  CHECK(sos_wasm_table_new(SOS_WASM_FUNCREF, 3, true, 2) == NULL);
  CHECK(sos_wasm_table_new(SOS_WASM_FUNCREF, 20000000, false, 0) == NULL);
  sos_wasm_table *t = sos_wasm_table_new(SOS_WASM_EXTERNREF, 2, true, 4);
  REQUIRE(t);
  CHECK_EQ(t->elems[0], 0);
  CHECK_EQ(sos__table_grow(t, 1, 7), 2);
  CHECK_EQ(t->elems[2], 7);
  CHECK_EQ(sos__table_grow(t, 2, 0), -1);
  CHECK_EQ(sos__table_grow(t, 0, 0), 3);
  CHECK_EQ(sos__table_grow(t, 1, 9), 3);
  CHECK_EQ(sos__table_grow(t, UINT32_MAX, 0), -1);
  CHECK_EQ(sos_wasm_table_size(t), 4);
  CHECK_EQ(t->elems[3], 9);
  sos_wasm_table_free(t);
  sos_wasm_table *z = sos_wasm_table_new(SOS_WASM_FUNCREF, 0, false, 0);
  REQUIRE(z);
  CHECK_EQ(sos__table_grow(z, 0, 0), 0);
  CHECK_EQ(sos__table_grow(z, 5, 0), 0);
  CHECK_EQ(sos_wasm_table_size(z), 5);
  sos_wasm_table_free(z);
}

TEST(runtime_host_objects) {
  uint8_t params[2] = {SOS_WASM_I32, SOS_WASM_F64};
  uint8_t results[1] = {SOS_WASM_EXTERNREF};
  struct sos_wasm_functype ft = {2, 1, params, results};
  int env;
  sos_wasm_func *f = sos_wasm_func_new(&ft, host_nop, &env);
  REQUIRE(f);
  params[0] = results[0] = 0; /* the type was copied */
  const struct sos_wasm_functype *t = sos_wasm_func_type(f);
  CHECK_EQ(t->nparams, 2);
  CHECK_EQ(t->nresults, 1);
  CHECK_EQ(t->params[0], SOS_WASM_I32);
  CHECK_EQ(t->params[1], SOS_WASM_F64);
  CHECK_EQ(t->results[0], SOS_WASM_EXTERNREF);
  CHECK(f->inst == NULL && f->code == NULL && f->env == &env);
  CHECK(f->host == host_nop && f->sig != NULL);
  sos_wasm_func_free(f);
  struct sos_wasm_functype empty = {0, 0, NULL, NULL};
  f = sos_wasm_func_new(&empty, host_nop, NULL);
  REQUIRE(f);
  CHECK_EQ(sos_wasm_func_type(f)->nparams, 0);
  sos_wasm_func_free(f);
  sos_wasm_global *g =
      sos_wasm_global_new(SOS_WASM_F64, true, 0x4000000000000000ull);
  REQUIRE(g);
  CHECK_EQ(sos_wasm_global_get(g), 0x4000000000000000ull);
  CHECK_EQ(sos_wasm_global_type(g), SOS_WASM_F64);
  sos_wasm_global_free(g);
  sos_wasm_func_free(NULL);
  sos_wasm_table_free(NULL);
  sos_wasm_memory_free(NULL);
  sos_wasm_global_free(NULL);
  sos_wasm_instance_free(NULL);
  sos_wasm_module_free(NULL);
}

/* ---- host memory access ------------------------------------------------- */

TEST(runtime_mem_access_bounds) {
  sos_wasm_module *m = LOAD(m_data); /* one page */
  REQUIRE(m);
  sos_wasm_instance *in = NULL;
  char err[256];
  REQUIRE(inst(m, NULL, NULL, 0, &in, err) == 0);
  CHECK(sos_wasm_mem(in, 0, SOS__PAGE) != NULL);
  CHECK(sos_wasm_mem(in, 0, SOS__PAGE + 1) == NULL);
  CHECK(sos_wasm_mem(in, SOS__PAGE - 1, 1) != NULL);
  CHECK(sos_wasm_mem(in, SOS__PAGE - 1, 2) == NULL);
  CHECK(sos_wasm_mem(in, SOS__PAGE, 0) != NULL);
  CHECK(sos_wasm_mem(in, SOS__PAGE + 1, 0) == NULL);
  CHECK(sos_wasm_mem(in, UINT64_MAX, 2) == NULL);
  CHECK(sos_wasm_mem(in, 2, UINT64_MAX) == NULL);
  CHECK(sos_wasm_mem(in, UINT64_MAX, UINT64_MAX) == NULL);
  uint32_t v32;
  uint64_t v64;
  CHECK_EQ(sos_wasm_mem_get32(in, SOS__PAGE - 4, &v32), 0);
  CHECK_EQ(sos_wasm_mem_get32(in, SOS__PAGE - 3, &v32), SOS_ETRAP);
  CHECK_EQ(sos_wasm_mem_get64(in, SOS__PAGE - 8, &v64), 0);
  CHECK_EQ(sos_wasm_mem_get64(in, SOS__PAGE - 7, &v64), SOS_ETRAP);
  CHECK_EQ(sos_wasm_mem_set64(in, SOS__PAGE - 4, 1), SOS_ETRAP);
  CHECK_EQ(sos_wasm_mem_set32(in, SOS__PAGE - 2, 1), SOS_ETRAP);
  CHECK_EQ(sos_wasm_mem_set16(in, SOS__PAGE - 1, 1), SOS_ETRAP);
  CHECK_EQ(sos_wasm_mem_set8(in, SOS__PAGE, 1), SOS_ETRAP);
  CHECK_EQ(sos_wasm_mem_set8(in, UINT64_MAX, 1), SOS_ETRAP);
  CHECK_EQ(sos_wasm_mem_set8(in, SOS__PAGE - 1, 1), 0);
  sos_wasm_instance_free(in);
  sos_wasm_module_free(m);
}

TEST(runtime_mem_access_little_endian) {
  sos_wasm_module *m = LOAD(m_data);
  REQUIRE(m);
  sos_wasm_instance *in = NULL;
  char err[256];
  REQUIRE(inst(m, NULL, NULL, 0, &in, err) == 0);
  static const uint8_t want[] = {0x44, 0x33, 0x22, 0x11, 0x88, 0x77, 0x66,
                                 0x55, 0xbb, 0xaa, 0xcc};
  CHECK_EQ(sos_wasm_mem_set32(in, 100, 0x11223344u), 0);
  CHECK_EQ(sos_wasm_mem_set64(in, 104, 0x1122334455667788ull), 0);
  CHECK_EQ(sos_wasm_mem_set32(in, 104, 0x55667788u), 0); /* low half again */
  CHECK_EQ(sos_wasm_mem_set16(in, 108, 0xaabb), 0);
  CHECK_EQ(sos_wasm_mem_set8(in, 110, 0xcc), 0);
  const uint8_t *p = sos_wasm_mem(in, 100, sizeof want);
  REQUIRE(p);
  CHECK(memcmp(p, want, sizeof want) == 0);
  uint32_t v32 = 0;
  uint64_t v64 = 0;
  CHECK_EQ(sos_wasm_mem_get32(in, 101, &v32), 0);
  CHECK_EQ(v32, 0x88112233u);
  CHECK_EQ(sos_wasm_mem_get64(in, 100, &v64), 0);
  CHECK_EQ(v64, 0x5566778811223344ull);
  CHECK_EQ(sos_wasm_mem_get32(in, 0, &v32), 0);
  CHECK_EQ(v32, 0x6c6c6568u); /* "hell" */
  sos_wasm_instance_free(in);
  sos_wasm_module_free(m);
}

TEST(runtime_no_memory) {
  sos_wasm_module *m = LOAD(m_types);
  REQUIRE(m);
  sos_wasm_instance *in = NULL;
  char err[256];
  REQUIRE(inst(m, NULL, NULL, 0, &in, err) == 0);
  CHECK(sos_wasm_instance_memory(in) == NULL);
  CHECK(sos_wasm_mem(in, 0, 0) == NULL);
  uint32_t v;
  CHECK_EQ(sos_wasm_mem_get32(in, 0, &v), SOS_ETRAP);
  CHECK_EQ(sos_wasm_mem_set8(in, 0, 1), SOS_ETRAP);
  sos_wasm_instance_free(in);
  sos_wasm_module_free(m);
}

/* ---- allocation failure -------------------------------------------------- */

/* Fails the 1st, 2nd, ... allocation of sos_wasm_module_new until it
 * succeeds; each failure must be SOS_ENOMEM and leak nothing. */
static void fail_each_module_new(const uint8_t *bytes, size_t len) {
  for (uint64_t at = 1; at < 100000; at++) {
    sos_wasm_module *m = NULL;
    char err[256];
    sos_alloc_fail_at(at);
    int rc = sos_wasm_module_new(bytes, len, &m, err, sizeof err);
    sos_alloc_fail_at(0);
    if (rc == 0) {
      sos_wasm_module_free(m);
      return;
    }
    CHECK_EQ(rc, SOS_ENOMEM);
    CHECK(m == NULL);
    if (rc != SOS_ENOMEM) return;
  }
  CHECK(!"module_new never succeeded");
}

TEST(runtime_alloc_failure_module_new) {
  fail_each_module_new(m_impexp, sizeof m_impexp);
  fail_each_module_new(m_data, sizeof m_data);
  fail_each_module_new(m_elem, sizeof m_elem);
  fail_each_module_new(m_dataoob, sizeof m_dataoob);
  fail_each_module_new(m_types, sizeof m_types);
}

/* The same for sos_wasm_instance_new of an already made module, which
 * must end with the code want once no allocation fails. */
static void fail_each_instance_new(const uint8_t *bytes, size_t len,
                                   const struct sos_wasm_extern *x,
                                   uint32_t n, int want) {
  sos_wasm_module *m = load(bytes, len);
  REQUIRE(m);
  for (uint64_t at = 1; at < 100000; at++) {
    sos_wasm_instance *in = NULL;
    char err[256];
    sos_alloc_fail_at(at);
    int rc = sos_wasm_instance_new(m, NULL, x, n, &in, err, sizeof err);
    sos_alloc_fail_at(0);
    sos_wasm_instance_free(in);
    if (rc != SOS_ENOMEM) {
      CHECK_EQ(rc, want);
      break;
    }
    CHECK(in == NULL);
  }
  sos_wasm_module_free(m);
}

TEST(runtime_alloc_failure_instance_new) {
  struct env e;
  env_make(&e);
  fail_each_instance_new(m_impexp, sizeof m_impexp, e.x, 4, 0);
  fail_each_instance_new(m_data, sizeof m_data, NULL, 0, 0);
  fail_each_instance_new(m_elem, sizeof m_elem, NULL, 0, 0);
  fail_each_instance_new(m_types, sizeof m_types, NULL, 0, 0);
  env_free(&e);
  sos_wasm_table *t = sos_wasm_table_new(SOS_WASM_FUNCREF, 3, false, 0);
  sos_wasm_table *u = sos_wasm_table_new(SOS_WASM_FUNCREF, 2, false, 0);
  REQUIRE(t && u);
  struct sos_wasm_extern x[2] = {{.kind = SOS_WASM_EXTERN_TABLE},
                                 {.kind = SOS_WASM_EXTERN_TABLE}};
  x[0].u.table = t;
  x[1].u.table = u;
  fail_each_instance_new(m_elemoob, sizeof m_elemoob, x, 2, 0);
  sos_wasm_table_free(t);
  t = sos_wasm_table_new(SOS_WASM_FUNCREF, 2, false, 0); /* too small */
  REQUIRE(t);
  x[0].u.table = t;
  fail_each_instance_new(m_elemoob, sizeof m_elemoob, x, 2, SOS_ETRAP);
  sos_wasm_table_free(t); /* u still keeps the instance */
  CHECK_EQ(u->elems[0] != 0, 1);
  sos_wasm_table_free(u);
}

TEST(runtime_alloc_failure_host_objects) {
  struct sos_wasm_functype ft = {2, 1, i32_i64, f32_only};
  sos_alloc_fail_at(1);
  CHECK(sos_wasm_func_new(&ft, host_nop, NULL) == NULL);
  CHECK(sos_wasm_table_new(SOS_WASM_FUNCREF, 1, false, 0) == NULL);
  CHECK(sos_wasm_memory_new(1, false, 0) == NULL);
  CHECK(sos_wasm_global_new(SOS_WASM_I32, false, 0) == NULL);
  sos_alloc_fail_at(0);
  sos_wasm_table *t = sos_wasm_table_new(SOS_WASM_FUNCREF, 1, false, 0);
  REQUIRE(t);
  sos_alloc_fail_at(2); /* not the struct: the elements */
  CHECK(sos_wasm_table_new(SOS_WASM_FUNCREF, 1, false, 0) == NULL);
  sos_alloc_fail_at(1);
  CHECK_EQ(sos__table_grow(t, 1, 5), -1); /* unchanged on failure */
  sos_alloc_fail_at(0);
  CHECK_EQ(sos_wasm_table_size(t), 1);
  CHECK_EQ(sos__table_grow(t, 1, 5), 1);
  sos_wasm_table_free(t);
}

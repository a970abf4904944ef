/*
 * engine_util.h - helpers shared by the engine unit tests
 * (engine_num_test.c, engine_ops_test.c, engine_run_test.c and
 * engine_host_test.c), which exercise compile.c and interp.c through the
 * public API of sos/wasm.h.
 *
 * A test opens a module from its bytes into a struct fx (one module, one
 * instance), calls exports by name with CALL and TRAP, which record a
 * failure at the caller's line when the call ends the wrong way, and
 * passes values as the raw cells of sos_wasm_val: i32 zero-extended,
 * floats as their bits.  Everything here is static inline so that each
 * test file takes only what it uses.
 */
#ifndef SOS_ENGINE_UTIL_H
#define SOS_ENGINE_UTIL_H

#include "sos/wasm.h"
#include "test.h"

#include <stdbool.h>

/* A module and one instance of it. */
struct fx {
  sos_wasm_module *m;
  sos_wasm_instance *in;
};

/* Loads bytes and instantiates them with lim and imports; NULL (and a
 * failure recorded) when either step fails. */
static inline sos_wasm_instance *fx_open(struct fx *f, const uint8_t *bytes, size_t len,
                                         const struct sos_wasm_limits *lim,
                                         const struct sos_wasm_extern *imports,
                                         uint32_t n) {
  char err[256] = "";
  f->m = NULL;
  f->in = NULL;
  int rc = sos_wasm_module_new(bytes, len, &f->m, err, sizeof err);
  if (rc == 0) rc = sos_wasm_instance_new(f->m, lim, imports, n, &f->in, err, sizeof err);
  if (rc) {
    char msg[400];
    snprintf(msg, sizeof msg, "fx_open: %s: %s", sos_err_name(rc), err);
    sos_test_fail(__FILE__, __LINE__, msg);
  }
  return f->in;
}

static inline void fx_close(struct fx *f) {
  sos_wasm_instance_free(f->in);
  sos_wasm_module_free(f->m);
}

#define OPEN(f, bytes) fx_open(f, bytes, sizeof bytes, NULL, NULL, 0)

/* The exported function called name, or NULL. */
static inline sos_wasm_func *fn(sos_wasm_instance *in, const char *name) {
  struct sos_wasm_extern x;
  if (sos_wasm_instance_export(in, name, strlen(name), &x) != 0) return NULL;
  return x.kind == SOS_WASM_EXTERN_FUNC ? x.u.func : NULL;
}

/* Calls export name; results go to res (cap of them), a trap to *t. */
static inline int invoke(sos_wasm_instance *in, const char *name,
                         const sos_wasm_val *args, uint32_t n, sos_wasm_val *res,
                         uint32_t cap, struct sos_wasm_trap *t) {
  sos_wasm_func *f = fn(in, name);
  if (!f) return SOS_ENOENT;
  return sos_wasm_call(in, f, args, n, res, cap, t);
}

/* Calls export name expecting success; returns its first result. */
static inline sos_wasm_val call_ok(int line, sos_wasm_instance *in, const char *name,
                                   const sos_wasm_val *args, uint32_t n) {
  sos_wasm_val r[8] = {0};
  struct sos_wasm_trap t = {0};
  int rc = invoke(in, name, args, n, r, 8, &t);
  if (rc) {
    char msg[400];
    snprintf(msg, sizeof msg, "call %s: %s %s", name, sos_err_name(rc),
             rc == SOS_ETRAP ? t.message : "");
    sos_test_fail(__FILE__, line, msg);
  }
  return r[0];
}

/* Calls export name expecting a trap; returns its kind (-1: no trap). */
static inline int call_trap(int line, sos_wasm_instance *in, const char *name,
                            const sos_wasm_val *args, uint32_t n) {
  sos_wasm_val r[8];
  struct sos_wasm_trap t = {0};
  int rc = invoke(in, name, args, n, r, 8, &t);
  if (rc != SOS_ETRAP) {
    char msg[300];
    snprintf(msg, sizeof msg, "call %s: expected a trap, got %s", name,
             rc ? sos_err_name(rc) : "success");
    sos_test_fail(__FILE__, line, msg);
    return -1;
  }
  return t.kind;
}

#define NARGS(...) \
  (uint32_t)(sizeof((sos_wasm_val[]){__VA_ARGS__}) / sizeof(sos_wasm_val))
/* CALL(in, "f", a, b): the first result of a call that must succeed. */
#define CALL(in, name, ...) \
  call_ok(__LINE__, in, name, (const sos_wasm_val[]){__VA_ARGS__}, NARGS(__VA_ARGS__))
#define CALL0(in, name) call_ok(__LINE__, in, name, NULL, 0)
/* TRAP(in, "f", a, b): the trap kind of a call that must trap. */
#define TRAP(in, name, ...) \
  call_trap(__LINE__, in, name, (const sos_wasm_val[]){__VA_ARGS__}, NARGS(__VA_ARGS__))
#define TRAP0(in, name) call_trap(__LINE__, in, name, NULL, 0)

/* Argument cells: i32 values zero-extended, floats as their bits. */
#define U32(x) ((sos_wasm_val)(uint32_t)(x))
#define U64(x) ((sos_wasm_val)(uint64_t)(x))

static inline sos_wasm_val f32v(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}
static inline sos_wasm_val f64v(double d) {
  uint64_t u;
  memcpy(&u, &d, 8);
  return u;
}
static inline float vf32(sos_wasm_val v) {
  uint32_t u = (uint32_t)v;
  float f;
  memcpy(&f, &u, 4);
  return f;
}
static inline double vf64(sos_wasm_val v) {
  double d;
  memcpy(&d, &v, 8);
  return d;
}
static inline bool is_nan32(sos_wasm_val v) {
  return (v >> 32) == 0 && (v & 0x7f800000u) == 0x7f800000u && (v & 0x7fffffu) != 0;
}
static inline bool is_nan64(sos_wasm_val v) {
  return (v & 0x7ff0000000000000ull) == 0x7ff0000000000000ull &&
         (v & 0xfffffffffffffull) != 0;
}

static const uint8_t t_i32[] = {SOS_WASM_I32};

/* The extern value of function f, for import lists. */
static inline struct sos_wasm_extern func_import(sos_wasm_func *f) {
  struct sos_wasm_extern x;
  x.kind = SOS_WASM_EXTERN_FUNC;
  x.u.func = f;
  return x;
}

/* The single result of a finished call, or a marker when there is none. */
static inline sos_wasm_val result1(sos_wasm_instance *in) {
  uint32_t n = 0;
  const sos_wasm_val *r = sos_wasm_results(in, &n);
  return r && n == 1 ? r[0] : 0xdeadull << 40;
}

/* Writes v (n bytes, little-endian) at addr of in's memory; the test
 * fails when that is out of bounds. */
static inline void poke(sos_wasm_instance *in, uint32_t addr, uint64_t v, unsigned n) {
  uint8_t *p = sos_wasm_mem(in, addr, n);
  if (!p) sos_test_fail(__FILE__, __LINE__, "poke out of bounds");
  for (unsigned i = 0; p && i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Reads n bytes (little-endian) at addr of in's memory; 0 when out of
 * bounds, and the test fails. */
static inline uint64_t peek(sos_wasm_instance *in, uint32_t addr, unsigned n) {
  const uint8_t *p = sos_wasm_mem(in, addr, n);
  if (!p) sos_test_fail(__FILE__, __LINE__, "peek out of bounds");
  uint64_t v = 0;
  for (unsigned i = 0; p && i < n; i++) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

#endif

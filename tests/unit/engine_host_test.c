/*
 * engine_host_test.c - tests of the WebAssembly engine's boundary with
 * the host and between instances: host functions taking and returning
 * every value type, traps and exits raised by the host, host access to
 * guest memory, and calls from one instance into another's exports, where
 * each frame must use its own instance's memory, a host function must see
 * the callee's instance, and a suspension inside the callee resumes
 * through the caller.
 *
 * The modules are binaries assembled once with wat2wasm from the text in
 * the comment above each array, so the tests need no tools at run time;
 * the helpers they share are in engine_util.h.
 */
#include "engine_util.h"

/* ---- test modules -------------------------------------------------------- */

/*
 * (module
 *   (import "h" "all" (func $all (param i32 i64 f32 f64 funcref externref)
 *                                (result i32 i64 f32 f64 funcref externref)))
 *   (import "h" "fail" (func $fail (param i32)))
 *   (import "h" "mem" (func $mem (param i32) (result i32)))
 *   (memory (export "mem") 1)
 *   (func $seven (export "seven") (result i32) (i32.const 77))
 *   (elem declare func $seven)
 *   (func (export "all") (param i32 i64 f32 f64 externref)
 *                        (result i32 i64 f32 f64 funcref externref)
 *     (call $all (local.get 0) (local.get 1) (local.get 2) (local.get 3)
 *                (ref.func $seven) (local.get 4)))
 *   (func (export "fail") (param i32) (result i32)
 *     (call $fail (local.get 0)) (i32.const 1))
 *   (func (export "hostmem") (param i32) (result i32) (call $mem (local.get 0)))
 *   (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
 *   (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))
 */
static const uint8_t m_host[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x30, 0x06, 0x60,
    0x06, 0x7f, 0x7e, 0x7d, 0x7c, 0x70, 0x6f, 0x06, 0x7f, 0x7e, 0x7d, 0x7c,
    0x70, 0x6f, 0x60, 0x01, 0x7f, 0x00, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60,
    0x00, 0x01, 0x7f, 0x60, 0x05, 0x7f, 0x7e, 0x7d, 0x7c, 0x6f, 0x06, 0x7f,
    0x7e, 0x7d, 0x7c, 0x70, 0x6f, 0x60, 0x02, 0x7f, 0x7f, 0x00, 0x02, 0x1a,
    0x03, 0x01, 0x68, 0x03, 0x61, 0x6c, 0x6c, 0x00, 0x00, 0x01, 0x68, 0x04,
    0x66, 0x61, 0x69, 0x6c, 0x00, 0x01, 0x01, 0x68, 0x03, 0x6d, 0x65, 0x6d,
    0x00, 0x02, 0x03, 0x07, 0x06, 0x03, 0x04, 0x02, 0x02, 0x05, 0x02, 0x05,
    0x03, 0x01, 0x00, 0x01, 0x07, 0x35, 0x07, 0x03, 0x6d, 0x65, 0x6d, 0x02,
    0x00, 0x05, 0x73, 0x65, 0x76, 0x65, 0x6e, 0x00, 0x03, 0x03, 0x61, 0x6c,
    0x6c, 0x00, 0x04, 0x04, 0x66, 0x61, 0x69, 0x6c, 0x00, 0x05, 0x07, 0x68,
    0x6f, 0x73, 0x74, 0x6d, 0x65, 0x6d, 0x00, 0x06, 0x05, 0x73, 0x74, 0x6f,
    0x72, 0x65, 0x00, 0x07, 0x04, 0x6c, 0x6f, 0x61, 0x64, 0x00, 0x08, 0x09,
    0x05, 0x01, 0x03, 0x00, 0x01, 0x03, 0x0a, 0x3a, 0x06, 0x05, 0x00, 0x41,
    0xcd, 0x00, 0x0b, 0x10, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0x20,
    0x03, 0xd2, 0x03, 0x20, 0x04, 0x10, 0x00, 0x0b, 0x08, 0x00, 0x20, 0x00,
    0x10, 0x01, 0x41, 0x01, 0x0b, 0x06, 0x00, 0x20, 0x00, 0x10, 0x02, 0x0b,
    0x09, 0x00, 0x20, 0x00, 0x20, 0x01, 0x36, 0x02, 0x00, 0x0b, 0x07, 0x00,
    0x20, 0x00, 0x28, 0x02, 0x00, 0x0b,
};

/*
 * (module
 *   (import "env" "who" (func $who (result i32)))
 *   (memory 1)
 *   (data (i32.const 0) "\2a\00\00\00")
 *   (func (export "peek") (param i32) (result i32) (i32.load (local.get 0)))
 *   (func (export "poke") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
 *   (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
 *   (func (export "who") (result i32) (i32.add (call $who) (i32.load (i32.const 0)))))
 */
static const uint8_t m_cross_a[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0f, 0x03, 0x60,
    0x00, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60, 0x02, 0x7f, 0x7f,
    0x00, 0x02, 0x0b, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x03, 0x77, 0x68, 0x6f,
    0x00, 0x00, 0x03, 0x05, 0x04, 0x01, 0x02, 0x01, 0x00, 0x05, 0x03, 0x01,
    0x00, 0x01, 0x07, 0x1c, 0x04, 0x04, 0x70, 0x65, 0x65, 0x6b, 0x00, 0x01,
    0x04, 0x70, 0x6f, 0x6b, 0x65, 0x00, 0x02, 0x04, 0x67, 0x72, 0x6f, 0x77,
    0x00, 0x03, 0x03, 0x77, 0x68, 0x6f, 0x00, 0x04, 0x0a, 0x25, 0x04, 0x07,
    0x00, 0x20, 0x00, 0x28, 0x02, 0x00, 0x0b, 0x09, 0x00, 0x20, 0x00, 0x20,
    0x01, 0x36, 0x02, 0x00, 0x0b, 0x06, 0x00, 0x20, 0x00, 0x40, 0x00, 0x0b,
    0x0a, 0x00, 0x10, 0x00, 0x41, 0x00, 0x28, 0x02, 0x00, 0x6a, 0x0b, 0x0b,
    0x0a, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x04, 0x2a, 0x00, 0x00, 0x00,
};

/*
 * (module
 *   (import "a" "peek" (func $peek (param i32) (result i32)))
 *   (import "a" "poke" (func $poke (param i32 i32)))
 *   (import "a" "grow" (func $grow (param i32) (result i32)))
 *   (import "a" "who" (func $who (result i32)))
 *   (memory 1)
 *   (data (i32.const 0) "\07\00\00\00")
 *   (func (export "both") (result i32)
 *     (i32.mul (i32.load (i32.const 0)) (i32.const 1000))
 *     (i32.add (call $peek (i32.const 0)))
 *     (i32.add (i32.load (i32.const 0))))
 *   (func (export "poke_a") (param i32 i32) (call $poke (local.get 0) (local.get 1)))
 *   (func (export "peek_a") (param i32) (result i32) (call $peek (local.get 0)))
 *   (func (export "grow_a") (param i32) (result i32) (call $grow (local.get 0)))
 *   (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
 *   (func (export "who") (result i32) (i32.add (call $who) (i32.load (i32.const 0)))))
 */
static const uint8_t m_cross_b[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0f, 0x03, 0x60,
    0x01, 0x7f, 0x01, 0x7f, 0x60, 0x02, 0x7f, 0x7f, 0x00, 0x60, 0x00, 0x01,
    0x7f, 0x02, 0x24, 0x04, 0x01, 0x61, 0x04, 0x70, 0x65, 0x65, 0x6b, 0x00,
    0x00, 0x01, 0x61, 0x04, 0x70, 0x6f, 0x6b, 0x65, 0x00, 0x01, 0x01, 0x61,
    0x04, 0x67, 0x72, 0x6f, 0x77, 0x00, 0x00, 0x01, 0x61, 0x03, 0x77, 0x68,
    0x6f, 0x00, 0x02, 0x03, 0x07, 0x06, 0x02, 0x01, 0x00, 0x00, 0x00, 0x02,
    0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x30, 0x06, 0x04, 0x62, 0x6f, 0x74,
    0x68, 0x00, 0x04, 0x06, 0x70, 0x6f, 0x6b, 0x65, 0x5f, 0x61, 0x00, 0x05,
    0x06, 0x70, 0x65, 0x65, 0x6b, 0x5f, 0x61, 0x00, 0x06, 0x06, 0x67, 0x72,
    0x6f, 0x77, 0x5f, 0x61, 0x00, 0x07, 0x04, 0x6c, 0x6f, 0x61, 0x64, 0x00,
    0x08, 0x03, 0x77, 0x68, 0x6f, 0x00, 0x09, 0x0a, 0x42, 0x06, 0x16, 0x00,
    0x41, 0x00, 0x28, 0x02, 0x00, 0x41, 0xe8, 0x07, 0x6c, 0x41, 0x00, 0x10,
    0x00, 0x6a, 0x41, 0x00, 0x28, 0x02, 0x00, 0x6a, 0x0b, 0x08, 0x00, 0x20,
    0x00, 0x20, 0x01, 0x10, 0x01, 0x0b, 0x06, 0x00, 0x20, 0x00, 0x10, 0x00,
    0x0b, 0x06, 0x00, 0x20, 0x00, 0x10, 0x02, 0x0b, 0x07, 0x00, 0x20, 0x00,
    0x28, 0x02, 0x00, 0x0b, 0x0a, 0x00, 0x10, 0x03, 0x41, 0x00, 0x28, 0x02,
    0x00, 0x6a, 0x0b, 0x0b, 0x0a, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x04, 0x07,
    0x00, 0x00, 0x00,
};

/* ---- host functions ----------------------------------------------------------- */

static const uint8_t t_all[] = {SOS_WASM_I32, SOS_WASM_I64,     SOS_WASM_F32,
                                SOS_WASM_F64, SOS_WASM_FUNCREF, SOS_WASM_EXTERNREF};

/* "h"."all": records its six arguments in env and returns each changed. */
static int host_all(struct sos_wasm_hostcall *call) {
  sos_wasm_val *got = call->env;
  memcpy(got, call->args, 6 * sizeof *got);
  call->results[0] = (uint32_t)(call->args[0] + 1);
  call->results[1] = call->args[1] * 2;
  call->results[2] = f32v(-vf32(call->args[2]));
  call->results[3] = f64v(vf64(call->args[3]) / 2);
  call->results[4] = call->args[4];
  call->results[5] = call->args[5] + 1;
  return SOS_WASM_HOST_OK;
}

/* "h"."fail" (i32): ends the run in the way its argument selects. */
static int host_fail(struct sos_wasm_hostcall *call) {
  switch (call->args[0]) {
  case 0: return sos_wasm_host_trap(call, SOS_WASM_TRAP_HOST, "bad thing %d", 42);
  case 1: return sos_wasm_host_trap(call, SOS_WASM_TRAP_MEMORY, "host saw a bad pointer");
  case 2: return sos_wasm_host_exit(call, 42);
  case 3: return sos_wasm_host_exit(call, 0);
  case 4: return SOS_ENOMEM;
  default: return SOS_WASM_HOST_OK;
  }
}

/* "h"."mem" (addr) -> i32: reads the u32 at addr and writes it plus one
 * at addr + 4, trapping when either is out of bounds. */
static int host_mem(struct sos_wasm_hostcall *call) {
  uint32_t v;
  if (sos_wasm_mem_get32(call->instance, call->args[0], &v) != 0)
    return sos_wasm_host_trap(call, SOS_WASM_TRAP_MEMORY, "host read out of bounds");
  if (sos_wasm_mem_set32(call->instance, call->args[0] + 4, v + 1) != 0)
    return sos_wasm_host_trap(call, SOS_WASM_TRAP_MEMORY, "host write out of bounds");
  call->results[0] = v;
  return SOS_WASM_HOST_OK;
}

/* The host functions m_host imports, in its import order. */
struct host_env {
  sos_wasm_val got[6];
  sos_wasm_func *f[3];
  struct sos_wasm_extern x[3];
};

static sos_wasm_instance *host_open(struct fx *fx, struct host_env *e) {
  struct sos_wasm_functype all = {6, 6, t_all, t_all};
  struct sos_wasm_functype fail = {1, 0, t_i32, NULL};
  struct sos_wasm_functype mem = {1, 1, t_i32, t_i32};
  memset(e, 0, sizeof *e);
  e->f[0] = sos_wasm_func_new(&all, host_all, e->got);
  e->f[1] = sos_wasm_func_new(&fail, host_fail, NULL);
  e->f[2] = sos_wasm_func_new(&mem, host_mem, NULL);
  for (int i = 0; i < 3; i++) e->x[i] = func_import(e->f[i]);
  return fx_open(fx, m_host, sizeof m_host, NULL, e->x, 3);
}

static void host_close(struct fx *fx, struct host_env *e) {
  fx_close(fx);
  for (int i = 0; i < 3; i++) sos_wasm_func_free(e->f[i]);
}

TEST(engine_host_args_and_results_of_every_type) {
  struct host_env e;
  struct fx f;
  sos_wasm_instance *in = host_open(&f, &e);
  REQUIRE(in);
  sos_wasm_func *seven = fn(in, "seven");
  REQUIRE(seven);
  const sos_wasm_val args[5] = {0xfffffffeu, 0x8000000123456789ull, f32v(1.25f),
                                f64v(-3.5), 0xabc0};
  sos_wasm_val r[6] = {0};
  struct sos_wasm_trap t;
  REQUIRE(invoke(in, "all", args, 5, r, 6, &t) == 0);
  /* What the host received: i32 and f32 zero-extended, refs as given. */
  CHECK_EQ(e.got[0], 0xfffffffeu);
  CHECK_EQ(e.got[1], 0x8000000123456789ull);
  CHECK_EQ(e.got[2], f32v(1.25f));
  CHECK_EQ(e.got[3], f64v(-3.5));
  CHECK(e.got[4] == (sos_wasm_val)(uintptr_t)seven); /* ref.func of an export */
  CHECK_EQ(e.got[5], 0xabc0);
  /* What came back through the wasm function. */
  CHECK_EQ(r[0], 0xffffffffu);
  CHECK_EQ(r[1], 0x2468acf12ull);
  CHECK_EQ(r[2], f32v(-1.25f));
  CHECK_EQ(r[3], f64v(-1.75));
  CHECK(r[4] == (sos_wasm_val)(uintptr_t)seven);
  CHECK_EQ(r[5], 0xabc1);
  /* The funcref returned is callable. */
  sos_wasm_val v = 0;
  CHECK_EQ(sos_wasm_call(in, (sos_wasm_func *)(uintptr_t)r[4], NULL, 0, &v, 1, &t), 0);
  CHECK_EQ(v, 77);
  /* Null references pass as 0. */
  const sos_wasm_val nulls[5] = {0, 0, 0, 0, 0};
  REQUIRE(invoke(in, "all", nulls, 5, r, 6, &t) == 0);
  CHECK_EQ(e.got[5], 0);
  CHECK_EQ(r[5], 1);
  host_close(&f, &e);
}

/* Calls "fail"(how) and returns the trap it ends with. */
static struct sos_wasm_trap fail_with(sos_wasm_instance *in, uint32_t how, int *rc) {
  struct sos_wasm_trap t;
  memset(&t, 0, sizeof t);
  sos_wasm_val a = how, r;
  *rc = invoke(in, "fail", &a, 1, &r, 1, &t);
  return t;
}

TEST(engine_host_trap_and_exit) {
  struct host_env e;
  struct fx f;
  sos_wasm_instance *in = host_open(&f, &e);
  REQUIRE(in);
  int rc;
  struct sos_wasm_trap t = fail_with(in, 0, &rc);
  CHECK_EQ(rc, SOS_ETRAP);
  CHECK_EQ(t.kind, SOS_WASM_TRAP_HOST);
  CHECK_STR(t.message, "bad thing 42");
  t = fail_with(in, 1, &rc);
  CHECK_EQ(rc, SOS_ETRAP);
  CHECK_EQ(t.kind, SOS_WASM_TRAP_MEMORY);
  CHECK_STR(t.message, "host saw a bad pointer");
  t = fail_with(in, 2, &rc);
  CHECK_EQ(rc, SOS_ETRAP);
  CHECK_EQ(t.kind, SOS_WASM_TRAP_EXIT);
  CHECK_EQ(t.exit_code, 42);
  t = fail_with(in, 3, &rc);
  CHECK_EQ(rc, SOS_ETRAP);
  CHECK_EQ(t.kind, SOS_WASM_TRAP_EXIT);
  CHECK_EQ(t.exit_code, 0);
  t = fail_with(in, 4, &rc); /* a plain error code becomes a host trap */
  CHECK_EQ(rc, SOS_ETRAP);
  CHECK_EQ(t.kind, SOS_WASM_TRAP_HOST);
  CHECK(strstr(t.message, sos_strerror(SOS_ENOMEM)) != NULL);
  CHECK_EQ(CALL(in, "fail", 5), 1); /* and the instance still works */
  /* A later successful call leaves no trap behind. */
  t = fail_with(in, 5, &rc);
  CHECK_EQ(rc, 0);
  host_close(&f, &e);
}

TEST(engine_host_reads_and_writes_guest_memory) {
  struct host_env e;
  struct fx f;
  sos_wasm_instance *in = host_open(&f, &e);
  REQUIRE(in);
  CALL(in, "store", 100, 0x11223344);
  CHECK_EQ(CALL(in, "hostmem", 100), 0x11223344);
  CHECK_EQ(CALL(in, "load", 104), 0x11223345);
  CALL(in, "store", 65528, 5);
  CHECK_EQ(CALL(in, "hostmem", 65528), 5); /* writes the last 4 bytes */
  CHECK_EQ(CALL(in, "load", 65532), 6);
  int rc;
  struct sos_wasm_trap t;
  sos_wasm_val r, a = 65532;
  rc = invoke(in, "hostmem", &a, 1, &r, 1, &t);
  CHECK_EQ(rc, SOS_ETRAP);
  CHECK_STR(t.message, "host write out of bounds");
  a = 65533;
  rc = invoke(in, "hostmem", &a, 1, &r, 1, &t);
  CHECK_EQ(rc, SOS_ETRAP);
  CHECK_EQ(t.kind, SOS_WASM_TRAP_MEMORY);
  CHECK_STR(t.message, "host read out of bounds");
  /* The accessors' bounds, directly. */
  uint32_t v32;
  uint64_t v64;
  CHECK_EQ(sos_wasm_mem_get32(in, 65532, &v32), 0);
  CHECK_EQ(v32, 6);
  CHECK_EQ(sos_wasm_mem_get32(in, 65533, &v32), SOS_ETRAP);
  CHECK_EQ(sos_wasm_mem_get32(in, UINT64_MAX - 1, &v32), SOS_ETRAP);
  CHECK_EQ(sos_wasm_mem_get64(in, 65528, &v64), 0);
  CHECK_EQ(v64, 0x0000000600000005ull);
  CHECK_EQ(sos_wasm_mem_get64(in, 65529, &v64), SOS_ETRAP);
  CHECK_EQ(sos_wasm_mem_set64(in, 65529, 1), SOS_ETRAP);
  CHECK_EQ(sos_wasm_mem_set64(in, 8, 0x0102030405060708ull), 0);
  CHECK_EQ(CALL(in, "load", 8), 0x05060708);
  CHECK_EQ(sos_wasm_mem_set16(in, 65534, 0xbeef), 0);
  CHECK_EQ(sos_wasm_mem_set16(in, 65535, 0xbeef), SOS_ETRAP);
  CHECK_EQ(sos_wasm_mem_set8(in, 65535, 0x7a), 0);
  CHECK_EQ(sos_wasm_mem_set8(in, 65536, 0x7a), SOS_ETRAP);
  CHECK_EQ(CALL(in, "load", 65532), 0x7aef0006);
  CHECK_EQ(sos_wasm_mem_set32(in, UINT64_MAX, 1), SOS_ETRAP);
  CHECK(sos_wasm_mem(in, 65535, 1) != NULL);
  CHECK(sos_wasm_mem(in, 65535, 2) == NULL);
  CHECK(sos_wasm_mem(in, UINT64_MAX, 2) == NULL);
  CHECK(sos_wasm_mem(in, 2, UINT64_MAX) == NULL);
  host_close(&f, &e);
}

/* ---- calls between instances ---------------------------------------------------- */

/* "env"."who" () -> i32, imported by A: records the calling instance;
 * answers 100 at once, or suspends when *suspend is set. */
struct who_env {
  sos_wasm_instance *caller;
  bool suspend;
};

static int host_who(struct sos_wasm_hostcall *call) {
  struct who_env *w = call->env;
  w->caller = call->instance;
  if (w->suspend) return SOS_WASM_HOST_SUSPEND;
  call->results[0] = 100;
  return SOS_WASM_HOST_OK;
}

/* Instance A (memory holds 42 at 0) and B (7 at 0) importing A's exports. */
struct pair {
  struct who_env w;
  sos_wasm_func *who;
  struct fx a, b;
};

static bool pair_open(struct pair *p) {
  struct sos_wasm_functype ft = {0, 1, NULL, t_i32};
  memset(p, 0, sizeof *p);
  p->who = sos_wasm_func_new(&ft, host_who, &p->w);
  if (!p->who) return false;
  struct sos_wasm_extern x = func_import(p->who);
  if (!fx_open(&p->a, m_cross_a, sizeof m_cross_a, NULL, &x, 1)) return false;
  static const char *const names[4] = {"peek", "poke", "grow", "who"};
  struct sos_wasm_extern xs[4];
  for (int i = 0; i < 4; i++) {
    sos_wasm_func *f = fn(p->a.in, names[i]);
    if (!f) return false;
    xs[i] = func_import(f);
  }
  return fx_open(&p->b, m_cross_b, sizeof m_cross_b, NULL, xs, 4) != NULL;
}

static void pair_close(struct pair *p) {
  fx_close(&p->b); /* the importer goes first */
  fx_close(&p->a);
  sos_wasm_func_free(p->who);
}

TEST(engine_cross_instance_call_uses_callee_memory) {
  struct pair p;
  REQUIRE(pair_open(&p));
  sos_wasm_instance *a = p.a.in, *b = p.b.in;
  CHECK_EQ(CALL0(b, "both"), 7049); /* 7 * 1000 + 42 (A's) + 7 (B's again) */
  CALL(b, "poke_a", 8, 555);
  CHECK_EQ(CALL(a, "peek", 8), 555);
  CHECK_EQ(CALL(b, "load", 8), 0);
  CHECK_EQ(CALL(b, "peek_a", 8), 555);
  pair_close(&p);
}

TEST(engine_cross_instance_memory_sizes_stay_apart) {
  struct pair p;
  REQUIRE(pair_open(&p));
  sos_wasm_instance *b = p.b.in;
  CHECK_EQ(TRAP(b, "peek_a", 65536), SOS_WASM_TRAP_MEMORY);
  CHECK_EQ(CALL(b, "grow_a", 1), 1); /* A grows; B does not */
  CHECK_EQ(CALL(b, "peek_a", 65536), 0);
  CHECK_EQ(TRAP(b, "load", 65536), SOS_WASM_TRAP_MEMORY);
  CHECK_EQ(CALL0(b, "both"), 7049);
  CHECK_EQ(sos_wasm_memory_size(sos_wasm_instance_memory(b)), 65536);
  CHECK_EQ(sos_wasm_memory_size(sos_wasm_instance_memory(p.a.in)), 2 * 65536);
  pair_close(&p);
}

TEST(engine_cross_instance_host_sees_callee_and_suspends) {
  struct pair p;
  REQUIRE(pair_open(&p));
  sos_wasm_instance *a = p.a.in, *b = p.b.in;
  /* B.who calls A.who calls the host: the host's instance is A. */
  CHECK_EQ(CALL0(b, "who"), 149); /* 100 + 42 + 7 */
  CHECK(p.w.caller == a);
  /* Suspended inside A, resumed through B: each frame uses its own
   * instance's memory on the way back. */
  p.w.suspend = true;
  p.w.caller = NULL;
  struct sos_wasm_trap t;
  REQUIRE(sos_wasm_call_begin(b, fn(b, "who"), NULL, 0) == 0);
  CHECK_EQ(sos_wasm_run(b, -1, &t), SOS_WASM_SUSPENDED);
  CHECK(p.w.caller == a);
  CHECK_EQ(sos_wasm_resume(b, (sos_wasm_val[]){1000}, 1), 0);
  CHECK_EQ(sos_wasm_run(b, -1, &t), SOS_WASM_DONE);
  CHECK_EQ(result1(b), 1049);
  /* A trap inside A ends B's run; B keeps working. */
  CHECK_EQ(TRAP(b, "peek_a", U32(-1)), SOS_WASM_TRAP_MEMORY);
  CHECK_EQ(CALL0(b, "both"), 7049);
  pair_close(&p);
}

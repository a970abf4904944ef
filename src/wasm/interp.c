/*
 * interp.c - runs compiled code: the interpreter loop and the run API.
 *
 * Code format (written by compile.c): 32-bit words; each op is an op word
 * followed by operand words.  The op word is the offset of the op's
 * handler label from a base label inside interp(), so dispatch is one
 * load, one add and one indirect jump ("threaded code" through GCC's
 * labels-as-values).  Operands are mostly slot indices relative to the
 * frame pointer fp; the frame is an array of 64-bit slots, locals first.
 *
 * All execution state lives in struct sos__exec (runtime.h): the value
 * stack and the frame stack are heap arrays owned by the instance, and the
 * interpreter keeps pc, fp, memory base and size, and fuel in local
 * variables (machine registers) while it runs.  To stop - a host function
 * asks to suspend, the fuel of the slice is spent, or a trap - it writes
 * those few values back and returns: no native stack is left behind, so a
 * run can be continued later from any thread.
 *
 * A wasm-to-wasm call pushes a frame record (return pc, caller's fp and
 * instance) and moves fp up to the caller's argument slots: arguments are
 * already where the callee expects its first locals, and the callee
 * leaves its results in its first slots, which are where the caller
 * expects them.  Calls never copy values; entry zeroes the declared locals
 * and copies in the function's constant pool.  Frame records point into
 * the value stack, and grow_stack() moves them along when it reallocates.
 *
 * Every memory access is bounds-checked against the current size with one
 * compare of 64-bit effective addresses (Core 2.0 §4.4.7): the memory's
 * base never moves (runtime.c reserves address space), so only the size
 * is reloaded after memory.grow, host calls and a return to another
 * instance.
 *
 * Fuel is charged in advance by `fuel` ops at loop heads, by backward
 * branches, by calls (the callee's straight-line count) and by bulk ops
 * (their length); see compile.c for the counts and docs/engine.md.
 */
#include "wasm/jit.h"
#include "wasm/ops.h"
#include "wasm/runtime.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the interpreter assumes a little-endian host"
#endif

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

typedef union slot {
  uint64_t u64;
  uint32_t u32;
  float f32;
  double f64;
} slot;

/* ---- numeric helpers used by ops.h expressions --------------------------- */

static inline uint32_t f32_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}
static inline float bits_f32(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}
static inline uint64_t f64_bits(double f) {
  uint64_t u;
  memcpy(&u, &f, 8);
  return u;
}
static inline double bits_f64(uint64_t u) {
  double f;
  memcpy(&f, &u, 8);
  return f;
}
static inline uint32_t rotl32(uint32_t a, uint32_t b) {
  b &= 31;
  return b ? (a << b) | (a >> (32 - b)) : a;
}
static inline uint32_t rotr32(uint32_t a, uint32_t b) {
  b &= 31;
  return b ? (a >> b) | (a << (32 - b)) : a;
}
static inline uint64_t rotl64(uint64_t a, uint64_t b) {
  b &= 63;
  return b ? (a << b) | (a >> (64 - b)) : a;
}
static inline uint64_t rotr64(uint64_t a, uint64_t b) {
  b &= 63;
  return b ? (a >> b) | (a << (64 - b)) : a;
}
static inline int idiv32(uint32_t a, uint32_t b, int *k) {
  if (b == 0) return *k = SOS_WASM_TRAP_DIV_ZERO, 1;
  if (a == 0x80000000u && b == 0xffffffffu) return *k = SOS_WASM_TRAP_OVERFLOW, 1;
  return 0;
}
static inline int idiv64(uint64_t a, uint64_t b, int *k) {
  if (b == 0) return *k = SOS_WASM_TRAP_DIV_ZERO, 1;
  if (a == 0x8000000000000000ull && b == ~0ull) return *k = SOS_WASM_TRAP_OVERFLOW, 1;
  return 0;
}

/* Rounding per §4.3.3: a NaN operand gives a quiet NaN (libm may pass a
 * signalling NaN through unchanged). */
#define fround32(f, a) ((a) != (a) ? (a) + (a) : f(a))
#define fround64(f, a) ((a) != (a) ? (a) + (a) : f(a))

/* min/max per Core 2.0 §4.3.3: NaN in, NaN out; -0 < +0. */
static inline float fmin32(float a, float b) {
  if (a != a || b != b) return a + b;
  if (a == b) return bits_f32(f32_bits(a) | f32_bits(b));
  return a < b ? a : b;
}
static inline float fmax32(float a, float b) {
  if (a != a || b != b) return a + b;
  if (a == b) return bits_f32(f32_bits(a) & f32_bits(b));
  return a > b ? a : b;
}
static inline double fmin64(double a, double b) {
  if (a != a || b != b) return a + b;
  if (a == b) return bits_f64(f64_bits(a) | f64_bits(b));
  return a < b ? a : b;
}
static inline double fmax64(double a, double b) {
  if (a != a || b != b) return a + b;
  if (a == b) return bits_f64(f64_bits(a) & f64_bits(b));
  return a > b ? a : b;
}
static inline float copysign32(float a, float b) {
  return bits_f32((f32_bits(a) & 0x7fffffffu) | (f32_bits(b) & 0x80000000u));
}
static inline double copysign64(double a, double b) {
  return bits_f64((f64_bits(a) & ~(1ull << 63)) | (f64_bits(b) & (1ull << 63)));
}

/* Trapping truncations (§4.3.4 trunc): NaN is an invalid conversion, out
 * of range an overflow.  The bounds are exact powers of two. */
static inline int32_t trunc_s32(double a, int *k) {
  if (a != a) return *k = SOS_WASM_TRAP_CONVERSION, 0;
  if (!(a > -2147483649.0 && a < 2147483648.0)) return *k = SOS_WASM_TRAP_OVERFLOW, 0;
  return (int32_t)a;
}
static inline uint32_t trunc_u32(double a, int *k) {
  if (a != a) return *k = SOS_WASM_TRAP_CONVERSION, 0;
  if (!(a > -1.0 && a < 4294967296.0)) return *k = SOS_WASM_TRAP_OVERFLOW, 0;
  return (uint32_t)a;
}
static inline int64_t trunc_s64(double a, int *k) {
  if (a != a) return *k = SOS_WASM_TRAP_CONVERSION, 0;
  if (!(a >= -9223372036854775808.0 && a < 9223372036854775808.0))
    return *k = SOS_WASM_TRAP_OVERFLOW, 0;
  return (int64_t)a;
}
static inline uint64_t trunc_u64(double a, int *k) {
  if (a != a) return *k = SOS_WASM_TRAP_CONVERSION, 0;
  if (!(a > -1.0 && a < 18446744073709551616.0)) return *k = SOS_WASM_TRAP_OVERFLOW, 0;
  return (uint64_t)a;
}
/* Saturating truncations (§4.3.4 trunc_sat). */
static inline int32_t sat_s32(double a) {
  if (a != a) return 0;
  if (a <= -2147483648.0) return INT32_MIN;
  if (a >= 2147483647.0) return INT32_MAX;
  return (int32_t)a;
}
static inline uint32_t sat_u32(double a) {
  if (!(a > 0)) return 0;
  if (a >= 4294967295.0) return UINT32_MAX;
  return (uint32_t)a;
}
static inline int64_t sat_s64(double a) {
  if (a != a) return 0;
  if (a <= -9223372036854775808.0) return INT64_MIN;
  if (a >= 9223372036854775808.0) return INT64_MAX;
  return (int64_t)a;
}
static inline uint64_t sat_u64(double a) {
  if (!(a > 0)) return 0;
  if (a >= 18446744073709551616.0) return UINT64_MAX;
  return (uint64_t)a;
}

/* ---- stack growth (out of the hot path) ----------------------------------- */

/* Makes room for `need` slots; returns false when over the limit. */
bool sos__exec_grow_stack(struct sos__exec *x, uint64_t need) {
  if (need > x->stack_max) return false;
  uint64_t cap = x->stack_cap;
  while (cap < need) cap *= 2;
  if (cap > x->stack_max) cap = x->stack_max;
  uint64_t *s = sos_malloc(cap * sizeof *s);
  if (!s) return false;
  memcpy(s, x->stack, x->stack_cap * sizeof *s);
  /* Frame records point into the stack: move them along with it. */
  for (uint32_t i = 0; i < x->nframes; i++) x->frames[i].fp = s + (x->frames[i].fp - x->stack);
  sos_free(x->stack);
  x->stack = s;
  x->stack_cap = cap;
  return true;
}

bool sos__exec_grow_frames(struct sos__exec *x) {
  if (x->nframes >= x->max_depth) return false;
  uint32_t cap = x->frames_cap * 2;
  if (cap > x->max_depth) cap = x->max_depth;
  struct sos__frame *f = sos_realloc(x->frames, cap * sizeof *f);
  if (!f) return false;
  x->frames = f;
  x->frames_cap = cap;
  return true;
}

/* ---- bulk memory and table helpers ----------------------------------------- */

static bool in_range(uint64_t start, uint64_t n, uint64_t size) {
  return start <= size && n <= size - start;
}

/* Evaluates an element segment item (§4.5.3: constant expressions). */
static uint64_t elem_item(sos_wasm_instance *in, const struct sos__constexpr *e) {
  if (e->kind == SOS__CONST_REF_FUNC) return (uint64_t)(uintptr_t)in->funcs[e->index];
  if (e->kind == SOS__CONST_GLOBAL) return in->globals[e->index]->value;
  return 0;
}

static int table_init(sos_wasm_instance *in, uint32_t t, uint32_t seg, uint32_t d,
                      uint32_t s, uint32_t n) {
  const struct sos__elem *e = &in->mod->d.elems[seg];
  uint32_t len = in->elem_dropped[seg] ? 0 : e->n;
  sos_wasm_table *tab = in->tables[t];
  if (!in_range(s, n, len) || !in_range(d, n, tab->size)) return SOS_WASM_TRAP_TABLE;
  for (uint32_t i = 0; i < n; i++) tab->elems[d + i] = elem_item(in, &e->items[s + i]);
  return -1;
}

static int memory_init(sos_wasm_instance *in, uint32_t seg, uint32_t d, uint32_t s,
                       uint32_t n) {
  const struct sos__data *ds = &in->mod->d.datas[seg];
  uint32_t len = in->data_dropped[seg] ? 0 : ds->len;
  sos_wasm_memory *m = in->mem0;
  if (!in_range(s, n, len) || !in_range(d, n, m->size)) return SOS_WASM_TRAP_MEMORY;
  if (n) memcpy(m->data + d, ds->bytes + s, n);
  return -1;
}

static int table_copy(sos_wasm_table *dt, sos_wasm_table *st, uint32_t d, uint32_t s,
                      uint32_t n) {
  if (!in_range(s, n, st->size) || !in_range(d, n, dt->size)) return SOS_WASM_TRAP_TABLE;
  if (n) memmove(dt->elems + d, st->elems + s, (size_t)n * sizeof *dt->elems);
  return -1;
}

static int table_fill(sos_wasm_table *t, uint32_t i, uint64_t v, uint32_t n) {
  if (!in_range(i, n, t->size)) return SOS_WASM_TRAP_TABLE;
  for (uint32_t k = 0; k < n; k++) t->elems[i + k] = v;
  return -1;
}

/* Sets up a new frame of c whose arguments are in place: zeroes the
 * declared locals and copies in the constant pool.  Short loops, not
 * memset/memcpy calls (the counts are small); the empty asm keeps
 * compilers from turning them back into calls. */
static inline void frame_init(uint64_t *f, const struct sos__code *c) {
  for (uint32_t i = c->nparams; i < c->nlocals; i++) {
    f[i] = 0;
    __asm__ volatile("");
  }
  for (uint32_t i = 0; i < c->nconsts; i++) {
    f[c->const_base + i] = c->consts[i];
    __asm__ volatile("");
  }
}

/* Ends a run whose host function returned r, neither OK nor SUSPEND: a
 * trap, with the host's own kind and message when it gave one. */
int sos__host_failed(struct sos__exec *x, struct sos_wasm_trap *trap, int r) {
  x->state = SOS__EXEC_IDLE;
  if (trap->kind < 0) {
    trap->kind = SOS_WASM_TRAP_HOST;
    snprintf(trap->message, sizeof trap->message, "host function failed: %s",
             sos_strerror(r));
  }
  return SOS_ETRAP;
}

static uint8_t no_memory_byte;
static sos_wasm_memory no_memory = {.data = &no_memory_byte};

int64_t sos__exec_budget(const struct sos__exec *x, int64_t slice, bool *hard_cut) {
  int64_t budget = slice < 0 ? INT64_MAX : slice;
  *hard_cut = false;
  if (x->fuel_limit) {
    uint64_t left = x->fuel_used < x->fuel_limit ? x->fuel_limit - x->fuel_used : 0;
    if ((uint64_t)budget >= left) {
      budget = (int64_t)left;
      *hard_cut = true;
    }
  }
  return budget;
}

/* ---- the interpreter --------------------------------------------------------- */

static const int *op_offsets;

/* Result of interp(): SOS_WASM_DONE / SUSPENDED / YIELDED or SOS_ETRAP. */
static int interp(sos_wasm_instance *root, int64_t slice, struct sos_wasm_trap *trap);

static void init_offsets(void) { interp(NULL, 0, NULL); }

uint32_t sos__op_word(enum sos__op op) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, init_offsets);
  return (uint32_t)op_offsets[op];
}

#define CT_I32 uint32_t
#define CT_I64 uint64_t
#define CT_F32 float
#define CT_F64 double
#define GET_I32(s) (s).u32
#define GET_I64(s) (s).u64
#define GET_F32(s) (s).f32
#define GET_F64(s) (s).f64
#define PUT_I32(s, v) ((s).u64 = (uint32_t)(v))
#define PUT_I64(s, v) ((s).u64 = (uint64_t)(v))
#define PUT_F32(s, v) ((s).u64 = f32_bits(v))
#define PUT_F64(s, v) ((s).f64 = (v))
#define IMM_I32(i) pc[i]
#define IMM_I64(i) ((uint64_t)pc[i] | (uint64_t)pc[(i) + 1] << 32)
#define IMM_F32(i) bits_f32(pc[i])
#define IMM_F64(i) bits_f64(IMM_I64(i))
#define IMMW_I32 1
#define IMMW_I64 2
#define IMMW_F32 1
#define IMMW_F64 2

#define SL(i) fp[pc[i]]

static int interp(sos_wasm_instance *root, int64_t slice, struct sos_wasm_trap *trap) {
  static const int offsets[] = {
#define OFF_MISC(n) [SOS__OP_##n] = &&L_##n - &&L_unreachable,
#define OFF_CMP(c, n, T, e)                                                   \
  [SOS__OP_##n] = &&L_##n - &&L_unreachable,                                  \
  [SOS__OP_##n##_imm] = &&L_##n##_imm - &&L_unreachable,                      \
  [SOS__OP_br_##n] = &&L_br_##n - &&L_unreachable,                            \
  [SOS__OP_br_##n##_imm] = &&L_br_##n##_imm - &&L_unreachable,
#define OFF_IBIN(c, n, T, e)                                                  \
  [SOS__OP_##n] = &&L_##n - &&L_unreachable,                                  \
  [SOS__OP_##n##_imm] = &&L_##n##_imm - &&L_unreachable,
#define OFF_FBIN(c, n, T, TR, e)                                              \
  [SOS__OP_##n] = &&L_##n - &&L_unreachable,                                  \
  [SOS__OP_##n##_imm] = &&L_##n##_imm - &&L_unreachable,
#define OFF_UN(c, n, T, TR, e) [SOS__OP_##n] = &&L_##n - &&L_unreachable,
#define OFF_MEMBIN(c, n, T, l, e)                                             \
  [SOS__OP_##n##_m] = &&L_##n##_m - &&L_unreachable,                          \
  [SOS__OP_##n##_mi] = &&L_##n##_mi - &&L_unreachable,                        \
  [SOS__OP_##n##_ms] = &&L_##n##_ms - &&L_unreachable,
#define OFF_BRA(c, n, T, e)                                                   \
  [SOS__OP_bra_##n##_ii] = &&L_bra_##n##_ii - &&L_unreachable,                \
  [SOS__OP_bra_##n##_ir] = &&L_bra_##n##_ir - &&L_unreachable,                \
  [SOS__OP_bra_##n##_ri] = &&L_bra_##n##_ri - &&L_unreachable,                \
  [SOS__OP_bra_##n##_rr] = &&L_bra_##n##_rr - &&L_unreachable,
#define OFF_MEM(c, n, T, CT, B)                                               \
  [SOS__OP_##n] = &&L_##n - &&L_unreachable,                                  \
  [SOS__OP_##n##_ai] = &&L_##n##_ai - &&L_unreachable,                        \
  [SOS__OP_##n##_ar] = &&L_##n##_ar - &&L_unreachable,                        \
  [SOS__OP_##n##_as] = &&L_##n##_as - &&L_unreachable,
      SOS__MISCOPS(OFF_MISC) SOS__CMPOPS(OFF_CMP) SOS__IBINOPS(OFF_IBIN)
          SOS__FBINOPS(OFF_FBIN) SOS__UNOPS(OFF_UN) SOS__LOADS(OFF_MEM)
              SOS__STORES(OFF_MEM) SOS__CMPOPS32(OFF_BRA)
                  SOS__MEMBINOPS(OFF_MEMBIN)};
  if (!root) {
    op_offsets = offsets;
    return 0;
  }

  struct sos__exec *x = &root->exec;
  const char *base = (const char *)&&L_unreachable;
  const uint32_t *pc = x->pc;
  slot *stack = (slot *)x->stack;
  slot *fp = stack + x->fp;
  sos_wasm_instance *inst = x->cur;
  const struct sos__code *codes = inst->mod->codes;
  sos_wasm_memory *m0;
  uint8_t *mem;
  uint64_t memsize;
  int tk = SOS_WASM_TRAP_HOST; /* the kind of a trap being raised */
  int64_t trap_index = -1;     /* the table index it concerns, if any */
  sos_wasm_func *callee;
  uint32_t cbase;
  const uint32_t *ret_pc;
  uint64_t hostres[SOS_WASM_HOST_MAX_RESULTS];

  /* Fuel: this run may spend `fuel`; hard_cut says whether running out is
   * the instance's hard budget (a trap) rather than the slice (a yield). */
  bool hard_cut;
  int64_t budget = sos__exec_budget(x, slice, &hard_cut);
  int64_t fuel = budget;

  /* The frame stack's top and end and the value stack's end live in
   * locals while running; SAVE_FRAMES() writes the depth back. */
  struct sos__frame *ftop, *fend;
  slot *stack_end;
#define LOAD_STACK()                                                          \
  do {                                                                        \
    stack = (slot *)x->stack;                                                 \
    stack_end = stack + x->stack_cap;                                         \
    ftop = x->frames + x->nframes;                                            \
    fend = x->frames + x->frames_cap;                                         \
  } while (0)
#define SAVE_FRAMES() (x->nframes = (uint32_t)(ftop - x->frames))
  LOAD_STACK();

#define LOAD_INST()                                                           \
  do {                                                                        \
    m0 = inst->mem0 ? inst->mem0 : &no_memory;                                \
    mem = m0->data;                                                           \
    memsize = m0->size;                                                       \
  } while (0)
#define NEXT() goto *(const void *)(base + (int32_t)*pc)
#define TRAP(k)                                                               \
  do {                                                                        \
    tk = (k);                                                                 \
    goto trap;                                                                \
  } while (0)
  /* Charges k units of fuel before the op at pc has any effect. */
#define CHARGE(k)                                                             \
  do {                                                                        \
    int64_t k_ = (k);                                                         \
    if (UNLIKELY((fuel -= k_) < 0)) {                                         \
      fuel += k_;                                                             \
      if (hard_cut || fuel != budget) goto out_of_fuel;                       \
      fuel -= k_; /* a slice always makes progress */                         \
    }                                                                         \
  } while (0)

  /* Bulk memory and table ops pay for their length too (one unit per 64
   * bytes or elements), before doing anything, so a 4 GiB memory.fill is
   * not one instruction's worth of fuel. */
#define BULK_FUEL(n) ((int64_t)((n) >> 6))

  /* Takes a branch.  A backward branch goes to a loop's `fuel` op: it
   * charges that op's count itself and lands after it, saving a dispatch
   * per iteration (the fuel op runs only when the loop is entered). */
/* Pushes a frame and enters code cc with its frame at fp + cbase; the
 * arguments are already in place.  Returns to ret_pc. */
#define ENTER(cc_, base_, rpc_)                                                   \
  do {                                                                        \
    const struct sos__code *e_ = (cc_);                                       \
    slot *nfp = fp + (base_);                                                 \
    if (UNLIKELY(nfp + e_->frame_slots > stack_end || ftop == fend)) {        \
      size_t fo = (size_t)(fp - stack);                                       \
      uint64_t need = fo + (base_) + e_->frame_slots;                         \
      SAVE_FRAMES();                                                          \
      if ((need > x->stack_cap && !sos__exec_grow_stack(x, need)) ||                    \
          (ftop == fend && !sos__exec_grow_frames(x)))                                  \
        TRAP(SOS_WASM_TRAP_STACK);                                            \
      LOAD_STACK();                                                           \
      fp = stack + fo;                                                        \
      nfp = fp + (base_);                                                     \
    }                                                                         \
    struct sos__frame *fr = ftop++;                                           \
    fr->ret_pc = (rpc_);                                                      \
    fr->fp = &fp->u64;                                                        \
    fr->inst = inst;                                                          \
    frame_init(&nfp->u64, e_);                                                \
    fp = nfp;                                                                 \
    pc = e_->ops;                                                             \
  } while (0)

#define JUMP(off)                                                             \
  do {                                                                        \
    int32_t o_ = (int32_t)(off);                                              \
    if (o_ < 0) {                                                             \
      CHARGE(pc[o_ + 1]);                                                     \
      o_ += 2;                                                                \
    }                                                                         \
    pc += o_;                                                                 \
    NEXT();                                                                   \
  } while (0)

  LOAD_INST();
  if (x->entry_fuel) { /* a new call: the entry function's own charge */
    int64_t k = x->entry_fuel;
    x->entry_fuel = 0;
    if (hard_cut && k > fuel) {
      fuel = 0;
      TRAP(SOS_WASM_TRAP_FUEL);
    }
    fuel -= k;
  }
  NEXT();

  /* ---- handlers (shared with sos__interp_step) ---- */
#include "wasm/interp_ops.inc"

  /* ---- calls ---- */
call_func:
  if (LIKELY(callee->code != NULL)) {
    const struct sos__code *cc = callee->code;
    CHARGE(cc->fuel);
    ENTER(cc, cbase, ret_pc);
    if (UNLIKELY(callee->inst != inst)) {
      inst = callee->inst;
      codes = inst->mod->codes;
      LOAD_INST();
    }
    NEXT();
  }
  {
    /* A host function: arguments in place, results through hostres. */
    uint32_t nres = callee->type.nresults;
    struct sos_wasm_hostcall hc = {inst, callee->env, (const sos_wasm_val *)(fp + cbase),
                                   hostres, trap};
    int r = callee->host(&hc);
    if (r == SOS_WASM_HOST_OK) {
      for (uint32_t i = 0; i < nres; i++) fp[cbase + i].u64 = hostres[i];
      pc = ret_pc;
      LOAD_INST();
      NEXT();
    }
    if (r == SOS_WASM_HOST_SUSPEND) {
      x->pc = ret_pc;
      x->fp = (uint32_t)(fp - stack);
      x->cur = inst;
      x->host_res = cbase;
      x->host_nres = nres;
      x->fuel_used += (uint64_t)(budget - fuel);
      SAVE_FRAMES();
      x->state = SOS__EXEC_SUSPENDED;
      return SOS_WASM_SUSPENDED;
    }
    x->fuel_used += (uint64_t)(budget - fuel);
    x->nframes = 0;
    return sos__host_failed(x, trap, r);
  }

out_of_fuel:
  SAVE_FRAMES();
  x->pc = pc;
  x->fp = (uint32_t)(fp - stack);
  x->cur = inst;
  x->fuel_used += (uint64_t)(budget - fuel);
  if (hard_cut) {
    tk = SOS_WASM_TRAP_FUEL;
    goto trap_out;
  }
  x->state = SOS__EXEC_READY;
  return SOS_WASM_YIELDED;

done:
  SAVE_FRAMES();
  x->fp = 0;
  x->fuel_used += (uint64_t)(budget - fuel);
  x->state = SOS__EXEC_DONE;
  return SOS_WASM_DONE;

trap:
  x->fuel_used += (uint64_t)(budget - fuel);
trap_out:
  x->state = SOS__EXEC_IDLE;
  x->nframes = 0;
  sos__trap_message(trap, tk, trap_index);
  return SOS_ETRAP;
}

void sos__trap_message(struct sos_wasm_trap *trap, int kind, int64_t index) {
  static const char *const msgs[] = {
#define TRAP_MSG(e, name, msg) msg,
      SOS_WASM_TRAP_MAP(TRAP_MSG)};
  trap->kind = kind;
  trap->exit_code = 0;
  if (index >= 0 &&
      (kind == SOS_WASM_TRAP_UNDEFINED_ELEMENT || kind == SOS_WASM_TRAP_UNINITIALIZED))
    snprintf(trap->message, sizeof trap->message, "%s %lld", msgs[kind], (long long)index);
  else
    snprintf(trap->message, sizeof trap->message, "%s", msgs[kind]);
}

/* ---- one op at a time, for the JIT -------------------------------------------- */

int sos__interp_step(struct sos__jctx *j, uint64_t *fpu, const uint32_t *pc, unsigned op) {
  static const void *const labels[] = {
#define LAB_MISC(n) [SOS__OP_##n] = &&L_##n,
#define LAB_CMP(c, n, T, e)                                                   \
  [SOS__OP_##n] = &&L_##n, [SOS__OP_##n##_imm] = &&L_##n##_imm,               \
  [SOS__OP_br_##n] = &&L_br_##n, [SOS__OP_br_##n##_imm] = &&L_br_##n##_imm,
#define LAB_BIN(c, n, T, ...) [SOS__OP_##n] = &&L_##n, [SOS__OP_##n##_imm] = &&L_##n##_imm,
#define LAB_UN(c, n, T, TR, e) [SOS__OP_##n] = &&L_##n,
#define LAB_MEMBIN(c, n, T, l, e)                                             \
  [SOS__OP_##n##_m] = &&L_##n##_m, [SOS__OP_##n##_mi] = &&L_##n##_mi,         \
  [SOS__OP_##n##_ms] = &&L_##n##_ms,
#define LAB_BRA(c, n, T, e)                                                   \
  [SOS__OP_bra_##n##_ii] = &&L_bra_##n##_ii, [SOS__OP_bra_##n##_ir] = &&L_bra_##n##_ir, \
  [SOS__OP_bra_##n##_ri] = &&L_bra_##n##_ri, [SOS__OP_bra_##n##_rr] = &&L_bra_##n##_rr,
#define LAB_MEM(c, n, T, CT, B)                                               \
  [SOS__OP_##n] = &&L_##n, [SOS__OP_##n##_ai] = &&L_##n##_ai,                 \
  [SOS__OP_##n##_ar] = &&L_##n##_ar, [SOS__OP_##n##_as] = &&L_##n##_as,
      SOS__MISCOPS(LAB_MISC) SOS__CMPOPS(LAB_CMP) SOS__IBINOPS(LAB_BIN)
          SOS__FBINOPS(LAB_BIN) SOS__UNOPS(LAB_UN) SOS__LOADS(LAB_MEM)
              SOS__STORES(LAB_MEM) SOS__CMPOPS32(LAB_BRA) SOS__MEMBINOPS(LAB_MEMBIN)};
  slot *fp = (slot *)fpu;
  sos_wasm_instance *inst = j->inst;
  const struct sos__code *codes = inst->mod->codes;
  sos_wasm_memory *m0 = inst->mem0 ? inst->mem0 : &no_memory;
  uint8_t *mem = m0->data;
  uint64_t memsize = m0->size;
  int64_t fuel = j->fuel, budget = j->budget;
  bool hard_cut = j->hard_cut != 0;
  int tk = SOS_WASM_TRAP_HOST;
  int64_t trap_index = -1;
  sos_wasm_func *callee;
  uint32_t cbase;
  const uint32_t *ret_pc;
  slot *stack = fp, *stack_end = fp;
  struct sos__frame *ftop = NULL, *fend = NULL;
  (void)codes, (void)callee, (void)cbase, (void)ret_pc, (void)stack, (void)stack_end;
  (void)ftop, (void)fend, (void)trap_index;
  if (op >= SOS__OP_COUNT) return SOS_WASM_TRAP_HOST;
  goto *labels[op];

#undef NEXT
#undef JUMP
#undef ENTER
#undef LOAD_INST
#define NEXT() goto step_done
#define JUMP(off)                                                             \
  do {                                                                        \
    (void)(off);                                                              \
    goto step_unsupported;                                                    \
  } while (0)
#define ENTER(cc_, base_, rpc_) goto step_unsupported
#define LOAD_INST() goto step_unsupported
#include "wasm/interp_ops.inc"

step_done:
  j->fuel = fuel;
  j->memsize = m0->size;
  return -1;
out_of_fuel:
  return -2; /* CHARGE restored fuel before jumping here */
trap:
  j->fuel = fuel; /* a bulk op's charge stands when it then traps, as in interp() */
  return tk;
call_func:
done:
step_unsupported:
  return SOS_WASM_TRAP_HOST;
}

/* ---- debugging ---------------------------------------------------------------- */

/* ---- operand shapes --------------------------------------------------------- */

/* For each op, one letter per word after the op word: 'i' an integer (or
 * f32) slot read, 'f' an f64 slot read, 'I' / 'F' written, 'x' / 'X' a
 * slot read / written as raw bits, 'k' an immediate, 'j' a branch offset.
 * The JIT's register assignment counts slot uses from these; the op's
 * length in words is one more than its shape's (sos__op_words). */
#define R_I32 "i"
#define R_I64 "i"
#define R_F32 "i"
#define R_F64 "f"
#define W_I32 "I"
#define W_I64 "I"
#define W_F32 "I"
#define W_F64 "F"
#define K_I32 "k"
#define K_I64 "kk"
#define K_F32 "k"
#define K_F64 "kk"
#define SOS_WASM_I32 I32
#define SOS_WASM_I64 I64
#define SOS_WASM_F32 F32
#define SOS_WASM_F64 F64

const char *const sos__op_shapes[SOS__OP_COUNT] = {
    [SOS__OP_unreachable] = "", [SOS__OP_fuel] = "k", [SOS__OP_copy] = "Xx",
    [SOS__OP_const32] = "Xk", [SOS__OP_const64] = "Xkk", [SOS__OP_br] = "j",
    [SOS__OP_br_if] = "ji", [SOS__OP_br_unless] = "ji", [SOS__OP_br_table] = "ik",
    [SOS__OP_ret] = "", [SOS__OP_call] = "kk", [SOS__OP_call_import] = "kk",
    [SOS__OP_call_indirect] = "kkik", [SOS__OP_select] = "Xixx", [SOS__OP_global_get] = "Xk",
    [SOS__OP_global_set] = "xk", [SOS__OP_memory_size] = "I", [SOS__OP_memory_grow] = "Ii",
    [SOS__OP_memory_fill] = "iii", [SOS__OP_memory_copy] = "iii",
    [SOS__OP_memory_init] = "kiii", [SOS__OP_data_drop] = "k", [SOS__OP_table_get] = "Xki",
    [SOS__OP_table_set] = "kix", [SOS__OP_table_size] = "Ik", [SOS__OP_table_grow] = "Ikxi",
    [SOS__OP_table_fill] = "kixi", [SOS__OP_table_copy] = "kkiii",
    [SOS__OP_table_init] = "kkiii", [SOS__OP_elem_drop] = "k", [SOS__OP_ref_is_null] = "Ix",
    [SOS__OP_ref_func] = "Xk", [SOS__OP_br_if_eqz32] = "ji", [SOS__OP_br_if_eqz64] = "ji",
    [SOS__OP_br_if_nez64] = "ji", [SOS__OP_f32_madd] = "Iiii", [SOS__OP_f64_madd] = "Ffff",
    [SOS__OP_f32_msub] = "Iiii", [SOS__OP_f64_msub] = "Ffff", [SOS__OP_i32_add_shl] = "Iiik",
#define SH_CMP(c, n, T, e)                                                    \
  [SOS__OP_##n] = "Iii", [SOS__OP_##n##_imm] = "Ii" K_##T,                    \
  [SOS__OP_br_##n] = "jii", [SOS__OP_br_##n##_imm] = "ji" K_##T,
#define SH_IBIN(c, n, T, e) [SOS__OP_##n] = "Iii", [SOS__OP_##n##_imm] = "Ii" K_##T,
#define SH_FBIN(c, n, T, TR, e)                                               \
  [SOS__OP_##n] = W_##TR R_##T R_##T, [SOS__OP_##n##_imm] = W_##TR R_##T K_##T,
#define SH_UN(c, n, T, TR, e) [SOS__OP_##n] = W_##TR R_##T,
#define SH_LOAD(c, n, TR, CT, B)                                              \
  [SOS__OP_##n] = W_##TR "ik", [SOS__OP_##n##_ai] = W_##TR "ikk",             \
  [SOS__OP_##n##_ar] = W_##TR "iki", [SOS__OP_##n##_as] = W_##TR "ikik",
#define SH_STORE(c, n, T, CT, B)                                              \
  [SOS__OP_##n] = "i" R_##T "k", [SOS__OP_##n##_ai] = "i" R_##T "kk",         \
  [SOS__OP_##n##_ar] = "i" R_##T "ki", [SOS__OP_##n##_as] = "i" R_##T "kik",
#define SH_MEMBIN(c, n, T, l, e)                                              \
  [SOS__OP_##n##_m] = W_##T R_##T "ik", [SOS__OP_##n##_mi] = W_##T R_##T "ikk", \
  [SOS__OP_##n##_ms] = R_##T "ik",
#define SH_BRA(c, n, T, e)                                                    \
  [SOS__OP_bra_##n##_ii] = "jIikk", [SOS__OP_bra_##n##_ir] = "jIiki",          \
  [SOS__OP_bra_##n##_ri] = "jIiik", [SOS__OP_bra_##n##_rr] = "jIiii",
    SOS__CMPOPS(SH_CMP) SOS__IBINOPS(SH_IBIN) SOS__FBINOPS(SH_FBIN) SOS__UNOPS(SH_UN)
        SOS__LOADS(SH_LOAD) SOS__STORES(SH_STORE) SOS__MEMBINOPS(SH_MEMBIN)
            SOS__CMPOPS32(SH_BRA)};

uint32_t sos__op_words(const uint32_t *code, uint32_t i, unsigned op) {
  uint32_t n = 1 + (uint32_t)strlen(sos__op_shapes[op]);
  if (op == SOS__OP_br_table) n += code[i + 2] + 1;
  return n;
}

/* The name of every op, indexed by enum sos__op (for dumps). */
static const char *const opnames[SOS__OP_COUNT] = {
#define INFO_MISC(n) [SOS__OP_##n] = #n,
#define INFO_CMP(c, n, T, e)                                                  \
  [SOS__OP_##n] = #n, [SOS__OP_##n##_imm] = #n "_imm",    \
  [SOS__OP_br_##n] = "br_" #n,                                           \
  [SOS__OP_br_##n##_imm] = "br_" #n "_imm",
#define INFO_IBIN(c, n, T, e)                                                 \
  [SOS__OP_##n] = #n, [SOS__OP_##n##_imm] = #n "_imm",
#define INFO_FBIN(c, n, T, TR, e)                                             \
  [SOS__OP_##n] = #n, [SOS__OP_##n##_imm] = #n "_imm",
#define INFO_UN(c, n, T, TR, e) [SOS__OP_##n] = #n,
#define INFO_MEMBIN(c, n, T, l, e)                                            \
  [SOS__OP_##n##_m] = #n "_m", [SOS__OP_##n##_mi] = #n "_mi",    \
  [SOS__OP_##n##_ms] = #n "_ms",
#define INFO_BRA(c, n, T, e)                                                  \
  [SOS__OP_bra_##n##_ii] = "bra_" #n "_ii",                              \
  [SOS__OP_bra_##n##_ir] = "bra_" #n "_ir",                              \
  [SOS__OP_bra_##n##_ri] = "bra_" #n "_ri",                              \
  [SOS__OP_bra_##n##_rr] = "bra_" #n "_rr",
#define INFO_MEM(c, n, T, CT, B)                                              \
  [SOS__OP_##n] = #n, [SOS__OP_##n##_ai] = #n "_ai",                \
  [SOS__OP_##n##_ar] = #n "_ar", [SOS__OP_##n##_as] = #n "_as",
    SOS__MISCOPS(INFO_MISC) SOS__CMPOPS(INFO_CMP) SOS__IBINOPS(INFO_IBIN)
        SOS__FBINOPS(INFO_FBIN) SOS__UNOPS(INFO_UN) SOS__LOADS(INFO_MEM)
            SOS__STORES(INFO_MEM) SOS__CMPOPS32(INFO_BRA)
                SOS__MEMBINOPS(INFO_MEMBIN)};

void sos__code_dump(const struct sos__code *code, void *file) {
  FILE *f = file;
  fprintf(f, "; params %u locals %u slots %u fuel %u\n", code->nparams, code->nlocals,
          code->frame_slots, code->fuel);
  for (uint32_t i = 0; i < code->nops;) {
    uint32_t op = 0;
    while (op < SOS__OP_COUNT && sos__op_word(op) != code->ops[i]) op++;
    if (op == SOS__OP_COUNT) {
      fprintf(f, "%5u  ?? %08x\n", i, code->ops[i]);
      return;
    }
    uint32_t w = sos__op_words(code->ops, i, op);
    fprintf(f, "%5u  %-22s", i, opnames[op]);
    for (uint32_t k = 1; k < w && i + k < code->nops; k++)
      fprintf(f, " %d", (int32_t)code->ops[i + k]);
    fputc('\n', f);
    i += w;
  }
}

/* ---- the run API ------------------------------------------------------------ */

int sos__exec_init(struct sos__exec *x, const struct sos_wasm_limits *lim) {
  memset(x, 0, sizeof *x);
  x->stack_max = lim->max_stack / sizeof(uint64_t);
  x->max_depth = lim->max_call_depth;
  x->fuel_limit = lim->fuel;
  x->stack_cap = 256;
  x->frames_cap = 16;
  x->stack = sos_malloc(x->stack_cap * sizeof *x->stack);
  x->frames = sos_malloc(x->frames_cap * sizeof *x->frames);
  if (!x->stack || !x->frames) {
    sos__exec_free(x);
    return SOS_ENOMEM;
  }
  return 0;
}

void sos__exec_free(struct sos__exec *x) {
  sos_free(x->stack);
  sos_free(x->frames);
  x->stack = NULL;
  x->frames = NULL;
}

const char *sos_wasm_trap_name(int kind) {
  static const char *const names[] = {
#define TRAP_NAME(e, name, msg) name,
      SOS_WASM_TRAP_MAP(TRAP_NAME)};
  if (kind < 0 || kind >= (int)(sizeof names / sizeof *names)) return "unknown";
  return names[kind];
}

int sos_wasm_call_begin(sos_wasm_instance *in, sos_wasm_func *f,
                        const sos_wasm_val *args, uint32_t nargs) {
  struct sos__exec *x = &in->exec;
  if (x->state != SOS__EXEC_IDLE && x->state != SOS__EXEC_DONE) return SOS_ESTATE;
  if (!f || nargs != f->type.nparams) return SOS_EINVAL;
  uint64_t need = f->type.nparams > f->type.nresults ? f->type.nparams : f->type.nresults;
  if (f->code && f->code->frame_slots > need) need = f->code->frame_slots;
  if (need > x->stack_cap && !sos__exec_grow_stack(x, need)) return SOS_ELIMIT;
  if (nargs) memcpy(x->stack, args, nargs * sizeof *args);
  x->entry = f;
  x->entry_resumed = false;
  x->fp = 0;
  x->nframes = 0;
  x->cur = f->inst ? f->inst : in;
  x->pc = NULL;
  if (f->code) {
    const struct sos__code *c = f->code;
    if (!c->jit) frame_init(x->stack, c); /* machine code's entry does it itself */
    x->frames[0] = (struct sos__frame){NULL, x->stack, x->cur, NULL};
    x->nframes = 1;
    x->pc = c->ops;
    x->jit_addr = c->jit;
    x->jit_cont = NULL;
    x->entry_fuel = c->fuel;
  }
  x->state = SOS__EXEC_READY;
  return 0;
}

/* Runs an entry that is itself a host function. */
static int run_host_entry(sos_wasm_instance *in, struct sos_wasm_trap *trap) {
  struct sos__exec *x = &in->exec;
  sos_wasm_func *f = x->entry;
  uint64_t res[SOS_WASM_HOST_MAX_RESULTS];
  struct sos_wasm_hostcall hc = {in, f->env, x->stack, res, trap};
  x->state = SOS__EXEC_RUNNING;
  int r = f->host(&hc);
  if (r == SOS_WASM_HOST_OK) {
    memcpy(x->stack, res, f->type.nresults * sizeof *res);
    x->state = SOS__EXEC_DONE;
    return SOS_WASM_DONE;
  }
  if (r == SOS_WASM_HOST_SUSPEND) {
    x->host_res = 0;
    x->host_nres = f->type.nresults;
    x->pc = NULL;
    x->state = SOS__EXEC_SUSPENDED;
    return SOS_WASM_SUSPENDED;
  }
  return sos__host_failed(x, trap, r);
}

int sos_wasm_run(sos_wasm_instance *in, int64_t fuel, struct sos_wasm_trap *trap) {
  struct sos_wasm_trap local;
  if (!trap) trap = &local;
  trap->kind = -1;
  trap->exit_code = 0;
  trap->message[0] = 0;
  struct sos__exec *x = &in->exec;
  if (x->state != SOS__EXEC_READY) return SOS_ESTATE;
  if (!x->pc) {
    if (x->entry->code) return SOS_ESTATE;
    if (x->entry_resumed) { /* its results came with sos_wasm_resume */
      x->state = SOS__EXEC_DONE;
      return SOS_WASM_DONE;
    }
    return run_host_entry(in, trap);
  }
  x->state = SOS__EXEC_RUNNING;
  if (x->jit_addr) return sos__jit_run(in, fuel, trap);
  return interp(in, fuel, trap);
}

int sos_wasm_resume(sos_wasm_instance *in, const sos_wasm_val *results, uint32_t n) {
  struct sos__exec *x = &in->exec;
  if (x->state != SOS__EXEC_SUSPENDED) return SOS_ESTATE;
  if (n != x->host_nres) return SOS_EINVAL;
  if (n) memcpy(x->stack + x->fp + x->host_res, results, n * sizeof *results);
  x->entry_resumed = x->pc == NULL; /* a host entry: nothing left to run */
  x->state = SOS__EXEC_READY;
  return 0;
}

const sos_wasm_val *sos_wasm_results(const sos_wasm_instance *in, uint32_t *n) {
  const struct sos__exec *x = &in->exec;
  if (x->state != SOS__EXEC_DONE) {
    if (n) *n = 0;
    return NULL;
  }
  if (n) *n = x->entry->type.nresults;
  return x->stack;
}

void sos_wasm_call_abort(sos_wasm_instance *in) {
  in->exec.state = SOS__EXEC_IDLE;
  in->exec.nframes = 0;
}

int sos_wasm_call(sos_wasm_instance *in, sos_wasm_func *f, const sos_wasm_val *args,
                  uint32_t nargs, sos_wasm_val *results, uint32_t cap,
                  struct sos_wasm_trap *trap) {
  int rc = sos_wasm_call_begin(in, f, args, nargs);
  if (rc) return rc;
  rc = sos_wasm_run(in, -1, trap);
  if (rc == SOS_WASM_SUSPENDED || rc == SOS_WASM_YIELDED) {
    sos_wasm_call_abort(in);
    return SOS_ESTATE;
  }
  if (rc) return rc;
  uint32_t n;
  const sos_wasm_val *r = sos_wasm_results(in, &n);
  if (n > cap) n = cap;
  if (n) memcpy(results, r, n * sizeof *r);
  return 0;
}

uint64_t sos_wasm_fuel_used(const sos_wasm_instance *in) { return in->exec.fuel_used; }

int sos_wasm_host_trap(struct sos_wasm_hostcall *call, int kind, const char *fmt, ...) {
  if (call->trap) {
    call->trap->kind = kind;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(call->trap->message, sizeof call->trap->message, fmt, ap);
    va_end(ap);
  }
  return SOS_ETRAP;
}

int sos_wasm_host_exit(struct sos_wasm_hostcall *call, uint32_t code) {
  if (call->trap) {
    call->trap->kind = SOS_WASM_TRAP_EXIT;
    call->trap->exit_code = code;
    snprintf(call->trap->message, sizeof call->trap->message,
             "program exited with code %u", code);
  }
  return SOS_ETRAP;
}

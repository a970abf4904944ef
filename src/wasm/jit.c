/*
 * jit.c - translates internal code to x86-64 machine code, and runs it.
 *
 * Input: the register code compile.c writes for the interpreter (ops.h,
 * interp.c): each op names frame slots, immediates and branch offsets.
 * Output: one buffer of machine code per module, made executable once and
 * shared read-only by every instance on every thread.
 *
 * The model is the interpreter's, so a run can stop anywhere the
 * interpreter could and continue later on another thread:
 *
 * - Values live in the frame's 64-bit slots on the instance's value
 *   stack.  Within a function, the most used slots are also given a
 *   machine register for the whole function (a static assignment: eight
 *   general registers for integer slots, fourteen SSE registers for f64
 *   slots, chosen by use counts weighted by loop depth).  A slot's memory
 *   copy may be stale while code runs; every place where other code reads
 *   the frame (a call, a stop, an op run by sos__interp_step) first
 *   stores all assigned registers ("spill"), and every place that
 *   continues after other code ran loads them back ("reload").  Because
 *   the assignment is fixed per function, spill and reload are the same
 *   code everywhere in it.
 * - Pinned registers: rbx the frame base, r12 the memory base, r13 the
 *   run loop's struct sos__jctx, r14 the fuel left.  rax, rcx, rdx and
 *   xmm0, xmm1 are scratch.
 * - Calls between functions of the same instance push a struct sos__frame
 *   (its ret_jit is the return address) and jump; returns pop it and jump
 *   back.  Nothing goes on the native stack, which holds only the entry
 *   trampoline's saved registers and, briefly, C calls.
 * - Fuel is charged where the interpreter charges it (loop heads,
 *   backward branches, calls, bulk ops) with the same amounts, so fuel
 *   accounting is identical.
 * - Everything unusual leaves the machine code for the run loop
 *   (sos__jit_run): the end of the run, traps, running out of fuel, host
 *   calls, calls into other instances, call_indirect's slow cases, stack
 *   growth.  The code spills, records in the context what it needs
 *   (where to retry, where to continue) and returns a status; the run
 *   loop acts and re-enters, or saves the continuation in the instance.
 * - Operators that are rare or long (table and bulk memory ops, trapping
 *   float-to-int conversions, min/max, memory.grow, ...) are run by
 *   sos__interp_step, the interpreter's own handler for that op, so their
 *   semantics are written once.
 *
 * x64.h encodes the instructions.  docs/engine.md describes the design
 * for readers of the whole engine.
 */
#include "wasm/jit.h"

#include "wasm/ops.h"
#include "wasm/x64.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <cpuid.h>
#define JIT_HOST 1
#else
#define JIT_HOST 0
#endif

/* ---- whether to use it ---------------------------------------------------- */

static bool jit_on;

static void jit_decide(void) {
#if JIT_HOST
  const char *e = getenv("SOS_WASM_JIT");
  if (e && strcmp(e, "0") == 0) return;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return;
  bool sse41 = c & (1u << 19), popcnt = c & (1u << 23);
  if (!__get_cpuid(0x80000001u, &a, &b, &c, &d)) return;
  bool lzcnt = c & (1u << 5);
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return;
  bool bmi1 = b & (1u << 3);
  jit_on = sse41 && popcnt && lzcnt && bmi1;
#endif
}

bool sos__jit_enabled(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, jit_decide);
  return jit_on;
}

void sos__x_grow(struct xbuf *b, size_t need) {
  if (b->oom) return;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->n + need) cap *= 2;
  uint8_t *p = sos_realloc(b->p, cap);
  if (!p) {
    b->oom = true;
    return;
  }
  b->p = p;
  b->cap = cap;
}

/* ---- op identity ---------------------------------------------------------------- */

/* The op of an op word: op words are handler offsets (interp.c), mapped
 * back through a sorted table made once. */
struct opword {
  uint32_t word;
  uint16_t op;
};
static struct opword opwords[SOS__OP_COUNT];

static int opword_cmp(const void *a, const void *b) {
  uint32_t x = ((const struct opword *)a)->word, y = ((const struct opword *)b)->word;
  return x < y ? -1 : x > y;
}
/* The call ops' words, which the run loop compares a stopped call with. */
static uint32_t w_call, w_import;

static void opwords_init(void) {
  w_call = sos__op_word(SOS__OP_call);
  w_import = sos__op_word(SOS__OP_call_import);
  for (unsigned i = 0; i < SOS__OP_COUNT; i++)
    opwords[i] = (struct opword){sos__op_word(i), (uint16_t)i};
  qsort(opwords, SOS__OP_COUNT, sizeof *opwords, opword_cmp);
}
static unsigned op_of(uint32_t word) {
  size_t lo = 0, hi = SOS__OP_COUNT;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (opwords[mid].word < word) lo = mid + 1;
    else hi = mid;
  }
  return lo < SOS__OP_COUNT && opwords[lo].word == word ? opwords[lo].op : SOS__OP_COUNT;
}

/* ---- what a stop asks of the run loop ------------------------------------------- */

enum {
  ST_DONE,  /* the entry function returned */
  ST_TRAP,  /* j.trap_kind */
  ST_FUEL,  /* charging j.arg would overdraw the slice: retry or continue */
  ST_YIELD, /* an op run by sos__interp_step needs more fuel: retry */
  ST_CALL,  /* perform the call op at j.op_pc, then continue at j.cont */
  ST_HOST,  /* the host function of the call at j.op_pc returned j.arg,
               not OK: suspend (resume at j.cont), or fail */
  ST_RET,   /* returned into another instance: the popped frame says where */
};

#define JOFF(f) ((int32_t)offsetof(struct sos__jctx, f))
#define CTX(f) xm_b(R13, JOFF(f))

/* ---- the translator --------------------------------------------------------- */

/* Where a slot lives in the function being translated. */
enum { LOC_MEM, LOC_GPR, LOC_XMM, LOC_CONST };

struct loc {
  int kind, reg;
  uint64_t k;
};

enum { FX_LABEL, FX_TABLE, FX_TRAP };

struct fix {
  size_t at;
  uint32_t target; /* FX_LABEL/FX_TABLE: op word index; FX_TRAP: trap kind */
  size_t base;     /* FX_TABLE: the table's start */
  int kind;
};

enum { COLD_FUEL, COLD_CALL, COLD_STEP, COLD_HOST };

struct cold {
  int kind;
  size_t jump;      /* the jcc/jmp to bind to this cold code */
  size_t jump2;     /* a second jump to the same code (0: none) */
  size_t undo_jump; /* COLD_CALL: a jump whose path charged `k` first */
  uint32_t k;
  size_t retry;     /* address that redoes the op */
  uint32_t cont;    /* COLD_FUEL: op word to continue at (or NONE) */
  size_t cont_at;   /* ... or this address */
  const uint32_t *pc;
};

#define NONE32 0xffffffffu

enum { XMM0, XMM1 }; /* scratch SSE registers */

/* Register pools for slots. */
static const int gpr_pool[] = {RBP, R15, RSI, RDI, R8, R9, R10, R11};
#define NGPR ((int)(sizeof gpr_pool / sizeof *gpr_pool))
#define NXMM 14 /* xmm2 .. xmm15 */

struct jt {
  struct xbuf *b;
  const sos_wasm_module *m;
  const struct sos__code *c;
  const uint32_t *code;
  uint32_t nslots;
  uint8_t *where; /* per slot: 0 memory, 1 + r a GPR, 32 + x an XMM */
  bool *written;  /* per slot: some op writes it (a pool slot is then no constant) */
  bool pool_read; /* something reads constant-pool slots from the frame */
  /* Liveness of the slots that have registers, as bit masks (bit b for
   * the b-th such slot, mslot[b]), after each op (indexed by its first
   * word): a call stores and reloads only what is live across it. */
  uint32_t nmapped;
  uint32_t mslot[NGPR + NXMM];
  uint32_t *live_out;
  uint32_t cur; /* the op being translated */
  size_t *label;  /* per op word: machine code offset, or SIZE_MAX */
  bool *target;   /* per op word: a branch lands there */
  /* Address slots whose bounds check covers [value, value + end) since
   * the code last met a branch target or wrote the slot (check_slot). */
  uint32_t ck_slot[4], ck_end[4], nck;
  struct fix *fx;
  size_t nfx, capfx;
  struct cold *cd;
  size_t ncd, capcd;
  struct cold cold_sink; /* what add_cold hands out once out of memory */
  size_t stub;       /* reload-and-continue entry */
  size_t spill_exit; /* spill, note the stub, leave with status in eax */
  /* direct calls (module-wide): the rel32 to bind to a callee's entry */
  struct callfix {
    size_t at;
    uint32_t callee;
  } *calls;
  size_t ncalls, capcalls;
  bool oom;
};

static void *grow_array(void *p, size_t *cap, size_t n, size_t size, bool *oom) {
  if (n < *cap) return p;
  size_t c = *cap ? *cap * 2 : 16;
  void *q = sos_realloc(p, c * size);
  if (!q) {
    *oom = true;
    return p;
  }
  *cap = c;
  return q;
}

static void add_fix(struct jt *t, size_t at, uint32_t target, size_t base, int kind) {
  t->fx = grow_array(t->fx, &t->capfx, t->nfx, sizeof *t->fx, &t->oom);
  if (t->oom) return;
  t->fx[t->nfx++] = (struct fix){at, target, base, kind};
}
static struct cold *add_cold(struct jt *t, int kind) {
  t->cd = grow_array(t->cd, &t->capcd, t->ncd, sizeof *t->cd, &t->oom);
  if (t->oom) return &t->cold_sink;
  struct cold *c = &t->cd[t->ncd++];
  memset(c, 0, sizeof *c);
  c->kind = kind;
  c->cont = NONE32;
  return c;
}

static struct loc where(const struct jt *t, uint32_t s) {
  const struct sos__code *c = t->c;
  if (s >= c->const_base && s - c->const_base < c->nconsts && !t->written[s])
    return (struct loc){LOC_CONST, 0, c->consts[s - c->const_base]};
  uint8_t w = s < t->nslots ? t->where[s] : 0;
  if (w >= 32) return (struct loc){LOC_XMM, w - 32 + 2, 0};
  if (w >= 1) return (struct loc){LOC_GPR, gpr_pool[w - 1], 0};
  return (struct loc){LOC_MEM, 0, 0};
}
static struct xm slot_m(uint32_t s) { return xm_b(RBX, (int32_t)(s * 8)); }
static int gpr_of(const struct jt *t, uint32_t s) {
  struct loc l = where(t, s);
  return l.kind == LOC_GPR ? l.reg : -1;
}
static int xmm_of(const struct jt *t, uint32_t s) {
  struct loc l = where(t, s);
  return l.kind == LOC_XMM ? l.reg : -1;
}

/* ---- spill and reload ---- */

/* Stores the registers of the slots in mask to their slots: only of slots
 * some op writes (the others' memory copies never went stale). */
static void spill_mask(struct jt *t, uint32_t mask) {
  for (uint32_t b = 0; b < t->nmapped; b++) {
    uint32_t s = t->mslot[b];
    if (!(mask >> b & 1) || !t->written[s]) continue;
    struct loc l = where(t, s);
    if (l.kind == LOC_GPR) x_store(t->b, XW, slot_m(s), l.reg);
    else if (l.kind == LOC_XMM) x_sse_rm(t->b, true, SSE_MOVST, l.reg, slot_m(s));
  }
}
static void reload_mask(struct jt *t, uint32_t mask) {
  for (uint32_t b = 0; b < t->nmapped; b++) {
    uint32_t s = t->mslot[b];
    if (!(mask >> b & 1)) continue;
    struct loc l = where(t, s);
    if (l.kind == LOC_GPR) x_load(t->b, XW, l.reg, slot_m(s));
    else if (l.kind == LOC_XMM) x_sse_rm(t->b, true, SSE_MOV, l.reg, slot_m(s));
  }
}
static void spill_all(struct jt *t) { spill_mask(t, ~0u); }
static void reload_all(struct jt *t) { reload_mask(t, ~0u); }
/* The slots with registers at or above frame index base (a call's
 * arguments and what the callee may overwrite). */
static uint32_t mask_from(const struct jt *t, uint32_t base) {
  uint32_t m = 0;
  for (uint32_t b = 0; b < t->nmapped; b++)
    if (t->mslot[b] >= base) m |= 1u << b;
  return m;
}
/* What a call at the current op stores first: its arguments and what is
 * live after it; and what it loads back after: what is live after it. */
static uint32_t call_spill(const struct jt *t, uint32_t base) {
  return t->live_out ? (t->live_out[t->cur] | mask_from(t, base)) : ~0u;
}
static uint32_t call_reload(const struct jt *t) {
  return t->live_out ? t->live_out[t->cur] : ~0u;
}

/* ---- moving values ---- */

/* Loads slot s into general register r: 32 bits (zero-extended) or, with
 * w = XW, 64. */
static void ld_gpr(struct jt *t, unsigned w, int r, uint32_t s) {
  struct loc l = where(t, s);
  switch (l.kind) {
  case LOC_CONST: x_mov_ri(t->b, r, w ? l.k : (uint32_t)l.k); break;
  case LOC_GPR:
    if (l.reg != r) x_mov_rr(t->b, w, r, l.reg);
    break;
  case LOC_XMM: x_movq_rx(t->b, w, r, l.reg); break;
  default: x_load(t->b, w, r, slot_m(s));
  }
}
/* A general register holding slot s: its own, or scratch loaded. */
static int src_gpr(struct jt *t, unsigned w, uint32_t s, int scratch) {
  int r = gpr_of(t, s);
  if (r >= 0) return r;
  ld_gpr(t, w, scratch, s);
  return scratch;
}
/* Stores the 64 bits of r into slot s. */
static void st_gpr(struct jt *t, uint32_t s, int r) {
  struct loc l = where(t, s);
  if (l.kind == LOC_GPR) {
    if (l.reg != r) x_mov_rr(t->b, XW, l.reg, r);
  } else if (l.kind == LOC_XMM) {
    x_movq_xr(t->b, XW, l.reg, r);
  } else if (l.kind == LOC_MEM) {
    x_store(t->b, XW, slot_m(s), r);
  }
}
/* The register an integer result for slot d is computed in: d's own, or
 * rax. */
static int dst_gpr(struct jt *t, uint32_t d) {
  int r = gpr_of(t, d);
  return r >= 0 ? r : RAX;
}
/* op r, slot s (alu: ALU_*); `tmp` may be used for constants that do not
 * fit an immediate or values in SSE registers. */
static void alu_slot(struct jt *t, unsigned w, int alu, int r, uint32_t s, int tmp) {
  struct loc l = where(t, s);
  switch (l.kind) {
  case LOC_CONST: {
    uint64_t v = w ? l.k : (uint32_t)l.k;
    if (!w || (int64_t)v == (int32_t)v) {
      x_alu_ri(t->b, w, alu, r, (int32_t)(uint32_t)v);
    } else {
      x_mov_ri(t->b, tmp, v);
      x_alu_rr(t->b, w, alu, r, tmp);
    }
    break;
  }
  case LOC_GPR: x_alu_rr(t->b, w, alu, r, l.reg); break;
  case LOC_XMM:
    x_movq_rx(t->b, w, tmp, l.reg);
    x_alu_rr(t->b, w, alu, r, tmp);
    break;
  default: x_alu_rm(t->b, w, alu, r, slot_m(s));
  }
}
static void alu_imm(struct jt *t, unsigned w, int alu, int r, uint64_t v, int tmp) {
  if (!w) v = (uint32_t)v;
  if (!w || (int64_t)v == (int32_t)v) {
    x_alu_ri(t->b, w, alu, r, (int32_t)(uint32_t)v);
  } else {
    x_mov_ri(t->b, tmp, v);
    x_alu_rr(t->b, w, alu, r, tmp);
  }
}

/* Loads slot s into SSE register x as a double (dbl) or a float. */
static void ld_xmm(struct jt *t, bool dbl, int x, uint32_t s) {
  struct loc l = where(t, s);
  switch (l.kind) {
  case LOC_CONST:
    if (l.k == 0) {
      x_xorps(t->b, x, x);
    } else {
      x_mov_ri(t->b, RDX, dbl ? l.k : (uint32_t)l.k);
      x_movq_xr(t->b, dbl ? XW : 0, x, RDX);
    }
    break;
  case LOC_GPR: x_movq_xr(t->b, dbl ? XW : 0, x, l.reg); break;
  case LOC_XMM:
    if (l.reg != x) x_movaps(t->b, x, l.reg);
    break;
  default: x_sse_rm(t->b, dbl, SSE_MOV, x, slot_m(s));
  }
}
static int src_xmm(struct jt *t, bool dbl, uint32_t s, int scratch) {
  int r = xmm_of(t, s);
  if (r >= 0) return r;
  ld_xmm(t, dbl, scratch, s);
  return scratch;
}
/* Stores x into slot s: a double, or a float with the slot's upper half
 * zero (the slot invariant).  x is never a slot's own register for
 * floats (they are computed in xmm0). */
static void st_xmm(struct jt *t, bool dbl, uint32_t s, int x) {
  struct loc l = where(t, s);
  if (l.kind == LOC_XMM) {
    if (dbl) {
      if (l.reg != x) x_movaps(t->b, l.reg, x);
    } else {
      x_movq_rx(t->b, 0, RDX, x);
      x_movq_xr(t->b, XW, l.reg, RDX);
    }
  } else if (l.kind == LOC_GPR) {
    x_movq_rx(t->b, dbl ? XW : 0, l.reg, x);
  } else if (l.kind == LOC_MEM) {
    if (dbl) {
      x_sse_rm(t->b, true, SSE_MOVST, x, slot_m(s));
    } else {
      x_sse_rm(t->b, false, SSE_MOVST, x, slot_m(s));
      x_store_i(t->b, 0, xm_b(RBX, (int32_t)(s * 8 + 4)), 0);
    }
  }
}
/* op x, slot s (SSE arithmetic; f32 or f64). */
static void sse_slot(struct jt *t, bool dbl, unsigned op, int x, uint32_t s) {
  struct loc l = where(t, s);
  if (l.kind == LOC_XMM) {
    x_sse_rr(t->b, dbl, op, x, l.reg);
  } else if (l.kind == LOC_MEM) {
    x_sse_rm(t->b, dbl, op, x, slot_m(s));
  } else {
    ld_xmm(t, dbl, XMM1, s);
    x_sse_rr(t->b, dbl, op, x, XMM1);
  }
}

/* Copies slot s to slot d (raw 64 bits). */
static void move_slot(struct jt *t, uint32_t d, uint32_t s) {
  if (d == s) return;
  struct loc dl = where(t, d), sl = where(t, s);
  if (dl.kind == LOC_GPR) {
    ld_gpr(t, XW, dl.reg, s);
  } else if (dl.kind == LOC_XMM) {
    if (sl.kind == LOC_CONST && sl.k != 0) {
      x_mov_ri(t->b, RDX, sl.k);
      x_movq_xr(t->b, XW, dl.reg, RDX);
    } else {
      ld_xmm(t, true, dl.reg, s);
    }
  } else if (sl.kind == LOC_GPR) {
    x_store(t->b, XW, slot_m(d), sl.reg);
  } else if (sl.kind == LOC_XMM) {
    x_sse_rm(t->b, true, SSE_MOVST, sl.reg, slot_m(d));
  } else if (sl.kind == LOC_CONST && (int64_t)sl.k == (int32_t)sl.k) {
    x_store_i(t->b, XW, slot_m(d), (int32_t)sl.k);
  } else {
    ld_gpr(t, XW, RAX, s);
    x_store(t->b, XW, slot_m(d), RAX);
  }
}
/* Writes the constant v to slot d. */
static void put_const(struct jt *t, uint32_t d, uint64_t v) {
  struct loc l = where(t, d);
  if (l.kind == LOC_GPR) {
    if (v == 0) x_alu_rr(t->b, 0, ALU_XOR, l.reg, l.reg);
    else x_mov_ri(t->b, l.reg, v);
  } else if (l.kind == LOC_XMM) {
    if (v == 0) {
      x_xorps(t->b, l.reg, l.reg);
    } else {
      x_mov_ri(t->b, RDX, v);
      x_movq_xr(t->b, XW, l.reg, RDX);
    }
  } else if ((int64_t)v == (int32_t)v) {
    x_store_i(t->b, XW, slot_m(d), (int32_t)v);
  } else {
    x_mov_ri(t->b, RAX, v);
    x_store(t->b, XW, slot_m(d), RAX);
  }
}

/* ---- jumps, traps and fuel ---- */

static void jump_trap(struct jt *t, int cc, int kind) {
  size_t at = cc < 0 ? x_jmp(t->b) : x_jcc(t->b, cc);
  add_fix(t, at, (uint32_t)kind, 0, FX_TRAP);
}

/* Charges k units of fuel here.  When that would overdraw the slice, the
 * code stops (cold path): the run loop decides, by the interpreter's
 * rule, to retry here later or to charge anyway and continue at op word
 * cont (or at address cont_at when cont is NONE32). */
static void charge(struct jt *t, uint32_t k, uint32_t cont, size_t cont_at) {
  size_t retry = t->b->n;
  x_alu_ri(t->b, XW, ALU_SUB, R14, (int32_t)k);
  struct cold *c = add_cold(t, COLD_FUEL);
  c->jump = x_jcc(t->b, CC_L);
  c->k = k;
  c->retry = retry;
  c->cont = cont;
  c->cont_at = cont_at;
}

/* Jumps by offset o from the op at word i.  A backward jump lands on a
 * loop's `fuel` op: it charges that op's count and goes past it, as the
 * interpreter's JUMP does. */
static void jump_to(struct jt *t, uint32_t i, int32_t o) {
  if (o < 0) {
    uint32_t target = i + (uint32_t)o;
    charge(t, t->code[target + 1], target + 2, 0);
    add_fix(t, x_jmp(t->b), target + 2, 0, FX_LABEL);
  } else {
    add_fix(t, x_jmp(t->b), i + (uint32_t)o, 0, FX_LABEL);
  }
}
/* Jumps by offset o when condition cc holds. */
static void branch_if(struct jt *t, int cc, uint32_t i, int32_t o) {
  if (o >= 0) {
    add_fix(t, x_jcc(t->b, cc), i + (uint32_t)o, 0, FX_LABEL);
    return;
  }
  size_t skip = x_jcc(t->b, cc ^ 1);
  jump_to(t, i, o);
  x_bind(t->b, skip, t->b->n);
}

/* ---- op tables ---- */

enum { G_MISC, G_CMP, G_IBIN, G_FBIN, G_UN, G_LOAD, G_STORE, G_MEMBIN, G_BRA };
enum { F_PLAIN, F_IMM, F_BR, F_BR_IMM, F_M, F_MI, F_MS, F_AI, F_AR, F_AS,
       F_II, F_IR, F_RI, F_RR };

struct opinfo {
  uint16_t opc; /* the WebAssembly opcode (0xFC00 + n for the 0xFC prefix) */
  uint8_t group, form;
};

static const struct opinfo infos[SOS__OP_COUNT] = {
#define IN_CMP(c, n, T, e)                                                    \
  [SOS__OP_##n] = {c, G_CMP, F_PLAIN}, [SOS__OP_##n##_imm] = {c, G_CMP, F_IMM}, \
  [SOS__OP_br_##n] = {c, G_CMP, F_BR}, [SOS__OP_br_##n##_imm] = {c, G_CMP, F_BR_IMM},
#define IN_IBIN(c, n, T, e)                                                   \
  [SOS__OP_##n] = {c, G_IBIN, F_PLAIN}, [SOS__OP_##n##_imm] = {c, G_IBIN, F_IMM},
#define IN_FBIN(c, n, T, TR, e)                                               \
  [SOS__OP_##n] = {c, G_FBIN, F_PLAIN}, [SOS__OP_##n##_imm] = {c, G_FBIN, F_IMM},
#define IN_UN(c, n, T, TR, e) [SOS__OP_##n] = {c, G_UN, F_PLAIN},
#define IN_MEM(c, n, G)                                                       \
  [SOS__OP_##n] = {c, G, F_PLAIN}, [SOS__OP_##n##_ai] = {c, G, F_AI},          \
  [SOS__OP_##n##_ar] = {c, G, F_AR}, [SOS__OP_##n##_as] = {c, G, F_AS},
#define IN_LOAD(c, n, T, CT, B) IN_MEM(c, n, G_LOAD)
#define IN_STORE(c, n, T, CT, B) IN_MEM(c, n, G_STORE)
#define IN_MEMBIN(c, n, T, l, e)                                              \
  [SOS__OP_##n##_m] = {c, G_MEMBIN, F_M}, [SOS__OP_##n##_mi] = {c, G_MEMBIN, F_MI}, \
  [SOS__OP_##n##_ms] = {c, G_MEMBIN, F_MS},
#define IN_BRA(c, n, T, e)                                                    \
  [SOS__OP_bra_##n##_ii] = {c, G_BRA, F_II}, [SOS__OP_bra_##n##_ir] = {c, G_BRA, F_IR}, \
  [SOS__OP_bra_##n##_ri] = {c, G_BRA, F_RI}, [SOS__OP_bra_##n##_rr] = {c, G_BRA, F_RR},
    SOS__CMPOPS(IN_CMP) SOS__IBINOPS(IN_IBIN) SOS__FBINOPS(IN_FBIN) SOS__UNOPS(IN_UN)
        SOS__LOADS(IN_LOAD) SOS__STORES(IN_STORE) SOS__MEMBINOPS(IN_MEMBIN)
            SOS__CMPOPS32(IN_BRA)};

/* Integer comparisons in opcode order: eq ne lt_s lt_u gt_s gt_u le_s
 * le_u ge_s ge_u. */
static const int cmp_cc[10] = {CC_E, CC_NE, CC_L, CC_B, CC_G, CC_A, CC_LE, CC_BE, CC_GE, CC_AE};

static uint64_t imm64(const uint32_t *p) { return (uint64_t)p[0] | (uint64_t)p[1] << 32; }

/* setcc into the result slot d as 0 or 1. */
static void set_result(struct jt *t, int cc, uint32_t d) {
  int r = dst_gpr(t, d);
  x_setcc(t->b, cc, RAX);
  x_movx_rr(t->b, 0, 0xB60F, r, RAX);
  st_gpr(t, d, r);
}

/* ---- integer ops ---- */

static void emit_cmp(struct jt *t, uint32_t i, const uint32_t *pc, struct opinfo in) {
  unsigned w = in.opc >= 0x51 ? XW : 0;
  int cc = cmp_cc[in.opc - (w ? 0x51 : 0x46)];
  bool br = in.form == F_BR || in.form == F_BR_IMM;
  bool imm = in.form == F_IMM || in.form == F_BR_IMM;
  int ra = src_gpr(t, w, pc[2], RAX);
  if (imm) alu_imm(t, w, ALU_CMP, ra, w ? imm64(pc + 3) : pc[3], RCX);
  else alu_slot(t, w, ALU_CMP, ra, pc[3], RCX);
  if (br) branch_if(t, cc, i, (int32_t)pc[1]);
  else set_result(t, cc, pc[1]);
}

/* Division and remainder (k: 3 div_s, 4 div_u, 5 rem_s, 6 rem_u) with
 * the traps of Core 2.0 §4.3.2 (idiv_s / irem_s). */
static void emit_div(struct jt *t, unsigned w, int k, const uint32_t *pc, bool imm) {
  uint32_t d = pc[1];
  uint64_t bv = imm ? (w ? imm64(pc + 3) : pc[3]) : 0;
  ld_gpr(t, w, RAX, pc[2]);
  if (imm) x_mov_ri(t->b, RCX, bv);
  else ld_gpr(t, w, RCX, pc[3]);
  if (!imm || bv == 0) {
    x_test_rr(t->b, w, RCX, RCX);
    jump_trap(t, CC_E, SOS_WASM_TRAP_DIV_ZERO);
  }
  bool minus1 = !imm || (w ? bv == ~0ull : bv == 0xffffffffu);
  if (k == 4 || k == 6) {
    x_alu_rr(t->b, 0, ALU_XOR, RDX, RDX);
    x_f7(t->b, w, 6, RCX);
  } else if (k == 3) {
    size_t ok = 0;
    if (minus1) {
      x_alu_ri(t->b, w, ALU_CMP, RCX, -1);
      ok = x_jcc(t->b, CC_NE);
      if (w) {
        x_mov_ri(t->b, RDX, 0x8000000000000000ull);
        x_alu_rr(t->b, XW, ALU_CMP, RAX, RDX);
      } else {
        x_alu_ri(t->b, 0, ALU_CMP, RAX, INT32_MIN);
      }
      jump_trap(t, CC_E, SOS_WASM_TRAP_OVERFLOW);
      x_bind(t->b, ok, t->b->n);
    }
    x_cqo(t->b, w);
    x_f7(t->b, w, 7, RCX);
  } else {
    size_t zero = 0, end;
    if (minus1) {
      x_alu_ri(t->b, w, ALU_CMP, RCX, -1);
      zero = x_jcc(t->b, CC_E);
    }
    x_cqo(t->b, w);
    x_f7(t->b, w, 7, RCX);
    if (minus1) {
      end = x_jmp(t->b);
      x_bind(t->b, zero, t->b->n);
      x_alu_rr(t->b, 0, ALU_XOR, RDX, RDX);
      x_bind(t->b, end, t->b->n);
    }
  }
  st_gpr(t, d, k == 3 || k == 4 ? RAX : RDX);
}

static void emit_ibin(struct jt *t, const uint32_t *pc, struct opinfo in) {
  unsigned w = in.opc >= 0x7c ? XW : 0;
  int k = in.opc - (w ? 0x7c : 0x6a);
  bool imm = in.form == F_IMM;
  uint32_t d = pc[1], a = pc[2], b = pc[3];
  uint64_t bv = imm ? (w ? imm64(pc + 3) : pc[3]) : 0;
  if (k >= 3 && k <= 6) {
    emit_div(t, w, k, pc, imm);
    return;
  }
  int rd = dst_gpr(t, d);
  if (k >= 10) { /* shifts and rotates */
    static const int sh[5] = {SH_SHL, SH_SAR, SH_SHR, SH_ROL, SH_ROR};
    if (!imm) ld_gpr(t, 0, RCX, b);
    ld_gpr(t, w, rd, a);
    if (imm) x_shift_i(t->b, w, sh[k - 10], rd, (uint8_t)(bv & (w ? 63 : 31)));
    else x_shift_cl(t->b, w, sh[k - 10], rd);
    st_gpr(t, d, rd);
    return;
  }
  bool commutes = k != 1;
  if (!imm && rd == gpr_of(t, b) && rd != gpr_of(t, a)) {
    if (commutes) {
      uint32_t s = a;
      a = b;
      b = s;
    } else {
      rd = RAX;
    }
  }
  if (k == 2) { /* mul */
    if (imm && (w ? (int64_t)bv == (int32_t)bv : true)) {
      int ra = src_gpr(t, w, a, RAX);
      x_imul_rri(t->b, w, rd, ra, (int32_t)(uint32_t)bv);
    } else if (imm) {
      ld_gpr(t, w, rd, a);
      x_mov_ri(t->b, RCX, bv);
      x_imul_rr(t->b, w, rd, RCX);
    } else {
      ld_gpr(t, w, rd, a);
      struct loc l = where(t, b);
      if (l.kind == LOC_GPR) {
        x_imul_rr(t->b, w, rd, l.reg);
      } else if (l.kind == LOC_MEM) {
        x_imul_rm(t->b, w, rd, slot_m(b));
      } else {
        ld_gpr(t, w, RCX, b);
        x_imul_rr(t->b, w, rd, RCX);
      }
    }
    st_gpr(t, d, rd);
    return;
  }
  static const int alu[10] = {ALU_ADD, ALU_SUB, 0, 0, 0, 0, 0, ALU_AND, ALU_OR, ALU_XOR};
  ld_gpr(t, w, rd, a);
  if (imm) alu_imm(t, w, alu[k], rd, bv, RCX);
  else alu_slot(t, w, alu[k], rd, b, RCX);
  st_gpr(t, d, rd);
}

/* ---- float ops ---- */

/* A float operand: a slot, or an immediate (the "_imm" forms). */
struct fop {
  bool imm;
  uint64_t k;
  uint32_t s;
};

static void ld_fop(struct jt *t, bool dbl, int x, struct fop o) {
  if (!o.imm) {
    ld_xmm(t, dbl, x, o.s);
  } else if (o.k == 0) {
    x_xorps(t->b, x, x);
  } else {
    x_mov_ri(t->b, RDX, o.k);
    x_movq_xr(t->b, dbl ? XW : 0, x, RDX);
  }
}
/* op x, o (SSE arithmetic), or ucomis when op is 0. */
static void sse_fop(struct jt *t, bool dbl, unsigned op, int x, struct fop o) {
  if (!o.imm) {
    struct loc l = where(t, o.s);
    if (l.kind == LOC_XMM || l.kind == LOC_MEM) {
      if (l.kind == LOC_XMM) {
        if (op) x_sse_rr(t->b, dbl, op, x, l.reg);
        else x_ucomi_rr(t->b, dbl, x, l.reg);
      } else {
        if (op) x_sse_rm(t->b, dbl, op, x, slot_m(o.s));
        else x_ucomi_rm(t->b, dbl, x, slot_m(o.s));
      }
      return;
    }
  }
  ld_fop(t, dbl, XMM1, o);
  if (op) x_sse_rr(t->b, dbl, op, x, XMM1);
  else x_ucomi_rr(t->b, dbl, x, XMM1);
}

/* Returns false for the ops left to sos__interp_step (min, max,
 * copysign). */
static bool emit_fbin(struct jt *t, const uint32_t *pc, struct opinfo in) {
  bool imm = in.form == F_IMM;
  uint32_t d = pc[1];
  if (in.opc <= 0x66) { /* comparisons */
    bool dbl = in.opc >= 0x61;
    int k = in.opc - (dbl ? 0x61 : 0x5b); /* eq ne lt gt le ge */
    struct fop a = {false, 0, pc[2]};
    struct fop b = {imm, imm ? (dbl ? imm64(pc + 3) : pc[3]) : 0, imm ? 0 : pc[3]};
    if (k == 2 || k == 4) { /* a < b is b > a: unordered gives false */
      struct fop s = a;
      a = b;
      b = s;
    }
    ld_fop(t, dbl, XMM0, a);
    sse_fop(t, dbl, 0, XMM0, b);
    int r = dst_gpr(t, d);
    if (k <= 1) { /* eq: ZF and not PF; ne: not ZF or PF */
      x_setcc(t->b, k == 0 ? CC_E : CC_NE, RAX);
      x_setcc(t->b, k == 0 ? CC_NP : CC_P, RCX);
      x_alu_rr(t->b, 0, k == 0 ? ALU_AND : ALU_OR, RAX, RCX);
      x_movx_rr(t->b, 0, 0xB60F, r, RAX);
      st_gpr(t, d, r);
    } else {
      set_result(t, k == 2 || k == 3 ? CC_A : CC_AE, d);
    }
    return true;
  }
  bool dbl = in.opc >= 0xa0;
  int k = in.opc - (dbl ? 0xa0 : 0x92); /* add sub mul div min max copysign */
  if (k > 3) return false;
  static const unsigned ops[4] = {SSE_ADD, SSE_SUB, SSE_MUL, SSE_DIV};
  struct fop a = {false, 0, pc[2]};
  struct fop b = {imm, imm ? (dbl ? imm64(pc + 3) : pc[3]) : 0, imm ? 0 : pc[3]};
  int rd = dbl ? xmm_of(t, d) : -1;
  if (rd < 0) rd = XMM0;
  if (!imm && rd != XMM0 && rd == xmm_of(t, b.s) && rd != xmm_of(t, a.s)) {
    if (k == 0 || k == 2) {
      struct fop s = a;
      a = b;
      b = s;
    } else {
      rd = XMM0;
    }
  }
  ld_fop(t, dbl, rd, a);
  sse_fop(t, dbl, ops[k], rd, b);
  st_xmm(t, dbl, d, rd);
  return true;
}

/* Unary ops and conversions; false for those left to sos__interp_step. */
static bool emit_un(struct jt *t, const uint32_t *pc, struct opinfo in) {
  uint32_t d = pc[1], a = pc[2];
  int rd = dst_gpr(t, d);
  switch (in.opc) {
  case 0x45:
  case 0x50: {
    unsigned w = in.opc == 0x50 ? XW : 0;
    int ra = src_gpr(t, w, a, RAX);
    x_test_rr(t->b, w, ra, ra);
    set_result(t, CC_E, d);
    return true;
  }
  case 0x67: case 0x68: case 0x69: case 0x79: case 0x7a: case 0x7b: {
    unsigned w = in.opc >= 0x79 ? XW : 0;
    static const unsigned op2[3] = {0xBD, 0xBC, 0xB8}; /* lzcnt tzcnt popcnt */
    int ra = src_gpr(t, w, a, RCX);
    x_bitcount(t->b, w, op2[in.opc - (w ? 0x79 : 0x67)], rd, ra);
    st_gpr(t, d, rd);
    return true;
  }
  case 0x8b: case 0x8c: case 0x99: case 0x9a: { /* abs, neg: the sign bit */
    unsigned w = in.opc >= 0x99 ? XW : 0;
    ld_gpr(t, w, rd, a);
    x_bt_i(t->b, w, in.opc == 0x8b || in.opc == 0x99 ? 6 : 7, rd, w ? 63 : 31);
    st_gpr(t, d, rd);
    return true;
  }
  case 0x8d: case 0x8e: case 0x8f: case 0x90: case 0x9b: case 0x9c: case 0x9d: case 0x9e: {
    bool dbl = in.opc >= 0x9b;
    static const uint8_t mode[4] = {0xA, 0x9, 0xB, 0x8}; /* ceil floor trunc nearest */
    int x = dbl && xmm_of(t, d) >= 0 ? xmm_of(t, d) : XMM0;
    int s = src_xmm(t, dbl, a, XMM1);
    x_round(t->b, dbl, x, s, mode[in.opc - (dbl ? 0x9b : 0x8d)]);
    st_xmm(t, dbl, d, x);
    return true;
  }
  case 0x91: case 0x9f: {
    bool dbl = in.opc == 0x9f;
    int x = dbl && xmm_of(t, d) >= 0 ? xmm_of(t, d) : XMM0;
    int s = src_xmm(t, dbl, a, XMM1);
    x_sse_rr(t->b, dbl, SSE_SQRT, x, s);
    st_xmm(t, dbl, d, x);
    return true;
  }
  case 0xa7: case 0xad: /* wrap, extend_u: the low 32 bits, upper ones cleared */
    x_mov_rr(t->b, 0, rd, src_gpr(t, XW, a, RAX));
    st_gpr(t, d, rd);
    return true;
  case 0xac: case 0xc4: /* i64.extend_i32_s, i64.extend32_s */
    x_movsxd_rr(t->b, rd, src_gpr(t, 0, a, RAX));
    st_gpr(t, d, rd);
    return true;
  case 0xc0: case 0xc1: case 0xc2: case 0xc3: { /* extend8_s, extend16_s */
    unsigned w = in.opc >= 0xc2 ? XW : 0;
    int ra = src_gpr(t, 0, a, RAX);
    x_movx_rr(t->b, w, in.opc == 0xc0 || in.opc == 0xc2 ? 0xBE0F : 0xBF0F, rd, ra);
    st_gpr(t, d, rd);
    return true;
  }
  case 0xbc: case 0xbd: case 0xbe: case 0xbf: /* reinterpret: the same bits */
    move_slot(t, d, a);
    return true;
  case 0xb2: case 0xb3: case 0xb4: case 0xb7: case 0xb8: case 0xb9: {
    bool dbl = in.opc >= 0xb7;
    int k = in.opc - (dbl ? 0xb7 : 0xb2); /* i32_s i32_u i64_s */
    int x = dbl && xmm_of(t, d) >= 0 ? xmm_of(t, d) : XMM0;
    int ra;
    if (k == 1) {
      ld_gpr(t, 0, RAX, a); /* zero-extended: converted as a 64-bit signed value */
      ra = RAX;
    } else {
      ra = src_gpr(t, k == 2 ? XW : 0, a, RAX);
    }
    x_xorps(t->b, x, x);
    x_cvtsi2f(t->b, dbl, k == 0 ? 0 : XW, x, ra);
    st_xmm(t, dbl, d, x);
    return true;
  }
  case 0xb6: /* f32.demote_f64 */
    x_sse_rr(t->b, true, SSE_CVT, XMM0, src_xmm(t, true, a, XMM1));
    st_xmm(t, false, d, XMM0);
    return true;
  case 0xbb: { /* f64.promote_f32 */
    int x = xmm_of(t, d) >= 0 ? xmm_of(t, d) : XMM0;
    x_sse_rr(t->b, false, SSE_CVT, x, src_xmm(t, false, a, XMM1));
    st_xmm(t, true, d, x);
    return true;
  }
  default: return false;
  }
}

/* ---- memory ---- */

/* Computes the effective address's base part (without the static offset)
 * into rax, zero-extended, for an address form; extra words at pc[ka] (k
 * or slot b) and pc[ka + 1] (the shift). */
static void emit_base(struct jt *t, int form, uint32_t addr, const uint32_t *pc, int ka) {
  switch (form) {
  case F_AI:
  case F_MI:
    ld_gpr(t, 0, RAX, addr);
    alu_imm(t, 0, ALU_ADD, RAX, pc[ka], RCX);
    break;
  case F_AR:
    ld_gpr(t, 0, RAX, addr);
    alu_slot(t, 0, ALU_ADD, RAX, pc[ka], RCX);
    break;
  case F_AS:
    ld_gpr(t, 0, RCX, pc[ka]);
    x_shift_i(t->b, 0, SH_SHL, RCX, (uint8_t)(pc[ka + 1] & 31));
    ld_gpr(t, 0, RAX, addr);
    x_alu_rr(t->b, 0, ALU_ADD, RAX, RCX);
    break;
  default: ld_gpr(t, 0, RAX, addr);
  }
}
/* Checks that bytes [rax + off, rax + off + n) are in memory (trap if
 * not) and returns the memory operand that addresses them. */
static struct xm emit_check(struct jt *t, uint32_t off, unsigned n) {
  if ((uint64_t)off + n > 0x7fffffffu) {
    x_mov_ri(t->b, RCX, off);
    x_alu_rr(t->b, XW, ALU_ADD, RAX, RCX);
    off = 0;
  }
  x_lea(t->b, RCX, xm_b(RAX, (int32_t)(off + n)));
  x_alu_rm(t->b, XW, ALU_CMP, RCX, CTX(memsize));
  jump_trap(t, CC_A, SOS_WASM_TRAP_MEMORY);
  return xm_bi(R12, RAX, 1, (int32_t)off);
}

/* emit_check for an address that is slot's value (rax), skipped when an
 * earlier check on the way here covered at least as much of it: code
 * since the last branch target runs straight, a slot not written since
 * holds the same value, and memory never shrinks.  A struct's fields read
 * one after the other (p->a, p->b, p->c) are checked once. */
static struct xm check_slot(struct jt *t, uint32_t slot, uint32_t off, unsigned n) {
  uint64_t end = (uint64_t)off + n;
  if (end > 0x7fffffffu) return emit_check(t, off, n);
  /* A constant address (static data: the app's globals) within the
   * memory's minimum size needs no check at all: memory never shrinks. */
  struct loc l = where(t, slot);
  const struct sos__module *d = &t->m->d;
  if (l.kind == LOC_CONST && d->nmems &&
      (uint32_t)l.k + end <= (uint64_t)d->mems[0].min * 65536u)
    return xm_bi(R12, RAX, 1, (int32_t)off);
  uint32_t k = 0;
  while (k < t->nck && t->ck_slot[k] != slot) k++;
  if (k < t->nck && t->ck_end[k] >= end) return xm_bi(R12, RAX, 1, (int32_t)off);
  if (k == t->nck && t->nck < 4) t->ck_slot[t->nck++] = slot;
  if (k < t->nck) t->ck_end[k] = (uint32_t)end;
  return emit_check(t, off, n);
}

/* After op at code[i]: forgets the checks of the slots it writes (all of
 * them at a call, which writes its results into the frame). */
static void forget_checks(struct jt *t, const uint32_t *code, uint32_t i, unsigned op) {
  if (op == SOS__OP_call || op == SOS__OP_call_import || op == SOS__OP_call_indirect) {
    t->nck = 0;
    return;
  }
  const char *sh = sos__op_shapes[op];
  for (uint32_t p = 0; sh[p] && t->nck; p++) {
    if (sh[p] != 'I' && sh[p] != 'F' && sh[p] != 'X') continue;
    for (uint32_t k = 0; k < t->nck;)
      if (t->ck_slot[k] == code[i + 1 + p]) {
        t->ck_slot[k] = t->ck_slot[--t->nck];
        t->ck_end[k] = t->ck_end[t->nck];
      } else {
        k++;
      }
  }
}

static const uint8_t access_bytes[0x3f - 0x28] = {4, 8, 4, 8, 1, 1, 2, 2, 1, 1, 2, 2, 4, 4,
                                                  4, 8, 4, 8, 1, 2, 1, 2, 4};

static void emit_load(struct jt *t, const uint32_t *pc, struct opinfo in) {
  uint32_t d = pc[1];
  emit_base(t, in.form, pc[2], pc, 4);
  unsigned n = access_bytes[in.opc - 0x28];
  struct xm m = in.form == F_PLAIN ? check_slot(t, pc[2], pc[3], n) : emit_check(t, pc[3], n);
  int xd = xmm_of(t, d);
  if ((in.opc == 0x2a || in.opc == 0x2b) && xd >= 0) {
    x_sse_rm(t->b, in.opc == 0x2b, SSE_MOV, xd, m);
    return;
  }
  int rd = dst_gpr(t, d);
  switch (in.opc) {
  case 0x28: case 0x2a: case 0x35: x_load(t->b, 0, rd, m); break;
  case 0x29: case 0x2b: x_load(t->b, XW, rd, m); break;
  case 0x2c: x_movx_rm(t->b, 0, 0xBE0F, rd, m); break;
  case 0x2d: case 0x31: x_movx_rm(t->b, 0, 0xB60F, rd, m); break;
  case 0x2e: x_movx_rm(t->b, 0, 0xBF0F, rd, m); break;
  case 0x2f: case 0x33: x_movx_rm(t->b, 0, 0xB70F, rd, m); break;
  case 0x30: x_movx_rm(t->b, XW, 0xBE0F, rd, m); break;
  case 0x32: x_movx_rm(t->b, XW, 0xBF0F, rd, m); break;
  case 0x34: x_movsxd_rm(t->b, rd, m); break;
  }
  st_gpr(t, d, rd);
}

static void emit_store(struct jt *t, const uint32_t *pc, struct opinfo in) {
  uint32_t v = pc[2];
  emit_base(t, in.form, pc[1], pc, 4);
  unsigned n = access_bytes[in.opc - 0x28];
  struct xm m = in.form == F_PLAIN ? check_slot(t, pc[1], pc[3], n) : emit_check(t, pc[3], n);
  int xv = xmm_of(t, v);
  if ((in.opc == 0x38 || in.opc == 0x39) && xv >= 0) {
    x_sse_rm(t->b, in.opc == 0x39, SSE_MOVST, xv, m);
    return;
  }
  bool wide = in.opc == 0x37 || in.opc == 0x39;
  int rv = src_gpr(t, wide ? XW : 0, v, RDX);
  switch (in.opc) {
  case 0x36: case 0x38: case 0x3e: x_store(t->b, 0, m, rv); break;
  case 0x37: case 0x39: x_store(t->b, XW, m, rv); break;
  case 0x3a: case 0x3c: x_store8(t->b, m, rv); break;
  case 0x3b: case 0x3d: x_store16(t->b, m, rv); break;
  }
}

/* d = a <op> memory ("_m", "_mi"), or memory = a <op> memory ("_ms"). */
static void emit_membin(struct jt *t, const uint32_t *pc, struct opinfo in) {
  bool ms = in.form == F_MS;
  uint32_t d = ms ? 0 : pc[1], a = ms ? pc[1] : pc[2], addr = ms ? pc[2] : pc[3];
  uint32_t off = ms ? pc[3] : pc[4];
  bool isint = in.opc == 0x6a || in.opc == 0x7c;
  bool dbl = in.opc == 0x7c || in.opc >= 0xa0;
  emit_base(t, in.form, addr, pc, 5);
  unsigned n = dbl ? 8 : 4;
  struct xm m = in.form == F_MI ? emit_check(t, off, n) : check_slot(t, addr, off, n);
  if (isint) {
    unsigned w = dbl ? XW : 0;
    int r = ms ? RDX : gpr_of(t, d);
    if (r < 0) r = RDX;
    ld_gpr(t, w, r, a);
    x_alu_rm(t->b, w, ALU_ADD, r, m);
    if (ms) x_store(t->b, w, m, r);
    else st_gpr(t, d, r);
    return;
  }
  static const unsigned ops[3] = {SSE_ADD, SSE_SUB, SSE_MUL};
  unsigned op = ops[in.opc - (dbl ? 0xa0 : 0x92)];
  int x = !ms && dbl && xmm_of(t, d) >= 0 ? xmm_of(t, d) : XMM0;
  ld_xmm(t, dbl, x, a);
  x_sse_rm(t->b, dbl, op, x, m);
  if (ms) x_sse_rm(t->b, dbl, SSE_MOVST, x, m);
  else st_xmm(t, dbl, d, x);
}

/* x = a + b; branch when x compares true with c ("bra_" ops). */
static void emit_bra(struct jt *t, uint32_t i, const uint32_t *pc, struct opinfo in) {
  uint32_t x = pc[2], a = pc[3];
  bool bimm = in.form == F_II || in.form == F_IR, cimm = in.form == F_II || in.form == F_RI;
  int r = dst_gpr(t, x);
  if (!bimm && r == gpr_of(t, pc[4]) && r != gpr_of(t, a)) r = RAX;
  ld_gpr(t, 0, r, a);
  if (bimm) alu_imm(t, 0, ALU_ADD, r, pc[4], RCX);
  else alu_slot(t, 0, ALU_ADD, r, pc[4], RCX);
  st_gpr(t, x, r);
  if (cimm) alu_imm(t, 0, ALU_CMP, r, pc[5], RCX);
  else alu_slot(t, 0, ALU_CMP, r, pc[5], RCX);
  branch_if(t, cmp_cc[in.opc - 0x46], i, (int32_t)pc[1]);
}

/* ---- calls and returns ---- */

#define FR_SIZE ((int32_t)sizeof(struct sos__frame))
#define FR_FP ((int32_t)offsetof(struct sos__frame, fp))
#define FR_INST ((int32_t)offsetof(struct sos__frame, inst))
#define FR_RET ((int32_t)offsetof(struct sos__frame, ret_jit))

/* A call's slow path: the run loop performs the call op at pc.  The
 * caller adds the jumps to it (c->jump, jump2, undo_jump). */
static struct cold *call_cold(struct jt *t, const uint32_t *pc, size_t op_start) {
  struct cold *c = add_cold(t, COLD_CALL);
  c->pc = pc;
  c->retry = op_start;
  return c;
}

/* Pushes the frame record at rdx-or-rax (fr) for a call returning to the
 * code right after the jump the caller emits next; returns the position
 * of the return address's displacement (bound by the caller). */
static size_t push_frame(struct jt *t, int fr) {
  size_t at = x_lea_rip(t->b, RCX);
  x_store(t->b, XW, xm_b(fr, FR_RET), RCX);
  x_store(t->b, XW, xm_b(fr, FR_FP), RBX);
  x_load(t->b, XW, RCX, CTX(inst));
  x_store(t->b, XW, xm_b(fr, FR_INST), RCX);
  x_alu_ri(t->b, XW, ALU_ADD, fr, FR_SIZE);
  x_store(t->b, XW, CTX(ftop), fr);
  return at;
}

static void emit_call(struct jt *t, const uint32_t *pc) {
  size_t op_start = t->b->n;
  const struct sos__code *cc = &t->m->codes[pc[1]];
  uint32_t base = pc[2];
  spill_mask(t, call_spill(t, base));
  struct cold *c = call_cold(t, pc, op_start);
  x_lea(t->b, RDX, xm_b(RBX, (int32_t)((base + cc->frame_slots) * 8)));
  x_alu_rm(t->b, XW, ALU_CMP, RDX, CTX(stack_end));
  c->jump = x_jcc(t->b, CC_A);
  x_load(t->b, XW, RAX, CTX(ftop));
  x_alu_rm(t->b, XW, ALU_CMP, RAX, CTX(fend));
  c->jump2 = x_jcc(t->b, CC_AE);
  x_alu_ri(t->b, XW, ALU_SUB, R14, (int32_t)cc->fuel);
  c->undo_jump = x_jcc(t->b, CC_L);
  c->k = cc->fuel;
  size_t ret_at = push_frame(t, RAX);
  x_lea(t->b, RBX, xm_b(RBX, (int32_t)(base * 8)));
  size_t j = x_jmp(t->b);
  t->calls = grow_array(t->calls, &t->capcalls, t->ncalls, sizeof *t->calls, &t->oom);
  if (!t->oom) t->calls[t->ncalls++] = (struct callfix){j, pc[1]};
  x_bind(t->b, ret_at, t->b->n);
  c->cont_at = t->b->n;
  reload_mask(t, call_reload(t));
}

static int host_call(struct sos__jctx *j, uint64_t *fp, const uint32_t *pc);

/* call_import: a host function is called from the code (host_call), so
 * that a system call does not leave the machine code and enter it again;
 * a function of another instance, and a host function that suspends or
 * fails, go through the run loop. */
static void emit_call_import(struct jt *t, const uint32_t *pc) {
  struct xbuf *b = t->b;
  size_t op_start = b->n;
  spill_mask(t, call_spill(t, pc[2]));
  struct cold *c = call_cold(t, pc, op_start);
  x_load(b, XW, RAX, CTX(inst));
  x_load(b, XW, RAX, xm_b(RAX, (int32_t)offsetof(sos_wasm_instance, funcs)));
  x_load(b, XW, RAX, xm_b(RAX, (int32_t)(pc[1] * 8)));
  x_alu_mi(b, XW, ALU_CMP, xm_b(RAX, (int32_t)offsetof(sos_wasm_func, code)), 0);
  c->jump = x_jcc(b, CC_NE); /* wasm code: the run loop calls it */
  x_store(b, XW, CTX(fuel), R14);
  x_mov_rr(b, XW, RDI, R13);
  x_mov_rr(b, XW, RSI, RBX);
  x_mov_ri(b, RDX, (uint64_t)(uintptr_t)pc);
  int (*fn)(struct sos__jctx *, uint64_t *, const uint32_t *) = host_call;
  uint64_t fa;
  memcpy(&fa, &fn, sizeof fa);
  x_mov_ri(b, RAX, fa);
  x_call_r(b, RAX);
  x_load(b, XW, R14, CTX(fuel));
  x_test_rr(b, 0, RAX, RAX);
  struct cold *h = add_cold(t, COLD_HOST);
  h->jump = x_jcc(b, CC_NE);
  c->cont_at = h->cont_at = b->n;
  reload_mask(t, call_reload(t));
}

/* call_indirect: the common case (an own function of the right type,
 * stack room, fuel) inline; everything else, traps included, through the
 * run loop. */
static void emit_call_indirect(struct jt *t, const uint32_t *pc) {
  size_t op_start = t->b->n;
  t->pool_read = true; /* the run loop reads the index from the frame */
  uint32_t base = pc[4];
  spill_mask(t, call_spill(t, base));
  struct cold *c = call_cold(t, pc, op_start);
  size_t slow[7];
  int n = 0;
  x_load(t->b, XW, RAX, CTX(tables));
  x_load(t->b, XW, RAX, xm_b(RAX, (int32_t)(pc[2] * 8)));
  ld_gpr(t, 0, RCX, pc[3]);
  x_alu_rm(t->b, 0, ALU_CMP, RCX, xm_b(RAX, (int32_t)offsetof(sos_wasm_table, size)));
  slow[n++] = x_jcc(t->b, CC_AE);
  x_load(t->b, XW, RAX, xm_b(RAX, (int32_t)offsetof(sos_wasm_table, elems)));
  x_load(t->b, XW, RAX, xm_bi(RAX, RCX, 8, 0));
  x_test_rr(t->b, XW, RAX, RAX);
  slow[n++] = x_jcc(t->b, CC_E);
  x_mov_ri(t->b, RCX, (uint64_t)(uintptr_t)&t->m->d.types[pc[1]]);
  x_alu_mr(t->b, XW, ALU_CMP, xm_b(RAX, (int32_t)offsetof(sos_wasm_func, sig)), RCX);
  slow[n++] = x_jcc(t->b, CC_NE);
  x_load(t->b, XW, RCX, xm_b(RAX, (int32_t)offsetof(sos_wasm_func, inst)));
  x_alu_rm(t->b, XW, ALU_CMP, RCX, CTX(inst));
  slow[n++] = x_jcc(t->b, CC_NE);
  x_load(t->b, XW, RAX, xm_b(RAX, (int32_t)offsetof(sos_wasm_func, code)));
  x_load(t->b, 0, RDX, xm_b(RAX, (int32_t)offsetof(struct sos__code, frame_slots)));
  x_lea(t->b, RDX, xm_bi(RBX, RDX, 8, (int32_t)(base * 8)));
  x_alu_rm(t->b, XW, ALU_CMP, RDX, CTX(stack_end));
  slow[n++] = x_jcc(t->b, CC_A);
  x_load(t->b, XW, RDX, CTX(ftop));
  x_alu_rm(t->b, XW, ALU_CMP, RDX, CTX(fend));
  slow[n++] = x_jcc(t->b, CC_AE);
  x_load(t->b, 0, RCX, xm_b(RAX, (int32_t)offsetof(struct sos__code, fuel)));
  x_alu_rr(t->b, XW, ALU_SUB, R14, RCX);
  size_t ok = x_jcc(t->b, CC_GE);
  x_alu_rr(t->b, XW, ALU_ADD, R14, RCX); /* undo, then the slow path */
  slow[n++] = x_jmp(t->b);
  x_bind(t->b, ok, t->b->n);
  size_t ret_at = push_frame(t, RDX);
  x_lea(t->b, RBX, xm_b(RBX, (int32_t)(base * 8)));
  x_jmp_m(t->b, xm_b(RAX, (int32_t)offsetof(struct sos__code, jit)));
  x_bind(t->b, ret_at, t->b->n);
  c->cont_at = t->b->n;
  reload_mask(t, call_reload(t));
  /* All slow jumps go to one cold path: a small local stub joins them. */
  size_t over = x_jmp(t->b);
  for (int i = 0; i < n; i++) x_bind(t->b, slow[i], t->b->n);
  c->jump = x_jmp(t->b);
  x_bind(t->b, over, t->b->n);
}

static void emit_ret(struct jt *t, size_t exit_done, size_t exit_ret) {
  for (uint32_t s = 0; s < t->c->nresults && s < t->nslots; s++) {
    if (!t->written[s]) continue;
    struct loc l = where(t, s);
    if (l.kind == LOC_GPR) x_store(t->b, XW, slot_m(s), l.reg);
    else if (l.kind == LOC_XMM) x_sse_rm(t->b, true, SSE_MOVST, l.reg, slot_m(s));
  }
  x_load(t->b, XW, RAX, CTX(ftop));
  x_alu_ri(t->b, XW, ALU_SUB, RAX, FR_SIZE);
  x_store(t->b, XW, CTX(ftop), RAX);
  x_load(t->b, XW, RCX, xm_b(RAX, FR_RET));
  x_test_rr(t->b, XW, RCX, RCX);
  x_bind(t->b, x_jcc(t->b, CC_E), exit_done);
  x_load(t->b, XW, RDX, xm_b(RAX, FR_INST));
  x_alu_rm(t->b, XW, ALU_CMP, RDX, CTX(inst));
  x_bind(t->b, x_jcc(t->b, CC_NE), exit_ret);
  x_load(t->b, XW, RBX, xm_b(RAX, FR_FP));
  x_jmp_r(t->b, RCX);
}

/* br_table: a jump table of 32-bit offsets from the table's start. */
static void emit_br_table(struct jt *t, uint32_t i, const uint32_t *pc) {
  uint32_t n = pc[2];
  ld_gpr(t, 0, RAX, pc[1]);
  x_mov_ri(t->b, RCX, n);
  x_alu_rr(t->b, 0, ALU_CMP, RAX, RCX);
  x_cmov(t->b, 0, CC_AE, RAX, RCX);
  size_t lea = x_lea_rip(t->b, RCX);
  x_movsxd_rm(t->b, RAX, xm_bi(RCX, RAX, 4, 0));
  x_alu_rr(t->b, XW, ALU_ADD, RAX, RCX);
  x_jmp_r(t->b, RAX);
  size_t table = t->b->n;
  x_bind(t->b, lea, table);
  for (uint32_t k = 0; k <= n; k++) x_u32(t->b, 0);
  for (uint32_t k = 0; k <= n; k++) {
    int32_t o = (int32_t)pc[3 + k];
    size_t at = table + 4 * k;
    if (o >= 0) {
      add_fix(t, at, i + (uint32_t)o, table, FX_TABLE);
    } else { /* a backward target charges the loop's fuel first */
      x_patch32(t->b, at, (uint32_t)(t->b->n - table));
      jump_to(t, i, o);
    }
  }
}

/* memory.copy and memory.fill: the common case (in bounds, fuel in the
 * slice, a copy that may go forward) inline with rep movsb / stosb, using
 * rsi and rdi, saved on the native stack for the moment; anything else
 * undoes the charge and runs the op through sos__interp_step, which
 * yields, traps or copies backwards exactly as the interpreter does. */
static void emit_step(struct jt *t, const uint32_t *pc, unsigned op);

static void emit_bulk(struct jt *t, const uint32_t *pc, unsigned op) {
  struct xbuf *b = t->b;
  bool copy = op == SOS__OP_memory_copy;
  size_t fail[5];
  int nf = 0;
  ld_gpr(t, 0, copy ? RAX : RDX, pc[1]);
  ld_gpr(t, 0, copy ? RDX : RAX, pc[2]);
  ld_gpr(t, 0, RCX, pc[3]);
  x_push(b, RSI);
  x_push(b, RDI);
  x_mov_rr(b, XW, RDI, copy ? RAX : RDX);
  if (copy) x_mov_rr(b, XW, RSI, RDX);
  int k = copy ? RAX : RDX; /* free now: the charge, then sums */
  x_mov_rr(b, XW, k, RCX);
  x_shift_i(b, XW, SH_SHR, k, 6);
  x_alu_rr(b, XW, ALU_SUB, R14, k);
  fail[nf++] = x_jcc(b, CC_L);
  x_lea(b, k, xm_bi(RDI, RCX, 1, 0));
  x_alu_rm(b, XW, ALU_CMP, k, CTX(memsize));
  fail[nf++] = x_jcc(b, CC_A);
  size_t small[2] = {0, 0};
  if (copy) {
    x_lea(b, k, xm_bi(RSI, RCX, 1, 0));
    x_alu_rm(b, XW, ALU_CMP, k, CTX(memsize));
    fail[nf++] = x_jcc(b, CC_A);
    /* 4 to 16 bytes (a short field, a small struct): two loads, then two
     * stores, which may overlap and so need no care for direction; rep
     * movsb costs several times as much at these sizes. */
    x_alu_ri(b, XW, ALU_CMP, RCX, 16);
    size_t big = x_jcc(b, CC_A);
    x_alu_ri(b, XW, ALU_CMP, RCX, 4);
    size_t tiny = x_jcc(b, CC_B);
    x_alu_rr(b, XW, ALU_ADD, RDI, R12);
    x_alu_rr(b, XW, ALU_ADD, RSI, R12);
    for (int w = 0; w < 2; w++) { /* 8..16 bytes with 8-byte moves, then 4..7 */
      unsigned ww = w ? 0 : XW;
      int32_t sz = w ? 4 : 8;
      size_t next = w ? 0 : (x_alu_ri(b, XW, ALU_CMP, RCX, 8), x_jcc(b, CC_B));
      x_load(b, ww, RAX, xm_b(RSI, 0));
      x_load(b, ww, RDX, xm_bi(RSI, RCX, 1, -sz));
      x_store(b, ww, xm_b(RDI, 0), RAX);
      x_store(b, ww, xm_bi(RDI, RCX, 1, -sz), RDX);
      small[w] = x_jmp(b);
      if (!w) x_bind(b, next, b->n);
    }
    x_bind(b, big, b->n);
    x_bind(b, tiny, b->n);
    x_alu_rr(b, XW, ALU_CMP, RDI, RSI); /* dst above src and overlapping: backwards */
    size_t fwd = x_jcc(b, CC_BE);
    x_alu_rr(b, XW, ALU_CMP, RDI, k);
    fail[nf++] = x_jcc(b, CC_B);
    x_bind(b, fwd, b->n);
  }
  x_alu_rr(b, XW, ALU_ADD, RDI, R12);
  if (copy) x_alu_rr(b, XW, ALU_ADD, RSI, R12);
  x_byte(b, 0xF3); /* rep movsb / rep stosb */
  x_byte(b, copy ? 0xA4 : 0xAA);
  for (int w = 0; w < 2; w++)
    if (small[w]) x_bind(b, small[w], b->n);
  x_pop(b, RDI);
  x_pop(b, RSI);
  size_t done = x_jmp(b);
  for (int i = 0; i < nf; i++) x_bind(b, fail[i], b->n);
  x_mov_rr(b, XW, k, RCX); /* undo the charge */
  x_shift_i(b, XW, SH_SHR, k, 6);
  x_alu_rr(b, XW, ALU_ADD, R14, k);
  x_pop(b, RDI);
  x_pop(b, RSI);
  emit_step(t, pc, op);
  x_bind(b, done, b->n);
}

/* Any other op: sos__interp_step runs it on the frame in memory. */
static void emit_step(struct jt *t, const uint32_t *pc, unsigned op) {
  size_t op_start = t->b->n;
  t->pool_read = true;
  spill_all(t);
  x_store(t->b, XW, CTX(fuel), R14);
  x_mov_rr(t->b, XW, RDI, R13);
  x_mov_rr(t->b, XW, RSI, RBX);
  x_mov_ri(t->b, RDX, (uint64_t)(uintptr_t)pc);
  x_mov_ri(t->b, RCX, op);
  int (*fn)(struct sos__jctx *, uint64_t *, const uint32_t *, unsigned) = sos__interp_step;
  uint64_t fa;
  memcpy(&fa, &fn, sizeof fa);
  x_mov_ri(t->b, RAX, fa);
  x_call_r(t->b, RAX);
  x_load(t->b, XW, R14, CTX(fuel));
  x_alu_ri(t->b, 0, ALU_CMP, RAX, -1);
  struct cold *c = add_cold(t, COLD_STEP);
  c->jump = x_jcc(t->b, CC_NE);
  c->retry = op_start;
  reload_all(t);
}

/* ---- register assignment ---- */

static bool is_pool(const struct sos__code *c, uint32_t s) {
  return s >= c->const_base && s - c->const_base < c->nconsts;
}

/* Gives the most used integer slots a general register and the most used
 * f64 slots an SSE register, counting each use 8^depth times, depth being
 * the number of loops (backward branches' ranges) around it. */
static int assign_registers(struct jt *t) {
  const struct sos__code *c = t->c;
  const uint32_t *code = t->code;
  uint32_t nops = c->nops, ns = t->nslots;
  int32_t *dd = sos_calloc(nops + 2, sizeof *dd);
  uint64_t *wi = sos_calloc(ns + 1, sizeof *wi), *wf = sos_calloc(ns + 1, sizeof *wf);
  int rc = 0;
  if (!dd || !wi || !wf) {
    rc = SOS_ENOMEM;
    goto out;
  }
  for (uint32_t i = 0; i < nops;) {
    unsigned op = op_of(code[i]);
    if (op >= SOS__OP_COUNT) {
      rc = SOS_EINVAL;
      goto out;
    }
    const char *sh = sos__op_shapes[op];
    uint32_t n = sos__op_words(code, i, op);
    if (i + n > nops) {
      rc = SOS_EINVAL;
      goto out;
    }
    for (uint32_t p = 0; sh[p]; p++) {
      int32_t o = (int32_t)code[i + 1 + p];
      if (sh[p] == 'j' && o < 0) dd[i + (uint32_t)o]++, dd[i + n]--;
    }
    if (op == SOS__OP_br_table)
      for (uint32_t k = 0; k <= code[i + 2]; k++) {
        int32_t o = (int32_t)code[i + 3 + k];
        if (o < 0) dd[i + (uint32_t)o]++, dd[i + n]--;
      }
    i += n;
  }
  int32_t depth = 0;
  uint64_t wcalls = 0; /* places that spill and reload every register, weighted */
  for (uint32_t i = 0; i < nops;) {
    unsigned op = op_of(code[i]);
    uint32_t n = sos__op_words(code, i, op);
    depth += dd[i];
    uint64_t w = 1ull << (3 * (depth < 6 ? (depth > 0 ? depth : 0) : 6));
    const char *sh = sos__op_shapes[op];
    if (op == SOS__OP_call || op == SOS__OP_call_import || op == SOS__OP_call_indirect)
      wcalls += w;
    for (uint32_t p = 0; sh[p]; p++) {
      uint32_t s = code[i + 1 + p];
      char l = sh[p];
      if ((l == 'I' || l == 'F' || l == 'X') && s < ns) t->written[s] = true;
      if (l != 'i' && l != 'I' && l != 'f' && l != 'F') continue;
      if (s >= ns) continue;
      if (l == 'i' || l == 'I') wi[s] += w;
      else wf[s] += w;
    }
    i += n;
  }
  /* Declared locals are written by the entry (zeroed in their register). */
  for (uint32_t s = c->nparams; s < c->nlocals && s < ns; s++) t->written[s] = true;
  /* A register pays for itself when its slot is used more often than the
   * calls around it may store and load it (a call moves only what is live
   * across it, so half the weighted calls is the bar): in code that mostly
   * calls, values stay in the frame.  Constants are immediates. */
  for (uint32_t s = 0; s < ns; s++) {
    if (is_pool(c, s) && !t->written[s]) wi[s] = wf[s] = 0;
    if (wi[s] <= wcalls / 2 && wf[s] <= wcalls / 2) wi[s] = wf[s] = 0;
  }
  for (int g = 0; g < NGPR; g++) {
    uint32_t best = ns;
    for (uint32_t s = 0; s < ns; s++)
      if (!t->where[s] && wi[s] > wf[s] && (best == ns || wi[s] > wi[best])) best = s;
    if (best == ns) break;
    t->where[best] = (uint8_t)(1 + g);
  }
  for (int x = 0; x < NXMM; x++) {
    uint32_t best = ns;
    for (uint32_t s = 0; s < ns; s++)
      if (!t->where[s] && wf[s] > 0 && wf[s] >= wi[s] && (best == ns || wf[s] > wf[best]))
        best = s;
    if (best == ns) break;
    t->where[best] = (uint8_t)(32 + x);
  }
out:
  sos_free(dd);
  sos_free(wi);
  sos_free(wf);
  return rc;
}

#define LIVENESS_MAX_PASSES 64

/* Computes t->live_out: for each op, the slots with registers whose
 * values some later op may still read.  Backward dataflow to a fixed
 * point over the ops' successors (the next op unless the op always
 * jumps, and its branch targets).  Conservative: a call reads every slot
 * from its argument base up, `ret` every result slot. */
static int liveness(struct jt *t) {
  const struct sos__code *c = t->c;
  const uint32_t *code = t->code;
  uint32_t nops = c->nops;
  t->nmapped = 0;
  for (uint32_t s = 0; s < t->nslots; s++)
    if (t->where[s]) t->mslot[t->nmapped++] = s;
  if (!t->nmapped) return 0;
  uint32_t *use = sos_calloc(nops + 1, sizeof *use), *def = sos_calloc(nops + 1, sizeof *def);
  uint32_t *in = sos_calloc(nops + 1, sizeof *in);
  uint32_t *starts = sos_malloc((nops + 1) * sizeof *starts);
  t->live_out = sos_calloc(nops + 1, sizeof *t->live_out);
  int rc = 0;
  if (!use || !def || !in || !starts || !t->live_out) {
    rc = SOS_ENOMEM;
    goto out;
  }
  uint32_t n = 0;
  for (uint32_t i = 0; i < nops;) {
    unsigned op = op_of(code[i]);
    const char *sh = sos__op_shapes[op];
    starts[n++] = i;
    for (uint32_t p = 0; sh[p]; p++) {
      uint32_t sl = code[i + 1 + p];
      if (sl >= t->nslots || !t->where[sl]) continue;
      uint32_t b = 0;
      while (t->mslot[b] != sl) b++;
      if (sh[p] == 'i' || sh[p] == 'f' || sh[p] == 'x') use[i] |= 1u << b;
      else if (sh[p] == 'I' || sh[p] == 'F' || sh[p] == 'X') def[i] |= 1u << b;
    }
    if (op == SOS__OP_call || op == SOS__OP_call_import) use[i] |= mask_from(t, code[i + 2]);
    if (op == SOS__OP_call_indirect) use[i] |= mask_from(t, code[i + 4]);
    if (op == SOS__OP_ret)
      for (uint32_t b = 0; b < t->nmapped; b++)
        if (t->mslot[b] < c->nresults) use[i] |= 1u << b;
    i += sos__op_words(code, i, op);
  }
  /* Structured code converges in about one pass per loop nesting level;
   * past MAX_PASSES (deep nesting, or a module made to be slow to compile)
   * every register slot counts as live everywhere, which is always safe. */
  uint32_t passes = 0;
  for (bool changed = true; changed; passes++) {
    changed = false;
    if (passes == LIVENESS_MAX_PASSES) {
      for (uint32_t k = 0; k < n; k++) t->live_out[starts[k]] = ~0u;
      break;
    }
    for (uint32_t k = n; k-- > 0;) {
      uint32_t i = starts[k];
      unsigned op = op_of(code[i]);
      uint32_t o = 0;
      bool always = op == SOS__OP_br || op == SOS__OP_br_table || op == SOS__OP_ret ||
                    op == SOS__OP_unreachable;
      if (!always && k + 1 < n) o |= in[starts[k + 1]];
      const char *sh = sos__op_shapes[op];
      for (uint32_t p = 0; sh[p]; p++)
        if (sh[p] == 'j') o |= in[i + code[i + 1 + p]];
      if (op == SOS__OP_br_table)
        for (uint32_t e = 0; e <= code[i + 2]; e++) o |= in[i + code[i + 3 + e]];
      uint32_t ni = use[i] | (o & ~def[i]);
      if (o != t->live_out[i] || ni != in[i]) {
        t->live_out[i] = o;
        in[i] = ni;
        changed = true;
      }
    }
  }
out:
  sos_free(use);
  sos_free(def);
  sos_free(in);
  sos_free(starts);
  return rc;
}

/* ---- one function ---- */

/* Module-wide code: offsets of the shared exits. */
struct jmod {
  size_t exit_at, exit_done, exit_ret;
  size_t trap_at[SOS_WASM_TRAP_EXIT + 1];
};

/* The operand of global idx's value, with rax loaded to address it: an
 * own global (the instance's own globals are one array) in one load, such
 * as the stack pointer every function with a frame reads and writes; an
 * imported one in two. */
static struct xm global_at(struct jt *t, uint32_t idx) {
  uint32_t nimp = t->m->d.nglobal_imports;
  if (idx >= nimp && (uint64_t)(idx - nimp) * sizeof(sos_wasm_global) < INT32_MAX) {
    x_load(t->b, XW, RAX, CTX(own_globals));
    return xm_b(RAX, (int32_t)((idx - nimp) * sizeof(sos_wasm_global) +
                               offsetof(sos_wasm_global, value)));
  }
  x_load(t->b, XW, RAX, CTX(globals));
  x_load(t->b, XW, RAX, xm_b(RAX, (int32_t)(idx * 8)));
  return xm_b(RAX, (int32_t)offsetof(sos_wasm_global, value));
}

static void emit_op(struct jt *t, const struct jmod *jm, uint32_t i, unsigned op) {
  const uint32_t *pc = t->code + i;
  struct opinfo in = infos[op];
  switch (in.group) {
  case G_CMP: emit_cmp(t, i, pc, in); return;
  case G_IBIN: emit_ibin(t, pc, in); return;
  case G_FBIN:
    if (!emit_fbin(t, pc, in)) emit_step(t, pc, op);
    return;
  case G_UN:
    if (!emit_un(t, pc, in)) emit_step(t, pc, op);
    return;
  case G_LOAD: emit_load(t, pc, in); return;
  case G_STORE: emit_store(t, pc, in); return;
  case G_MEMBIN: emit_membin(t, pc, in); return;
  case G_BRA: emit_bra(t, i, pc, in); return;
  }
  switch (op) {
  case SOS__OP_unreachable: jump_trap(t, -1, SOS_WASM_TRAP_UNREACHABLE); return;
  case SOS__OP_fuel: /* 0: an if arm charged with the code around it */
    if (pc[1]) charge(t, pc[1], i + 2, 0);
    return;
  case SOS__OP_copy: move_slot(t, pc[1], pc[2]); return;
  case SOS__OP_const32: put_const(t, pc[1], pc[2]); return;
  case SOS__OP_const64: put_const(t, pc[1], imm64(pc + 2)); return;
  case SOS__OP_br: jump_to(t, i, (int32_t)pc[1]); return;
  case SOS__OP_br_if:
  case SOS__OP_br_unless:
  case SOS__OP_br_if_eqz32:
  case SOS__OP_br_if_eqz64:
  case SOS__OP_br_if_nez64: {
    unsigned w = op == SOS__OP_br_if_eqz64 || op == SOS__OP_br_if_nez64 ? XW : 0;
    int r = src_gpr(t, w, pc[2], RAX);
    x_test_rr(t->b, w, r, r);
    branch_if(t, op == SOS__OP_br_if || op == SOS__OP_br_if_nez64 ? CC_NE : CC_E, i,
              (int32_t)pc[1]);
    return;
  }
  case SOS__OP_br_table: emit_br_table(t, i, pc); return;
  case SOS__OP_ret: emit_ret(t, jm->exit_done, jm->exit_ret); return;
  case SOS__OP_call: emit_call(t, pc); return;
  case SOS__OP_call_import: emit_call_import(t, pc); return;
  case SOS__OP_call_indirect: emit_call_indirect(t, pc); return;
  case SOS__OP_select: {
    ld_gpr(t, XW, RAX, pc[3]);
    int rb = src_gpr(t, XW, pc[4], RCX);
    int rc = src_gpr(t, 0, pc[2], RDX);
    x_test_rr(t->b, 0, rc, rc);
    x_cmov(t->b, XW, CC_E, RAX, rb);
    st_gpr(t, pc[1], RAX);
    return;
  }
  case SOS__OP_global_get:
    x_load(t->b, XW, RAX, global_at(t, pc[2]));
    st_gpr(t, pc[1], RAX);
    return;
  case SOS__OP_global_set: {
    ld_gpr(t, XW, RCX, pc[1]);
    struct xm m = global_at(t, pc[2]);
    x_store(t->b, XW, m, RCX);
    return;
  }
  case SOS__OP_memory_size:
    x_load(t->b, XW, RAX, CTX(memsize));
    x_shift_i(t->b, XW, SH_SHR, RAX, 16);
    st_gpr(t, pc[1], RAX);
    return;
  case SOS__OP_f32_madd:
  case SOS__OP_f64_madd:
  case SOS__OP_f32_msub:
  case SOS__OP_f64_msub: {
    bool dbl = op == SOS__OP_f64_madd || op == SOS__OP_f64_msub;
    bool sub = op == SOS__OP_f32_msub || op == SOS__OP_f64_msub;
    ld_xmm(t, dbl, XMM0, pc[2]);
    sse_slot(t, dbl, SSE_MUL, XMM0, pc[3]);
    if (sub) {
      ld_xmm(t, dbl, XMM1, pc[4]);
      x_sse_rr(t->b, dbl, SSE_SUB, XMM1, XMM0);
      st_xmm(t, dbl, pc[1], XMM1);
    } else {
      sse_slot(t, dbl, SSE_ADD, XMM0, pc[4]);
      st_xmm(t, dbl, pc[1], XMM0);
    }
    return;
  }
  case SOS__OP_memory_copy:
  case SOS__OP_memory_fill: emit_bulk(t, pc, op); return;
  case SOS__OP_i32_add_shl:
    ld_gpr(t, 0, RAX, pc[3]);
    x_shift_i(t->b, 0, SH_SHL, RAX, (uint8_t)(pc[4] & 31));
    alu_slot(t, 0, ALU_ADD, RAX, pc[2], RCX);
    st_gpr(t, pc[1], RAX);
    return;
  default: emit_step(t, pc, op);
  }
}

static void lea_store(struct jt *t, size_t target, int32_t field) {
  x_bind(t->b, x_lea_rip(t->b, RCX), target);
  x_store(t->b, XW, xm_b(R13, field), RCX);
}

static void emit_cold(struct jt *t, const struct jmod *jm, const struct cold *c) {
  struct xbuf *b = t->b;
  switch (c->kind) {
  case COLD_FUEL:
    x_bind(b, c->jump, b->n);
    x_alu_ri(b, XW, ALU_ADD, R14, (int32_t)c->k);
    x_store_i(b, XW, CTX(arg), (int32_t)c->k);
    lea_store(t, c->retry, JOFF(retry));
    lea_store(t, c->cont != NONE32 ? t->label[c->cont] : c->cont_at, JOFF(cont));
    x_mov_ri(b, RAX, ST_FUEL);
    x_bind(b, x_jmp(b), t->spill_exit);
    break;
  case COLD_CALL:
    if (c->undo_jump) {
      x_bind(b, c->undo_jump, b->n);
      x_alu_ri(b, XW, ALU_ADD, R14, (int32_t)c->k);
    }
    if (c->jump) x_bind(b, c->jump, b->n);
    if (c->jump2) x_bind(b, c->jump2, b->n);
    x_mov_ri(b, RCX, (uint64_t)(uintptr_t)c->pc);
    x_store(b, XW, CTX(op_pc), RCX);
    lea_store(t, c->retry, JOFF(retry));
    lea_store(t, c->cont_at, JOFF(cont));
    x_mov_ri(b, RAX, ST_CALL);
    x_bind(b, x_jmp(b), t->spill_exit);
    break;
  case COLD_HOST: /* registers are spilled, and clobbered by the call */
    x_bind(b, c->jump, b->n);
    lea_store(t, c->cont_at, JOFF(cont));
    x_mov_ri(b, RAX, ST_HOST);
    x_bind(b, x_jmp(b), jm->exit_at);
    break;
  case COLD_STEP: {
    x_bind(b, c->jump, b->n);
    x_alu_ri(b, 0, ALU_CMP, RAX, -2);
    size_t y = x_jcc(b, CC_E);
    x_mov_rr(b, 0, RAX, RAX);
    x_store(b, XW, CTX(trap_kind), RAX);
    x_mov_ri(b, RAX, ST_TRAP);
    x_bind(b, x_jmp(b), jm->exit_at);
    x_bind(b, y, b->n);
    /* The frame is current (emit_step spilled before the call), and the
     * call has clobbered the caller-saved registers: leave without
     * spilling them over it. */
    lea_store(t, c->retry, JOFF(retry));
    lea_store(t, t->stub, JOFF(stub));
    x_mov_ri(b, RAX, ST_YIELD);
    x_bind(b, x_jmp(b), jm->exit_at);
    break;
  }
  }
}

static int translate(struct jt *t, const struct jmod *jm, const struct sos__code *c,
                     size_t *entry) {
  /* Slot displacements are 32-bit: frames of up to 2^24 slots (a body
   * would need tens of megabytes to come near). */
  if (c->frame_slots > (1u << 24)) return SOS_ELIMIT;
  t->c = c;
  t->code = c->ops;
  t->nslots = c->frame_slots;
  t->nfx = t->ncd = 0;
  t->where = sos_calloc(c->frame_slots + 1, 1);
  t->written = sos_calloc(c->frame_slots + 1, sizeof *t->written);
  t->label = sos_malloc((c->nops + 1) * sizeof *t->label);
  t->target = sos_calloc(c->nops + 1, sizeof *t->target);
  int rc = 0;
  if (!t->where || !t->written || !t->label || !t->target) {
    rc = SOS_ENOMEM;
    goto out;
  }
  for (uint32_t i = 0; i <= c->nops; i++) t->label[i] = SIZE_MAX;
  for (uint32_t i = 0; i < c->nops;) { /* the branch targets, for check_slot */
    unsigned op = op_of(c->ops[i]);
    const char *sh = sos__op_shapes[op];
    for (uint32_t p = 0; sh[p]; p++) {
      uint32_t to = i + c->ops[i + 1 + p];
      if (sh[p] == 'j' && to <= c->nops) t->target[to] = true;
    }
    for (uint32_t e = 0; op == SOS__OP_br_table && e <= c->ops[i + 2]; e++) {
      uint32_t to = i + c->ops[i + 3 + e];
      if (to <= c->nops) t->target[to] = true;
    }
    i += sos__op_words(c->ops, i, op);
  }
  t->nck = 0;
  rc = assign_registers(t);
  if (!rc) rc = liveness(t);
  if (rc) goto out;

  t->pool_read = false;
  size_t body = t->b->n;
  for (uint32_t i = 0; i < c->nops;) {
    unsigned op = op_of(c->ops[i]);
    if (t->target[i]) t->nck = 0;
    t->label[i] = t->b->n;
    t->cur = i;
    emit_op(t, jm, i, op);
    forget_checks(t, c->ops, i, op);
    i += sos__op_words(c->ops, i, op);
  }
  t->label[c->nops] = t->b->n;
  jump_trap(t, -1, SOS_WASM_TRAP_UNREACHABLE);

  t->stub = t->b->n;
  reload_all(t);
  x_jmp_m(t->b, CTX(cont));
  t->spill_exit = t->b->n;
  lea_store(t, t->stub, JOFF(stub));
  spill_all(t);
  x_bind(t->b, x_jmp(t->b), jm->exit_at);
  for (size_t k = 0; k < t->ncd; k++) emit_cold(t, jm, &t->cd[k]);

  /* The entry, after the body so that it knows whether the constant
   * pool must be in the frame: zeroed locals, the pool, parameters into
   * their registers. */
  *entry = t->b->n;
  for (uint32_t s = c->nparams; s < c->nlocals; s++) put_const(t, s, 0);
  for (uint32_t k = 0; k < c->nconsts; k++) {
    uint64_t v = c->consts[k];
    uint32_t s = c->const_base + k;
    struct xm m = slot_m(s);
    if (where(t, s).kind != LOC_CONST) {
      put_const(t, s, v);
    } else if (!t->pool_read) {
      continue;
    } else if ((int64_t)v == (int32_t)v) {
      x_store_i(t->b, XW, m, (int32_t)v);
    } else {
      x_mov_ri(t->b, RAX, v);
      x_store(t->b, XW, m, RAX);
    }
  }
  for (uint32_t s = 0; s < c->nparams && s < t->nslots; s++) {
    struct loc l = where(t, s);
    if (l.kind == LOC_GPR) x_load(t->b, XW, l.reg, slot_m(s));
    else if (l.kind == LOC_XMM) x_sse_rm(t->b, true, SSE_MOV, l.reg, slot_m(s));
  }
  x_bind(t->b, x_jmp(t->b), body);


  for (size_t k = 0; k < t->nfx; k++) {
    const struct fix *f = &t->fx[k];
    if (f->kind == FX_TRAP) {
      x_bind(t->b, f->at, jm->trap_at[f->target]);
      continue;
    }
    if (f->target > c->nops || t->label[f->target] == SIZE_MAX) {
      rc = SOS_EINVAL; /* a branch into the middle of an op: a compiler bug */
      goto out;
    }
    if (f->kind == FX_LABEL) x_bind(t->b, f->at, t->label[f->target]);
    else x_patch32(t->b, f->at, (uint32_t)(t->label[f->target] - f->base));
  }
  if (t->oom || t->b->oom) rc = SOS_ENOMEM;
out:
  sos_free(t->where);
  sos_free(t->written);
  sos_free(t->label);
  sos_free(t->target);
  t->target = NULL;
  sos_free(t->live_out);
  t->live_out = NULL;
  t->written = NULL;
  t->where = NULL;
  t->label = NULL;
  return rc;
}

/* ---- the module ---- */

/* The entry trampoline (offset 0): int enter(struct sos__jctx *j,
 * uint64_t *fp, const void *addr) saves the callee-saved registers, keeps
 * the stack 16-byte aligned for C calls from the code, loads the pinned
 * registers and jumps to addr.  The exit restores them and returns eax. */
static void emit_head(struct xbuf *b, struct jmod *jm) {
  static const int saved[6] = {RBX, RBP, R12, R13, R14, R15};
  for (int i = 0; i < 6; i++) x_push(b, saved[i]);
  x_alu_ri(b, XW, ALU_SUB, RSP, 8);
  x_mov_rr(b, XW, R13, RDI);
  x_mov_rr(b, XW, RBX, RSI);
  x_load(b, XW, R12, CTX(mem));
  x_load(b, XW, R14, CTX(fuel));
  x_jmp_r(b, RDX);

  jm->exit_at = b->n;
  x_store(b, XW, CTX(fp), RBX);
  x_store(b, XW, CTX(fuel), R14);
  x_alu_ri(b, XW, ALU_ADD, RSP, 8);
  for (int i = 5; i >= 0; i--) x_pop(b, saved[i]);
  x_ret(b);

  jm->exit_done = b->n;
  x_mov_ri(b, RAX, ST_DONE);
  x_bind(b, x_jmp(b), jm->exit_at);
  jm->exit_ret = b->n;
  x_mov_ri(b, RAX, ST_RET);
  x_bind(b, x_jmp(b), jm->exit_at);
  for (int k = 0; k <= SOS_WASM_TRAP_EXIT; k++) {
    jm->trap_at[k] = b->n;
    x_store_i(b, XW, CTX(trap_kind), k);
    x_mov_ri(b, RAX, ST_TRAP);
    x_bind(b, x_jmp(b), jm->exit_at);
  }
}

/* ---- perf's map of machine code (SOS_WASM_PERFMAP=1) ---- */

static uint64_t leb(const uint8_t **p, const uint8_t *end) {
  uint64_t v = 0;
  for (unsigned sh = 0; *p < end && sh < 64; sh += 7) {
    uint8_t b = *(*p)++;
    v |= (uint64_t)(b & 0x7f) << sh;
    if (!(b & 0x80)) break;
  }
  return v;
}

/* The function-names map of the binary's "name" section (subsection 1),
 * positioned after its count in *p (entries run to *end, sorted by
 * function index as the format requires); false when there is none. */
static bool func_names(const struct sos__module *d, const uint8_t **pp, const uint8_t **endp) {
  const uint8_t *p = d->bytes + 8, *end = d->bytes + d->len;
  while (p < end) {
    uint8_t id = *p++;
    uint64_t size = leb(&p, end);
    if (size > (uint64_t)(end - p)) return false;
    const uint8_t *send = p + size, *q = p;
    p = send;
    if (id != 0) continue;
    uint64_t nl = leb(&q, send);
    if (nl != 4 || send - q < 4 || memcmp(q, "name", 4) != 0) continue;
    q += 4;
    while (q < send) {
      uint8_t sub = *q++;
      uint64_t ssize = leb(&q, send);
      if (ssize > (uint64_t)(send - q)) return false;
      if (sub == 1) {
        *endp = q + ssize;
        leb(&q, *endp); /* the count: the entries end where the subsection does */
        *pp = q;
        return true;
      }
      q += ssize;
    }
  }
  return false;
}

/* Appends one line per function to /tmp/perf-PID.map, perf's format for
 * code it cannot otherwise name ("START SIZE NAME", hexadecimal), naming
 * each from the "name" section or wasm_fN.  One pass over the names.  A
 * function's code runs from starts[i] (its body; its entry follows the
 * body) to the next one's start. */
static void perf_map(const sos_wasm_module *m, const size_t *starts, uint32_t n, size_t total) {
  char path[64];
  snprintf(path, sizeof path, "/tmp/perf-%d.map", (int)getpid());
  FILE *f = fopen(path, "a");
  if (!f) return;
  const uint8_t *q = NULL, *qend = NULL;
  bool names = func_names(&m->d, &q, &qend);
  uint64_t idx = 0, len = 0;
  const uint8_t *at = NULL; /* the current entry's name */
  for (uint32_t i = 0; i < n; i++) {
    char name[128];
    uint32_t fidx = m->d.nfunc_imports + i;
    while (names && (!at || idx < fidx) && q < qend) { /* the next entry */
      idx = leb(&q, qend), len = leb(&q, qend);
      if (len > (uint64_t)(qend - q)) names = false;
      at = q, q += names ? len : 0;
    }
    if (names && at && idx == fidx) snprintf(name, sizeof name, "%.*s", (int)len, (const char *)at);
    else snprintf(name, sizeof name, "wasm_f%u", fidx);
    size_t end = i + 1 < n ? starts[i + 1] : total;
    fprintf(f, "%lx %zx %s\n", (unsigned long)(uintptr_t)(m->jit_mem + starts[i]),
            end - starts[i], name);
  }
  fclose(f);
}

int sos__jit_compile(sos_wasm_module *m) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, opwords_init);
  uint32_t n = m->d.nfuncs - m->d.nfunc_imports;
  struct xbuf b = {0};
  struct jt t = {.b = &b, .m = m};
  struct jmod jm;
  size_t *entries = sos_malloc((n ? n : 1) * sizeof *entries);
  size_t *starts = sos_malloc((n ? n : 1) * sizeof *starts);
  int rc = entries && starts ? 0 : SOS_ENOMEM;
  if (!rc) emit_head(&b, &jm);
  for (uint32_t i = 0; i < n && !rc; i++) {
    starts[i] = b.n;
    rc = translate(&t, &jm, &m->codes[i], &entries[i]);
  }
  for (size_t k = 0; k < t.ncalls && !rc; k++)
    x_bind(&b, t.calls[k].at, entries[t.calls[k].callee]);
  if (!rc && (b.oom || t.oom)) rc = SOS_ENOMEM;
  if (!rc) {
    size_t page = 4096, size = (b.n + page - 1) / page * page;
    void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
      rc = SOS_ENOMEM;
    } else {
      memcpy(mem, b.p, b.n);
      if (mprotect(mem, size, PROT_READ | PROT_EXEC) != 0) {
        munmap(mem, size);
        rc = SOS_ENOMEM;
      } else {
        m->jit_mem = mem;
        m->jit_size = size;
        for (uint32_t i = 0; i < n; i++) m->codes[i].jit = m->jit_mem + entries[i];
        const char *pm = getenv("SOS_WASM_PERFMAP");
        if (pm && strcmp(pm, "1") == 0) perf_map(m, starts, n, b.n);
      }
    }
  }
  sos_free(entries);
  sos_free(starts);
  sos_free(b.p);
  sos_free(t.fx);
  sos_free(t.cd);
  sos_free(t.calls);
  return rc;
}

void sos__jit_free(sos_wasm_module *m) {
  if (m->jit_mem) munmap(m->jit_mem, m->jit_size);
  m->jit_mem = NULL;
}

/* ---- the run loop ---- */

static uint8_t no_memory_byte;
static sos_wasm_memory no_memory = {.data = &no_memory_byte};

typedef int (*enter_fn)(struct sos__jctx *j, uint64_t *fp, const void *addr);

static void set_inst(struct sos__jctx *j, sos_wasm_instance *inst) {
  sos_wasm_memory *m0 = inst->mem0 ? inst->mem0 : &no_memory;
  j->inst = inst;
  j->mem = m0->data;
  j->memsize = m0->size;
  j->globals = inst->globals;
  j->own_globals = inst->own_globals;
  j->tables = inst->tables;
}
static void load_stack(struct sos__jctx *j, struct sos__exec *x) {
  j->ftop = x->frames + x->nframes;
  j->fend = x->frames + x->frames_cap;
  j->stack_end = x->stack + x->stack_cap;
}
/* Calls the host function of call_import pc from the machine code, its
 * arguments in the frame at fp: 0 when it returned OK (its results in
 * the frame), else what it returned (j->arg) for the run loop (ST_HOST). */
static int host_call(struct sos__jctx *j, uint64_t *fp, const uint32_t *pc) {
  sos_wasm_instance *inst = j->inst;
  sos_wasm_func *callee = inst->funcs[pc[1]];
  uint32_t cbase = pc[2];
  uint64_t res[SOS_WASM_HOST_MAX_RESULTS];
  struct sos_wasm_hostcall hc = {inst, callee->env, (const sos_wasm_val *)(fp + cbase), res,
                                 j->trap};
  int r = callee->host(&hc);
  if (r != SOS_WASM_HOST_OK) {
    j->arg = (uint64_t)(int64_t)r;
    j->op_pc = pc;
    return 1;
  }
  for (uint32_t i = 0; i < callee->type.nresults; i++) fp[cbase + i] = res[i];
  set_inst(j, inst); /* the host may have grown the memory */
  return 0;
}

/* The interpreter's CHARGE: false when the run must stop first. */
static bool charge_now(struct sos__jctx *j, int64_t k) {
  if ((j->fuel -= k) < 0) {
    j->fuel += k;
    if (j->hard_cut || j->fuel != j->budget) return false;
    j->fuel -= k; /* a slice always makes progress */
  }
  return true;
}

int sos__jit_run(sos_wasm_instance *root, int64_t slice, struct sos_wasm_trap *trap) {
  /* (opwords_init ran: every code with machine code went through
   * sos__jit_compile first.) */
  struct sos__exec *x = &root->exec;
  struct sos__jctx j = {0};
  bool hard_cut;
  int64_t budget = sos__exec_budget(x, slice, &hard_cut);
  j.fuel = j.budget = budget;
  j.hard_cut = hard_cut;
  j.trap = trap;
  set_inst(&j, x->cur);
  load_stack(&j, x);
  uint64_t *fp = x->stack + x->fp;
  const uint8_t *addr = x->jit_addr;
  j.cont = x->jit_cont;
  int tk;
  int64_t trap_index = -1;
  uint64_t hostres[SOS_WASM_HOST_MAX_RESULTS];
  if (x->entry_fuel) { /* a new call: the entry function's own charge */
    int64_t k = x->entry_fuel;
    x->entry_fuel = 0;
    if (hard_cut && k > j.fuel) {
      j.fuel = 0;
      tk = SOS_WASM_TRAP_FUEL;
      goto trap;
    }
    j.fuel -= k;
  }
  for (;;) {
    enter_fn enter;
    const uint8_t *e = j.inst->mod->jit_mem; /* the trampoline is at offset 0 */
    memcpy(&enter, &e, sizeof enter);
    int st = enter(&j, fp, addr);
    fp = j.fp;
    switch (st) {
    case ST_DONE:
      x->nframes = (uint32_t)(j.ftop - x->frames);
      x->fp = 0;
      x->fuel_used += (uint64_t)(budget - j.fuel);
      x->state = SOS__EXEC_DONE;
      return SOS_WASM_DONE;
    case ST_TRAP:
      tk = (int)j.trap_kind;
      goto trap;
    case ST_RET: { /* into another instance: the frame just popped */
      const struct sos__frame *fr = j.ftop;
      set_inst(&j, fr->inst);
      fp = fr->fp;
      addr = fr->ret_jit;
      continue;
    }
    case ST_FUEL:
      if (!charge_now(&j, (int64_t)j.arg)) goto out_of_fuel;
      addr = j.stub; /* reload, then go on at j.cont */
      continue;
    case ST_YIELD:
      goto out_of_fuel;
    case ST_CALL: break;
    case ST_HOST: { /* as below, after the host function returned */
      int r = (int)(int64_t)j.arg;
      x->fuel_used += (uint64_t)(budget - j.fuel);
      if (r == SOS_WASM_HOST_SUSPEND) {
        x->jit_addr = j.cont;
        x->jit_cont = NULL;
        x->fp = (uint32_t)(fp - x->stack);
        x->cur = j.inst;
        x->host_res = j.op_pc[2];
        x->host_nres = j.inst->funcs[j.op_pc[1]]->type.nresults;
        x->nframes = (uint32_t)(j.ftop - x->frames);
        x->state = SOS__EXEC_SUSPENDED;
        return SOS_WASM_SUSPENDED;
      }
      x->nframes = 0;
      return sos__host_failed(x, trap, r);
    }
    default: tk = SOS_WASM_TRAP_HOST; goto trap;
    }

    /* ST_CALL: the call op at j.op_pc, as the interpreter does it. */
    const uint32_t *pc = j.op_pc;
    sos_wasm_instance *inst = j.inst;
    const struct sos__code *cc = NULL;
    sos_wasm_func *callee = NULL;
    uint32_t cbase;
    if (pc[0] == w_call) {
      cc = &inst->mod->codes[pc[1]];
      cbase = pc[2];
    } else if (pc[0] == w_import) {
      callee = inst->funcs[pc[1]];
      cbase = pc[2];
    } else {
      sos_wasm_table *tab = inst->tables[pc[2]];
      uint32_t i = (uint32_t)fp[pc[3]];
      if (i >= tab->size) {
        trap_index = i;
        tk = SOS_WASM_TRAP_UNDEFINED_ELEMENT;
        goto trap;
      }
      callee = (sos_wasm_func *)(uintptr_t)tab->elems[i];
      if (!callee) {
        trap_index = i;
        tk = SOS_WASM_TRAP_UNINITIALIZED;
        goto trap;
      }
      const struct sos__functype *want = &inst->mod->d.types[pc[1]];
      if (callee->sig != want && !sos__functype_eq(callee->sig, want)) {
        tk = SOS_WASM_TRAP_INDIRECT_TYPE;
        goto trap;
      }
      cbase = pc[4];
    }
    if (callee && callee->code) cc = callee->code;
    if (cc) {
      if (!charge_now(&j, cc->fuel)) {
        j.cont = j.retry;
        goto out_of_fuel;
      }
      size_t fo = (size_t)(fp - x->stack);
      uint64_t need = fo + cbase + cc->frame_slots;
      if (need > x->stack_cap || j.ftop == j.fend) {
        x->nframes = (uint32_t)(j.ftop - x->frames);
        if ((need > x->stack_cap && !sos__exec_grow_stack(x, need)) ||
            (j.ftop == j.fend && !sos__exec_grow_frames(x))) {
          tk = SOS_WASM_TRAP_STACK;
          goto trap;
        }
        load_stack(&j, x);
        fp = x->stack + fo;
      }
      *j.ftop++ = (struct sos__frame){NULL, fp, inst, j.cont};
      fp += cbase; /* the callee's entry zeroes its locals, writes its pool */
      if (callee && callee->inst != inst) set_inst(&j, callee->inst);
      addr = cc->jit;
      continue;
    }
    /* A host function: arguments in place, results through hostres. */
    uint32_t nres = callee->type.nresults;
    struct sos_wasm_hostcall hc = {inst, callee->env, (const sos_wasm_val *)(fp + cbase),
                                   hostres, trap};
    int r = callee->host(&hc);
    if (r == SOS_WASM_HOST_OK) {
      for (uint32_t i = 0; i < nres; i++) fp[cbase + i] = hostres[i];
      set_inst(&j, inst); /* the host may have grown the memory */
      addr = j.cont;
      continue;
    }
    x->fuel_used += (uint64_t)(budget - j.fuel);
    if (r == SOS_WASM_HOST_SUSPEND) {
      x->jit_addr = j.cont;
      x->jit_cont = NULL;
      x->fp = (uint32_t)(fp - x->stack);
      x->cur = inst;
      x->host_res = cbase;
      x->host_nres = nres;
      x->nframes = (uint32_t)(j.ftop - x->frames);
      x->state = SOS__EXEC_SUSPENDED;
      return SOS_WASM_SUSPENDED;
    }
    x->nframes = 0;
    return sos__host_failed(x, trap, r);
  }

out_of_fuel: /* continue later at j.stub, which reloads and goes to j.retry */
  x->fuel_used += (uint64_t)(budget - j.fuel);
  if (hard_cut) {
    x->state = SOS__EXEC_IDLE;
    x->nframes = 0;
    sos__trap_message(trap, SOS_WASM_TRAP_FUEL, -1);
    return SOS_ETRAP;
  }
  x->jit_addr = j.stub;
  x->jit_cont = j.retry;
  x->fp = (uint32_t)(fp - x->stack);
  x->cur = j.inst;
  x->nframes = (uint32_t)(j.ftop - x->frames);
  x->state = SOS__EXEC_READY;
  return SOS_WASM_YIELDED;

trap:
  x->fuel_used += (uint64_t)(budget - j.fuel);
  x->state = SOS__EXEC_IDLE;
  x->nframes = 0;
  sos__trap_message(trap, tk, trap_index);
  return SOS_ETRAP;
}

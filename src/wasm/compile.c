/*
 * compile.c - validates function bodies and translates them to the
 * engine's register code, in one pass (WebAssembly Core 2.0 §3.3 and the
 * validation algorithm of its Appendix A.3).
 *
 * The output is a sequence of 32-bit words per function: an op word (the
 * handler's offset, see interp.c) followed by operands, most of them slot
 * indices relative to the frame base.  A frame is an array of 64-bit
 * slots: the locals first (parameters included), then the constant pool,
 * then one slot per operand-stack height.  Every WebAssembly value
 * therefore has a home slot fixed at compile time, and ops name slots
 * directly: the stack machine's pushes and pops disappear.  Callee frames
 * start inside the caller's operand stack, at the first argument.
 *
 * To avoid copies, the compile-time operand stack holds *virtual* entries:
 * a value that is still in a local (after local.get) or a known constant
 * (after *.const) is not copied into its home slot until it must be.
 * Consumers read locals in place; a constant becomes an immediate (binary
 * operators have "_imm" forms; a constant address joins the memarg
 * offset) or is read from the constant pool, up to SOS__MAX_CONSTS
 * distinct values per function copied into the frame on entry.  A virtual
 * entry is made real ("materialised") when a local it names is about to
 * change, when it crosses a control boundary (block entry, branch, end),
 * or when a call needs its arguments in a row.  Entries below the
 * innermost block's base are always real, so paths that join at a label
 * agree on where every value lives.  Since the pool's size is known only
 * at the end, stack and pool slots are written as marked numbers and
 * bound then (cfix).
 *
 * Peephole rewrites work on the last emitted op while no label has been
 * bound after it: local.set/tee and returns retarget the op's destination
 * to the local or result slot; br_if/if fuse with a preceding integer
 * comparison or eqz; loads and stores absorb the i32.add that computed
 * their address (keeping its wrap-around at 2^32).
 *
 * Fuel: every loop starts with a `fuel` op charging the instructions of
 * its body (not counting nested loops), which backward branches charge
 * again; a function's remaining instructions are charged by the call
 * that enters it (code->fuel), or by the run that starts it.  An arm of
 * an `if` (then or else) of at least FUEL_ARM instructions is charged by
 * a `fuel` op of its own when it runs, not with the code around it: a
 * body with large branches it seldom takes (a request dispatcher after
 * -flto inlining) is charged for what it runs, not for everything it
 * holds.  Smaller arms are charged with the code around them (their
 * `fuel` op charges 0, which the JIT emits as nothing), so that tight
 * loops keep one check per iteration.  Parts of a plain block that only
 * some paths reach are charged the same way (begin_part): a switch's
 * case (the code after the end of a block that a br_table jumps out
 * of, with its `fuel` op at the label the switch jumps to) and the rest
 * of a block after a br_if, each up to the next part or the block's end;
 * so a switch pays for the case it runs, and an early exit for the code
 * it did not skip.
 *
 * The compiler is three files.  This one holds its machinery: buffers and
 * errors, code emission, the compile-time operand stack and its
 * materialisation, control instructions (blocks, branches, returns, calls
 * and the fused conditions of br_if and if) and the per-function driver.
 * compile_ops.c compiles every other instruction (numeric, reference,
 * parametric, variable, table and memory) and holds the opcode switch;
 * compile.h declares the state, struct cc, and the helpers they share.
 */
#include "wasm/compile.h"

#include "wasm/jit.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUEL_ARM 32 /* an if arm this long is charged on its own */

/* ---- errors and buffers -------------------------------------------------- */

int sos__cc_fail(struct cc *c, int rc, const char *fmt, ...) {
  if (c->rc) return c->rc;
  c->rc = rc;
  if (rc == SOS_ENOMEM || !c->errlen) return rc;
  size_t off = (size_t)(c->at - c->d->bytes);
  int n = snprintf(c->err, c->errlen, "code section, function %u, offset 0x%zx: ",
                   c->fidx, off);
  if (n < 0 || (size_t)n >= c->errlen) return rc;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
  va_end(ap);
  return rc;
}


/* Grows *buf (of *cap elements of size sz) to hold n; sticky on failure. */
static bool reserve(struct cc *c, void **buf, uint32_t *cap, uint32_t n, size_t sz) {
  if (n <= *cap) return true;
  uint32_t ncap = *cap ? *cap * 2 : 64;
  while (ncap < n) ncap *= 2;
  void *nb = sos_realloc(*buf, (size_t)ncap * sz);
  if (!nb) {
    sos__cc_fail(c, SOS_ENOMEM, "out of memory");
    return false;
  }
  *buf = nb;
  *cap = ncap;
  return true;
}

struct ctrl *sos__cc_top_ctrl(struct cc *c) { return &c->cs[c->ncs - 1]; }
/* Whether code emitted now could never run, so none is emitted. */
bool sos__cc_dead(struct cc *c) {
  return c->rc || sos__cc_top_ctrl(c)->dead || sos__cc_top_ctrl(c)->quiet;
}

/* ---- reading immediates -------------------------------------------------- */

uint32_t sos__cc_read_u32(struct cc *c) {
  uint64_t v = 0;
  const char *why;
  if (c->rc) return 0;
  if (sos__leb_u(&c->p, c->end, 32, &v, &why)) MALFORMED("%s", why);
  return (uint32_t)v;
}

int64_t sos__cc_read_s(struct cc *c, unsigned bits) {
  int64_t v = 0;
  const char *why;
  if (c->rc) return 0;
  if (sos__leb_s(&c->p, c->end, bits, &v, &why)) MALFORMED("%s", why);
  return v;
}

uint8_t sos__cc_read_byte(struct cc *c) {
  if (c->rc) return 0;
  if (c->p >= c->end) {
    MALFORMED("unexpected end");
    return 0;
  }
  return *c->p++;
}

uint64_t sos__cc_read_fixed(struct cc *c, unsigned n) {
  uint64_t v = 0;
  if (c->rc) return 0;
  if ((size_t)(c->end - c->p) < n) {
    MALFORMED("unexpected end");
    return 0;
  }
  for (unsigned i = 0; i < n; i++) v |= (uint64_t)c->p[i] << (8 * i);
  c->p += n;
  return v;
}

bool sos__cc_is_num(uint8_t t) {
  return t == SOS_WASM_I32 || t == SOS_WASM_I64 || t == SOS_WASM_F32 ||
         t == SOS_WASM_F64;
}
bool sos__cc_is_ref(uint8_t t) {
  return t == SOS_WASM_FUNCREF || t == SOS_WASM_EXTERNREF;
}

uint8_t sos__cc_read_valtype(struct cc *c) {
  uint8_t t = sos__cc_read_byte(c);
  if (!c->rc && !sos__cc_is_num(t) && !sos__cc_is_ref(t))
    MALFORMED("malformed value type");
  return t;
}

/* ---- emitting code -------------------------------------------------------- */

uint32_t sos__cc_emit(struct cc *c, uint32_t w) {
  if (sos__cc_dead(c)) return c->ncode;
  if (!reserve(c, (void **)&c->code, &c->capcode, c->ncode + 1, 4)) return 0;
  c->code[c->ncode] = w;
  return c->ncode++;
}

/* Emits a slot operand, noting pool references for the final fix-up. */
uint32_t sos__cc_emit_slot(struct cc *c, uint32_t s) {
  uint32_t at = sos__cc_emit(c, s);
  if ((s & (CONST_MARK | STACK_MARK)) && !sos__cc_dead(c) &&
      reserve(c, (void **)&c->cfix, &c->capcfix, c->ncfix + 1, 4))
    c->cfix[c->ncfix++] = at;
  return at;
}

/* Drops the code from word n on (an op being fused into the next). */
void sos__cc_truncate_code(struct cc *c, uint32_t n) {
  c->ncode = n;
  c->last_end = NONE;
  if (c->add_end > n) c->add_end = NONE;
  while (c->ncfix && c->cfix[c->ncfix - 1] >= n) c->ncfix--;
}

uint32_t sos__cc_emit_op(struct cc *c, enum sos__op op) {
  return sos__cc_emit(c, sos__op_word(op));
}

/* The home slot of stack height h (bound to a frame index at the end). */
uint32_t sos__cc_slot_of(struct cc *c, uint32_t h) {
  (void)c;
  return STACK_MARK | h;
}

/* Records that the op just emitted at start wrote its result through the
 * word at dst (for retargeting) and, for fusion, which wasm op it was. */
void sos__cc_note_value_op(struct cc *c, uint32_t start, uint32_t dst, uint32_t opc,
                           bool imm) {
  if (sos__cc_dead(c)) return;
  c->last_start = start;
  c->last_dst = dst;
  c->last_opc = opc;
  c->last_imm = imm;
  c->last_end = c->ncode;
  c->last_rmw = 0;
  if (opc == 0x6a) {
    c->add_start = start;
    c->add_end = c->ncode;
    c->add_imm = imm;
  }
}

/* A label is bound here: ops before it may no longer be rewritten. */
static void bind_label(struct cc *c) { c->last_end = c->add_end = NONE; }

static void emit_copy(struct cc *c, uint32_t dst, uint32_t src) {
  if (dst == src) return;
  uint32_t at = sos__cc_emit_op(c, SOS__OP_copy);
  uint32_t dw = sos__cc_emit_slot(c, dst);
  sos__cc_emit_slot(c, src);
  sos__cc_note_value_op(c, at, dw, 0, false);
}

static void emit_const(struct cc *c, uint32_t dst, uint64_t k) {
  uint32_t at, dw;
  if (k >> 32) {
    at = sos__cc_emit_op(c, SOS__OP_const64);
    dw = sos__cc_emit_slot(c, dst);
    sos__cc_emit(c, (uint32_t)k);
    sos__cc_emit(c, (uint32_t)(k >> 32));
  } else {
    at = sos__cc_emit_op(c, SOS__OP_const32);
    dw = sos__cc_emit_slot(c, dst);
    sos__cc_emit(c, (uint32_t)k);
  }
  sos__cc_note_value_op(c, at, dw, 0, false);
}

/* Writes entry e's value into slot dst. */
void sos__cc_emit_entry_to(struct cc *c, const struct ventry *e, uint32_t dst,
                           uint32_t home) {
  if (e->kind == V_LOCAL) emit_copy(c, dst, e->local);
  else if (e->kind == V_CONST) emit_const(c, dst, e->k);
  else emit_copy(c, dst, home);
}

/* ---- the operand stack ---------------------------------------------------- */

void sos__cc_push(struct cc *c, uint8_t type, uint8_t kind, uint32_t local, uint64_t k) {
  if (!reserve(c, (void **)&c->st, &c->capst, c->nst + 1, sizeof *c->st)) return;
  c->st[c->nst++] = (struct ventry){type, kind, local, k};
  if (c->nst > c->maxst) c->maxst = c->nst;
}

void sos__cc_push_slot(struct cc *c, uint8_t type) {
  sos__cc_push(c, type, V_SLOT, 0, 0);
}

/* Pops one entry, checking its type against want (T_UNKNOWN: any). */
struct ventry sos__cc_pop(struct cc *c, uint8_t want) {
  struct ctrl *f = sos__cc_top_ctrl(c);
  struct ventry e = {T_UNKNOWN, V_SLOT, 0, 0};
  if (c->rc) return e;
  if (c->nst == f->height) {
    if (!f->dead) INVALID("type mismatch: operand stack is empty");
    return e;
  }
  e = c->st[--c->nst];
  if (want != T_UNKNOWN && e.type != T_UNKNOWN && e.type != want)
    INVALID("type mismatch");
  return e;
}

/* Makes entry h real: its value in its home slot. */
void sos__cc_materialize(struct cc *c, uint32_t h) {
  struct ventry *e = &c->st[h];
  if (e->kind == V_SLOT) return;
  sos__cc_emit_entry_to(c, e, sos__cc_slot_of(c, h), sos__cc_slot_of(c, h));
  e->kind = V_SLOT;
}

static void materialize_from(struct cc *c, uint32_t from) {
  for (uint32_t h = from; h < c->nst; h++) sos__cc_materialize(c, h);
}

/* The pool entry holding k, or NONE when the pool is full. */
uint32_t sos__cc_pool_slot(struct cc *c, uint64_t k) {
  for (uint32_t i = 0; i < c->nconsts; i++)
    if (c->consts[i] == k) return CONST_MARK | i;
  if (c->nconsts == SOS__MAX_CONSTS) return NONE;
  c->consts[c->nconsts] = k;
  return CONST_MARK | c->nconsts++;
}

/* Slot that holds entry h's value: a local, its home slot, or for a
 * constant a pool slot (materialised when the pool is full). */
uint32_t sos__cc_operand(struct cc *c, uint32_t h) {
  if (c->st[h].kind == V_CONST) {
    uint32_t s = sos__cc_pool_slot(c, c->st[h].k);
    if (s != NONE) return s;
    sos__cc_materialize(c, h);
  }
  return c->st[h].kind == V_LOCAL ? c->st[h].local : sos__cc_slot_of(c, h);
}

/* Pops the top n entries with types `types`, as operands. */
static bool pop_types(struct cc *c, uint32_t n, const uint8_t *types) {
  for (uint32_t i = n; i-- > 0;) sos__cc_pop(c, types[i]);
  return !c->rc;
}

static void push_types(struct cc *c, uint32_t n, const uint8_t *types) {
  for (uint32_t i = 0; i < n; i++) sos__cc_push_slot(c, types[i]);
}

/* ---- control ------------------------------------------------------------- */

/* Decodes a block type (§5.4.1): empty, one value type, or a type index. */
static void read_blocktype(struct cc *c, struct ctrl *f) {
  if (c->p < c->end && *c->p == 0x40) {
    c->p++;
    return;
  }
  if (c->p < c->end && (sos__cc_is_num(*c->p) || sos__cc_is_ref(*c->p))) {
    f->single = *c->p++;
    f->results = &f->single;
    f->nresults = 1;
    return;
  }
  int64_t idx = sos__cc_read_s(c, 33);
  if (c->rc) return;
  if (idx < 0 || (uint64_t)idx >= c->d->ntypes) {
    INVALID("unknown type %lld", (long long)idx);
    return;
  }
  const struct sos__functype *t = &c->d->types[idx];
  f->params = t->types;
  f->nparams = t->nparams;
  f->results = t->types + t->nparams;
  f->nresults = t->nresults;
}

static struct ctrl *push_ctrl(struct cc *c, uint8_t opcode) {
  if (!reserve(c, (void **)&c->cs, &c->capcs, c->ncs + 1, sizeof *c->cs))
    return NULL;
  struct ctrl *f = &c->cs[c->ncs++];
  memset(f, 0, sizeof *f);
  f->opcode = opcode;
  f->label = NONE;
  f->else_at = NONE;
  if (c->ncs > 1) f->quiet = c->cs[c->ncs - 2].dead || c->cs[c->ncs - 2].quiet;
  f->nfix = c->nfx;
  return f;
}

/* The types a branch to label depth carries (§3.3.8: label_types). */
static void label_types(struct ctrl *f, uint32_t *n, const uint8_t **t) {
  if (f->opcode == 0x03) {
    *n = f->nparams;
    *t = f->params;
  } else {
    *n = f->nresults;
    *t = f->results;
  }
}

static struct ctrl *label_at(struct cc *c, uint32_t depth) {
  if (depth >= c->ncs) {
    INVALID("unknown label");
    return NULL;
  }
  return &c->cs[c->ncs - 1 - depth];
}

/* Checks that the top of the stack matches label types without popping
 * (the entries stay for br_if; br pops by resetting the stack after). */
static void check_label_operands(struct cc *c, uint32_t n, const uint8_t *t) {
  uint32_t avail = c->nst - sos__cc_top_ctrl(c)->height;
  for (uint32_t k = 0; k < n; k++) { /* k: distance from the top */
    if (k >= avail) {
      if (!sos__cc_top_ctrl(c)->dead) INVALID("type mismatch: branch needs %u values", n);
      return;
    }
    uint8_t have = c->st[c->nst - 1 - k].type;
    if (have != T_UNKNOWN && have != t[n - 1 - k]) INVALID("type mismatch in branch");
  }
}

/* Whether a branch to f must move the top values to f's slots. */
static bool needs_moves(struct cc *c, struct ctrl *f, uint32_t n) {
  uint32_t avail = c->nst - sos__cc_top_ctrl(c)->height;
  if (sos__cc_dead(c)) return false;
  for (uint32_t i = 0; i < n && i < avail; i++) {
    uint32_t h = c->nst - n + i;
    if (c->st[h].kind != V_SLOT || h != f->height + i) return true;
  }
  return false;
}

/* Emits the moves of the top n values to f's slots (increasing order is
 * safe: every target lies at or below its source). */
static void emit_moves(struct cc *c, struct ctrl *f, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    uint32_t h = c->nst - n + i;
    sos__cc_emit_entry_to(c, &c->st[h], sos__cc_slot_of(c, f->height + i),
                          sos__cc_slot_of(c, h));
  }
}

/* Records that code[word] is the offset of the jump at op to f's label. */
static void jump_to(struct cc *c, struct ctrl *f, uint32_t op, uint32_t word) {
  if (sos__cc_dead(c)) return;
  if (f->label != NONE) {
    c->code[word] = f->label - op;
    return;
  }
  if (!reserve(c, (void **)&c->fx, &c->capfx, c->nfx + 1, sizeof *c->fx)) return;
  /* Fixups of outer blocks precede inner ones; tag with f's nfix base via
   * position: all fixups added while f is open belong to f or inner
   * blocks, which patch theirs before f ends.  Store the target ctrl. */
  c->fx[c->nfx++] = (struct fixup){word, op};
  c->code[word] = (uint32_t)(f - c->cs); /* ctrl index until patched */
}

static void emit_br(struct cc *c, struct ctrl *f) {
  uint32_t op = sos__cc_emit_op(c, SOS__OP_br);
  uint32_t w = sos__cc_emit(c, 0);
  jump_to(c, f, op, w);
}

/* Patches every pending jump to ctrl index fi to the current position. */
static void patch_fixups(struct cc *c, uint32_t fi) {
  uint32_t keep = c->cs[fi].nfix;
  for (uint32_t i = c->cs[fi].nfix; i < c->nfx; i++) {
    struct fixup x = c->fx[i];
    if (c->code[x.word] == fi) c->code[x.word] = c->ncode - x.op;
    else c->fx[keep++] = x;
  }
  c->nfx = keep;
}

/* When entry e (at height h) was computed by the op just emitted, makes
 * that op write slot dst instead and returns true. */
bool sos__cc_retarget(struct cc *c, const struct ventry *e, uint32_t h, uint32_t dst) {
  if (e->kind != V_SLOT || sos__cc_dead(c) || c->last_end != c->ncode ||
      c->code[c->last_dst] != sos__cc_slot_of(c, h))
    return false;
  c->code[c->last_dst] = dst;
  c->last_opc = 0; /* the op no longer feeds a branch or an address */
  return true;
}

/* Moves the top n values to slots 0..n-1, where the caller expects the
 * results, and returns (safe in increasing order once all are in their
 * home slots, which lie above every target). */
static void emit_return(struct cc *c, uint32_t n) {
  if (n > 1) materialize_from(c, sos__cc_top_ctrl(c)->height);
  for (uint32_t i = 0; i < n; i++) {
    uint32_t h = c->nst - n + i;
    if (n == 1 && sos__cc_retarget(c, &c->st[h], h, 0)) break;
    sos__cc_emit_entry_to(c, &c->st[h], i, sos__cc_slot_of(c, h));
  }
  sos__cc_emit_op(c, SOS__OP_ret);
}

/* Reset after an unconditional transfer (§A.3 unreachable). */
void sos__cc_set_dead(struct cc *c) {
  struct ctrl *f = sos__cc_top_ctrl(c);
  c->nst = f->height;
  f->dead = true;
}

/* A branch condition: the op to jump when true, when false, and its
 * operand words.  Built from the top of the stack, fusing a comparison
 * just emitted. */
struct cond {
  enum sos__op when_true, when_false;
  uint32_t w[4];
  uint32_t nw;
  uint32_t slots; /* bit i: w[i] is a slot operand */
};


static uint32_t invert_cmp(uint32_t opc) {
  static const uint8_t inv[10] = {1, 0, 8, 9, 6, 7, 4, 5, 2, 3};
  uint32_t base = opc >= 0x51 ? 0x51 : 0x46;
  return base + inv[opc - base];
}

static bool is_cmp(uint32_t opc) {
  return (opc >= 0x46 && opc <= 0x4f) || (opc >= 0x51 && opc <= 0x5a);
}

static void take_cond(struct cc *c, struct cond *k) {
  uint32_t h = c->nst - 1;
  bool fuse = !sos__cc_dead(c) && c->nst > sos__cc_top_ctrl(c)->height &&
              c->last_end == c->ncode && c->st[h].kind == V_SLOT &&
              c->code[c->last_dst] == sos__cc_slot_of(c, h) &&
              (is_cmp(c->last_opc) || c->last_opc == 0x45 || c->last_opc == 0x50);
  if (fuse) {
    const uint32_t *ops = c->code + c->last_start;
    uint32_t opc = c->last_opc;
    if (opc == 0x45 || opc == 0x50) {
      k->when_true = opc == 0x45 ? SOS__OP_br_if_eqz32 : SOS__OP_br_if_eqz64;
      k->when_false = opc == 0x45 ? SOS__OP_br_if : SOS__OP_br_if_nez64;
      k->w[0] = ops[2];
      k->nw = 1;
      k->slots = 1;
    } else if (opc <= 0x4f && c->add_end == c->last_start &&
               c->code[c->add_start + 1] == ops[2]) {
      /* x = a + b; x <cmp> n: one "bra_" op (ops.h).  Rows of four per
       * comparison: add imm/slot x compare imm/slot. */
      const uint32_t *add = c->code + c->add_start;
      uint32_t form = (c->add_imm ? 0 : 2) + (c->last_imm ? 0 : 1);
      k->when_true = SOS__OP_bra_i32_eq_ii + 4 * (opc - 0x46) + form;
      k->when_false = SOS__OP_bra_i32_eq_ii + 4 * (invert_cmp(opc) - 0x46) + form;
      k->w[0] = add[1];
      k->w[1] = add[2];
      k->w[2] = add[3];
      k->w[3] = ops[3];
      k->nw = 4;
      k->slots = 3 | (c->add_imm ? 0 : 4) | (c->last_imm ? 0 : 8);
      sos__cc_truncate_code(c, c->add_start);
      sos__cc_pop(c, SOS_WASM_I32);
      return;
    } else {
      bool wide_imm = c->last_imm && opc >= 0x51;
      k->when_true = sos__cc_cmp_op(opc, c->last_imm, true);
      k->when_false = sos__cc_cmp_op(invert_cmp(opc), c->last_imm, true);
      k->w[0] = ops[2];
      k->w[1] = ops[3];
      k->w[2] = wide_imm ? ops[4] : 0;
      k->nw = wide_imm ? 3 : 2;
      k->slots = c->last_imm ? 1 : 3;
    }
    sos__cc_truncate_code(c, c->last_start); /* drop the comparison */
    sos__cc_pop(c, SOS_WASM_I32);
    return;
  }
  uint32_t s = c->nst > sos__cc_top_ctrl(c)->height ? sos__cc_operand(c, h) : 0;
  sos__cc_pop(c, SOS_WASM_I32);
  k->when_true = SOS__OP_br_if;
  k->when_false = SOS__OP_br_unless;
  k->w[0] = s;
  k->nw = 1;
  k->slots = 1;
}

/* Emits a conditional jump (taken when `when` holds) whose offset word is
 * returned through *word; the op's start through *op. */
static void emit_cond_jump(struct cc *c, const struct cond *k, bool when,
                           uint32_t *op, uint32_t *word) {
  *op = sos__cc_emit_op(c, when ? k->when_true : k->when_false);
  *word = sos__cc_emit(c, 0);
  for (uint32_t i = 0; i < k->nw; i++)
    (k->slots >> i & 1) ? sos__cc_emit_slot(c, k->w[i]) : sos__cc_emit(c, k->w[i]);
}

/* ---- control instructions ------------------------------------------------ */

void sos__cc_block(struct cc *c, uint8_t opcode) {
  struct ctrl tmp = {0};
  tmp.single = 0;
  struct cond k = {0};
  if (opcode == 0x04) {
    if (c->nst > sos__cc_top_ctrl(c)->height) {
      take_cond(c, &k);
    } else {
      sos__cc_pop(c, SOS_WASM_I32);
      k.when_true = SOS__OP_br_if;
      k.when_false = SOS__OP_br_unless;
      k.nw = 1;
      k.slots = 1;
    }
  }
  read_blocktype(c, &tmp);
  if (c->rc) return;
  /* Values cross into the block in their home slots. */
  materialize_from(c, sos__cc_top_ctrl(c)->height);
  if (!pop_types(c, tmp.nparams, tmp.params)) return;
  push_types(c, tmp.nparams, tmp.params);
  uint32_t else_at = NONE, else_word = 0;
  if (opcode == 0x04) emit_cond_jump(c, &k, false, &else_at, &else_word);
  struct ctrl *f = push_ctrl(c, opcode);
  if (!f) return;
  f->params = tmp.params;
  f->nparams = tmp.nparams;
  f->results = tmp.results;
  f->nresults = tmp.nresults;
  f->single = tmp.single;
  if (tmp.results == &tmp.single) f->results = &f->single;
  f->height = c->nst - tmp.nparams;
  f->else_at = sos__cc_dead(c) ? NONE : else_at;
  f->else_word = else_word;
  bind_label(c);
  if (opcode == 0x03 || opcode == 0x04) { /* a loop, or an if's then arm */
    if (opcode == 0x03) f->label = c->ncode;
    f->fuel_outer = c->fuel_ctrl;
    c->fuel_ctrl = c->ncs - 1;
    sos__cc_emit_op(c, SOS__OP_fuel);
    f->fuel_word = sos__cc_dead(c) ? NONE : sos__cc_emit(c, 0);
  }
}

/* Sets the charge of f's fuel region (a loop, or an arm of an if) from
 * its count; an arm under FUEL_ARM instructions goes to the code around
 * it instead. */
static void patch_fuel(struct cc *c, struct ctrl *f) {
  uint32_t k = f->fuel_count + 1;
  if (f->opcode != 0x03 && f->fuel_count < FUEL_ARM) {
    c->cs[f->fuel_outer].fuel_count += f->fuel_count;
    k = 0;
  }
  if (f->fuel_word != NONE && !c->rc) c->code[f->fuel_word] = k;
  f->fuel_count = 0;
}

/* Puts the block's results in their home slots at a fallthrough end. */
static void settle_results(struct cc *c, struct ctrl *f) {
  uint32_t before = c->nst;
  if (!pop_types(c, f->nresults, f->results)) return;
  if (c->nst != f->height) {
    INVALID("type mismatch: %u values left on the stack at end of block",
            c->nst - f->height);
    return;
  }
  if (f->dead) return;
  c->nst = before;
  materialize_from(c, f->height);
}

void sos__cc_else(struct cc *c) {
  struct ctrl *f = sos__cc_top_ctrl(c);
  if (f->opcode != 0x04) {
    MALFORMED("else without if");
    return;
  }
  settle_results(c, f);
  if (c->rc) return;
  emit_br(c, f);
  patch_fuel(c, f); /* the then arm's */
  f->opcode = 0x05;
  f->dead = false;
  if (f->else_at != NONE) c->code[f->else_word] = c->ncode - f->else_at;
  f->else_at = NONE;
  bind_label(c);
  c->nst = f->height;
  push_types(c, f->nparams, f->params);
  sos__cc_emit_op(c, SOS__OP_fuel); /* the else arm's */
  f->fuel_word = sos__cc_dead(c) ? NONE : sos__cc_emit(c, 0);
}

/* A part of the block now on top begins here, where control arrives only
 * from some of the paths through the block: after the end of a child
 * block that a br_table jumps out of (a switch's case), or after a br_if
 * (the rest of the block runs only when the branch is not taken: every
 * label after it belongs to a block that begins after it).  The part is
 * a fuel region of its own up to the next part or the block's end, and
 * ends the part before it.  Only in a plain block: a loop or an if arm
 * is one region already. */
static void begin_part(struct cc *c) {
  uint32_t pi = c->ncs - 1;
  struct ctrl *p = &c->cs[pi];
  if (p->opcode != 0x02) return;
  if (p->parts) {
    patch_fuel(c, p);
  } else {
    p->parts = true;
    p->fuel_outer = c->fuel_ctrl;
    c->fuel_ctrl = pi;
  }
  sos__cc_emit_op(c, SOS__OP_fuel);
  p->fuel_word = sos__cc_dead(c) ? NONE : sos__cc_emit(c, 0);
}

static void finish_fuel(struct cc *c, struct ctrl *f) {
  patch_fuel(c, f);
  c->fuel_ctrl = f->fuel_outer;
}

/* `end` of a block, loop, if or the function body. */
void sos__cc_end(struct cc *c) {
  struct ctrl *f = sos__cc_top_ctrl(c);
  uint32_t fi = c->ncs - 1;
  if (f->opcode == 0x04 &&
      (f->nparams != f->nresults ||
       (f->nparams && memcmp(f->params, f->results, f->nparams) != 0))) {
    INVALID("type mismatch: if without else must leave its parameters");
    return;
  }
  settle_results(c, f);
  if (c->rc) return;
  if (fi == 0) {
    /* Function end: branches to the function's label land here with the
     * results in their home slots; move them to slots 0.., return. */
    if (c->nfx > f->nfix) {
      f->dead = false;
      c->nst = 0;
      push_types(c, f->nresults, f->results);
      patch_fixups(c, 0);
      bind_label(c);
    }
    if (!f->dead) emit_return(c, f->nresults);
    c->ncs--;
    return;
  }
  if (f->opcode == 0x03 || f->opcode == 0x04 || f->opcode == 0x05 || f->parts)
    finish_fuel(c, f);
  bool case_follows = f->switch_target;
  /* Jumps to the end land here: the false branch of an if without else
   * and every pending forward branch.  None exist for a quiet block. */
  if (f->else_at != NONE) c->code[f->else_word] = c->ncode - f->else_at;
  patch_fixups(c, fi);
  c->ncs--;
  bind_label(c);
  c->nst = f->height;
  push_types(c, f->nresults, f->results);
  if (case_follows) begin_part(c);
}

void sos__cc_br(struct cc *c, uint32_t depth) {
  struct ctrl *f = label_at(c, depth);
  if (!f) return;
  uint32_t n;
  const uint8_t *t;
  label_types(f, &n, &t);
  check_label_operands(c, n, t);
  if (c->rc) return;
  if (needs_moves(c, f, n)) emit_moves(c, f, n);
  emit_br(c, f);
  sos__cc_set_dead(c);
}

void sos__cc_br_if(struct cc *c, uint32_t depth) {
  struct cond k;
  take_cond(c, &k);
  struct ctrl *f = label_at(c, depth);
  if (!f || c->rc) return;
  uint32_t n;
  const uint8_t *t;
  label_types(f, &n, &t);
  check_label_operands(c, n, t);
  if (c->rc) return;
  /* The values stay for the fallthrough path, now with the label's types. */
  uint32_t op, word;
  if (!needs_moves(c, f, n)) {
    emit_cond_jump(c, &k, true, &op, &word);
    jump_to(c, f, op, word);
  } else {
    emit_cond_jump(c, &k, false, &op, &word);
    emit_moves(c, f, n);
    emit_br(c, f);
    if (!sos__cc_dead(c)) c->code[word] = c->ncode - op;
    bind_label(c);
  }
  if (!sos__cc_top_ctrl(c)->dead) {
    for (uint32_t i = 0; i < n; i++) c->st[c->nst - n + i].type = t[i];
  } else {
    pop_types(c, n, t);
    push_types(c, n, t);
  }
  begin_part(c); /* what follows runs when the branch is not taken */
}

void sos__cc_br_table(struct cc *c) {
  uint32_t count = sos__cc_read_u32(c);
  if (c->rc) return;
  if ((size_t)count > (size_t)(c->end - c->p)) {
    MALFORMED("unexpected end");
    return;
  }
  uint32_t *depths = sos_malloc(((size_t)count + 1) * sizeof *depths);
  if (!depths) {
    sos__cc_fail(c, SOS_ENOMEM, "out of memory");
    return;
  }
  for (uint32_t i = 0; i <= count && !c->rc; i++) depths[i] = sos__cc_read_u32(c);
  uint32_t idx =
      c->nst > sos__cc_top_ctrl(c)->height ? sos__cc_operand(c, c->nst - 1) : 0;
  sos__cc_pop(c, SOS_WASM_I32);
  struct ctrl *def = c->rc ? NULL : label_at(c, depths[count]);
  uint32_t arity = 0;
  const uint8_t *dt = NULL;
  if (def) label_types(def, &arity, &dt);
  for (uint32_t i = 0; i <= count && !c->rc; i++) {
    struct ctrl *f = label_at(c, depths[i]);
    if (!f) break;
    if (f->opcode == 0x02) f->switch_target = true; /* a case starts at its end */
    uint32_t n;
    const uint8_t *t;
    label_types(f, &n, &t);
    if (n != arity) {
      INVALID("type mismatch: br_table targets differ in arity");
      break;
    }
    check_label_operands(c, n, t);
  }
  uint32_t op = sos__cc_emit_op(c, SOS__OP_br_table);
  sos__cc_emit_slot(c, idx);
  sos__cc_emit(c, count);
  uint32_t first = c->ncode;
  for (uint32_t i = 0; i <= count; i++) sos__cc_emit(c, 0);
  for (uint32_t i = 0; i <= count && !c->rc && !sos__cc_dead(c); i++) {
    struct ctrl *f = label_at(c, depths[i]);
    if (!needs_moves(c, f, arity)) {
      jump_to(c, f, op, first + i);
      continue;
    }
    c->code[first + i] = c->ncode - op;
    emit_moves(c, f, arity);
    emit_br(c, f);
  }
  sos_free(depths);
  sos__cc_set_dead(c);
}

void sos__cc_return(struct cc *c) {
  struct ctrl *f = &c->cs[0];
  check_label_operands(c, f->nresults, f->results);
  if (c->rc) return;
  if (!sos__cc_dead(c)) emit_return(c, f->nresults);
  sos__cc_set_dead(c);
}

/* Pops a call's arguments into a row of home slots; returns the base. */
static uint32_t call_args(struct cc *c, const struct sos__functype *t) {
  uint32_t avail = c->nst - sos__cc_top_ctrl(c)->height;
  uint32_t np = t->nparams;
  if (np <= avail) materialize_from(c, c->nst - np);
  uint32_t base = sos__cc_slot_of(c, c->nst >= np ? c->nst - np : 0);
  pop_types(c, np, t->types);
  return base;
}

void sos__cc_call(struct cc *c) {
  uint32_t fi = sos__cc_read_u32(c);
  if (c->rc) return;
  if (fi >= c->d->nfuncs) {
    INVALID("unknown function %u", fi);
    return;
  }
  const struct sos__functype *t = &c->d->types[c->d->func_types[fi]];
  uint32_t base = call_args(c, t);
  bool imported = fi < c->d->nfunc_imports;
  sos__cc_emit_op(c, imported ? SOS__OP_call_import : SOS__OP_call);
  sos__cc_emit(c, imported ? fi : fi - c->d->nfunc_imports);
  sos__cc_emit_slot(c, base);
  push_types(c, t->nresults, t->types + t->nparams);
}

void sos__cc_call_indirect(struct cc *c) {
  uint32_t ti = sos__cc_read_u32(c);
  uint32_t tab = sos__cc_read_u32(c);
  if (c->rc) return;
  if (tab >= c->d->ntables) {
    INVALID("unknown table %u", tab);
    return;
  }
  if (c->d->tables[tab].elem != SOS_WASM_FUNCREF) {
    INVALID("type mismatch: call_indirect through a table of externref");
    return;
  }
  if (ti >= c->d->ntypes) {
    INVALID("unknown type %u", ti);
    return;
  }
  const struct sos__functype *t = &c->d->types[ti];
  uint32_t idx =
      c->nst > sos__cc_top_ctrl(c)->height ? sos__cc_operand(c, c->nst - 1) : 0;
  sos__cc_pop(c, SOS_WASM_I32);
  uint32_t base = call_args(c, t);
  sos__cc_emit_op(c, SOS__OP_call_indirect);
  sos__cc_emit(c, c->d->types[ti].canon);
  sos__cc_emit(c, tab);
  sos__cc_emit_slot(c, idx);
  sos__cc_emit_slot(c, base);
  push_types(c, t->nresults, t->types + t->nparams);
}

/* ---- functions ----------------------------------------------------------- */

static int compile_body(struct cc *c, uint32_t i, struct sos__code *out) {
  const struct sos__module *d = c->d;
  const struct sos__funcbody *b = &d->bodies[i];
  c->fidx = d->nfunc_imports + i;
  c->ft = &d->types[d->func_types[c->fidx]];
  c->nlocals = c->ft->nparams + b->nlocals;
  c->at = b->code;
  if (b->nlocals > SOS__MAX_LOCALS)
    return INVALID("too many locals: %u (this engine allows %u)", b->nlocals,
                   SOS__MAX_LOCALS);
  c->ltypes = sos_malloc(c->nlocals ? c->nlocals : 1);
  if (!c->ltypes) return SOS_ENOMEM;
  if (c->ft->nparams) memcpy(c->ltypes, c->ft->types, c->ft->nparams);
  if (b->nlocals) memcpy(c->ltypes + c->ft->nparams, b->local_types, b->nlocals);
  c->p = c->at = b->code;
  c->end = b->code + b->code_len;
  c->ncode = c->nst = c->maxst = c->ncs = c->nfx = c->ncfix = c->nconsts = 0;
  c->last_end = c->add_end = NONE;
  c->fuel_ctrl = 0;
  struct ctrl *f = push_ctrl(c, 0);
  if (f) {
    f->nparams = 0;
    f->results = c->ft->types + c->ft->nparams;
    f->nresults = c->ft->nresults;
    f->fuel_word = NONE;
  }
  while (!c->rc && c->ncs > 0) {
    if (c->p >= c->end) {
      MALFORMED("unexpected end of function body; END opcode expected");
      break;
    }
    c->at = c->p;
    uint8_t opc = *c->p++;
    c->cs[c->fuel_ctrl].fuel_count++;
    sos__cc_instruction(c, opc);
  }
  if (!c->rc && c->p != c->end) {
    c->at = c->p;
    MALFORMED("section size mismatch: operators after the end of the function");
  }
  sos_free(c->ltypes);
  c->ltypes = NULL;
  if (c->rc) return c->rc;
  out->ops = sos_malloc((size_t)c->ncode * 4);
  if (!out->ops) return SOS_ENOMEM;
  memcpy(out->ops, c->code, (size_t)c->ncode * 4);
  out->nops = c->ncode;
  out->nparams = c->ft->nparams;
  out->nresults = c->ft->nresults;
  out->nlocals = c->nlocals;
  /* Frame: locals, then the constant pool, then the operand stack. */
  out->const_base = c->nlocals;
  out->nconsts = c->nconsts;
  out->frame_slots = c->nlocals + c->nconsts + c->maxst;
  if (out->frame_slots < out->nresults) out->frame_slots = out->nresults;
  if (c->nconsts) {
    out->consts = sos_malloc(c->nconsts * sizeof *c->consts);
    if (!out->consts) return SOS_ENOMEM;
    memcpy(out->consts, c->consts, c->nconsts * sizeof *c->consts);
  }
  for (uint32_t j = 0; j < c->ncfix; j++) {
    uint32_t *w = &out->ops[c->cfix[j]];
    if (*w & CONST_MARK) *w = c->nlocals + (*w & ~CONST_MARK);
    else if (*w & STACK_MARK) *w = c->nlocals + c->nconsts + (*w & ~STACK_MARK);
  }
  out->fuel = c->cs[0].fuel_count;
  out->sig = &d->types[d->types[d->func_types[c->fidx]].canon];
  return 0;
}

int sos__compile(sos_wasm_module *m, char *err, size_t errlen) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, sos__cc_init_simple);
  const struct sos__module *d = &m->d;
  uint32_t n = d->nfuncs - d->nfunc_imports;
  m->codes = sos_calloc(n ? n : 1, sizeof *m->codes);
  if (!m->codes) return SOS_ENOMEM;
  struct cc c = {.d = d, .m = m, .err = err, .errlen = errlen};
  int rc = 0;
  for (uint32_t i = 0; i < n && !rc; i++) {
    rc = compile_body(&c, i, &m->codes[i]);
    if (rc == SOS_ENOMEM && err && errlen) snprintf(err, errlen, "out of memory");
  }
  if (!rc && sos__jit_enabled()) {
    rc = sos__jit_compile(m);
    if (rc && err && errlen)
      snprintf(err, errlen, "%s",
               rc == SOS_ENOMEM   ? "out of memory"
               : rc == SOS_ELIMIT ? "a function's frame is too large for machine code"
                                  : "internal error: machine code");
  }
  if (!rc && getenv("SOS_WASM_DUMP"))
    for (uint32_t i = 0; i < n; i++) {
      fprintf(stderr, "func %u:\n", d->nfunc_imports + i);
      sos__code_dump(&m->codes[i], stderr);
    }
  sos_free(c.code);
  sos_free(c.st);
  sos_free(c.cs);
  sos_free(c.fx);
  sos_free(c.cfix);
  sos_free(c.ltypes);
  if (rc) sos__compile_free(m);
  return rc;
}

void sos__compile_free(sos_wasm_module *m) {
  sos__jit_free(m);
  if (!m->codes) return;
  uint32_t n = m->d.nfuncs - m->d.nfunc_imports;
  for (uint32_t i = 0; i < n; i++) {
    sos_free(m->codes[i].ops);
    sos_free(m->codes[i].consts);
  }
  sos_free(m->codes);
  m->codes = NULL;
}

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
 * that enters it (code->fuel), or by the run that starts it.
 */
#include "wasm/ops.h"
#include "wasm/runtime.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { V_SLOT, V_LOCAL, V_CONST };
#define T_UNKNOWN 0 /* the bottom type of unreachable code */
#define NONE 0xffffffffu
#define CONST_MARK 0x80000000u   /* a slot operand naming a pool entry */
#define STACK_MARK 0x40000000u   /* a slot operand naming a stack height */

struct ventry {
  uint8_t type, kind;
  uint32_t local;
  uint64_t k;
};

struct ctrl {
  uint8_t opcode; /* 0x02 block, 0x03 loop, 0x04 if, 0x05 else, 0 function */
  bool dead;      /* the rest of this block is unreachable (§A.3) */
  bool quiet;     /* emits nothing: the block began in unreachable code */
  uint32_t height;
  uint32_t nparams, nresults;
  const uint8_t *params, *results;
  uint8_t single; /* storage of a one-result block type */
  uint32_t label; /* loop: its start; else NONE */
  uint32_t nfix;  /* fixups pending when the block began */
  uint32_t else_at, else_word; /* if: the false branch to patch */
  uint32_t fuel_word, fuel_count, fuel_outer;
};

struct fixup {
  uint32_t word, op; /* patch code[word] = label - op */
};

struct cc {
  const struct sos__module *d;
  sos_wasm_module *m;
  uint32_t fidx;
  const struct sos__functype *ft;
  uint32_t nlocals;
  uint8_t *ltypes;
  const uint8_t *p, *end, *at;
  uint32_t *code;
  uint32_t ncode, capcode;
  struct ventry *st;
  uint32_t nst, capst, maxst;
  struct ctrl *cs;
  uint32_t ncs, capcs;
  struct fixup *fx;
  uint32_t nfx, capfx;
  uint32_t fuel_ctrl; /* ctrl whose fuel count the current op adds to */
  /* The constant pool: values read in place from slots between the locals
   * and the operand stack, copied into the frame on entry.  Until the
   * pool's size is known, slot operands are written CONST_MARK | entry or
   * STACK_MARK | height, and cfix lists the words to bind at the end. */
  uint64_t consts[SOS__MAX_CONSTS];
  uint32_t nconsts;
  /* (the code keeps an exact-size copy) */
  uint32_t *cfix;
  uint32_t ncfix, capcfix;
  /* The last value op, for the peephole rewrites. */
  uint32_t last_end, last_start, last_dst, last_opc;
  bool last_imm;
  int rc;
  char *err;
  size_t errlen;
};

/* ---- errors and buffers -------------------------------------------------- */

static int fail(struct cc *c, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct cc *c, int rc, const char *fmt, ...) {
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

#define INVALID(...) fail(c, SOS_EINVALID, __VA_ARGS__)
#define MALFORMED(...) fail(c, SOS_EMALFORMED, __VA_ARGS__)

/* Grows *buf (of *cap elements of size sz) to hold n; sticky on failure. */
static bool reserve(struct cc *c, void **buf, uint32_t *cap, uint32_t n, size_t sz) {
  if (n <= *cap) return true;
  uint32_t ncap = *cap ? *cap * 2 : 64;
  while (ncap < n) ncap *= 2;
  void *nb = sos_realloc(*buf, (size_t)ncap * sz);
  if (!nb) {
    fail(c, SOS_ENOMEM, "out of memory");
    return false;
  }
  *buf = nb;
  *cap = ncap;
  return true;
}

static struct ctrl *top_ctrl(struct cc *c) { return &c->cs[c->ncs - 1]; }
/* Whether code emitted now could never run, so none is emitted. */
static bool dead(struct cc *c) {
  return c->rc || top_ctrl(c)->dead || top_ctrl(c)->quiet;
}

/* ---- reading immediates -------------------------------------------------- */

static uint32_t read_u32(struct cc *c) {
  uint64_t v = 0;
  const char *why;
  if (c->rc) return 0;
  if (sos__leb_u(&c->p, c->end, 32, &v, &why)) MALFORMED("%s", why);
  return (uint32_t)v;
}

static int64_t read_s(struct cc *c, unsigned bits) {
  int64_t v = 0;
  const char *why;
  if (c->rc) return 0;
  if (sos__leb_s(&c->p, c->end, bits, &v, &why)) MALFORMED("%s", why);
  return v;
}

static uint8_t read_byte(struct cc *c) {
  if (c->rc) return 0;
  if (c->p >= c->end) {
    MALFORMED("unexpected end");
    return 0;
  }
  return *c->p++;
}

static uint64_t read_fixed(struct cc *c, unsigned n) {
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

static bool is_num(uint8_t t) {
  return t == SOS_WASM_I32 || t == SOS_WASM_I64 || t == SOS_WASM_F32 ||
         t == SOS_WASM_F64;
}
static bool is_ref(uint8_t t) {
  return t == SOS_WASM_FUNCREF || t == SOS_WASM_EXTERNREF;
}

static uint8_t read_valtype(struct cc *c) {
  uint8_t t = read_byte(c);
  if (!c->rc && !is_num(t) && !is_ref(t)) MALFORMED("malformed value type");
  return t;
}

/* ---- emitting code -------------------------------------------------------- */

static uint32_t emit(struct cc *c, uint32_t w) {
  if (dead(c)) return c->ncode;
  if (!reserve(c, (void **)&c->code, &c->capcode, c->ncode + 1, 4)) return 0;
  c->code[c->ncode] = w;
  return c->ncode++;
}

/* Emits a slot operand, noting pool references for the final fix-up. */
static uint32_t emit_slot(struct cc *c, uint32_t s) {
  uint32_t at = emit(c, s);
  if ((s & (CONST_MARK | STACK_MARK)) && !dead(c) &&
      reserve(c, (void **)&c->cfix, &c->capcfix, c->ncfix + 1, 4))
    c->cfix[c->ncfix++] = at;
  return at;
}

/* Drops the code from word n on (an op being fused into the next). */
static void truncate_code(struct cc *c, uint32_t n) {
  c->ncode = n;
  c->last_end = NONE;
  while (c->ncfix && c->cfix[c->ncfix - 1] >= n) c->ncfix--;
}

static uint32_t emit_op(struct cc *c, enum sos__op op) {
  return emit(c, sos__op_word(op));
}

/* The home slot of stack height h (bound to a frame index at the end). */
static uint32_t slot_of(struct cc *c, uint32_t h) {
  (void)c;
  return STACK_MARK | h;
}

/* Records that the op just emitted at start wrote its result through the
 * word at dst (for retargeting) and, for fusion, which wasm op it was. */
static void note_value_op(struct cc *c, uint32_t start, uint32_t dst,
                          uint32_t opc, bool imm) {
  if (dead(c)) return;
  c->last_start = start;
  c->last_dst = dst;
  c->last_opc = opc;
  c->last_imm = imm;
  c->last_end = c->ncode;
}

/* A label is bound here: the last op may no longer be rewritten. */
static void bind_label(struct cc *c) { c->last_end = NONE; }

static void emit_copy(struct cc *c, uint32_t dst, uint32_t src) {
  if (dst == src) return;
  uint32_t at = emit_op(c, SOS__OP_copy);
  uint32_t dw = emit_slot(c, dst);
  emit_slot(c, src);
  note_value_op(c, at, dw, 0, false);
}

static void emit_const(struct cc *c, uint32_t dst, uint64_t k) {
  uint32_t at, dw;
  if (k >> 32) {
    at = emit_op(c, SOS__OP_const64);
    dw = emit_slot(c, dst);
    emit(c, (uint32_t)k);
    emit(c, (uint32_t)(k >> 32));
  } else {
    at = emit_op(c, SOS__OP_const32);
    dw = emit_slot(c, dst);
    emit(c, (uint32_t)k);
  }
  note_value_op(c, at, dw, 0, false);
}

/* Writes entry e's value into slot dst. */
static void emit_entry_to(struct cc *c, const struct ventry *e, uint32_t dst,
                          uint32_t home) {
  if (e->kind == V_LOCAL) emit_copy(c, dst, e->local);
  else if (e->kind == V_CONST) emit_const(c, dst, e->k);
  else emit_copy(c, dst, home);
}

/* ---- the operand stack ---------------------------------------------------- */

static void push(struct cc *c, uint8_t type, uint8_t kind, uint32_t local,
                 uint64_t k) {
  if (!reserve(c, (void **)&c->st, &c->capst, c->nst + 1, sizeof *c->st)) return;
  c->st[c->nst++] = (struct ventry){type, kind, local, k};
  if (c->nst > c->maxst) c->maxst = c->nst;
}

static void push_slot(struct cc *c, uint8_t type) { push(c, type, V_SLOT, 0, 0); }

/* Pops one entry, checking its type against want (T_UNKNOWN: any). */
static struct ventry pop(struct cc *c, uint8_t want) {
  struct ctrl *f = top_ctrl(c);
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
static void materialize(struct cc *c, uint32_t h) {
  struct ventry *e = &c->st[h];
  if (e->kind == V_SLOT) return;
  emit_entry_to(c, e, slot_of(c, h), slot_of(c, h));
  e->kind = V_SLOT;
}

static void materialize_from(struct cc *c, uint32_t from) {
  for (uint32_t h = from; h < c->nst; h++) materialize(c, h);
}

/* The pool entry holding k, or NONE when the pool is full. */
static uint32_t pool_slot(struct cc *c, uint64_t k) {
  for (uint32_t i = 0; i < c->nconsts; i++)
    if (c->consts[i] == k) return CONST_MARK | i;
  if (c->nconsts == SOS__MAX_CONSTS) return NONE;
  c->consts[c->nconsts] = k;
  return CONST_MARK | c->nconsts++;
}

/* Slot that holds entry h's value: a local, its home slot, or for a
 * constant a pool slot (materialised when the pool is full). */
static uint32_t operand(struct cc *c, uint32_t h) {
  if (c->st[h].kind == V_CONST) {
    uint32_t s = pool_slot(c, c->st[h].k);
    if (s != NONE) return s;
    materialize(c, h);
  }
  return c->st[h].kind == V_LOCAL ? c->st[h].local : slot_of(c, h);
}

/* Pops the top n entries with types `types`, as operands. */
static bool pop_types(struct cc *c, uint32_t n, const uint8_t *types) {
  for (uint32_t i = n; i-- > 0;) pop(c, types[i]);
  return !c->rc;
}

static void push_types(struct cc *c, uint32_t n, const uint8_t *types) {
  for (uint32_t i = 0; i < n; i++) push_slot(c, types[i]);
}

/* ---- control ------------------------------------------------------------- */

/* Decodes a block type (§5.4.1): empty, one value type, or a type index. */
static void read_blocktype(struct cc *c, struct ctrl *f) {
  if (c->p < c->end && *c->p == 0x40) {
    c->p++;
    return;
  }
  if (c->p < c->end && (is_num(*c->p) || is_ref(*c->p))) {
    f->single = *c->p++;
    f->results = &f->single;
    f->nresults = 1;
    return;
  }
  int64_t idx = read_s(c, 33);
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
  uint32_t avail = c->nst - top_ctrl(c)->height;
  for (uint32_t k = 0; k < n; k++) { /* k: distance from the top */
    if (k >= avail) {
      if (!top_ctrl(c)->dead) INVALID("type mismatch: branch needs %u values", n);
      return;
    }
    uint8_t have = c->st[c->nst - 1 - k].type;
    if (have != T_UNKNOWN && have != t[n - 1 - k]) INVALID("type mismatch in branch");
  }
}

/* Whether a branch to f must move the top values to f's slots. */
static bool needs_moves(struct cc *c, struct ctrl *f, uint32_t n) {
  uint32_t avail = c->nst - top_ctrl(c)->height;
  if (dead(c)) return false;
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
    emit_entry_to(c, &c->st[h], slot_of(c, f->height + i), slot_of(c, h));
  }
}

/* Records that code[word] is the offset of the jump at op to f's label. */
static void jump_to(struct cc *c, struct ctrl *f, uint32_t op, uint32_t word) {
  if (dead(c)) return;
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
  uint32_t op = emit_op(c, SOS__OP_br);
  uint32_t w = emit(c, 0);
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
static bool retarget(struct cc *c, const struct ventry *e, uint32_t h, uint32_t dst) {
  if (e->kind != V_SLOT || dead(c) || c->last_end != c->ncode ||
      c->code[c->last_dst] != slot_of(c, h))
    return false;
  c->code[c->last_dst] = dst;
  c->last_opc = 0; /* the op no longer feeds a branch or an address */
  return true;
}

/* Moves the top n values to slots 0..n-1, where the caller expects the
 * results, and returns (safe in increasing order once all are in their
 * home slots, which lie above every target). */
static void emit_return(struct cc *c, uint32_t n) {
  if (n > 1) materialize_from(c, top_ctrl(c)->height);
  for (uint32_t i = 0; i < n; i++) {
    uint32_t h = c->nst - n + i;
    if (n == 1 && retarget(c, &c->st[h], h, 0)) break;
    emit_entry_to(c, &c->st[h], i, slot_of(c, h));
  }
  emit_op(c, SOS__OP_ret);
}

/* Reset after an unconditional transfer (§A.3 unreachable). */
static void set_dead(struct cc *c) {
  struct ctrl *f = top_ctrl(c);
  c->nst = f->height;
  f->dead = true;
}

/* A branch condition: the op to jump when true, when false, and its
 * operand words.  Built from the top of the stack, fusing a comparison
 * just emitted. */
struct cond {
  enum sos__op when_true, when_false;
  uint32_t w[3];
  uint32_t nw;
  uint32_t slots; /* bit i: w[i] is a slot operand */
};

static enum sos__op cmp_op(uint32_t opc, bool imm, bool br);

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
  bool fuse = !dead(c) && c->nst > top_ctrl(c)->height &&
              c->last_end == c->ncode && c->st[h].kind == V_SLOT &&
              c->code[c->last_dst] == slot_of(c, h) &&
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
    } else {
      bool wide_imm = c->last_imm && opc >= 0x51;
      k->when_true = cmp_op(opc, c->last_imm, true);
      k->when_false = cmp_op(invert_cmp(opc), c->last_imm, true);
      k->w[0] = ops[2];
      k->w[1] = ops[3];
      k->w[2] = wide_imm ? ops[4] : 0;
      k->nw = wide_imm ? 3 : 2;
      k->slots = c->last_imm ? 1 : 3;
    }
    truncate_code(c, c->last_start); /* drop the comparison */
    pop(c, SOS_WASM_I32);
    return;
  }
  uint32_t s = c->nst > top_ctrl(c)->height ? operand(c, h) : 0;
  pop(c, SOS_WASM_I32);
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
  *op = emit_op(c, when ? k->when_true : k->when_false);
  *word = emit(c, 0);
  for (uint32_t i = 0; i < k->nw; i++)
    (k->slots >> i & 1) ? emit_slot(c, k->w[i]) : emit(c, k->w[i]);
}

/* ---- per-instruction compilation ------------------------------------------ */

static void do_block(struct cc *c, uint8_t opcode) {
  struct ctrl tmp = {0};
  tmp.single = 0;
  struct cond k = {0};
  if (opcode == 0x04) {
    if (c->nst > top_ctrl(c)->height) {
      take_cond(c, &k);
    } else {
      pop(c, SOS_WASM_I32);
      k.when_true = SOS__OP_br_if;
      k.when_false = SOS__OP_br_unless;
      k.nw = 1;
      k.slots = 1;
    }
  }
  read_blocktype(c, &tmp);
  if (c->rc) return;
  /* Values cross into the block in their home slots. */
  materialize_from(c, top_ctrl(c)->height);
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
  f->else_at = dead(c) ? NONE : else_at;
  f->else_word = else_word;
  bind_label(c);
  if (opcode == 0x03) {
    f->label = c->ncode;
    f->fuel_outer = c->fuel_ctrl;
    c->fuel_ctrl = c->ncs - 1;
    emit_op(c, SOS__OP_fuel);
    f->fuel_word = dead(c) ? NONE : emit(c, 0);
  }
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

static void do_else(struct cc *c) {
  struct ctrl *f = top_ctrl(c);
  if (f->opcode != 0x04) {
    MALFORMED("else without if");
    return;
  }
  settle_results(c, f);
  if (c->rc) return;
  emit_br(c, f);
  f->opcode = 0x05;
  f->dead = false;
  if (f->else_at != NONE) c->code[f->else_word] = c->ncode - f->else_at;
  f->else_at = NONE;
  bind_label(c);
  c->nst = f->height;
  push_types(c, f->nparams, f->params);
}

static void finish_fuel(struct cc *c, struct ctrl *f) {
  if (f->fuel_word != NONE && !c->rc) c->code[f->fuel_word] = f->fuel_count + 1;
  c->fuel_ctrl = f->fuel_outer;
}

/* `end` of a block, loop, if or the function body. */
static void do_end(struct cc *c) {
  struct ctrl *f = top_ctrl(c);
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
  if (f->opcode == 0x03) finish_fuel(c, f);
  /* Jumps to the end land here: the false branch of an if without else
   * and every pending forward branch.  None exist for a quiet block. */
  if (f->else_at != NONE) c->code[f->else_word] = c->ncode - f->else_at;
  patch_fixups(c, fi);
  c->ncs--;
  bind_label(c);
  c->nst = f->height;
  push_types(c, f->nresults, f->results);
}

static void do_br(struct cc *c, uint32_t depth) {
  struct ctrl *f = label_at(c, depth);
  if (!f) return;
  uint32_t n;
  const uint8_t *t;
  label_types(f, &n, &t);
  check_label_operands(c, n, t);
  if (c->rc) return;
  if (needs_moves(c, f, n)) emit_moves(c, f, n);
  emit_br(c, f);
  set_dead(c);
}

static void do_br_if(struct cc *c, uint32_t depth) {
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
    if (!dead(c)) c->code[word] = c->ncode - op;
    bind_label(c);
  }
  if (!top_ctrl(c)->dead) {
    for (uint32_t i = 0; i < n; i++) c->st[c->nst - n + i].type = t[i];
  } else {
    pop_types(c, n, t);
    push_types(c, n, t);
  }
}

static void do_br_table(struct cc *c) {
  uint32_t count = read_u32(c);
  if (c->rc) return;
  if ((size_t)count > (size_t)(c->end - c->p)) {
    MALFORMED("unexpected end");
    return;
  }
  uint32_t *depths = sos_malloc(((size_t)count + 1) * sizeof *depths);
  if (!depths) {
    fail(c, SOS_ENOMEM, "out of memory");
    return;
  }
  for (uint32_t i = 0; i <= count && !c->rc; i++) depths[i] = read_u32(c);
  uint32_t idx = c->nst > top_ctrl(c)->height ? operand(c, c->nst - 1) : 0;
  pop(c, SOS_WASM_I32);
  struct ctrl *def = c->rc ? NULL : label_at(c, depths[count]);
  uint32_t arity = 0;
  const uint8_t *dt = NULL;
  if (def) label_types(def, &arity, &dt);
  for (uint32_t i = 0; i <= count && !c->rc; i++) {
    struct ctrl *f = label_at(c, depths[i]);
    if (!f) break;
    uint32_t n;
    const uint8_t *t;
    label_types(f, &n, &t);
    if (n != arity) {
      INVALID("type mismatch: br_table targets differ in arity");
      break;
    }
    check_label_operands(c, n, t);
  }
  uint32_t op = emit_op(c, SOS__OP_br_table);
  emit_slot(c, idx);
  emit(c, count);
  uint32_t first = c->ncode;
  for (uint32_t i = 0; i <= count; i++) emit(c, 0);
  for (uint32_t i = 0; i <= count && !c->rc && !dead(c); i++) {
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
  set_dead(c);
}

static void do_return(struct cc *c) {
  struct ctrl *f = &c->cs[0];
  check_label_operands(c, f->nresults, f->results);
  if (c->rc) return;
  if (!dead(c)) emit_return(c, f->nresults);
  set_dead(c);
}

/* Pops a call's arguments into a row of home slots; returns the base. */
static uint32_t call_args(struct cc *c, const struct sos__functype *t) {
  uint32_t avail = c->nst - top_ctrl(c)->height;
  uint32_t np = t->nparams;
  if (np <= avail) materialize_from(c, c->nst - np);
  uint32_t base = slot_of(c, c->nst >= np ? c->nst - np : 0);
  pop_types(c, np, t->types);
  return base;
}

static void do_call(struct cc *c) {
  uint32_t fi = read_u32(c);
  if (c->rc) return;
  if (fi >= c->d->nfuncs) {
    INVALID("unknown function %u", fi);
    return;
  }
  const struct sos__functype *t = &c->d->types[c->d->func_types[fi]];
  uint32_t base = call_args(c, t);
  bool imported = fi < c->d->nfunc_imports;
  emit_op(c, imported ? SOS__OP_call_import : SOS__OP_call);
  emit(c, imported ? fi : fi - c->d->nfunc_imports);
  emit_slot(c, base);
  push_types(c, t->nresults, t->types + t->nparams);
}

static void do_call_indirect(struct cc *c) {
  uint32_t ti = read_u32(c);
  uint32_t tab = read_u32(c);
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
  uint32_t idx = c->nst > top_ctrl(c)->height ? operand(c, c->nst - 1) : 0;
  pop(c, SOS_WASM_I32);
  uint32_t base = call_args(c, t);
  emit_op(c, SOS__OP_call_indirect);
  emit(c, c->d->types[ti].canon);
  emit(c, tab);
  emit_slot(c, idx);
  emit_slot(c, base);
  push_types(c, t->nresults, t->types + t->nparams);
}

static uint8_t local_type(struct cc *c, uint32_t x) {
  if (x >= c->nlocals) {
    INVALID("unknown local %u", x);
    return T_UNKNOWN;
  }
  return c->ltypes[x];
}

/* local.set / local.tee (tee: the value stays, now read from the local). */
static void do_local_set(struct cc *c, bool tee) {
  uint32_t x = read_u32(c);
  uint8_t t = local_type(c, x);
  if (c->rc) return;
  /* Older reads of x must keep the old value. */
  uint32_t base = top_ctrl(c)->height;
  for (uint32_t h = base; h + 1 < c->nst; h++)
    if (c->st[h].kind == V_LOCAL && c->st[h].local == x) materialize(c, h);
  if (c->nst == base) {
    pop(c, t);
    if (tee) push_slot(c, t);
    return;
  }
  uint32_t h = c->nst - 1;
  struct ventry e = c->st[h];
  pop(c, t);
  if (c->rc) return;
  if (!retarget(c, &e, h, x)) emit_entry_to(c, &e, x, slot_of(c, h));
  if (tee) push(c, t, V_LOCAL, x, 0);
}

static void need_memory(struct cc *c) {
  if (c->d->nmems == 0) INVALID("unknown memory 0");
}

/* memarg (§5.4.6): alignment exponent, then offset. */
static uint32_t read_memarg(struct cc *c, uint32_t bytes) {
  uint32_t align = read_u32(c);
  uint32_t off = read_u32(c);
  need_memory(c);
  if (!c->rc && (align >= 32 || (1u << align) > bytes))
    INVALID("alignment must not be larger than natural");
  return off;
}

/* An address operand: its slot, and when it was computed by the i32.add
 * just emitted, that add's operands instead (the add is dropped and the
 * memory op takes its "_ai" or "_ar" form: op + 1 or op + 2). */
struct addr {
  uint32_t slot, extra, form;
};

static struct addr take_addr(struct cc *c, uint32_t h, uint32_t *off) {
  struct addr a = {0, 0, 0};
  const struct ventry *e = &c->st[h];
  if (e->kind == V_CONST && (uint64_t)(uint32_t)e->k + *off <= UINT32_MAX) {
    /* A constant address joins the offset; the address slot reads 0. */
    uint32_t zero = pool_slot(c, 0);
    if (zero != NONE) {
      *off += (uint32_t)e->k;
      a.slot = zero;
      return a;
    }
  }
  /* i32.add, or i32.sub of a constant (an add of its negation). */
  bool fuse = !dead(c) && c->last_end == c->ncode &&
              (c->last_opc == 0x6a || (c->last_opc == 0x6b && c->last_imm)) &&
              c->st[h].kind == V_SLOT && c->code[c->last_dst] == slot_of(c, h);
  if (fuse) {
    const uint32_t *ops = c->code + c->last_start;
    a.slot = ops[2];
    a.extra = c->last_opc == 0x6b ? 0u - ops[3] : ops[3];
    a.form = c->last_imm ? 1 : 2;
    truncate_code(c, c->last_start);
  } else {
    a.slot = operand(c, h);
  }
  return a;
}

static void do_load(struct cc *c, enum sos__op op, uint8_t type, uint32_t bytes) {
  uint32_t off = read_memarg(c, bytes);
  if (c->rc) return;
  struct addr a = {0, 0, 0};
  if (c->nst > top_ctrl(c)->height) a = take_addr(c, c->nst - 1, &off);
  pop(c, SOS_WASM_I32);
  uint32_t d = slot_of(c, c->nst);
  uint32_t at = emit_op(c, op + a.form);
  uint32_t dw = emit_slot(c, d);
  emit_slot(c, a.slot);
  emit(c, off);
  if (a.form) a.form == 2 ? emit_slot(c, a.extra) : emit(c, a.extra);
  push_slot(c, type);
  note_value_op(c, at, dw, 0, false);
}

static void do_store(struct cc *c, enum sos__op op, uint8_t type, uint32_t bytes) {
  uint32_t off = read_memarg(c, bytes);
  if (c->rc) return;
  uint32_t base = top_ctrl(c)->height;
  struct addr a = {0, 0, 0};
  uint32_t v = 0;
  uint32_t pv = c->nst > base && c->st[c->nst - 1].kind == V_CONST
                    ? pool_slot(c, c->st[c->nst - 1].k) : NONE;
  if (c->nst >= base + 2 && (c->st[c->nst - 1].kind == V_LOCAL || pv != NONE)) {
    /* The value needs no code, so an add just before can still fold. */
    v = pv != NONE ? pv : c->st[c->nst - 1].local;
    a = take_addr(c, c->nst - 2, &off);
  } else {
    v = c->nst > base ? operand(c, c->nst - 1) : 0;
    if (c->nst >= base + 2) a.slot = operand(c, c->nst - 2);
  }
  pop(c, type);
  pop(c, SOS_WASM_I32);
  emit_op(c, op + a.form);
  emit_slot(c, a.slot);
  emit_slot(c, v);
  emit(c, off);
  if (a.form) a.form == 2 ? emit_slot(c, a.extra) : emit(c, a.extra);
}

/* Pops n operands of the given types and returns their slots in s[]. */
static void operands(struct cc *c, uint32_t n, const uint8_t *types, uint32_t *s) {
  uint32_t base = top_ctrl(c)->height;
  for (uint32_t i = n; i-- > 0;) {
    s[i] = c->nst > base ? operand(c, c->nst - 1) : 0;
    pop(c, types[i]);
  }
}

/* Emits op with a result slot of type rt and operand slots s[0..n). */
static void emit_value_op(struct cc *c, enum sos__op op, uint8_t rt,
                          const uint32_t *s, uint32_t n, uint32_t opc) {
  uint32_t d = slot_of(c, c->nst);
  uint32_t at = emit_op(c, op);
  uint32_t dw = emit_slot(c, d);
  for (uint32_t i = 0; i < n; i++) emit_slot(c, s[i]);
  push_slot(c, rt);
  note_value_op(c, at, dw, opc, false);
}

static const uint8_t T_I32[3] = {SOS_WASM_I32, SOS_WASM_I32, SOS_WASM_I32};

/* ---- the simple operators, from ops.h ------------------------------------ */

enum { KIND_UN = 1, KIND_BIN, KIND_IBIN, KIND_CMP, KIND_LOAD, KIND_STORE };

struct simple {
  uint8_t kind, type, rtype, bytes;
  uint16_t op, op_imm;
};

#define I32 SOS_WASM_I32
#define I64 SOS_WASM_I64
#define F32 SOS_WASM_F32
#define F64 SOS_WASM_F64

static struct simple simple_ops[256], simple_fc[8];

static struct simple *simple_for(uint32_t opc) {
  if (opc >= 0xfc00) return opc - 0xfc00 < 8 ? &simple_fc[opc - 0xfc00] : NULL;
  return opc < 256 ? &simple_ops[opc] : NULL;
}

static void init_simple(void) {
#define S_CMP(c, n, T, e)                                                     \
  *simple_for(c) = (struct simple){KIND_CMP, T, I32, 0, SOS__OP_##n, SOS__OP_##n##_imm};
#define S_IBIN(c, n, T, e)                                                    \
  *simple_for(c) = (struct simple){KIND_IBIN, T, T, 0, SOS__OP_##n, SOS__OP_##n##_imm};
#define S_FBIN(c, n, T, TR, e)                                                \
  *simple_for(c) = (struct simple){KIND_BIN, T, TR, 0, SOS__OP_##n, SOS__OP_##n##_imm};
#define S_UN(c, n, T, TR, e)                                                  \
  *simple_for(c) = (struct simple){KIND_UN, T, TR, 0, SOS__OP_##n, 0};
#define S_LOAD(c, n, T, CT, B)                                                \
  *simple_for(c) = (struct simple){KIND_LOAD, I32, T, B, SOS__OP_##n, 0};
#define S_STORE(c, n, T, CT, B)                                               \
  *simple_for(c) = (struct simple){KIND_STORE, T, 0, B, SOS__OP_##n, 0};
  SOS__CMPOPS(S_CMP)
  SOS__IBINOPS(S_IBIN)
  SOS__FBINOPS(S_FBIN)
  SOS__UNOPS(S_UN)
  SOS__LOADS(S_LOAD)
  SOS__STORES(S_STORE)
}

/* The fused compare-and-branch op for comparison opc. */
static enum sos__op cmp_op(uint32_t opc, bool imm, bool br) {
  (void)br;
  uint16_t op = simple_ops[opc].op;
  /* Layout per row: op, op_imm, br_op, br_op_imm. */
  return (enum sos__op)(op + 2 + (imm ? 1 : 0));
}

static bool commutes(uint32_t opc) {
  switch (opc) {
  case 0x6a: case 0x6c: case 0x71: case 0x72: case 0x73: case 0x46: case 0x47:
  case 0x7c: case 0x7e: case 0x83: case 0x84: case 0x85: case 0x51: case 0x52:
    return true;
  }
  return false;
}

/* A binary operator; a constant right operand (or left, for integer
 * operators that commute) becomes an immediate. */
static void do_binary(struct cc *c, const struct simple *s, uint32_t opc) {
  uint32_t base = top_ctrl(c)->height;
  if (c->nst >= base + 2) {
    struct ventry *a = &c->st[c->nst - 2], *b = &c->st[c->nst - 1];
    bool bk = b->kind == V_CONST;
    bool ak = !bk && a->kind == V_CONST && commutes(opc);
    if ((ak || bk) && a->type == s->type && b->type == s->type) {
      uint64_t k = bk ? b->k : a->k;
      uint32_t sa = operand(c, bk ? c->nst - 2 : c->nst - 1);
      pop(c, s->type);
      pop(c, s->type);
      uint32_t d = slot_of(c, c->nst);
      uint32_t at = emit_op(c, s->op_imm);
      uint32_t dw = emit_slot(c, d);
      emit_slot(c, sa);
      emit(c, (uint32_t)k);
      if (s->type == I64 || s->type == F64) emit(c, (uint32_t)(k >> 32));
      push_slot(c, s->rtype);
      note_value_op(c, at, dw, opc, true);
      return;
    }
  }
  uint8_t ts[2] = {s->type, s->type};
  uint32_t sl[2];
  operands(c, 2, ts, sl);
  emit_value_op(c, s->op, s->rtype, sl, 2, opc);
}

static void do_simple(struct cc *c, const struct simple *s, uint32_t opc) {
  switch (s->kind) {
  case KIND_LOAD: do_load(c, s->op, s->rtype, s->bytes); return;
  case KIND_STORE: do_store(c, s->op, s->type, s->bytes); return;
  case KIND_IBIN: case KIND_CMP: case KIND_BIN: do_binary(c, s, opc); return;
  }
  uint8_t ts[2] = {s->type, s->type};
  uint32_t n = s->kind == KIND_UN ? 1 : 2, sl[2];
  operands(c, n, ts, sl);
  emit_value_op(c, s->op, s->rtype, sl, n, opc);
}

/* ---- the rest of the instruction set ---------------------------------------- */

static void do_select(struct cc *c, bool typed) {
  uint8_t want = T_UNKNOWN;
  if (typed) {
    uint32_t n = read_u32(c);
    if (!c->rc && n != 1) {
      INVALID("invalid result arity for select");
      return;
    }
    want = read_valtype(c);
  }
  if (c->rc) return;
  uint32_t s[3];
  uint32_t base = top_ctrl(c)->height;
  s[0] = c->nst > base ? operand(c, c->nst - 1) : 0;
  pop(c, I32);
  struct ventry b = {0}, a = {0};
  s[2] = c->nst > base ? operand(c, c->nst - 1) : 0;
  b = pop(c, want);
  s[1] = c->nst > base ? operand(c, c->nst - 1) : 0;
  a = pop(c, want);
  if (c->rc) return;
  uint8_t t = a.type != T_UNKNOWN ? a.type : b.type;
  if (!typed) {
    if ((a.type != T_UNKNOWN && !is_num(a.type)) ||
        (b.type != T_UNKNOWN && !is_num(b.type))) {
      INVALID("type mismatch: select without a type needs numeric operands");
      return;
    }
    if (a.type != T_UNKNOWN && b.type != T_UNKNOWN && a.type != b.type) {
      INVALID("type mismatch in select");
      return;
    }
  } else {
    t = want;
  }
  uint32_t d = slot_of(c, c->nst);
  uint32_t at = emit_op(c, SOS__OP_select);
  uint32_t dw = emit_slot(c, d);
  emit_slot(c, s[0]);
  emit_slot(c, s[1]);
  emit_slot(c, s[2]);
  push_slot(c, t);
  note_value_op(c, at, dw, 0, false);
}

static void do_global(struct cc *c, bool set) {
  uint32_t g = read_u32(c);
  if (c->rc) return;
  if (g >= c->d->nglobals) {
    INVALID("unknown global %u", g);
    return;
  }
  struct sos__globaltype gt = c->d->globals[g].type;
  if (set) {
    if (!gt.mut) {
      INVALID("global is immutable");
      return;
    }
    uint32_t s;
    operands(c, 1, &gt.type, &s);
    emit_op(c, SOS__OP_global_set);
    emit_slot(c, s);
    emit(c, g);
    return;
  }
  uint32_t at = emit_op(c, SOS__OP_global_get);
  uint32_t dw = emit_slot(c, slot_of(c, c->nst));
  emit(c, g);
  push_slot(c, gt.type);
  note_value_op(c, at, dw, 0, false);
}

static bool check_table(struct cc *c, uint32_t t) {
  if (t < c->d->ntables) return true;
  INVALID("unknown table %u", t);
  return false;
}

static bool check_elem(struct cc *c, uint32_t e) {
  if (e < c->d->nelems) return true;
  INVALID("unknown elem segment %u", e);
  return false;
}

static bool check_data(struct cc *c, uint32_t x) {
  if (!c->d->has_datacount) {
    MALFORMED("data count section required");
    return false;
  }
  if (x < c->d->datacount) return true;
  INVALID("unknown data segment %u", x);
  return false;
}

static void zero_byte(struct cc *c) {
  if (read_byte(c) != 0 && !c->rc) MALFORMED("zero byte expected");
}

/* Emits op with k immediates first, then slots popped for types. */
static void emit_effect(struct cc *c, enum sos__op op, const uint32_t *k,
                        uint32_t nk, const uint8_t *types, uint32_t n) {
  uint32_t s[3];
  operands(c, n, types, s);
  emit_op(c, op);
  for (uint32_t i = 0; i < nk; i++) emit(c, k[i]);
  for (uint32_t i = 0; i < n; i++) emit_slot(c, s[i]);
}

static void do_table_op(struct cc *c, uint32_t sub) {
  uint32_t k[2];
  k[0] = read_u32(c);
  if (c->rc) return;
  uint8_t ts[3] = {I32, 0, I32};
  switch (sub) {
  case 12: /* table.init elem table */
    k[1] = read_u32(c);
    if (c->rc || !check_elem(c, k[0]) || !check_table(c, k[1])) return;
    if (c->d->elems[k[0]].type != c->d->tables[k[1]].elem) {
      INVALID("type mismatch: table.init element type");
      return;
    }
    {
      uint32_t kk[2] = {k[1], k[0]};
      emit_effect(c, SOS__OP_table_init, kk, 2, T_I32, 3);
    }
    return;
  case 13: /* elem.drop */
    if (!check_elem(c, k[0])) return;
    emit_effect(c, SOS__OP_elem_drop, k, 1, NULL, 0);
    return;
  case 14: /* table.copy dst src */
    k[1] = read_u32(c);
    if (c->rc || !check_table(c, k[0]) || !check_table(c, k[1])) return;
    if (c->d->tables[k[0]].elem != c->d->tables[k[1]].elem) {
      INVALID("type mismatch: table.copy between element types");
      return;
    }
    emit_effect(c, SOS__OP_table_copy, k, 2, T_I32, 3);
    return;
  }
  if (!check_table(c, k[0])) return;
  uint8_t et = c->d->tables[k[0]].elem;
  uint32_t s[2];
  if (sub == 15) { /* table.grow: init, n -> old size */
    ts[0] = et;
    ts[1] = I32;
    operands(c, 2, ts, s);
    uint32_t at = emit_op(c, SOS__OP_table_grow);
    uint32_t dw = emit_slot(c, slot_of(c, c->nst));
    emit(c, k[0]);
    emit_slot(c, s[0]);
    emit_slot(c, s[1]);
    push_slot(c, I32);
    note_value_op(c, at, dw, 0, false);
  } else if (sub == 16) { /* table.size */
    uint32_t at = emit_op(c, SOS__OP_table_size);
    uint32_t dw = emit_slot(c, slot_of(c, c->nst));
    emit(c, k[0]);
    push_slot(c, I32);
    note_value_op(c, at, dw, 0, false);
  } else if (sub == 17) { /* table.fill: i, val, n */
    ts[1] = et;
    emit_effect(c, SOS__OP_table_fill, k, 1, ts, 3);
  } else {
    MALFORMED("illegal opcode 0xfc %u", sub);
  }
}

static void do_table_get_set(struct cc *c, bool set) {
  uint32_t t = read_u32(c);
  if (c->rc || !check_table(c, t)) return;
  uint8_t ts[2] = {I32, c->d->tables[t].elem};
  if (set) {
    emit_effect(c, SOS__OP_table_set, &t, 1, ts, 2);
    return;
  }
  uint32_t s;
  operands(c, 1, ts, &s);
  uint32_t at = emit_op(c, SOS__OP_table_get);
  uint32_t dw = emit_slot(c, slot_of(c, c->nst));
  emit(c, t);
  emit_slot(c, s);
  push_slot(c, ts[1]);
  note_value_op(c, at, dw, 0, false);
}

static void do_memory_op(struct cc *c, uint32_t sub) {
  uint32_t k = 0;
  if (sub == 8) { /* memory.init seg */
    k = read_u32(c);
    zero_byte(c);
    need_memory(c);
    if (c->rc || !check_data(c, k)) return;
    emit_effect(c, SOS__OP_memory_init, &k, 1, T_I32, 3);
  } else if (sub == 9) { /* data.drop */
    k = read_u32(c);
    if (c->rc || !check_data(c, k)) return;
    emit_effect(c, SOS__OP_data_drop, &k, 1, NULL, 0);
  } else if (sub == 10) { /* memory.copy */
    zero_byte(c);
    zero_byte(c);
    need_memory(c);
    if (c->rc) return;
    emit_effect(c, SOS__OP_memory_copy, NULL, 0, T_I32, 3);
  } else { /* memory.fill */
    zero_byte(c);
    need_memory(c);
    if (c->rc) return;
    emit_effect(c, SOS__OP_memory_fill, NULL, 0, T_I32, 3);
  }
}

static void do_prefix_fc(struct cc *c) {
  uint32_t sub = read_u32(c);
  if (c->rc) return;
  if (sub < 8) {
    do_simple(c, simple_for(0xfc00 + sub), 0xfc00 + sub);
  } else if (sub <= 11) {
    do_memory_op(c, sub);
  } else if (sub <= 17) {
    do_table_op(c, sub);
  } else {
    MALFORMED("illegal opcode 0xfc %u", sub);
  }
}

static void do_memory_size_grow(struct cc *c, bool grow) {
  zero_byte(c);
  need_memory(c);
  if (c->rc) return;
  uint32_t s = 0;
  if (grow) operands(c, 1, T_I32, &s);
  uint32_t at = emit_op(c, grow ? SOS__OP_memory_grow : SOS__OP_memory_size);
  uint32_t dw = emit_slot(c, slot_of(c, c->nst));
  if (grow) emit_slot(c, s);
  push_slot(c, I32);
  note_value_op(c, at, dw, 0, false);
}

static void do_ref(struct cc *c, uint8_t opc) {
  if (opc == 0xd0) { /* ref.null t */
    uint8_t t = read_byte(c);
    if (!c->rc && !is_ref(t)) {
      MALFORMED("malformed reference type");
      return;
    }
    push(c, t, V_CONST, 0, 0);
  } else if (opc == 0xd1) { /* ref.is_null */
    uint32_t base = top_ctrl(c)->height;
    uint32_t s = c->nst > base ? operand(c, c->nst - 1) : 0;
    struct ventry e = pop(c, T_UNKNOWN);
    if (c->rc) return;
    if (e.type != T_UNKNOWN && !is_ref(e.type)) {
      INVALID("type mismatch: ref.is_null needs a reference");
      return;
    }
    emit_value_op(c, SOS__OP_ref_is_null, I32, &s, 1, 0);
  } else { /* ref.func x */
    uint32_t x = read_u32(c);
    if (c->rc) return;
    if (x >= c->d->nfuncs) {
      INVALID("unknown function %u", x);
      return;
    }
    if (!c->d->declared_refs || !c->d->declared_refs[x]) {
      INVALID("undeclared function reference");
      return;
    }
    uint32_t at = emit_op(c, SOS__OP_ref_func);
    uint32_t dw = emit_slot(c, slot_of(c, c->nst));
    emit(c, x);
    push_slot(c, SOS_WASM_FUNCREF);
    note_value_op(c, at, dw, 0, false);
  }
}

static void do_const(struct cc *c, uint8_t opc) {
  switch (opc) {
  case 0x41: push(c, I32, V_CONST, 0, (uint32_t)read_s(c, 32)); break;
  case 0x42: push(c, I64, V_CONST, 0, (uint64_t)read_s(c, 64)); break;
  case 0x43: push(c, F32, V_CONST, 0, read_fixed(c, 4)); break;
  default: push(c, F64, V_CONST, 0, read_fixed(c, 8)); break;
  }
}

/* Compiles one instruction whose opcode byte has been read. */
static void instruction(struct cc *c, uint8_t opc) {
  struct simple *s = simple_for(opc);
  if (s && s->kind) {
    do_simple(c, s, opc);
    return;
  }
  switch (opc) {
  case 0x00:
    emit_op(c, SOS__OP_unreachable);
    set_dead(c);
    return;
  case 0x01: return;
  case 0x02: case 0x03: case 0x04: do_block(c, opc); return;
  case 0x05: do_else(c); return;
  case 0x0b: do_end(c); return;
  case 0x0c: do_br(c, read_u32(c)); return;
  case 0x0d: do_br_if(c, read_u32(c)); return;
  case 0x0e: do_br_table(c); return;
  case 0x0f: do_return(c); return;
  case 0x10: do_call(c); return;
  case 0x11: do_call_indirect(c); return;
  case 0x1a: pop(c, T_UNKNOWN); return;
  case 0x1b: do_select(c, false); return;
  case 0x1c: do_select(c, true); return;
  case 0x20: {
    uint32_t x = read_u32(c);
    uint8_t t = local_type(c, x);
    if (!c->rc) push(c, t, V_LOCAL, x, 0);
    return;
  }
  case 0x21: do_local_set(c, false); return;
  case 0x22: do_local_set(c, true); return;
  case 0x23: do_global(c, false); return;
  case 0x24: do_global(c, true); return;
  case 0x25: do_table_get_set(c, false); return;
  case 0x26: do_table_get_set(c, true); return;
  case 0x3f: do_memory_size_grow(c, false); return;
  case 0x40: do_memory_size_grow(c, true); return;
  case 0x41: case 0x42: case 0x43: case 0x44: do_const(c, opc); return;
  case 0xd0: case 0xd1: case 0xd2: do_ref(c, opc); return;
  case 0xfc: do_prefix_fc(c); return;
  }
  MALFORMED("illegal opcode 0x%02x", opc);
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
  c->last_end = NONE;
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
    instruction(c, opc);
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
  pthread_once(&once, init_simple);
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
  if (!m->codes) return;
  uint32_t n = m->d.nfuncs - m->d.nfunc_imports;
  for (uint32_t i = 0; i < n; i++) {
    sos_free(m->codes[i].ops);
    sos_free(m->codes[i].consts);
  }
  sos_free(m->codes);
  m->codes = NULL;
}

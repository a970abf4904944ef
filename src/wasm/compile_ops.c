/*
 * compile_ops.c - compiles the WebAssembly instructions that are operators
 * rather than control: numeric, reference, parametric, variable, table and
 * memory instructions (WebAssembly Core 2.0 §3.3.1-§3.3.7), validating
 * each as it goes; sos__cc_instruction, the opcode switch, hands control
 * instructions back to compile.c.
 *
 * An operator pops its operands from the compile-time stack as slots (a
 * local read in place, a pool slot for a constant, or a home slot) and
 * pushes its result as the home slot of the new height, writing one op
 * that names them all.  The simple operators, those of ops.h that read
 * one or two operands and write one result, are not written case by
 * case: their X-macro rows fill a table indexed by opcode (the 0xFC
 * sub-opcodes in their own) with the operand and result types and the
 * internal op, once per process.  A binary operator with a constant right
 * operand, or a constant left one when the operator commutes, takes its
 * "_imm" form.  Loads and stores fold a constant address into the memarg
 * offset, or absorb the i32.add (or i32.sub of a constant) just emitted
 * through their "_ai" and "_ar" forms.  local.set and local.tee first make
 * real the older stack entries that still read the local, then retarget
 * the op that computed the value when it was the last one emitted.
 * Operators record themselves with sos__cc_note_value_op, which is how
 * compile.c's br_if and if find a comparison to fuse.
 */
#include "wasm/compile.h"

#include <stddef.h>
#include <string.h>

/* ---- locals -------------------------------------------------------------- */

static uint8_t local_type(struct cc *c, uint32_t x) {
  if (x >= c->nlocals) {
    INVALID("unknown local %u", x);
    return T_UNKNOWN;
  }
  return c->ltypes[x];
}

/* local.set / local.tee (tee: the value stays, now read from the local). */
static void do_local_set(struct cc *c, bool tee) {
  uint32_t x = sos__cc_read_u32(c);
  uint8_t t = local_type(c, x);
  if (c->rc) return;
  /* Older reads of x must keep the old value. */
  uint32_t base = sos__cc_top_ctrl(c)->height;
  for (uint32_t h = base; h + 1 < c->nst; h++)
    if (c->st[h].kind == V_LOCAL && c->st[h].local == x) sos__cc_materialize(c, h);
  if (c->nst == base) {
    sos__cc_pop(c, t);
    if (tee) sos__cc_push_slot(c, t);
    return;
  }
  uint32_t h = c->nst - 1;
  struct ventry e = c->st[h];
  sos__cc_pop(c, t);
  if (c->rc) return;
  if (!sos__cc_retarget(c, &e, h, x))
    sos__cc_emit_entry_to(c, &e, x, sos__cc_slot_of(c, h));
  if (tee) sos__cc_push(c, t, V_LOCAL, x, 0);
}

/* ---- memory access ------------------------------------------------------- */

static void need_memory(struct cc *c) {
  if (c->d->nmems == 0) INVALID("unknown memory 0");
}

/* memarg (§5.4.6): alignment exponent, then offset. */
static uint32_t read_memarg(struct cc *c, uint32_t bytes) {
  uint32_t align = sos__cc_read_u32(c);
  uint32_t off = sos__cc_read_u32(c);
  need_memory(c);
  if (!c->rc && (align >= 32 || (1u << align) > bytes))
    INVALID("alignment must not be larger than natural");
  return off;
}

/* An address operand: its slot, and when it was computed by the i32.add
 * just emitted, that add's operands instead (the add is dropped and the
 * memory op takes its "_ai" or "_ar" form: op + 1 or op + 2). */
struct addr {
  uint32_t slot, extra, form, k; /* k: the shift of form 3 ("_as") */
};

#define OPC_ADD_SHL 0x16a /* not a wasm opcode: marks an i32_add_shl op */
#define OPC_MEM_FORM 0x1000 /* or'ed into an opcode: its "_m" form */

static struct addr take_addr(struct cc *c, uint32_t h, uint32_t *off) {
  struct addr a = {0, 0, 0, 0};
  const struct ventry *e = &c->st[h];
  if (e->kind == V_CONST && (uint64_t)(uint32_t)e->k + *off <= UINT32_MAX) {
    /* A constant address joins the offset; the address slot reads 0. */
    uint32_t zero = sos__cc_pool_slot(c, 0);
    if (zero != NONE) {
      *off += (uint32_t)e->k;
      a.slot = zero;
      return a;
    }
  }
  /* i32.add, or i32.sub of a constant (an add of its negation). */
  bool fuse = !sos__cc_dead(c) && c->last_end == c->ncode &&
              (c->last_opc == 0x6a || c->last_opc == OPC_ADD_SHL ||
               (c->last_opc == 0x6b && c->last_imm)) &&
              c->st[h].kind == V_SLOT && c->code[c->last_dst] == sos__cc_slot_of(c, h);
  if (fuse) {
    const uint32_t *ops = c->code + c->last_start;
    a.slot = ops[2];
    a.extra = c->last_opc == 0x6b ? 0u - ops[3] : ops[3];
    a.form = c->last_opc == OPC_ADD_SHL ? 3 : c->last_imm ? 1 : 2;
    a.k = a.form == 3 ? ops[4] : 0;
    sos__cc_truncate_code(c, c->last_start);
  } else {
    a.slot = sos__cc_operand(c, h);
  }
  return a;
}

/* The words after a memory op's offset for address forms 1-3. */
static void emit_addr_tail(struct cc *c, const struct addr *a) {
  if (a->form == 1) sos__cc_emit(c, a->extra);
  if (a->form >= 2) sos__cc_emit_slot(c, a->extra);
  if (a->form == 3) sos__cc_emit(c, a->k);
}

static void do_load(struct cc *c, enum sos__op op, uint8_t type, uint32_t bytes,
                    uint32_t opc) {
  uint32_t off = read_memarg(c, bytes);
  if (c->rc) return;
  struct addr a = {0, 0, 0, 0};
  if (c->nst > sos__cc_top_ctrl(c)->height) a = take_addr(c, c->nst - 1, &off);
  sos__cc_pop(c, SOS_WASM_I32);
  uint32_t d = sos__cc_slot_of(c, c->nst);
  uint32_t at = sos__cc_emit_op(c, op + a.form);
  uint32_t dw = sos__cc_emit_slot(c, d);
  sos__cc_emit_slot(c, a.slot);
  sos__cc_emit(c, off);
  emit_addr_tail(c, &a);
  sos__cc_push_slot(c, type);
  sos__cc_note_value_op(c, at, dw, opc, false);
  c->last_form = a.form;
}

/* A full-width store of the result of the "_m" op just emitted, to the
 * very address that op read (same local, same offset), becomes its "_ms"
 * form: mem[addr + off] = a <op> mem[addr + off].  Returns true when. */
static bool try_rmw_store(struct cc *c, uint8_t type, uint32_t bytes, uint32_t off) {
  uint32_t h = c->nst - 1;
  bool wide = type == SOS_WASM_I64 || type == SOS_WASM_F64;
  if (!c->last_rmw || sos__cc_dead(c) || c->last_end != c->ncode ||
      bytes != (wide ? 8u : 4u) || c->st[h].kind != V_SLOT ||
      c->st[h].type != type || c->st[h - 1].kind != V_LOCAL ||
      c->code[c->last_dst] != sos__cc_slot_of(c, h))
    return false;
  const uint32_t *m = c->code + c->last_start; /* [op, d, a, addr, off] */
  if (m[3] != c->st[h - 1].local || m[4] != off) return false;
  uint32_t a = m[2], addr = m[3], op = c->last_rmw;
  sos__cc_truncate_code(c, c->last_start);
  sos__cc_pop(c, type);
  sos__cc_pop(c, SOS_WASM_I32);
  sos__cc_emit_op(c, op);
  sos__cc_emit_slot(c, a);
  sos__cc_emit_slot(c, addr);
  sos__cc_emit(c, off);
  return true;
}

static void do_store(struct cc *c, enum sos__op op, uint8_t type, uint32_t bytes) {
  uint32_t off = read_memarg(c, bytes);
  if (c->rc) return;
  uint32_t base = sos__cc_top_ctrl(c)->height;
  if (c->nst >= base + 2 && try_rmw_store(c, type, bytes, off)) return;
  struct addr a = {0, 0, 0, 0};
  uint32_t v = 0;
  uint32_t pv = c->nst > base && c->st[c->nst - 1].kind == V_CONST
                    ? sos__cc_pool_slot(c, c->st[c->nst - 1].k) : NONE;
  if (c->nst >= base + 2 && (c->st[c->nst - 1].kind == V_LOCAL || pv != NONE)) {
    /* The value needs no code, so an add just before can still fold. */
    v = pv != NONE ? pv : c->st[c->nst - 1].local;
    a = take_addr(c, c->nst - 2, &off);
  } else {
    v = c->nst > base ? sos__cc_operand(c, c->nst - 1) : 0;
    if (c->nst >= base + 2) a.slot = sos__cc_operand(c, c->nst - 2);
  }
  sos__cc_pop(c, type);
  sos__cc_pop(c, SOS_WASM_I32);
  sos__cc_emit_op(c, op + a.form);
  sos__cc_emit_slot(c, a.slot);
  sos__cc_emit_slot(c, v);
  sos__cc_emit(c, off);
  emit_addr_tail(c, &a);
}

/* ---- operands and results ------------------------------------------------ */

/* Pops n operands of the given types and returns their slots in s[]. */
static void operands(struct cc *c, uint32_t n, const uint8_t *types, uint32_t *s) {
  uint32_t base = sos__cc_top_ctrl(c)->height;
  for (uint32_t i = n; i-- > 0;) {
    s[i] = c->nst > base ? sos__cc_operand(c, c->nst - 1) : 0;
    sos__cc_pop(c, types[i]);
  }
}

/* Emits op with a result slot of type rt and operand slots s[0..n). */
static void emit_value_op(struct cc *c, enum sos__op op, uint8_t rt,
                          const uint32_t *s, uint32_t n, uint32_t opc) {
  uint32_t d = sos__cc_slot_of(c, c->nst);
  uint32_t at = sos__cc_emit_op(c, op);
  uint32_t dw = sos__cc_emit_slot(c, d);
  for (uint32_t i = 0; i < n; i++) sos__cc_emit_slot(c, s[i]);
  sos__cc_push_slot(c, rt);
  sos__cc_note_value_op(c, at, dw, opc, false);
}

static const uint8_t T_I32[3] = {SOS_WASM_I32, SOS_WASM_I32, SOS_WASM_I32};

/* ---- the simple operators, from ops.h ------------------------------------ */

enum { KIND_UN = 1, KIND_BIN, KIND_IBIN, KIND_CMP, KIND_LOAD, KIND_STORE };

struct simple {
  uint8_t kind, type, rtype, bytes;
  uint16_t op, op_imm;
  uint16_t op_mem;  /* "_m" form (ops.h SOS__MEMBINOPS), or 0 */
  uint8_t mem_load; /* the load opcode it fuses */
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

void sos__cc_init_simple(void) {
#define S_CMP(c, n, T, e)                                                     \
  *simple_for(c) = (struct simple){.kind = KIND_CMP, .type = T, .rtype = I32, .op = SOS__OP_##n, .op_imm = SOS__OP_##n##_imm};
#define S_IBIN(c, n, T, e)                                                    \
  *simple_for(c) = (struct simple){.kind = KIND_IBIN, .type = T, .rtype = T, .op = SOS__OP_##n, .op_imm = SOS__OP_##n##_imm};
#define S_FBIN(c, n, T, TR, e)                                                \
  *simple_for(c) = (struct simple){.kind = KIND_BIN, .type = T, .rtype = TR, .op = SOS__OP_##n, .op_imm = SOS__OP_##n##_imm};
#define S_UN(c, n, T, TR, e)                                                  \
  *simple_for(c) = (struct simple){.kind = KIND_UN, .type = T, .rtype = TR, .op = SOS__OP_##n};
#define S_LOAD(c, n, T, CT, B)                                                \
  *simple_for(c) = (struct simple){.kind = KIND_LOAD, .type = I32, .rtype = T, .bytes = B, .op = SOS__OP_##n};
#define S_STORE(c, n, T, CT, B)                                               \
  *simple_for(c) = (struct simple){.kind = KIND_STORE, .type = T, .bytes = B, .op = SOS__OP_##n};
  SOS__CMPOPS(S_CMP)
  SOS__IBINOPS(S_IBIN)
  SOS__FBINOPS(S_FBIN)
  SOS__UNOPS(S_UN)
  SOS__LOADS(S_LOAD)
  SOS__STORES(S_STORE)
#define S_MEMBIN(c, n, T, l, e)                                               \
  simple_for(c)->op_mem = SOS__OP_##n##_m;                                    \
  simple_for(c)->mem_load = l;
  SOS__MEMBINOPS(S_MEMBIN)
}

/* The fused compare-and-branch op for comparison opc. */
enum sos__op sos__cc_cmp_op(uint32_t opc, bool imm, bool br) {
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

/* When the right operand was just loaded by a plain or "_ai" load of the
 * operator's type, replaces load and operator by the operator's "_m" or
 * "_mi" form and returns true. */
static bool try_mem_binary(struct cc *c, const struct simple *s, uint32_t opc) {
  uint32_t h = c->nst - 1;
  if (!s->op_mem || c->st[h].kind != V_SLOT || c->st[h - 1].type != s->type) return false;
  uint32_t sa = sos__cc_operand(c, h - 1); /* may emit, then no fusion */
  if (sos__cc_dead(c) || c->last_end != c->ncode || c->last_opc != s->mem_load ||
      c->last_form >= 2 || c->code[c->last_dst] != sos__cc_slot_of(c, h))
    return false;
  const uint32_t *ld = c->code + c->last_start;
  uint32_t addr = ld[2], off = ld[3], k = c->last_form ? ld[4] : 0, form = c->last_form;
  sos__cc_truncate_code(c, c->last_start);
  sos__cc_pop(c, s->type);
  sos__cc_pop(c, s->type);
  uint32_t at = sos__cc_emit_op(c, s->op_mem + form);
  uint32_t dw = sos__cc_emit_slot(c, sos__cc_slot_of(c, c->nst));
  sos__cc_emit_slot(c, sa);
  sos__cc_emit_slot(c, addr);
  sos__cc_emit(c, off);
  if (form) sos__cc_emit(c, k);
  sos__cc_push_slot(c, s->rtype);
  /* Noted under no wasm opcode: its operand words are not opc's (the
   * right operand is an address), so no fusion that looks for opc (an
   * address, a branch condition) may take it. */
  sos__cc_note_value_op(c, at, dw, OPC_MEM_FORM | opc, false);
  if (!form) c->last_rmw = s->op_mem + 2; /* the "_ms" form, for do_store */
  return true;
}

/* Takes over the op just emitted (wasm opcode want_opc, immediate form
 * or not as want_imm) for the binary operator now being compiled, when it
 * produced one of the top two entries (both of type t): the right one, or
 * the left one when left_ok and the right one needs no code.  On success
 * the op's n operand words after its destination are copied to w, the op
 * is dropped, both entries are popped, and *other is the slot of the
 * operand the op did not produce. */
static bool take_producer(struct cc *c, uint32_t want_opc, bool want_imm, bool left_ok,
                          uint8_t t, uint32_t *w, uint32_t n, uint32_t *other) {
  uint32_t h = c->nst - 1;
  if (sos__cc_dead(c) || c->last_end != c->ncode || c->last_opc != want_opc ||
      c->last_imm != want_imm)
    return false;
  uint32_t made = c->code[c->last_dst];
  struct ventry *a = &c->st[h - 1], *b = &c->st[h];
  uint32_t x;
  if (b->kind == V_SLOT && made == sos__cc_slot_of(c, h)) x = h - 1;
  else if (left_ok && a->kind == V_SLOT && made == sos__cc_slot_of(c, h - 1) &&
           b->kind != V_SLOT)
    x = h;
  else
    return false;
  if (a->type != t || b->type != t) return false;
  *other = sos__cc_operand(c, x); /* a local or pooled constant: no code */
  if (c->last_end != c->ncode) return false;
  memcpy(w, c->code + c->last_start + 2, n * sizeof *w);
  sos__cc_truncate_code(c, c->last_start);
  sos__cc_pop(c, t);
  sos__cc_pop(c, t);
  return true;
}

/* f32/f64 add of the product just computed by a plain f32/f64 mul (on
 * either side), or a subtraction of it (on the right), becomes one
 * multiply-add (or x - a * b) op with two roundings, as the two ops had.
 * Returns true when it did. */
static bool try_madd(struct cc *c, uint32_t opc) {
  bool sub = opc == 0xa1 || opc == 0x93, f64 = opc == 0xa0 || opc == 0xa1;
  uint8_t t = f64 ? SOS_WASM_F64 : SOS_WASM_F32;
  uint32_t m[2], sx;
  if (!take_producer(c, f64 ? 0xa2 : 0x94, false, !sub, t, m, 2, &sx)) return false;
  enum sos__op fop = sub ? (f64 ? SOS__OP_f64_msub : SOS__OP_f32_msub)
                         : (f64 ? SOS__OP_f64_madd : SOS__OP_f32_madd);
  uint32_t at = sos__cc_emit_op(c, fop);
  uint32_t dw = sos__cc_emit_slot(c, sos__cc_slot_of(c, c->nst));
  sos__cc_emit_slot(c, m[0]);
  sos__cc_emit_slot(c, m[1]);
  sos__cc_emit_slot(c, sx);
  sos__cc_push_slot(c, t);
  sos__cc_note_value_op(c, at, dw, opc, false);
  return true;
}

/* i32.add of a value that the i32.shl just before shifted by a constant
 * (an array index, on either side) becomes one i32_add_shl op, d = a +
 * (b << k), which a load or store after it absorbs in turn ("_as"). */
static bool try_add_shl(struct cc *c) {
  uint32_t m[2], sx; /* the shift's operand slot and count */
  if (!take_producer(c, 0x74, true, true, I32, m, 2, &sx)) return false;
  uint32_t at = sos__cc_emit_op(c, SOS__OP_i32_add_shl);
  uint32_t dw = sos__cc_emit_slot(c, sos__cc_slot_of(c, c->nst));
  sos__cc_emit_slot(c, sx);
  sos__cc_emit_slot(c, m[0]);
  sos__cc_emit(c, m[1]);
  sos__cc_push_slot(c, I32);
  sos__cc_note_value_op(c, at, dw, OPC_ADD_SHL, false);
  return true;
}

/* A binary operator; a constant right operand (or left, for integer
 * operators that commute) becomes an immediate. */
static void do_binary(struct cc *c, const struct simple *s, uint32_t opc) {
  uint32_t base = sos__cc_top_ctrl(c)->height;
  if (c->nst >= base + 2) {
    struct ventry *a = &c->st[c->nst - 2], *b = &c->st[c->nst - 1];
    bool bk = b->kind == V_CONST;
    bool ak = !bk && a->kind == V_CONST && commutes(opc);
    if ((ak || bk) && a->type == s->type && b->type == s->type) {
      uint64_t k = bk ? b->k : a->k;
      uint32_t sa = sos__cc_operand(c, bk ? c->nst - 2 : c->nst - 1);
      sos__cc_pop(c, s->type);
      sos__cc_pop(c, s->type);
      uint32_t d = sos__cc_slot_of(c, c->nst);
      uint32_t at = sos__cc_emit_op(c, s->op_imm);
      uint32_t dw = sos__cc_emit_slot(c, d);
      sos__cc_emit_slot(c, sa);
      sos__cc_emit(c, (uint32_t)k);
      if (s->type == I64 || s->type == F64) sos__cc_emit(c, (uint32_t)(k >> 32));
      sos__cc_push_slot(c, s->rtype);
      sos__cc_note_value_op(c, at, dw, opc, true);
      return;
    }
  }
  if (c->nst >= base + 2 && try_mem_binary(c, s, opc)) return;
  if (c->nst >= base + 2 && opc == 0x6a && try_add_shl(c)) return;
  if (c->nst >= base + 2 && (opc == 0xa0 || opc == 0x92 || opc == 0xa1 || opc == 0x93) &&
      try_madd(c, opc))
    return;
  uint8_t ts[2] = {s->type, s->type};
  uint32_t sl[2];
  operands(c, 2, ts, sl);
  emit_value_op(c, s->op, s->rtype, sl, 2, opc);
}

static void do_simple(struct cc *c, const struct simple *s, uint32_t opc) {
  switch (s->kind) {
  case KIND_LOAD: do_load(c, s->op, s->rtype, s->bytes, opc); return;
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
    uint32_t n = sos__cc_read_u32(c);
    if (!c->rc && n != 1) {
      INVALID("invalid result arity for select");
      return;
    }
    want = sos__cc_read_valtype(c);
  }
  if (c->rc) return;
  uint32_t s[3];
  uint32_t base = sos__cc_top_ctrl(c)->height;
  s[0] = c->nst > base ? sos__cc_operand(c, c->nst - 1) : 0;
  sos__cc_pop(c, I32);
  struct ventry b = {0}, a = {0};
  s[2] = c->nst > base ? sos__cc_operand(c, c->nst - 1) : 0;
  b = sos__cc_pop(c, want);
  s[1] = c->nst > base ? sos__cc_operand(c, c->nst - 1) : 0;
  a = sos__cc_pop(c, want);
  if (c->rc) return;
  uint8_t t = a.type != T_UNKNOWN ? a.type : b.type;
  if (!typed) {
    if ((a.type != T_UNKNOWN && !sos__cc_is_num(a.type)) ||
        (b.type != T_UNKNOWN && !sos__cc_is_num(b.type))) {
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
  uint32_t d = sos__cc_slot_of(c, c->nst);
  uint32_t at = sos__cc_emit_op(c, SOS__OP_select);
  uint32_t dw = sos__cc_emit_slot(c, d);
  sos__cc_emit_slot(c, s[0]);
  sos__cc_emit_slot(c, s[1]);
  sos__cc_emit_slot(c, s[2]);
  sos__cc_push_slot(c, t);
  sos__cc_note_value_op(c, at, dw, 0, false);
}

static void do_global(struct cc *c, bool set) {
  uint32_t g = sos__cc_read_u32(c);
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
    sos__cc_emit_op(c, SOS__OP_global_set);
    sos__cc_emit_slot(c, s);
    sos__cc_emit(c, g);
    return;
  }
  uint32_t at = sos__cc_emit_op(c, SOS__OP_global_get);
  uint32_t dw = sos__cc_emit_slot(c, sos__cc_slot_of(c, c->nst));
  sos__cc_emit(c, g);
  sos__cc_push_slot(c, gt.type);
  sos__cc_note_value_op(c, at, dw, 0, false);
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
  if (sos__cc_read_byte(c) != 0 && !c->rc) MALFORMED("zero byte expected");
}

/* Emits op with k immediates first, then slots popped for types. */
static void emit_effect(struct cc *c, enum sos__op op, const uint32_t *k,
                        uint32_t nk, const uint8_t *types, uint32_t n) {
  uint32_t s[3];
  operands(c, n, types, s);
  sos__cc_emit_op(c, op);
  for (uint32_t i = 0; i < nk; i++) sos__cc_emit(c, k[i]);
  for (uint32_t i = 0; i < n; i++) sos__cc_emit_slot(c, s[i]);
}

static void do_table_op(struct cc *c, uint32_t sub) {
  uint32_t k[2];
  k[0] = sos__cc_read_u32(c);
  if (c->rc) return;
  uint8_t ts[3] = {I32, 0, I32};
  switch (sub) {
  case 12: /* table.init elem table */
    k[1] = sos__cc_read_u32(c);
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
    k[1] = sos__cc_read_u32(c);
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
    uint32_t at = sos__cc_emit_op(c, SOS__OP_table_grow);
    uint32_t dw = sos__cc_emit_slot(c, sos__cc_slot_of(c, c->nst));
    sos__cc_emit(c, k[0]);
    sos__cc_emit_slot(c, s[0]);
    sos__cc_emit_slot(c, s[1]);
    sos__cc_push_slot(c, I32);
    sos__cc_note_value_op(c, at, dw, 0, false);
  } else if (sub == 16) { /* table.size */
    uint32_t at = sos__cc_emit_op(c, SOS__OP_table_size);
    uint32_t dw = sos__cc_emit_slot(c, sos__cc_slot_of(c, c->nst));
    sos__cc_emit(c, k[0]);
    sos__cc_push_slot(c, I32);
    sos__cc_note_value_op(c, at, dw, 0, false);
  } else if (sub == 17) { /* table.fill: i, val, n */
    ts[1] = et;
    emit_effect(c, SOS__OP_table_fill, k, 1, ts, 3);
  } else {
    MALFORMED("illegal opcode 0xfc %u", sub);
  }
}

static void do_table_get_set(struct cc *c, bool set) {
  uint32_t t = sos__cc_read_u32(c);
  if (c->rc || !check_table(c, t)) return;
  uint8_t ts[2] = {I32, c->d->tables[t].elem};
  if (set) {
    emit_effect(c, SOS__OP_table_set, &t, 1, ts, 2);
    return;
  }
  uint32_t s;
  operands(c, 1, ts, &s);
  uint32_t at = sos__cc_emit_op(c, SOS__OP_table_get);
  uint32_t dw = sos__cc_emit_slot(c, sos__cc_slot_of(c, c->nst));
  sos__cc_emit(c, t);
  sos__cc_emit_slot(c, s);
  sos__cc_push_slot(c, ts[1]);
  sos__cc_note_value_op(c, at, dw, 0, false);
}

static void do_memory_op(struct cc *c, uint32_t sub) {
  uint32_t k = 0;
  if (sub == 8) { /* memory.init seg */
    k = sos__cc_read_u32(c);
    zero_byte(c);
    need_memory(c);
    if (c->rc || !check_data(c, k)) return;
    emit_effect(c, SOS__OP_memory_init, &k, 1, T_I32, 3);
  } else if (sub == 9) { /* data.drop */
    k = sos__cc_read_u32(c);
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
  uint32_t sub = sos__cc_read_u32(c);
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
  uint32_t at = sos__cc_emit_op(c, grow ? SOS__OP_memory_grow : SOS__OP_memory_size);
  uint32_t dw = sos__cc_emit_slot(c, sos__cc_slot_of(c, c->nst));
  if (grow) sos__cc_emit_slot(c, s);
  sos__cc_push_slot(c, I32);
  sos__cc_note_value_op(c, at, dw, 0, false);
}

static void do_ref(struct cc *c, uint8_t opc) {
  if (opc == 0xd0) { /* ref.null t */
    uint8_t t = sos__cc_read_byte(c);
    if (!c->rc && !sos__cc_is_ref(t)) {
      MALFORMED("malformed reference type");
      return;
    }
    sos__cc_push(c, t, V_CONST, 0, 0);
  } else if (opc == 0xd1) { /* ref.is_null */
    uint32_t base = sos__cc_top_ctrl(c)->height;
    uint32_t s = c->nst > base ? sos__cc_operand(c, c->nst - 1) : 0;
    struct ventry e = sos__cc_pop(c, T_UNKNOWN);
    if (c->rc) return;
    if (e.type != T_UNKNOWN && !sos__cc_is_ref(e.type)) {
      INVALID("type mismatch: ref.is_null needs a reference");
      return;
    }
    emit_value_op(c, SOS__OP_ref_is_null, I32, &s, 1, 0);
  } else { /* ref.func x */
    uint32_t x = sos__cc_read_u32(c);
    if (c->rc) return;
    if (x >= c->d->nfuncs) {
      INVALID("unknown function %u", x);
      return;
    }
    if (!c->d->declared_refs || !c->d->declared_refs[x]) {
      INVALID("undeclared function reference");
      return;
    }
    uint32_t at = sos__cc_emit_op(c, SOS__OP_ref_func);
    uint32_t dw = sos__cc_emit_slot(c, sos__cc_slot_of(c, c->nst));
    sos__cc_emit(c, x);
    sos__cc_push_slot(c, SOS_WASM_FUNCREF);
    sos__cc_note_value_op(c, at, dw, 0, false);
  }
}

static void do_const(struct cc *c, uint8_t opc) {
  switch (opc) {
  case 0x41: sos__cc_push(c, I32, V_CONST, 0, (uint32_t)sos__cc_read_s(c, 32)); break;
  case 0x42: sos__cc_push(c, I64, V_CONST, 0, (uint64_t)sos__cc_read_s(c, 64)); break;
  case 0x43: sos__cc_push(c, F32, V_CONST, 0, sos__cc_read_fixed(c, 4)); break;
  default: sos__cc_push(c, F64, V_CONST, 0, sos__cc_read_fixed(c, 8)); break;
  }
}

/* ---- the opcode switch --------------------------------------------------- */

/* Compiles one instruction whose opcode byte has been read. */
void sos__cc_instruction(struct cc *c, uint8_t opc) {
  struct simple *s = simple_for(opc);
  if (s && s->kind) {
    do_simple(c, s, opc);
    return;
  }
  switch (opc) {
  case 0x00:
    sos__cc_emit_op(c, SOS__OP_unreachable);
    sos__cc_set_dead(c);
    return;
  case 0x01: return;
  case 0x02: case 0x03: case 0x04: sos__cc_block(c, opc); return;
  case 0x05: sos__cc_else(c); return;
  case 0x0b: sos__cc_end(c); return;
  case 0x0c: sos__cc_br(c, sos__cc_read_u32(c)); return;
  case 0x0d: sos__cc_br_if(c, sos__cc_read_u32(c)); return;
  case 0x0e: sos__cc_br_table(c); return;
  case 0x0f: sos__cc_return(c); return;
  case 0x10: sos__cc_call(c); return;
  case 0x11: sos__cc_call_indirect(c); return;
  case 0x1a: sos__cc_pop(c, T_UNKNOWN); return;
  case 0x1b: do_select(c, false); return;
  case 0x1c: do_select(c, true); return;
  case 0x20: {
    uint32_t x = sos__cc_read_u32(c);
    uint8_t t = local_type(c, x);
    if (!c->rc) sos__cc_push(c, t, V_LOCAL, x, 0);
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

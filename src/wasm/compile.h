/*
 * compile.h - the state of the compiler and the helpers its two files
 * share (internal to compile.c and compile_ops.c).
 *
 * compile.c owns the machinery: the buffers and error reporting, code
 * emission, the compile-time operand stack with its virtual entries and
 * constant pool, control instructions and the per-function driver.
 * compile_ops.c compiles the operators on top of that machinery and holds
 * the opcode switch, sos__cc_instruction.  Both work on one struct cc,
 * which lives for one sos__compile call and is reset for each function
 * body; the design essay at the top of compile.c describes the code it
 * produces.
 *
 * Every helper is sticky on error: once c->rc is set, readers return 0,
 * emitters emit nothing and later errors are ignored, so callers check
 * c->rc only where continuing would index out of bounds.
 */
#ifndef SOS_WASM_COMPILE_H
#define SOS_WASM_COMPILE_H

#include "wasm/ops.h"
#include "wasm/runtime.h"

#include <stdbool.h>
#include <stdint.h>

enum { V_SLOT, V_LOCAL, V_CONST };
#define T_UNKNOWN 0 /* the bottom type of unreachable code */
#define NONE 0xffffffffu
#define CONST_MARK 0x80000000u   /* a slot operand naming a pool entry */
#define STACK_MARK 0x40000000u   /* a slot operand naming a stack height */

/* An entry of the compile-time operand stack: a value of `type` held in
 * its home slot (V_SLOT), still in local `local` (V_LOCAL), or the
 * constant k (V_CONST). */
struct ventry {
  uint8_t type, kind;
  uint32_t local;
  uint64_t k;
};

/* An open block: a control frame of the validation algorithm (§A.3). */
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
  bool switch_target; /* a block a br_table jumps to the end of */
  bool parts;         /* a plain block charged in parts (compile.c, begin_part) */
};

/* A forward jump waiting for its label to be bound. */
struct fixup {
  uint32_t word, op; /* patch code[word] = label - op */
};

/* The compiler: one per sos__compile call, reset for each function. */
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
  /* The last i32.add, even once retargeted to a local: an i32 comparison
   * right after it may fuse with it into a "bra_" op (ops.h). */
  uint32_t add_start, add_end;
  bool add_imm;
  uint32_t last_form; /* when the last op is a load: its address form */
  uint32_t last_rmw;  /* when it is an "_m" op: its "_ms" form, else 0 */
  int rc;
  char *err;
  size_t errlen;
};

/* ---- errors (compile.c) --------------------------------------------------- */

/* Records the first error of the function being compiled: rc and, unless
 * it is SOS_ENOMEM, a message naming the function and byte offset in
 * c->err.  Later errors are ignored.  Returns c->rc. */
int sos__cc_fail(struct cc *c, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Validation errors (§3.3) and decoding errors (§5); both expect the
 * compiler state in a variable named c. */
#define INVALID(...) sos__cc_fail(c, SOS_EINVALID, __VA_ARGS__)
#define MALFORMED(...) sos__cc_fail(c, SOS_EMALFORMED, __VA_ARGS__)

/* The innermost open block (the function's own frame at the bottom). */
struct ctrl *sos__cc_top_ctrl(struct cc *c);
/* Whether code emitted now could never run, so none is emitted. */
bool sos__cc_dead(struct cc *c);

/* ---- reading immediates (compile.c) --------------------------------------- */

/* An unsigned LEB128 of up to 32 bits (§5.2.2); 0 after an error. */
uint32_t sos__cc_read_u32(struct cc *c);
/* A signed LEB128 of up to `bits` bits (§5.2.2); 0 after an error. */
int64_t sos__cc_read_s(struct cc *c, unsigned bits);
/* One byte; 0 after an error or at the end of the body. */
uint8_t sos__cc_read_byte(struct cc *c);
/* n little-endian bytes (the bits of an f32 or f64 constant, §5.2.3). */
uint64_t sos__cc_read_fixed(struct cc *c, unsigned n);
/* Whether t is a number type, or a reference type (§2.3). */
bool sos__cc_is_num(uint8_t t);
bool sos__cc_is_ref(uint8_t t);
/* A value type (§5.3.4), MALFORMED when the byte is none. */
uint8_t sos__cc_read_valtype(struct cc *c);

/* ---- emitting code (compile.c) -------------------------------------------- */

/* Appends word w, unless the code is dead; returns its index. */
uint32_t sos__cc_emit(struct cc *c, uint32_t w);
/* Appends a slot operand, noting pool and stack references for the final
 * binding; returns its index. */
uint32_t sos__cc_emit_slot(struct cc *c, uint32_t s);
/* Appends the op word of op; returns its index (the op's start). */
uint32_t sos__cc_emit_op(struct cc *c, enum sos__op op);
/* Drops the code from word n on (an op being fused into the next). */
void sos__cc_truncate_code(struct cc *c, uint32_t n);
/* The home slot of stack height h (bound to a frame index at the end). */
uint32_t sos__cc_slot_of(struct cc *c, uint32_t h);
/* Records that the op just emitted at start wrote its result through the
 * word at dst (for retargeting) and, for fusion, which wasm op it was
 * (opc; 0 for none) and whether its right operand was an immediate. */
void sos__cc_note_value_op(struct cc *c, uint32_t start, uint32_t dst, uint32_t opc,
                           bool imm);
/* Writes entry e's value into slot dst; home is e's home slot. */
void sos__cc_emit_entry_to(struct cc *c, const struct ventry *e, uint32_t dst,
                           uint32_t home);

/* ---- the operand stack (compile.c) ---------------------------------------- */

/* Pushes an entry: a home slot (V_SLOT), local `local` or constant k. */
void sos__cc_push(struct cc *c, uint8_t type, uint8_t kind, uint32_t local, uint64_t k);
/* Pushes a value that the op just emitted writes to its home slot. */
void sos__cc_push_slot(struct cc *c, uint8_t type);
/* Pops one entry, checking its type against want (T_UNKNOWN: any). */
struct ventry sos__cc_pop(struct cc *c, uint8_t want);
/* Makes entry h real: its value in its home slot. */
void sos__cc_materialize(struct cc *c, uint32_t h);
/* The pool entry holding k (as CONST_MARK | index), or NONE when the pool
 * is full. */
uint32_t sos__cc_pool_slot(struct cc *c, uint64_t k);
/* Slot that holds entry h's value: a local, its home slot, or for a
 * constant a pool slot (materialised when the pool is full). */
uint32_t sos__cc_operand(struct cc *c, uint32_t h);
/* When entry e (at height h) was computed by the op just emitted, makes
 * that op write slot dst instead and returns true. */
bool sos__cc_retarget(struct cc *c, const struct ventry *e, uint32_t h, uint32_t dst);

/* ---- control instructions (compile.c, §3.3.8) ----------------------------- */

/* Each compiles one instruction whose opcode byte has been read, reading
 * its immediates. */
void sos__cc_block(struct cc *c, uint8_t opcode); /* block, loop or if */
void sos__cc_else(struct cc *c);
void sos__cc_end(struct cc *c);
void sos__cc_br(struct cc *c, uint32_t depth); /* depth already read */
void sos__cc_br_if(struct cc *c, uint32_t depth);
void sos__cc_br_table(struct cc *c);
void sos__cc_return(struct cc *c);
void sos__cc_call(struct cc *c);
void sos__cc_call_indirect(struct cc *c);
/* Resets the stack after an unconditional transfer (§A.3 unreachable). */
void sos__cc_set_dead(struct cc *c);

/* ---- operators (compile_ops.c) -------------------------------------------- */

/* Fills the table of simple operators from ops.h; run once per process
 * (pthread_once) before the first sos__cc_instruction. */
void sos__cc_init_simple(void);
/* The fused compare-and-branch op for comparison opc (0x46..0x5a, an
 * integer comparison), with an immediate right operand when imm. */
enum sos__op sos__cc_cmp_op(uint32_t opc, bool imm, bool br);
/* Compiles one instruction whose opcode byte opc has been read. */
void sos__cc_instruction(struct cc *c, uint8_t opc);

#endif

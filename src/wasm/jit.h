/*
 * jit.h - the x86-64 compiler of internal code and its run loop
 * (internal to src/wasm).
 *
 * jit.c translates each function's internal code (compile.c's output,
 * the interpreter's input) into x86-64 machine code, once per module, and
 * runs it.  The machine code keeps the interpreter's model: the frame is
 * the same array of 64-bit slots on the instance's value stack, frame
 * records are the same struct sos__frame on the instance's frame stack,
 * and fuel is charged at the same points by the same amounts.  It never
 * uses the native stack for wasm calls, so a run stops (suspends, yields,
 * traps) by returning to the C run loop with everything in the instance,
 * and can continue on any thread.  See jit.c and docs/engine.md.
 *
 * The engine uses the JIT when the host is x86-64 and the environment
 * variable SOS_WASM_JIT is not "0" (the interpreter runs everywhere else;
 * the choice is made once per process, before the first module).
 */
#ifndef SOS_WASM_JIT_H
#define SOS_WASM_JIT_H

#include "wasm/runtime.h"

#include <stdbool.h>
#include <stdint.h>

/* The run loop's context while machine code runs: the code reads and
 * writes these fields at fixed offsets from a pinned register (r13). */
struct sos__jctx {
  uint64_t memsize;           /* current memory's size in bytes */
  uint8_t *mem;               /* current memory's base */
  struct sos__frame *ftop;    /* next free frame record */
  struct sos__frame *fend;    /* end of the frame stack's allocation */
  uint64_t *stack_end;        /* end of the value stack's allocation */
  sos_wasm_instance *inst;    /* instance whose code runs */
  sos_wasm_global **globals;  /* inst->globals */
  sos_wasm_table **tables;    /* inst->tables */
  int64_t fuel;               /* left in this run (in r14 while code runs) */
  int64_t budget;             /* what the run started with */
  uint64_t hard_cut;          /* running out is the hard budget: a trap */
  uint64_t *fp;               /* frame base when the code stopped */
  /* What a stop asks of the run loop (see enum in jit.c). */
  const void *retry;          /* address that redoes the stopping op */
  const void *cont;           /* address to continue at */
  const void *stub;           /* the function's reload-and-continue entry */
  const uint32_t *op_pc;      /* a call op the run loop performs */
  uint64_t arg;               /* fuel to charge (a fuel stop) */
  int64_t trap_kind;          /* a trap's kind */
  struct sos_wasm_trap *trap; /* the run's, for host functions */
  struct sos_wasm_global *own_globals; /* inst->own_globals: its own (not
                                          imported) globals, in one array */
};

/* Whether modules are compiled to machine code in this process. */
bool sos__jit_enabled(void);
/* Translates every function of m (after sos__compile); SOS_ENOMEM. */
int sos__jit_compile(sos_wasm_module *m);
/* Frees m's machine code. */
void sos__jit_free(sos_wasm_module *m);
/* Runs root's prepared or stopped call for one slice (as interp()). */
int sos__jit_run(sos_wasm_instance *root, int64_t slice, struct sos_wasm_trap *trap);

/* interp.c: runs the single op `op` at pc with frame fp, reading and
 * updating j's instance, memory size and fuel.  Returns -1 when done,
 * -2 when the op needs more fuel than the slice has (nothing done; fuel
 * unchanged), or a trap kind.  Only for ops without control flow. */
int sos__interp_step(struct sos__jctx *j, uint64_t *fp, const uint32_t *pc, unsigned op);

/* interp.c helpers the run loop shares with the interpreter. */
/* The fuel a run of `slice` (-1: unlimited) may spend; *hard_cut tells
 * whether that is the instance's hard budget (running out traps). */
int64_t sos__exec_budget(const struct sos__exec *x, int64_t slice, bool *hard_cut);
bool sos__exec_grow_stack(struct sos__exec *x, uint64_t need);
bool sos__exec_grow_frames(struct sos__exec *x);
int sos__host_failed(struct sos__exec *x, struct sos_wasm_trap *trap, int r);
void sos__trap_message(struct sos_wasm_trap *trap, int kind, int64_t index);

#endif

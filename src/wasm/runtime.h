/*
 * runtime.h - the engine's run-time objects (internal).
 *
 * A compiled module (struct sos_wasm_module) is the decoded module plus
 * one struct sos__code per defined function, produced by compile.c and
 * shared read-only by every instance.  An instance owns its defined
 * functions, memories, tables and globals and points at the ones it
 * imports, so one index space serves both.
 *
 * Memories reserve their largest size as address space up front (PROT_NONE,
 * MAP_NORESERVE) and grow by changing protection, so `data` never moves:
 * the interpreter can keep it in a register across calls.  Every access is
 * still bounds-checked against `size`.
 *
 * Execution state (struct sos__exec) lives in the instance: a value stack
 * of 64-bit slots and a frame stack, both engine-owned heap arrays, so a
 * suspended or preempted run is just saved indices (see interp.c).
 */
#ifndef SOS_WASM_RUNTIME_H
#define SOS_WASM_RUNTIME_H

#include "wasm/module.h"

#include <stdatomic.h>

#define SOS__MAX_CONSTS 128 /* constant-pool slots per function */

/* Compiled code of one defined function (compile.c writes, interp.c runs). */
struct sos__code {
  uint32_t *ops;        /* the internal code; see interp.c for its format */
  uint32_t nops;        /* words in ops */
  uint32_t nparams;     /* parameter slots (also the first locals) */
  uint32_t nresults;
  uint32_t nlocals;     /* parameters + declared locals */
  uint32_t frame_slots; /* locals + operand stack + temporaries */
  uint32_t fuel;        /* charged on entry: instructions outside loops */
  uint32_t const_base;  /* first constant-pool slot in the frame */
  uint32_t nconsts;     /* pool slots, copied from consts on entry */
  uint64_t *consts;     /* nconsts values */
  const struct sos__functype *sig;
  const uint8_t *jit;   /* machine code entry (jit.c), or NULL */
};
_Static_assert(sizeof(void *) != 8 || sizeof(struct sos__code) == 64,
               "keep struct sos__code at 64 bytes on 64-bit hosts");

struct sos_wasm_module {
  atomic_int refs; /* the creator's reference plus one per instance */
  struct sos__module d;
  struct sos__code *codes; /* d.nfuncs - d.nfunc_imports entries */
  uint8_t *jit_mem;        /* machine code of all codes (jit.c; the entry
                              trampoline first), or NULL */
  size_t jit_size;
};

struct sos_wasm_func {
  struct sos_wasm_functype type;   /* public view of sig */
  const struct sos__functype *sig; /* for call_indirect type checks */
  sos_wasm_instance *inst;         /* owner; NULL for host functions */
  const struct sos__code *code;    /* NULL for host functions */
  sos_wasm_host_fn host;
  void *env;
};

struct sos_wasm_memory {
  uint8_t *data;      /* base of the reservation; never moves */
  uint64_t size;      /* accessible bytes (pages * 64 KiB) */
  uint64_t reserved;  /* bytes of address space reserved */
  uint32_t max_pages; /* min(declared maximum, instance limit) */
  bool has_max;
  uint32_t decl_max;  /* declared maximum, for import matching */
};

struct sos_wasm_table {
  uint64_t *elems; /* funcref: sos_wasm_func pointers; externref: host values */
  uint32_t size;
  uint32_t max;    /* effective maximum (declared or limit) */
  bool has_max;
  uint32_t decl_max;
  uint8_t elem;
};

struct sos_wasm_global {
  uint64_t value;
  uint8_t type;
  bool mut;
};

/* One activation record on the frame stack.  The interpreter returns to
 * ret_pc, machine code (jit.c) to ret_jit; the entry frame has neither. */
struct sos__frame {
  const uint32_t *ret_pc;  /* where the caller continues */
  uint64_t *fp;            /* caller's frame base (rebased if the stack moves) */
  sos_wasm_instance *inst; /* caller's instance */
  const uint8_t *ret_jit;  /* where the caller's machine code continues */
};

enum {
  SOS__EXEC_IDLE,      /* nothing prepared */
  SOS__EXEC_READY,     /* call_begin done, or yielded: run continues */
  SOS__EXEC_SUSPENDED, /* waiting for sos_wasm_resume */
  SOS__EXEC_DONE,      /* results available */
  SOS__EXEC_RUNNING,   /* inside sos_wasm_run (no re-entry) */
};

struct sos__exec {
  uint64_t *stack;      /* value stack */
  uint64_t stack_cap;   /* slots allocated (grows by doubling) */
  uint64_t stack_max;   /* slot limit */
  struct sos__frame *frames;
  uint32_t nframes, frames_cap, max_depth;
  int state;
  /* Saved position of a stopped run. */
  const uint32_t *pc;
  const uint8_t *jit_addr; /* machine code: where the run continues */
  const uint8_t *jit_cont; /* ... and, entering a reload stub, then where */
  uint32_t fp;
  sos_wasm_instance *cur; /* instance whose code runs at pc */
  /* The host call a suspended run waits on: results go to stack[fp+res]. */
  uint32_t host_res, host_nres;
  /* The outermost call: its function and results. */
  sos_wasm_func *entry;
  uint64_t fuel_used, fuel_limit;
  uint32_t entry_fuel; /* the entry function's charge, paid by the next run */
  bool entry_resumed;  /* a host entry function was resumed: run ends it */
};

struct sos_wasm_instance {
  sos_wasm_module *mod;
  sos_wasm_func **funcs;     /* index space; imported ones point elsewhere */
  sos_wasm_func *own_funcs;  /* defined functions */
  sos_wasm_table **tables;
  sos_wasm_memory **mems;
  sos_wasm_memory *mem0;     /* mems[0] or NULL */
  sos_wasm_global **globals;
  /* Owned objects: tables, memories, globals defined by the module. */
  sos_wasm_table *own_tables;
  sos_wasm_memory *own_mems;
  sos_wasm_global *own_globals;
  bool *elem_dropped;        /* per element segment (elem.drop, §4.4.6) */
  bool *data_dropped;        /* per data segment (data.drop) */
  struct sos_wasm_limits lim;
  void *user;
  struct sos__exec exec;
};

/* compile.c: validates and compiles every function body of m->d.  Fills
 * m->codes.  Errors: SOS_EMALFORMED / SOS_EINVALID with a message naming
 * the function, byte offset and what was expected; SOS_ENOMEM. */
int sos__compile(sos_wasm_module *m, char *err, size_t errlen);
/* Frees the codes made by sos__compile. */
void sos__compile_free(sos_wasm_module *m);

/* interp.c: makes and frees an instance's execution state. */
int sos__exec_init(struct sos__exec *x, const struct sos_wasm_limits *lim);
void sos__exec_free(struct sos__exec *x);

/* runtime.c helpers used by the interpreter.  Each returns the old size
 * (in pages or elements) or -1 when the request cannot be met. */
int64_t sos__memory_grow(sos_wasm_memory *mem, uint32_t delta_pages);
int64_t sos__table_grow(sos_wasm_table *t, uint32_t delta, uint64_t init);

/* Structural equality of two function types. */
bool sos__functype_eq(const struct sos__functype *a, const struct sos__functype *b);

/* Sets the public view f->type from f->sig. */
void sos__func_set_type(sos_wasm_func *f, const struct sos__functype *sig);

#endif

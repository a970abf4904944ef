/*
 * wasm.h - the SOS WebAssembly engine.
 *
 * The engine decodes, validates and compiles a WebAssembly 2.0 module
 * (without SIMD) once into an internal register-based form, then makes any
 * number of instances of it.  Each instance runs on an engine-owned value
 * stack and frame stack, never on the native C stack, so a run can stop at
 * any host call (suspend) or when its fuel for the slice is used up
 * (preemption), and can be continued later from any thread.
 *
 * Values cross the API as 64-bit cells (sos_wasm_val): i32 zero-extended
 * in the low 32 bits, f32 as its bit pattern in the low 32 bits, i64 and
 * f64 as their bits, funcref as a sos_wasm_func pointer (0 is null) and
 * externref as an opaque host value (0 is null).
 *
 * Ownership: objects made with a *_new function are freed by the caller
 * with the matching *_free.  Objects an instance exports (functions,
 * tables, memories, globals) are owned by that instance; an instance that
 * imports them must be freed before the instance that exports them, and a
 * host object must outlive every instance that imports it.
 *
 * Threads: a module is immutable once made and may be instantiated from
 * any thread.  An instance may be used by one thread at a time.
 */
#ifndef SOS_WASM_H
#define SOS_WASM_H

#include "sos/base.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sos_wasm_module sos_wasm_module;
typedef struct sos_wasm_instance sos_wasm_instance;
typedef struct sos_wasm_func sos_wasm_func;
typedef struct sos_wasm_table sos_wasm_table;
typedef struct sos_wasm_memory sos_wasm_memory;
typedef struct sos_wasm_global sos_wasm_global;
typedef uint64_t sos_wasm_val;

/* Value types, numbered as in the binary format (Core 2.0 §5.3.1). */
enum {
  SOS_WASM_I32 = 0x7f,
  SOS_WASM_I64 = 0x7e,
  SOS_WASM_F32 = 0x7d,
  SOS_WASM_F64 = 0x7c,
  SOS_WASM_FUNCREF = 0x70,
  SOS_WASM_EXTERNREF = 0x6f,
};

/* External kinds, numbered as in import/export descriptors. */
enum {
  SOS_WASM_EXTERN_FUNC = 0,
  SOS_WASM_EXTERN_TABLE = 1,
  SOS_WASM_EXTERN_MEMORY = 2,
  SOS_WASM_EXTERN_GLOBAL = 3,
};

/* Results of sos_wasm_run besides negative errors. */
enum {
  SOS_WASM_DONE = 0,      /* the call returned; see sos_wasm_results */
  SOS_WASM_SUSPENDED = 1, /* a host function suspended; sos_wasm_resume */
  SOS_WASM_YIELDED = 2,   /* the slice's fuel ran out; run again */
};

/* Return codes of host functions besides negative errors. */
enum {
  SOS_WASM_HOST_OK = 0,      /* results written to call->results */
  SOS_WASM_HOST_SUSPEND = 1, /* results come later via sos_wasm_resume */
};

/* Trap kinds.  X(enum suffix, short name for people, default message) */
#define SOS_WASM_TRAP_MAP(X)                                                 \
  X(UNREACHABLE, "unreachable", "unreachable")                     \
  X(MEMORY, "memory", "out of bounds memory access")                         \
  X(TABLE, "table", "out of bounds table access")                            \
  X(UNDEFINED_ELEMENT, "table", "undefined element")                         \
  X(UNINITIALIZED, "indirect-call", "uninitialized element")                 \
  X(INDIRECT_TYPE, "indirect-call", "indirect call type mismatch")          \
  X(DIV_ZERO, "arithmetic", "integer divide by zero")                        \
  X(OVERFLOW, "arithmetic", "integer overflow")                              \
  X(CONVERSION, "conversion", "invalid conversion to integer")               \
  X(STACK, "stack", "call stack exhausted")                                  \
  X(FUEL, "fuel", "fuel exhausted")                                          \
  X(HOST, "host", "host function failed")                                    \
  X(EXIT, "exit", "program exited")

enum {
#define SOS__TRAP_ENUM(e, name, msg) SOS_WASM_TRAP_##e,
  SOS_WASM_TRAP_MAP(SOS__TRAP_ENUM)
#undef SOS__TRAP_ENUM
};

/* A trap: its kind, a message for people, and for SOS_WASM_TRAP_EXIT the
 * program's exit code. */
struct sos_wasm_trap {
  int kind;
  uint32_t exit_code;
  char message[192];
};

/* The short name of a trap kind ("memory", "stack", ...). */
const char *sos_wasm_trap_name(int kind);

/* A function type.  The arrays are borrowed for the life of their owner. */
struct sos_wasm_functype {
  uint32_t nparams, nresults;
  const uint8_t *params, *results;
};

/* The type of an import or export. */
struct sos_wasm_externtype {
  uint8_t kind; /* SOS_WASM_EXTERN_* */
  union {
    struct sos_wasm_functype func;
    struct {
      uint8_t elem; /* SOS_WASM_FUNCREF or SOS_WASM_EXTERNREF */
      bool has_max;
      uint32_t min, max;
    } table;
    struct {
      bool has_max;
      uint32_t min, max; /* in 64 KiB pages */
    } memory;
    struct {
      uint8_t type;
      bool mut;
    } global;
  } u;
};

/* A name as (pointer, length); the bytes are UTF-8 and not NUL-terminated
 * in general.  Borrowed from the module. */
struct sos_wasm_name {
  const char *p;
  size_t len;
};

/* An external value, as exported by an instance or made by the host. */
struct sos_wasm_extern {
  uint8_t kind;
  union {
    sos_wasm_func *func;
    sos_wasm_table *table;
    sos_wasm_memory *memory;
    sos_wasm_global *global;
  } u;
};

/* Per-instance limits.  A zero field takes the default given. */
struct sos_wasm_limits {
  uint64_t max_memory;     /* bytes of linear memory; default 4 GiB */
  uint32_t max_call_depth; /* wasm frames; default 20000 */
  uint64_t max_stack;      /* bytes of value stack; default 64 MiB */
  uint32_t max_table;      /* elements per table; default 10,000,000 */
  uint64_t fuel;           /* hard budget over the instance's life; 0: none */
};

/* ---- modules ---------------------------------------------------------- */

/* Decodes, validates and compiles the len bytes at bytes.  On success
 * *out owns a new module (free with sos_wasm_module_free) and nothing of
 * bytes is kept.  Errors: SOS_EMALFORMED or SOS_EINVALID with a message
 * naming the section, the byte offset and what was expected written to err
 * (errlen bytes, NUL-terminated); SOS_ENOMEM. */
int sos_wasm_module_new(const uint8_t *bytes, size_t len, sos_wasm_module **out,
                        char *err, size_t errlen);
/* Releases the caller's reference; the module's memory goes when its last
 * instance is freed too.  Accepts NULL. */
void sos_wasm_module_free(sos_wasm_module *m);

uint32_t sos_wasm_module_import_count(const sos_wasm_module *m);
/* Describes import i (< count): its module and field names and type. */
void sos_wasm_module_import(const sos_wasm_module *m, uint32_t i,
                            struct sos_wasm_name *module,
                            struct sos_wasm_name *name,
                            struct sos_wasm_externtype *type);
uint32_t sos_wasm_module_export_count(const sos_wasm_module *m);
void sos_wasm_module_export(const sos_wasm_module *m, uint32_t i,
                            struct sos_wasm_name *name,
                            struct sos_wasm_externtype *type);

/* ---- host objects ------------------------------------------------------ */

/* What a host function receives.  args holds the parameters; the function
 * writes its results to results.  instance is the calling instance (whose
 * memory the host may read and write with sos_wasm_mem_*). */
struct sos_wasm_hostcall {
  sos_wasm_instance *instance;
  void *env;
  const sos_wasm_val *args;
  sos_wasm_val *results;
  struct sos_wasm_trap *trap; /* fill through sos_wasm_host_trap */
};

/* A host function returns SOS_WASM_HOST_OK, SOS_WASM_HOST_SUSPEND, or the
 * value of sos_wasm_host_trap() / sos_wasm_host_exit(). */
typedef int (*sos_wasm_host_fn)(struct sos_wasm_hostcall *call);

/* Makes a host function of the given type; type's arrays are copied.
 * env is passed back on each call.  NULL when out of memory or when the
 * type has more than SOS_WASM_HOST_MAX_RESULTS results. */
#define SOS_WASM_HOST_MAX_RESULTS 64
sos_wasm_func *sos_wasm_func_new(const struct sos_wasm_functype *type,
                                 sos_wasm_host_fn fn, void *env);
/* Frees a host function made by sos_wasm_func_new.  Accepts NULL. */
void sos_wasm_func_free(sos_wasm_func *f);
/* The type of any function (borrowed for the function's life). */
const struct sos_wasm_functype *sos_wasm_func_type(const sos_wasm_func *f);

/* Records a trap of the given kind for the calling run and returns the
 * code the host function must return (SOS_ETRAP). */
int sos_wasm_host_trap(struct sos_wasm_hostcall *call, int kind,
                       const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Ends the run as if the program exited with code (WASI proc_exit). */
int sos_wasm_host_exit(struct sos_wasm_hostcall *call, uint32_t code);

/* Host-made tables, memories and globals (for example the spec suite's
 * "spectest" module).  NULL when out of memory or out of limits. */
sos_wasm_table *sos_wasm_table_new(uint8_t elem, uint32_t min, bool has_max,
                                   uint32_t max);
void sos_wasm_table_free(sos_wasm_table *t);
uint32_t sos_wasm_table_size(const sos_wasm_table *t);
sos_wasm_memory *sos_wasm_memory_new(uint32_t min_pages, bool has_max,
                                     uint32_t max_pages);
void sos_wasm_memory_free(sos_wasm_memory *m);
uint64_t sos_wasm_memory_size(const sos_wasm_memory *m); /* bytes */
sos_wasm_global *sos_wasm_global_new(uint8_t type, bool mut, sos_wasm_val v);
void sos_wasm_global_free(sos_wasm_global *g);
sos_wasm_val sos_wasm_global_get(const sos_wasm_global *g);
uint8_t sos_wasm_global_type(const sos_wasm_global *g);

/* ---- instances ---------------------------------------------------------- */

/* Instantiates m with the imports given in the module's import order
 * (Core 2.0 §4.5.4): allocates memories, tables and globals, then applies
 * element and data segments.  Does not run the start function: get it
 * with sos_wasm_instance_start and run it like any call.  lim may be NULL
 * for defaults.  On success *out owns the instance.
 * Errors (message in err): SOS_ELINK for a missing or mistyped import,
 * SOS_ELIMIT when the module needs more than lim allows, SOS_ETRAP when a
 * segment does not fit (writes made before it stay, as the spec says),
 * SOS_ENOMEM. */
int sos_wasm_instance_new(sos_wasm_module *m, const struct sos_wasm_limits *lim,
                          const struct sos_wasm_extern *imports,
                          uint32_t nimports, sos_wasm_instance **out,
                          char *err, size_t errlen);
/* Frees the instance and everything it owns.  Accepts NULL. */
void sos_wasm_instance_free(sos_wasm_instance *in);
/* Finds an export by name.  SOS_ENOENT when there is none. */
int sos_wasm_instance_export(sos_wasm_instance *in, const char *name,
                             size_t len, struct sos_wasm_extern *out);
/* The start function, or NULL when the module has none. */
sos_wasm_func *sos_wasm_instance_start(sos_wasm_instance *in);
/* Memory 0 of the instance, or NULL. */
sos_wasm_memory *sos_wasm_instance_memory(sos_wasm_instance *in);
/* An opaque pointer the embedder may attach to an instance. */
void sos_wasm_instance_set_user(sos_wasm_instance *in, void *user);
void *sos_wasm_instance_user(const sos_wasm_instance *in);

/* ---- running ------------------------------------------------------------ */

/* Prepares a call of f with nargs arguments on the instance's stack.
 * Errors: SOS_EINVAL when the arguments do not match f's type, SOS_ESTATE
 * when a run is already in progress (suspended or yielded). */
int sos_wasm_call_begin(sos_wasm_instance *in, sos_wasm_func *f,
                        const sos_wasm_val *args, uint32_t nargs);
/* Runs the prepared call with fuel instructions for this slice (negative:
 * no slice limit).  Returns SOS_WASM_DONE, SOS_WASM_SUSPENDED,
 * SOS_WASM_YIELDED, or SOS_ETRAP with *trap filled (the run is then over).
 * May be called from any thread, one at a time. */
int sos_wasm_run(sos_wasm_instance *in, int64_t fuel, struct sos_wasm_trap *trap);
/* After SOS_WASM_SUSPENDED: supplies the host function's results; then
 * continue with sos_wasm_run.  SOS_ESTATE when not suspended. */
int sos_wasm_resume(sos_wasm_instance *in, const sos_wasm_val *results,
                    uint32_t n);
/* After SOS_WASM_DONE: the call's results, valid until the next call. */
const sos_wasm_val *sos_wasm_results(const sos_wasm_instance *in, uint32_t *n);
/* Abandons a suspended or yielded run.  */
void sos_wasm_call_abort(sos_wasm_instance *in);
/* Convenience: begin, run with no fuel limit, copy up to cap results.
 * A host suspension is an error here (SOS_ESTATE). */
int sos_wasm_call(sos_wasm_instance *in, sos_wasm_func *f,
                  const sos_wasm_val *args, uint32_t nargs,
                  sos_wasm_val *results, uint32_t cap,
                  struct sos_wasm_trap *trap);
/* Fuel consumed over the instance's life. */
uint64_t sos_wasm_fuel_used(const sos_wasm_instance *in);

/* ---- memory access for host functions ----------------------------------- */

/* A pointer to len bytes at addr in the instance's memory 0, or NULL when
 * any of them is out of bounds.  Valid until the memory next grows or the
 * instance runs again. */
void *sos_wasm_mem(sos_wasm_instance *in, uint64_t addr, uint64_t len);
/* Little-endian loads and stores; SOS_ETRAP when out of bounds. */
int sos_wasm_mem_get32(sos_wasm_instance *in, uint64_t addr, uint32_t *v);
int sos_wasm_mem_get64(sos_wasm_instance *in, uint64_t addr, uint64_t *v);
int sos_wasm_mem_set32(sos_wasm_instance *in, uint64_t addr, uint32_t v);
int sos_wasm_mem_set64(sos_wasm_instance *in, uint64_t addr, uint64_t v);
int sos_wasm_mem_set16(sos_wasm_instance *in, uint64_t addr, uint16_t v);
int sos_wasm_mem_set8(sos_wasm_instance *in, uint64_t addr, uint8_t v);

#endif

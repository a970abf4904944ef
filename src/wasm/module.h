/*
 * module.h - the decoded form of a WebAssembly module (internal).
 *
 * decode.c fills a struct sos__module from the binary format (Core 2.0
 * §5) and checks everything outside function bodies (§3.4: limits, types
 * of imports and exports, constant expressions, segments, the start
 * function, unique export names).  compile.c then validates each function
 * body and translates it to the engine's internal code (runtime.h, ops.h).
 *
 * Every array is allocated with sos_malloc and owned by the module;
 * sos__module_clear() frees them.  The caller's bytes are not kept: the
 * module owns a copy (`bytes`) for as long as it lives, and names,
 * function bodies and data segments point into that copy.
 */
#ifndef SOS_WASM_MODULE_H
#define SOS_WASM_MODULE_H

#include "sos/wasm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SOS__PAGE 65536u
#define SOS__MAX_PAGES 65536u
#define SOS__MAX_LOCALS 50000u /* per function, as V8: bounds frame set-up */

struct sos__functype {
  uint32_t nparams, nresults;
  uint8_t *types; /* nparams parameter types, then nresults result types */
  uint32_t canon; /* index of the first structurally equal type (set by decode.c) */
};

struct sos__limits {
  uint32_t min, max;
  bool has_max;
};

struct sos__tabletype {
  uint8_t elem; /* SOS_WASM_FUNCREF or SOS_WASM_EXTERNREF */
  struct sos__limits lim;
};

struct sos__globaltype {
  uint8_t type;
  bool mut;
};

/* A constant expression (§3.3.10): exactly one of these then `end`. */
enum {
  SOS__CONST_I32,    /* value: the bits */
  SOS__CONST_I64,
  SOS__CONST_F32,
  SOS__CONST_F64,
  SOS__CONST_REF_NULL, /* value: the reference type */
  SOS__CONST_REF_FUNC, /* index: function index */
  SOS__CONST_GLOBAL,   /* index: global index (an imported global) */
};

struct sos__constexpr {
  uint8_t kind;
  uint32_t index;
  uint64_t value;
};

struct sos__import {
  struct sos_wasm_name module, name;
  uint8_t kind; /* SOS_WASM_EXTERN_* */
  union {
    uint32_t typeidx;
    struct sos__tabletype table;
    struct sos__limits mem;
    struct sos__globaltype global;
  } u;
};

struct sos__export {
  struct sos_wasm_name name;
  uint8_t kind;
  uint32_t index;
};

/* A function defined by the module (not imported). */
struct sos__funcbody {
  uint32_t nlocals;      /* declared locals, not counting parameters */
  uint8_t *local_types;  /* nlocals entries */
  const uint8_t *code;   /* the expression after the local declarations */
  size_t code_len;       /* through the final `end` */
  size_t code_offset;    /* byte offset of code in the binary, for errors */
};

struct sos__global {
  struct sos__globaltype type;
  struct sos__constexpr init;
};

enum { SOS__SEG_ACTIVE, SOS__SEG_PASSIVE, SOS__SEG_DECLARATIVE };

struct sos__elem {
  uint8_t mode;
  uint8_t type;   /* reference type of the items */
  uint32_t table; /* active only */
  struct sos__constexpr offset;
  uint32_t n;
  struct sos__constexpr *items; /* each ref.null, ref.func or global.get */
};

struct sos__data {
  uint8_t mode; /* active or passive */
  uint32_t mem;
  struct sos__constexpr offset;
  const uint8_t *bytes; /* points into the module's copy of the binary */
  uint32_t len;
};

struct sos__module {
  uint8_t *bytes; /* owned copy of the binary */
  size_t len;

  uint32_t ntypes;
  struct sos__functype *types;

  uint32_t nimports;
  struct sos__import *imports;

  /* Index spaces: imported entries first, then defined ones. */
  uint32_t nfuncs, nfunc_imports;
  uint32_t *func_types; /* nfuncs type indices */
  struct sos__funcbody *bodies; /* nfuncs - nfunc_imports */

  uint32_t ntables, ntable_imports;
  struct sos__tabletype *tables;

  uint32_t nmems, nmem_imports;
  struct sos__limits *mems;

  uint32_t nglobals, nglobal_imports;
  struct sos__global *globals; /* init unused for imports */

  uint32_t nexports;
  struct sos__export *exports;

  bool has_start;
  uint32_t start;

  uint32_t nelems;
  struct sos__elem *elems;

  bool has_datacount;
  uint32_t datacount;
  uint32_t ndatas;
  struct sos__data *datas;

  /* Functions that ref.func may name outside function bodies (§3.4.10 C.refs):
   * those in exports, element segments and global initialisers. */
  uint8_t *declared_refs; /* nfuncs flags */
};

/* Decodes and checks everything outside function bodies.  Returns 0,
 * SOS_EMALFORMED or SOS_EINVALID (message in err, naming section and byte
 * offset), or SOS_ENOMEM.  On error m is cleared.  bytes are copied. */
int sos__module_decode(struct sos__module *m, const uint8_t *bytes, size_t len,
                       char *err, size_t errlen);
/* Frees everything m owns and zeroes it.  Accepts a zeroed module. */
void sos__module_clear(struct sos__module *m);

/* Reads an unsigned LEB128 of at most `bits` bits at *p (< end), advancing
 * *p.  Returns 0 or SOS_EMALFORMED ("integer representation too long" or
 * "integer too large") with *why set to a static reason. */
int sos__leb_u(const uint8_t **p, const uint8_t *end, unsigned bits,
               uint64_t *out, const char **why);
/* Signed LEB128 of at most `bits` bits, sign-extended into *out. */
int sos__leb_s(const uint8_t **p, const uint8_t *end, unsigned bits,
               int64_t *out, const char **why);

#endif

/*
 * runtime.c - modules, host objects, instances and host memory access.
 *
 * A module is made once (decode, compile) and is then
 * immutable; instances share it through a reference count, so a module
 * freed by its creator lives on until its last instance goes.  Function
 * types come canonicalised from decode.c: types[i].canon names the first type
 * structurally equal to type i, and every defined function's `sig` points
 * at that canonical type, so call_indirect can usually decide a type check
 * by comparing two pointers (Core 2.0 §4.4.8, call_indirect).
 *
 * Instantiation follows Core 2.0 §4.5.4: check the imports against the
 * module's import types (§4.5.2 external typing, with limits subtyping
 * §4.5.2.2), allocate the defined functions, tables, memories and globals
 * (globals initialised in order from their constant expressions), then
 * apply the active element segments and after them the active data
 * segments.  A segment that does not fit traps; writes made by earlier
 * segments stay, which matters when the table or memory is imported.  A
 * failed instance that stored its own functions in an imported table is
 * therefore kept alive until that table goes (see "failed instances").
 *
 * Memories reserve their largest possible size as address space at once
 * (PROT_NONE, MAP_NORESERVE) and grow by making more of it readable and
 * writable, so `data` never moves.  Tables are plain arrays of 64-bit
 * cells that grow with sos_realloc.  Limits on both come from the
 * instance's struct sos_wasm_limits; host-made objects use the defaults.
 *
 * The work is one-shot and not on a hot path, except sos_wasm_mem_*,
 * which host functions call per access and which are a bounds check and
 * a memcpy each.
 */
#include "wasm/runtime.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "sos_wasm_mem_* copy values in host byte order: little-endian only"
#endif

#define DEFAULT_MAX_MEMORY (4ull << 30)
#define DEFAULT_MAX_CALL_DEPTH 20000u
#define DEFAULT_MAX_STACK (64ull << 20)
#define DEFAULT_MAX_TABLE 10000000u

/* Where a memory with no address space reserved points, so that `data`
 * is never NULL and data + 0 stays defined. */
static uint8_t no_memory[1];

static const char *const kind_names[] = {"func", "table", "memory", "global"};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...) {
  if (!err || errlen == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

/* Writes "out of memory" unless a lower layer already explained. */
static int oom(char *err, size_t errlen) {
  if (err && errlen && err[0] == 0) set_err(err, errlen, "out of memory");
  return SOS_ENOMEM;
}

static const char *kind_name(uint8_t kind) {
  return kind < 4 ? kind_names[kind] : "unknown";
}

/* ---- function types ----------------------------------------------------- */

/* Structural equality: same counts and same types in order (§4.5.2.1). */
bool sos__functype_eq(const struct sos__functype *a,
                      const struct sos__functype *b) {
  if (a == b) return true;
  if (a->nparams != b->nparams || a->nresults != b->nresults) return false;
  size_t n = (size_t)a->nparams + a->nresults;
  return n == 0 || memcmp(a->types, b->types, n) == 0;
}

/* Fills a public view of t; the arrays stay owned by t's owner. */
static void functype_view(const struct sos__functype *t,
                          struct sos_wasm_functype *v) {
  v->nparams = t->nparams;
  v->nresults = t->nresults;
  v->params = t->types;
  v->results = t->types ? t->types + t->nparams : NULL;
}

/* Points f at sig and fills its public view; sig must outlive f. */
void sos__func_set_type(sos_wasm_func *f, const struct sos__functype *sig) {
  f->sig = sig;
  functype_view(sig, &f->type);
}

/* ---- modules ---------------------------------------------------------- */

/* Decodes (which also canonicalises types), then compiles; the module
 * starts with one reference, the caller's. */
int sos_wasm_module_new(const uint8_t *bytes, size_t len, sos_wasm_module **out,
                        char *err, size_t errlen) {
  *out = NULL;
  set_err(err, errlen, "%s", "");
  sos_wasm_module *m = sos_calloc(1, sizeof *m);
  if (!m) return oom(err, errlen);
  int rc = sos__module_decode(&m->d, bytes, len, err, errlen);
  if (rc != 0) { /* the decoder cleared m->d */
    sos_free(m);
    return rc == SOS_ENOMEM ? oom(err, errlen) : rc;
  }
  rc = sos__compile(m, err, errlen);
  if (rc != 0) {
    sos__compile_free(m);
    sos__module_clear(&m->d);
    sos_free(m);
    return rc == SOS_ENOMEM ? oom(err, errlen) : rc;
  }
  atomic_init(&m->refs, 1);
  *out = m;
  return 0;
}

/* Drops one reference; the last one frees the code and the decoded module. */
void sos_wasm_module_free(sos_wasm_module *m) {
  if (!m || atomic_fetch_sub(&m->refs, 1) != 1) return;
  sos__compile_free(m);
  sos__module_clear(&m->d);
  sos_free(m);
}

/* The number of imports, in the order instance_new expects them. */
uint32_t sos_wasm_module_import_count(const sos_wasm_module *m) {
  return m->d.nimports;
}

static void table_externtype(const struct sos__tabletype *t,
                             struct sos_wasm_externtype *x) {
  x->u.table.elem = t->elem;
  x->u.table.has_max = t->lim.has_max;
  x->u.table.min = t->lim.min;
  x->u.table.max = t->lim.max;
}

static void memory_externtype(const struct sos__limits *l,
                              struct sos_wasm_externtype *x) {
  x->u.memory.has_max = l->has_max;
  x->u.memory.min = l->min;
  x->u.memory.max = l->max;
}

/* Describes import i; names and type arrays are borrowed from the module.
 * Any of the out pointers may be NULL. */
void sos_wasm_module_import(const sos_wasm_module *m, uint32_t i,
                            struct sos_wasm_name *module,
                            struct sos_wasm_name *name,
                            struct sos_wasm_externtype *type) {
  const struct sos__import *imp = &m->d.imports[i];
  if (module) *module = imp->module;
  if (name) *name = imp->name;
  if (!type) return;
  memset(type, 0, sizeof *type);
  type->kind = imp->kind;
  switch (imp->kind) {
  case SOS_WASM_EXTERN_FUNC:
    functype_view(&m->d.types[imp->u.typeidx], &type->u.func);
    break;
  case SOS_WASM_EXTERN_TABLE: table_externtype(&imp->u.table, type); break;
  case SOS_WASM_EXTERN_MEMORY: memory_externtype(&imp->u.mem, type); break;
  case SOS_WASM_EXTERN_GLOBAL:
    type->u.global.type = imp->u.global.type;
    type->u.global.mut = imp->u.global.mut;
    break;
  }
}

/* The number of exports. */
uint32_t sos_wasm_module_export_count(const sos_wasm_module *m) {
  return m->d.nexports;
}

/* Describes export i from the module's index spaces (imports included). */
void sos_wasm_module_export(const sos_wasm_module *m, uint32_t i,
                            struct sos_wasm_name *name,
                            struct sos_wasm_externtype *type) {
  const struct sos__module *d = &m->d;
  const struct sos__export *ex = &d->exports[i];
  if (name) *name = ex->name;
  if (!type) return;
  memset(type, 0, sizeof *type);
  type->kind = ex->kind;
  switch (ex->kind) {
  case SOS_WASM_EXTERN_FUNC:
    functype_view(&d->types[d->func_types[ex->index]], &type->u.func);
    break;
  case SOS_WASM_EXTERN_TABLE:
    table_externtype(&d->tables[ex->index], type);
    break;
  case SOS_WASM_EXTERN_MEMORY:
    memory_externtype(&d->mems[ex->index], type);
    break;
  case SOS_WASM_EXTERN_GLOBAL:
    type->u.global.type = d->globals[ex->index].type.type;
    type->u.global.mut = d->globals[ex->index].type.mut;
    break;
  }
}

/* ---- host functions ------------------------------------------------------ */

/* A host function and its owned type, in one allocation. */
struct host_func {
  sos_wasm_func f; /* first, so a sos_wasm_func pointer is the block */
  struct sos__functype sig;
  uint8_t types[];
};

/* Copies type into the function's own block; inst and code stay NULL. */
sos_wasm_func *sos_wasm_func_new(const struct sos_wasm_functype *type,
                                 sos_wasm_host_fn fn, void *env) {
  if (type->nresults > SOS_WASM_HOST_MAX_RESULTS) return NULL;
  size_t n = (size_t)type->nparams + type->nresults;
  struct host_func *h = sos_calloc(1, sizeof *h + n);
  if (!h) return NULL;
  if (type->nparams) memcpy(h->types, type->params, type->nparams);
  if (type->nresults)
    memcpy(h->types + type->nparams, type->results, type->nresults);
  h->sig.nparams = type->nparams;
  h->sig.nresults = type->nresults;
  h->sig.types = h->types;
  sos__func_set_type(&h->f, &h->sig);
  h->f.host = fn;
  h->f.env = env;
  return &h->f;
}

/* Frees a host function; NULL is a no-op.  Never called on an
 * instance's own functions, which live in its own_funcs array. */
void sos_wasm_func_free(sos_wasm_func *f) {
  sos_free(f); /* the struct host_func block starts at f */
}

/* The public view of f's type, borrowed for f's life. */
const struct sos_wasm_functype *sos_wasm_func_type(const sos_wasm_func *f) {
  return &f->type;
}

/* ---- failed instances kept for their tables ------------------------------ */

/* Element segments applied before a trapping one stay in place (§4.5.4),
 * so a table the failed instance imported may now hold the instance's own
 * functions, which must stay callable.  Such an instance is not freed but
 * recorded here, once per imported table it stored its functions in, and
 * freed when the last of those tables is released.  Tables end only in
 * table_release below, so this is private to this file.  It is rare, so
 * one list under one lock serves. */
struct keep {
  const sos_wasm_table *table;
  sos_wasm_instance *in;
  struct keep *next;
};

static struct keep *kept;
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;

/* Whether a record still names in; the caller holds kept_lock. */
static bool still_kept(const sos_wasm_instance *in) {
  for (const struct keep *k = kept; k; k = k->next)
    if (k->in == in) return true;
  return false;
}

/* Drops the records of table t and frees each instance whose last record
 * that was (once, even when it imported t twice). */
static void release_kept(const sos_wasm_table *t) {
  struct keep *gone = NULL;
  pthread_mutex_lock(&kept_lock);
  for (struct keep **p = &kept; *p;) {
    struct keep *k = *p;
    if (k->table != t) {
      p = &k->next;
      continue;
    }
    *p = k->next;
    k->table = still_kept(k->in) ? NULL : t; /* non-NULL: free k->in */
    k->next = gone;
    gone = k;
  }
  pthread_mutex_unlock(&kept_lock);
  while (gone) {
    struct keep *k = gone;
    gone = k->next;
    if (k->table) sos_wasm_instance_free(k->in);
    sos_free(k);
  }
}

/* Whether an active element segment writes to an imported table. */
static bool writes_imported_table(const struct sos__module *d) {
  for (uint32_t i = 0; i < d->nelems; i++)
    if (d->elems[i].mode == SOS__SEG_ACTIVE &&
        d->elems[i].table < d->ntable_imports && d->elems[i].n)
      return true;
  return false;
}

/* Allocates one blank record per imported table before any segment is
 * applied, so that keeping a failed instance cannot fail.  *out stays
 * NULL when no segment writes to an imported table. */
static int keeps_alloc(const struct sos__module *d, struct keep ***out) {
  *out = NULL;
  if (!writes_imported_table(d)) return 0;
  struct keep **ks = sos_calloc(d->ntable_imports, sizeof *ks);
  if (!ks) return SOS_ENOMEM;
  *out = ks;
  for (uint32_t i = 0; i < d->ntable_imports; i++)
    if (!(ks[i] = sos_calloc(1, sizeof **ks))) return SOS_ENOMEM;
  return 0;
}

static void keeps_free(struct keep **ks, uint32_t n) {
  if (!ks) return;
  for (uint32_t i = 0; i < n; i++) sos_free(ks[i]);
  sos_free(ks);
}

/* Files the records that init_elems filled in (those naming a table) and
 * takes them out of ks.  Returns whether in is now kept. */
static bool keep_failed(sos_wasm_instance *in, struct keep **ks) {
  bool any = false;
  pthread_mutex_lock(&kept_lock);
  for (uint32_t i = 0; ks && i < in->mod->d.ntable_imports; i++) {
    if (!ks[i]->table) continue;
    ks[i]->in = in;
    ks[i]->next = kept;
    kept = ks[i];
    ks[i] = NULL;
    any = true;
  }
  pthread_mutex_unlock(&kept_lock);
  return any;
}

/* ---- tables -------------------------------------------------------------- */

/* Makes t a table of min null elements that may grow to the declared
 * maximum or to limit, whichever is smaller.  SOS_ELIMIT when min does not
 * fit; SOS_ENOMEM. */
static int table_init(sos_wasm_table *t, uint8_t elem,
                      const struct sos__limits *l, uint32_t limit) {
  uint32_t max = l->has_max && l->max < limit ? l->max : limit;
  if (l->min > max) return SOS_ELIMIT;
  t->elems = sos_calloc(l->min, sizeof *t->elems);
  if (!t->elems) return SOS_ENOMEM;
  t->size = l->min;
  t->max = max;
  t->has_max = l->has_max;
  t->decl_max = l->has_max ? l->max : 0;
  t->elem = elem;
  return 0;
}

static void table_release(sos_wasm_table *t) {
  release_kept(t);
  sos_free(t->elems);
  t->elems = NULL;
  t->size = 0;
}

/* table.grow (§4.4.6): appends delta cells set to init.  Returns the old
 * size, or -1 beyond the maximum or when out of memory (t is unchanged). */
int64_t sos__table_grow(sos_wasm_table *t, uint32_t delta, uint64_t init) {
  uint32_t old = t->size;
  if (delta == 0) return old;
  if (delta > t->max - old) return -1;
  uint64_t *e = sos_realloc(t->elems, ((size_t)old + delta) * sizeof *e);
  if (!e) return -1;
  for (uint32_t i = 0; i < delta; i++) e[(size_t)old + i] = init;
  t->elems = e;
  t->size = old + delta;
  return old;
}

/* A host table of min null cells, limited like an instance's by default. */
sos_wasm_table *sos_wasm_table_new(uint8_t elem, uint32_t min, bool has_max,
                                   uint32_t max) {
  if (has_max && max < min) return NULL;
  sos_wasm_table *t = sos_calloc(1, sizeof *t);
  if (!t) return NULL;
  struct sos__limits l = {min, max, has_max};
  if (table_init(t, elem, &l, DEFAULT_MAX_TABLE) != 0) {
    sos_free(t);
    return NULL;
  }
  return t;
}

/* Frees a host table; NULL is a no-op. */
void sos_wasm_table_free(sos_wasm_table *t) {
  if (!t) return;
  table_release(t);
  sos_free(t);
}

/* Current number of elements. */
uint32_t sos_wasm_table_size(const sos_wasm_table *t) { return t->size; }

/* ---- memories ------------------------------------------------------------ */

static void memory_release(sos_wasm_memory *mem) {
  if (mem->reserved) munmap(mem->data, mem->reserved);
  mem->data = no_memory;
  mem->reserved = 0;
  mem->size = 0;
}

/* Reserves address space for the largest size mem may reach (declared
 * maximum, capped by limit_bytes) and makes the first l->min pages
 * accessible.  SOS_ELIMIT when min does not fit; SOS_ENOMEM when the
 * address space cannot be had. */
static int memory_init(sos_wasm_memory *mem, const struct sos__limits *l,
                       uint64_t limit_bytes) {
  uint64_t cap = limit_bytes / SOS__PAGE;
  if (cap > SOS__MAX_PAGES) cap = SOS__MAX_PAGES;
  uint32_t max = l->has_max && l->max < cap ? l->max : (uint32_t)cap;
  if (l->min > max) return SOS_ELIMIT;
  mem->data = no_memory;
  mem->reserved = (uint64_t)max * SOS__PAGE;
  mem->max_pages = max;
  mem->has_max = l->has_max;
  mem->decl_max = l->has_max ? l->max : 0;
  mem->size = 0;
  if (mem->reserved) {
    void *p = mmap(NULL, mem->reserved, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
      mem->reserved = 0;
      return SOS_ENOMEM;
    }
    mem->data = p;
  }
  if (sos__memory_grow(mem, l->min) < 0) {
    memory_release(mem);
    return SOS_ENOMEM;
  }
  return 0;
}

/* memory.grow (§4.4.7): makes delta more pages accessible (zeroed).  Returns
 * the old size in pages, or -1 beyond max_pages or when mprotect fails. */
int64_t sos__memory_grow(sos_wasm_memory *mem, uint32_t delta_pages) {
  uint64_t old = mem->size / SOS__PAGE;
  if (delta_pages == 0) return (int64_t)old;
  if (delta_pages > mem->max_pages - old) return -1;
  uint64_t add = (uint64_t)delta_pages * SOS__PAGE;
  if (mprotect(mem->data + mem->size, add, PROT_READ | PROT_WRITE) != 0)
    return -1;
  mem->size += add; /* fresh anonymous pages read as zero */
  return (int64_t)old;
}

/* A host memory; its reservation is capped by the default 4 GiB limit. */
sos_wasm_memory *sos_wasm_memory_new(uint32_t min_pages, bool has_max,
                                     uint32_t max_pages) {
  if ((has_max && max_pages < min_pages) || min_pages > SOS__MAX_PAGES ||
      (has_max && max_pages > SOS__MAX_PAGES))
    return NULL;
  sos_wasm_memory *mem = sos_calloc(1, sizeof *mem);
  if (!mem) return NULL;
  struct sos__limits l = {min_pages, max_pages, has_max};
  if (memory_init(mem, &l, DEFAULT_MAX_MEMORY) != 0) {
    sos_free(mem);
    return NULL;
  }
  return mem;
}

/* Unmaps and frees a host memory; NULL is a no-op. */
void sos_wasm_memory_free(sos_wasm_memory *m) {
  if (!m) return;
  memory_release(m);
  sos_free(m);
}

/* Current size in bytes. */
uint64_t sos_wasm_memory_size(const sos_wasm_memory *m) { return m->size; }

/* ---- globals ------------------------------------------------------------- */

/* A host global holding v. */
sos_wasm_global *sos_wasm_global_new(uint8_t type, bool mut, sos_wasm_val v) {
  sos_wasm_global *g = sos_calloc(1, sizeof *g);
  if (!g) return NULL;
  g->type = type;
  g->mut = mut;
  g->value = v;
  return g;
}

/* Frees a host global; NULL is a no-op. */
void sos_wasm_global_free(sos_wasm_global *g) { sos_free(g); }

/* The global's current value. */
sos_wasm_val sos_wasm_global_get(const sos_wasm_global *g) { return g->value; }

/* The global's value type (SOS_WASM_I32...). */
uint8_t sos_wasm_global_type(const sos_wasm_global *g) { return g->type; }

/* ---- instantiation: imports ---------------------------------------------- */

/* Next free slot of each index space while imports are linked. */
struct link_pos {
  uint32_t func, table, mem, global;
};

/* Limits subtyping (§4.5.2.2): the actual object's current size is at
 * least the declared minimum, and when a maximum is declared the object
 * has one no larger. */
static bool limits_match(uint64_t size, bool has_max, uint32_t max,
                         const struct sos__limits *want) {
  if (size < want->min) return false;
  return !want->has_max || (has_max && max <= want->max);
}

/* The object an extern value carries, or NULL. */
static const void *extern_object(const struct sos_wasm_extern *x) {
  switch (x->kind) {
  case SOS_WASM_EXTERN_FUNC: return x->u.func;
  case SOS_WASM_EXTERN_TABLE: return x->u.table;
  case SOS_WASM_EXTERN_MEMORY: return x->u.memory;
  case SOS_WASM_EXTERN_GLOBAL: return x->u.global;
  }
  return NULL;
}

/* Checks x against import imp and enters it in its index space.  Returns
 * NULL when it fits or a static reason when it does not. */
static const char *link_one(sos_wasm_instance *in,
                            const struct sos__import *imp,
                            const struct sos_wasm_extern *x,
                            struct link_pos *pos) {
  const struct sos__module *d = &in->mod->d;
  if (x->kind != imp->kind) return "wrong kind";
  switch (imp->kind) {
  case SOS_WASM_EXTERN_FUNC:
    if (!sos__functype_eq(x->u.func->sig, &d->types[imp->u.typeidx]))
      return "function type differs";
    in->funcs[pos->func++] = x->u.func;
    return NULL;
  case SOS_WASM_EXTERN_TABLE: {
    const sos_wasm_table *t = x->u.table;
    if (t->elem != imp->u.table.elem) return "element type differs";
    if (!limits_match(t->size, t->has_max, t->decl_max, &imp->u.table.lim))
      return "table limits do not match";
    in->tables[pos->table++] = x->u.table;
    return NULL;
  }
  case SOS_WASM_EXTERN_MEMORY: {
    const sos_wasm_memory *mem = x->u.memory;
    if (!limits_match(mem->size / SOS__PAGE, mem->has_max, mem->decl_max,
                      &imp->u.mem))
      return "memory limits do not match";
    in->mems[pos->mem++] = x->u.memory;
    return NULL;
  }
  case SOS_WASM_EXTERN_GLOBAL:
    if (x->u.global->type != imp->u.global.type ||
        x->u.global->mut != imp->u.global.mut)
      return "global type differs";
    in->globals[pos->global++] = x->u.global;
    return NULL;
  }
  return "wrong kind";
}

/* Links every import in order (§4.5.4 steps 3-4).  SOS_ELINK with a
 * message naming the import when one is missing or does not fit. */
static int link_imports(sos_wasm_instance *in,
                        const struct sos_wasm_extern *imports, uint32_t n,
                        char *err, size_t errlen) {
  const struct sos__module *d = &in->mod->d;
  struct link_pos pos = {0, 0, 0, 0};
  if (n > d->nimports) {
    set_err(err, errlen, "too many imports: the module has %u, %u given",
            d->nimports, n);
    return SOS_ELINK;
  }
  for (uint32_t i = 0; i < d->nimports; i++) {
    const struct sos__import *imp = &d->imports[i];
    const struct sos_wasm_extern *x = imports && i < n ? &imports[i] : NULL;
    int ml = (int)imp->module.len, nl = (int)imp->name.len;
    if (!x || !extern_object(x)) {
      set_err(err, errlen, "unknown import \"%.*s\".\"%.*s\" (%s %u)", ml,
              imp->module.p, nl, imp->name.p, kind_name(imp->kind), i);
      return SOS_ELINK;
    }
    const char *why = link_one(in, imp, x, &pos);
    if (why) {
      set_err(err, errlen, "incompatible import type \"%.*s\".\"%.*s\": %s",
              ml, imp->module.p, nl, imp->name.p, why);
      return SOS_ELINK;
    }
  }
  return 0;
}

/* ---- instantiation: allocation ------------------------------------------- */

/* Copies lim (or nothing) and fills zero fields with the defaults. */
static void set_limits(sos_wasm_instance *in,
                       const struct sos_wasm_limits *lim) {
  if (lim) in->lim = *lim;
  if (!in->lim.max_memory) in->lim.max_memory = DEFAULT_MAX_MEMORY;
  if (!in->lim.max_call_depth) in->lim.max_call_depth = DEFAULT_MAX_CALL_DEPTH;
  if (!in->lim.max_stack) in->lim.max_stack = DEFAULT_MAX_STACK;
  if (!in->lim.max_table) in->lim.max_table = DEFAULT_MAX_TABLE;
}

/* Allocates the index spaces and the arrays of owned objects, zeroed. */
static int alloc_spaces(sos_wasm_instance *in) {
  const struct sos__module *d = &in->mod->d;
  uint32_t own_funcs = d->nfuncs - d->nfunc_imports;
  uint32_t own_tables = d->ntables - d->ntable_imports;
  uint32_t own_mems = d->nmems - d->nmem_imports;
  uint32_t own_globals = d->nglobals - d->nglobal_imports;
  in->funcs = sos_calloc(d->nfuncs, sizeof *in->funcs);
  in->own_funcs = sos_calloc(own_funcs, sizeof *in->own_funcs);
  in->tables = sos_calloc(d->ntables, sizeof *in->tables);
  in->own_tables = sos_calloc(own_tables, sizeof *in->own_tables);
  in->mems = sos_calloc(d->nmems, sizeof *in->mems);
  in->own_mems = sos_calloc(own_mems, sizeof *in->own_mems);
  in->globals = sos_calloc(d->nglobals, sizeof *in->globals);
  in->own_globals = sos_calloc(own_globals, sizeof *in->own_globals);
  in->elem_dropped = sos_calloc(d->nelems, sizeof *in->elem_dropped);
  in->data_dropped = sos_calloc(d->ndatas, sizeof *in->data_dropped);
  if (!in->funcs || !in->own_funcs || !in->tables || !in->own_tables ||
      !in->mems || !in->own_mems || !in->globals || !in->own_globals ||
      !in->elem_dropped || !in->data_dropped)
    return SOS_ENOMEM;
  for (uint32_t i = 0; i < own_mems; i++) in->own_mems[i].data = no_memory;
  return 0;
}

/* Fills the defined part of the funcs index space.  Each function's sig
 * is its canonical type, so equal types share one pointer. */
static void make_funcs(sos_wasm_instance *in) {
  const struct sos__module *d = &in->mod->d;
  for (uint32_t i = 0; i < d->nfuncs - d->nfunc_imports; i++) {
    sos_wasm_func *f = &in->own_funcs[i];
    uint32_t type = d->func_types[d->nfunc_imports + i];
    sos__func_set_type(f, &d->types[d->types[type].canon]);
    f->inst = in;
    f->code = &in->mod->codes[i];
    in->funcs[d->nfunc_imports + i] = f;
  }
}

static int make_tables(sos_wasm_instance *in, char *err, size_t errlen) {
  const struct sos__module *d = &in->mod->d;
  for (uint32_t i = 0; i < d->ntables - d->ntable_imports; i++) {
    uint32_t idx = d->ntable_imports + i;
    const struct sos__tabletype *tt = &d->tables[idx];
    uint32_t limit = in->lim.max_table;
    int rc = table_init(&in->own_tables[i], tt->elem, &tt->lim, limit);
    if (rc == SOS_ELIMIT)
      set_err(err, errlen,
              "table %u: minimum of %u elements exceeds the limit of %u", idx,
              tt->lim.min, limit);
    if (rc) return rc;
    in->tables[idx] = &in->own_tables[i];
  }
  return 0;
}

static int make_mems(sos_wasm_instance *in, char *err, size_t errlen) {
  const struct sos__module *d = &in->mod->d;
  for (uint32_t i = 0; i < d->nmems - d->nmem_imports; i++) {
    uint32_t idx = d->nmem_imports + i;
    int rc = memory_init(&in->own_mems[i], &d->mems[idx], in->lim.max_memory);
    if (rc == SOS_ELIMIT)
      set_err(err, errlen,
              "memory %u: minimum of %u pages exceeds the limit of %llu bytes",
              idx, d->mems[idx].min, (unsigned long long)in->lim.max_memory);
    if (rc) return rc;
    in->mems[idx] = &in->own_mems[i];
  }
  in->mem0 = d->nmems ? in->mems[0] : NULL;
  return 0;
}

/* Evaluates a constant expression (§4.4.10) in the instance as built so
 * far: global.get may name only globals already initialised. */
static uint64_t eval_const(const sos_wasm_instance *in,
                           const struct sos__constexpr *e) {
  switch (e->kind) {
  case SOS__CONST_I32:
  case SOS__CONST_F32: return e->value & 0xffffffffu;
  case SOS__CONST_I64:
  case SOS__CONST_F64: return e->value;
  case SOS__CONST_REF_NULL: return 0;
  case SOS__CONST_REF_FUNC: return (uint64_t)(uintptr_t)in->funcs[e->index];
  case SOS__CONST_GLOBAL: return in->globals[e->index]->value;
  }
  return 0;
}

static void make_globals(sos_wasm_instance *in) {
  const struct sos__module *d = &in->mod->d;
  for (uint32_t i = 0; i < d->nglobals - d->nglobal_imports; i++) {
    uint32_t idx = d->nglobal_imports + i;
    sos_wasm_global *g = &in->own_globals[i];
    g->type = d->globals[idx].type.type;
    g->mut = d->globals[idx].type.mut;
    g->value = eval_const(in, &d->globals[idx].init);
    in->globals[idx] = g;
  }
}

/* ---- instantiation: segments --------------------------------------------- */

/* Whether reference v is one of in's own functions. */
static bool own_func(const sos_wasm_instance *in, uint64_t v) {
  uintptr_t base = (uintptr_t)in->own_funcs;
  uint32_t n = in->mod->d.nfuncs - in->mod->d.nfunc_imports;
  return v >= base && v < base + (uint64_t)n * sizeof *in->own_funcs;
}

/* Applies the active element segments in order, as table.init followed by
 * elem.drop (§4.5.4 step 14); declarative ones are dropped.  SOS_ETRAP
 * when one does not fit; earlier ones stay written, and ks (from
 * keeps_alloc) notes each imported table given one of in's functions. */
static int init_elems(sos_wasm_instance *in, struct keep **ks, char *err,
                      size_t errlen) {
  const struct sos__module *d = &in->mod->d;
  for (uint32_t i = 0; i < d->nelems; i++) {
    const struct sos__elem *seg = &d->elems[i];
    if (seg->mode == SOS__SEG_DECLARATIVE) in->elem_dropped[i] = true;
    if (seg->mode != SOS__SEG_ACTIVE) continue;
    uint32_t off = (uint32_t)eval_const(in, &seg->offset);
    sos_wasm_table *t = in->tables[seg->table];
    if ((uint64_t)off + seg->n > t->size) {
      set_err(err, errlen,
              "out of bounds table access: element segment %u (offset %u, "
              "%u elements) does not fit table %u of %u elements",
              i, off, seg->n, seg->table, t->size);
      return SOS_ETRAP;
    }
    for (uint32_t j = 0; j < seg->n; j++) {
      uint64_t v = eval_const(in, &seg->items[j]);
      t->elems[(size_t)off + j] = v;
      if (ks && seg->table < d->ntable_imports && own_func(in, v))
        ks[seg->table]->table = t;
    }
    in->elem_dropped[i] = true;
  }
  return 0;
}

/* Applies the active data segments in order, as memory.init followed by
 * data.drop (§4.5.4 step 15).  SOS_ETRAP when one does not fit. */
static int init_datas(sos_wasm_instance *in, char *err, size_t errlen) {
  const struct sos__module *d = &in->mod->d;
  for (uint32_t i = 0; i < d->ndatas; i++) {
    const struct sos__data *seg = &d->datas[i];
    if (seg->mode != SOS__SEG_ACTIVE) continue;
    uint32_t off = (uint32_t)eval_const(in, &seg->offset);
    sos_wasm_memory *mem = in->mems[seg->mem];
    if ((uint64_t)off + seg->len > mem->size) {
      set_err(err, errlen,
              "out of bounds memory access: data segment %u (offset %u, "
              "%u bytes) does not fit memory %u of %llu bytes",
              i, off, seg->len, seg->mem, (unsigned long long)mem->size);
      return SOS_ETRAP;
    }
    if (seg->len) memcpy(mem->data + off, seg->bytes, seg->len);
    in->data_dropped[i] = true;
  }
  return 0;
}

/* ---- instances ----------------------------------------------------------- */

/* Builds everything but the segments; the order follows §4.5.4. */
static int build_instance(sos_wasm_instance *in,
                          const struct sos_wasm_extern *imports, uint32_t n,
                          char *err, size_t errlen) {
  int rc = alloc_spaces(in);
  if (rc == 0) rc = link_imports(in, imports, n, err, errlen);
  if (rc == 0) {
    make_funcs(in);
    rc = make_tables(in, err, errlen);
  }
  if (rc == 0) rc = make_mems(in, err, errlen);
  if (rc == 0) {
    make_globals(in);
    rc = sos__exec_init(&in->exec, &in->lim);
  }
  return rc;
}

/* Instantiates m (§4.5.4) without running its start function.  On any
 * error the partial instance is freed, unless a trap leaves its functions
 * in an imported table: then that table keeps it.  See wasm.h for the
 * error codes. */
int sos_wasm_instance_new(sos_wasm_module *m, const struct sos_wasm_limits *lim,
                          const struct sos_wasm_extern *imports,
                          uint32_t nimports, sos_wasm_instance **out,
                          char *err, size_t errlen) {
  *out = NULL;
  set_err(err, errlen, "%s", "");
  sos_wasm_instance *in = sos_calloc(1, sizeof *in);
  if (!in) return oom(err, errlen);
  atomic_fetch_add(&m->refs, 1);
  in->mod = m;
  set_limits(in, lim);
  struct keep **ks = NULL;
  int rc = build_instance(in, imports, nimports, err, errlen);
  if (rc == 0) rc = keeps_alloc(&m->d, &ks);
  if (rc == 0) rc = init_elems(in, ks, err, errlen);
  if (rc == 0) rc = init_datas(in, err, errlen);
  bool kept_alive = rc == SOS_ETRAP && keep_failed(in, ks);
  keeps_free(ks, m->d.ntable_imports);
  if (rc == 0) *out = in;
  else if (!kept_alive) sos_wasm_instance_free(in);
  return rc == SOS_ENOMEM ? oom(err, errlen) : rc;
}

/* Frees what the instance owns and drops its module reference.  Works on a
 * partly built instance too: every owned array starts zeroed. */
void sos_wasm_instance_free(sos_wasm_instance *in) {
  if (!in) return;
  const struct sos__module *d = &in->mod->d;
  if (in->own_tables)
    for (uint32_t i = 0; i < d->ntables - d->ntable_imports; i++)
      table_release(&in->own_tables[i]);
  if (in->own_mems)
    for (uint32_t i = 0; i < d->nmems - d->nmem_imports; i++)
      memory_release(&in->own_mems[i]);
  sos__exec_free(&in->exec);
  sos_free(in->funcs);
  sos_free(in->own_funcs);
  sos_free(in->tables);
  sos_free(in->own_tables);
  sos_free(in->mems);
  sos_free(in->own_mems);
  sos_free(in->globals);
  sos_free(in->own_globals);
  sos_free(in->elem_dropped);
  sos_free(in->data_dropped);
  sos_wasm_module_free(in->mod);
  sos_free(in);
}

/* Looks an export up by exact byte comparison of its name. */
int sos_wasm_instance_export(sos_wasm_instance *in, const char *name,
                             size_t len, struct sos_wasm_extern *out) {
  const struct sos__module *d = &in->mod->d;
  for (uint32_t i = 0; i < d->nexports; i++) {
    const struct sos__export *ex = &d->exports[i];
    if (ex->name.len != len || (len && memcmp(ex->name.p, name, len) != 0))
      continue;
    out->kind = ex->kind;
    switch (ex->kind) {
    case SOS_WASM_EXTERN_FUNC: out->u.func = in->funcs[ex->index]; break;
    case SOS_WASM_EXTERN_TABLE: out->u.table = in->tables[ex->index]; break;
    case SOS_WASM_EXTERN_MEMORY: out->u.memory = in->mems[ex->index]; break;
    case SOS_WASM_EXTERN_GLOBAL: out->u.global = in->globals[ex->index]; break;
    }
    return 0;
  }
  return SOS_ENOENT;
}

/* The start function (§2.5.9), for the caller to run, or NULL. */
sos_wasm_func *sos_wasm_instance_start(sos_wasm_instance *in) {
  const struct sos__module *d = &in->mod->d;
  return d->has_start ? in->funcs[d->start] : NULL;
}

/* Memory 0, imported or defined, or NULL. */
sos_wasm_memory *sos_wasm_instance_memory(sos_wasm_instance *in) {
  return in->mem0;
}

/* Attaches an embedder pointer. */
void sos_wasm_instance_set_user(sos_wasm_instance *in, void *user) {
  in->user = user;
}

/* The embedder pointer, NULL until set. */
void *sos_wasm_instance_user(const sos_wasm_instance *in) { return in->user; }

/* ---- memory access for host functions ------------------------------------ */

/* Bounds-checks [addr, addr+len) against memory 0 without overflow. */
void *sos_wasm_mem(sos_wasm_instance *in, uint64_t addr, uint64_t len) {
  const sos_wasm_memory *mem = in->mem0;
  if (!mem || addr > mem->size || len > mem->size - addr) return NULL;
  return mem->data + addr;
}

/* Loads a little-endian u32; SOS_ETRAP when out of bounds. */
int sos_wasm_mem_get32(sos_wasm_instance *in, uint64_t addr, uint32_t *v) {
  const void *p = sos_wasm_mem(in, addr, sizeof *v);
  if (!p) return SOS_ETRAP;
  memcpy(v, p, sizeof *v);
  return 0;
}

/* Loads a little-endian u64; SOS_ETRAP when out of bounds. */
int sos_wasm_mem_get64(sos_wasm_instance *in, uint64_t addr, uint64_t *v) {
  const void *p = sos_wasm_mem(in, addr, sizeof *v);
  if (!p) return SOS_ETRAP;
  memcpy(v, p, sizeof *v);
  return 0;
}

/* Stores the n bytes at v at addr; SOS_ETRAP when out of bounds. */
static int mem_store(sos_wasm_instance *in, uint64_t addr, const void *v,
                     size_t n) {
  void *p = sos_wasm_mem(in, addr, n);
  if (!p) return SOS_ETRAP;
  memcpy(p, v, n);
  return 0;
}

/* Stores a little-endian u32; SOS_ETRAP when out of bounds. */
int sos_wasm_mem_set32(sos_wasm_instance *in, uint64_t addr, uint32_t v) {
  return mem_store(in, addr, &v, sizeof v);
}

/* Stores a little-endian u64; SOS_ETRAP when out of bounds. */
int sos_wasm_mem_set64(sos_wasm_instance *in, uint64_t addr, uint64_t v) {
  return mem_store(in, addr, &v, sizeof v);
}

/* Stores a little-endian u16; SOS_ETRAP when out of bounds. */
int sos_wasm_mem_set16(sos_wasm_instance *in, uint64_t addr, uint16_t v) {
  return mem_store(in, addr, &v, sizeof v);
}

/* Stores a byte; SOS_ETRAP when out of bounds. */
int sos_wasm_mem_set8(sos_wasm_instance *in, uint64_t addr, uint8_t v) {
  return mem_store(in, addr, &v, sizeof v);
}

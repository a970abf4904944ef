/*
 * gen_c.c - the IDL's C code generator (include/sos/idl_gen.h): from the
 * structs, enums and interfaces of a resolved app, the header and source
 * that guests compile with the runtime sdk/sos_wire.h.
 *
 * The output is meant to be read: each type is preceded by its IDL
 * declaration, each struct member carries its field's declaration as a
 * comment, and every function is straight-line code over a handful of
 * runtime helpers, one statement per field.  Encoders test each field
 * against its zero value and call an inline writer; decoders loop over
 * the message's keys and switch on the whole key (tag and wire type), so
 * a field of the expected wire type costs one jump, while a known tag of
 * another wire type, an unknown tag to skip and malformed bytes fall to
 * the default branch.  Nothing allocates except a decoded list, which
 * goes to the caller's arena.
 *
 * The header is ordered so that C can compile it: enums; then every
 * struct's typedef and list type (a list holds a pointer, so its element
 * may be incomplete); then the struct definitions, each after the
 * structs it holds by value (a depth-first walk, which also finds a
 * struct containing itself); then interfaces.  Within a struct the
 * variants of a union become `NAME_case` and a C union at the place of
 * the union's first variant.
 *
 * C names are the package's name with '-' made '_', then the IDL names
 * (greeter_HelloReq, greeter_Mood_calm, greeter_Greeter_hello_start).  A
 * member that is a C keyword gets a trailing '_'.  Distinct IDL names can
 * still meet in C (method `at` of Greeter and the handle's constructor
 * greeter_Greeter_at), so every name the files declare is recorded and
 * the generator refuses two alike instead of writing code that does not
 * compile.
 *
 * Generated names ending in "__write", "__read" and the like are the
 * source file's static helpers; the runtime's sos_wire_* functions do the
 * byte-level work (docs/wire.md), so the generated code never touches a
 * varint itself.
 */
#include "sos/idl_gen.h"

#include "idl/idl.h"

#include "sos/base.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The texts are written into struct sos_buf (idl.h): its rc records
 * a failed allocation, checked once at the end. */

/* ---- the generator's state -------------------------------------------------------- */

/* A C name the files declare, and what declares it (for the message when
 * two meet). */
struct decl {
  char *name;
  char *origin;
};

struct gen {
  const struct sos_app *app;
  struct sos_buf h, c; /* the header and the source */
  char *prefix;             /* the app's C prefix, for the source's own helpers */
  char **sname;             /* the C names of the structs, */
  char **ename;             /* the enums */
  char **iname;             /* and the interfaces */
  bool *served;             /* per interface: a service implements it */
  uint32_t *order;          /* struct indexes, each after those it holds by value */
  uint32_t norder;
  uint8_t *mark; /* per struct, for the walk: 0 new, 1 on the path, 2 done */
  struct decl *decls;
  uint32_t ndecls, capdecls;
  bool oom;
  char *err;
  size_t errlen;
  int rc; /* the first failure */
};

/* Records the first failure: SOS_EINVAL with a message. */
static int fail(struct gen *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int fail(struct gen *g, const char *fmt, ...) {
  if (g->rc) return g->rc;
  va_list ap;
  va_start(ap, fmt);
  if (g->err && g->errlen) vsnprintf(g->err, g->errlen, fmt, ap);
  va_end(ap);
  return g->rc = SOS_EINVAL;
}

/* Records that the files declare name, on behalf of origin. */
static void declare(struct gen *g, const char *name, const char *origin) {
  if (g->oom) return;
  if (g->ndecls == g->capdecls) {
    uint32_t cap = g->capdecls ? g->capdecls * 2 : 64;
    struct decl *d = sos_realloc(g->decls, cap * sizeof *d);
    if (!d) {
      g->oom = true;
      return;
    }
    g->decls = d;
    g->capdecls = cap;
  }
  struct decl *d = &g->decls[g->ndecls];
  d->name = sos_strndup(name, strlen(name));
  d->origin = sos_strndup(origin, strlen(origin));
  if (!d->name || !d->origin) {
    sos_free(d->name);
    sos_free(d->origin);
    g->oom = true;
    return;
  }
  g->ndecls++;
}

static int by_name(const void *x, const void *y) {
  return strcmp(((const struct decl *)x)->name, ((const struct decl *)y)->name);
}

/* Fails when two declarations got the same C name. */
static int check_decls(struct gen *g) {
  if (g->ndecls > 1) qsort(g->decls, g->ndecls, sizeof *g->decls, by_name);
  for (uint32_t i = 1; i < g->ndecls; i++)
    if (strcmp(g->decls[i - 1].name, g->decls[i].name) == 0)
      return fail(g, "the C name %s would be declared by %s and by %s; rename one",
                  g->decls[i].name, g->decls[i - 1].origin, g->decls[i].origin);
  return g->rc;
}

/* ---- names ------------------------------------------------------------------------ */

/* "a_b" with every '-' made '_' (b NULL: "a"), from sos_malloc. */
static char *c_join(struct gen *g, const char *a, const char *b) {
  size_t na = strlen(a), nb = b ? strlen(b) : 0;
  char *s = sos_malloc(na + nb + 2);
  if (!s) {
    g->oom = true;
    return NULL;
  }
  memcpy(s, a, na);
  if (b) {
    s[na] = '_';
    memcpy(s + na + 1, b, nb);
  }
  s[na + (b ? nb + 1 : 0)] = 0;
  for (char *p = s; *p; p++)
    if (*p == '-') *p = '_';
  return s;
}

/* C keywords and the standard headers' macros that a member cannot be. */
static bool reserved(const char *s) {
  static const char *const words[] = {
      "auto",     "break",     "case",     "char",     "const",         "continue",
      "default",  "do",        "double",   "else",     "enum",          "extern",
      "float",    "for",       "goto",     "if",       "inline",        "int",
      "long",     "register",  "restrict", "return",   "short",         "signed",
      "sizeof",   "static",    "struct",   "switch",   "typedef",       "union",
      "unsigned", "void",      "volatile", "while",    "bool",          "true",
      "false",    "alignas",   "alignof",  "noreturn", "static_assert", "thread_local",
      "complex",  "imaginary", "errno",    "assert",   "NULL",          "offsetof",
      NULL};
  if (s[0] == '_') return true; /* _Bool, _Atomic ... and reserved names */
  for (const char *const *w = words; *w; w++)
    if (strcmp(*w, s) == 0) return true;
  return false;
}

/* The C member for IDL name in buf: '-' made '_', a keyword given a
 * trailing '_'. */
static const char *member(const char *name, char *buf, size_t n) {
  snprintf(buf, n, "%s", name);
  for (char *p = buf; *p; p++)
    if (*p == '-') *p = '_';
  if (reserved(buf) && strlen(buf) + 1 < n) strcat(buf, "_");
  return buf;
}

static int find_struct(const struct sos_app *app, const char *name) {
  for (uint32_t i = 0; name && i < app->nstructs; i++)
    if (strcmp(app->structs[i].name, name) == 0) return (int)i;
  return -1;
}

static int find_enum(const struct sos_app *app, const char *name) {
  for (uint32_t i = 0; name && i < app->nenums; i++)
    if (strcmp(app->enums[i].name, name) == 0) return (int)i;
  return -1;
}

static int find_interface(const struct sos_app *app, const char *name) {
  for (uint32_t i = 0; name && i < app->ninterfaces; i++)
    if (strcmp(app->interfaces[i].name, name) == 0) return (int)i;
  return -1;
}

/* ---- field types ------------------------------------------------------------------ */

/* Per SOS_APP_T_*: the C type of one value, the list type, the runtime's
 * element type and the wire type.  Structs and enums take their names. */
struct kind {
  const char *c, *list, *t, *wire;
};

static const struct kind kinds[] = {
    [SOS_APP_T_BOOL] = {"bool", "sos_list_bool", "SOS_WIRE_T_BOOL", "SOS_WIRE_VARINT"},
    [SOS_APP_T_U8] = {"uint8_t", "sos_list_u8", "SOS_WIRE_T_U8", "SOS_WIRE_VARINT"},
    [SOS_APP_T_U16] = {"uint16_t", "sos_list_u16", "SOS_WIRE_T_U16", "SOS_WIRE_VARINT"},
    [SOS_APP_T_U32] = {"uint32_t", "sos_list_u32", "SOS_WIRE_T_U32", "SOS_WIRE_VARINT"},
    [SOS_APP_T_U64] = {"uint64_t", "sos_list_u64", "SOS_WIRE_T_U64", "SOS_WIRE_VARINT"},
    [SOS_APP_T_I8] = {"int8_t", "sos_list_i8", "SOS_WIRE_T_I8", "SOS_WIRE_VARINT"},
    [SOS_APP_T_I16] = {"int16_t", "sos_list_i16", "SOS_WIRE_T_I16", "SOS_WIRE_VARINT"},
    [SOS_APP_T_I32] = {"int32_t", "sos_list_i32", "SOS_WIRE_T_I32", "SOS_WIRE_VARINT"},
    [SOS_APP_T_I64] = {"int64_t", "sos_list_i64", "SOS_WIRE_T_I64", "SOS_WIRE_VARINT"},
    [SOS_APP_T_F32] = {"float", "sos_list_f32", "SOS_WIRE_T_F32", "SOS_WIRE_I32"},
    [SOS_APP_T_F64] = {"double", "sos_list_f64", "SOS_WIRE_T_F64", "SOS_WIRE_I64"},
    [SOS_APP_T_TEXT] = {"sos_text", "sos_list_text", "SOS_WIRE_T_TEXT", "SOS_WIRE_LEN"},
    [SOS_APP_T_BYTES] = {"sos_bytes", "sos_list_bytes", "SOS_WIRE_T_BYTES",
                         "SOS_WIRE_LEN"},
    [SOS_APP_T_STRUCT] = {NULL, NULL, NULL, "SOS_WIRE_LEN"},
    [SOS_APP_T_ENUM] = {NULL, NULL, "SOS_WIRE_T_ENUM", "SOS_WIRE_VARINT"},
};

/* One field as the generator uses it. */
struct fld {
  const struct sos_app_struct *st;
  const struct sos_app_field *f;
  uint8_t type;
  bool list, opt, variant;
  int ref;            /* STRUCT, ENUM: the index of the struct or enum */
  char mem[96];       /* the C member */
  char uni[96];       /* a variant's union member */
  char acc[200];      /* how the code reaches it from m: "m->name", "m->contact.email" */
  char what[200];     /* "HelloReq.name (tag 1)", for messages */
  char decl[160];     /* the IDL declaration: "name: list<text> = 1" */
  char idl_type[120]; /* the IDL type: "list<text>", "Person" */
  const char *ctype;  /* the C type of one value */
  const char *wire;   /* SOS_WIRE_VARINT ... of the field */
};

/* The IDL type of f without list or optional: "u32", "Person". */
static const char *base_type(const struct sos_app_field *f) {
  if (f->type == SOS_APP_T_STRUCT || f->type == SOS_APP_T_ENUM) return f->type_name;
  const char *t = sos_app_type_name(f->type);
  return t ? t : "?";
}

/* Fills x for field f of struct st, or fails on a type the app lacks. */
static int field_info(struct gen *g, const struct sos_app_struct *st,
                      const struct sos_app_field *f, struct fld *x) {
  memset(x, 0, sizeof *x);
  x->st = st;
  x->f = f;
  x->type = f->type;
  x->variant = f->group != 0;
  x->list = (f->flags & SOS_APP_F_LIST) && !x->variant;
  x->opt = (f->flags & SOS_APP_F_OPTIONAL) && !x->variant && !x->list;
  if (f->type < SOS_APP_T_BOOL || f->type > SOS_APP_T_ENUM)
    return fail(g, "%s.%s: unknown field type %u", st->name, f->name, f->type);
  if (x->variant && f->group > st->nunions)
    return fail(g, "%s.%s: union %u of %u", st->name, f->name, f->group, st->nunions);
  x->ctype = kinds[f->type].c;
  if (f->type == SOS_APP_T_STRUCT) {
    if ((x->ref = find_struct(g->app, f->type_name)) < 0)
      return fail(g, "%s.%s: unknown struct %s", st->name, f->name,
                  f->type_name ? f->type_name : "(none)");
    x->ctype = g->sname[x->ref];
  } else if (f->type == SOS_APP_T_ENUM) {
    if ((x->ref = find_enum(g->app, f->type_name)) < 0)
      return fail(g, "%s.%s: unknown enum %s", st->name, f->name,
                  f->type_name ? f->type_name : "(none)");
    x->ctype = g->ename[x->ref];
  }
  x->wire = x->list ? "SOS_WIRE_LEN" : kinds[f->type].wire;
  member(f->name, x->mem, sizeof x->mem);
  if (x->variant) {
    member(st->unions[f->group - 1], x->uni, sizeof x->uni);
    snprintf(x->acc, sizeof x->acc, "m->%s.%s", x->uni, x->mem);
  } else snprintf(x->acc, sizeof x->acc, "m->%s", x->mem);
  snprintf(x->what, sizeof x->what, "%s.%s (tag %u)", st->name, f->name, f->tag);
  snprintf(x->idl_type, sizeof x->idl_type, "%s%s%s", x->list ? "list<" : "",
           base_type(f), x->list ? ">" : "");
  snprintf(x->decl, sizeof x->decl, "%s: %s%s = %u", f->name, x->opt ? "optional " : "",
           x->idl_type, f->tag);
  return 0;
}

/* The C type of the field's member: a value or a list. */
static const char *member_type(struct gen *g, const struct fld *x, char *buf, size_t n) {
  if (!x->list) return x->ctype;
  if (x->type == SOS_APP_T_STRUCT) snprintf(buf, n, "%s_list", g->sname[x->ref]);
  else if (x->type == SOS_APP_T_ENUM) snprintf(buf, n, "%s_list", g->ename[x->ref]);
  else return kinds[x->type].list;
  return buf;
}

/* ---- the order of struct definitions ----------------------------------------------- */

/* Visits struct i after the structs it holds by value; fails on a cycle. */
static int visit(struct gen *g, uint32_t i) {
  const struct sos_app_struct *st = &g->app->structs[i];
  if (g->mark[i] == 2) return 0;
  if (g->mark[i] == 1) return fail(g, "struct %s contains itself by value", st->name);
  g->mark[i] = 1;
  for (uint32_t k = 0; k < st->nfields; k++) {
    struct fld x;
    if (field_info(g, st, &st->fields[k], &x)) return g->rc;
    if (x.type == SOS_APP_T_STRUCT && !x.list && visit(g, (uint32_t)x.ref)) return g->rc;
  }
  g->mark[i] = 2;
  g->order[g->norder++] = i;
  return 0;
}

static int order_structs(struct gen *g) {
  for (uint32_t i = 0; i < g->app->nstructs; i++)
    if (visit(g, i)) return g->rc;
  return 0;
}

/* ---- the header: enums --------------------------------------------------------------- */

/* The first lines of both files. */
static void file_top(struct gen *g, struct sos_buf *o, const char *name,
                     const char *what) {
  const struct sos_app *app = g->app;
  const char *file = app->file ? strrchr(app->file, '/') : NULL;
  file = file ? file + 1 : app->file ? app->file : "app.sos";
  sos_buf_fmt(o, SOS_IDL_GEN_MARK " from %s (app %s %s); do not edit:\n", file,
                   app->name, app->version ? app->version : "");
  sos_buf_fmt(o, " * `sos build` regenerates it.\n *\n * %s.sos.%s - %s\n", name,
                   o == &g->h ? "h" : "c", what);
}

static void header_intro(struct gen *g) {
  const char *a = g->app->name;
  file_top(g, &g->h, a, "C types, wire codecs and typed calls of the structs,");
  sos_buf_fmt(
      &g->h,
      " * enums and interfaces of app %s and the packages it imports.\n"
      " * docs/wire.md is the format, sdk/sos_wire.h the runtime.\n"
      " *\n"
      " * Every struct S below has\n"
      " *   int S_encode(const S *m, sos_wbuf *w);\n"
      " *       appends m's wire form to w; returns 0, or w's status:\n"
      " *       SOS_STATUS_INVALID for a value the wire cannot carry (invalid UTF-8,\n"
      " *       a union case that is none of its tags), SOS_STATUS_TOO_BIG.\n"
      " *   int S_decode(S *m, const void *p, size_t n, sos_arena *a);\n"
      " *       reads the n bytes at p into *m.  Text and bytes point into p (keep\n"
      " *       it alive while you use them), lists come from a (NULL: the\n"
      " *       request's arena, sos_wire_arena()).  Returns 0, or\n"
      " *       SOS_STATUS_INVALID for malformed bytes (then *m is all zero),\n"
      " *       SOS_STATUS_TOO_BIG; sos_wire_error() says where and why.\n"
      " * A field at its zero value is not sent; an optional field is sent when\n"
      " * its has_NAME is true; of a union NAME, the variant whose tag is in\n"
      " * NAME_case (0: none).\n"
      " *\n"
      " * Every interface I has a handle type I, made by I_at(\"service\"), and\n"
      " * for each method m(Req) -> Resp:\n"
      " *   int I_m(I s, const Req *req, Resp *resp, sos_arena *a);\n"
      " *       calls s.m and waits.  Returns the call's status: 0 with *resp\n"
      " *       decoded (into a, as S_decode), SOS_STATUS_ERROR for an error the\n"
      " *       interface declares, another status for other failures; for both,\n"
      " *       sos_wire_last_error() gives the code, name and message.\n"
      " *   int I_m_start(I s, const Req *req);\n"
      " *       starts the call: a handle (> 0) for sos_await_any/all, or -status.\n"
      " *       sos_close(handle) cancels it.\n"
      " *   int I_m_finish(int handle, Resp *resp, sos_arena *a);\n"
      " *       the outcome of a finished call, as I_m; SOS_STATUS_PENDING while\n"
      " *       it runs.  Closes the handle otherwise.\n"
      " * For an interface that a service of the app implements, the app defines\n"
      " *   int I_m_serve(const Req *req, Resp *resp, sos_arena *a);\n"
      " *       which fills *resp (zeroed before) and returns 0, or returns one of\n"
      " *       I's error codes, with `return sos_wire_fail(I_not_found, \"...\")`\n"
      " *       to give the message (or -SOS_STATUS_x to fail with that call status\n"
      " *       instead, say -SOS_STATUS_TOO_BIG when memory runs out).  a holds\n"
      " *       what it allocates for *resp (sos_arena_alloc) and is reset after\n"
      " *       the request.  sos_main calls I_register() to register the methods.\n"
      " */\n",
      a);
}

/* "GREETER_SOS_H" for app greeter, in buf. */
static void guard_name(const char *app, char *buf, size_t n) {
  snprintf(buf, n, "%s_SOS_H", app);
  for (char *p = buf; *p; p++) {
    if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A');
    else if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))) *p = '_';
  }
}

static void header_enum(struct gen *g, uint32_t i) {
  const struct sos_app_enum *e = &g->app->enums[i];
  const char *en = g->ename[i];
  char origin[200], name[300];
  snprintf(origin, sizeof origin, "enum %s", e->name);
  sos_buf_fmt(&g->h, "\n/*\n * enum %s {  (package %s)\n", e->name,
                   e->package ? e->package : "?");
  for (uint32_t k = 0; k < e->nvalues; k++)
    sos_buf_fmt(&g->h, " *   %s = %u\n", e->values[k].name, e->values[k].value);
  sos_buf_fmt(&g->h, " * }\n */\ntypedef enum %s {\n", en);
  for (uint32_t k = 0; k < e->nvalues; k++) {
    char *v = c_join(g, en, e->values[k].name);
    if (!v) return;
    sos_buf_fmt(&g->h, "  %s = %u,\n", v, e->values[k].value);
    snprintf(name, sizeof name, "value %s of enum %s", e->values[k].name, e->name);
    declare(g, v, name);
    sos_free(v);
  }
  sos_buf_fmt(
      &g->h,
      "  /* keeps the type 32 bits wide: a number this reader does not declare\n"
      "     is kept as it is */\n"
      "  %s__MAX = 2147483647\n"
      "} %s;\n",
      en, en);
  sos_buf_fmt(&g->h, "_Static_assert(sizeof(%s) == 4, \"%s holds 32 bits\");\n", en,
                   en);
  sos_buf_fmt(&g->h, "typedef struct %s_list { %s *items; uint32_t n; } %s_list;\n",
                   en, en, en);
  sos_buf_fmt(
      &g->h,
      "/* The name of value v (\"%s\"), or NULL for a number %s does not declare. */\n",
      e->nvalues ? e->values[0].name : "", e->name);
  sos_buf_fmt(&g->h, "const char *%s_name(%s v);\n", en, en);
  declare(g, en, origin);
  snprintf(name, sizeof name, "%s__MAX", en);
  declare(g, name, origin);
  snprintf(name, sizeof name, "%s_list", en);
  declare(g, name, origin);
  snprintf(name, sizeof name, "%s_name", en);
  declare(g, name, origin);
}

/* ---- the header: structs ------------------------------------------------------------- */

/* The IDL text of struct st, as a comment. */
static void quote_struct(struct gen *g, const struct sos_app_struct *st) {
  sos_buf_fmt(&g->h, "\n/*\n * struct %s {  (package %s)\n", st->name,
                   st->package ? st->package : "?");
  for (uint32_t k = 0; k < st->nfields; k++) {
    const struct sos_app_field *f = &st->fields[k];
    struct fld x;
    if (field_info(g, st, f, &x)) return;
    if (!f->group) {
      sos_buf_fmt(&g->h, " *   %s\n", x.decl);
      continue;
    }
    bool first = true; /* a union is quoted whole at its first variant */
    for (uint32_t j = 0; j < k; j++) first = first && st->fields[j].group != f->group;
    if (!first) continue;
    sos_buf_fmt(&g->h, " *   union %s {\n", st->unions[f->group - 1]);
    for (uint32_t j = k; j < st->nfields; j++)
      if (st->fields[j].group == f->group)
        sos_buf_fmt(&g->h, " *     %s: %s = %u\n", st->fields[j].name,
                         base_type(&st->fields[j]), st->fields[j].tag);
    sos_buf_str(&g->h, " *   }\n");
  }
  sos_buf_str(&g->h, " * }\n */\n");
}

/* The C members of one struct so far, to find two alike. */
struct members {
  char (*name)[128];
  uint32_t n, cap;
};

/* Adds a member name; fails when the struct has it already. */
static int add_member(struct gen *g, const struct sos_app_struct *st, struct members *ms,
                      const char *name) {
  for (uint32_t i = 0; i < ms->n; i++)
    if (strcmp(ms->name[i], name) == 0)
      return fail(g, "struct %s: the C member %s would be declared twice; rename a field",
                  st->name, name);
  if (ms->n == ms->cap) {
    uint32_t cap = ms->cap ? ms->cap * 2 : 16;
    char(*p)[128] = sos_realloc(ms->name, cap * sizeof *p);
    if (!p) {
      g->oom = true;
      return 0;
    }
    ms->name = p;
    ms->cap = cap;
  }
  snprintf(ms->name[ms->n++], sizeof ms->name[0], "%s", name);
  return 0;
}

/* One member line: the declaration, then its comment at a column. */
static void member_line(struct gen *g, const char *indent, const char *type,
                        const char *name, const char *comment) {
  char decl[300];
  snprintf(decl, sizeof decl, "%s%s %s;", indent, type, name);
  sos_buf_fmt(&g->h, "%-36s /* %s */\n", decl, comment);
}

/* The C union of union group grp of st, with its _case member. */
static void union_members(struct gen *g, const struct sos_app_struct *st, uint16_t grp,
                          struct members *ms) {
  char uni[96], comment[200], tb[200], mem[128];
  member(st->unions[grp - 1], uni, sizeof uni);
  snprintf(comment, sizeof comment, "union %s: 0, or the tag of the variant set",
           st->unions[grp - 1]);
  snprintf(mem, sizeof mem, "%s_case", uni);
  add_member(g, st, ms, mem);
  add_member(g, st, ms, uni);
  member_line(g, "  ", "uint32_t", mem, comment);
  sos_buf_str(&g->h, "  union {\n");
  for (uint32_t k = 0; k < st->nfields; k++) {
    struct fld x;
    if (st->fields[k].group != grp || field_info(g, st, &st->fields[k], &x)) continue;
    member_line(g, "    ", member_type(g, &x, tb, sizeof tb), x.mem, x.decl);
  }
  sos_buf_fmt(&g->h, "  } %s;\n", uni);
}

/* The C members of one field that is not a union variant. */
static void field_members(struct gen *g, const struct fld *x, struct members *ms) {
  char tb[200], has[120], comment[200];
  if (x->opt) {
    snprintf(has, sizeof has, "has_%s", x->mem);
    snprintf(comment, sizeof comment, "whether %s is given", x->f->name);
    add_member(g, x->st, ms, has);
    member_line(g, "  ", "bool", has, comment);
  }
  add_member(g, x->st, ms, x->mem);
  member_line(g, "  ", member_type(g, x, tb, sizeof tb), x->mem, x->decl);
}

/* The #defines of the variants' tags, for NAME_case. */
static void union_tags(struct gen *g, uint32_t i) {
  const struct sos_app_struct *st = &g->app->structs[i];
  char name[400], origin[200];
  for (uint32_t k = 0; k < st->nfields; k++) {
    const struct sos_app_field *f = &st->fields[k];
    if (!f->group) continue;
    char *u = c_join(g, g->sname[i], st->unions[f->group - 1]);
    if (!u) return;
    snprintf(name, sizeof name, "%s_%s", u, f->name);
    for (char *p = name; *p; p++)
      if (*p == '-') *p = '_';
    sos_buf_fmt(&g->h, "#define %s %u /* %s.%s */\n", name, f->tag,
                     st->unions[f->group - 1], f->name);
    snprintf(origin, sizeof origin, "variant %s of union %s.%s", f->name, st->name,
             st->unions[f->group - 1]);
    declare(g, name, origin);
    sos_free(u);
  }
}

static void header_struct(struct gen *g, uint32_t i) {
  const struct sos_app_struct *st = &g->app->structs[i];
  const char *sn = g->sname[i];
  struct members members = {0}, *ms = &members;
  quote_struct(g, st);
  sos_buf_fmt(&g->h, "struct %s {\n", sn);
  for (uint32_t k = 0; k < st->nfields && !g->rc; k++) {
    const struct sos_app_field *f = &st->fields[k];
    struct fld x;
    if (field_info(g, st, f, &x)) break;
    bool first = true;
    for (uint32_t j = 0; j < k; j++) first = first && st->fields[j].group != f->group;
    if (!f->group) field_members(g, &x, ms);
    else if (first) union_members(g, st, f->group, ms);
  }
  if (!st->nfields)
    member_line(g, "  ", "uint8_t", "unused_", "C needs a member; always 0");
  sos_buf_str(&g->h, "};\n");
  union_tags(g, i);
  sos_buf_fmt(&g->h, "int %s_encode(const %s *m, sos_wbuf *w);\n", sn, sn);
  sos_buf_fmt(
      &g->h, "int %s_decode(%s *m, const void *p, size_t n, sos_arena *a);\n", sn, sn);
  sos_free(members.name);
}

/* The typedefs of every struct and its list type, before any definition. */
static void header_typedefs(struct gen *g) {
  char name[300], origin[200];
  if (!g->app->nstructs) return;
  sos_buf_str(&g->h, "\n/* ---- structs ---- */\n\n");
  for (uint32_t i = 0; i < g->app->nstructs; i++) {
    const char *sn = g->sname[i];
    sos_buf_fmt(&g->h, "typedef struct %s %s;\n", sn, sn);
    sos_buf_fmt(&g->h,
                     "typedef struct %s_list { %s *items; uint32_t n; } %s_list;\n", sn,
                     sn, sn);
    snprintf(origin, sizeof origin, "struct %s", g->app->structs[i].name);
    declare(g, sn, origin);
    static const char *const suffix[] = {"_list", "_encode", "_decode", "__write",
                                         "__read"};
    for (size_t k = 0; k < sizeof suffix / sizeof *suffix; k++) {
      snprintf(name, sizeof name, "%s%s", sn, suffix[k]);
      declare(g, name, origin);
    }
  }
}

/* ---- the header: interfaces ------------------------------------------------------------ */

/* Declares the C names of interface i (the handle, its errors, its
 * methods' stubs) for the collision check. */
static void declare_interface(struct gen *g, uint32_t i) {
  const struct sos_app_interface *it = &g->app->interfaces[i];
  const char *in = g->iname[i];
  char name[400], origin[300];
  static const char *const own[] = {"", "_at", "_error_name", "_register"};
  snprintf(origin, sizeof origin, "interface %s", it->name);
  for (size_t k = 0; k < sizeof own / sizeof *own; k++) {
    snprintf(name, sizeof name, "%s%s", in, own[k]);
    declare(g, name, origin);
  }
  for (uint32_t k = 0; k < it->nerrors; k++) {
    char *e = c_join(g, in, it->errors[k].name);
    snprintf(origin, sizeof origin, "error %s of interface %s", it->errors[k].name,
             it->name);
    if (e) declare(g, e, origin);
    sos_free(e);
  }
  static const char *const per[] = {"", "_start", "_finish", "_serve"};
  for (uint32_t k = 0; k < it->nmethods; k++) {
    char *m = c_join(g, in, it->methods[k].name);
    snprintf(origin, sizeof origin, "method %s of interface %s", it->methods[k].name,
             it->name);
    for (size_t j = 0; m && j < sizeof per / sizeof *per; j++) {
      snprintf(name, sizeof name, "%s%s", m, per[j]);
      declare(g, name, origin);
    }
    sos_free(m);
  }
}

/* The C names of method m of interface i: *mn (the caller frees it with
 * sos_free) and its request's and response's structs.  Returns false,
 * with the generator failed, when either is not a struct of the app or
 * memory runs out. */
static bool method_names(struct gen *g, uint32_t i, const struct sos_app_method *m,
                         char **mn, const char **req, const char **resp) {
  const struct sos_app_interface *it = &g->app->interfaces[i];
  int rq = find_struct(g->app, m->request), rs = find_struct(g->app, m->response);
  if (rq < 0 || rs < 0) {
    const char *missing = rq < 0 ? m->request : m->response;
    fail(g, "%s.%s: unknown %s struct %s", it->name, m->name,
         rq < 0 ? "request" : "response", missing ? missing : "(none)");
    return false;
  }
  *req = g->sname[rq];
  *resp = g->sname[rs];
  return (*mn = c_join(g, g->iname[i], m->name)) != NULL;
}

static void header_method(struct gen *g, uint32_t i, const struct sos_app_method *m) {
  const char *in = g->iname[i], *req, *resp;
  char *mn;
  if (!method_names(g, i, m, &mn, &req, &resp)) return;
  sos_buf_fmt(&g->h, "\n/* %s(%s) -> %s */\n", m->name, m->request, m->response);
  sos_buf_fmt(&g->h, "int %s(%s s, const %s *req, %s *resp, sos_arena *a);\n", mn,
                   in, req, resp);
  sos_buf_fmt(&g->h, "int %s_start(%s s, const %s *req);\n", mn, in, req);
  sos_buf_fmt(&g->h, "int %s_finish(int handle, %s *resp, sos_arena *a);\n", mn,
                   resp);
  if (g->served[i])
    sos_buf_fmt(&g->h,
                     "/* Defined by the app: */\nint %s_serve(const %s *req, %s *resp, "
                     "sos_arena *a);\n",
                     mn, req, resp);
  sos_free(mn);
}

static void header_interface(struct gen *g, uint32_t i) {
  const struct sos_app_interface *it = &g->app->interfaces[i];
  const char *in = g->iname[i];
  sos_buf_fmt(&g->h, "\n/*\n * interface %s {  (package %s)\n", it->name,
                   it->package ? it->package : "?");
  for (uint32_t k = 0; k < it->nmethods; k++)
    sos_buf_fmt(&g->h, " *   %s(%s) -> %s\n", it->methods[k].name,
                     it->methods[k].request, it->methods[k].response);
  for (uint32_t k = 0; k < it->nerrors; k++)
    sos_buf_fmt(&g->h, " *   error %s = %u\n", it->errors[k].name,
                     it->errors[k].code);
  sos_buf_str(&g->h, " * }\n */\n");
  sos_buf_fmt(&g->h, "typedef struct %s { const char *service; } %s;\n", in, in);
  sos_buf_fmt(&g->h,
                   "/* The %s service named service (NUL-terminated, borrowed). */\n",
                   it->name);
  sos_buf_fmt(&g->h,
                   "static inline %s %s_at(const char *service) {\n  %s s = {service};\n "
                   " return s;\n}\n",
                   in, in, in);
  sos_buf_fmt(
      &g->h,
      "/* Discovery: the %s service named service, after the node confirms it\n"
      " * implements %s and (requirement not NULL) its app's version meets\n"
      " * requirement, e.g. \">=1.2\".  0, or a status with sos_wire_last_error(). */\n",
      it->name, it->name);
  sos_buf_fmt(&g->h,
                   "static inline int %s_service(const char *service, const char "
                   "*requirement, %s *s) {\n"
                   "  int rc = sos_service_find(service, requirement, \"%s\");\n"
                   "  if (rc == 0) s->service = service;\n  return rc;\n}\n",
                   in, in, it->name);
  if (it->nerrors) {
    sos_buf_str(&g->h, "/* Its declared errors (Error.code). */\nenum {\n");
    for (uint32_t k = 0; k < it->nerrors; k++) {
      char *e = c_join(g, in, it->errors[k].name);
      if (e) sos_buf_fmt(&g->h, "  %s = %u,\n", e, it->errors[k].code);
      sos_free(e);
    }
    sos_buf_str(&g->h, "};\n");
  }
  sos_buf_fmt(
      &g->h, "/* The name of error code (\"%s\"), or NULL when %s declares none. */\n",
      it->nerrors ? it->errors[0].name : "", it->name);
  sos_buf_fmt(&g->h, "const char *%s_error_name(uint32_t code);\n", in);
  for (uint32_t k = 0; k < it->nmethods && !g->rc; k++)
    header_method(g, i, &it->methods[k]);
  if (g->served[i])
    sos_buf_fmt(
        &g->h,
        "/* Registers %s's methods with sos_method; call it in sos_main. */\n"
        "void %s_register(void);\n",
        it->name, in);
  declare_interface(g, i);
}

static void gen_header(struct gen *g) {
  char guard[300];
  guard_name(g->app->name, guard, sizeof guard);
  header_intro(g);
  sos_buf_fmt(&g->h, "#ifndef %s\n#define %s\n\n#include \"sos_wire.h\"\n", guard,
                   guard);
  if (g->app->nenums) sos_buf_str(&g->h, "\n/* ---- enums ---- */\n");
  for (uint32_t i = 0; i < g->app->nenums; i++) header_enum(g, i);
  header_typedefs(g);
  for (uint32_t i = 0; i < g->norder && !g->rc; i++) header_struct(g, g->order[i]);
  if (g->app->ninterfaces) sos_buf_str(&g->h, "\n/* ---- interfaces ---- */\n");
  for (uint32_t i = 0; i < g->app->ninterfaces && !g->rc; i++) header_interface(g, i);
  sos_buf_fmt(&g->h, "\n#endif\n");
}

/* ---- the source: encoders --------------------------------------------------------------- */

/* How the encoder writes one field x whose value is reached by x->acc;
 * `cond` is the test that it is to be written. */
static void write_field(struct gen *g, const struct fld *x, const char *cond) {
  struct sos_buf *o = &g->c;
  const char *a = x->acc;
  uint32_t tag = x->f->tag;
  char key[120];
  snprintf(key, sizeof key, "SOS_WIRE_KEY(%u, %s)", tag, x->wire);
  sos_buf_fmt(o, "  /* %s */\n", x->decl);
  if (x->list && x->type == SOS_APP_T_STRUCT) {
    sos_buf_fmt(o, "  if (%s.n) {\n", a);
    sos_buf_fmt(
        o,
        "    if (depth >= SOS_WIRE_MAX_DEPTH) return sos_wire_enc_too_deep(w, \"%s\");\n",
        x->what);
    sos_buf_fmt(o, "    size_t at = sos_wire_begin(w, %s);\n", key);
    sos_buf_fmt(o,
                     "    for (uint32_t i = 0; i < %s.n; i++) {\n      size_t item = "
                     "sos_wire_begin_item(w);\n",
                     a);
    sos_buf_fmt(
        o, "      if (%s__write(&%s.items[i], w, depth + 1)) return w->status;\n",
        g->sname[x->ref], a);
    sos_buf_str(o, "      sos_wire_end_item(w, item);\n    }\n    sos_wire_end(w, "
                        "at, true);\n  }\n");
  } else if (x->list) {
    sos_buf_fmt(o, "  if (%s.n && sos_wire_put_list(w, %s, %s, %s.items, %s.n))\n",
                     a, key, kinds[x->type].t, a, a);
    sos_buf_fmt(o, "    return sos_wire_enc_bad(w, \"%s\");\n", x->what);
  } else if (x->type == SOS_APP_T_STRUCT) {
    bool always = x->opt || x->variant; /* written even when empty */
    if (!always) sos_buf_str(o, "  {\n");
    else sos_buf_fmt(o, "  if (%s) {\n", cond);
    if (always)
      sos_buf_fmt(o,
                       "    if (depth >= SOS_WIRE_MAX_DEPTH) return "
                       "sos_wire_enc_too_deep(w, \"%s\");\n",
                       x->what);
    sos_buf_fmt(o, "    size_t at = sos_wire_begin(w, %s);\n", key);
    sos_buf_fmt(o, "    if (%s__write(&%s, w, depth + 1)) return w->status;\n",
                     g->sname[x->ref], a);
    sos_buf_fmt(o, "    sos_wire_end(w, at, %s);\n", always ? "true" : "false");
    if (!always) /* an empty struct is not written: only a written one is a level */
      sos_buf_fmt(o,
                       "    if (depth >= SOS_WIRE_MAX_DEPTH && w->len != at)\n"
                       "      return sos_wire_enc_too_deep(w, \"%s\");\n",
                       x->what);
    sos_buf_str(o, "  }\n");
  } else if (x->type == SOS_APP_T_TEXT || x->type == SOS_APP_T_BYTES ||
             x->type == SOS_APP_T_ENUM) {
    const char *fn = x->type == SOS_APP_T_TEXT    ? "text"
                     : x->type == SOS_APP_T_BYTES ? "bytes"
                                                  : "enum";
    sos_buf_fmt(o, "  if (%s && sos_wire_put_%s(w, %s, %s%s))\n", cond, fn, key,
                     x->type == SOS_APP_T_ENUM ? "(int64_t)" : "", a);
    sos_buf_fmt(o, "    return sos_wire_enc_bad(w, \"%s\");\n", x->what);
  } else {
    const char *fn = x->type == SOS_APP_T_F32                              ? "f32"
                     : x->type == SOS_APP_T_F64                            ? "f64"
                     : x->type >= SOS_APP_T_I8 && x->type <= SOS_APP_T_I64 ? "sint"
                                                                           : "varint";
    sos_buf_fmt(o, "  if (%s) sos_wire_put_%s(w, %s, %s);\n", cond, fn, key, a);
  }
}

/* The test that field x is to be written: set for optional fields and
 * variants, not zero for the others (floats by their bits: -0.0 is
 * written). */
static void write_cond(const struct fld *x, char *buf, size_t n) {
  if (x->variant) snprintf(buf, n, "m->%s_case == %u", x->uni, x->f->tag);
  else if (x->opt) snprintf(buf, n, "m->has_%s", x->mem);
  else if (x->type == SOS_APP_T_F32) snprintf(buf, n, "sos_wire_f32_bits(%s)", x->acc);
  else if (x->type == SOS_APP_T_F64) snprintf(buf, n, "sos_wire_f64_bits(%s)", x->acc);
  else if (x->type == SOS_APP_T_TEXT || x->type == SOS_APP_T_BYTES)
    snprintf(buf, n, "%s.len", x->acc);
  else if (x->type == SOS_APP_T_STRUCT) snprintf(buf, n, "1");
  else snprintf(buf, n, "%s", x->acc);
}

/* Checks at the top of the encoder that each union's case is 0 or one of
 * its variants' tags. */
static void write_case_checks(struct gen *g, const struct sos_app_struct *st) {
  for (uint32_t u = 1; u <= st->nunions; u++) {
    char uni[96];
    member(st->unions[u - 1], uni, sizeof uni);
    sos_buf_fmt(&g->c, "  switch (m->%s_case) {\n  case 0:\n", uni);
    for (uint32_t k = 0; k < st->nfields; k++)
      if (st->fields[k].group == u)
        sos_buf_fmt(&g->c, "  case %u:\n", st->fields[k].tag);
    sos_buf_fmt(&g->c,
                     "    break;\n  default:\n    return sos_wire_enc_bad_case(w, "
                     "\"%s.%s\", m->%s_case);\n  }\n",
                     st->name, st->unions[u - 1], uni);
  }
}

static void source_writer(struct gen *g, uint32_t i) {
  const struct sos_app_struct *st = &g->app->structs[i];
  const char *sn = g->sname[i];
  bool nests = false; /* whether depth is used */
  for (uint32_t k = 0; k < st->nfields; k++)
    nests |= st->fields[k].type == SOS_APP_T_STRUCT;
  sos_buf_fmt(
      &g->c, "\nstatic int %s__write(const %s *m, sos_wbuf *w, int depth) {\n", sn, sn);
  if (!nests) sos_buf_str(&g->c, "  (void)depth;\n");
  if (!st->nfields) sos_buf_str(&g->c, "  (void)m;\n");
  write_case_checks(g, st);
  for (uint32_t k = 0; k < st->nfields && !g->rc; k++) {
    struct fld x;
    char cond[300];
    if (field_info(g, st, &st->fields[k], &x)) return;
    write_cond(&x, cond, sizeof cond);
    write_field(g, &x, cond);
  }
  sos_buf_str(&g->c, "  return w->status;\n}\n");
  sos_buf_fmt(&g->c,
                   "\nint %s_encode(const %s *m, sos_wbuf *w) {\n  %s__write(m, w, 1);\n "
                   " return w->status;\n}\n",
                   sn, sn, sn);
}

/* ---- the source: decoders ----------------------------------------------------------------- */

/* What a decoder's body needs declared. */
struct needs {
  bool v, s, q, items, rc, depth;
};

/* How the decoder reads field x (its case of the key switch). */
static void read_field(struct gen *g, const struct fld *x, struct sos_buf *o,
                       struct needs *nd) {
  const char *a = x->acc;
  sos_buf_fmt(o, "    case SOS_WIRE_KEY(%u, %s): /* %s */\n", x->f->tag, x->wire,
                   x->decl);
  if (x->list && x->type == SOS_APP_T_STRUCT) {
    const char *en = g->sname[x->ref];
    nd->q = nd->items = nd->rc = nd->depth = true;
    sos_buf_fmt(o,
                     "      if (!(p = sos_wire_get_items(d, p, end, depth, sizeof(%s), "
                     "&q, &qn, &items, &n)))\n",
                     en);
    sos_buf_fmt(o, "        return sos_wire_bad(d, \"%s\");\n", x->what);
    sos_buf_fmt(o, "      %s.items = items;\n      %s.n = n;\n", a, a);
    sos_buf_str(o, "      for (uint32_t i = 0; i < n; i++) {\n        const uint8_t "
                        "*e;\n        size_t en;\n");
    sos_buf_str(
        o,
        "        q = sos_wire_get_len(d, q, p, &e, &en); /* counted: cannot fail */\n");
    sos_buf_fmt(o,
                     "        if ((rc = %s__read(&%s.items[i], e, e + en, d, depth + 1)) "
                     "!= 0) return rc;\n      }\n",
                     en, a);
  } else if (x->list) {
    nd->items = true;
    sos_buf_fmt(o,
                     "      if (!(p = sos_wire_get_list(d, p, end, %s, &items, &n)))\n",
                     kinds[x->type].t);
    sos_buf_fmt(o, "        return sos_wire_bad(d, \"%s\");\n", x->what);
    sos_buf_fmt(o, "      %s.items = items;\n      %s.n = n;\n", a, a);
  } else if (x->type == SOS_APP_T_STRUCT) {
    nd->q = nd->rc = nd->depth = true;
    sos_buf_fmt(o,
                     "      if (!(p = sos_wire_get_struct(d, p, end, depth, &q, &qn)))\n "
                     "       return sos_wire_bad(d, \"%s\");\n",
                     x->what);
    sos_buf_fmt(
        o, "      if ((rc = %s__read(&%s, q, q + qn, d, depth + 1)) != 0) return rc;\n",
        g->sname[x->ref], a);
  } else if (x->type >= SOS_APP_T_F32 && x->type <= SOS_APP_T_BYTES) {
    static const char *const fn[] = {"f32", "f64", "text", "bytes"};
    sos_buf_fmt(o,
                     "      if (!(p = sos_wire_get_%s(d, p, end, &%s)))\n        return "
                     "sos_wire_bad(d, \"%s\");\n",
                     fn[x->type - SOS_APP_T_F32], a, x->what);
  } else if (x->type >= SOS_APP_T_I8 && x->type <= SOS_APP_T_I64) {
    nd->s = true;
    sos_buf_fmt(o,
                     "      if (!(p = sos_wire_get_sint(d, p, end, %s, &s)))\n        "
                     "return sos_wire_bad(d, \"%s\");\n",
                     kinds[x->type].t, x->what);
    sos_buf_fmt(o, "      %s = (%s)s;\n", a, x->ctype);
  } else {
    nd->v = true;
    sos_buf_fmt(o,
                     "      if (!(p = sos_wire_get_uint(d, p, end, %s, &v)))\n        "
                     "return sos_wire_bad(d, \"%s\");\n",
                     kinds[x->type].t, x->what);
    if (x->type == SOS_APP_T_BOOL) sos_buf_fmt(o, "      %s = v != 0;\n", a);
    else sos_buf_fmt(o, "      %s = (%s)v;\n", a, x->ctype);
  }
  if (x->opt) sos_buf_fmt(o, "      m->has_%s = true;\n", x->mem);
  if (x->variant) sos_buf_fmt(o, "      m->%s_case = %u;\n", x->uni, x->f->tag);
  sos_buf_str(o, "      break;\n");
}

/* The cases of the known tags met with another wire type than theirs. */
static void read_wrong_types(struct gen *g, const struct sos_app_struct *st,
                             struct sos_buf *o) {
  sos_buf_str(
      o, "      switch (key >> 3) { /* a known tag with another wire type */\n");
  for (uint32_t k = 0; k < st->nfields; k++) {
    struct fld x;
    if (field_info(g, st, &st->fields[k], &x)) return;
    sos_buf_fmt(o,
                     "      case %u:\n        return sos_wire_wrong_type(d, at, key, "
                     "\"%s\", \"%s%s\", %s);\n",
                     x.f->tag, x.what, x.list ? "a list of " : "", base_type(x.f),
                     x.wire);
  }
  sos_buf_str(o, "      }\n");
}

/* The declarations a decoder's body needs. */
static void read_locals(struct sos_buf *o, const struct needs *nd) {
  sos_buf_str(o, "  uint64_t key;\n  const uint8_t *at;\n");
  if (nd->v) sos_buf_str(o, "  uint64_t v;\n");
  if (nd->s) sos_buf_str(o, "  int64_t s;\n");
  if (nd->q) sos_buf_str(o, "  const uint8_t *q;\n  size_t qn;\n");
  if (nd->items) sos_buf_str(o, "  void *items;\n  uint32_t n;\n");
  if (nd->rc) sos_buf_str(o, "  int rc;\n");
}

static void source_reader(struct gen *g, uint32_t i) {
  const struct sos_app_struct *st = &g->app->structs[i];
  const char *sn = g->sname[i];
  struct sos_buf body = {0};
  struct needs nd = {0};
  for (uint32_t k = 0; k < st->nfields && !g->rc; k++) {
    struct fld x;
    if (field_info(g, st, &st->fields[k], &x)) break;
    read_field(g, &x, &body, &nd);
  }
  if (st->nfields) sos_buf_str(&body, "    default:\n");
  else sos_buf_str(&body, "    default: /* no fields: every tag is unknown */\n");
  if (st->nfields) read_wrong_types(g, st, &body);
  sos_buf_fmt(&body,
                   "      if (!(p = sos_wire_skip(d, at, p, end, key))) return "
                   "sos_wire_bad(d, \"%s\");\n",
                   st->name);
  sos_buf_str(&body, "    }\n  }\n  return 0;\n}\n");
  sos_buf_fmt(&g->c,
                   "\nstatic int %s__read(%s *m, const uint8_t *p, const uint8_t *end, "
                   "sos_wire_dec *d,\n",
                   sn, sn);
  sos_buf_fmt(&g->c, "%*sint depth) {\n", (int)(strlen(sn) + 18), "");
  read_locals(&g->c, &nd);
  if (!nd.depth) sos_buf_str(&g->c, "  (void)depth;\n");
  sos_buf_str(&g->c,
                   "  memset(m, 0, sizeof *m);\n  while (p < end) {\n    at = p;\n");
  sos_buf_fmt(&g->c,
                   "    if (!(p = sos_wire_get_varint(d, p, end, &key))) return "
                   "sos_wire_bad(d, \"%s\");\n",
                   st->name);
  sos_buf_str(&g->c, "    switch (key) {\n");
  if (body.rc) g->oom = true;
  else sos_buf_add(&g->c, body.p, body.len);
  sos_free(body.p);
  sos_buf_fmt(
      &g->c, "\nint %s_decode(%s *m, const void *p, size_t n, sos_arena *a) {\n", sn, sn);
  sos_buf_str(&g->c, "  sos_wire_dec d;\n  sos_wire_dec_init(&d, p, a);\n");
  sos_buf_fmt(&g->c, "  int rc = %s__read(m, d.start, d.start + n, &d, 1);\n", sn);
  sos_buf_str(&g->c, "  if (rc) memset(m, 0, sizeof *m); /* nothing partly decoded "
                          "is used */\n  return rc;\n}\n");
}

/* ---- the source: enums and interfaces ------------------------------------------------------ */

static void source_enum(struct gen *g, uint32_t i) {
  const struct sos_app_enum *e = &g->app->enums[i];
  sos_buf_fmt(&g->c, "\nconst char *%s_name(%s v) {\n  switch ((uint32_t)v) {\n",
                   g->ename[i], g->ename[i]);
  for (uint32_t k = 0; k < e->nvalues; k++)
    sos_buf_fmt(&g->c, "  case %u: return \"%s\";\n", e->values[k].value,
                     e->values[k].name);
  sos_buf_str(&g->c, "  default: return NULL;\n  }\n}\n");
}

/* The client stubs of method m of interface i. */
static void source_client(struct gen *g, uint32_t i, const struct sos_app_method *m) {
  const char *in = g->iname[i], *req, *resp;
  char *mn;
  if (!method_names(g, i, m, &mn, &req, &resp)) return;
  struct sos_buf *o = &g->c;
  sos_buf_fmt(o, "\nint %s_start(%s s, const %s *req) {\n", mn, in, req);
  sos_buf_str(o, "  uint8_t stack[SOS_WIRE_STACK];\n  sos_wbuf w;\n  "
                      "sos_wbuf_init(&w, stack, sizeof stack);\n");
  sos_buf_fmt(o, "  int rc = %s_encode(req, &w);\n", req);
  sos_buf_fmt(
      o, "  int handle = rc ? -rc : sos_call_async(s.service, \"%s\", w.p, w.len, 0);\n",
      m->name);
  sos_buf_str(o, "  sos_wbuf_free(&w);\n"
                      "  if (handle < 0) sos_wire_note(-handle, rc ? sos_wire_error() : "
                      "sos_status_text(-handle));\n"
                      "  return handle;\n}\n");
  sos_buf_fmt(o, "\nint %s_finish(int handle, %s *resp, sos_arena *a) {\n", mn,
                   resp);
  sos_buf_str(
      o, "  const char *body;\n  size_t len;\n  int status = sos_wire_result(handle, a, "
         "&body, &len);\n"
         "  if (status == SOS_STATUS_PENDING) {\n    memset(resp, 0, sizeof *resp);\n"
         "    return status;\n  }\n  sos_close(handle);\n"
         "  if ((status = sos_wire_outcome(status, body, len)) != 0) {\n"
         "    memset(resp, 0, sizeof *resp);\n    return status;\n  }\n");
  sos_buf_fmt(o,
                   "  if ((status = %s_decode(resp, body, len, a)) != 0) "
                   "sos_wire_note(status, sos_wire_error());\n",
                   resp);
  sos_buf_str(o, "  return status;\n}\n");
  sos_buf_fmt(o, "\nint %s(%s s, const %s *req, %s *resp, sos_arena *a) {\n", mn, in,
                   req, resp);
  sos_buf_fmt(o, "  int handle = %s_start(s, req);\n", mn);
  sos_buf_str(o, "  if (handle < 0) {\n    memset(resp, 0, sizeof *resp);\n    "
                      "return -handle;\n  }\n"
                      "  int rc = sos_await_all(&handle, 1, SOS_FOREVER);\n"
                      "  if (rc < 0) {\n"
                      "    sos_close(handle);\n"
                      "    sos_wire_note(-rc, sos_status_text(-rc));\n"
                      "    memset(resp, 0, sizeof *resp);\n"
                      "    return -rc;\n  }\n");
  sos_buf_fmt(o, "  return %s_finish(handle, resp, a);\n}\n", mn);
  sos_free(mn);
}

/* The server handler of method m of interface i. */
static void source_handler(struct gen *g, uint32_t i, const struct sos_app_method *m) {
  const struct sos_app_interface *it = &g->app->interfaces[i];
  const char *in = g->iname[i], *req, *resp;
  char *mn;
  if (!method_names(g, i, m, &mn, &req, &resp)) return;
  struct sos_buf *o = &g->c;
  sos_buf_fmt(o, "\n/* %s.%s: decodes the request, calls %s_serve, answers. */\n",
                   it->name, m->name, mn);
  sos_buf_fmt(o, "static int %s__handle(const struct sos_request *r) {\n", mn);
  sos_buf_fmt(o, "  sos_arena *a = sos_wire_arena();\n  %s req;\n  %s resp;\n", req,
                   resp);
  sos_buf_fmt(o, "  int rc = %s_decode(&req, r->body, r->len, a);\n", req);
  sos_buf_fmt(
      o, "  if (rc) {\n    rc = sos_fail(rc, \"%s.%s: %%s\", sos_wire_error());\n",
      it->name, m->name);
  sos_buf_str(
      o, "  } else {\n    memset(&resp, 0, sizeof resp);\n    sos_wire_fail_clear();\n");
  sos_buf_fmt(o, "    rc = %s_serve(&req, &resp, a);\n", mn);
  sos_buf_fmt(
      o, "    if (rc) rc = %s__fail(\"%s.%s\", rc, %s_error_name((uint32_t)rc));\n",
      g->prefix, it->name, m->name, in);
  sos_buf_fmt(o, "    else rc = %s__reply(\"%s.%s\", %s_encode(&resp, &answer));\n",
                   g->prefix, it->name, m->name, resp);
  sos_buf_str(o, "  }\n  sos_arena_reset(a);\n  return rc;\n}\n");
  sos_free(mn);
}

/* The source's own helpers for the server handlers. */
static void source_server_helpers(struct gen *g) {
  const char *p = g->prefix;
  sos_buf_fmt(
      &g->c,
      "\n/* The response being encoded: one at a time, as requests are. */\n"
      "static uint8_t answer_stack[SOS_WIRE_STACK];\n"
      "static sos_wbuf answer = {answer_stack, 0, sizeof answer_stack, false, 0};\n"
      "\n/* Sends the encoded response in answer (rc 0) or says why it did not\n"
      " * encode (TOO_BIG stays TOO_BIG; a bad value is the service's ERROR);\n"
      " * empties answer. */\n"
      "static int %s__reply(const char *what, int rc) {\n"
      "  if (rc)\n"
      "    rc = sos_fail(rc == SOS_STATUS_TOO_BIG ? rc : SOS_STATUS_ERROR,\n"
      "                  \"%%s: the response does not encode: %%s\", what, "
      "sos_wire_error());\n"
      "  else rc = sos_respond(answer.p, answer.len);\n"
      "  if (answer.heap) {\n"
      "    sos_wbuf_free(&answer);\n"
      "    sos_wbuf_init(&answer, answer_stack, sizeof answer_stack);\n"
      "  }\n"
      "  sos_wbuf_clear(&answer);\n"
      "  return rc;\n"
      "}\n"
      "\n/* Answers with the Error struct of declared error code (name); fails\n"
      " * with status -code for a negative code, and plainly for a code the\n"
      " * interface does not declare. */\n"
      "static int %s__fail(const char *what, int code, const char *name) {\n"
      "  if (code < 0 && code > -65536)\n"
      "    return sos_fail(-code, \"%%s: %%s\", what,\n"
      "                    *sos_wire_fail_message() ? sos_wire_fail_message() : "
      "sos_status_text(-code));\n"
      "  if (!name)\n"
      "    return sos_fail(SOS_STATUS_ERROR, \"%%s: undeclared error code %%d: %%s\", "
      "what, code,\n"
      "                    sos_wire_fail_message());\n"
      "  int rc = sos_wire_error_encode(&answer, (uint32_t)code, name, "
      "sos_wire_fail_message());\n"
      "  rc = %s__reply(what, rc);\n"
      "  return rc ? rc : SOS_STATUS_ERROR;\n"
      "}\n",
      p, p, p);
  char name[300];
  snprintf(name, sizeof name, "%s__reply", p);
  declare(g, name, "the generated code's own helpers");
  snprintf(name, sizeof name, "%s__fail", p);
  declare(g, name, "the generated code's own helpers");
}

static void source_interface(struct gen *g, uint32_t i) {
  const struct sos_app_interface *it = &g->app->interfaces[i];
  const char *in = g->iname[i];
  sos_buf_fmt(&g->c, "\n/* ---- interface %s ---- */\n", it->name);
  sos_buf_fmt(&g->c, "\nconst char *%s_error_name(uint32_t code) {\n", in);
  if (!it->nerrors) sos_buf_str(&g->c, "  (void)code;\n  return NULL;\n}\n");
  else {
    sos_buf_str(&g->c, "  switch (code) {\n");
    for (uint32_t k = 0; k < it->nerrors; k++)
      sos_buf_fmt(&g->c, "  case %u: return \"%s\";\n", it->errors[k].code,
                       it->errors[k].name);
    sos_buf_str(&g->c, "  default: return NULL;\n  }\n}\n");
  }
  for (uint32_t k = 0; k < it->nmethods && !g->rc; k++)
    source_client(g, i, &it->methods[k]);
  if (!g->served[i]) return;
  char name[400];
  for (uint32_t k = 0; k < it->nmethods && !g->rc; k++) {
    source_handler(g, i, &it->methods[k]);
    char *mn = c_join(g, in, it->methods[k].name);
    snprintf(name, sizeof name, "%s__handle", mn ? mn : "");
    declare(g, name, "a method's server handler");
    sos_free(mn);
  }
  sos_buf_fmt(&g->c, "\nvoid %s_register(void) {\n", in);
  for (uint32_t k = 0; k < it->nmethods; k++) {
    char *mn = c_join(g, in, it->methods[k].name);
    if (mn)
      sos_buf_fmt(&g->c, "  sos_method(\"%s\", %s__handle);\n", it->methods[k].name,
                       mn);
    sos_free(mn);
  }
  sos_buf_str(&g->c, "}\n");
}

static bool any_served(const struct gen *g) {
  for (uint32_t i = 0; i < g->app->ninterfaces; i++)
    if (g->served[i]) return true;
  return false;
}

static void gen_source(struct gen *g) {
  const char *a = g->app->name;
  char what[200];
  snprintf(what, sizeof what, "the code behind %s.sos.h, which documents it.", a);
  file_top(g, &g->c, a, what);
  sos_buf_str(&g->c, " */\n");
  sos_buf_fmt(&g->c, "#include \"%s.sos.h\"\n\n#include <string.h>\n", a);
  if (g->app->ninterfaces) sos_buf_str(&g->c, "\n#include \"sos.h\"\n");
  for (uint32_t i = 0; i < g->app->nstructs; i++) {
    const char *sn = g->sname[i];
    if (i == 0) sos_buf_str(&g->c, "\n");
    sos_buf_fmt(
        &g->c, "static int %s__write(const %s *m, sos_wbuf *w, int depth);\n", sn, sn);
    sos_buf_fmt(&g->c,
                     "static int %s__read(%s *m, const uint8_t *p, const uint8_t *end, "
                     "sos_wire_dec *d,\n"
                     "%*sint depth);\n",
                     sn, sn, (int)(strlen(sn) + 18), "");
  }
  for (uint32_t i = 0; i < g->app->nenums; i++) source_enum(g, i);
  for (uint32_t i = 0; i < g->app->nstructs && !g->rc; i++) {
    sos_buf_fmt(&g->c, "\n/* ---- struct %s ---- */\n", g->app->structs[i].name);
    source_writer(g, i);
    source_reader(g, i);
  }
  if (any_served(g)) source_server_helpers(g);
  for (uint32_t i = 0; i < g->app->ninterfaces && !g->rc; i++) source_interface(g, i);
}

/* ---- the entry points ---------------------------------------------------------------------- */

bool sos_idl_gen_wanted(const struct sos_app *app) {
  return app && (app->nstructs || app->nenums || app->ninterfaces);
}

/* The longest IDL name the generator takes, so that every C name it
 * builds fits its buffers. */
#define MAX_NAME 64

/* Fails when name is longer than MAX_NAME bytes. */
static int check_name(struct gen *g, const char *what, const char *name) {
  if (name && strlen(name) > MAX_NAME)
    return fail(g, "%s %.20s...: names longer than %d bytes are not supported", what,
                name, MAX_NAME);
  return 0;
}

/* Checks the length of every name that goes into C. */
static int check_names(struct gen *g) {
  const struct sos_app *app = g->app;
  check_name(g, "app", app->name);
  for (uint32_t i = 0; i < app->nstructs; i++) {
    const struct sos_app_struct *st = &app->structs[i];
    check_name(g, "package", st->package);
    check_name(g, "struct", st->name);
    for (uint32_t k = 0; k < st->nfields; k++) check_name(g, "field", st->fields[k].name);
    for (uint32_t k = 0; k < st->nunions; k++) check_name(g, "union", st->unions[k]);
  }
  for (uint32_t i = 0; i < app->nenums; i++) {
    check_name(g, "package", app->enums[i].package);
    check_name(g, "enum", app->enums[i].name);
    for (uint32_t k = 0; k < app->enums[i].nvalues; k++)
      check_name(g, "enum value", app->enums[i].values[k].name);
  }
  for (uint32_t i = 0; i < app->ninterfaces; i++) {
    const struct sos_app_interface *it = &app->interfaces[i];
    check_name(g, "package", it->package);
    check_name(g, "interface", it->name);
    for (uint32_t k = 0; k < it->nmethods; k++)
      check_name(g, "method", it->methods[k].name);
    for (uint32_t k = 0; k < it->nerrors; k++) check_name(g, "error", it->errors[k].name);
  }
  return g->rc;
}

/* Allocates the per-declaration arrays and C names. */
static int gen_setup(struct gen *g) {
  const struct sos_app *app = g->app;
  uint32_t ns = app->nstructs, ne = app->nenums, ni = app->ninterfaces;
  g->sname = sos_calloc(ns + 1, sizeof *g->sname);
  g->ename = sos_calloc(ne + 1, sizeof *g->ename);
  g->iname = sos_calloc(ni + 1, sizeof *g->iname);
  g->served = sos_calloc(ni + 1, sizeof *g->served);
  g->order = sos_calloc(ns + 1, sizeof *g->order);
  g->mark = sos_calloc(ns + 1, 1);
  g->prefix = c_join(g, app->name ? app->name : "app", NULL);
  if (!g->sname || !g->ename || !g->iname || !g->served || !g->order || !g->mark ||
      !g->prefix)
    return SOS_ENOMEM;
  for (uint32_t i = 0; i < ns; i++)
    if (!(g->sname[i] =
              c_join(g, app->structs[i].package ? app->structs[i].package : app->name,
                     app->structs[i].name)))
      return SOS_ENOMEM;
  for (uint32_t i = 0; i < ne; i++)
    if (!(g->ename[i] =
              c_join(g, app->enums[i].package ? app->enums[i].package : app->name,
                     app->enums[i].name)))
      return SOS_ENOMEM;
  for (uint32_t i = 0; i < ni; i++)
    if (!(g->iname[i] = c_join(
              g, app->interfaces[i].package ? app->interfaces[i].package : app->name,
              app->interfaces[i].name)))
      return SOS_ENOMEM;
  for (uint32_t s = 0; s < app->nservices; s++) {
    int i = find_interface(app, app->services[s].implements);
    if (app->services[s].implements && i < 0)
      return fail(g, "service %s implements %s, which is not an interface of the app",
                  app->services[s].name, app->services[s].implements);
    if (i >= 0) g->served[i] = true;
  }
  return 0;
}

static void gen_clear(struct gen *g) {
  const struct sos_app *app = g->app;
  for (uint32_t i = 0; g->sname && i < app->nstructs; i++) sos_free(g->sname[i]);
  for (uint32_t i = 0; g->ename && i < app->nenums; i++) sos_free(g->ename[i]);
  for (uint32_t i = 0; g->iname && i < app->ninterfaces; i++) sos_free(g->iname[i]);
  for (uint32_t i = 0; i < g->ndecls; i++) {
    sos_free(g->decls[i].name);
    sos_free(g->decls[i].origin);
  }
  sos_free(g->decls);
  sos_free(g->sname);
  sos_free(g->ename);
  sos_free(g->iname);
  sos_free(g->served);
  sos_free(g->order);
  sos_free(g->mark);
  sos_free(g->prefix);
  sos_free(g->h.p);
  sos_free(g->c.p);
}

/* "NAME.sos.EXT" from sos_malloc, or NULL. */
static char *file_name(const char *app, const char *ext) {
  size_t n = strlen(app) + strlen(ext) + 6;
  char *s = sos_malloc(n);
  if (s) snprintf(s, n, "%s.sos.%s", app, ext);
  return s;
}

/* Moves the finished texts into out. */
static int gen_take(struct gen *g, struct sos_idl_gen *out) {
  out->header_name = file_name(g->app->name, "h");
  out->source_name = file_name(g->app->name, "c");
  if (!out->header_name || !out->source_name) return SOS_ENOMEM;
  int rc = sos_buf_finish(&g->h, &out->header, &out->header_len);
  if (rc == 0) rc = sos_buf_finish(&g->c, &out->source, &out->source_len);
  return rc;
}

int sos_idl_gen_c(const struct sos_app *app, struct sos_idl_gen *out, char *err,
                  size_t errlen) {
  memset(out, 0, sizeof *out);
  if (err && errlen) err[0] = 0;
  if (!app || !app->name) {
    if (err && errlen) snprintf(err, errlen, "no app to generate code for");
    return SOS_EINVAL;
  }
  struct gen g = {.app = app, .err = err, .errlen = errlen};
  int rc = check_names(&g) ? 0 : gen_setup(&g);
  if (!rc && !g.rc && !order_structs(&g)) {
    gen_header(&g);
    gen_source(&g);
    check_decls(&g);
  }
  if (!rc) rc = g.rc;
  if (!rc && (g.oom || g.h.rc || g.c.rc)) rc = SOS_ENOMEM;
  if (!rc) rc = gen_take(&g, out);
  if (rc == SOS_ENOMEM && err && errlen) snprintf(err, errlen, "out of memory");
  if (rc) sos_idl_gen_free(out);
  gen_clear(&g);
  return rc;
}

void sos_idl_gen_free(struct sos_idl_gen *g) {
  sos_free(g->header_name);
  sos_free(g->header);
  sos_free(g->source_name);
  sos_free(g->source);
  memset(g, 0, sizeof *g);
}

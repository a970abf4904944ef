/*
 * schema.c - compiling an app's types into a struct sos_idl, looking
 * things up in it, and the small helpers every file of src/idl shares (a
 * byte buffer, error messages).
 *
 * Compiling copies names and resolves every type name once, so that the
 * codec never compares strings on a hot path: a field of a struct or enum
 * type holds the type's index.  Lookups by name during compilation go
 * through temporary sorted arrays (O(log n) each), since a definition may
 * hold thousands of types.  Each struct gets two indexes over its fields:
 * by tag, a direct table when the tags are dense (tags no larger than
 * 4 * fields + 64, the usual 1, 2, 3 ...) and a sorted array searched by
 * halving otherwise; by name, a sorted array for reading JSON.
 *
 * Compilation also refuses what would make encoding loop for ever: a
 * struct containing itself by value.  A depth-first walk over the
 * non-list struct fields finds such a cycle and names its path.
 */
#include "idl/idl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared helpers ----------------------------------------------------------- */

int sos__idl_err(char *err, size_t errlen, int code, const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return code;
}


/* ---- sorted name tables ------------------------------------------------------- */

/* A name and the index of what it names, for sorting and searching. */
struct named {
  const char *name;
  uint32_t idx;
};

static int cmp_named(const void *a, const void *b) {
  return strcmp(((const struct named *)a)->name, ((const struct named *)b)->name);
}

/* The index named name in the sorted table t (n entries), or -1. */
static int32_t find_named(const struct named *t, uint32_t n, const char *name) {
  struct named key = {name, 0};
  const struct named *hit = n ? bsearch(&key, t, n, sizeof *t, cmp_named) : NULL;
  return hit ? (int32_t)hit->idx : -1;
}

/* A sorted table of the names of count items of size bytes at items,
 * each starting with its `char *name`.  NULL when out of memory. */
static struct named *name_table(const void *items, uint32_t count, size_t size) {
  struct named *t = sos_malloc((count ? count : 1) * sizeof *t);
  if (!t) return NULL;
  for (uint32_t i = 0; i < count; i++) {
    const char *const *name = (const char *const *)((const char *)items + i * size);
    t[i].name = *name ? *name : "";
    t[i].idx = i;
  }
  qsort(t, count, sizeof *t, cmp_named);
  return t;
}

/* ---- freeing ---------------------------------------------------------------------- */

static void free_struct(struct sos__idl_struct *st) {
  for (uint32_t i = 0; i < st->nfields; i++) sos_free(st->fields[i].name);
  for (uint32_t i = 0; i < st->nunions; i++) sos_free(st->unions[i]);
  sos_free(st->fields);
  sos_free(st->unions);
  sos_free(st->by_tag);
  sos_free(st->by_name);
  sos_free(st->name);
  sos_free(st->package);
}

static void free_interface(struct sos__idl_interface *in) {
  for (uint32_t i = 0; i < in->nmethods; i++) sos_free(in->methods[i].name);
  for (uint32_t i = 0; i < in->nerrors; i++) sos_free(in->errors[i].name);
  sos_free(in->methods);
  sos_free(in->errors);
  sos_free(in->name);
  sos_free(in->package);
}

void sos_idl_free(struct sos_idl *s) {
  if (!s) return;
  for (uint32_t i = 0; s->structs && i < s->nstructs; i++) free_struct(&s->structs[i]);
  for (uint32_t i = 0; s->enums && i < s->nenums; i++) {
    struct sos__idl_enum *e = &s->enums[i];
    for (uint32_t j = 0; j < e->nvalues; j++) sos_free(e->values[j].name);
    sos_free(e->values);
    sos_free(e->by_value);
    sos_free(e->name);
    sos_free(e->package);
  }
  for (uint32_t i = 0; s->interfaces && i < s->ninterfaces; i++)
    free_interface(&s->interfaces[i]);
  sos_free(s->structs);
  sos_free(s->enums);
  sos_free(s->interfaces);
  sos_free(s);
}

/* ---- copying ------------------------------------------------------------------------ */

/* A copy of s (NULL stays NULL); *ok becomes false when out of memory. */
static char *dup(const char *s, bool *ok) {
  if (!s) return NULL;
  char *d = sos_strndup(s, strlen(s));
  if (!d) *ok = false;
  return d;
}

/* The state of one compilation. */
struct build {
  const struct sos_app *app;
  struct sos_idl *s;
  struct named *struct_names, *enum_names;
  char *err;
  size_t errlen;
};

static uint8_t wire_of(uint8_t type, uint8_t flags) {
  if (flags & SOS_APP_F_LIST) return SOS__IDL_LEN;
  switch (type) {
  case SOS_APP_T_F32: return SOS__IDL_I32;
  case SOS_APP_T_F64: return SOS__IDL_I64;
  case SOS_APP_T_TEXT:
  case SOS_APP_T_BYTES:
  case SOS_APP_T_STRUCT: return SOS__IDL_LEN;
  default: return SOS__IDL_VARINT;
  }
}

/* Copies field f of struct as into *d, resolving its type name. */
static int copy_field(struct build *b, const struct sos_app_struct *as,
                      const struct sos_app_field *f, struct sos__idl_field *d) {
  bool ok = true;
  const char *sn = as->name ? as->name : "";
  d->name = dup(f->name ? f->name : "", &ok);
  if (!ok) return SOS_ENOMEM;
  d->tag = f->tag;
  d->type = f->type;
  d->flags = f->flags & (SOS_APP_F_LIST | SOS_APP_F_OPTIONAL);
  d->group = f->group;
  d->wire = wire_of(f->type, d->flags);
  d->ref = -1;
  if (f->type < SOS_APP_T_BOOL || f->type > SOS_APP_T_ENUM)
    return sos__idl_err(b->err, b->errlen, SOS_EINVAL, "%s.%s: unknown field type %u", sn,
                        d->name, f->type);
  if (f->tag < 1 || f->tag > SOS__IDL_MAX_TAG)
    return sos__idl_err(b->err, b->errlen, SOS_EINVAL, "%s.%s: tag %u is not in 1..65535",
                        sn, d->name, f->tag);
  if (f->group > as->nunions)
    return sos__idl_err(b->err, b->errlen, SOS_EINVAL, "%s.%s: no union %u", sn, d->name,
                        f->group);
  if (f->type == SOS_APP_T_STRUCT || f->type == SOS_APP_T_ENUM) {
    bool is_struct = f->type == SOS_APP_T_STRUCT;
    const char *tn = f->type_name ? f->type_name : "";
    d->ref = is_struct ? find_named(b->struct_names, b->app->nstructs, tn)
                       : find_named(b->enum_names, b->app->nenums, tn);
    if (d->ref < 0)
      return sos__idl_err(b->err, b->errlen, SOS_EINVAL, "%s.%s: unknown %s type %s", sn,
                          d->name, is_struct ? "struct" : "enum", tn);
  }
  return 0;
}

/* A field's index and its sort key (tag or name). */
struct keyed {
  uint32_t tag;
  const char *name;
  uint32_t idx;
};

static int cmp_tag(const void *a, const void *b) {
  uint32_t x = ((const struct keyed *)a)->tag, y = ((const struct keyed *)b)->tag;
  return x < y ? -1 : x > y;
}

static int cmp_fname(const void *a, const void *b) {
  return strcmp(((const struct keyed *)a)->name, ((const struct keyed *)b)->name);
}

/* Builds st's by-tag and by-name indexes; refuses repeated tags. */
static int index_fields(struct build *b, struct sos__idl_struct *st) {
  uint32_t n = st->nfields;
  struct keyed *k = sos_malloc((n ? n : 1) * sizeof *k);
  st->by_name = sos_malloc((n ? n : 1) * sizeof *st->by_name);
  if (!k || !st->by_name) {
    sos_free(k);
    return SOS_ENOMEM;
  }
  st->max_tag = 0;
  for (uint32_t i = 0; i < n; i++) {
    k[i] = (struct keyed){st->fields[i].tag, st->fields[i].name, i};
    if (st->fields[i].tag > st->max_tag) st->max_tag = st->fields[i].tag;
  }
  qsort(k, n, sizeof *k, cmp_fname);
  for (uint32_t i = 0; i < n; i++) st->by_name[i] = (uint16_t)k[i].idx;
  qsort(k, n, sizeof *k, cmp_tag);
  for (uint32_t i = 1; i < n; i++)
    if (k[i].tag == k[i - 1].tag) {
      int rc = sos__idl_err(b->err, b->errlen, SOS_EINVAL, "%s: fields %s and %s share tag %u",
                            st->name, st->fields[k[i - 1].idx].name, k[i].name, k[i].tag);
      sos_free(k);
      return rc;
    }
  st->dense = st->max_tag <= 4 * n + 64;
  size_t len = st->dense ? (size_t)st->max_tag + 1 : (n ? n : 1);
  st->by_tag = sos_calloc(len, sizeof *st->by_tag);
  if (!st->by_tag) {
    sos_free(k);
    return SOS_ENOMEM;
  }
  for (uint32_t i = 0; i < n; i++) {
    if (st->dense) st->by_tag[k[i].tag] = (uint16_t)(k[i].idx + 1);
    else st->by_tag[i] = (uint16_t)k[i].idx;
  }
  sos_free(k);
  return 0;
}

/* Copies struct as into *st. */
static int copy_struct(struct build *b, const struct sos_app_struct *as,
                       struct sos__idl_struct *st) {
  bool ok = true;
  st->name = dup(as->name ? as->name : "", &ok);
  st->package = dup(as->package, &ok);
  if (!ok) return SOS_ENOMEM;
  if (as->nfields > 65535)
    return sos__idl_err(b->err, b->errlen, SOS_EINVAL, "%s: too many fields", st->name);
  st->fields = sos_calloc(as->nfields ? as->nfields : 1, sizeof *st->fields);
  st->unions = sos_calloc(as->nunions ? as->nunions : 1, sizeof *st->unions);
  if (!st->fields || !st->unions) return SOS_ENOMEM;
  for (uint32_t i = 0; i < as->nunions; i++) {
    st->unions[i] = dup(as->unions[i] ? as->unions[i] : "", &ok);
    st->nunions = i + 1;
    if (!ok) return SOS_ENOMEM;
  }
  for (uint32_t i = 0; i < as->nfields; i++) {
    int rc = copy_field(b, as, &as->fields[i], &st->fields[i]);
    st->nfields = i + 1;
    if (rc) return rc;
  }
  return index_fields(b, st);
}

/* Copies enum ae into *e. */
static int copy_enum(const struct sos_app_enum *ae, struct sos__idl_enum *e) {
  bool ok = true;
  e->name = dup(ae->name ? ae->name : "", &ok);
  e->package = dup(ae->package, &ok);
  e->values = sos_calloc(ae->nvalues ? ae->nvalues : 1, sizeof *e->values);
  if (!ok || !e->values) return SOS_ENOMEM;
  for (uint32_t i = 0; i < ae->nvalues; i++) {
    e->values[i].name = dup(ae->values[i].name ? ae->values[i].name : "", &ok);
    e->values[i].value = ae->values[i].value;
    e->nvalues = i + 1;
    if (!ok) return SOS_ENOMEM;
  }
  struct keyed *k = sos_malloc((e->nvalues ? e->nvalues : 1) * sizeof *k);
  e->by_value = sos_malloc((e->nvalues ? e->nvalues : 1) * sizeof *e->by_value);
  if (!k || !e->by_value) {
    sos_free(k);
    return SOS_ENOMEM;
  }
  for (uint32_t i = 0; i < e->nvalues; i++)
    k[i] = (struct keyed){e->values[i].value, e->values[i].name, i};
  qsort(k, e->nvalues, sizeof *k, cmp_tag);
  for (uint32_t i = 0; i < e->nvalues; i++) e->by_value[i] = k[i].idx;
  sos_free(k);
  return 0;
}

/* Copies interface ai into *in, resolving its methods' structs. */
static int copy_interface(struct build *b, const struct sos_app_interface *ai,
                          struct sos__idl_interface *in) {
  bool ok = true;
  in->name = dup(ai->name ? ai->name : "", &ok);
  in->package = dup(ai->package, &ok);
  in->methods = sos_calloc(ai->nmethods ? ai->nmethods : 1, sizeof *in->methods);
  in->errors = sos_calloc(ai->nerrors ? ai->nerrors : 1, sizeof *in->errors);
  if (!ok || !in->methods || !in->errors) return SOS_ENOMEM;
  for (uint32_t i = 0; i < ai->nerrors; i++) {
    in->errors[i].name = dup(ai->errors[i].name ? ai->errors[i].name : "", &ok);
    in->errors[i].code = ai->errors[i].code;
    in->nerrors = i + 1;
    if (!ok) return SOS_ENOMEM;
  }
  for (uint32_t i = 0; i < ai->nmethods; i++) {
    const struct sos_app_method *m = &ai->methods[i];
    struct sos__idl_method *d = &in->methods[i];
    d->name = dup(m->name ? m->name : "", &ok);
    in->nmethods = i + 1;
    if (!ok) return SOS_ENOMEM;
    const char *names[2] = {m->request ? m->request : "", m->response ? m->response : ""};
    d->request = find_named(b->struct_names, b->app->nstructs, names[0]);
    d->response = find_named(b->struct_names, b->app->nstructs, names[1]);
    if (d->request < 0 || d->response < 0)
      return sos__idl_err(b->err, b->errlen, SOS_EINVAL, "%s.%s: unknown struct %s",
                          in->name, d->name, names[d->request < 0 ? 0 : 1]);
  }
  return 0;
}

/* ---- cycles ---------------------------------------------------------------------- */

/* Depth-first colours: 0 unseen, 1 on the current path, 2 done.  path
 * holds the fields taken to reach the current struct (for the message). */
struct walk {
  const struct sos_idl *s;
  uint8_t *colour;
  const struct sos__idl_field **path;
  uint32_t *from; /* struct of each path step */
  uint32_t depth;
};

/* Writes "struct A contains itself: A.b -> B.a -> A", the cycle closing
 * at struct target. */
static int cycle_error(struct walk *w, uint32_t target, char *err, size_t errlen) {
  struct sos_buf b = {0};
  uint32_t start = 0;
  while (start < w->depth && w->from[start] != target) start++;
  sos_buf_fmt(&b, "struct %s contains itself: ", w->s->structs[target].name);
  for (uint32_t i = start; i < w->depth; i++)
    sos_buf_fmt(&b, "%s.%s -> ", w->s->structs[w->from[i]].name, w->path[i]->name);
  sos_buf_str(&b, w->s->structs[target].name);
  char *text;
  if (sos_buf_finish(&b, &text, NULL)) return SOS_ENOMEM;
  sos__idl_err(err, errlen, SOS_EINVAL, "%s", text);
  sos_free(text);
  return SOS_EINVAL;
}

static int visit(struct walk *w, uint32_t si, char *err, size_t errlen) {
  const struct sos__idl_struct *st = &w->s->structs[si];
  w->colour[si] = 1;
  for (uint32_t i = 0; i < st->nfields; i++) {
    const struct sos__idl_field *f = &st->fields[i];
    if (f->type != SOS_APP_T_STRUCT || (f->flags & SOS_APP_F_LIST)) continue;
    w->path[w->depth] = f;
    w->from[w->depth++] = si;
    uint32_t to = (uint32_t)f->ref;
    int rc = 0;
    if (w->colour[to] == 1) rc = cycle_error(w, to, err, errlen);
    else if (w->colour[to] == 0) rc = visit(w, to, err, errlen);
    w->depth--;
    if (rc) return rc;
  }
  w->colour[si] = 2;
  return 0;
}

/* Refuses a struct that contains itself by value. */
static int check_cycles(const struct sos_idl *s, char *err, size_t errlen) {
  uint32_t n = s->nstructs ? s->nstructs : 1;
  struct walk w = {s, sos_calloc(n, 1), sos_malloc(n * sizeof *w.path),
                   sos_malloc(n * sizeof *w.from), 0};
  int rc = w.colour && w.path && w.from ? 0 : SOS_ENOMEM;
  for (uint32_t i = 0; rc == 0 && i < s->nstructs; i++)
    if (w.colour[i] == 0) rc = visit(&w, i, err, errlen);
  sos_free(w.colour);
  sos_free(w.path);
  sos_free(w.from);
  return rc;
}

/* ---- building ------------------------------------------------------------------ */

static int build_all(struct build *b) {
  const struct sos_app *app = b->app;
  struct sos_idl *s = b->s;
  int rc = 0;
  s->structs = sos_calloc(app->nstructs ? app->nstructs : 1, sizeof *s->structs);
  s->enums = sos_calloc(app->nenums ? app->nenums : 1, sizeof *s->enums);
  s->interfaces = sos_calloc(app->ninterfaces ? app->ninterfaces : 1, sizeof *s->interfaces);
  if (!s->structs || !s->enums || !s->interfaces) return SOS_ENOMEM;
  for (uint32_t i = 0; rc == 0 && i < app->nenums; i++) {
    rc = copy_enum(&app->enums[i], &s->enums[i]);
    s->nenums = i + 1;
  }
  for (uint32_t i = 0; rc == 0 && i < app->nstructs; i++) {
    rc = copy_struct(b, &app->structs[i], &s->structs[i]);
    s->nstructs = i + 1;
  }
  for (uint32_t i = 0; rc == 0 && i < app->ninterfaces; i++) {
    rc = copy_interface(b, &app->interfaces[i], &s->interfaces[i]);
    s->ninterfaces = i + 1;
  }
  return rc ? rc : check_cycles(s, b->err, b->errlen);
}

int sos_idl_new(const struct sos_app *app, struct sos_idl **out, char *err,
                size_t errlen) {
  *out = NULL;
  if (err && errlen) err[0] = 0;
  struct build b = {app, sos_calloc(1, sizeof *b.s), NULL, NULL, err, errlen};
  int rc = SOS_ENOMEM;
  if (b.s) {
    b.struct_names = name_table(app->structs, app->nstructs, sizeof *app->structs);
    b.enum_names = name_table(app->enums, app->nenums, sizeof *app->enums);
    if (b.struct_names && b.enum_names) rc = build_all(&b);
  }
  sos_free(b.struct_names);
  sos_free(b.enum_names);
  if (rc) {
    if (rc == SOS_ENOMEM) sos__idl_err(err, errlen, rc, "out of memory");
    sos_idl_free(b.s);
    return rc;
  }
  *out = b.s;
  return 0;
}

/* ---- lookups --------------------------------------------------------------------- */

const struct sos__idl_field *sos__idl_by_name(const struct sos__idl_struct *st,
                                              const char *name, size_t n) {
  uint32_t lo = 0, hi = st->nfields;
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    const struct sos__idl_field *f = &st->fields[st->by_name[mid]];
    size_t fl = strlen(f->name);
    size_t common = fl < n ? fl : n;
    int c = common ? memcmp(f->name, name, common) : 0;
    if (c == 0) c = fl < n ? -1 : fl > n; /* the shorter name sorts first */
    if (c == 0) return f;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return NULL;
}

const char *sos__idl_enum_name(const struct sos__idl_enum *e, uint64_t v) {
  uint32_t lo = 0, hi = e->nvalues;
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    const struct sos__idl_value *x = &e->values[e->by_value[mid]];
    if (x->value == v) return x->name;
    if (x->value < v) lo = mid + 1;
    else hi = mid;
  }
  return NULL;
}

bool sos__idl_enum_value(const struct sos__idl_enum *e, const char *name, size_t n,
                         uint32_t *v) {
  for (uint32_t i = 0; i < e->nvalues; i++)
    if (strlen(e->values[i].name) == n && memcmp(e->values[i].name, name, n) == 0) {
      *v = e->values[i].value;
      return true;
    }
  return false;
}

const char *sos__idl_type_name(const struct sos_idl *s, const struct sos__idl_field *f) {
  if (f->type == SOS_APP_T_STRUCT) return s->structs[f->ref].name;
  if (f->type == SOS_APP_T_ENUM) return s->enums[f->ref].name;
  const char *n = sos_app_type_name(f->type);
  return n ? n : "?";
}

int sos_idl_struct(const struct sos_idl *s, const char *name) {
  for (uint32_t i = 0; name && i < s->nstructs; i++)
    if (strcmp(s->structs[i].name, name) == 0) return (int)i;
  return SOS_ENOENT;
}

const char *sos_idl_struct_name(const struct sos_idl *s, int type) {
  return type >= 0 && (uint32_t)type < s->nstructs ? s->structs[type].name : NULL;
}

int sos_idl_interface(const struct sos_idl *s, const char *name) {
  for (uint32_t i = 0; name && i < s->ninterfaces; i++)
    if (strcmp(s->interfaces[i].name, name) == 0) return (int)i;
  return SOS_ENOENT;
}

int sos_idl_method(const struct sos_idl *s, int iface, const char *method, int *request,
                   int *response) {
  if (iface < 0 || (uint32_t)iface >= s->ninterfaces || !method) return SOS_ENOENT;
  const struct sos__idl_interface *in = &s->interfaces[iface];
  for (uint32_t i = 0; i < in->nmethods; i++)
    if (strcmp(in->methods[i].name, method) == 0) {
      if (request) *request = in->methods[i].request;
      if (response) *response = in->methods[i].response;
      return (int)i;
    }
  return SOS_ENOENT;
}

const char *sos_idl_error_name(const struct sos_idl *s, int iface, uint32_t code) {
  if (iface < 0 || (uint32_t)iface >= s->ninterfaces) return NULL;
  const struct sos__idl_interface *in = &s->interfaces[iface];
  for (uint32_t i = 0; i < in->nerrors; i++)
    if (in->errors[i].code == code) return in->errors[i].name;
  return NULL;
}

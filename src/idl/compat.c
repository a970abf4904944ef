/*
 * compat.c - whether a new version of a definition keeps the old one's
 * clients and servers working (sos_idl_compat, `sos check --against`).
 *
 * Messages carry tags, not names, so compatibility is decided by tag,
 * recursively through struct and enum fields, never by type names (a
 * struct may be renamed freely).  The rules:
 *
 *   1. Every own interface of the old definition still exists (by name).
 *      Methods may be added; every old method still exists, and its new
 *      request and response structs are compatible with the old ones.
 *      Errors may be added; every old error still exists (by name) with
 *      the same code.
 *   2. Struct compatibility: every field of the old struct still exists,
 *      under the same tag, with
 *        - the same name (JSON and generated code use names);
 *        - the same type: the same scalar type (u32 does not become u64:
 *          an old reader would refuse a value past 2^32), or a struct or
 *          enum compatible by these rules;
 *        - the same list flag (a list and a single value differ on the
 *          wire);
 *        - the same union membership: in no union in both, or in unions
 *          of the same name.
 *      A field may become optional or stop being optional (the wire
 *      form is the same).  New fields may be added under new tags,
 *      into a union too.  Removing a field is a breaking change here,
 *      even though the wire format would skip it: a client still sending
 *      it expects it to be read.
 *   3. Enum compatibility: every old value keeps its name and number;
 *      new values may be added (old readers keep unknown numbers).
 *   4. Every table store of the old definition is still a table, with the
 *      same key field, and its row struct is compatible by rule 2: rows
 *      written by the old version must stay readable.
 *
 * Structs can reach themselves through lists, so the comparison remembers
 * the (old, new) pairs it has started and takes a pair met again as
 * compatible; since the first difference ends the whole check, every
 * remembered pair is either proven compatible or still being compared.
 *
 * The message names the first breaking change found, at its place in the
 * new definition when it has one: "app.sos:12:5: HelloReq.times changed
 * type from u32 to u64".
 */
#include "idl/idl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct pair {
  const struct sos_app_struct *a, *b;
};

struct cmp {
  const struct sos_app *old, *new;
  struct pair *seen;
  uint32_t nseen, cap;
  char *err;
  size_t errlen;
};

/* Reports a breaking change at pos in the new definition (NULL: none). */
static int brk(const struct cmp *c, const struct sos_app_pos *pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int brk(const struct cmp *c, const struct sos_app_pos *pos, const char *fmt, ...) {
  char what[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  const char *file = c->new->file ? c->new->file : "<input>";
  if (pos && pos->line)
    return sos__idl_err(c->err, c->errlen, SOS_EINVAL, "%s:%u:%u: %s", file, pos->line,
                        pos->col, what);
  return sos__idl_err(c->err, c->errlen, SOS_EINVAL, "%s: %s", file, what);
}

static const char *str(const char *s) {
  return s ? s : "";
}

static const struct sos_app_enum *find_enum(const struct sos_app *app, const char *name) {
  for (uint32_t i = 0; name && i < app->nenums; i++)
    if (app->enums[i].name && strcmp(app->enums[i].name, name) == 0) return &app->enums[i];
  return NULL;
}

/* A field's type as written: "u32", "Person", "list<text>". */
static const char *type_text(const struct sos_app_field *f, char *buf, size_t n) {
  const char *base = f->type == SOS_APP_T_STRUCT || f->type == SOS_APP_T_ENUM
                         ? str(f->type_name)
                         : sos_app_type_name(f->type);
  snprintf(buf, n, (f->flags & SOS_APP_F_LIST) ? "list<%s>" : "%s", base ? base : "?");
  return buf;
}

static int compat_struct(struct cmp *c, const struct sos_app_struct *a,
                         const struct sos_app_struct *b);

/* Whether a pair was met before; remembers it when not.  -1: no memory. */
static int seen_before(struct cmp *c, const struct sos_app_struct *a,
                       const struct sos_app_struct *b) {
  for (uint32_t i = 0; i < c->nseen; i++)
    if (c->seen[i].a == a && c->seen[i].b == b) return 1;
  if (c->nseen == c->cap) {
    uint32_t cap = c->cap ? c->cap * 2 : 16;
    struct pair *p = sos_realloc(c->seen, cap * sizeof *p);
    if (!p) return -1;
    c->seen = p;
    c->cap = cap;
  }
  c->seen[c->nseen++] = (struct pair){a, b};
  return 0;
}

static int compat_enum(const struct cmp *c, const struct sos_app_enum *a,
                       const struct sos_app_enum *b) {
  for (uint32_t i = 0; i < a->nvalues; i++) {
    const struct sos_app_enum_value *ov = &a->values[i], *nv = NULL;
    for (uint32_t j = 0; j < b->nvalues && !nv; j++)
      if (b->values[j].value == ov->value) nv = &b->values[j];
    if (!nv)
      return brk(c, &b->pos, "enum %s lost value %s = %u", str(b->name), str(ov->name),
                 ov->value);
    if (strcmp(str(nv->name), str(ov->name)) != 0)
      return brk(c, &nv->pos, "enum %s value %u was renamed from %s to %s", str(b->name),
                 ov->value, str(ov->name), str(nv->name));
  }
  return 0;
}

/* Compares the types of an old field fa and a new field fb (same tag). */
static int compat_type(struct cmp *c, const struct sos_app_struct *b,
                       const struct sos_app_field *fa, const struct sos_app_field *fb) {
  char ta[80], tb[80];
  bool same = fa->type == fb->type &&
              (fa->flags & SOS_APP_F_LIST) == (fb->flags & SOS_APP_F_LIST);
  if (!same)
    return brk(c, &fb->pos, "%s.%s changed type from %s to %s", str(b->name), str(fb->name),
               type_text(fa, ta, sizeof ta), type_text(fb, tb, sizeof tb));
  if (fa->type == SOS_APP_T_ENUM) {
    const struct sos_app_enum *ea = find_enum(c->old, fa->type_name);
    const struct sos_app_enum *eb = find_enum(c->new, fb->type_name);
    if (!ea || !eb)
      return brk(c, &fb->pos, "%s.%s: unknown enum %s", str(b->name), str(fb->name),
                 str(ea ? fb->type_name : fa->type_name));
    return compat_enum(c, ea, eb);
  }
  if (fa->type != SOS_APP_T_STRUCT) return 0;
  const struct sos_app_struct *sa = sos_app_struct(c->old, fa->type_name);
  const struct sos_app_struct *sb = sos_app_struct(c->new, fb->type_name);
  if (!sa || !sb)
    return brk(c, &fb->pos, "%s.%s: unknown struct %s", str(b->name), str(fb->name),
               str(sa ? fb->type_name : fa->type_name));
  return compat_struct(c, sa, sb);
}

/* The name of field f's union in struct st, or NULL. */
static const char *union_of(const struct sos_app_struct *st, const struct sos_app_field *f) {
  return f->group && f->group <= st->nunions ? str(st->unions[f->group - 1]) : NULL;
}

static int compat_field(struct cmp *c, const struct sos_app_struct *a,
                        const struct sos_app_struct *b, const struct sos_app_field *fa) {
  const struct sos_app_field *fb = NULL;
  for (uint32_t j = 0; j < b->nfields && !fb; j++)
    if (b->fields[j].tag == fa->tag) fb = &b->fields[j];
  if (!fb)
    return brk(c, &b->pos, "%s lost field %s (tag %u)", str(b->name), str(fa->name), fa->tag);
  if (strcmp(str(fa->name), str(fb->name)) != 0)
    return brk(c, &fb->pos, "%s.%s (tag %u) was renamed from %s", str(b->name), str(fb->name),
               fb->tag, str(fa->name));
  const char *ua = union_of(a, fa), *ub = union_of(b, fb);
  if ((ua || ub) && (!ua || !ub || strcmp(ua, ub) != 0))
    return brk(c, &fb->pos, "%s.%s moved from %s%s to %s%s", str(b->name), str(fb->name),
               ua ? "union " : "", ua ? ua : "outside any union", ub ? "union " : "",
               ub ? ub : "outside any union");
  return compat_type(c, b, fa, fb);
}

static int compat_struct(struct cmp *c, const struct sos_app_struct *a,
                         const struct sos_app_struct *b) {
  int seen = seen_before(c, a, b);
  if (seen < 0) return sos__idl_err(c->err, c->errlen, SOS_ENOMEM, "out of memory");
  for (uint32_t i = 0; !seen && i < a->nfields; i++) {
    int rc = compat_field(c, a, b, &a->fields[i]);
    if (rc) return rc;
  }
  return 0;
}

/* Compares the structs named na (old) and nb (new), for what (a message
 * prefix such as "method hello's request") at pos. */
static int compat_named(struct cmp *c, const char *na, const char *nb,
                        const struct sos_app_pos *pos, const char *what) {
  const struct sos_app_struct *a = sos_app_struct(c->old, na);
  const struct sos_app_struct *b = sos_app_struct(c->new, nb);
  if (!a) return sos__idl_err(c->err, c->errlen, SOS_EINVAL, "old definition: %s: unknown struct %s", what, str(na));
  if (!b) return brk(c, pos, "%s: unknown struct %s", what, str(nb));
  return compat_struct(c, a, b);
}

static int compat_methods(struct cmp *c, const struct sos_app_interface *a,
                          const struct sos_app_interface *b) {
  for (uint32_t i = 0; i < a->nmethods; i++) {
    const struct sos_app_method *ma = &a->methods[i], *mb = NULL;
    for (uint32_t j = 0; j < b->nmethods && !mb; j++)
      if (strcmp(str(b->methods[j].name), str(ma->name)) == 0) mb = &b->methods[j];
    if (!mb) return brk(c, &b->pos, "interface %s lost method %s", str(b->name), str(ma->name));
    char what[160];
    snprintf(what, sizeof what, "%s.%s's request", str(b->name), str(mb->name));
    int rc = compat_named(c, ma->request, mb->request, &mb->pos, what);
    snprintf(what, sizeof what, "%s.%s's response", str(b->name), str(mb->name));
    if (rc == 0) rc = compat_named(c, ma->response, mb->response, &mb->pos, what);
    if (rc) return rc;
  }
  return 0;
}

static int compat_errors(const struct cmp *c, const struct sos_app_interface *a,
                         const struct sos_app_interface *b) {
  for (uint32_t i = 0; i < a->nerrors; i++) {
    const struct sos_app_error *ea = &a->errors[i], *eb = NULL;
    for (uint32_t j = 0; j < b->nerrors && !eb; j++)
      if (strcmp(str(b->errors[j].name), str(ea->name)) == 0) eb = &b->errors[j];
    if (!eb) return brk(c, &b->pos, "interface %s lost error %s", str(b->name), str(ea->name));
    if (eb->code != ea->code)
      return brk(c, &eb->pos, "error %s of interface %s changed code from %u to %u",
                 str(eb->name), str(b->name), ea->code, eb->code);
  }
  return 0;
}

/* Compares old interface a with the new definition's interface of its name. */
static int compat_interface(struct cmp *c, const struct sos_app_interface *a) {
  const struct sos_app *n = c->new;
  const struct sos_app_interface *b = NULL;
  for (uint32_t j = 0; j < n->ninterfaces && !b; j++)
    if (strcmp(str(n->interfaces[j].name), str(a->name)) == 0) b = &n->interfaces[j];
  if (!b) return brk(c, NULL, "interface %s was removed", str(a->name));
  int rc = compat_methods(c, a, b);
  return rc ? rc : compat_errors(c, a, b);
}

static int compat_interfaces(struct cmp *c) {
  const struct sos_app *o = c->old;
  for (uint32_t i = 0; i < o->ninterfaces_own && i < o->ninterfaces; i++) {
    int rc = compat_interface(c, &o->interfaces[i]);
    if (rc) return rc;
  }
  return 0;
}

static int compat_tables(struct cmp *c) {
  for (uint32_t i = 0; i < c->old->nstores; i++) {
    const struct sos_app_store *a = &c->old->stores[i];
    if (a->type != SOS_APP_STORE_TABLE) continue;
    const struct sos_app_store *b = sos_app_store(c->new, a->name);
    if (!b) return brk(c, NULL, "table %s was removed", str(a->name));
    if (b->type != SOS_APP_STORE_TABLE)
      return brk(c, &b->pos, "store %s is no longer a table", str(b->name));
    if (strcmp(str(a->key), str(b->key)) != 0)
      return brk(c, &b->pos, "table %s changed its key from %s to %s", str(b->name),
                 str(a->key), str(b->key));
    char what[160];
    snprintf(what, sizeof what, "table %s", str(b->name));
    int rc = compat_named(c, a->table_struct, b->table_struct, &b->pos, what);
    if (rc) return rc;
  }
  return 0;
}

int sos_idl_compat(const struct sos_app *old_app, const struct sos_app *new_app, char *err,
                   size_t errlen) {
  struct cmp c = {old_app, new_app, NULL, 0, 0, err, errlen};
  if (err && errlen) err[0] = 0;
  int rc = compat_interfaces(&c);
  if (rc == 0) rc = compat_tables(&c);
  sos_free(c.seen);
  return rc;
}

int sos_idl_compat_interface(const struct sos_app *old_app, const struct sos_app *new_app,
                             const char *name, char *err, size_t errlen) {
  struct cmp c = {old_app, new_app, NULL, 0, 0, err, errlen};
  const struct sos_app_interface *a = NULL;
  if (err && errlen) err[0] = 0;
  for (uint32_t i = 0; name && i < old_app->ninterfaces && !a; i++)
    if (strcmp(str(old_app->interfaces[i].name), name) == 0) a = &old_app->interfaces[i];
  if (!a)
    return sos__idl_err(err, errlen, SOS_ENOENT, "%s: no interface %s",
                        old_app->file ? old_app->file : "<input>", name ? name : "");
  int rc = compat_interface(&c, a);
  sos_free(c.seen);
  return rc;
}

/*
 * describe.c - an interface and the types it reaches, in SOS syntax
 * (sos_idl_describe, what `sos describe` prints).
 *
 * The interface comes first, then each struct and enum in the order a
 * breadth-first walk from its methods (request, then response, in method
 * order) first reaches it through fields, so a reader meets a type's
 * definition soon after its first use.  Layout follows the canonical
 * printer of app definitions (src/lang/app_print.c): block form, one
 * member per line, two-space indents; a union's variants are printed as a
 * `union NAME { ... }` block where its first variant stands.
 */
#include "idl/idl.h"

#include <string.h>

/* The walk: a queue of types, structs as i and enums as nstructs + i. */
struct reach {
  uint32_t *queue;
  uint32_t n;
  uint8_t *seen;
};

static void enqueue(struct reach *r, uint32_t t) {
  if (r->seen[t]) return;
  r->seen[t] = 1;
  r->queue[r->n++] = t;
}

static void print_field(struct sos_buf *b, const struct sos_idl *s,
                        const struct sos__idl_field *f, const char *indent) {
  const char *tn = sos__idl_type_name(s, f);
  sos_buf_fmt(b, "%s%s: %s", indent, f->name,
                   (f->flags & SOS_APP_F_OPTIONAL) && !f->group ? "optional " : "");
  if (f->flags & SOS_APP_F_LIST) sos_buf_fmt(b, "list<%s>", tn);
  else sos_buf_str(b, tn);
  sos_buf_fmt(b, " = %u\n", f->tag);
}

static void print_struct(struct sos_buf *b, const struct sos_idl *s,
                         const struct sos__idl_struct *st) {
  sos_buf_fmt(b, "\nstruct %s {%s", st->name, st->nfields ? "\n" : "}\n");
  for (uint32_t i = 0; i < st->nfields; i++) {
    const struct sos__idl_field *f = &st->fields[i];
    if (!f->group) {
      print_field(b, s, f, "  ");
      continue;
    }
    bool first = true;
    for (uint32_t j = 0; j < i && first; j++) first = st->fields[j].group != f->group;
    if (!first) continue;
    sos_buf_fmt(b, "  union %s {\n", st->unions[f->group - 1]);
    for (uint32_t j = i; j < st->nfields; j++)
      if (st->fields[j].group == f->group) print_field(b, s, &st->fields[j], "    ");
    sos_buf_str(b, "  }\n");
  }
  if (st->nfields) sos_buf_str(b, "}\n");
}

static void print_enum(struct sos_buf *b, const struct sos__idl_enum *e) {
  sos_buf_fmt(b, "\nenum %s {%s", e->name, e->nvalues ? "\n" : "}\n");
  for (uint32_t i = 0; i < e->nvalues; i++)
    sos_buf_fmt(b, "  %s = %u\n", e->values[i].name, e->values[i].value);
  if (e->nvalues) sos_buf_str(b, "}\n");
}

static void print_interface(struct sos_buf *b, const struct sos_idl *s,
                            const struct sos__idl_interface *in) {
  sos_buf_fmt(b, "interface %s {%s", in->name,
                   in->nmethods + in->nerrors ? "\n" : "}\n");
  for (uint32_t i = 0; i < in->nmethods; i++) {
    const struct sos__idl_method *m = &in->methods[i];
    sos_buf_fmt(b, "  %s(%s) -> %s\n", m->name, s->structs[m->request].name,
                     s->structs[m->response].name);
  }
  for (uint32_t i = 0; i < in->nerrors; i++)
    sos_buf_fmt(b, "  error %s = %u\n", in->errors[i].name, in->errors[i].code);
  if (in->nmethods + in->nerrors) sos_buf_str(b, "}\n");
}

/* Walks from in's methods; r->queue ends up holding every type reached. */
static void walk(const struct sos_idl *s, const struct sos__idl_interface *in,
                 struct reach *r) {
  for (uint32_t i = 0; i < in->nmethods; i++) {
    enqueue(r, (uint32_t)in->methods[i].request);
    enqueue(r, (uint32_t)in->methods[i].response);
  }
  for (uint32_t q = 0; q < r->n; q++) {
    if (r->queue[q] >= s->nstructs) continue;
    const struct sos__idl_struct *st = &s->structs[r->queue[q]];
    for (uint32_t i = 0; i < st->nfields; i++) {
      const struct sos__idl_field *f = &st->fields[i];
      if (f->type == SOS_APP_T_STRUCT) enqueue(r, (uint32_t)f->ref);
      if (f->type == SOS_APP_T_ENUM) enqueue(r, s->nstructs + (uint32_t)f->ref);
    }
  }
}

int sos_idl_describe(const struct sos_idl *s, const char *interface, char **text) {
  *text = NULL;
  int iface = sos_idl_interface(s, interface);
  if (iface < 0) return SOS_ENOENT;
  const struct sos__idl_interface *in = &s->interfaces[iface];
  size_t ntypes = (size_t)s->nstructs + s->nenums;
  struct reach r = {sos_malloc((ntypes ? ntypes : 1) * sizeof *r.queue), 0,
                    sos_calloc(ntypes ? ntypes : 1, 1)};
  struct sos_buf b = {0};
  if (!r.queue || !r.seen) b.rc = SOS_ENOMEM;
  else {
    walk(s, in, &r);
    print_interface(&b, s, in);
    for (uint32_t q = 0; q < r.n; q++) {
      uint32_t t = r.queue[q];
      if (t < s->nstructs) print_struct(&b, s, &s->structs[t]);
      else print_enum(&b, &s->enums[t - s->nstructs]);
    }
  }
  sos_free(r.queue);
  sos_free(r.seen);
  return sos_buf_finish(&b, text, NULL);
}

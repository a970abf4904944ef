/*
 * idl_check.c - the checks that need every declaration of a definition at
 * once: what a type name in a field refers to, whether methods and
 * services name what exists, and whether a struct holds itself.
 *
 * The parser reads `from: Person = 6` before it may have seen Person, and
 * Person may be a struct or an enum, declared later in the file, in a
 * base, or in an imported package.  So it records the name with type
 * SOS_APP_T_STRUCT, and sos__app_resolve settles it: after a parse
 * (lenient, since a base or an import may declare the name) and again
 * after sos_app_load has merged bases and imports (strict: a name
 * declared nowhere is an error with a did-you-mean).
 *
 * A struct may not contain itself by value (Node { next: Node }): the
 * generated C embeds struct fields by value, and a value of such a type
 * could only be infinite.  A list breaks the cycle (children: list<Node>).
 * The check is a depth-first search over by-value struct fields with
 * three colours.
 */
#include "lang/lang.h"

#include <stdio.h>
#include <string.h>

static int find_enum(const struct sos_app *app, const char *name) {
  for (uint32_t i = 0; i < app->nenums; i++)
    if (strcmp(app->enums[i].name, name) == 0) return (int)i;
  return -1;
}

static int find_struct(const struct sos_app *app, const char *name) {
  for (uint32_t i = 0; i < app->nstructs; i++)
    if (strcmp(app->structs[i].name, name) == 0) return (int)i;
  return -1;
}

/* "unknown type "Persn"; did you mean "Person"?" for a name declared
 * nowhere, at pos. */
static int unknown_type(const struct sos_app *app, const char *file, struct sos_app_pos pos,
                        const char *what, const char *name, char *err, size_t errlen) {
  size_t n = strlen(name);
  const char *near = sos__lang_suggest_name(name, n, app->structs, app->nstructs,
                                            sizeof *app->structs);
  if (!near)
    near = sos__lang_suggest_name(name, n, app->enums, app->nenums, sizeof *app->enums);
  if (near)
    return sos__lang_error(err, errlen, file, pos, "unknown %s \"%s\"; did you mean \"%s\"?",
                           what, name, near);
  return sos__lang_error(err, errlen, file, pos, "unknown %s \"%s\"; declare it with struct "
                         "%s { ... }", what, name, name);
}

/* Settles the type of every field that names a type. */
static int resolve_fields(struct sos_app *app, const char *file, bool strict, char *err,
                          size_t errlen) {
  for (uint32_t i = 0; i < app->nstructs; i++)
    for (uint32_t j = 0; j < app->structs[i].nfields; j++) {
      struct sos_app_field *f = &app->structs[i].fields[j];
      if (!f->type_name) continue;
      if (find_enum(app, f->type_name) >= 0) f->type = SOS_APP_T_ENUM;
      else if (find_struct(app, f->type_name) >= 0) f->type = SOS_APP_T_STRUCT;
      else if (strict)
        return unknown_type(app, file, f->pos, "type", f->type_name, err, errlen);
    }
  return 0;
}

/* Each method's request and response must be structs. */
static int check_methods(const struct sos_app *app, const char *file, bool strict,
                         char *err, size_t errlen) {
  for (uint32_t i = 0; i < app->ninterfaces; i++)
    for (uint32_t j = 0; j < app->interfaces[i].nmethods; j++) {
      const struct sos_app_method *m = &app->interfaces[i].methods[j];
      const char *names[2] = {m->request, m->response};
      for (int k = 0; k < 2; k++) {
        if (find_struct(app, names[k]) >= 0) continue;
        if (find_enum(app, names[k]) >= 0)
          return sos__lang_error(err, errlen, file, m->pos,
                                 "method %s: %s is an enum; a request or a response is a "
                                 "struct", m->name, names[k]);
        if (strict)
          return unknown_type(app, file, m->pos, "struct", names[k], err, errlen);
      }
    }
  return 0;
}

/* Each service's interface must be declared. */
static int check_services(const struct sos_app *app, const char *file, bool strict,
                          char *err, size_t errlen) {
  for (uint32_t i = 0; strict && i < app->nservices; i++) {
    const struct sos_app_service *s = &app->services[i];
    if (!s->implements) continue;
    bool found = false;
    for (uint32_t j = 0; j < app->ninterfaces && !found; j++)
      found = strcmp(app->interfaces[j].name, s->implements) == 0;
    if (found) continue;
    const char *near = sos__lang_suggest_name(s->implements, strlen(s->implements),
                                              app->interfaces, app->ninterfaces,
                                              sizeof *app->interfaces);
    return sos__lang_error(err, errlen, file, s->pos,
                           "service %s implements unknown interface \"%s\"%s%s%s", s->name,
                           s->implements, near ? "; did you mean \"" : "",
                           near ? near : "", near ? "\"?" : "");
  }
  return 0;
}

/* Each http route goes to a service of the app; when that service
 * implements an interface, the interface declares the route's method
 * with sos.HttpRequest and sos.HttpResponse (import "sos"). */
static int check_routes(const struct sos_app *app, const char *file, char *err,
                        size_t errlen) {
  for (uint32_t i = 0; i < app->nroutes; i++) {
    const struct sos_app_route *r = &app->routes[i];
    const struct sos_app_service *s = sos_app_service(app, r->service);
    if (!s)
      return sos__lang_error(err, errlen, file, r->pos,
                             "http route \"%s\" goes to %s, which is not a service of this "
                             "app", r->prefix, r->service);
    const struct sos_app_interface *it = NULL;
    for (uint32_t j = 0; s->implements && j < app->ninterfaces && !it; j++)
      if (strcmp(app->interfaces[j].name, s->implements) == 0) it = &app->interfaces[j];
    if (!it) continue; /* an untyped service gets the request's bytes */
    const struct sos_app_method *m = NULL;
    for (uint32_t j = 0; j < it->nmethods && !m; j++)
      if (strcmp(it->methods[j].name, r->method) == 0) m = &it->methods[j];
    if (!m)
      return sos__lang_error(err, errlen, file, r->pos,
                             "http route \"%s\" calls %s.%s, but interface %s has no method "
                             "%s", r->prefix, r->service, r->method, it->name, r->method);
    int rq = find_struct(app, m->request), rs = find_struct(app, m->response);
    bool ok = rq >= 0 && rs >= 0 && !strcmp(m->request, "HttpRequest") &&
              !strcmp(m->response, "HttpResponse") &&
              !strcmp(app->structs[rq].package, "sos") && !strcmp(app->structs[rs].package, "sos");
    if (!ok)
      return sos__lang_error(err, errlen, file, r->pos,
                             "http route \"%s\" calls %s.%s, which must take HttpRequest and "
                             "return HttpResponse (import \"sos\" declares them)", r->prefix,
                             r->service, r->method);
  }
  return 0;
}

/* Depth-first search from struct i over its by-value struct fields;
 * colour 1 is on the path, 2 is done. */
static int visit(const struct sos_app *app, uint32_t i, uint8_t *colour, const char *file,
                 char *err, size_t errlen) {
  const struct sos_app_struct *st = &app->structs[i];
  colour[i] = 1;
  for (uint32_t j = 0; j < st->nfields; j++) {
    const struct sos_app_field *f = &st->fields[j];
    if (f->type != SOS_APP_T_STRUCT || (f->flags & SOS_APP_F_LIST) || !f->type_name)
      continue;
    int k = find_struct(app, f->type_name);
    if (k < 0 || colour[k] == 2) continue;
    if (colour[k] == 1)
      return sos__lang_error(err, errlen, file, f->pos,
                             "struct %s contains itself through %s.%s; hold it in a list "
                             "(list<%s>) instead",
                             f->type_name, st->name, f->name, f->type_name);
    int rc = visit(app, (uint32_t)k, colour, file, err, errlen);
    if (rc) return rc;
  }
  colour[i] = 2;
  return 0;
}

static int check_cycles(const struct sos_app *app, const char *file, char *err,
                        size_t errlen) {
  if (!app->nstructs) return 0;
  uint8_t *colour = sos_calloc(app->nstructs, 1);
  if (!colour) return SOS_ENOMEM;
  int rc = 0;
  for (uint32_t i = 0; rc == 0 && i < app->nstructs; i++)
    if (!colour[i]) rc = visit(app, i, colour, file, err, errlen);
  sos_free(colour);
  return rc;
}

/* The kind and position of the declaration of name before index `before`
 * of kind `kind` (0 structs, 1 enums, 2 interfaces), or NULL. */
static const char *earlier(const struct sos_app *app, const char *name, int kind,
                           uint32_t before, struct sos_app_pos *pos) {
  static const char *const kinds[] = {"struct", "enum", "interface"};
  for (int k = 0; k <= kind; k++) {
    uint32_t n = k == 0 ? app->nstructs : k == 1 ? app->nenums : app->ninterfaces;
    if (k == kind) n = before;
    for (uint32_t i = 0; i < n; i++) {
      const char *other = k == 0   ? app->structs[i].name
                          : k == 1 ? app->enums[i].name
                                   : app->interfaces[i].name;
      if (strcmp(other, name) != 0) continue;
      *pos = k == 0 ? app->structs[i].pos : k == 1 ? app->enums[i].pos : app->interfaces[i].pos;
      return kinds[k];
    }
  }
  return NULL;
}

/* Structs, enums and interfaces share one namespace (also across a base
 * and an extending file, which replace declarations by name and kind). */
static int check_names(const struct sos_app *app, const char *file, char *err,
                       size_t errlen) {
  struct sos_app_pos first;
  for (int kind = 1; kind < 3; kind++) {
    uint32_t n = kind == 1 ? app->nenums : app->ninterfaces;
    for (uint32_t i = 0; i < n; i++) {
      const char *name = kind == 1 ? app->enums[i].name : app->interfaces[i].name;
      struct sos_app_pos pos = kind == 1 ? app->enums[i].pos : app->interfaces[i].pos;
      const char *other = earlier(app, name, kind, i, &first);
      if (other)
        return sos__lang_error(err, errlen, file, pos,
                               "%s is declared as %s %s too (at line %u); rename one", name,
                               strchr("aeiou", other[0]) ? "an" : "a", other, first.line);
    }
  }
  return 0;
}

int sos__app_resolve(struct sos_app *app, const char *file, bool strict, char *err,
                     size_t errlen) {
  int rc = check_names(app, file, err, errlen);
  if (rc == 0) rc = resolve_fields(app, file, strict, err, errlen);
  if (rc == 0) rc = check_methods(app, file, strict, err, errlen);
  if (rc == 0) rc = check_services(app, file, strict, err, errlen);
  if (rc == 0 && strict) rc = check_routes(app, file, err, errlen);
  if (rc == 0) rc = check_cycles(app, file, err, errlen);
  return rc;
}

const char *sos__app_field_type(const struct sos_app_field *f, char *buf, size_t n) {
  const char *base = f->type_name ? f->type_name : sos_app_type_name(f->type);
  snprintf(buf, n, "%s%s%s%s", (f->flags & SOS_APP_F_OPTIONAL) ? "optional " : "",
           (f->flags & SOS_APP_F_LIST) ? "list<" : "", base ? base : "?",
           (f->flags & SOS_APP_F_LIST) ? ">" : "");
  return buf;
}

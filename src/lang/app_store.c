/*
 * app_store.c - what the parser and the loader share about typed storage:
 * the field types of structs, looking stores and structs up by name, and
 * checking a table store against the struct of its rows.
 *
 * A table (`store entries: table Entry key id index at, name`) keeps rows
 * of a struct declared with `struct Entry { ... }`; its key and each index
 * must be a field of that struct whose values order well as keys: text,
 * bytes or an integer (not bool, which makes a poor key, and not f32 or
 * f64, whose NaNs and signed zeros have no single byte order).  Where the
 * check runs depends on where the struct is: the parser checks a table
 * against a struct of the same file (app_parse.c), the loader a table
 * against a struct from a base, and a base's table against a struct that
 * an extending file replaces (app_load.c).  Both report through
 * sos__app_check_table or, where the message needs other words, through
 * sos__app_field_fits, which says why a field does not fit.
 */
#include "lang/lang.h"

#include <stdio.h>
#include <string.h>

/* In SOS_APP_T_* order, from SOS_APP_T_BOOL. */
const char *const sos__app_type_names[] = {"bool", "u8",  "u16", "u32", "u64",
                                           "i8",   "i16", "i32", "i64", "f32",
                                           "f64",  "text", "bytes", NULL};
#define NTYPES (sizeof sos__app_type_names / sizeof sos__app_type_names[0] - 1)

const char *sos_app_type_name(uint8_t t) {
  return t >= SOS_APP_T_BOOL && t <= NTYPES ? sos__app_type_names[t - 1] : NULL;
}

uint8_t sos__app_type(const char *p, size_t n) {
  for (size_t i = 0; i < NTYPES; i++)
    if (strlen(sos__app_type_names[i]) == n && memcmp(sos__app_type_names[i], p, n) == 0)
      return (uint8_t)(i + 1);
  return 0;
}

const struct sos_app_store *sos_app_store(const struct sos_app *app, const char *name) {
  for (uint32_t i = 0; app && name && i < app->nstores; i++)
    if (app->stores[i].name && strcmp(app->stores[i].name, name) == 0)
      return &app->stores[i];
  return NULL;
}

const struct sos_app_struct *sos_app_struct(const struct sos_app *app, const char *name) {
  for (uint32_t i = 0; app && name && i < app->nstructs; i++)
    if (app->structs[i].name && strcmp(app->structs[i].name, name) == 0)
      return &app->structs[i];
  return NULL;
}

/* Whether values of type t can be a key: text, bytes or an integer. */
static bool keyable(uint8_t t) {
  return (t >= SOS_APP_T_U8 && t <= SOS_APP_T_I64) || t == SOS_APP_T_TEXT ||
         t == SOS_APP_T_BYTES;
}

bool sos__app_field_fits(const struct sos_app_struct *st, const char *field, bool hint,
                         char *why, size_t n) {
  const struct sos_app_field *f = NULL;
  for (uint32_t i = 0; i < st->nfields && !f; i++)
    if (strcmp(st->fields[i].name, field) == 0) f = &st->fields[i];
  if (f && !f->flags && !f->group && keyable(f->type)) return true;
  if (f) {
    char type[96];
    snprintf(why, n, "field %s of struct %s is %s; a key or an index must be text, "
                     "bytes or an integer",
             field, st->name, sos__app_field_type(f, type, sizeof type));
    return false;
  }
  const char *near = hint ? sos__lang_suggest_name(field, strlen(field), st->fields,
                                                   st->nfields, sizeof *st->fields)
                          : NULL;
  if (near)
    snprintf(why, n, "struct %s has no field \"%s\"; did you mean \"%s\"?", st->name, field,
             near);
  else
    snprintf(why, n, "struct %s has no field \"%s\"", st->name, field);
  return false;
}

int sos__app_check_table(const struct sos_app_store *s, const struct sos__app_table_pos *tp,
                         const struct sos_app_struct *st, const char *file, char *err,
                         size_t errlen) {
  char why[256];
  if (!sos__app_field_fits(st, s->key, true, why, sizeof why))
    return sos__lang_error(err, errlen, file, tp->key, "%s", why);
  for (uint32_t i = 0; i < s->nindexes; i++)
    if (!sos__app_field_fits(st, s->indexes[i], true, why, sizeof why))
      return sos__lang_error(err, errlen, file, tp->index[i], "%s", why);
  return 0;
}

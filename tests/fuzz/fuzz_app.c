/*
 * fuzz_app.c - libFuzzer target for app definitions (src/lang).
 *
 * Every input is treated as the text of an app.sos file.  Beyond "no
 * crash, no leak, no undefined behaviour", the target checks the
 * properties that docs/language.md promises, and aborts (a finding) when
 * one fails:
 *
 *   - sos_app_fmt succeeds exactly when sos_app_parse does, with the same
 *     message when both fail;
 *   - the canonical print of a parsed definition parses again, and prints
 *     the same text (print -> parse round trip);
 *   - formatted text parses to the same definition as the input (same
 *     canonical print, same extends) and formatting it again changes
 *     nothing (idempotence);
 *   - a parsed definition keeps what the parser promises: names of
 *     services, structs, stores and fields unique (the lookups find each
 *     entry itself), field numbers unique and in 1..65535, field and
 *     store types known, and a table's parts present.
 *
 * sos_app_load is not called: it reads files, and what it adds beyond
 * parsing (merging) is covered by the unit tests.
 *
 * Built by scripts/fuzz.sh (target "app") with clang
 * -fsanitize=fuzzer,address,undefined.
 */
#include "sos/app.h"
#include "sos/base.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stops the run with a message: a property did not hold. */
static void broken(const char *what, const char *detail) {
  fprintf(stderr, "fuzz_app: %s\n%s\n", what, detail ? detail : "");
  abort();
}

/* Checks the promises about one struct. */
static void check_struct(const struct sos_app *app, const struct sos_app_struct *st) {
  if (sos_app_struct(app, st->name) != st) broken("struct names repeat", st->name);
  for (uint32_t i = 0; i < st->nfields; i++) {
    const struct sos_app_field *f = &st->fields[i];
    bool named = (f->type == SOS_APP_T_STRUCT || f->type == SOS_APP_T_ENUM) && f->type_name;
    if (!sos_app_type_name(f->type) && !named) broken("a field has no type", f->name);
    if (f->tag < 1 || f->tag > 65535) broken("a field number is out of range", f->name);
    for (uint32_t j = 0; j < i; j++)
      if (strcmp(st->fields[j].name, f->name) == 0 || st->fields[j].tag == f->tag)
        broken("field names or numbers repeat", f->name);
  }
}

/* Checks the promises of a parsed definition (see the top). */
static void check_app(const struct sos_app *app) {
  for (uint32_t i = 0; i < app->nservices; i++)
    if (sos_app_service(app, app->services[i].name) != &app->services[i])
      broken("service names repeat", app->services[i].name);
  for (uint32_t i = 0; i < app->nstructs; i++) check_struct(app, &app->structs[i]);
  for (uint32_t i = 0; i < app->nstores; i++) {
    const struct sos_app_store *s = &app->stores[i];
    if (sos_app_store(app, s->name) != s) broken("store names repeat", s->name);
    if (s->type < SOS_APP_STORE_KV || s->type > SOS_APP_STORE_FILES)
      broken("a store has no type", s->name);
    bool table = s->type == SOS_APP_STORE_TABLE;
    if (table != (s->table_struct && s->key) || (!table && s->nindexes))
      broken("a store's table parts do not match its type", s->name);
  }
}

/* Parses text and returns its canonical print (NULL when it does not
 * parse); *extends gets a copy of its extends path, or NULL. */
static char *parse_print(const char *text, size_t len, char **extends, char *err,
                         size_t errlen) {
  struct sos_app *app;
  char *out = NULL;
  size_t n;
  *extends = NULL;
  if (sos_app_parse(text, len, "fuzz.sos", &app, err, errlen) != 0) return NULL;
  check_app(app);
  if (sos_app_print(app, &out, &n) != 0) broken("print failed", NULL);
  if (strlen(out) != n) broken("print's length is wrong", out);
  if (app->extends) *extends = sos_strndup(app->extends, strlen(app->extends));
  sos_app_free(app);
  return out;
}

static bool same_extends(const char *a, const char *b) {
  return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Checks the formatting properties of text, whose canonical print is
 * printed. */
static void check_fmt(const char *text, size_t len, const char *printed,
                      const char *extends) {
  char err[512], *once, *twice, *ext2, *printed2;
  size_t n1, n2;
  if (sos_app_fmt(text, len, "fuzz.sos", &once, &n1, err, sizeof err) != 0)
    broken("fmt fails on a definition that parses", err);
  printed2 = parse_print(once, n1, &ext2, err, sizeof err);
  if (!printed2) broken("fmt's output does not parse", err);
  if (strcmp(printed, printed2) != 0) broken("fmt changed the definition", once);
  if (!same_extends(extends, ext2)) broken("fmt changed extends", once);
  if (sos_app_fmt(once, n1, "fuzz.sos", &twice, &n2, err, sizeof err) != 0)
    broken("fmt fails on its own output", err);
  if (n1 != n2 || memcmp(once, twice, n1) != 0) broken("fmt is not idempotent", once);
  sos_free(printed2);
  sos_free(ext2);
  sos_free(once);
  sos_free(twice);
}

/* The libFuzzer entry point. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *text = (const char *)data;
  char err[512], err2[512], *extends, *out, *again, *ext2;
  size_t n;
  char *printed = parse_print(text, size, &extends, err, sizeof err);
  if (!printed) {
    if (sos_app_fmt(text, size, "fuzz.sos", &out, &n, err2, sizeof err2) == 0)
      broken("fmt accepts what parse refuses", err);
    if (strcmp(err, err2) != 0) broken("fmt and parse report different errors", err2);
    return 0;
  }
  again = parse_print(printed, strlen(printed), &ext2, err, sizeof err);
  if (!again) broken("the canonical print does not parse", err);
  if (strcmp(printed, again) != 0) broken("print -> parse -> print differs", again);
  check_fmt(text, size, printed, extends);
  sos_free(again);
  sos_free(ext2);
  sos_free(printed);
  sos_free(extends);
  return 0;
}

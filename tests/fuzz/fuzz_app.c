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
 *     nothing (idempotence).
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

/* Parses text and returns its canonical print (NULL when it does not
 * parse); *extends gets a copy of its extends path, or NULL. */
static char *parse_print(const char *text, size_t len, char **extends, char *err,
                         size_t errlen) {
  struct sos_app *app;
  char *out = NULL;
  size_t n;
  *extends = NULL;
  if (sos_app_parse(text, len, "fuzz.sos", &app, err, errlen) != 0) return NULL;
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

/*
 * fuzz_idl.c - libFuzzer target for the wire codec (src/idl).
 *
 * The schema (parsed once from the text below) holds a field of every
 * type, plain, as a list and optional, an enum, a union, and a struct
 * that reaches itself through a list, so inputs can nest to the depth
 * limit.  Every input is used twice: as wire bytes of struct All and as
 * JSON text for it.  Beyond "no crash, no leak, no undefined behaviour",
 * the target checks what docs/wire.md promises, and aborts (a finding)
 * when one fails:
 *
 *   - as bytes: sos_idl_to_json succeeds exactly when sos_idl_check does
 *     (with the same message when both fail); the JSON it prints reads
 *     back (sos_idl_from_json) into bytes that check, and that print the
 *     same JSON again; sos_idl_get_field walks every field path without
 *     failing on checked bytes;
 *   - as JSON: whatever sos_idl_from_json accepts checks as wire bytes,
 *     and prints as JSON that reads back into the very same bytes
 *     (the encoding is canonical).
 *
 * Built by scripts/fuzz.sh (target "idl") with clang
 * -fsanitize=fuzzer,address,undefined.
 */
#include "sos/app.h"
#include "sos/base.h"
#include "sos/idl.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char schema[] =
    "app fuzz 1.0.0 {\n"
    "  sources \"x.c\"\n"
    "  enum Mood { calm = 0; happy = 1; grumpy = 2; far = 2147483647 }\n"
    "  struct Inner { name: text = 1; n: i32 = 2; kids: list<Inner> = 3; mood: Mood = 4 }\n"
    "  struct All {\n"
    "    a_bool: bool = 1; a_u8: u8 = 2; a_u16: u16 = 3; a_u32: u32 = 4; a_u64: u64 = 5\n"
    "    a_i8: i8 = 6; a_i16: i16 = 7; a_i32: i32 = 8; a_i64: i64 = 9\n"
    "    a_f32: f32 = 10; a_f64: f64 = 11; a_text: text = 12; a_bytes: bytes = 13\n"
    "    a_mood: Mood = 14; a_inner: Inner = 15\n"
    "    l_bool: list<bool> = 16; l_u8: list<u8> = 17; l_u16: list<u16> = 18\n"
    "    l_u32: list<u32> = 19; l_u64: list<u64> = 20; l_i8: list<i8> = 21\n"
    "    l_i16: list<i16> = 22; l_i32: list<i32> = 23; l_i64: list<i64> = 24\n"
    "    l_f32: list<f32> = 25; l_f64: list<f64> = 26; l_text: list<text> = 27\n"
    "    l_bytes: list<bytes> = 28; l_mood: list<Mood> = 29; l_inner: list<Inner> = 30\n"
    "    o_u32: optional u32 = 31; o_text: optional text = 32; o_inner: optional Inner = 33\n"
    "    o_f64: optional f64 = 34; o_mood: optional Mood = 35\n"
    "    union pick { p_i64: i64 = 40; p_text: text = 41; p_inner: Inner = 42 }\n"
    "    far: u8 = 1000\n"
    "  }\n"
    "  service x {}\n"
    "}\n";

static struct sos_idl *idl;
static int all_type;

/* Stops the run with a message: a property did not hold. */
static void broken(const char *what, const char *detail) {
  fprintf(stderr, "fuzz_idl: %s\n%s\n", what, detail ? detail : "");
  abort();
}

static void setup(void) {
  struct sos_app *app;
  char err[512];
  if (sos_app_parse(schema, strlen(schema), "fuzz.sos", &app, err, sizeof err) != 0)
    broken("the schema does not parse", err);
  if (sos_idl_new(app, &idl, err, sizeof err) != 0) broken("the schema does not compile", err);
  sos_app_free(app);
  all_type = sos_idl_struct(idl, "All");
  if (all_type < 0) broken("no struct All", NULL);
}

/* Every field path of All worth walking. */
static const char *const paths[] = {"a_u64",      "a_text",        "a_inner.name",
                                    "a_inner.kids", "l_inner",     "o_inner.mood",
                                    "p_i64",      "p_inner.n",     "far",
                                    "a_f32",      NULL};

/* Checks the properties of data as wire bytes. */
static void as_wire(const uint8_t *data, size_t size) {
  char err[512], err2[512], *json = NULL, *json2 = NULL;
  size_t len, n2;
  uint8_t *bytes;
  int rc = sos_idl_check(idl, all_type, data, size, err, sizeof err);
  int rc2 = sos_idl_to_json(idl, all_type, data, size, &json, &len, err2, sizeof err2);
  if (rc != rc2) broken("check and to_json disagree", rc ? err : err2);
  if (rc) {
    if (rc != SOS_EMALFORMED || strcmp(err, err2) != 0) broken("different messages", err2);
    return;
  }
  for (int i = 0; paths[i]; i++) {
    struct sos_idl_value v;
    if (sos_idl_get_field(idl, all_type, data, size, paths[i], &v, err, sizeof err) != 0)
      broken("get_field fails on checked bytes", err);
    if (v.present && v.wire == 2 && (v.p < data || v.p + v.n > data + size))
      broken("get_field points outside the message", paths[i]);
  }
  if (strlen(json) != len) broken("to_json's length is wrong", json);
  if (sos_idl_from_json(idl, all_type, json, len, &bytes, &n2, err, sizeof err) != 0)
    broken("to_json's output does not read back", err);
  if (sos_idl_check(idl, all_type, bytes, n2, err, sizeof err) != 0)
    broken("from_json wrote bytes that do not check", err);
  if (sos_idl_to_json(idl, all_type, bytes, n2, &json2, NULL, err, sizeof err) != 0)
    broken("re-encoded bytes do not print", err);
  if (strcmp(json, json2) != 0) broken("JSON -> wire -> JSON differs", json2);
  sos_free(json);
  sos_free(json2);
  sos_free(bytes);
}

/* Checks the properties of data as JSON text. */
static void as_json(const uint8_t *data, size_t size) {
  char err[512], *json;
  size_t n1, n2, len;
  uint8_t *b1, *b2;
  if (sos_idl_from_json(idl, all_type, (const char *)data, size, &b1, &n1, err, sizeof err))
    return;
  if (sos_idl_check(idl, all_type, b1, n1, err, sizeof err) != 0)
    broken("from_json wrote bytes that do not check", err);
  if (sos_idl_to_json(idl, all_type, b1, n1, &json, &len, err, sizeof err) != 0)
    broken("from_json's bytes do not print", err);
  if (sos_idl_from_json(idl, all_type, json, len, &b2, &n2, err, sizeof err) != 0)
    broken("printed JSON does not read back", err);
  if (n1 != n2 || memcmp(b1, b2, n1) != 0) broken("the encoding is not canonical", json);
  sos_free(json);
  sos_free(b1);
  sos_free(b2);
}

/* The libFuzzer entry point. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!idl) setup();
  as_wire(data, size);
  as_json(data, size);
  return 0;
}

/*
 * idl_test.c - the host codec of the SOS wire format (src/idl,
 * include/sos/idl.h) against docs/wire.md.
 *
 * Schemas are built by hand (a small builder below makes struct sos_app
 * values the way the parser would) so these tests do not depend on the
 * language's parser.  What is checked: compiling (unknown types, structs
 * containing themselves, repeated tags) and lookups; the example of
 * docs/wire.md to the byte; JSON -> wire -> JSON round trips for every
 * type, plain, as a list and as an optional field, integers at their
 * extremes, floats with NaN, infinities and -0.0, multi-byte UTF-8,
 * base64, nested and recursive structs, unions and enums; every malformed
 * message rejected with its exact message; unknown tags skipped and
 * repeated fields keeping their last value; every JSON error; picking
 * fields (sos_idl_get_field); `sos describe`'s text; the compatibility
 * rules; that checking allocates nothing; and an allocation-failure sweep
 * over every call that allocates.
 */
#include "sos/app.h"
#include "sos/base.h"
#include "sos/idl.h"
#include "test.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>

/* ---- building definitions by hand --------------------------------------------- */

static uint32_t next_line = 1; /* each declaration gets a line of its own */

static char *dup(const char *s) {
  return s ? sos_strndup(s, strlen(s)) : NULL;
}

/* Appends a zeroed element of size bytes to *arr (n elements). */
static void *push(void *arrp, uint32_t *n, size_t size) {
  char *arr;
  memcpy(&arr, arrp, sizeof arr);
  arr = sos_realloc(arr, (*n + 1) * size);
  if (!arr) abort();
  memset(arr + *n * size, 0, size);
  memcpy(arrp, &arr, sizeof arr);
  return arr + (*n)++ * size;
}

static struct sos_app_pos pos_next(uint32_t col) {
  return (struct sos_app_pos){next_line++, col};
}

static struct sos_app *app_new(void) {
  struct sos_app *a = sos_calloc(1, sizeof *a);
  a->file = dup("app.sos");
  a->name = dup("t");
  a->version = dup("1.0.0");
  return a;
}

static struct sos_app_struct *find_struct(struct sos_app *a, const char *name) {
  for (uint32_t i = 0; i < a->nstructs; i++)
    if (strcmp(a->structs[i].name, name) == 0) return &a->structs[i];
  return NULL;
}

static bool is_enum(const struct sos_app *a, const char *name) {
  for (uint32_t i = 0; i < a->nenums; i++)
    if (strcmp(a->enums[i].name, name) == 0) return true;
  return false;
}

static void add_struct(struct sos_app *a, const char *name) {
  struct sos_app_struct *st = push(&a->structs, &a->nstructs, sizeof *st);
  st->name = dup(name);
  st->package = dup(a->name);
  st->pos = pos_next(3);
  a->nstructs_own = a->nstructs;
}

/* Adds field name to struct sn, its type written as in SOS: "u32",
 * "list<text>", "optional Person", "Mood" (an enum when one is declared by
 * that name, else a struct).  group is a union name or NULL. */
static void add_variant(struct sos_app *a, const char *sn, const char *group,
                        const char *name, const char *type, uint32_t tag) {
  struct sos_app_struct *st = find_struct(a, sn);
  if (!st) abort();
  struct sos_app_field *f = push(&st->fields, &st->nfields, sizeof *f);
  f->name = dup(name);
  f->tag = tag;
  f->pos = pos_next(5);
  if (strncmp(type, "optional ", 9) == 0) f->flags |= SOS_APP_F_OPTIONAL, type += 9;
  char base[64];
  snprintf(base, sizeof base, "%s", type);
  if (strncmp(type, "list<", 5) == 0) {
    f->flags |= SOS_APP_F_LIST;
    snprintf(base, sizeof base, "%.*s", (int)strlen(type) - 6, type + 5);
  }
  for (uint8_t t = SOS_APP_T_BOOL; t <= SOS_APP_T_BYTES; t++)
    if (strcmp(sos_app_type_name(t), base) == 0) f->type = t;
  if (!f->type) {
    f->type = is_enum(a, base) ? SOS_APP_T_ENUM : SOS_APP_T_STRUCT;
    f->type_name = dup(base);
  }
  if (!group) return;
  for (uint32_t i = 0; i < st->nunions && !f->group; i++)
    if (strcmp(st->unions[i], group) == 0) f->group = (uint16_t)(i + 1);
  if (!f->group) {
    char **u = push(&st->unions, &st->nunions, sizeof *u);
    *u = dup(group);
    f->group = (uint16_t)st->nunions;
  }
}

static void add_field(struct sos_app *a, const char *sn, const char *name, const char *type,
                      uint32_t tag) {
  add_variant(a, sn, NULL, name, type, tag);
}

/* Adds enum name with values given as "name", number pairs, ending in NULL. */
static void add_enum(struct sos_app *a, const char *name, ...) {
  struct sos_app_enum *e = push(&a->enums, &a->nenums, sizeof *e);
  e->name = dup(name);
  e->package = dup(a->name);
  e->pos = pos_next(3);
  a->nenums_own = a->nenums;
  va_list ap;
  va_start(ap, name);
  for (const char *v; (v = va_arg(ap, const char *));) {
    struct sos_app_enum_value *x = push(&e->values, &e->nvalues, sizeof *x);
    x->name = dup(v);
    x->value = va_arg(ap, unsigned);
    x->pos = pos_next(5);
  }
  va_end(ap);
}

static struct sos_app_interface *add_interface(struct sos_app *a, const char *name) {
  struct sos_app_interface *in = push(&a->interfaces, &a->ninterfaces, sizeof *in);
  in->name = dup(name);
  in->package = dup(a->name);
  in->pos = pos_next(3);
  a->ninterfaces_own = a->ninterfaces;
  return in;
}

static void add_method(struct sos_app_interface *in, const char *name, const char *req,
                       const char *resp) {
  struct sos_app_method *m = push(&in->methods, &in->nmethods, sizeof *m);
  m->name = dup(name);
  m->request = dup(req);
  m->response = dup(resp);
  m->pos = pos_next(5);
}

static void add_error(struct sos_app_interface *in, const char *name, uint32_t code) {
  struct sos_app_error *e = push(&in->errors, &in->nerrors, sizeof *e);
  e->name = dup(name);
  e->code = code;
  e->pos = pos_next(5);
}

/* ---- the schemas ---------------------------------------------------------------- */

/* docs/wire.md's example. */
static struct sos_app *example_app(void) {
  struct sos_app *a = app_new();
  add_struct(a, "HelloReq");
  add_field(a, "HelloReq", "name", "text", 1);
  add_field(a, "HelloReq", "times", "u32", 2);
  add_field(a, "HelloReq", "loud", "bool", 3);
  return a;
}

/* The greeter of the language's examples, parsed from text. */
static const char greeter_text[] =
    "app greeter 1.0.0 {\n"
    "  sources \"greeter.c\"\n"
    "  enum Mood { calm = 0; happy = 1; grumpy = 2 }\n"
    "  struct HelloReq {\n"
    "    name: text = 1\n"
    "    times: u32 = 2\n"
    "    mood: Mood = 3\n"
    "    tags: list<text> = 4\n"
    "    note: optional text = 5\n"
    "    from: Person = 6\n"
    "    union contact { email: text = 7; phone: u64 = 8 }\n"
    "  }\n"
    "  struct Person { name: text = 1; age: u8 = 2; scores: list<i32> = 3 }\n"
    "  struct HelloResp { greeting: text = 1; people: list<Person> = 2 }\n"
    "  struct Empty {}\n"
    "  struct Count { n: u64 = 1 }\n"
    "  interface Greeter {\n"
    "    hello(HelloReq) -> HelloResp\n"
    "    count(Empty) -> Count\n"
    "    error not_found = 1\n"
    "    error too_many = 2\n"
    "  }\n"
    "  struct Entry { id: u64 = 1; who: text = 2; score: i32 = 3 }\n"
    "  store people: table Entry key id\n"
    "  service greeter implements Greeter { instances 1..4 }\n"
    "}\n";

static struct sos_app *greeter_app(void) {
  struct sos_app *a = NULL;
  char err[256];
  if (sos_app_parse(greeter_text, strlen(greeter_text), "app.sos", &a, err, sizeof err)) {
    fprintf(stderr, "greeter: %s\n", err);
    abort();
  }
  return a;
}

static const char *const type_names[] = {"bool", "u8",  "u16",  "u32",   "u64",  "i8",
                                         "i16",  "i32", "i64",  "f32",   "f64",  "text",
                                         "bytes", "Mood", "Inner", NULL};

/* For each type T of type_names a struct T_T { v: T = 1; l: list<T> = 2;
 * o: optional T = 3 }, and Inner { name: text = 1; n: i32 = 2; kids:
 * list<Inner> = 3 } (recursive through a list), and Pick with a union. */
static struct sos_app *types_app(void) {
  struct sos_app *a = app_new();
  add_enum(a, "Mood", "calm", 0, "happy", 1, "grumpy", 2, NULL);
  add_struct(a, "Inner");
  add_field(a, "Inner", "name", "text", 1);
  add_field(a, "Inner", "n", "i32", 2);
  add_field(a, "Inner", "kids", "list<Inner>", 3);
  for (int i = 0; type_names[i]; i++) {
    char sn[32], t[48];
    snprintf(sn, sizeof sn, "T_%s", type_names[i]);
    add_struct(a, sn);
    add_field(a, sn, "v", type_names[i], 1);
    snprintf(t, sizeof t, "list<%s>", type_names[i]);
    add_field(a, sn, "l", t, 2);
    snprintf(t, sizeof t, "optional %s", type_names[i]);
    add_field(a, sn, "o", t, 3);
  }
  add_struct(a, "Pick");
  add_field(a, "Pick", "id", "u32", 1);
  add_variant(a, "Pick", "choice", "num", "i64", 2);
  add_variant(a, "Pick", "choice", "word", "text", 3);
  add_variant(a, "Pick", "choice", "inner", "Inner", 4);
  add_field(a, "Pick", "after", "text", 5);
  return a;
}

static struct sos_idl *compile(struct sos_app *a) {
  struct sos_idl *s = NULL;
  char err[256];
  int rc = sos_idl_new(a, &s, err, sizeof err);
  if (rc) fprintf(stderr, "  sos_idl_new: %d %s\n", rc, err);
  sos_app_free(a);
  return s;
}

static int type_of(const struct sos_idl *s, const char *name) {
  int t = sos_idl_struct(s, name);
  if (t < 0) fprintf(stderr, "  no struct %s\n", name);
  return t;
}

/* ---- helpers over messages ---------------------------------------------------- */

/* Decodes hex pairs ("0a 03 61") into buf; returns the byte count. */
static size_t unhex(const char *hex, uint8_t *buf, size_t cap) {
  size_t n = 0;
  for (const char *p = hex; *p && n < cap;) {
    if (*p == ' ') {
      p++;
      continue;
    }
    unsigned v;
    if (sscanf(p, "%2x", &v) != 1) abort();
    buf[n++] = (uint8_t)v;
    p += 2;
  }
  return n;
}

static const char *tohex(const uint8_t *p, size_t n) {
  static char buf[4096];
  size_t o = 0;
  buf[0] = 0;
  for (size_t i = 0; i < n && o + 4 < sizeof buf; i++)
    o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%02x", i ? " " : "", p[i]);
  return buf;
}

/* The wire bytes of json as struct sn, in hex ("error: message" when it
 * fails). */
static const char *encode(const struct sos_idl *s, const char *sn, const char *json) {
  static char out[4096];
  uint8_t *w;
  size_t n;
  char err[256];
  int rc = sos_idl_from_json(s, type_of(s, sn), json, strlen(json), &w, &n, err, sizeof err);
  if (rc) {
    snprintf(out, sizeof out, "error: %s", err);
    return out;
  }
  snprintf(out, sizeof out, "%s", tohex(w, n));
  sos_free(w);
  return out;
}

/* The JSON of the wire bytes in hex as struct sn ("error: ..." when it fails). */
static const char *decode(const struct sos_idl *s, const char *sn, const char *hex) {
  static char out[4096];
  uint8_t buf[2048];
  size_t n = unhex(hex, buf, sizeof buf), len;
  char err[256], *json;
  int rc = sos_idl_to_json(s, type_of(s, sn), buf, n, &json, &len, err, sizeof err);
  if (rc) {
    snprintf(out, sizeof out, "error: %s", err);
    return out;
  }
  CHECK_EQ(len, strlen(json));
  snprintf(out, sizeof out, "%s", json);
  sos_free(json);
  return out;
}

/* Whether sos_idl_check refuses hex as sn with exactly message want. */
static bool wire_fails(const struct sos_idl *s, const char *sn, const char *hex,
                       const char *want) {
  uint8_t buf[2048];
  size_t n = unhex(hex, buf, sizeof buf);
  char err[256] = "";
  int rc = sos_idl_check(s, type_of(s, sn), buf, n, err, sizeof err);
  bool ok = rc == SOS_EMALFORMED && strcmp(err, want) == 0;
  if (!ok) fprintf(stderr, "  %s: got %d \"%s\"\n  want \"%s\"\n", hex, rc, err, want);
  return ok;
}

static bool same(const char *got, const char *want) {
  if (strcmp(got, want) == 0) return true;
  fprintf(stderr, "  got  %s\n  want %s\n", got, want);
  return false;
}

/* json as sn encodes to hex want, which prints as json_out, which encodes
 * to the same bytes again. */
static bool round_trip(const struct sos_idl *s, const char *sn, const char *json,
                       const char *want, const char *json_out) {
  char bytes[4096], printed[4096];
  snprintf(bytes, sizeof bytes, "%s", encode(s, sn, json));
  if (!same(bytes, want)) return false;
  snprintf(printed, sizeof printed, "%s", decode(s, sn, bytes));
  if (!same(printed, json_out)) return false;
  return same(encode(s, sn, printed), bytes);
}

#define RT(sn, json, hex, out) CHECK(round_trip(s, sn, json, hex, out))
#define ENC(sn, json, want) CHECK(same(encode(s, sn, json), want))
#define DEC(sn, hex, want) CHECK(same(decode(s, sn, hex), want))
#define BAD_WIRE(sn, hex, want) CHECK(wire_fails(s, sn, hex, want))

/* ---- compiling ------------------------------------------------------------------- */

TEST(idl_new_and_lookups) {
  struct sos_idl *s = compile(greeter_app());
  REQUIRE(s);
  int req = -1, resp = -1;
  int g = sos_idl_interface(s, "Greeter");
  CHECK(g >= 0);
  CHECK_EQ(sos_idl_interface(s, "Nope"), SOS_ENOENT);
  CHECK_EQ(sos_idl_method(s, g, "count", &req, &resp), 1);
  CHECK_STR(sos_idl_struct_name(s, req), "Empty");
  CHECK_STR(sos_idl_struct_name(s, resp), "Count");
  CHECK_EQ(sos_idl_method(s, g, "hello", &req, NULL), 0);
  CHECK_EQ(req, sos_idl_struct(s, "HelloReq"));
  CHECK_EQ(sos_idl_method(s, g, "bye", &req, &resp), SOS_ENOENT);
  CHECK_EQ(sos_idl_method(s, 7, "hello", &req, &resp), SOS_ENOENT);
  CHECK_STR(sos_idl_error_name(s, g, 2), "too_many");
  CHECK(sos_idl_error_name(s, g, 3) == NULL);
  CHECK_EQ(sos_idl_struct(s, "Persons"), SOS_ENOENT);
  CHECK(sos_idl_struct_name(s, 99) == NULL);
  CHECK(sos_idl_struct_name(s, -1) == NULL);
  sos_idl_free(s);
  sos_idl_free(NULL);
}

/* The field named fn of struct sn in a. */
static struct sos_app_field *field_of(struct sos_app *a, const char *sn, const char *fn) {
  struct sos_app_struct *st = find_struct(a, sn);
  for (uint32_t i = 0; st && i < st->nfields; i++)
    if (strcmp(st->fields[i].name, fn) == 0) return &st->fields[i];
  abort();
}

static void set_str(char **p, const char *v) {
  sos_free(*p);
  *p = dup(v);
}

/* Whether compiling a fails with exactly want. */
static bool new_fails(struct sos_app *a, const char *want) {
  struct sos_idl *s = (struct sos_idl *)1;
  char err[256] = "";
  int rc = sos_idl_new(a, &s, err, sizeof err);
  sos_app_free(a);
  bool ok = rc == SOS_EINVAL && s == NULL && strcmp(err, want) == 0;
  if (!ok) fprintf(stderr, "  got %d \"%s\"\n  want \"%s\"\n", rc, err, want);
  if (rc == 0) sos_idl_free(s);
  return ok;
}

TEST(idl_new_refuses_bad_schemas) {
  struct sos_app *a = greeter_app();
  set_str(&field_of(a, "HelloReq", "from")->type_name, "Persn");
  CHECK(new_fails(a, "HelloReq.from: unknown struct type Persn"));

  a = app_new();
  add_struct(a, "A");
  add_field(a, "A", "b", "B", 1);
  add_struct(a, "B");
  add_field(a, "B", "x", "u8", 1);
  add_field(a, "B", "a", "A", 2);
  CHECK(new_fails(a, "struct A contains itself: A.b -> B.a -> A"));

  a = app_new();
  add_struct(a, "Self");
  add_field(a, "Self", "me", "optional Self", 4);
  CHECK(new_fails(a, "struct Self contains itself: Self.me -> Self"));

  a = app_new();
  add_struct(a, "T");
  add_field(a, "T", "x", "u8", 3);
  add_field(a, "T", "y", "text", 3);
  CHECK(new_fails(a, "T: fields x and y share tag 3"));

  a = app_new();
  add_struct(a, "T");
  add_field(a, "T", "x", "Mood", 1); /* no enum Mood: taken as a struct */
  CHECK(new_fails(a, "T.x: unknown struct type Mood"));

  a = app_new();
  add_struct(a, "T");
  struct sos_app_interface *in = add_interface(a, "I");
  add_method(in, "m", "T", "Nope");
  CHECK(new_fails(a, "I.m: unknown struct Nope"));

  /* A list breaks the cycle. */
  a = app_new();
  add_struct(a, "Tree");
  add_field(a, "Tree", "kids", "list<Tree>", 1);
  struct sos_idl *s = compile(a);
  CHECK(s != NULL);
  sos_idl_free(s);
}

/* ---- the wire format ---------------------------------------------------------- */

TEST(idl_wire_example) {
  struct sos_idl *s = compile(example_app());
  REQUIRE(s);
  RT("HelloReq", "{\"name\": \"ada\", \"times\": 300, \"loud\": false}",
     "0a 03 61 64 61 10 ac 02", "{\"name\":\"ada\",\"times\":300,\"loud\":false}");
  /* Any order in, declared order out; zero values take no bytes. */
  ENC("HelloReq", "{\"loud\": true, \"times\": 0, \"name\": \"\"}", "18 01");
  ENC("HelloReq", "{}", "");
  DEC("HelloReq", "", "{\"name\":\"\",\"times\":0,\"loud\":false}");
  /* Fields in any order on the wire; padded varints are accepted. */
  DEC("HelloReq", "18 01 10 ac 82 80 80 00 0a 01 41",
      "{\"name\":\"A\",\"times\":300,\"loud\":true}");
  sos_idl_free(s);
}

TEST(idl_integers_at_their_extremes) {
  struct sos_idl *s = compile(types_app());
  REQUIRE(s);
  RT("T_bool", "{\"v\":true,\"l\":[true,false,true]}", "08 01 12 03 01 00 01",
     "{\"v\":true,\"l\":[true,false,true]}");
  RT("T_u8", "{\"v\":255,\"l\":[0,1,255]}", "08 ff 01 12 04 00 01 ff 01",
     "{\"v\":255,\"l\":[0,1,255]}");
  RT("T_u16", "{\"v\":65535}", "08 ff ff 03", "{\"v\":65535,\"l\":[]}");
  RT("T_u32", "{\"v\":4294967295}", "08 ff ff ff ff 0f", "{\"v\":4294967295,\"l\":[]}");
  RT("T_u64", "{\"v\":\"18446744073709551615\",\"l\":[9007199254740992,9007199254740993]}",
     "08 ff ff ff ff ff ff ff ff ff 01 12 10 80 80 80 80 80 80 80 10 81 80 80 80 80 80 80 10",
     "{\"v\":\"18446744073709551615\",\"l\":[9007199254740992,\"9007199254740993\"]}");
  RT("T_i8", "{\"v\":-128,\"l\":[127,-1,1,-2,0]}", "08 ff 01 12 06 fe 01 01 02 03 00",
     "{\"v\":-128,\"l\":[127,-1,1,-2,0]}");
  RT("T_i16", "{\"v\":-32768,\"l\":[32767]}", "08 ff ff 03 12 03 fe ff 03",
     "{\"v\":-32768,\"l\":[32767]}");
  RT("T_i32", "{\"v\":-2147483648,\"l\":[2147483647]}", "08 ff ff ff ff 0f 12 05 fe ff ff ff 0f",
     "{\"v\":-2147483648,\"l\":[2147483647]}");
  RT("T_i64", "{\"v\":\"-9223372036854775808\",\"l\":[\"9223372036854775807\",-9007199254740992]}",
     "08 ff ff ff ff ff ff ff ff ff 01 12 12 fe ff ff ff ff ff ff ff ff 01 ff ff ff ff ff ff ff 1f",
     "{\"v\":\"-9223372036854775808\",\"l\":[\"9223372036854775807\",-9007199254740992]}");
  /* Exact from digits, as numbers or strings; whole numbers in other forms. */
  ENC("T_u64", "{\"v\":18446744073709551615}", "08 ff ff ff ff ff ff ff ff ff 01");
  ENC("T_i64", "{\"v\":\"-1\"}", "08 01");
  ENC("T_u32", "{\"v\":1e2}", "08 64");
  ENC("T_u32", "{\"v\":7.0}", "08 07");
  ENC("T_u32", "{\"v\":-0}", "");
  sos_idl_free(s);
}

TEST(idl_floats) {
  struct sos_idl *s = compile(types_app());
  REQUIRE(s);
  RT("T_f64", "{\"v\":0.1,\"l\":[\"NaN\",\"Infinity\",\"-Infinity\",-0,1e+300,5e-324]}",
     "09 9a 99 99 99 99 99 b9 3f 12 30 00 00 00 00 00 00 f8 7f 00 00 00 00 00 00 f0 7f "
     "00 00 00 00 00 00 f0 ff 00 00 00 00 00 00 00 80 9c 75 00 88 3c e4 37 7e "
     "01 00 00 00 00 00 00 00",
     "{\"v\":0.1,\"l\":[\"NaN\",\"Infinity\",\"-Infinity\",-0,1e+300,5e-324]}");
  /* -0.0 is not the zero value: it is written; 0.0 is not. */
  ENC("T_f64", "{\"v\":-0.0}", "09 00 00 00 00 00 00 00 80");
  ENC("T_f64", "{\"v\":0.0}", "");
  RT("T_f64", "{\"o\":0}", "19 00 00 00 00 00 00 00 00", "{\"v\":0,\"l\":[],\"o\":0}");
  RT("T_f32", "{\"v\":0.1,\"l\":[3.4028235e+38,\"NaN\",-1.5]}",
     "0d cd cc cc 3d 12 0c ff ff 7f 7f 00 00 c0 7f 00 00 c0 bf",
     "{\"v\":0.1,\"l\":[3.4028235e+38,\"NaN\",-1.5]}");
  /* Every NaN prints as "NaN", payload or not. */
  DEC("T_f64", "09 01 00 00 00 00 00 f8 ff", "{\"v\":\"NaN\",\"l\":[]}");
  DEC("T_f32", "0d 01 00 80 7f", "{\"v\":\"NaN\",\"l\":[]}");
  ENC("T_f32", "{\"v\":1e39}", "error: T_f32.v: 1e39 does not fit f32");
  ENC("T_f64", "{\"v\":1e400}", "error: T_f64.v: 1e400 does not fit f64");
  ENC("T_f64", "{\"v\":\"nan\"}", "error: T_f64.v: \"nan\" is not a number");
  ENC("T_f64", "{\"v\":true}", "error: T_f64.v: expected a number, got true");
  ENC("T_f32", "{\"v\":1}", "0d 00 00 80 3f");
  sos_idl_free(s);
}

TEST(idl_text_and_bytes) {
  struct sos_idl *s = compile(types_app());
  REQUIRE(s);
  /* é (2 bytes), ✓ (3), 𝄞 (4, given as a surrogate pair), escapes. */
  RT("T_text", "{\"v\":\"h\\u00e9 \\u2713 \\ud834\\udd1e\",\"l\":[\"\",\"a\\\"\\\\\\n\\u0000\\u001f\"]}",
     "0a 0c 68 c3 a9 20 e2 9c 93 20 f0 9d 84 9e 12 08 00 06 61 22 5c 0a 00 1f",
     "{\"v\":\"h\xc3\xa9 \xe2\x9c\x93 \xf0\x9d\x84\x9e\",\"l\":[\"\",\"a\\\"\\\\\\n\\u0000\\u001f\"]}");
  RT("T_text", "{\"o\":\"\"}", "1a 00", "{\"v\":\"\",\"l\":[],\"o\":\"\"}");
  ENC("T_text", "{\"v\":\"\\/\\b\\f\\r\\t\"}", "0a 05 2f 08 0c 0d 09");
  DEC("T_text", "0a 05 2f 08 0c 0d 09 ", "{\"v\":\"/\\b\\f\\r\\t\",\"l\":[]}");
  RT("T_bytes", "{\"v\":\"AAEC/w==\",\"l\":[\"\",\"AA==\",\"AAE=\",\"+/+/\"]}",
     "0a 04 00 01 02 ff 12 0a 00 01 00 02 00 01 03 fb ff bf",
     "{\"v\":\"AAEC/w==\",\"l\":[\"\",\"AA==\",\"AAE=\",\"+/+/\"]}");
  static const char *const bad64[] = {"AA=", "A===", "AB==", "AAF=", "A@==", "=AAA",
                                      "AA==AA==", "AAE", "AA=A", NULL};
  for (int i = 0; bad64[i]; i++) {
    char json[64];
    snprintf(json, sizeof json, "{\"v\":\"%s\"}", bad64[i]);
    ENC("T_bytes", json, "error: T_bytes.v: invalid base64");
  }
  ENC("T_bytes", "{\"v\":3}", "error: T_bytes.v: expected a base64 string, got a number");
  /* A long text takes a two-byte length: the content is moved up. */
  char json[400], want[1200];
  memset(json, 0, sizeof json);
  strcpy(json, "{\"v\":\"");
  memset(json + 6, 'x', 200);
  strcat(json, "\"}");
  int o = snprintf(want, sizeof want, "0a c8 01");
  for (int i = 0; i < 200; i++) o += snprintf(want + o, sizeof want - (size_t)o, " 78");
  ENC("T_text", json, want);
  sos_idl_free(s);
}

TEST(idl_enums_structs_lists) {
  struct sos_idl *s = compile(types_app());
  REQUIRE(s);
  RT("T_Mood", "{\"v\":\"grumpy\",\"l\":[\"calm\",\"happy\",7],\"o\":\"calm\"}",
     "08 02 12 03 00 01 07 18 00",
     "{\"v\":\"grumpy\",\"l\":[\"calm\",\"happy\",7],\"o\":\"calm\"}");
  ENC("T_Mood", "{\"v\":1}", "08 01");
  ENC("T_Mood", "{\"v\":\"2147483647\"}", "08 ff ff ff ff 07");
  ENC("T_Mood", "{\"v\":2147483648}",
      "error: T_Mood.v: 2147483648 does not fit an enum (0 to 2^31 - 1)");
  ENC("T_Mood", "{\"v\":\"sad\"}", "error: T_Mood.v: \"sad\" is not a value of enum Mood");
  DEC("T_Mood", "", "{\"v\":\"calm\",\"l\":[]}");
  /* Structs: nested, absent (zero, printed in full), in lists (an empty
   * element keeps its place), optional and empty. */
  RT("T_Inner",
     "{\"v\":{\"name\":\"a\",\"kids\":[{\"n\":-1},{}]},\"l\":[{},{\"name\":\"b\"}],\"o\":{}}",
     "0a 09 0a 01 61 1a 04 02 10 01 00 12 05 00 03 0a 01 62 1a 00",
     "{\"v\":{\"name\":\"a\",\"n\":0,\"kids\":[{\"name\":\"\",\"n\":-1,\"kids\":[]},"
     "{\"name\":\"\",\"n\":0,\"kids\":[]}]},\"l\":[{\"name\":\"\",\"n\":0,\"kids\":[]},"
     "{\"name\":\"b\",\"n\":0,\"kids\":[]}],\"o\":{\"name\":\"\",\"n\":0,\"kids\":[]}}");
  ENC("T_Inner", "{\"v\":{\"name\":\"\"}}", "");
  DEC("T_Inner", "", "{\"v\":{\"name\":\"\",\"n\":0,\"kids\":[]},\"l\":[]}");
  /* Optional: present with zero differs from absent. */
  RT("T_u32", "{\"o\":0}", "18 00", "{\"v\":0,\"l\":[],\"o\":0}");
  RT("T_u32", "{\"o\":null}", "", "{\"v\":0,\"l\":[]}");
  RT("T_bool", "{\"o\":false}", "18 00", "{\"v\":false,\"l\":[],\"o\":false}");
  RT("T_text", "{\"l\":[]}", "", "{\"v\":\"\",\"l\":[]}");
  sos_idl_free(s);
}

TEST(idl_unions) {
  struct sos_idl *s = compile(types_app());
  REQUIRE(s);
  RT("Pick", "{\"num\":0}", "10 00", "{\"id\":0,\"num\":0,\"after\":\"\"}");
  RT("Pick", "{\"after\":\"z\",\"word\":\"w\",\"id\":1}", "08 01 1a 01 77 2a 01 7a",
     "{\"id\":1,\"word\":\"w\",\"after\":\"z\"}");
  RT("Pick", "{\"inner\":{},\"num\":null}", "22 00",
     "{\"id\":0,\"inner\":{\"name\":\"\",\"n\":0,\"kids\":[]},\"after\":\"\"}");
  ENC("Pick", "{\"num\":1,\"word\":\"w\"}",
      "error: Pick: more than one variant of union choice given (num, word)");
  /* On the wire, the last variant wins. */
  DEC("Pick", "1a 01 77 10 04", "{\"id\":0,\"num\":2,\"after\":\"\"}");
  DEC("Pick", "10 04 1a 01 77", "{\"id\":0,\"word\":\"w\",\"after\":\"\"}");
  DEC("Pick", "10 04 1a 01 77 10 06", "{\"id\":0,\"num\":3,\"after\":\"\"}");
  sos_idl_free(s);
}

TEST(idl_unknown_tags_and_repeats) {
  struct sos_idl *s = compile(example_app());
  REQUIRE(s);
  /* Tags 9 to 12 with each wire type, a tag past 65535, tag 0: skipped. */
  DEC("HelloReq", "48 96 01 51 01 02 03 04 05 06 07 08 5a 02 ff ff 65 01 02 03 04 "
                  "80 80 80 08 00 02 01 ff 10 07",
      "{\"name\":\"\",\"times\":7,\"loud\":false}");
  /* A repeated field keeps its last value. */
  DEC("HelloReq", "10 01 0a 01 61 10 02 0a 01 62", "{\"name\":\"b\",\"times\":2,\"loud\":false}");
  sos_idl_free(s);
  s = compile(greeter_app());
  REQUIRE(s);
  /* Lists too: the later list replaces the earlier. */
  DEC("Person", "1a 02 02 04 1a 01 06", "{\"name\":\"\",\"age\":0,\"scores\":[3]}");
  sos_idl_free(s);
}

/* Nested Inner values depth deep through kids (Inner being level 1). */
static size_t nest(uint8_t *buf, int depth) {
  if (depth == 1) return 0;
  uint8_t inner[256];
  size_t n = nest(inner, depth - 1);
  buf[0] = 0x1a;            /* kids: tag 3, LEN */
  buf[1] = (uint8_t)(n + 1); /* the list: one element */
  buf[2] = (uint8_t)n;
  memcpy(buf + 3, inner, n);
  return n + 3;
}

TEST(idl_malformed_messages) {
  struct sos_idl *s = compile(example_app());
  REQUIRE(s);
  BAD_WIRE("HelloReq", "10 ac", "HelloReq.times (tag 2) at byte 1: truncated varint");
  BAD_WIRE("HelloReq", "10 80 80 80 80 80 80 80 80 80 80 00",
           "HelloReq.times (tag 2) at byte 1: varint longer than 10 bytes");
  BAD_WIRE("HelloReq", "10 80 80 80 80 80 80 80 80 80 02",
           "HelloReq.times (tag 2) at byte 1: varint past 2^64 - 1");
  BAD_WIRE("HelloReq", "10 01 90", "HelloReq at byte 2: truncated varint in a key");
  BAD_WIRE("HelloReq", "0b", "HelloReq.name (tag 1) at byte 0: bad wire type 3 (tag 1)");
  BAD_WIRE("HelloReq", "10 01 3f", "HelloReq at byte 2: bad wire type 7 (tag 7)");
  BAD_WIRE("HelloReq", "0c", "HelloReq.name (tag 1) at byte 0: bad wire type 4 (tag 1)");
  BAD_WIRE("HelloReq", "0a 05 61",
           "HelloReq.name (tag 1) at byte 2: length 5 runs past the end (1 left)");
  BAD_WIRE("HelloReq", "0a", "HelloReq.name (tag 1) at byte 1: truncated varint in a length");
  BAD_WIRE("HelloReq", "4a 05", "HelloReq at byte 2: length 5 runs past the end (0 left)");
  BAD_WIRE("HelloReq", "49 00 00", "HelloReq at byte 1: truncated: 8 bytes needed, 2 left");
  BAD_WIRE("HelloReq", "0a 03 61 c0 80", "HelloReq.name (tag 1) at byte 3: invalid UTF-8");
  BAD_WIRE("HelloReq", "0a 03 ed a0 80", "HelloReq.name (tag 1) at byte 2: invalid UTF-8");
  BAD_WIRE("HelloReq", "0a 04 f4 90 80 80", "HelloReq.name (tag 1) at byte 2: invalid UTF-8");
  BAD_WIRE("HelloReq", "0a 03 61 e2 82", "HelloReq.name (tag 1) at byte 3: invalid UTF-8");
  BAD_WIRE("HelloReq", "0a 01 80", "HelloReq.name (tag 1) at byte 2: invalid UTF-8");
  BAD_WIRE("HelloReq", "0a 02 f8 88", "HelloReq.name (tag 1) at byte 2: invalid UTF-8");
  BAD_WIRE("HelloReq", "0a 03 e0 80 80", "HelloReq.name (tag 1) at byte 2: invalid UTF-8");
  BAD_WIRE("HelloReq", "0a 04 f0 80 80 80", "HelloReq.name (tag 1) at byte 2: invalid UTF-8");
  BAD_WIRE("HelloReq", "18 02", "HelloReq.loud (tag 3) at byte 1: 2 is not a bool (0 or 1)");
  BAD_WIRE("HelloReq", "10 80 80 80 80 10",
           "HelloReq.times (tag 2) at byte 1: 4294967296 does not fit u32");
  BAD_WIRE("HelloReq", "08 01",
           "HelloReq.name (tag 1) at byte 0: wire type VARINT where text needs LEN");
  BAD_WIRE("HelloReq", "12 01 01",
           "HelloReq.times (tag 2) at byte 0: wire type LEN where u32 needs VARINT");
  /* Valid: every well-formed 2-, 3- and 4-byte sequence edge. */
  uint8_t ok[] = {0x0a, 0x0e, 0xc2, 0x80, 0xdf, 0xbf, 0xe0, 0xa0, 0x80,
                  0xed, 0x9f, 0xbf, 0xf4, 0x8f, 0xbf, 0xbf};
  CHECK_EQ(sos_idl_check(s, 0, ok, sizeof ok, NULL, 0), 0);
  CHECK_EQ(sos_idl_check(s, 5, ok, sizeof ok, NULL, 0), SOS_EINVAL);
  sos_idl_free(s);

  s = compile(types_app());
  REQUIRE(s);
  BAD_WIRE("T_u8", "08 ac 02", "T_u8.v (tag 1) at byte 1: 300 does not fit u8");
  BAD_WIRE("T_u8", "12 02 01 ac", "T_u8.l (tag 2) at byte 3: truncated varint in a list element");
  BAD_WIRE("T_u8", "12 03 01 ac 02", "T_u8.l (tag 2) at byte 3: 300 does not fit u8");
  BAD_WIRE("T_i8", "08 80 02", "T_i8.v (tag 1) at byte 1: 128 does not fit i8");
  BAD_WIRE("T_i8", "08 81 02", "T_i8.v (tag 1) at byte 1: -129 does not fit i8");
  BAD_WIRE("T_Mood", "08 80 80 80 80 08",
           "T_Mood.v (tag 1) at byte 1: 2147483648 is not an enum number (0 to 2^31 - 1)");
  BAD_WIRE("T_f32", "12 05 00 00 00 00 00",
           "T_f32.l (tag 2) at byte 2: list of 5 bytes is not whole 4-byte elements");
  BAD_WIRE("T_f64", "0d 00 00 00 00",
           "T_f64.v (tag 1) at byte 0: wire type I32 where f64 needs I64");
  BAD_WIRE("T_f64", "09 00 00 00", "T_f64.v (tag 1) at byte 1: truncated: 8 bytes needed, 3 left");
  BAD_WIRE("T_text", "12 03 01 61 05",
           "T_text.l (tag 2) at byte 4: list element of 5 bytes runs past the end (0 left)");
  BAD_WIRE("T_text", "12 03 02 61 ff", "T_text.l (tag 2) at byte 4: invalid UTF-8");
  BAD_WIRE("T_Inner", "0a 02 10 02 0a 06 10 80 80 80 80 10",
           "Inner.n (tag 2) at byte 7: 2147483648 does not fit i32");
  BAD_WIRE("T_Inner", "0a 02 0b 00", "Inner.name (tag 1) at byte 2: bad wire type 3 (tag 1)");
  /* Depth: 32 levels are fine, 33 are not. */
  uint8_t deep[512];
  size_t n = nest(deep, 32);
  CHECK_EQ(sos_idl_check(s, type_of(s, "Inner"), deep, n, NULL, 0), 0);
  n = nest(deep, 33);
  char err[256];
  CHECK_EQ(sos_idl_check(s, type_of(s, "Inner"), deep, n, err, sizeof err), SOS_EMALFORMED);
  CHECK_STR(err, "Inner.kids (tag 3) at byte 96: structs nested deeper than 32 levels");
  char *json = (char *)1;
  CHECK_EQ(sos_idl_to_json(s, type_of(s, "Inner"), deep, n, &json, NULL, err, sizeof err),
           SOS_EMALFORMED);
  CHECK(json == NULL);
  sos_idl_free(s);
}

/* JSON for Inner nested depth deep through kids. */
static char *nest_json(int depth) {
  static char buf[1024];
  buf[0] = 0;
  for (int i = 1; i < depth; i++) strcat(buf, "{\"kids\":[");
  strcat(buf, "{}");
  for (int i = 1; i < depth; i++) strcat(buf, "]}");
  return buf;
}

TEST(idl_json_errors) {
  struct sos_idl *s = compile(greeter_app());
  REQUIRE(s);
  ENC("HelloReq", "{\"times\": 300000000000}",
      "error: HelloReq.times: 300000000000 does not fit u32");
  ENC("HelloReq", "{\"times\": -1}", "error: HelloReq.times: -1 does not fit u32");
  ENC("HelloReq", "{\"times\": 1.5}", "error: HelloReq.times: 1.5 is not an integer");
  ENC("HelloReq", "{\"times\": 1e300}",
      "error: HelloReq.times: 1e300 is too large to be exact; write it as digits");
  ENC("HelloReq", "{\"times\": 99999999999999999999999}",
      "error: HelloReq.times: 99999999999999999999999 is out of range");
  ENC("HelloReq", "{\"times\": \"12a\"}", "error: HelloReq.times: \"12a\" is not an integer");
  ENC("HelloReq", "{\"times\": \"\"}", "error: HelloReq.times: \"\" is not an integer");
  ENC("HelloReq", "{\"times\": \"18446744073709551616\"}",
      "error: HelloReq.times: \"18446744073709551616\" is not an integer");
  ENC("HelloReq", "{\"times\": true}", "error: HelloReq.times: expected an integer, got true");
  ENC("HelloReq", "{\"times\": null}",
      "error: HelloReq.times: null for a field that is not optional");
  ENC("HelloReq", "{\"nmae\": \"x\"}", "error: HelloReq: unknown field \"nmae\"");
  ENC("HelloReq", "{\"name\": \"x\", \"name\": \"y\"}", "error: HelloReq.name: given twice");
  ENC("HelloReq", "{\"name\": 5}", "error: HelloReq.name: expected a string, got a number");
  ENC("HelloReq", "{\"tags\": [\"a\", 5]}",
      "error: HelloReq.tags[1]: expected a string, got a number");
  ENC("HelloReq", "{\"tags\": \"a\"}", "error: HelloReq.tags: expected an array, got a string");
  ENC("HelloReq", "{\"from\": {\"age\": 300}}", "error: Person.age: 300 does not fit u8");
  ENC("HelloReq", "{\"from\": []}", "error: HelloReq.from: expected an object, got an array");
  ENC("HelloReq", "{\"email\": \"a\", \"phone\": 1}",
      "error: HelloReq: more than one variant of union contact given (email, phone)");
  ENC("HelloReq", "[]", "error: HelloReq: expected an object, got an array");
  ENC("HelloReq", "{\"name\": \"x\"", "error: invalid JSON at byte 12: expected ',' or '}'");
  ENC("HelloReq", "{\"name\": \"x\"} x", "error: invalid JSON at byte 14: text after the value");
  ENC("HelloReq", "{\"name\": \"\\ud800\"}",
      "error: invalid JSON at byte 10: unpaired surrogate in \\u escape");
  ENC("HelloReq", "{\"name\": \"\\udc00\\ud800\"}",
      "error: invalid JSON at byte 10: unpaired surrogate in \\u escape");
  ENC("HelloReq", "{\"name\": \"\xc0\x80\"}",
      "error: invalid JSON at byte 10: invalid UTF-8 in a string");
  ENC("HelloReq", "{\"name\": \"a\nb\"}",
      "error: invalid JSON at byte 11: control character in a string");
  ENC("HelloReq", "{\"name\": \"\\x\"}", "error: invalid JSON at byte 10: unknown escape");
  ENC("HelloReq", "{\"times\": 01}", "error: invalid JSON at byte 11: expected ',' or '}'");
  ENC("HelloReq", "{\"times\": +1}", "error: invalid JSON at byte 10: unexpected character");
  ENC("HelloReq", "{\"times\": 1.}", "error: invalid JSON at byte 12: bad number");
  ENC("HelloReq", "", "error: invalid JSON at byte 0: unexpected end");
  ENC("HelloReq", "{,}", "error: invalid JSON at byte 1: expected a name");
  ENC("HelloReq", "{\"a\" 1}", "error: invalid JSON at byte 5: expected ':'");
  ENC("HelloReq", "{\"tags\": [1,]}", "error: invalid JSON at byte 12: unexpected character");
  ENC("HelloReq", "{\"note\": nul}", "error: invalid JSON at byte 9: unexpected character");
  /* Keys may be escaped. */
  ENC("HelloReq", " {\"n\\u0061me\" : \"x\" } ", "0a 01 78");
  /* An empty key (once read past the end of an empty buffer), and a key
   * holding U+0000, are no field names. */
  ENC("HelloReq", "{\"\": 1}", "error: HelloReq: unknown field \"\"");
  ENC("HelloReq", "{\"name\\u0000\": 1}", "error: HelloReq: unknown field \"name\\u0000\"");
  sos_idl_free(s);

  s = compile(types_app());
  REQUIRE(s);
  char want[64];
  snprintf(want, sizeof want, "error: Inner.kids[0]: structs nested deeper than 32 levels");
  ENC("Inner", nest_json(33), want);
  const char *ok = encode(s, "Inner", nest_json(32));
  CHECK(strncmp(ok, "error", 5) != 0);
  /* JSON nesting past 128 is refused before the schema is consulted. */
  char deep[600] = "";
  for (int i = 0; i < 130; i++) strcat(deep, "[");
  ENC("Inner", deep, "error: invalid JSON at byte 128: nested more than 128 deep");
  sos_idl_free(s);
}

TEST(idl_get_field) {
  struct sos_idl *s = compile(greeter_app());
  REQUIRE(s);
  int req = sos_idl_struct(s, "HelloReq");
  const char *json = "{\"name\":\"ada\",\"times\":3,\"tags\":[\"x\",\"yz\"],"
                     "\"from\":{\"name\":\"bob\",\"scores\":[-2,5]},\"phone\":77}";
  uint8_t *w;
  size_t n;
  char err[256];
  REQUIRE(sos_idl_from_json(s, req, json, strlen(json), &w, &n, err, sizeof err) == 0);
  struct sos_idl_value v;
  CHECK_EQ(sos_idl_get_field(s, req, w, n, "name", &v, err, sizeof err), 0);
  CHECK(v.present && v.type == SOS_APP_T_TEXT && v.wire == 2 && v.n == 3);
  CHECK(v.p > w && v.p < w + n && memcmp(v.p, "ada", 3) == 0);
  CHECK_EQ(sos_idl_get_field(s, req, w, n, "times", &v, err, sizeof err), 0);
  CHECK(v.present && v.u == 3 && v.type == SOS_APP_T_U32 && v.tag == 2);
  CHECK_EQ(sos_idl_get_field(s, req, w, n, "from.name", &v, err, sizeof err), 0);
  CHECK(v.present && v.n == 3 && memcmp(v.p, "bob", 3) == 0);
  CHECK_EQ(sos_idl_get_field(s, req, w, n, "from.age", &v, err, sizeof err), 0);
  CHECK(!v.present && v.u == 0 && v.type == SOS_APP_T_U8);
  CHECK_EQ(sos_idl_get_field(s, req, w, n, "from.scores", &v, err, sizeof err), 0);
  CHECK(v.present && (v.flags & SOS_APP_F_LIST) && v.n == 2 && v.p[0] == 3 && v.p[1] == 10);
  CHECK_EQ(sos_idl_get_field(s, req, w, n, "from", &v, err, sizeof err), 0);
  CHECK(v.present && v.type == SOS_APP_T_STRUCT && v.type_index == sos_idl_struct(s, "Person"));
  CHECK_EQ(sos_idl_get_field(s, req, w, n, "phone", &v, err, sizeof err), 0);
  CHECK(v.present && v.u == 77);
  CHECK_EQ(sos_idl_get_field(s, req, w, n, "email", &v, err, sizeof err), 0);
  CHECK(!v.present && v.p == NULL);
  CHECK_EQ(sos_idl_get_field(s, req, w, n, "note", &v, err, sizeof err), 0);
  CHECK(!v.present && (v.flags & SOS_APP_F_OPTIONAL));
  CHECK_EQ(sos_idl_get_field(s, req, w, n, "nmae", &v, err, sizeof err), SOS_ENOENT);
  CHECK_STR(err, "HelloReq has no field nmae");
  CHECK_EQ(sos_idl_get_field(s, req, w, n, "from.x", &v, err, sizeof err), SOS_ENOENT);
  CHECK_STR(err, "Person has no field x");
  CHECK_EQ(sos_idl_get_field(s, req, w, n, "name.x", &v, err, sizeof err), SOS_EINVAL);
  CHECK_STR(err, "HelloReq.name is not a struct");
  CHECK_EQ(sos_idl_get_field(s, req, w, n, "", &v, err, sizeof err), SOS_EINVAL);
  CHECK_EQ(sos_idl_get_field(s, req, w, n, "from.", &v, err, sizeof err), SOS_EINVAL);
  /* An absent struct reads as empty. */
  CHECK_EQ(sos_idl_get_field(s, req, w, 0, "from.name", &v, err, sizeof err), 0);
  CHECK(!v.present);
  /* A later variant hides an earlier one; a later value wins. */
  uint8_t two[] = {0x3a, 0x01, 0x61, 0x40, 0x05, 0x10, 0x01, 0x10, 0x02};
  CHECK_EQ(sos_idl_get_field(s, req, two, sizeof two, "email", &v, err, sizeof err), 0);
  CHECK(!v.present);
  CHECK_EQ(sos_idl_get_field(s, req, two, sizeof two, "times", &v, err, sizeof err), 0);
  CHECK(v.present && v.u == 2);
  CHECK_EQ(sos_idl_get_field(s, req, two, 8, "times", &v, err, sizeof err), SOS_EMALFORMED);
  /* A path resolved once reads every message of its struct, and with no
   * message describes the field's type. */
  struct sos_idl_path at;
  CHECK_EQ(sos_idl_path_resolve(s, req, "from.name.x", 9, &at, err, sizeof err), 0);
  CHECK(at.n == 2 && at.type == req);
  CHECK_EQ(sos_idl_path_get(s, &at, w, n, &v, err, sizeof err), 0);
  CHECK(v.present && v.n == 3 && memcmp(v.p, "bob", 3) == 0);
  CHECK_EQ(sos_idl_path_get(s, &at, two, sizeof two, &v, err, sizeof err), 0);
  CHECK(!v.present && v.type == SOS_APP_T_TEXT && v.tag == 1);
  CHECK_EQ(sos_idl_path_get(s, &at, NULL, 0, &v, err, sizeof err), 0);
  CHECK(!v.present && v.type == SOS_APP_T_TEXT);
  CHECK_EQ(sos_idl_path_resolve(s, req, "from.nmae", 9, &at, err, sizeof err), SOS_ENOENT);
  CHECK_STR(err, "Person has no field nmae");
  CHECK_EQ(sos_idl_path_resolve(s, req, "from.", 5, &at, err, sizeof err), SOS_EINVAL);
  sos_free(w);
  sos_idl_free(s);

  s = compile(types_app());
  REQUIRE(s);
  uint8_t sv[] = {0x08, 0x03}, fv[] = {0x09, 0, 0, 0, 0, 0, 0, 0xf8, 0xbf},
          gv[] = {0x0d, 0, 0, 0xc0, 0x3f};
  CHECK_EQ(sos_idl_get_field(s, type_of(s, "T_i32"), sv, 2, "v", &v, err, sizeof err), 0);
  CHECK(v.i == -2 && v.u == 3);
  CHECK_EQ(sos_idl_get_field(s, type_of(s, "T_f64"), fv, 9, "v", &v, err, sizeof err), 0);
  CHECK(v.f == -1.5 && v.wire == 1);
  CHECK_EQ(sos_idl_get_field(s, type_of(s, "T_f32"), gv, 5, "v", &v, err, sizeof err), 0);
  CHECK(v.f == 1.5 && v.wire == 5 && v.u == 0x3fc00000);
  sos_idl_free(s);
}

TEST(idl_describe) {
  struct sos_idl *s = compile(greeter_app());
  REQUIRE(s);
  char *text;
  CHECK_EQ(sos_idl_describe(s, "Nope", &text), SOS_ENOENT);
  REQUIRE(sos_idl_describe(s, "Greeter", &text) == 0);
  CHECK(same(text, "interface Greeter {\n"
                   "  hello(HelloReq) -> HelloResp\n"
                   "  count(Empty) -> Count\n"
                   "  error not_found = 1\n"
                   "  error too_many = 2\n"
                   "}\n"
                   "\n"
                   "struct HelloReq {\n"
                   "  name: text = 1\n"
                   "  times: u32 = 2\n"
                   "  mood: Mood = 3\n"
                   "  tags: list<text> = 4\n"
                   "  note: optional text = 5\n"
                   "  from: Person = 6\n"
                   "  union contact {\n"
                   "    email: text = 7\n"
                   "    phone: u64 = 8\n"
                   "  }\n"
                   "}\n"
                   "\n"
                   "struct HelloResp {\n"
                   "  greeting: text = 1\n"
                   "  people: list<Person> = 2\n"
                   "}\n"
                   "\n"
                   "struct Empty {}\n"
                   "\n"
                   "struct Count {\n"
                   "  n: u64 = 1\n"
                   "}\n"
                   "\n"
                   "enum Mood {\n"
                   "  calm = 0\n"
                   "  happy = 1\n"
                   "  grumpy = 2\n"
                   "}\n"
                   "\n"
                   "struct Person {\n"
                   "  name: text = 1\n"
                   "  age: u8 = 2\n"
                   "  scores: list<i32> = 3\n"
                   "}\n"));
  sos_free(text);
  sos_idl_free(s);
}

/* ---- compatibility ------------------------------------------------------------- */

/* Whether old and new (both freed) are compatible: want NULL, or
 * incompatible with message want, where "@" stands for "app.sos:L:C"
 * at pos. */
static bool compat_is(struct sos_app *old, struct sos_app *new_app, const char *want,
                      struct sos_app_pos pos) {
  char err[256] = "", full[256] = "";
  int rc = sos_idl_compat(old, new_app, err, sizeof err);
  if (want && want[0] == '@') snprintf(full, sizeof full, "app.sos:%u:%u%s", pos.line, pos.col, want + 1);
  else if (want) snprintf(full, sizeof full, "%s", want);
  sos_app_free(old);
  sos_app_free(new_app);
  bool ok = want ? rc == SOS_EINVAL && strcmp(err, full) == 0 : rc == 0;
  if (!ok) fprintf(stderr, "  got %d \"%s\"\n  want \"%s\"\n", rc, err, want ? full : "0");
  return ok;
}

static const struct sos_app_pos nopos = {0, 0};

TEST(idl_compat_accepts) {
  /* The same definition. */
  CHECK(compat_is(greeter_app(), greeter_app(), NULL, nopos));
  /* New fields, methods, errors, enum values; optional either way; a
   * renamed struct; a new variant in a union. */
  struct sos_app *b = greeter_app();
  add_field(b, "HelloReq", "extra", "list<u64>", 9);
  add_variant(b, "HelloReq", "contact", "fax", "text", 10);
  add_field(b, "Person", "nick", "optional text", 4);
  b->structs[0].fields[4].flags = 0;                    /* note: no longer optional */
  field_of(b, "Person", "age")->flags = SOS_APP_F_OPTIONAL; /* age: now optional */
  add_method(&b->interfaces[0], "bye", "Empty", "Empty");
  add_error(&b->interfaces[0], "gone", 3);
  add_enum(b, "Extra", "x", 0, NULL);
  struct sos_app_enum_value *v = push(&b->enums[0].values, &b->enums[0].nvalues, sizeof *v);
  v->name = dup("sleepy");
  v->value = 9;
  set_str(&b->structs[3].name, "Nothing"); /* Empty renamed */
  set_str(&b->interfaces[0].methods[1].request, "Nothing");
  CHECK(compat_is(greeter_app(), b, NULL, nopos));
  /* Recursion through lists terminates. */
  struct sos_app *a1 = app_new(), *a2 = app_new();
  add_struct(a1, "Tree");
  add_field(a1, "Tree", "kids", "list<Tree>", 1);
  add_interface(a1, "T");
  add_method(&a1->interfaces[0], "m", "Tree", "Tree");
  add_struct(a2, "Tree");
  add_field(a2, "Tree", "kids", "list<Tree>", 1);
  add_field(a2, "Tree", "label", "text", 2);
  add_interface(a2, "T");
  add_method(&a2->interfaces[0], "m", "Tree", "Tree");
  CHECK(compat_is(a1, a2, NULL, nopos));
  /* Only own interfaces count: an imported one may go. */
  a1 = greeter_app();
  a1->ninterfaces_own = 0;
  b = greeter_app();
  set_str(&b->interfaces[0].name, "Other");
  CHECK(compat_is(a1, b, NULL, nopos));
}

TEST(idl_compat_refuses) {
  struct sos_app *b = greeter_app();
  struct sos_app_field *f = field_of(b, "HelloReq", "times");
  f->type = SOS_APP_T_U64;
  CHECK(compat_is(greeter_app(), b, "@: HelloReq.times changed type from u32 to u64", f->pos));

  b = greeter_app();
  f = field_of(b, "HelloReq", "tags");
  f->flags = 0;
  CHECK(compat_is(greeter_app(), b, "@: HelloReq.tags changed type from list<text> to text",
                  f->pos));

  b = greeter_app();
  f = field_of(b, "HelloReq", "from");
  f->type = SOS_APP_T_ENUM;
  set_str(&f->type_name, "Mood");
  CHECK(compat_is(greeter_app(), b, "@: HelloReq.from changed type from Person to Mood",
                  f->pos));

  b = greeter_app();
  f = field_of(b, "HelloReq", "times");
  set_str(&f->name, "count");
  CHECK(compat_is(greeter_app(), b, "@: HelloReq.count (tag 2) was renamed from times", f->pos));

  b = greeter_app();
  f = field_of(b, "HelloReq", "times");
  f->tag = 20;
  CHECK(compat_is(greeter_app(), b, "@: HelloReq lost field times (tag 2)",
                  find_struct(b, "HelloReq")->pos));

  /* Deep: Person through HelloResp.people (a list). */
  b = greeter_app();
  f = field_of(b, "Person", "age");
  f->type = SOS_APP_T_U16;
  CHECK(compat_is(greeter_app(), b, "@: Person.age changed type from u8 to u16", f->pos));

  b = greeter_app();
  f = field_of(b, "HelloReq", "email");
  f->group = 0;
  CHECK(compat_is(greeter_app(), b,
                  "@: HelloReq.email moved from union contact to outside any union", f->pos));

  b = greeter_app();
  f = field_of(b, "HelloReq", "name");
  add_variant(b, "HelloReq", "other", "zzz", "text", 30);
  f = field_of(b, "HelloReq", "name");
  f->group = 2;
  CHECK(compat_is(greeter_app(), b, "@: HelloReq.name moved from outside any union to union other",
                  f->pos));

  b = greeter_app();
  b->enums[0].values[1].value = 5; /* happy = 5: value 1 is gone */
  CHECK(compat_is(greeter_app(), b, "@: enum Mood lost value happy = 1", b->enums[0].pos));

  b = greeter_app();
  set_str(&b->enums[0].values[2].name, "cross");
  CHECK(compat_is(greeter_app(), b, "@: enum Mood value 2 was renamed from grumpy to cross",
                  b->enums[0].values[2].pos));

  b = greeter_app();
  b->interfaces[0].nmethods = 1; /* count dropped (its strings freed here) */
  sos_free(b->interfaces[0].methods[1].name);
  sos_free(b->interfaces[0].methods[1].request);
  sos_free(b->interfaces[0].methods[1].response);
  CHECK(compat_is(greeter_app(), b, "@: interface Greeter lost method count",
                  b->interfaces[0].pos));

  b = greeter_app();
  set_str(&b->interfaces[0].methods[1].response, "Empty");
  CHECK(compat_is(greeter_app(), b, "@: Empty lost field n (tag 1)",
                  find_struct(b, "Empty")->pos));

  b = greeter_app();
  set_str(&b->interfaces[0].methods[1].response, "HelloResp");
  CHECK(compat_is(greeter_app(), b, "@: HelloResp.greeting (tag 1) was renamed from n",
                  field_of(b, "HelloResp", "greeting")->pos));

  b = greeter_app();
  set_str(&b->interfaces[0].name, "Greeter2");
  CHECK(compat_is(greeter_app(), b, "app.sos: interface Greeter was removed", nopos));

  b = greeter_app();
  b->interfaces[0].errors[0].code = 7;
  CHECK(compat_is(greeter_app(), b,
                  "@: error not_found of interface Greeter changed code from 1 to 7",
                  b->interfaces[0].errors[0].pos));

  b = greeter_app();
  set_str(&b->interfaces[0].errors[1].name, "too_much");
  CHECK(compat_is(greeter_app(), b, "@: interface Greeter lost error too_many",
                  b->interfaces[0].pos));

  /* Tables: the row struct, the key, the store itself. */
  b = greeter_app();
  f = field_of(b, "Entry", "score");
  f->type = SOS_APP_T_I64;
  CHECK(compat_is(greeter_app(), b, "@: Entry.score changed type from i32 to i64", f->pos));

  b = greeter_app();
  set_str(&b->stores[0].key, "who");
  CHECK(compat_is(greeter_app(), b, "@: table people changed its key from id to who",
                  b->stores[0].pos));

  b = greeter_app();
  b->stores[0].type = SOS_APP_STORE_KV;
  CHECK(compat_is(greeter_app(), b, "@: store people is no longer a table", b->stores[0].pos));

  b = greeter_app();
  set_str(&b->stores[0].name, "folks");
  CHECK(compat_is(greeter_app(), b, "app.sos: table people was removed", nopos));
}

TEST(idl_compat_one_interface) {
  char err[256];
  /* Imported interfaces count here: the caller's copy of an interface. */
  struct sos_app *a = greeter_app(), *b = greeter_app();
  a->ninterfaces_own = 0;
  CHECK_EQ(sos_idl_compat_interface(a, b, "Greeter", err, sizeof err), 0);
  struct sos_app_field *f = field_of(b, "Person", "age");
  f->type = SOS_APP_T_I8;
  CHECK_EQ(sos_idl_compat_interface(a, b, "Greeter", err, sizeof err), SOS_EINVAL);
  char want[128];
  snprintf(want, sizeof want, "app.sos:%u:%u: Person.age changed type from u8 to i8",
           f->pos.line, f->pos.col);
  CHECK_STR(err, want);
  /* Tables are not part of an interface. */
  field_of(b, "Person", "age")->type = SOS_APP_T_U8;
  field_of(b, "Entry", "score")->type = SOS_APP_T_TEXT;
  CHECK_EQ(sos_idl_compat_interface(a, b, "Greeter", err, sizeof err), 0);
  CHECK_EQ(sos_idl_compat_interface(a, b, "Other", err, sizeof err), SOS_ENOENT);
  CHECK_STR(err, "app.sos: no interface Other");
  set_str(&b->interfaces[0].name, "Other");
  CHECK_EQ(sos_idl_compat_interface(a, b, "Greeter", err, sizeof err), SOS_EINVAL);
  CHECK_STR(err, "app.sos: interface Greeter was removed");
  sos_app_free(a);
  sos_app_free(b);
}

/* ---- performance and allocation ----------------------------------------------- */

TEST(idl_check_allocates_nothing) {
  struct sos_idl *s = compile(greeter_app());
  REQUIRE(s);
  int req = sos_idl_struct(s, "HelloReq");
  const char *json = "{\"name\":\"ada\",\"tags\":[\"x\"],\"from\":{\"scores\":[1,2]},\"email\":\"e\"}";
  uint8_t *w;
  size_t n;
  REQUIRE(sos_idl_from_json(s, req, json, strlen(json), &w, &n, NULL, 0) == 0);
  sos_alloc_fail_at(1); /* any allocation would now fail */
  CHECK_EQ(sos_idl_check(s, req, w, n, NULL, 0), 0);
  struct sos_idl_value v;
  CHECK_EQ(sos_idl_get_field(s, req, w, n, "from.scores", &v, NULL, 0), 0);
  CHECK_EQ(sos_alloc_fail_at(0), 0);
  sos_free(w);
  sos_idl_free(s);
}

enum op { OP_NEW, OP_FROM, OP_TO, OP_DESCRIBE, OP_COMPAT };

static const char *const sweep_json =
    "{\"name\":\"ada\",\"times\":3,\"tags\":[\"x\",\"yz\"],"
    "\"from\":{\"name\":\"bob\",\"scores\":[-2,5]},\"phone\":77,\"note\":\"\\u00e9\"}";

/* Runs op with the at-th allocation failing (0: none); *out gets a
 * text of the result to compare between runs (NULL on failure). */
static int run_op(enum op op, const struct sos_idl *s, uint64_t at, char **out) {
  struct sos_app *a = op == OP_NEW || op == OP_COMPAT ? greeter_app() : NULL;
  struct sos_app *b = op == OP_COMPAT ? greeter_app() : NULL;
  int req = sos_idl_struct(s, "HelloReq"), rc;
  uint8_t *w = NULL;
  size_t n = 0;
  char err[256];
  struct sos_idl *made = NULL;
  *out = NULL;
  if (op == OP_TO) CHECK_EQ(sos_idl_from_json(s, req, sweep_json, strlen(sweep_json), &w, &n, err, sizeof err), 0);
  sos_alloc_fail_at(at);
  switch (op) {
  case OP_NEW: rc = sos_idl_new(a, &made, err, sizeof err); break;
  case OP_FROM: rc = sos_idl_from_json(s, req, sweep_json, strlen(sweep_json), &w, &n, err, sizeof err); break;
  case OP_TO: rc = sos_idl_to_json(s, req, w, n, out, NULL, err, sizeof err); break;
  case OP_DESCRIBE: rc = sos_idl_describe(s, "Greeter", out); break;
  default: rc = sos_idl_compat(a, b, err, sizeof err); break;
  }
  sos_alloc_fail_at(0);
  if (rc == 0 && op == OP_NEW) CHECK_EQ(sos_idl_describe(made, "Greeter", out), 0);
  if (rc == 0 && op == OP_FROM) *out = dup(tohex(w, n));
  if (rc == 0 && op == OP_COMPAT) *out = dup("compatible");
  if (rc == SOS_ENOMEM && op == OP_NEW) CHECK(made == NULL);
  if (rc == SOS_ENOMEM && op == OP_FROM) CHECK(w == NULL);
  sos_idl_free(made);
  sos_free(w);
  if (a) sos_app_free(a);
  if (b) sos_app_free(b);
  return rc;
}

/* Fails each allocation of op in turn: SOS_ENOMEM with nothing made (and,
 * under ASan, nothing leaked) until it succeeds with the result of a run
 * without faults.  Returns the number of allocations it needs. */
static int sweep(enum op op, const struct sos_idl *s) {
  char *want, *got;
  if (run_op(op, s, 0, &want) != 0) {
    CHECK(!"the operation fails without faults");
    return 0;
  }
  for (uint64_t at = 1; at < 10000; at++) {
    int rc = run_op(op, s, at, &got);
    if (rc == 0) {
      CHECK(same(got, want));
      sos_free(got);
      sos_free(want);
      return (int)at;
    }
    CHECK_EQ(rc, SOS_ENOMEM);
    CHECK(got == NULL);
    if (rc != SOS_ENOMEM) break;
  }
  sos_free(want);
  return 0;
}

TEST(idl_alloc_failure_sweep) {
  struct sos_idl *s = compile(greeter_app());
  REQUIRE(s);
  CHECK(sweep(OP_NEW, s) > 20);
  CHECK(sweep(OP_FROM, s) > 2);
  CHECK(sweep(OP_TO, s) > 1);
  CHECK(sweep(OP_DESCRIBE, s) > 2);
  CHECK(sweep(OP_COMPAT, s) > 1);
  sos_idl_free(s);
}

/*
 * lang_idl_test.c - the IDL part of the SOS language (src/lang): enums,
 * struct fields that are lists, optional, enum- or struct-typed or the
 * variants of a union, interfaces with methods and errors, services that
 * implement an interface, package files, `import` on real files
 * (relative, transitive, diamonds, clashes, cycles, missing files, through
 * `extends`), the canonical printer's trailing `package` blocks and their
 * round trip, `fmt` on IDL text, every error message with its position,
 * and an allocation-failure sweep over parsing, printing, formatting and
 * loading IDL-heavy definitions.
 *
 * The checks that need every declaration at once (what a type name refers
 * to, struct cycles, methods naming enums, table row types) run after a
 * parse leniently and after sos_app_load strictly; the tests check both
 * sides: a name declared nowhere passes sos_app_parse and fails
 * sos_app_load with a did-you-mean.
 */
#include "lang_util.h"

/* ---- helpers ----------------------------------------------------------------------- */

/* Whether two strings are equal, both NULL counting as equal. */
static bool same_str(const char *a, const char *b) {
  return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool same_struct(const struct sos_app_struct *a, const struct sos_app_struct *b) {
  if (!same_str(a->name, b->name) || !same_str(a->package, b->package) ||
      a->nfields != b->nfields || a->nunions != b->nunions)
    return false;
  for (uint32_t i = 0; i < a->nunions; i++)
    if (!same_str(a->unions[i], b->unions[i])) return false;
  for (uint32_t i = 0; i < a->nfields; i++) {
    const struct sos_app_field *f = &a->fields[i], *g = &b->fields[i];
    if (!same_str(f->name, g->name) || f->type != g->type || f->flags != g->flags ||
        f->group != g->group || f->tag != g->tag || !same_str(f->type_name, g->type_name))
      return false;
  }
  return true;
}

static bool same_enum(const struct sos_app_enum *a, const struct sos_app_enum *b) {
  if (!same_str(a->name, b->name) || !same_str(a->package, b->package) ||
      a->nvalues != b->nvalues)
    return false;
  for (uint32_t i = 0; i < a->nvalues; i++)
    if (!same_str(a->values[i].name, b->values[i].name) ||
        a->values[i].value != b->values[i].value)
      return false;
  return true;
}

static bool same_interface(const struct sos_app_interface *a,
                           const struct sos_app_interface *b) {
  if (!same_str(a->name, b->name) || !same_str(a->package, b->package) ||
      a->nmethods != b->nmethods || a->nerrors != b->nerrors)
    return false;
  for (uint32_t i = 0; i < a->nmethods; i++)
    if (!same_str(a->methods[i].name, b->methods[i].name) ||
        !same_str(a->methods[i].request, b->methods[i].request) ||
        !same_str(a->methods[i].response, b->methods[i].response))
      return false;
  for (uint32_t i = 0; i < a->nerrors; i++)
    if (!same_str(a->errors[i].name, b->errors[i].name) ||
        a->errors[i].code != b->errors[i].code)
      return false;
  return true;
}

/* The index of the declaration named name among count items of size
 * bytes (each starting with its `char *name`), or -1. */
static int index_of(const void *items, uint32_t count, size_t size, const char *name) {
  for (uint32_t i = 0; i < count; i++) {
    const char *n;
    memcpy(&n, (const char *)items + i * size, sizeof n);
    if (same_str(n, name)) return (int)i;
  }
  return -1;
}

/* Whether a and b declare the same things (positions aside): the same own
 * structs, enums and interfaces in the same order, the same imported ones
 * with the same packages (in any order: printing groups them by package),
 * and services implementing the same interfaces. */
static bool same_decls(const struct sos_app *a, const struct sos_app *b) {
  bool ok = a->nstructs == b->nstructs && a->nenums == b->nenums &&
            a->ninterfaces == b->ninterfaces && a->nstructs_own == b->nstructs_own &&
            a->nenums_own == b->nenums_own && a->ninterfaces_own == b->ninterfaces_own &&
            a->nservices == b->nservices;
  for (uint32_t i = 0; ok && i < a->nstructs; i++) {
    int k = i < a->nstructs_own ? (int)i
                                : index_of(b->structs, b->nstructs, sizeof *b->structs,
                                           a->structs[i].name);
    ok = k >= 0 && (i < a->nstructs_own) == ((uint32_t)k < b->nstructs_own) &&
         same_struct(&a->structs[i], &b->structs[k]);
  }
  for (uint32_t i = 0; ok && i < a->nenums; i++) {
    int k = i < a->nenums_own
                ? (int)i
                : index_of(b->enums, b->nenums, sizeof *b->enums, a->enums[i].name);
    ok = k >= 0 && (i < a->nenums_own) == ((uint32_t)k < b->nenums_own) &&
         same_enum(&a->enums[i], &b->enums[k]);
  }
  for (uint32_t i = 0; ok && i < a->ninterfaces; i++) {
    int k = i < a->ninterfaces_own
                ? (int)i
                : index_of(b->interfaces, b->ninterfaces, sizeof *b->interfaces,
                           a->interfaces[i].name);
    ok = k >= 0 && (i < a->ninterfaces_own) == ((uint32_t)k < b->ninterfaces_own) &&
         same_interface(&a->interfaces[i], &b->interfaces[k]);
  }
  for (uint32_t i = 0; ok && i < a->nservices; i++)
    ok = same_str(a->services[i].name, b->services[i].name) &&
         same_str(a->services[i].implements, b->services[i].implements);
  if (!ok) fprintf(stderr, "  the two definitions declare different things\n");
  return ok;
}

/* The field named name of struct st, or NULL. */
static const struct sos_app_field *field(const struct sos_app_struct *st,
                                         const char *name) {
  for (uint32_t i = 0; st && i < st->nfields; i++)
    if (strcmp(st->fields[i].name, name) == 0) return &st->fields[i];
  return NULL;
}

/* The enum or interface named name, or NULL. */
static const struct sos_app_enum *find_enum(const struct sos_app *a, const char *name) {
  for (uint32_t i = 0; i < a->nenums; i++)
    if (strcmp(a->enums[i].name, name) == 0) return &a->enums[i];
  return NULL;
}

static const struct sos_app_interface *find_iface(const struct sos_app *a,
                                                  const char *name) {
  for (uint32_t i = 0; i < a->ninterfaces; i++)
    if (strcmp(a->interfaces[i].name, name) == 0) return &a->interfaces[i];
  return NULL;
}

/* Whether a field has the given type, flags, group, tag and type name. */
static bool field_is(const struct sos_app_field *f, uint8_t type, uint8_t flags,
                     uint16_t group, uint32_t tag, const char *type_name) {
  bool ok = f && f->type == type && f->flags == flags && f->group == group &&
            f->tag == tag && same_str(f->type_name, type_name);
  if (!ok && f)
    fprintf(stderr, "  field %s: type %u flags %u group %u tag %u type_name %s\n",
            f->name, f->type, f->flags, f->group, f->tag,
            f->type_name ? f->type_name : "(null)");
  return ok;
}

/* ---- parsing every construct ------------------------------------------------------- */

static const char greeter[] =
    "app greeter 1.0.0 {\n"                                                    /* 1 */
    "  sources \"greeter.c\"\n"                                                /* 2 */
    "  enum Mood { calm = 0; happy = 1; grumpy = 2147483647 }\n"               /* 3 */
    "  struct HelloReq {\n"                                                    /* 4 */
    "    name: text = 1\n"                                                     /* 5 */
    "    times: u32 = 2\n"                                                     /* 6 */
    "    mood: Mood = 3\n"                                                     /* 7 */
    "    tags: list<text> = 4\n"                                               /* 8 */
    "    note: optional text = 5\n"                                            /* 9 */
    "    from: Person = 6\n"                                                   /* 10 */
    "    union contact { email: text = 7; phone: u64 = 8 }\n"                  /* 11 */
    "    later: optional Late = 9\n"                                           /* 12 */
    "    people: list<Person> = 10\n"                                          /* 13 */
    "    union pick {\n"                                                       /* 14 */
    "      who: Person = 11\n"                                                 /* 15 */
    "      how: Mood = 12\n"                                                   /* 16 */
    "    }\n"                                                                  /* 17 */
    "    moods: list<Mood> = 13\n"                                             /* 18 */
    "    maybe: optional Person = 14\n"                                        /* 19 */
    "  }\n"                                                                    /* 20 */
    "  struct Person { name: text = 1; age: u8 = 2; scores: list<i32> = 3 }\n" /* 21 */
    "  struct HelloResp { greeting: text = 1; people: list<Person> = 2 }\n"    /* 22 */
    "  struct Empty {}\n"                                                      /* 23 */
    "  struct Count { n: u64 = 1 }\n"                                          /* 24 */
    "  interface Greeter {\n"                                                  /* 25 */
    "    hello(HelloReq) -> HelloResp\n"                                       /* 26 */
    "    count(Empty) -> Count\n"                                              /* 27 */
    "    error not_found = 1\n"                                                /* 28 */
    "    error too_many = 65535\n"                                             /* 29 */
    "  }\n"                                                                    /* 30 */
    "  enum Late { a = 5; b = 0 }\n"                                           /* 31 */
    "  interface Quiet {}\n"                                                   /* 32 */
    "  service greeter implements Greeter { instances 1..4 }\n"                /* 33 */
    "  service plain {}\n"                                                     /* 34 */
    "}\n";

TEST(lang_idl_parse_enums) {
  struct sos_app *a = parse(greeter);
  REQUIRE(a);
  CHECK_EQ(a->is_package, 0);
  REQUIRE(a->nenums == 2);
  CHECK_EQ(a->nenums_own, 2);
  const struct sos_app_enum *m = &a->enums[0];
  CHECK_STR(m->name, "Mood");
  CHECK_STR(m->package, "greeter");
  CHECK_EQ(m->pos.line, 3);
  CHECK_EQ(m->pos.col, 8);
  REQUIRE(m->nvalues == 3);
  CHECK_STR(m->values[0].name, "calm");
  CHECK_EQ(m->values[0].value, 0);
  CHECK_STR(m->values[1].name, "happy");
  CHECK_EQ(m->values[1].value, 1);
  CHECK_EQ(m->values[1].pos.line, 3);
  CHECK_EQ(m->values[1].pos.col, 25);
  CHECK_STR(m->values[2].name, "grumpy");
  CHECK_EQ(m->values[2].value, 2147483647u); /* the largest */
  const struct sos_app_enum *late = &a->enums[1];
  CHECK_STR(late->name, "Late");
  CHECK_STR(late->package, "greeter");
  REQUIRE(late->nvalues == 2);
  CHECK_EQ(late->values[0].value, 5); /* in the order written, not sorted */
  CHECK_EQ(late->values[1].value, 0);
  sos_app_free(a);
  /* values need not start at 0 */
  a = parse(WRAP("  enum E { none = 0 }\n  enum F {\n    x = 7\n  }\n"));
  REQUIRE(a && a->nenums == 2);
  CHECK(a->enums[0].nvalues == 1 && a->enums[0].values[0].value == 0);
  CHECK(a->enums[1].nvalues == 1 && a->enums[1].values[0].value == 7);
  CHECK_EQ(a->enums[1].values[0].pos.line, 5);
  CHECK_EQ(a->enums[1].values[0].pos.col, 5);
  sos_app_free(a);
}

TEST(lang_idl_parse_struct_fields) {
  struct sos_app *a = parse(greeter);
  REQUIRE(a);
  REQUIRE(a->nstructs == 5);
  CHECK_EQ(a->nstructs_own, 5);
  const struct sos_app_struct *req = sos_app_struct(a, "HelloReq");
  REQUIRE(req == &a->structs[0]);
  CHECK_STR(req->package, "greeter");
  REQUIRE(req->nfields == 14);
  REQUIRE(req->nunions == 2);
  CHECK_STR(req->unions[0], "contact");
  CHECK_STR(req->unions[1], "pick");
  CHECK(field_is(field(req, "name"), SOS_APP_T_TEXT, 0, 0, 1, NULL));
  CHECK(field_is(field(req, "times"), SOS_APP_T_U32, 0, 0, 2, NULL));
  /* an enum declared before, a struct declared after, an enum after */
  CHECK(field_is(field(req, "mood"), SOS_APP_T_ENUM, 0, 0, 3, "Mood"));
  CHECK(field_is(field(req, "tags"), SOS_APP_T_TEXT, SOS_APP_F_LIST, 0, 4, NULL));
  CHECK(field_is(field(req, "note"), SOS_APP_T_TEXT, SOS_APP_F_OPTIONAL, 0, 5, NULL));
  CHECK(field_is(field(req, "from"), SOS_APP_T_STRUCT, 0, 0, 6, "Person"));
  CHECK(field_is(field(req, "email"), SOS_APP_T_TEXT, 0, 1, 7, NULL));
  CHECK(field_is(field(req, "phone"), SOS_APP_T_U64, 0, 1, 8, NULL));
  CHECK(field_is(field(req, "later"), SOS_APP_T_ENUM, SOS_APP_F_OPTIONAL, 0, 9, "Late"));
  CHECK(
      field_is(field(req, "people"), SOS_APP_T_STRUCT, SOS_APP_F_LIST, 0, 10, "Person"));
  CHECK(field_is(field(req, "who"), SOS_APP_T_STRUCT, 0, 2, 11, "Person"));
  CHECK(field_is(field(req, "how"), SOS_APP_T_ENUM, 0, 2, 12, "Mood"));
  CHECK(field_is(field(req, "moods"), SOS_APP_T_ENUM, SOS_APP_F_LIST, 0, 13, "Mood"));
  CHECK(field_is(field(req, "maybe"), SOS_APP_T_STRUCT, SOS_APP_F_OPTIONAL, 0, 14,
                 "Person"));
  /* the variants are fields in the order written, where the union is */
  static const char *const order[] = {"name", "times", "mood",  "tags",  "note",
                                      "from", "email", "phone", "later", "people",
                                      "who",  "how",   "moods", "maybe"};
  for (uint32_t i = 0; i < 14; i++) CHECK_STR(req->fields[i].name, order[i]);
  CHECK_EQ(field(req, "email")->pos.line, 11);
  CHECK_EQ(field(req, "email")->pos.col, 21);
  CHECK_EQ(field(req, "phone")->pos.col, 38);
  CHECK_EQ(field(req, "how")->pos.line, 16);
  CHECK_EQ(field(req, "how")->pos.col, 7);
  const struct sos_app_struct *person = sos_app_struct(a, "Person");
  REQUIRE(person && person->nfields == 3);
  CHECK_EQ(person->nunions, 0);
  CHECK(person->unions == NULL);
  CHECK(field_is(&person->fields[2], SOS_APP_T_I32, SOS_APP_F_LIST, 0, 3, NULL));
  CHECK_STR(person->package, "greeter");
  const struct sos_app_struct *empty = sos_app_struct(a, "Empty");
  CHECK(empty && empty->nfields == 0);
  sos_app_free(a);
  /* a parse alone leaves a name declared nowhere a struct (an import or a
   * base may declare it); sos_app_load reports it */
  a = parse(WRAP("  struct S { p: Point = 1; ps: list<Point> = 2 }\n"
                 "  struct Req {}\n  interface I { get(Req) -> Resp }\n"
                 "  service s implements Nowhere {}\n"));
  REQUIRE(a);
  CHECK(field_is(&a->structs[0].fields[0], SOS_APP_T_STRUCT, 0, 0, 1, "Point"));
  CHECK(field_is(&a->structs[0].fields[1], SOS_APP_T_STRUCT, SOS_APP_F_LIST, 0, 2,
                 "Point"));
  CHECK_STR(a->services[0].implements, "Nowhere");
  sos_app_free(a);
}

TEST(lang_idl_parse_interfaces_and_services) {
  struct sos_app *a = parse(greeter);
  REQUIRE(a);
  REQUIRE(a->ninterfaces == 2);
  CHECK_EQ(a->ninterfaces_own, 2);
  const struct sos_app_interface *g = &a->interfaces[0];
  CHECK_STR(g->name, "Greeter");
  CHECK_STR(g->package, "greeter");
  CHECK_EQ(g->pos.line, 25);
  CHECK_EQ(g->pos.col, 13);
  REQUIRE(g->nmethods == 2);
  CHECK_STR(g->methods[0].name, "hello");
  CHECK_STR(g->methods[0].request, "HelloReq");
  CHECK_STR(g->methods[0].response, "HelloResp");
  CHECK_EQ(g->methods[0].pos.line, 26);
  CHECK_EQ(g->methods[0].pos.col, 5);
  CHECK_STR(g->methods[1].name, "count");
  CHECK_STR(g->methods[1].request, "Empty");
  CHECK_STR(g->methods[1].response, "Count");
  REQUIRE(g->nerrors == 2);
  CHECK_STR(g->errors[0].name, "not_found");
  CHECK_EQ(g->errors[0].code, 1);
  CHECK_EQ(g->errors[0].pos.line, 28);
  CHECK_EQ(g->errors[0].pos.col, 11);
  CHECK_STR(g->errors[1].name, "too_many");
  CHECK_EQ(g->errors[1].code, 65535);
  const struct sos_app_interface *q = &a->interfaces[1];
  CHECK_STR(q->name, "Quiet");
  CHECK(q->nmethods == 0 && q->nerrors == 0 && q->methods == NULL && q->errors == NULL);
  REQUIRE(a->nservices == 2);
  CHECK_STR(a->services[0].implements, "Greeter");
  CHECK_EQ(a->services[0].max_instances, 4);
  CHECK_EQ(a->services[0].pos.line, 33);
  CHECK_EQ(a->services[0].pos.col, 11);
  CHECK(a->services[1].implements == NULL);
  CHECK(a->imports == NULL && a->nimports == 0);
  sos_app_free(a);
  /* the same method names in two interfaces, request = response, errors
   * before methods, methods and errors written on one line */
  a = parse(WRAP("  struct R {}\n"
                 "  interface A { error gone = 3; get(R) -> R; put(R)->R }\n"
                 "  interface B { get(R) -> R }\n"));
  REQUIRE(a && a->ninterfaces == 2);
  CHECK_EQ(a->interfaces[0].nmethods, 2);
  CHECK_EQ(a->interfaces[0].nerrors, 1);
  CHECK_STR(a->interfaces[0].methods[1].name, "put");
  CHECK_STR(a->interfaces[0].methods[1].response, "R");
  CHECK_EQ(a->interfaces[0].errors[0].code, 3);
  CHECK_STR(a->interfaces[1].methods[0].name, "get");
  sos_app_free(a);
}

TEST(lang_idl_parse_package_files) {
  struct sos_app *a = parse("package geo 1.2.3 {\n"
                            "  import \"../units/units.sos\"\n"
                            "  import \"x.sos\"\n"
                            "  enum Unit { m = 0 }\n"
                            "  struct Point { x: i32 = 1; u: Unit = 2; n: Named = 3 }\n"
                            "  interface Map { at(Point) -> Point }\n"
                            "}\n");
  REQUIRE(a);
  CHECK_EQ(a->is_package, 1);
  CHECK_STR(a->name, "geo");
  CHECK_STR(a->version, "1.2.3");
  CHECK(a->module == NULL && a->nsources == 0 && a->nservices == 0);
  REQUIRE(a->nimports == 2);
  CHECK_STR(a->imports[0], "../units/units.sos");
  CHECK_STR(a->imports[1], "x.sos");
  CHECK(a->nstructs == 1 && a->nstructs_own == 1);
  CHECK(a->nenums == 1 && a->nenums_own == 1);
  CHECK(a->ninterfaces == 1 && a->ninterfaces_own == 1);
  CHECK_STR(a->structs[0].package, "geo");
  CHECK_STR(a->enums[0].package, "geo");
  CHECK_STR(a->interfaces[0].package, "geo");
  CHECK(field_is(&a->structs[0].fields[1], SOS_APP_T_ENUM, 0, 0, 2, "Unit"));
  CHECK(field_is(&a->structs[0].fields[2], SOS_APP_T_STRUCT, 0, 0, 3, "Named"));
  sos_app_free(a);
  /* without a version; '-' in the name; an empty package */
  a = parse("# shared types\npackage hello-howdy {\n  struct P {}\n}\n");
  REQUIRE(a);
  CHECK_EQ(a->is_package, 1);
  CHECK_STR(a->name, "hello-howdy");
  CHECK(a->version == NULL);
  CHECK_STR(a->structs[0].package, "hello-howdy");
  sos_app_free(a);
  a = parse("package empty {}\n");
  REQUIRE(a);
  CHECK(a->is_package == 1 && a->nstructs == 0 && a->version == NULL);
  sos_app_free(a);
  /* a package holds declarations only */
  FAILS("package p {\n  module \"x\"\n}\n",
        "2:3: unknown statement \"module\"; expected import, struct, enum or interface");
  FAILS("package p {\n  service s {}\n}\n",
        "2:3: unknown statement \"service\"; expected import, struct, enum or interface");
  FAILS("package p {\n  strct S {}\n}\n",
        "2:3: unknown statement \"strct\"; did you mean \"struct\"?");
  FAILS("package P {}\n",
        "1:9: bad package name \"P\": use lower-case letters, digits and "
        "\"-\", starting with a letter (at most 63)");
  FAILS("package p 1.0 {}\n", "1:11: bad version; write MAJOR.MINOR.PATCH such as 1.0.0 "
                              "(no leading zeros, no suffix)");
  FAILS("package p\n{}\n", "1:10: expected \"{\" to open the package block, on the same "
                           "line, found the end of the line");
  FAILS("package {}\n", "1:9: expected a package name, found \"{\"");
  FAILS("pakage p {}\n",
        "1:1: unknown declaration \"pakage\"; did you mean \"package\"?");
  FAILS("package p {}\napp x 1.0.0 { module \"m\" }\n",
        "2:1: a second app; a file holds one app definition");
}

TEST(lang_idl_parse_trailing_packages) {
  /* what sos_app_print writes for imported declarations reads back as
   * imported declarations: not counted as the file's own */
  struct sos_app *a = parse("app x 1.0.0 {\n"
                            "  module \"m\"\n"
                            "  struct A { p: Point = 1; u: U = 2 }\n"
                            "  service s implements Map {}\n"
                            "}\n"
                            "\n"
                            "package geo {\n"
                            "  struct Point { x: i32 = 1 }\n"
                            "  interface Map { at(Point) -> Point }\n"
                            "}\n"
                            "package other {\n"
                            "  enum U { a = 0 }\n"
                            "  struct O { p: Point = 1 }\n"
                            "}\n");
  REQUIRE(a);
  CHECK_EQ(a->is_package, 0);
  CHECK_STR(a->name, "x");
  REQUIRE(a->nstructs == 3 && a->nenums == 1 && a->ninterfaces == 1);
  CHECK_EQ(a->nstructs_own, 1);
  CHECK_EQ(a->nenums_own, 0);
  CHECK_EQ(a->ninterfaces_own, 0);
  CHECK_STR(a->structs[0].name, "A");
  CHECK_STR(a->structs[0].package, "x");
  CHECK_STR(a->structs[1].name, "Point");
  CHECK_STR(a->structs[1].package, "geo");
  CHECK_EQ(a->structs[1].pos.line, 8);
  CHECK_STR(a->structs[2].name, "O");
  CHECK_STR(a->structs[2].package, "other");
  CHECK_STR(a->enums[0].package, "other");
  CHECK_STR(a->interfaces[0].package, "geo");
  /* own declarations resolve against imported ones */
  CHECK(field_is(&a->structs[0].fields[0], SOS_APP_T_STRUCT, 0, 0, 1, "Point"));
  CHECK(field_is(&a->structs[0].fields[1], SOS_APP_T_ENUM, 0, 0, 2, "U"));
  sos_app_free(a);
  /* a package file may be followed by packages too */
  a = parse("package a {\n  struct A { b: B = 1 }\n}\npackage b {\n  struct B {}\n}\n");
  REQUIRE(a);
  CHECK(a->is_package == 1 && a->nstructs == 2 && a->nstructs_own == 1);
  CHECK_STR(a->structs[1].package, "b");
  sos_app_free(a);
  FAILS("app x 1.0.0 {\n  module \"m\"\n}\npackage p {\n  import \"a.sos\"\n}\n",
        "5:3: an imported package cannot import (its imports are resolved already)");
  FAILS(
      "app x 1.0.0 {\n  module \"m\"\n}\npackage p {\n  struct A {}\n}\napp y 1.0.0 {}\n",
      "7:1: a second app; a file holds one app definition");
  FAILS(
      "app x 1.0.0 {\n  module \"m\"\n  struct A {}\n}\npackage p {\n  struct A {}\n}\n",
      "6:10: struct A is declared twice (first at line 3)");
  FAILS("app x 1.0.0 {\n  module \"m\"\n  struct A {}\n}\n"
        "package p {\n  enum A { a = 0 }\n}\n",
        "6:8: enum A is declared twice (first at line 3)");
  FAILS("app x 1.0.0 {\n  module \"m\"\n}\npackage p {\n  service s {}\n}\n",
        "5:3: unknown statement \"service\"; expected import, struct, enum or interface");
  FAILS("app x 1.0.0 {\n  module \"m\"\n}\nstruct S {}\n",
        "4:1: expected the end of the file after the app block, found \"struct\"");
}

TEST(lang_idl_keywords_are_not_reserved) {
  /* a variant named like a field of its struct is a duplicate field */
  FAILS(WRAP("  struct M {\n    union: text = 1\n"
             "    union choice { enum: u8 = 5; union: bool = 6 }\n  }\n"),
        "5:34: field union is declared twice in struct M (first at line 4)");
  struct sos_app *a =
      parse(WRAP("  struct M {\n"
                 "    union: text = 1\n"
                 "    list: u8 = 2\n"
                 "    optional: list<u8> = 3\n"
                 "    error: optional text = 4\n"
                 "    union choice { enum: u8 = 5; struct: bool = 6 }\n"
                 "  }\n"
                 "  struct N { union union { list: u8 = 1 } }\n"
                 "  enum E { error = 1; union = 2; list = 3; optional = 0 }\n"
                 "  struct Req {}\n"
                 "  interface I {\n"
                 "    error(Req) -> Req\n"
                 "    error error = 1\n"
                 "    union(Req) -> Req\n"
                 "  }\n"));
  REQUIRE(a);
  const struct sos_app_struct *m = sos_app_struct(a, "M");
  REQUIRE(m && m->nfields == 6 && m->nunions == 1);
  CHECK(field_is(&m->fields[0], SOS_APP_T_TEXT, 0, 0, 1, NULL));
  CHECK_STR(m->fields[0].name, "union");
  CHECK_STR(m->fields[1].name, "list");
  CHECK(field_is(&m->fields[1], SOS_APP_T_U8, 0, 0, 2, NULL));
  CHECK_STR(m->fields[2].name, "optional");
  CHECK(field_is(&m->fields[2], SOS_APP_T_U8, SOS_APP_F_LIST, 0, 3, NULL));
  CHECK_STR(m->fields[3].name, "error");
  CHECK(field_is(&m->fields[3], SOS_APP_T_TEXT, SOS_APP_F_OPTIONAL, 0, 4, NULL));
  CHECK_STR(m->unions[0], "choice");
  CHECK_STR(m->fields[4].name, "enum");
  CHECK_EQ(m->fields[4].group, 1);
  CHECK_STR(m->fields[5].name, "struct");
  CHECK_EQ(m->fields[5].group, 1);
  const struct sos_app_struct *n = sos_app_struct(a, "N");
  REQUIRE(n && n->nunions == 1 && n->nfields == 1);
  CHECK_STR(n->unions[0], "union");
  CHECK(field_is(&n->fields[0], SOS_APP_T_U8, 0, 1, 1, NULL));
  const struct sos_app_enum *e = find_enum(a, "E");
  REQUIRE(e && e->nvalues == 4);
  CHECK_STR(e->values[0].name, "error");
  CHECK_STR(e->values[1].name, "union");
  CHECK_STR(e->values[3].name, "optional");
  const struct sos_app_interface *it = find_iface(a, "I");
  REQUIRE(it && it->nmethods == 2 && it->nerrors == 1);
  CHECK_STR(it->methods[0].name, "error");
  CHECK_STR(it->methods[0].request, "Req");
  CHECK_STR(it->methods[1].name, "union");
  CHECK_STR(it->errors[0].name, "error");
  CHECK_EQ(it->errors[0].code, 1);
  /* and they survive printing */
  char *p = print(a);
  REQUIRE(p);
  CHECK(
      strstr(p,
             "    union: text = 1\n    list: u8 = 2\n    optional: list<u8> = 3\n"
             "    error: optional text = 4\n    union choice {\n      enum: u8 = 5\n") !=
      NULL);
  CHECK(
      strstr(p, "    error(Req) -> Req\n    union(Req) -> Req\n    error error = 1\n") !=
      NULL);
  struct sos_app *b = parse(p);
  REQUIRE(b);
  CHECK(same_decls(a, b));
  sos_free(p);
  sos_app_free(a);
  sos_app_free(b);
  /* nor are the IDL's words as service and app names */
  a = parse(
      "app interface 1.0.0 {\n  module \"m\"\n  service enum {}\n  service import {}\n"
      "  service implements {}\n  uses package, struct\n}\n");
  REQUIRE(a && a->nservices == 3);
  CHECK_STR(a->name, "interface");
  CHECK_STR(a->services[2].name, "implements");
  CHECK(a->services[2].implements == NULL);
  sos_app_free(a);
}

/* ---- errors ------------------------------------------------------------------------ */

/* The spelling rules of names, as messages give them. */
#define FIELD_RULE \
  "use lower-case letters, digits and \"_\", not starting with a digit (at most 63)"
#define TYPE_RULE \
  "use letters and digits, starting with an upper-case letter (at most 63)"

/* The scalar types, as messages list them. */
#define SCALARS "bool, u8, u16, u32, u64, i8, i16, i32, i64, f32, f64, text or bytes"

TEST(lang_idl_errors_in_field_types) {
  FAILS(WRAP("  struct E { id: u65 = 1 }\n"),
        "3:18: unknown type \"u65\"; did you mean \"u64\"?");
  FAILS(WRAP("  struct E { id: list<u65> = 1 }\n"),
        "3:23: unknown type \"u65\"; did you mean \"u64\"?");
  FAILS(WRAP("  struct E { id: optional txt = 1 }\n"),
        "3:27: unknown type \"txt\"; did you mean \"text\"?");
  FAILS(WRAP("  struct E { id: string = 1 }\n"),
        "3:18: unknown type \"string\"; did you mean \"text\"?");
  FAILS(WRAP("  struct E { id: person = 1 }\n"),
        "3:18: unknown type \"person\"; expected " SCALARS);
  FAILS(WRAP("  struct E { id: list<list<u8>> = 1 }\n"),
        "3:23: a list's elements are a plain type; for a list of lists, use a list of a "
        "struct that holds a list");
  FAILS(WRAP("  struct E { id: list<optional u8> = 1 }\n"),
        "3:23: a list's elements are a plain type; for a list of lists, use a list of a "
        "struct that holds a list");
  FAILS(WRAP("  struct E { id: list = 1 }\n"),
        "3:23: expected \"<\" and the element type, as in list<text>, found \"=\"");
  FAILS(WRAP("  struct E { id: list<u8 = 1 }\n"),
        "3:26: expected \">\" to close list<...>, found \"=\"");
  FAILS(WRAP("  struct E { id: list<> = 1 }\n"),
        "3:23: expected a type such as u64, text or a struct's name, found \">\"");
  /* an empty list is already a list's absence */
  FAILS(WRAP("  struct E { id: optional list<u8> = 1 }\n"),
        "3:27: a list cannot be optional: an empty list is its absence");
  FAILS(WRAP("  struct E { id: optional list<E> = 1 }\n"),
        "3:27: a list cannot be optional: an empty list is its absence");
  FAILS(WRAP("  struct E { id: optional = 1 }\n"),
        "3:27: expected a type such as u64, text or a struct's name, found \"=\"");
  FAILS(WRAP("  struct E { id: P-q = 1 }\n"),
        "3:18: unknown type \"P-q\"; expected " SCALARS);
}

TEST(lang_idl_errors_in_unions) {
  FAILS(WRAP("  struct E { union u { a: optional u8 = 1 } }\n"),
        "3:27: a union's variants are optional already");
  FAILS(WRAP("  struct E { union u { a: list<u8> = 1 } }\n"),
        "3:27: a union's variant cannot be a list");
  FAILS(WRAP("  struct E { union u { } }\n"), "3:22: union u has no variant");
  FAILS(WRAP("  struct E {\n    union u {\n    }\n  }\n"),
        "4:13: union u has no variant");
  FAILS(WRAP("  struct E { u: u8 = 1; union u { a: u8 = 2 } }\n"),
        "3:31: struct E has a field named u already");
  FAILS(WRAP("  struct E { union u { a: u8 = 2 }; u: u8 = 1 }\n"),
        "3:37: struct E has a union named u already");
  FAILS(WRAP("  struct E { union u { a: u8 = 2 }; union u { b: u8 = 1 } }\n"),
        "3:43: union u is declared twice in struct E");
  FAILS(WRAP("  struct E { union u { union v { a: u8 = 1 } } }\n"),
        "3:24: a union cannot hold another union");
  FAILS(WRAP("  struct E { union u { a: u8 = 1 }; a: u8 = 2 }\n"),
        "3:37: field a is declared twice in struct E (first at line 3)");
  FAILS(WRAP("  struct E { a: u8 = 1; union u { b: u8 = 1 } }\n"),
        "3:43: field number 1 is used twice in struct E (first by a at line 3)");
  FAILS(WRAP("  struct E { union U { a: u8 = 1 } }\n"),
        "3:20: bad union name \"U\": " FIELD_RULE);
  FAILS(WRAP("  struct E { union u a: u8 = 1 }\n"),
        "3:22: expected \"{\" after the union name, on the same line, found \"a\"");
  FAILS(WRAP("  struct E { union u { a: u8 = 1 }\n"),
        "5:1: missing \"}\" to close the app block opened at line 1");
}

TEST(lang_idl_errors_in_enums) {
  FAILS(WRAP("  enum E { a = 0; a = 1 }\n"), "3:19: value a is declared twice in enum E");
  FAILS(WRAP("  enum E { a = 0; b = 0 }\n"),
        "3:23: number 0 is used twice in enum E (first by a)");
  FAILS(WRAP("  enum E { a = 2147483648 }\n"), "3:16: an enum value is 0 to 2147483647");
  FAILS(WRAP("  enum E { a = 18446744073709551615 }\n"),
        "3:16: an enum value is 0 to 2147483647");
  FAILS(WRAP("  enum E { A = 1 }\n"), "3:12: bad enum value \"A\": " FIELD_RULE);
  FAILS(WRAP("  enum E { a }\n"), "3:14: expected \"=\" and a number after the value's "
                                  "name, as in red = 0, found \"}\"");
  FAILS(WRAP("  enum E { a = x }\n"), "3:16: expected a number such as 0, found \"x\"");
  FAILS(WRAP("  enum E { a = 1 b = 2 }\n"),
        "3:18: expected the end of the statement (a newline or \";\"), found \"b\"");
  FAILS(WRAP("  enum e { a = 1 }\n"), "3:8: bad enum name \"e\": " TYPE_RULE);
  /* an enum has at least one value */
  FAILS(WRAP("  enum E {}\n"), "3:8: enum E has no value; give it one such as none = 0");
  FAILS(WRAP("  enum Mood {\n\n  }\n"),
        "3:8: enum Mood has no value; give it one such as none = 0");
  FAILS("package p {\n  enum U { }\n}\n",
        "2:8: enum U has no value; give it one such as none = 0");
  FAILS(WRAP("  enum E\n"),
        "3:9: expected \"{\" after the enum name, on the same line, found "
        "the end of the line");
}

TEST(lang_idl_errors_in_interfaces) {
  FAILS(WRAP("  struct Q {}\n  interface I {\n    m(Q) -> Q\n    m(Q) -> Q\n  }\n"),
        "6:5: method m is declared twice in interface I");
  FAILS(WRAP("  interface I { error a = 1; error a = 2 }\n"),
        "3:36: error a is declared twice in interface I");
  FAILS(WRAP("  interface I { error a = 1; error b = 1 }\n"),
        "3:40: code 1 is used twice in interface I (first by a)");
  FAILS(WRAP("  interface I { error a = 0 }\n"),
        "3:27: expected an error code from 1 to 65535, found 0");
  FAILS(WRAP("  interface I { error a = 65536 }\n"),
        "3:27: expected an error code from 1 to 65535, found 65536");
  FAILS(WRAP("  interface I { error a }\n"),
        "3:25: expected \"=\" and a code, as in error not_found = 1, found \"}\"");
  FAILS(WRAP("  interface I { error A = 1 }\n"),
        "3:23: bad error name \"A\": " FIELD_RULE);
  FAILS(WRAP("  interface I { m Q) -> Q }\n"),
        "3:19: expected \"(\" and the request struct, as in get(GetReq) -> GetResp, "
        "found \"Q\"");
  FAILS(WRAP("  interface I { m(Q -> Q }\n"),
        "3:21: expected \")\" after the request struct, found \"->\"");
  FAILS(WRAP("  interface I { m(Q) Q }\n"), "3:22: expected \"->\" and the response "
                                            "struct, as in get(GetReq) -> GetResp, found "
                                            "\"Q\"");
  FAILS(WRAP("  interface I { m(Q) -> }\n"), "3:25: expected a struct name, found \"}\"");
  FAILS(WRAP("  interface I { m() -> Q }\n"),
        "3:19: expected a struct name, found \")\"");
  FAILS(WRAP("  interface I { m(q) -> Q }\n"), "3:19: bad struct name \"q\": " TYPE_RULE);
  FAILS(WRAP("  interface I { M(Q) -> Q }\n"),
        "3:17: bad method name \"M\": " FIELD_RULE);
  FAILS(WRAP("  interface I { m(Q) -> Q -> Q }\n"),
        "3:27: expected the end of the statement (a newline or \";\"), found \"->\"");
  FAILS(WRAP("  interface I { 1 }\n"),
        "3:17: expected a method such as get(GetReq) -> GetResp, found 1");
  FAILS(WRAP("  interface i {}\n"), "3:13: bad interface name \"i\": " TYPE_RULE);
  FAILS(WRAP("  service s implements greeter {}\n"),
        "3:24: bad interface name \"greeter\": " TYPE_RULE);
  FAILS(WRAP("  service s implements {}\n"),
        "3:24: expected an interface name, found \"{\"");
  FAILS(WRAP("  service s implements A B {}\n"),
        "3:26: expected \"{\" after the service name, on the same line, found \"B\"");
  /* a method's request and response are structs, never enums */
  FAILS(WRAP("  enum E { a = 0 }\n  struct Q {}\n  interface I { m(E) -> Q }\n"),
        "5:17: method m: E is an enum; a request or a response is a struct");
  FAILS(WRAP("  struct Q {}\n  interface I {\n    m(Q) -> Q\n    n(Q) -> E\n  }\n"
             "  enum E { a = 0 }\n"),
        "6:5: method n: E is an enum; a request or a response is a struct");
}

TEST(lang_idl_errors_in_imports) {
  FAILS(WRAP("  import \"a.sos\"\n  import \"a.sos\"\n"),
        "4:10: \"a.sos\" is listed twice in imports");
  FAILS(WRAP("  import a\n"),
        "3:10: expected the path of a definition in quotes, such as "
        "\"../greeter/app.sos\", found \"a\"");
  FAILS(WRAP("  import \"\"\n"), "3:10: a path cannot be empty");
  FAILS(WRAP("  imprt \"a.sos\"\n"),
        "3:3: unknown statement \"imprt\"; did you mean \"import\"?");
}

TEST(lang_idl_errors_name_clashes) {
  /* structs, enums and interfaces share one name space */
  FAILS(WRAP("  struct E {}\n  struct E {}\n"),
        "4:10: struct E is declared twice (first at line 3)");
  FAILS(WRAP("  enum E { a = 0 }\n  struct E {}\n"),
        "4:10: struct E is declared twice (first at line 3)");
  FAILS(WRAP("  struct E {}\n  enum E { a = 0 }\n"),
        "4:8: enum E is declared twice (first at line 3)");
  FAILS(WRAP("  enum E { a = 0 }\n  enum E { b = 1 }\n"),
        "4:8: enum E is declared twice (first at line 3)");
  FAILS(WRAP("  struct E {}\n  interface E {}\n"),
        "4:13: interface E is declared twice (first at line 3)");
  FAILS(WRAP("  interface E {}\n  enum E { a = 0 }\n"),
        "4:8: enum E is declared twice (first at line 3)");
  FAILS(WRAP("  interface E {}\n\n  interface E {}\n"),
        "5:13: interface E is declared twice (first at line 3)");
  /* a field's, a value's and a method's names are per declaration */
  struct sos_app *a = parse(WRAP("  struct A { x: u8 = 1 }\n  struct B { x: u8 = 1 }\n"
                                 "  enum C { x = 0 }\n  enum D { x = 0 }\n"));
  CHECK(a != NULL);
  sos_app_free(a);
}

TEST(lang_idl_struct_cycles) {
  FAILS(WRAP("  struct N { next: N = 1 }\n"),
        "3:14: struct N contains itself through N.next; hold it in a list "
        "(list<N>) instead");
  FAILS(WRAP("  struct N { next: optional N = 1 }\n"),
        "3:14: struct N contains itself through N.next; hold it in a list "
        "(list<N>) instead");
  FAILS(WRAP("  struct N { union u { next: N = 1 } }\n"),
        "3:24: struct N contains itself through N.next; hold it in a list "
        "(list<N>) instead");
  FAILS(
      WRAP("  struct A { b: B = 1 }\n  struct B { a: A = 1 }\n"),
      "4:14: struct A contains itself through B.a; hold it in a list (list<A>) instead");
  FAILS(
      WRAP("  struct A { x: u8 = 1; b: B = 2 }\n  struct B { c: C = 1 }\n"
           "  struct C { y: text = 1; a: A = 2 }\n"),
      "5:27: struct A contains itself through C.a; hold it in a list (list<A>) instead");
  /* a list breaks a cycle, and sharing a struct is no cycle */
  struct sos_app *a =
      parse(WRAP("  struct N { kids: list<N> = 1; v: u8 = 2 }\n"
                 "  struct A { b: B = 1; bs: list<A> = 2 }\n"
                 "  struct B { l: list<A> = 1; c: C = 2 }\n"
                 "  struct C {}\n"
                 "  struct D { c1: C = 1; c2: C = 2; b: B = 3; o: optional C = 4 }\n"));
  REQUIRE(a);
  CHECK(field_is(&a->structs[0].fields[0], SOS_APP_T_STRUCT, SOS_APP_F_LIST, 0, 1, "N"));
  sos_app_free(a);
}

/* The message about a key or an index that is not a plain scalar. */
#define KEYS "; a key or an index must be text, bytes or an integer"

/* Table rows are wire-format struct values (docs/wire.md), so a table's
 * struct may hold every field type; its key and indexes stay plain text,
 * bytes or integer fields, which order rows. */
TEST(lang_idl_table_structs_hold_any_field) {
  struct sos_app *a = parse(WRAP(
      "  enum M { a = 0; b = 1 }\n  struct P { n: text = 1 }\n"
      "  struct R { id: u64 = 1; tags: list<text> = 2; o: optional u8 = 3; p: P = 4\n"
      "    m: M = 5; ps: list<P> = 6; union u { x: u8 = 7; y: text = 8 }; at: i64 = 9 }\n"
      "  store r: table R key id index at\n"));
  REQUIRE(a);
  CHECK(a->nstores == 1 && a->stores[0].nindexes == 1);
  CHECK(field_is(&sos_app_struct(a, "R")->fields[1], SOS_APP_T_TEXT, SOS_APP_F_LIST, 0, 2,
                 NULL));
  sos_app_free(a);
  /* the key and the indexes must not be lists, optional, in a union,
   * enums or structs */
  FAILS(WRAP("  struct R { id: u64 = 1; tags: list<text> = 2 }\n"
             "  store r: table R key tags\n"),
        "4:24: field tags of struct R is list<text>" KEYS);
  FAILS(WRAP("  struct R { id: u64 = 1; o: optional u8 = 2 }\n"
             "  store r: table R key id index o\n"),
        "4:33: field o of struct R is optional u8" KEYS);
  FAILS(WRAP("  store r: table R key id index x\n"
             "  struct R { id: u64 = 1; union u { x: u8 = 2 } }\n"),
        "3:33: field x of struct R is u8" KEYS);
  FAILS(WRAP("  enum M { a = 0 }\n  struct R { id: u64 = 1; m: M = 2 }\n"
             "  store r: table R key m\n"),
        "5:24: field m of struct R is M" KEYS);
  FAILS(WRAP("  struct P {}\n  struct R { p: P = 1 }\n  store r: table R key p\n"),
        "5:24: field p of struct R is P" KEYS);
}

/* Struct and enum names close to a scalar type's ("Text", "Bool",
 * "Bites", "U8"): the did-you-mean for typos of scalar types once
 * rejected them as field types (`unknown type "Text"; did you mean
 * "text"?`); a well-formed type name is a type name. */
TEST(lang_idl_type_names_near_scalar_types) {
  static const struct {
    const char *text;
    uint8_t type, flags;
    const char *name;
  } cases[] = {
      {WRAP("  struct Text { s: text = 1 }\n  struct M { body: Text = 1 }\n"),
       SOS_APP_T_STRUCT, 0, "Text"},
      {WRAP("  enum Bool { no = 0; yes = 1 }\n  struct M { b: Bool = 1 }\n"),
       SOS_APP_T_ENUM, 0, "Bool"},
      {WRAP("  struct Bites { n: u8 = 1 }\n  struct M { b: list<Bites> = 1 }\n"),
       SOS_APP_T_STRUCT, SOS_APP_F_LIST, "Bites"},
      {WRAP("  struct U8 { n: u8 = 1 }\n  struct M { b: optional U8 = 1 }\n"),
       SOS_APP_T_STRUCT, SOS_APP_F_OPTIONAL, "U8"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct sos_app *a = parse(cases[i].text);
    const struct sos_app_struct *m = a ? sos_app_struct(a, "M") : NULL;
    CHECK(m && m->nfields == 1);
    if (m && m->nfields == 1)
      CHECK(field_is(&m->fields[0], cases[i].type, cases[i].flags, 0, 1, cases[i].name));
    sos_app_free(a);
  }
}

/* ---- printing ---------------------------------------------------------------------- */

TEST(lang_idl_print_canonical_layout) {
  struct sos_app *a =
      parse("app g 1.0.0 {\n"
            "  sources \"g.c\"\n"
            "  import \"../p/p.sos\"\n"
            "  struct Req { tags: list<text> = 1; note: optional text = 2\n"
            "    union c { e: text = 3; p: u64 = 4 }; m: Mood = 5 }\n"
            "  interface Api { error gone = 2; get(Req) -> Req }\n"
            "  enum Mood { calm = 0; happy = 1 }\n"
            "  struct Empty {}\n"
            "  enum None { none = 0 }\n"
            "  interface Nothing {}\n"
            "  service g implements Api { instances 1..2 }\n"
            "}\n"
            "package geo {\n  struct Point { x: i32 = 1 }\n}\n");
  REQUIRE(a);
  char *p = print(a);
  /* enums, then structs, then interfaces; imports after env; imported
   * declarations in package blocks after the app */
  CHECK(same_text(p, "app g 1.0.0 {\n"
                     "  sources \"g.c\"\n"
                     "  import \"../p/p.sos\"\n"
                     "  enum Mood {\n"
                     "    calm = 0\n"
                     "    happy = 1\n"
                     "  }\n"
                     "  enum None {\n"
                     "    none = 0\n"
                     "  }\n"
                     "  struct Req {\n"
                     "    tags: list<text> = 1\n"
                     "    note: optional text = 2\n"
                     "    union c {\n"
                     "      e: text = 3\n"
                     "      p: u64 = 4\n"
                     "    }\n"
                     "    m: Mood = 5\n"
                     "  }\n"
                     "  struct Empty {}\n"
                     "  interface Api {\n"
                     "    get(Req) -> Req\n"
                     "    error gone = 2\n"
                     "  }\n"
                     "  interface Nothing {}\n"
                     "  service g implements Api {\n"
                     "    instances 1..2\n"
                     "    memory 16MiB\n"
                     "    timeout 5s\n"
                     "    queue 64\n"
                     "    quota 64MiB\n"
                     "    keys 1000000\n"
                     "  }\n"
                     "}\n"
                     "package geo {\n"
                     "  struct Point {\n"
                     "    x: i32 = 1\n"
                     "  }\n"
                     "}\n"));
  sos_free(p);
  sos_app_free(a);
  /* a package file prints as a package, with its version when it has one */
  a = parse("package geo 2.0.1 {\n  struct P { x: i8 = 1 }\n}\n");
  REQUIRE(a);
  p = print(a);
  CHECK(same_text(p, "package geo 2.0.1 {\n  struct P {\n    x: i8 = 1\n  }\n}\n"));
  sos_free(p);
  sos_app_free(a);
  a = parse("package geo { import \"u.sos\"; enum U { m = 0 } }\n");
  REQUIRE(a);
  p = print(a);
  CHECK(
      same_text(p, "package geo {\n  import \"u.sos\"\n  enum U {\n    m = 0\n  }\n}\n"));
  sos_free(p);
  sos_app_free(a);
}

/* Parses text, prints it, parses the print and prints again: the two
 * prints are the same text and the two parses declare the same things. */
static void check_round_trip(const char *text) {
  struct sos_app *a = parse(text);
  REQUIRE(a);
  char *first = print(a);
  REQUIRE(first);
  struct sos_app *b = parse(first);
  REQUIRE(b);
  char *second = print(b);
  CHECK(same_text(second, first));
  CHECK(same_decls(a, b));
  CHECK_EQ(b->is_package, a->is_package);
  CHECK_EQ(b->nimports, a->nimports);
  CHECK(same_str(b->version, a->version));
  sos_free(first);
  sos_free(second);
  sos_app_free(a);
  sos_app_free(b);
}

TEST(lang_idl_print_round_trips) {
  check_round_trip(greeter);
  check_round_trip("package geo 1.2.3 {\n  import \"a.sos\"\n  import \"../b/b.sos\"\n"
                   "  enum Unit { m = 0; km = 1 }\n"
                   "  struct Point { x: i32 = 1; u: Unit = 2; near: list<Point> = 3 }\n"
                   "  interface Map { at(Point) -> Point; error far = 9 }\n}\n");
  check_round_trip("package bare { }\n");
  check_round_trip(
      "app x 1.0.0 {\n  module \"m\"\n  struct A { p: Point = 1; u: U = 2 }\n"
      "  service s implements Map {}\n}\n"
      "package geo {\n  struct Point { x: i32 = 1 }\n"
      "  interface Map { at(Point) -> Point }\n}\n"
      "package other {\n  enum U { a = 0 }\n  struct O { p: optional Point = 1 }\n}\n");
  check_round_trip(
      WRAP("  struct M { union: text = 1; union list { optional: u8 = 2 } }\n"
           "  struct N { union union { list: u8 = 2 } }\n"
           "  struct W { a: list<bytes> = 65535; b: list<f64> = 1 }\n"
           "  struct V { union one { a: u8 = 1 }; x: u8 = 2; union two { b: u8 = 3 } }\n"
           "  enum E { error = 2147483647 }\n  interface I { error(M) -> W }\n"
           "  struct T { id: u64 = 1 }\n  store t: table T key id\n"));
  /* the variants of a union written apart still print together, where
   * the first one is; the definition is the same */
  struct sos_app *a = parse(WRAP("  struct S { union u { a: u8 = 1 }; b: u8 = 2 }\n"));
  REQUIRE(a);
  char *p = print(a);
  CHECK(p &&
        strstr(
            p,
            "  struct S {\n    union u {\n      a: u8 = 1\n    }\n    b: u8 = 2\n  }\n"));
  sos_free(p);
  sos_app_free(a);
  /* hand-built: declarations without a package are the app's own */
  struct sos_app_field f = {
      .name = "f", .type = SOS_APP_T_ENUM, .tag = 1, .type_name = "E"};
  struct sos_app_struct st = {.name = "S", .fields = &f, .nfields = 1};
  struct sos_app_enum_value v = {.name = "a", .value = 0};
  struct sos_app_enum en = {.name = "E", .values = &v, .nvalues = 1};
  struct sos_app_method m = {.name = "get", .request = "S", .response = "S"};
  struct sos_app_interface it = {.name = "I", .methods = &m, .nmethods = 1};
  struct sos_app hand = {.name = "n",
                         .version = "1.0.0",
                         .structs = &st,
                         .nstructs = 1,
                         .enums = &en,
                         .nenums = 1,
                         .interfaces = &it,
                         .ninterfaces = 1};
  p = print(&hand);
  CHECK(same_text(
      p, "app n 1.0.0 {\n  enum E {\n    a = 0\n  }\n  struct S {\n    f: E = 1\n"
         "  }\n  interface I {\n    get(S) -> S\n  }\n}\n"));
  sos_free(p);
}

/* ---- fmt --------------------------------------------------------------------------- */

TEST(lang_idl_fmt) {
  static const char in[] = "# greeter\n"
                           "app x 1.0.0 {\n"
                           "  module \"m\"   # the code\n"
                           "  import   \"a.sos\"\n"
                           "  enum Mood{calm=0;happy=1}\n"
                           "  struct Req {\n"
                           "  tags : list < text > = 1 # tags\n"
                           "  note:optional   text=2\n"
                           "\n\n"
                           "    union   contact{email:text=3;phone:u64=4}\n"
                           "  union pick {\n"
                           "  a : Mood = 5  # a mood\n"
                           "}\n"
                           "  }\n"
                           "  interface Greeter {\n"
                           "    hello ( Req )->Req\n"
                           "    error   not_found=1\n"
                           "    bye(Req)  ->  Req  # bye\n"
                           "  }\n"
                           "  service s implements   Greeter{instances 1..2}\n"
                           "}\n"
                           "package other {\n"
                           "struct O { xs:list<O>=1 }\n"
                           "}\n";
  char *out = fmt(in);
  REQUIRE(out);
  CHECK(same_text(out, "# greeter\n"
                       "app x 1.0.0 {\n"
                       "  module \"m\"  # the code\n"
                       "  import \"a.sos\"\n"
                       "  enum Mood { calm = 0; happy = 1 }\n"
                       "  struct Req {\n"
                       "    tags: list<text> = 1  # tags\n"
                       "    note: optional text = 2\n"
                       "\n"
                       "    union contact { email: text = 3; phone: u64 = 4 }\n"
                       "    union pick {\n"
                       "      a: Mood = 5  # a mood\n"
                       "    }\n"
                       "  }\n"
                       "  interface Greeter {\n"
                       "    hello(Req) -> Req\n"
                       "    error not_found = 1\n"
                       "    bye(Req) -> Req  # bye\n"
                       "  }\n"
                       "  service s implements Greeter { instances 1..2 }\n"
                       "}\n"
                       "package other {\n"
                       "  struct O { xs: list<O> = 1 }\n"
                       "}\n"));
  /* idempotent, and the same definition */
  char *again = fmt(out);
  CHECK(same_text(again, out));
  struct sos_app *a = parse(in), *b = parse(out);
  REQUIRE(a && b);
  CHECK(same_decls(a, b));
  CHECK_EQ(b->nimports, 1);
  sos_app_free(a);
  sos_app_free(b);
  sos_free(again);
  sos_free(out);
  /* the canonical print is already formatted */
  a = parse(greeter);
  REQUIRE(a);
  char *p = print(a);
  out = fmt(p);
  CHECK(same_text(out, p));
  sos_free(out);
  sos_free(p);
  sos_app_free(a);
  /* errors are the parser's */
  char err[256];
  out = (char *)1;
  static const char bad[] = "app x 1.0.0 {\n  struct A { a: list<list<u8>> = 1 }\n}\n";
  CHECK_EQ(sos_app_fmt(bad, strlen(bad), "f.sos", &out, NULL, err, sizeof err),
           SOS_EINVAL);
  CHECK(out == NULL);
  CHECK_STR(err,
            "f.sos:2:22: a list's elements are a plain type; for a list of lists, use a "
            "list of a struct that holds a list");
}

/* ---- loading and imports ----------------------------------------------------------- */

TEST(lang_idl_load_imports) {
  make_root();
  REQUIRE(tmp_root[0]);
  /* app/app.sos imports a package two folders away (which imports a third
   * by a path relative to itself) and another app, which imports the
   * first package again: a diamond */
  put("lib/units/units.sos", "package units {\n  enum Unit { m = 0; km = 1 }\n}\n");
  put("pkg/geo/geo.sos", "package geo 1.0.0 {\n  import \"../../lib/units/units.sos\"\n"
                         "  struct Point { x: i32 = 1; u: Unit = 2 }\n}\n");
  put("svc/app.sos",
      "app svc 1.0.0 {\n  module \"svc.wasm\"\n  import \"../pkg/geo/geo.sos\"\n"
      "  struct Req { at: Point = 1 }\n  interface Api { get(Req) -> Point; "
      "error far = 1 }\n  service svc implements Api {}\n}\n");
  put("app/app.sos", "app top 1.0.0 {\n  module \"m\"\n  import \"../pkg/geo/geo.sos\"\n"
                     "  import \"../svc/app.sos\"\n  uses svc\n"
                     "  struct Mine { p: Point = 1; u: Unit = 2; r: list<Req> = 3 }\n"
                     "  service t implements Api {}\n}\n");
  struct sos_app *a = load("app/app.sos");
  REQUIRE(a);
  CHECK(a->imports == NULL && a->nimports == 0);
  REQUIRE(a->nstructs == 3 && a->nenums == 1 && a->ninterfaces == 1);
  CHECK_EQ(a->nstructs_own, 1);
  CHECK_EQ(a->nenums_own, 0);
  CHECK_EQ(a->ninterfaces_own, 0);
  CHECK_STR(a->structs[0].name, "Mine");
  CHECK_STR(a->structs[0].package, "top");
  const struct sos_app_struct *pt = sos_app_struct(a, "Point");
  REQUIRE(pt);
  CHECK_STR(pt->package, "geo"); /* once, though imported twice */
  CHECK_EQ(pt->pos.line, 3);
  CHECK(field_is(&pt->fields[1], SOS_APP_T_ENUM, 0, 0, 2, "Unit"));
  CHECK_STR(sos_app_struct(a, "Req")->package, "svc");
  CHECK_STR(a->enums[0].name, "Unit");
  CHECK_STR(a->enums[0].package, "units"); /* transitive */
  CHECK_STR(a->interfaces[0].package, "svc");
  CHECK_EQ(a->interfaces[0].nerrors, 1);
  CHECK(field_is(&a->structs[0].fields[1], SOS_APP_T_ENUM, 0, 0, 2, "Unit"));
  CHECK(
      field_is(&a->structs[0].fields[2], SOS_APP_T_STRUCT, SOS_APP_F_LIST, 0, 3, "Req"));
  CHECK_STR(a->services[0].implements, "Api");
  CHECK(a->module &&
        a->nservices == 1); /* the imported app's code and services stay there */
  /* printed, imported declarations go to package blocks, which read back
   * as the same declarations */
  char *p = print(a);
  REQUIRE(p);
  CHECK(strstr(p, "}\npackage units {\n  enum Unit {\n    m = 0\n    km = 1\n  }\n}\n") !=
        NULL);
  CHECK(strstr(
      p, "package geo {\n  struct Point {\n    x: i32 = 1\n    u: Unit = 2\n  }\n}\n"));
  CHECK(strstr(
      p, "package svc {\n  struct Req {\n    at: Point = 1\n  }\n  interface Api {\n"
         "    get(Req) -> Point\n    error far = 1\n  }\n}\n"));
  CHECK(strstr(p, "import") == NULL);
  CHECK(strstr(p, "package geo 1.0.0") == NULL);
  struct sos_app *b = parse(p);
  REQUIRE(b);
  CHECK(same_decls(a, b));
  char *p2 = print(b);
  CHECK(same_text(p2, p));
  sos_free(p2);
  sos_app_free(b);
  sos_free(p);
  sos_app_free(a);
  /* a package file loads on its own: no code or service needed */
  a = load("pkg/geo/geo.sos");
  REQUIRE(a);
  CHECK(a->is_package == 1 && a->nstructs == 1 && a->nenums == 1);
  CHECK_EQ(a->nenums_own, 0);
  CHECK_STR(a->version, "1.0.0");
  sos_app_free(a);
  remove_root();
}

TEST(lang_idl_load_import_errors) {
  make_root();
  REQUIRE(tmp_root[0]);
  /* one name, two packages */
  put("p/a.sos", "package a {\n  struct Point { x: i32 = 1 }\n}\n");
  put("p/b.sos", "package b {\n  enum Point { x = 0 }\n}\n");
  put("two.sos",
      "app two 1.0.0 {\n  module \"m\"\n  import \"p/a.sos\"\n  import \"p/b.sos\"\n"
      "  service s {}\n}\n");
  LOAD_FAILS("two.sos", "@/two.sos:4:10: Point is declared by both a and the imported "
                        "package b; rename one");
  /* an own declaration clashing with an imported one */
  put("own.sos", "app own 1.0.0 {\n  module \"m\"\n  import \"p/a.sos\"\n"
                 "  interface Point {}\n  service s {}\n}\n");
  LOAD_FAILS("own.sos", "@/own.sos:3:10: Point is declared by both own and the imported "
                        "package a; rename one");
  /* a cycle, however long */
  put("c/a.sos", "package ca {\n  import \"../d/b.sos\"\n  struct A {}\n}\n");
  put("d/b.sos", "package cb {\n  import \"../c/a.sos\"\n  struct B {}\n}\n");
  put("cyc.sos",
      "app cyc 1.0.0 {\n  module \"m\"\n  import \"c/a.sos\"\n  service s {}\n}\n");
  LOAD_FAILS("cyc.sos", "@/c/../d/b.sos:2:10: import cycle: @/cyc.sos -> @/c/a.sos -> "
                        "@/c/../d/b.sos -> @/c/../d/../c/a.sos");
  put("self.sos",
      "app me 1.0.0 {\n  module \"m\"\n  import \"self.sos\"\n  service s {}\n}\n");
  LOAD_FAILS("self.sos", "@/self.sos:3:10: import cycle: @/self.sos -> @/self.sos");
  /* a missing file, named */
  put("miss.sos",
      "app miss 1.0.0 {\n  module \"m\"\n  import \"nope/x.sos\"\n  service s {}\n}\n");
  CHECK(load_fails("miss.sos", SOS_ENOENT,
                   "@/miss.sos:3:10: cannot read import "
                   "@/nope/x.sos: No such file or directory"));
  /* errors inside an imported file are reported in that file */
  put("p/bad.sos", "package bad {\n  struct P { x: Q = 1 }\n}\n");
  put("bad.sos",
      "app bad 1.0.0 {\n  module \"m\"\n  import \"p/bad.sos\"\n  service s {}\n}\n");
  LOAD_FAILS("bad.sos", "@/p/bad.sos:2:14: unknown type \"Q\"; did you mean \"P\"?");
  put("p/syntax.sos", "package syn {\n  struct P { x: u65 = 1 }\n}\n");
  put("syn.sos",
      "app syn 1.0.0 {\n  module \"m\"\n  import \"p/syntax.sos\"\n  service s {}\n}\n");
  LOAD_FAILS("syn.sos",
             "@/p/syntax.sos:2:17: unknown type \"u65\"; did you mean \"u64\"?");
  /* a missing import of an imported package is reported in that package */
  put("p/inner.sos", "package inner {\n  import \"gone.sos\"\n}\n");
  put("inner.sos", "app inner 1.0.0 {\n  module \"m\"\n  import \"p/inner.sos\"\n"
                   "  service s {}\n}\n");
  CHECK(load_fails("inner.sos", SOS_ENOENT,
                   "@/p/inner.sos:2:10: cannot read import "
                   "@/p/gone.sos: No such file or directory"));
  /* imports nest at most 8 deep */
  char rel[32], text[256];
  for (int i = 0; i < 10; i++) {
    snprintf(rel, sizeof rel, "deep/n%d.sos", i);
    snprintf(text, sizeof text,
             "package n%d {\n  import \"n%d.sos\"\n  struct S%d {}\n}\n", i, i + 1, i);
    put(rel, text);
  }
  put("deep/n10.sos", "package n10 {}\n");
  struct sos_app *a = NULL;
  char err[1024];
  CHECK_EQ(sos_app_load(at("deep/n0.sos"), &a, err, sizeof err), SOS_EINVAL);
  CHECK(a == NULL);
  CHECK(strstr(err, "imports nest more than 8 levels deep") != NULL);
  a = load("deep/n3.sos"); /* seven levels below n3 */
  REQUIRE(a);
  CHECK(a->nstructs == 7 && a->nstructs_own == 1);
  CHECK_STR(a->structs[6].package, "n9");
  sos_app_free(a);
  remove_root();
}

TEST(lang_idl_load_resolves_strictly) {
  make_root();
  REQUIRE(tmp_root[0]);
  put("t1.sos", "app t 1.0.0 {\n  module \"m\"\n  struct S { x: Pont = 1 }\n"
                "  struct Point {}\n  service s {}\n}\n");
  LOAD_FAILS("t1.sos", "@/t1.sos:3:14: unknown type \"Pont\"; did you mean \"Point\"?");
  put("t2.sos", "app t 1.0.0 {\n  module \"m\"\n  enum Mood { a = 0 }\n"
                "  struct S { x: list<Mod> = 1 }\n  service s {}\n}\n");
  LOAD_FAILS("t2.sos", "@/t2.sos:4:14: unknown type \"Mod\"; did you mean \"Mood\"?");
  put("t3.sos",
      "app t 1.0.0 {\n  module \"m\"\n  struct S { x: Zzz = 1 }\n  service s {}\n}\n");
  LOAD_FAILS("t3.sos",
             "@/t3.sos:3:14: unknown type \"Zzz\"; declare it with struct Zzz { ... }");
  put("t4.sos", "app t 1.0.0 {\n  module \"m\"\n  struct Req {}\n"
                "  interface I { get(Rq) -> Req }\n  service s {}\n}\n");
  LOAD_FAILS("t4.sos", "@/t4.sos:4:17: unknown struct \"Rq\"; did you mean \"Req\"?");
  put("t5.sos", "app t 1.0.0 {\n  module \"m\"\n  struct Req {}\n"
                "  interface I { get(Req) -> Resp }\n  service s {}\n}\n");
  LOAD_FAILS("t5.sos",
             "@/t5.sos:4:17: unknown struct \"Resp\"; declare it with struct Resp "
             "{ ... }");
  put("t6.sos", "app t 1.0.0 {\n  module \"m\"\n  interface Greeter {}\n"
                "  service s implements Gretter {}\n}\n");
  LOAD_FAILS("t6.sos",
             "@/t6.sos:4:11: service s implements unknown interface \"Gretter\"; "
             "did you mean \"Greeter\"?");
  put("t7.sos", "app t 1.0.0 {\n  module \"m\"\n  service s implements Zzz {}\n}\n");
  LOAD_FAILS("t7.sos", "@/t7.sos:3:11: service s implements unknown interface \"Zzz\"");
  /* a struct cannot stand for an interface */
  put("t8.sos", "app t 1.0.0 {\n  module \"m\"\n  struct Api {}\n"
                "  service s implements Api {}\n}\n");
  LOAD_FAILS("t8.sos", "@/t8.sos:4:11: service s implements unknown interface \"Api\"");
  /* what a parse leaves open, a load settles with the imports */
  put("pk.sos",
      "package pk {\n  struct Point {}\n  interface Api { get(Point) -> Point }\n}\n");
  put("t9.sos",
      "app t 1.0.0 {\n  module \"m\"\n  import \"pk.sos\"\n  struct S { p: Point = 1 }\n"
      "  service s implements Api {}\n}\n");
  struct sos_app *a = load("t9.sos");
  REQUIRE(a);
  CHECK(field_is(&a->structs[0].fields[0], SOS_APP_T_STRUCT, 0, 0, 1, "Point"));
  sos_app_free(a);
  /* a cycle through an imported struct is found too (here the imported
   * struct holds nothing, so none); a table's struct may hold an imported
   * struct, but its key may not be one */
  put("t10.sos", "app t 1.0.0 {\n  module \"m\"\n  import \"pk.sos\"\n"
                 "  struct R { id: u64 = 1; p: Point = 2 }\n  store r: table R key id\n"
                 "  service s {}\n}\n");
  a = load("t10.sos");
  REQUIRE(a);
  CHECK(field_is(&sos_app_struct(a, "R")->fields[1], SOS_APP_T_STRUCT, 0, 0, 2, "Point"));
  sos_app_free(a);
  put("t11.sos", "app t 1.0.0 {\n  module \"m\"\n  import \"pk.sos\"\n"
                 "  struct R { id: u64 = 1; p: Point = 2 }\n  store r: table R key p\n"
                 "  service s {}\n}\n");
  LOAD_FAILS("t11.sos", "@/t11.sos:5:24: field p of struct R is Point; a key or an index "
                        "must be text, bytes or an integer");
  remove_root();
}

TEST(lang_idl_extends_with_imports) {
  make_root();
  REQUIRE(tmp_root[0]);
  /* the base's import is relative to the base's folder; the extending
   * file's to its own; the result holds both packages' declarations */
  put("shared/pkg/p.sos",
      "package p {\n  struct P { x: u8 = 1 }\n  enum Kind { a = 0 }\n}\n");
  put("shared/pkg/q.sos",
      "package q {\n  import \"p.sos\"\n  struct Q { p: P = 1 }\n}\n");
  put("base/core/app.sos", "app core 1.0.0 {\n  sources \"core.c\"\n"
                           "  import \"../../shared/pkg/p.sos\"\n"
                           "  struct B { k: Kind = 1 }\n  service s {}\n}\n");
  put("apps/top/app.sos", "app top 1.0.0 extends \"../../base/core/app.sos\" {\n"
                          "  import \"../../shared/pkg/q.sos\"\n"
                          "  struct T { p: P = 1; q: Q = 2 }\n}\n");
  struct sos_app *a = load("apps/top/app.sos");
  REQUIRE(a);
  REQUIRE(a->nsources == 1);
  CHECK_STR(a->sources[0], "../../base/core/core.c");
  CHECK(a->imports == NULL);
  CHECK_EQ(a->nstructs, 4);
  CHECK_EQ(a->nstructs_own, 2); /* the base's B and the file's T */
  CHECK_STR(sos_app_struct(a, "B")->package, "top");
  CHECK_STR(sos_app_struct(a, "T")->package, "top");
  CHECK_STR(sos_app_struct(a, "P")->package, "p");
  CHECK_STR(sos_app_struct(a, "Q")->package, "q");
  CHECK(a->nenums == 1 && a->nenums_own == 0);
  CHECK(field_is(&sos_app_struct(a, "B")->fields[0], SOS_APP_T_ENUM, 0, 0, 1, "Kind"));
  char *p = print(a);
  struct sos_app *b = parse(p);
  REQUIRE(b);
  CHECK(same_decls(a, b));
  sos_free(p);
  sos_app_free(b);
  sos_app_free(a);
  /* a base's import of a missing file is named as rebased, and reported
   * at the extends path that brings it in */
  put("base/broken/app.sos",
      "app broken 1.0.0 {\n  sources \"b.c\"\n  import \"gone.sos\"\n"
      "  service s {}\n}\n");
  put("apps/b/app.sos", "app b 1.0.0 extends \"../../base/broken/app.sos\" {\n}\n");
  CHECK(load_fails("apps/b/app.sos", SOS_ENOENT,
                   "@/apps/b/app.sos:1:21: cannot read import "
                   "@/apps/b/../../base/broken/gone.sos: No such file or directory"));
  /* an extending file's struct that a base table uses may gain any
   * field, but the base's key must stay a plain scalar */
  put("base/tab/app.sos",
      "app tab 1.0.0 {\n  sources \"t.c\"\n  struct R { id: u64 = 1 }\n"
      "  store r: table R key id\n  service s {}\n}\n");
  put("apps/tab/app.sos", "app t2 1.0.0 extends \"../../base/tab/app.sos\" {\n"
                          "  struct R { id: u64 = 1; tags: list<text> = 2 }\n}\n");
  a = load("apps/tab/app.sos");
  CHECK(a && a->nstores == 1 && sos_app_struct(a, "R")->nfields == 2);
  sos_app_free(a);
  put("apps/tab/app.sos", "app t2 1.0.0 extends \"../../base/tab/app.sos\" {\n"
                          "  struct R { id: list<u64> = 1 }\n}\n");
  LOAD_FAILS(
      "apps/tab/app.sos",
      "@/apps/tab/app.sos:2:10: struct R no longer fits the base's store r: field "
      "id of struct R is list<u64>; a key or an index must be text, bytes or an integer");
  /* a base's service may implement an interface the extending file
   * declares; keeping the base's implements when not overridden */
  put("base/impl/app.sos", "app impl 1.0.0 {\n  sources \"i.c\"\n  struct Q {}\n"
                           "  interface Api { get(Q) -> Q }\n"
                           "  service s implements Api {}\n}\n");
  put("apps/impl/app.sos", "app i2 1.0.0 extends \"../../base/impl/app.sos\" {\n"
                           "  service s { queue 3 }\n}\n");
  a = load("apps/impl/app.sos");
  REQUIRE(a && a->nservices == 1);
  CHECK_STR(a->services[0].implements, "Api");
  CHECK_EQ(a->services[0].queue, 3);
  sos_app_free(a);
  remove_root();
}

/* ---- regressions in loading -------------------------------------------------------- */

/* An app that imports a package of its own name: declarations are told
 * apart by their package's name, so the imported Point was once dropped
 * silently and Extra counted as imported but printed inside the app
 * block.  Now an error at the import, also when the package comes in
 * through another package; and two different files that both say
 * `package geo` with different declarations of a name are an error at
 * the second import, while one package file reached along two paths (a
 * diamond) still loads. */
TEST(lang_idl_load_same_package_name_twice) {
  make_root();
  REQUIRE(tmp_root[0]);
  put("geo.sos",
      "package geo {\n  struct Point { x: i32 = 1 }\n  struct Extra { y: i32 = 1 }\n}\n");
  put("app.sos", "app geo 1.0.0 {\n  module \"m\"\n  import \"geo.sos\"\n"
                 "  struct Point { s: text = 1 }\n  service s {}\n}\n");
  LOAD_FAILS("app.sos",
             "@/app.sos:3:10: the imported package geo has the name of this definition; "
             "rename one");
  put("q.sos", "package q {\n  import \"geo.sos\"\n  struct Q { p: Point = 1 }\n}\n");
  put("viaq.sos",
      "app geo 1.0.0 {\n  module \"m\"\n\n  import \"q.sos\"\n  service s {}\n}\n");
  LOAD_FAILS("viaq.sos",
             "@/viaq.sos:4:10: the imported package geo has the name of this definition; "
             "rename one");
  put("geo2.sos", "package geo {\n  struct Point { s: text = 1; z: u8 = 2 }\n}\n");
  put("two.sos",
      "app two 1.0.0 {\n  module \"m\"\n  import \"geo.sos\"\n  import \"geo2.sos\"\n"
      "  service s {}\n}\n");
  LOAD_FAILS("two.sos", "@/two.sos:4:10: package geo is imported twice with different "
                        "declarations of Point");
  /* the diamond: geo.sos directly and through q.sos */
  put("dia.sos", "app dia 1.0.0 {\n  module \"m\"\n  import \"geo.sos\"\n"
                 "  import \"q.sos\"\n  struct D { p: Point = 1; q: Q = 2 }\n"
                 "  service s {}\n}\n");
  struct sos_app *a = load("dia.sos");
  REQUIRE(a);
  CHECK(a->nstructs == 4 && a->nstructs_own == 1);
  CHECK_STR(sos_app_struct(a, "Point")->package, "geo");
  CHECK_STR(sos_app_struct(a, "Extra")->package, "geo");
  CHECK_STR(sos_app_struct(a, "Q")->package, "q");
  char *p = print(a);
  struct sos_app *b = parse(p);
  CHECK(b && same_decls(a, b));
  sos_app_free(b);
  sos_free(p);
  sos_app_free(a);
  remove_root();
}

/* An extending file's enum named like a struct of its base: merging
 * replaces declarations by name within one kind, so both struct E and
 * enum E were once kept (U.e silently became an enum, and the print did
 * not parse again).  Structs, enums and interfaces share one namespace
 * across extends too: the enum (or interface) is reported, in the loaded
 * file. */
TEST(lang_idl_extends_enum_named_like_a_base_struct) {
  make_root();
  REQUIRE(tmp_root[0]);
  put("base/app.sos", "app base 1.0.0 {\n  sources \"b.c\"\n  struct E { x: u8 = 1 }\n"
                      "  struct U { e: E = 1 }\n  service s {}\n}\n");
  put("app/app.sos",
      "app top 1.0.0 extends \"../base/app.sos\" {\n  enum E { a = 0 }\n}\n");
  LOAD_FAILS("app/app.sos",
             "@/app/app.sos:2:8: enum E would replace the base's struct E; rename one");
  put("app/iface.sos",
      "app top 1.0.0 extends \"../base/app.sos\" {\n\n  interface E {}\n}\n");
  LOAD_FAILS(
      "app/iface.sos",
      "@/app/iface.sos:3:13: interface E would replace the base's struct E; rename one");
  /* the other way round: a base's enum, the extending file's struct */
  put("base2/app.sos", "app base 1.0.0 {\n  sources \"b.c\"\n  enum E { a = 0 }\n"
                       "  service s {}\n}\n");
  put("app/struct.sos",
      "app top 1.0.0 extends \"../base2/app.sos\" {\n  struct E { x: u8 = 1 }\n}\n");
  struct sos_app *a = (struct sos_app *)1;
  char err[1024];
  CHECK_EQ(sos_app_load(at("app/struct.sos"), &a, err, sizeof err), SOS_EINVAL);
  CHECK(a == NULL);
  CHECK(same_text(
      err,
      at("app/struct.sos:2:10: struct E would replace the base's enum E; rename one")));
  /* replacing a base's struct by a struct of the same name is no clash */
  put("app/same.sos", "app top 1.0.0 extends \"../base/app.sos\" {\n"
                      "  struct E { x: u8 = 1; y: u8 = 2 }\n}\n");
  a = load("app/same.sos");
  REQUIRE(a);
  CHECK(a->nenums == 0 && a->nstructs == 2);
  CHECK_EQ(sos_app_struct(a, "E")->nfields, 2);
  sos_app_free(a);
  remove_root();
}

/* An extending file's `service s implements Api { ... }` over a base's
 * `service s {}`: merging the service once copied only its settings and
 * lost implements. */
TEST(lang_idl_extends_keeps_implements) {
  make_root();
  REQUIRE(tmp_root[0]);
  put("base/app.sos", "app base 1.0.0 {\n  sources \"b.c\"\n  service s {}\n}\n");
  put("app/app.sos",
      "app top 1.0.0 extends \"../base/app.sos\" {\n  struct Q {}\n"
      "  interface Api { get(Q) -> Q }\n  service s implements Api { queue 3 }\n}\n");
  struct sos_app *a = load("app/app.sos");
  REQUIRE(a && a->nservices == 1);
  CHECK_EQ(a->services[0].queue, 3);
  CHECK_STR(a->services[0].implements, "Api");
  sos_app_free(a);
  remove_root();
}

/* A service with implements that only the extending file declares: moving
 * it into the base's services once left the moved implements string owned
 * by the leftover too, a use after free (and a double free) under ASan. */
TEST(lang_idl_extends_new_service_with_implements) {
  make_root();
  REQUIRE(tmp_root[0]);
  put("base/app.sos", "app base 1.0.0 {\n  sources \"b.c\"\n  service s {}\n}\n");
  put("app/app.sos",
      "app top 1.0.0 extends \"../base/app.sos\" {\n  struct Q {}\n"
      "  interface Api { get(Q) -> Q }\n  service t implements Api {}\n}\n");
  struct sos_app *a = load("app/app.sos");
  REQUIRE(a && a->nservices == 2);
  CHECK_STR(a->services[0].name, "s");
  CHECK(a->services[0].implements == NULL);
  CHECK_STR(a->services[1].name, "t");
  CHECK_STR(a->services[1].implements, "Api");
  sos_app_free(a);
  remove_root();
}

/* Errors about an import (a missing file, a cycle, a name two packages
 * declare) were once reported at the importing file's `app` or `package`
 * keyword (1:1); now at the import's path, on its own line and column. */
TEST(lang_idl_import_errors_point_at_the_import) {
  make_root();
  REQUIRE(tmp_root[0]);
  put("ok.sos", "package ok {\n  struct A {}\n}\n");
  put("miss.sos", "app miss 1.0.0 {\n  module \"m\"\n\n  import \"nope/x.sos\"\n"
                  "  service s {}\n}\n");
  CHECK(load_fails("miss.sos", SOS_ENOENT,
                   "@/miss.sos:4:10: cannot read import "
                   "@/nope/x.sos: No such file or directory"));
  /* the second import of a line */
  put("line.sos", "app line 1.0.0 {\n  module \"m\"\n  import \"ok.sos\"; import "
                  "\"nope.sos\"\n  service s {}\n}\n");
  CHECK(load_fails("line.sos", SOS_ENOENT,
                   "@/line.sos:3:27: cannot read import "
                   "@/nope.sos: No such file or directory"));
  put("self.sos", "package me {\n  import \"ok.sos\"\n    import \"self.sos\"\n}\n");
  LOAD_FAILS("self.sos", "@/self.sos:3:12: import cycle: @/self.sos -> @/self.sos");
  put("ok2.sos", "package other {\n  enum A { a = 0 }\n}\n");
  put("clash.sos",
      "package clash {\n  import \"ok.sos\"\n\n\n   import \"ok2.sos\"\n}\n");
  LOAD_FAILS("clash.sos",
             "@/clash.sos:5:11: A is declared by both ok and the imported package other; "
             "rename one");
  remove_root();
}

/* ---- out of memory ----------------------------------------------------------------- */

/* An IDL-heavy definition: every kind of declaration and field, trailing
 * packages, imports. */
static const char heavy[] =
    "# a definition that uses every part of the IDL\n"
    "app heavy 1.0.0 {\n"
    "  sources \"a.c\" \"b.c\"\n"
    "  import \"../p/p.sos\"  # shared\n"
    "  import \"q.sos\"\n"
    "  enum Mood { calm = 0; happy = 1; grumpy = 2 }\n"
    "  struct Req {\n"
    "    name: text = 1; tags: list<text> = 2; note: optional text = 3\n"
    "    mood: Mood = 4; moods: list<Mood> = 5; from: Person = 6\n"
    "    union contact { email: text = 7; phone: u64 = 8; who: Person = 9 }\n"
    "    people: list<Person> = 10; maybe: optional Person = 11\n"
    "    union other { x: f64 = 12 }\n"
    "  }\n"
    "  struct Person { name: text = 1; kids: list<Person> = 2; p: Point = 3 }\n"
    "  struct Resp {}\n"
    "  interface Api {\n"
    "    hello(Req) -> Resp; bye(Resp) -> Req\n"
    "    error not_found = 1; error gone = 2\n"
    "  }\n"
    "  interface More { get(Person) -> Person }\n"
    "  service api implements Api { instances 1..2 }\n"
    "  service more implements More {}\n"
    "}\n"
    "package geo {\n"
    "  enum Unit { m = 0; km = 1 }\n"
    "  struct Point { x: i32 = 1; u: Unit = 2 }\n"
    "  interface Map { at(Point) -> Point; error far = 3 }\n"
    "}\n"
    "package other { struct O { p: list<Point> = 1 } }\n";

TEST(lang_idl_alloc_failure_sweep) {
  CHECK(sweep(OP_PARSE, heavy, NULL) > 80);
  CHECK(sweep(OP_PARSE, greeter, NULL) > 60);
  CHECK(sweep(OP_FMT, heavy, NULL) > 100);
  struct sos_app *a = parse(heavy);
  REQUIRE(a);
  CHECK(sweep(OP_PRINT, NULL, a) > 3); /* the buffer grows */
  sos_app_free(a);
  make_root();
  REQUIRE(tmp_root[0]);
  put("lib/units.sos", "package units {\n  enum Unit { m = 0; km = 1 }\n}\n");
  put("pkg/geo.sos", "package geo 1.0.0 {\n  import \"../lib/units.sos\"\n"
                     "  struct Point { x: i32 = 1; u: Unit = 2; ps: list<Point> = 3 }\n"
                     "  interface Map { at(Point) -> Point; error far = 1 }\n}\n");
  put("svc/app.sos",
      "app svc 1.0.0 {\n  module \"svc.wasm\"\n  import \"../pkg/geo.sos\"\n"
      "  struct Req { at: Point = 1 }\n  service svc implements Map {}\n}\n");
  put("base/app.sos",
      "app base 1.0.0 {\n  sources \"b.c\"\n  import \"../lib/units.sos\"\n"
      "  struct B { u: Unit = 1 }\n  service s {}\n}\n");
  put("app/app.sos",
      "app top 1.0.0 extends \"../base/app.sos\" {\n"
      "  import \"../pkg/geo.sos\"\n  import \"../svc/app.sos\"\n"
      "  struct Mine { p: Point = 1; r: optional Req = 2; union u { b: B = 3 } }\n"
      "  interface Top { go(Mine) -> Req }\n"
      "  service t {}\n}\n");
  CHECK(sweep(OP_LOAD, at("app/app.sos"), NULL) > 150);
  remove_root();
}

/*
 * app_test.c - app definitions (src/lang): the lexer, every statement and
 * its defaults (structs, stores and storage quotas included), every error
 * message with its exact line and column, `extends` on real files
 * (override, union, path rebasing, cycles, depth, missing bases, tables
 * checked against structs across files), the canonical printer and `fmt`
 * (layout, comments, round trips, idempotence), and an allocation-failure
 * sweep over each entry point.
 */
#include "lang_util.h"

#include <stdlib.h>

/* ---- helpers ------------------------------------------------------------------ */

/* Prints app canonically into a static buffer ("" on error). */
static const char *printed(const struct sos_app *app) {
  static char buf[8192];
  char *out = print(app);
  buf[0] = 0;
  if (out) snprintf(buf, sizeof buf, "%s", out);
  sos_free(out);
  return buf;
}

/* ---- the lexer ---------------------------------------------------------------- */

/* Lexes text into toks (at most n, the EOF included); the count, or -1
 * on an error (then err holds the message). */
static int lex(const char *text, struct sos__tok *toks, int n, char *err, size_t errlen) {
  struct sos__lex lx;
  sos__lex_init(&lx, text, strlen(text), "t.sos", err, errlen);
  for (int i = 0; i < n; i++) {
    if (sos__lex_next(&lx, &toks[i]) != 0) return -1;
    if (toks[i].kind == SOS__TOK_EOF) return i + 1;
  }
  return n;
}

TEST(app_lex_token_kinds_and_values) {
  struct sos__tok t[40];
  char err[256];
  const char *text = "app my-app_2 1.20.3 { } ; , = .. -> : # note\n"
                     "16MiB 2KiB 3GiB 1TiB 5KB 6MB 7GB 8B 9 500ms 2s 3m 1h 1..4 a->b";
  int n = lex(text, t, 40, err, sizeof err);
  REQUIRE(n == 33);
  const enum sos__tok_kind kinds[] = {
      SOS__TOK_IDENT,    SOS__TOK_IDENT,    SOS__TOK_VERSION, SOS__TOK_LBRACE,
      SOS__TOK_RBRACE,   SOS__TOK_SEMI,     SOS__TOK_COMMA,   SOS__TOK_EQUALS,
      SOS__TOK_RANGE,    SOS__TOK_ARROW,    SOS__TOK_COLON,   SOS__TOK_COMMENT,
      SOS__TOK_NEWLINE,  SOS__TOK_SIZE,     SOS__TOK_SIZE,    SOS__TOK_SIZE,
      SOS__TOK_SIZE,     SOS__TOK_SIZE,     SOS__TOK_SIZE,    SOS__TOK_SIZE,
      SOS__TOK_SIZE,     SOS__TOK_INT,      SOS__TOK_DURATION, SOS__TOK_DURATION,
      SOS__TOK_DURATION, SOS__TOK_DURATION, SOS__TOK_INT,     SOS__TOK_RANGE,
      SOS__TOK_INT,      SOS__TOK_IDENT,    SOS__TOK_ARROW};
  for (int i = 0; i < 31; i++) CHECK_EQ(t[i].kind, kinds[i]);
  CHECK_EQ(t[1].len, 8); /* my-app_2 */
  CHECK_EQ(t[2].len, 6); /* 1.20.3 */
  CHECK_EQ(t[11].len, 6); /* "# note" */
  const uint64_t values[] = {16ull << 20, 2ull << 10, 3ull << 30, 1ull << 40, 5000,
                             6000000, 7000000000ull, 8, 9, 500, 2000, 180000, 3600000,
                             1, 0, 4};
  for (int i = 0; i < 16; i++) CHECK_EQ(t[13 + i].value, values[i]);
  CHECK_EQ(t[29].len, 1); /* "a" of a->b */
  /* positions: line 2, and the column of "a" */
  CHECK_EQ(t[13].pos.line, 2);
  CHECK_EQ(t[13].pos.col, 1);
  CHECK_EQ(t[29].pos.col, 59);
}

TEST(app_lex_columns_count_characters) {
  struct sos__tok t[8];
  char err[256];
  /* "é" is two bytes, one column; tabs count one */
  REQUIRE(lex("\"\xc3\xa9\" x\n\ty", t, 8, err, sizeof err) == 5);
  CHECK_EQ(t[1].pos.col, 5);
  CHECK_EQ(t[3].pos.line, 2);
  CHECK_EQ(t[3].pos.col, 2);
  CHECK(lex("# \xc3\xa9\xc3\xa9\n @", t, 8, err, sizeof err) < 0);
  CHECK_STR(err, "t.sos:2:2: unexpected character \"@\"");
}

TEST(app_lex_string_escapes) {
  struct sos__tok t[4];
  char err[256], *s;
  REQUIRE(lex("\"a\\\"b\\\\c\\nd\\te\\rf\\x41\\x7e\tg\xc3\xa9\"", t, 4, err, sizeof err) == 2);
  REQUIRE(sos__lex_string(&t[0], &s) == 0);
  CHECK_STR(s, "a\"b\\c\nd\te\rfA~\tg\xc3\xa9");
  sos_free(s);
  REQUIRE(lex("\"\"", t, 4, err, sizeof err) == 2);
  REQUIRE(sos__lex_string(&t[0], &s) == 0);
  CHECK_STR(s, "");
  sos_free(s);
}

/* Whether lexing text fails with exactly want (after "t.sos:"). */
static bool lex_fails(const char *text, const char *want) {
  struct sos__tok t[16];
  char err[256] = "", full[256];
  snprintf(full, sizeof full, "t.sos:%s", want);
  bool ok = lex(text, t, 16, err, sizeof err) < 0 && strcmp(err, full) == 0;
  if (!ok) fprintf(stderr, "  got \"%s\"\n  want \"%s\"\n", err, full);
  return ok;
}

TEST(app_lex_errors) {
  CHECK(lex_fails("x \"abc\ny\"", "1:3: unterminated string (a string ends on the line it starts)"));
  CHECK(lex_fails("\"abc", "1:1: unterminated string (a string ends on the line it starts)"));
  const char *bad_escape =
      "bad escape in string; use \\\\, \\\", \\n, \\t, \\r or \\xHH (not \\x00)";
  char want[256];
  snprintf(want, sizeof want, "1:4: %s", bad_escape);
  CHECK(lex_fails("\"ab\\q\"", want));
  CHECK(lex_fails("\"ab\\x00\"", want));
  CHECK(lex_fails("\"ab\\x4\"", want));
  CHECK(lex_fails("\"ab\\", want)); /* a backslash at the very end */
  CHECK(lex_fails("\"a\x01\"", "1:3: control character \\x01 in string; write it as an escape"));
  CHECK(lex_fails("\n  16Mb", "2:3: unknown unit \"Mb\"; did you mean \"MB\"?"));
  CHECK(lex_fails("16M", "1:1: unknown unit \"M\"; did you mean \"MiB\"?"));
  CHECK(lex_fails("16mib", "1:1: unknown unit \"mib\"; did you mean \"MiB\"?"));
  CHECK(lex_fails("2mss", "1:1: unknown unit \"mss\"; did you mean \"ms\"?"));
  CHECK(lex_fails("3xyzzy", "1:1: unknown unit \"xyzzy\"; sizes take B, KiB, MiB, GiB, "
                            "KB, MB, GB and durations ms, s, m, h"));
  CHECK(lex_fails("18446744073709551616", "1:1: number too large"));
  struct sos__tok t[4];
  CHECK(lex("18446744073709551615", t, 4, want, sizeof want) == 2); /* UINT64_MAX fits */
  CHECK(t[0].value == UINT64_MAX);
  CHECK(lex_fails("17179869184GiB", "1:1: number too large"));
  const char *bad_version = "bad version; write MAJOR.MINOR.PATCH such as 1.0.0 (no "
                            "leading zeros, no suffix)";
  snprintf(want, sizeof want, "1:5: %s", bad_version);
  CHECK(lex_fails("app 1.0 {", want));
  CHECK(lex_fails("app 01.0.0", want));
  CHECK(lex_fails("app 1.0.0.1", want));
  CHECK(lex_fails("app 1.0.0-beta", want));
  CHECK(lex_fails("app 1.0.0x", want));
  CHECK(lex_fails("app 1234567890.0.0", want));
  CHECK(lex("a . b", t, 4, want, sizeof want) == 4 && t[1].kind == SOS__TOK_DOT);
  CHECK(lex_fails("x -5", "1:3: unexpected \"-\"; numbers cannot be negative"));
  CHECK(lex_fails("x - y", "1:3: unexpected character \"-\""));
  CHECK(lex_fails("\xc3\xa9", "1:1: unexpected non-ASCII character outside a string or comment"));
  CHECK(lex_fails("a\x01", "1:2: unexpected control character \\x01"));
}

TEST(app_suggest) {
  static const char *const words[] = {"module", "sources", "files", "uses", "env",
                                      "service", NULL};
  CHECK_STR(sos__lang_suggest("modul", 5, words), "module");
  CHECK_STR(sos__lang_suggest("moduel", 6, words), "module"); /* swapped letters */
  CHECK_STR(sos__lang_suggest("servce", 6, words), "service");
  CHECK_STR(sos__lang_suggest("use", 3, words), "uses");
  CHECK(sos__lang_suggest("src", 3, words) == NULL);
  CHECK_STR(sos__lang_suggest("serv", 4, words), "service"); /* a prefix */
  CHECK(sos__lang_suggest("zzzzzz", 6, words) == NULL);
  CHECK(sos__lang_suggest("", 0, words) == NULL);
  /* the same over the names of structs */
  struct sos_app_field fields[] = {{.name = "id"}, {.name = NULL}, {.name = "created"}};
  CHECK_STR(sos__lang_suggest_name("idd", 3, fields, 3, sizeof *fields), "id");
  CHECK_STR(sos__lang_suggest_name("craeted", 7, fields, 3, sizeof *fields), "created");
  CHECK(sos__lang_suggest_name("zzz", 3, fields, 3, sizeof *fields) == NULL);
  CHECK(sos__lang_suggest_name("id", 2, fields, 0, sizeof *fields) == NULL);
}

/* ---- parsing ------------------------------------------------------------------- */

static const char example[] =
    "# a comment\n"
    "app hello 1.0.0 extends \"../base/app.sos\" {\n"
    "  module \"hello.wasm\"              # a ready module\n"
    "  files \"static/\" \"README.md\"      # files put in the image\n"
    "  uses time, counter               # services this app may call\n"
    "  env GREETING = \"hello\"           # parameters\n"
    "  service hello { instances 1..4; memory 16MiB; timeout 2s; queue 64 }\n"
    "  service other {\n"
    "    instances 2..2\n"
    "  }\n"
    "  struct Entry { id: u64 = 1; at: i64 = 2; name: text = 3 }  # rows\n"
    "  struct Empty {}\n"
    "  store entries: table Entry key id index at, name\n"
    "  store hits: kv\n"
    "}\n";

TEST(app_parse_every_statement) {
  struct sos_app *a = parse(example);
  REQUIRE(a);
  CHECK_STR(a->file, "app.sos");
  CHECK_STR(a->name, "hello");
  CHECK_STR(a->version, "1.0.0");
  CHECK_STR(a->extends, "../base/app.sos");
  CHECK_STR(a->module, "hello.wasm");
  CHECK_EQ(a->nsources, 0);
  REQUIRE(a->nfiles == 2);
  CHECK_STR(a->files[0], "static/");
  CHECK_STR(a->files[1], "README.md");
  REQUIRE(a->nuses == 2);
  CHECK_STR(a->uses[0], "time");
  CHECK_STR(a->uses[1], "counter");
  REQUIRE(a->nparams == 1);
  CHECK_STR(a->params[0].name, "GREETING");
  CHECK_STR(a->params[0].value, "hello");
  CHECK_EQ(a->params[0].pos.line, 6);
  CHECK_EQ(a->params[0].pos.col, 7);
  REQUIRE(a->nservices == 2);
  const struct sos_app_service *s = &a->services[0];
  CHECK_STR(s->name, "hello");
  CHECK_EQ(s->min_instances, 1);
  CHECK_EQ(s->max_instances, 4);
  CHECK_EQ(s->memory, 16 << 20);
  CHECK_EQ(s->timeout_ms, 2000);
  CHECK_EQ(s->queue, 64);
  CHECK_EQ(s->pos.line, 7);
  CHECK_EQ(s->pos.col, 11);
  s = sos_app_service(a, "other");
  REQUIRE(s == &a->services[1]);
  CHECK_EQ(s->min_instances, 2);
  CHECK_EQ(s->max_instances, 2);
  CHECK(sos_app_service(a, "none") == NULL);
  CHECK(sos_app_service(a, NULL) == NULL);
  REQUIRE(a->nstructs == 2 && a->nstores == 2);
  CHECK_STR(a->structs[0].name, "Entry");
  CHECK_EQ(a->structs[0].nfields, 3);
  CHECK_STR(a->structs[1].name, "Empty");
  CHECK_STR(a->stores[0].name, "entries");
  CHECK_EQ(a->stores[0].type, SOS_APP_STORE_TABLE);
  CHECK_STR(a->stores[1].name, "hits");
  CHECK_EQ(a->stores[1].type, SOS_APP_STORE_KV);
  sos_app_free(a);
  sos_app_free(NULL);
}

TEST(app_parse_defaults) {
  struct sos_app *a = parse("app d 0.1.0 {\n  sources \"a.c\"\n  service d {}\n"
                            "  service e { instances 3 }\n  service f {\n  }\n}\n");
  REQUIRE(a && a->nservices == 3);
  for (int i = 0; i < 3; i++) {
    const struct sos_app_service *s = &a->services[i];
    CHECK_EQ(s->memory, 16u << 20);
    CHECK_EQ(s->timeout_ms, 5000);
    CHECK_EQ(s->queue, 64);
    CHECK_EQ(s->quota_bytes, 64u << 20);
    CHECK_EQ(s->quota_keys, 1000000);
  }
  CHECK_EQ(a->services[0].min_instances, 1);
  CHECK_EQ(a->services[0].max_instances, 4);
  CHECK_EQ(a->services[1].min_instances, 3); /* instances N means N..N */
  CHECK_EQ(a->services[1].max_instances, 3);
  CHECK(a->module == NULL && a->extends == NULL);
  CHECK(a->nfiles == 0 && a->nuses == 0 && a->nparams == 0);
  CHECK(a->nstructs == 0 && a->structs == NULL && a->nstores == 0 && a->stores == NULL);
  sos_app_free(a);
}

TEST(app_parse_lists_and_layout) {
  /* lists accumulate over statements; newlines may follow a comma;
   * ";" separates statements anywhere; CRLF and comments anywhere */
  struct sos_app *a = parse(
      "\n\n  # leading comments\r\n"
      "app big-app2 10.20.30 {   # trailing\r\n"
      "  sources \"a.c\" \"b.c\"; sources \"c/d.c\"\n"
      "  files \"x\"\n"
      "  files \"y/\"\n"
      "  uses a,\n"
      "       # a comment inside the list\n"
      "       b-2,\n\n"
      "       c\n"
      "  uses d\n"
      "  env A = \"1\"; env b_2 = \"\\t\\\"q\\\"\"\n"
      "  ;;\n"
      "  service s { memory 1GiB; timeout 1h; queue 0; instances 0..10000 };\n"
      "  service t { memory 65536; timeout 1ms }\n"
      "  service u { memory 4GiB; timeout 60m; queue 1000000 }\n"
      "}\n"
      "# after\n");
  REQUIRE(a);
  CHECK_STR(a->name, "big-app2");
  CHECK_STR(a->version, "10.20.30");
  REQUIRE(a->nsources == 3);
  CHECK_STR(a->sources[2], "c/d.c");
  REQUIRE(a->nfiles == 2);
  CHECK_STR(a->files[1], "y/");
  REQUIRE(a->nuses == 4);
  CHECK_STR(a->uses[1], "b-2");
  CHECK_STR(a->uses[3], "d");
  REQUIRE(a->nparams == 2);
  CHECK_STR(a->params[1].name, "b_2");
  CHECK_STR(a->params[1].value, "\t\"q\"");
  REQUIRE(a->nservices == 3);
  CHECK_EQ(a->services[0].memory, 1u << 30);
  CHECK_EQ(a->services[0].timeout_ms, 3600000);
  CHECK_EQ(a->services[0].queue, 0);
  CHECK_EQ(a->services[0].min_instances, 0);
  CHECK_EQ(a->services[0].max_instances, 10000);
  CHECK_EQ(a->services[1].memory, 65536);
  CHECK_EQ(a->services[1].timeout_ms, 1);
  CHECK_EQ(a->services[2].memory, 4ull << 30);
  CHECK_EQ(a->services[2].queue, 1000000);
  sos_app_free(a);
}

TEST(app_parse_keywords_are_not_reserved) {
  struct sos_app *a = parse("app service 1.0.0 {\n  module \"m\"\n  uses env, module\n"
                            "  service app { }\n  service uses { }\n}\n");
  REQUIRE(a);
  CHECK_STR(a->name, "service");
  CHECK_STR(a->uses[1], "module");
  CHECK_STR(a->services[1].name, "uses");
  sos_app_free(a);
  /* nor are store types and the words of a table */
  a = parse("app store 1.0.0 {\n  module \"m\"\n  service store {}\n  service struct {}\n"
            "  struct T { key: u8 = 1; index: u8 = 2; table: text = 3 }\n"
            "  store kv: table T key key index index, table\n  store table: log\n}\n");
  REQUIRE(a && a->nstores == 2);
  CHECK_STR(a->services[1].name, "struct");
  CHECK_STR(a->stores[0].name, "kv");
  CHECK_STR(a->stores[0].key, "key");
  CHECK(a->stores[0].nindexes == 2 && strcmp(a->stores[0].indexes[1], "table") == 0);
  CHECK_EQ(a->stores[1].type, SOS_APP_STORE_LOG);
  sos_app_free(a);
}

TEST(app_parse_structs) {
  struct sos_app *a = parse(WRAP("  struct Row {\n"
                                 "    flag: bool = 1; a: u8 = 2; b: u16 = 3; c: u32 = 4\n"
                                 "    d: u64 = 5\n"
                                 "    e: i8 = 6; f: i16 = 7; g: i32 = 8; h: i64 = 9\n"
                                 "\n"
                                 "    # floats and strings\n"
                                 "    x: f32 = 10; y: f64 = 11; _name2: text = 65535; blob: bytes = 12\n"
                                 "  }\n"
                                 "  struct P { x: i32 = 2;y:i32=1 }\n"
                                 "  struct Empty {}\n"));
  REQUIRE(a && a->nstructs == 3);
  const struct sos_app_struct *row = sos_app_struct(a, "Row");
  REQUIRE(row == &a->structs[0] && row->nfields == 13);
  CHECK_EQ(row->pos.line, 3);
  CHECK_EQ(row->pos.col, 10);
  static const char *const names[] = {"flag", "a", "b", "c", "d", "e", "f",
                                      "g", "h", "x", "y", "_name2", "blob"};
  static const uint32_t tags[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 65535, 12};
  for (uint32_t i = 0; i < 13; i++) {
    CHECK_STR(row->fields[i].name, names[i]);
    CHECK_EQ(row->fields[i].type, SOS_APP_T_BOOL + i); /* written in SOS_APP_T_* order */
    CHECK_EQ(row->fields[i].tag, tags[i]);
  }
  CHECK_EQ(row->fields[1].pos.line, 4);
  CHECK_EQ(row->fields[1].pos.col, 21);
  CHECK_EQ(row->fields[12].pos.line, 9);
  const struct sos_app_struct *pt = sos_app_struct(a, "P");
  REQUIRE(pt == &a->structs[1] && pt->nfields == 2);
  CHECK_STR(pt->fields[1].name, "y");
  CHECK_EQ(pt->fields[0].tag, 2); /* field numbers need not be in order */
  CHECK_EQ(pt->fields[1].tag, 1);
  CHECK_EQ(pt->fields[1].type, SOS_APP_T_I32);
  CHECK(a->structs[2].nfields == 0 && a->structs[2].fields == NULL);
  CHECK(sos_app_struct(a, "row") == NULL); /* names are case-sensitive */
  CHECK(sos_app_struct(a, NULL) == NULL && sos_app_struct(NULL, "P") == NULL);
  sos_app_free(a);
}

TEST(app_type_names) {
  static const char *const want[] = {"bool", "u8",  "u16", "u32", "u64",  "i8",   "i16",
                                     "i32",  "i64", "f32", "f64", "text", "bytes"};
  for (uint8_t t = SOS_APP_T_BOOL; t <= SOS_APP_T_BYTES; t++) {
    CHECK_STR(sos_app_type_name(t), want[t - 1]);
    CHECK_EQ(sos__app_type(want[t - 1], strlen(want[t - 1])), t);
  }
  CHECK_EQ(SOS_APP_T_BYTES, 13);
  CHECK(sos_app_type_name(0) == NULL);
  CHECK(sos_app_type_name(SOS_APP_T_BYTES + 1) == NULL);
  CHECK(sos_app_type_name(255) == NULL);
  CHECK_EQ(sos__app_type("u6", 2), 0);
  CHECK_EQ(sos__app_type("u64x", 4), 0);
  CHECK_EQ(sos__app_type("u64x", 3), SOS_APP_T_U64); /* by length, not NUL */
}

TEST(app_parse_stores) {
  struct sos_app *a = parse(WRAP("  store hits: kv\n"
                                 "  store events: log; store assets: files\n"
                                 "  store entries: table Entry key id\n"
                                 "  store by-time: table Entry key at index name,\n"
                                 "                 # a comment inside the list\n"
                                 "                 id, size\n"
                                 "  struct Entry { id: text = 1; at: u64 = 2; name: bytes = 3; "
                                 "size: i8 = 4 }\n"));
  REQUIRE(a && a->nstores == 5);
  const int types[] = {SOS_APP_STORE_KV, SOS_APP_STORE_LOG, SOS_APP_STORE_FILES,
                       SOS_APP_STORE_TABLE, SOS_APP_STORE_TABLE};
  const char *const names[] = {"hits", "events", "assets", "entries", "by-time"};
  for (int i = 0; i < 5; i++) {
    CHECK_STR(a->stores[i].name, names[i]);
    CHECK_EQ(a->stores[i].type, types[i]);
    CHECK(sos_app_store(a, names[i]) == &a->stores[i]);
  }
  for (int i = 0; i < 3; i++)
    CHECK(!a->stores[i].table_struct && !a->stores[i].key && !a->stores[i].indexes &&
          a->stores[i].nindexes == 0);
  CHECK_EQ(a->stores[0].pos.line, 3);
  CHECK_EQ(a->stores[0].pos.col, 9);
  CHECK_EQ(a->stores[2].pos.line, 4);
  CHECK_EQ(a->stores[2].pos.col, 28);
  const struct sos_app_store *s = sos_app_store(a, "entries");
  CHECK_STR(s->table_struct, "Entry");
  CHECK_STR(s->key, "id");
  CHECK(s->nindexes == 0 && s->indexes == NULL);
  s = sos_app_store(a, "by-time");
  CHECK_STR(s->table_struct, "Entry");
  CHECK_STR(s->key, "at");
  REQUIRE(s->nindexes == 3);
  CHECK_STR(s->indexes[0], "name");
  CHECK_STR(s->indexes[1], "id");
  CHECK_STR(s->indexes[2], "size");
  CHECK(sos_app_store(a, "nope") == NULL && sos_app_store(a, NULL) == NULL);
  CHECK(sos_app_store(NULL, "hits") == NULL);
  sos_app_free(a);
  /* a table whose struct is not in the file parses: it may be in a base
   * (sos_app_load decides) */
  a = parse(WRAP("  store t: table Missing key id index at\n"));
  CHECK(a && a->nstores == 1 && a->nstructs == 0);
  sos_app_free(a);
}

TEST(app_parse_quota_and_keys) {
  struct sos_app *a = parse(WRAP("  service a { quota 1TiB; keys 1000000000 }\n"
                                 "  service b { quota 0; keys 0 }\n"
                                 "  service c {\n    quota 1000\n    keys 5\n  }\n"
                                 "  service d { quota 512KiB; memory 1MiB }\n"));
  REQUIRE(a && a->nservices == 4);
  CHECK_EQ(a->services[0].quota_bytes, 1ull << 40);
  CHECK_EQ(a->services[0].quota_keys, 1000000000);
  CHECK_EQ(a->services[1].quota_bytes, 0);
  CHECK_EQ(a->services[1].quota_keys, 0);
  CHECK_EQ(a->services[2].quota_bytes, 1000); /* a bare integer counts bytes */
  CHECK_EQ(a->services[2].quota_keys, 5);
  CHECK_EQ(a->services[3].quota_bytes, 512 << 10);
  CHECK_EQ(a->services[3].quota_keys, 1000000); /* the default */
  CHECK_EQ(a->services[3].memory, 1 << 20);
  sos_app_free(a);
}

TEST(app_parse_errors_in_structs) {
  const char *rule = "use letters and digits, starting with an upper-case letter (at most 63)";
  char want[256];
  FAILS(WRAP("  struct\n"), "3:9: expected a struct name, found the end of the line");
  snprintf(want, sizeof want, "3:10: bad struct name \"entry\": %s", rule);
  FAILS(WRAP("  struct entry {}\n"), want);
  snprintf(want, sizeof want, "3:10: bad struct name \"My_Row\": %s", rule);
  FAILS(WRAP("  struct My_Row {}\n"), want);
  FAILS(WRAP("  struct E\n  {}\n"), "3:11: expected \"{\" after the struct name, on the same "
                                    "line, found the end of the line");
  FAILS(WRAP("  struct E {}\n  struct F {}\n  struct E {}\n"),
        "5:10: struct E is declared twice (first at line 3)");
  FAILS(WRAP("  struct E { Id: u8 = 1 }\n"), "3:14: bad field name \"Id\": use lower-case "
                                             "letters, digits and \"_\", not starting with a "
                                             "digit (at most 63)");
  FAILS(WRAP("  struct E { my-id: u8 = 1 }\n"), "3:14: bad field name \"my-id\": use lower-"
                                                "case letters, digits and \"_\", not starting "
                                                "with a digit (at most 63)");
  FAILS(WRAP("  struct E { \"a\" }\n"), "3:14: expected a field such as id: u64 = 1, found "
                                          "a string");
  FAILS(WRAP("  struct E { id u8 = 1 }\n"), "3:17: expected \":\" and a type after the field "
                                            "name, as in id: u64 = 1, found \"u8\"");
  FAILS(WRAP("  struct E { id: = 1 }\n"), "3:18: expected a type such as u64, text or a struct's name, found "
                                          "\"=\"");
  FAILS(WRAP("  struct E { id: u65 = 1 }\n"), "3:18: unknown type \"u65\"; did you mean "
                                              "\"u64\"?");
  FAILS(WRAP("  struct E { id: string = 1 }\n"), "3:18: unknown type \"string\"; did you "
                                                 "mean \"text\"?");
  FAILS(WRAP("  struct E { id: double = 1 }\n"), "3:18: unknown type \"double\"; did you "
                                                 "mean \"f64\"?");
  FAILS(WRAP("  struct E { id: int = 1 }\n"), "3:18: unknown type \"int\"; expected bool, "
                                              "u8, u16, u32, u64, i8, i16, i32, i64, f32, "
                                              "f64, text or bytes");
  FAILS(WRAP("  struct E { id: u8 1 }\n"), "3:21: expected \"=\" and the field number after "
                                           "the type, as in id: u64 = 1, found 1");
  FAILS(WRAP("  struct E { id: u8 = x }\n"), "3:23: expected a field number such as 1, "
                                             "found \"x\"");
  FAILS(WRAP("  struct E { id: u8 = 1KiB }\n"), "3:23: expected a field number such as 1, "
                                                "found 1KiB");
  FAILS(WRAP("  struct E { id: u8 = 0 }\n"), "3:23: a field number is 1 to 65535");
  FAILS(WRAP("  struct E { id: u8 = 65536 }\n"), "3:23: a field number is 1 to 65535");
  FAILS(WRAP("  struct E { id: u8 = 1; at: u8 = 1 }\n"),
        "3:35: field number 1 is used twice in struct E (first by id at line 3)");
  FAILS(WRAP("  struct E {\n    id: u8 = 1\n\n    id: u16 = 2\n  }\n"),
        "6:5: field id is declared twice in struct E (first at line 4)");
  FAILS(WRAP("  struct E { id: u8 = 1 2 }\n"), "3:25: expected the end of the statement (a "
                                               "newline or \";\"), found 2");
  FAILS("app x 1.0.0 {\n  struct E {\n    id: u8 = 1\n",
        "4:1: missing \"}\" to close the struct block opened at line 2");
  /* names: 63 bytes are fine, 64 are not */
  char text[256];
  snprintf(text, sizeof text, "app x 1.0.0 {\n  struct X%062d { f%062d: u8 = 1 }\n}\n", 0, 0);
  struct sos_app *a = parse(text);
  CHECK(a && strlen(a->structs[0].name) == 63 && strlen(a->structs[0].fields[0].name) == 63);
  sos_app_free(a);
  snprintf(text, sizeof text, "app x 1.0.0 {\n  struct E { f%063d: u8 = 1 }\n}\n", 0);
  CHECK(parse_fails(text, "2:14: bad field name \"f000000000000000000000000000000000000000..."
                          "\": use lower-case letters, digits and \"_\", not starting with a "
                          "digit (at most 63)"));
}

TEST(app_parse_errors_in_stores) {
  FAILS(WRAP("  store\n"), "3:8: expected a store name, found the end of the line");
  FAILS(WRAP("  store Hits: kv\n"), "3:9: bad store name \"Hits\": use lower-case letters, "
                                    "digits and \"-\", starting with a letter (at most 63)");
  FAILS(WRAP("  store hits kv\n"), "3:14: expected \":\" and a type after the store name, as "
                                   "in store hits: kv, found \"kv\"");
  FAILS(WRAP("  store hits:\n"), "3:14: expected a store type: kv, log, table or files, "
                                 "found the end of the line");
  FAILS(WRAP("  store hits: kvv\n"), "3:15: unknown store type \"kvv\"; did you mean \"kv\"?");
  FAILS(WRAP("  store hits: tabel E key id\n"), "3:15: unknown store type \"tabel\"; did you "
                                                "mean \"table\"?");
  FAILS(WRAP("  store hits: blob\n"), "3:15: unknown store type \"blob\"; expected kv, log, "
                                      "table or files");
  FAILS(WRAP("  store hits: kv kv\n"), "3:18: expected the end of the statement (a newline "
                                       "or \";\"), found \"kv\"");
  FAILS(WRAP("  store a: kv\n  store b: kv\n  store a: log\n"),
        "5:9: store a is declared twice (first at line 3)");
  FAILS(WRAP("  store t: table\n"), "3:17: expected a struct name, found the end of the line");
  FAILS(WRAP("  store t: table entry key id\n"), "3:18: bad struct name \"entry\": use letters "
                                                 "and digits, starting with an upper-case "
                                                 "letter (at most 63)");
  FAILS(WRAP("  store t: table E id\n"), "3:20: expected \"key\" and the key field, as in "
                                         "table Entry key id, found \"id\"");
  FAILS(WRAP("  store t: table E key\n"), "3:23: expected a field name, found the end of the "
                                          "line");
  FAILS(WRAP("  store t: table E key Id\n"), "3:24: bad field name \"Id\": use lower-case "
                                             "letters, digits and \"_\", not starting with a "
                                             "digit (at most 63)");
  FAILS(WRAP("  store t: table E key id indx at\n"), "3:27: expected \"index\" or the end of "
                                                     "the statement, found \"indx\"");
  FAILS(WRAP("  store t: table E key id index\n"), "3:32: expected a field name, found the "
                                                   "end of the line");
  FAILS(WRAP("  store t: table E key id index at,\n"), "4:1: expected a field name, found "
                                                       "\"}\"");
  FAILS(WRAP("  store t: table E key id index at b\n"), "3:36: expected the end of the "
                                                        "statement (a newline or \";\"), "
                                                        "found \"b\"");
  FAILS(WRAP("  store t: table E key id index id\n"), "3:33: id is the table's key, which "
                                                      "needs no index");
  FAILS(WRAP("  store t: table E key id index a, b, a\n"), "3:39: field a is indexed twice");
  char text[512];
  size_t o = (size_t)snprintf(text, sizeof text, "app x 1.0.0 {\n  store t: table E key k index ");
  for (int i = 0; i < 17; i++)
    o += (size_t)snprintf(text + o, sizeof text - o, "%sf%c", i ? ", " : "", 'a' + i);
  snprintf(text + o, sizeof text - o, "\n}\n");
  CHECK(parse_fails(text, "2:96: a table has at most 16 indexes"));
  *strrchr(text, ',') = 0; /* 16 are fine */
  strcat(text, "\n}\n");
  struct sos_app *a = parse(text);
  CHECK(a && a->stores[0].nindexes == 16);
  sos_app_free(a);
}

TEST(app_parse_checks_tables_against_structs_of_the_file) {
  FAILS(WRAP("  struct E { id: u8 = 1 }\n  store t: table E key idd\n"),
        "4:24: struct E has no field \"idd\"; did you mean \"id\"?");
  FAILS(WRAP("  struct E { id: u8 = 1; at: f64 = 2 }\n  store t: table E key id index at\n"),
        "4:33: field at of struct E is f64; a key or an index must be text, bytes or an "
        "integer");
  FAILS(WRAP("  store t: table E key ok index x\n  struct E { ok: bool = 1 }\n"),
        "3:24: field ok of struct E is bool; a key or an index must be text, bytes or an "
        "integer"); /* the struct may come after the store */
  FAILS(WRAP("  store t: table E key id index zzz\n  struct E { id: i64 = 1 }\n"),
        "3:33: struct E has no field \"zzz\"");
  FAILS(WRAP("  struct E { id: f32 = 1 }\n  store t: table E key id\n"),
        "4:24: field id of struct E is f32; a key or an index must be text, bytes or an "
        "integer");
  /* every keyable type is accepted */
  struct sos_app *a = parse(WRAP("  struct K { a: u8 = 1; b: u16 = 2; c: u32 = 3; d: u64 = 4; "
                                 "e: i8 = 5; f: i16 = 6; g: i32 = 7; h: i64 = 8; t: text = 9; "
                                 "y: bytes = 10 }\n"
                                 "  store k: table K key a index b, c, d, e, f, g, h, t, y\n"));
  CHECK(a && a->stores[0].nindexes == 9);
  sos_app_free(a);
}

TEST(app_parse_errors_in_the_header) {
  FAILS("", "1:1: expected an app definition: app NAME VERSION { ... }");
  FAILS("\n# only a comment\n", "3:1: expected an app definition: app NAME VERSION { ... }");
  FAILS("ap x 1.0.0 {}", "1:1: unknown declaration \"ap\"; did you mean \"app\"?");
  FAILS("{", "1:1: expected an app definition: app NAME VERSION { ... }, found \"{\"");
  FAILS("app Hello 1.0.0 {}", "1:5: bad app name \"Hello\": use lower-case letters, "
                              "digits and \"-\", starting with a letter (at most 63)");
  FAILS("app 1x 1.0.0 {}", "1:5: unknown unit \"x\"; sizes take B, KiB, MiB, GiB, KB, "
                           "MB, GB and durations ms, s, m, h");
  FAILS("app\n", "1:4: expected an app name, found the end of the line");
  FAILS("app x {\n}", "1:7: expected a version such as 1.0.0 after the app name, found \"{\"");
  FAILS("app x 1 {\n}", "1:7: expected a version such as 1.0.0 after the app name, found 1");
  FAILS("app x 1.0.0\n{\n}", "1:12: expected \"{\" to open the app block, on the same "
                             "line, found the end of the line");
  FAILS("app x 1.0.0 extends {}", "1:21: expected the base definition's path in quotes, "
                                  "such as \"../base/app.sos\", found \"{\"");
  FAILS("app x 1.0.0 extends \"\" {}", "1:21: a path cannot be empty");
  FAILS("app x 1.0.0 {", "1:14: missing \"}\" to close the app block opened at line 1");
  FAILS("app x 1.0.0 {}\napp y 1.0.0 {}", "2:1: a second app; a file holds one app definition");
  FAILS("app x 1.0.0 {} }", "1:16: expected the end of the file after the app block, found \"}\"");
  char long_name[128];
  snprintf(long_name, sizeof long_name, "app %064d 1.0.0 {}", 0);
  long_name[4] = 'a';
  FAILS(long_name, "1:5: bad app name \"a000000000000000000000000000000000000000..."
                   "\": use lower-case letters, digits and \"-\", starting with a letter "
                   "(at most 63)");
  long_name[4 + 64] = ' '; /* 63 letters: fine */
  long_name[4 + 63] = ' ';
  struct sos_app *a = parse(long_name);
  CHECK(a && strlen(a->name) == 63);
  sos_app_free(a);
}

TEST(app_parse_errors_in_statements) {
  FAILS(WRAP("  modul \"a\"\n"), "3:3: unknown statement \"modul\"; did you mean \"module\"?");
  FAILS(WRAP("  servise x {}\n"), "3:3: unknown statement \"servise\"; did you mean \"service\"?");
  FAILS(WRAP("  zzz kv\n"), "3:3: unknown statement \"zzz\"; expected module, sources, "
                            "files, uses, env, import, struct, enum, interface, store, service, http, "
        "secret or egress");
  FAILS(WRAP("  stor x: kv\n"), "3:3: unknown statement \"stor\"; did you mean \"store\"?");
  FAILS(WRAP("  strct X {}\n"), "3:3: unknown statement \"strct\"; did you mean \"struct\"?");
  FAILS(WRAP("  \"a\"\n"), "3:3: expected a statement such as module \"app.wasm\", found a string");
  FAILS(WRAP("  module \"b\"\n"), "3:3: module is given twice (first at line 2)");
  FAILS(WRAP("  sources \"b.c\"\n"), "3:3: an app has a module or sources, not both (module at line 2)");
  FAILS("app x 1.0.0 {\n  sources \"a.c\"\n  module \"m\"\n}",
        "3:3: an app has a module or sources, not both (sources at line 2)");
  FAILS("app x 1.0.0 {\n  module\n}", "2:9: expected the module's path in quotes, such as \"app.wasm\", "
                            "found the end of the line");
  FAILS("app x 1.0.0 {\n  module \"a\" \"b\"\n}", "2:14: expected the end of the statement "
                                                  "(a newline or \";\"), found a string");
  FAILS("app x 1.0.0 {\n  module \"\"\n}", "2:10: a path cannot be empty");
  FAILS("app x 1.0.0 {\n  sources\n}", "2:10: expected a path in quotes, such as \"main.c\", found the end of the line");
  FAILS(WRAP("  files \"a\" \"b\" \"a\"\n"), "3:17: \"a\" is listed twice in files");
  FAILS("app x 1.0.0 {\n  sources \"a.c\"\n  sources \"a.c\"\n}", "3:11: \"a.c\" is listed twice in sources");
  FAILS(WRAP("  files \"a\" 3\n"), "3:13: expected the end of the statement (a newline or \";\"), found 3");
  FAILS(WRAP("  uses\n"), "3:7: expected a service name, found the end of the line");
  FAILS(WRAP("  uses a,\n"), "4:1: expected a service name, found \"}\"");
  FAILS(WRAP("  uses a b\n"), "3:10: expected the end of the statement (a newline or \";\"), found \"b\"");
  FAILS(WRAP("  uses a, B\n"), "3:11: bad service name \"B\": use lower-case letters, digits "
                               "and \"-\", starting with a letter (at most 63)");
  FAILS(WRAP("  uses a\n  uses b, a\n"), "4:11: \"a\" is listed twice in uses");
  FAILS(WRAP("  env\n"), "3:6: expected an env name, found the end of the line");
  FAILS(WRAP("  env my-var = \"x\"\n"), "3:7: bad env name \"my-var\": use letters, digits "
                                        "and \"_\", not starting with a digit (at most 63)");
  FAILS(WRAP("  env A \"x\"\n"), "3:9: expected \"=\" after the name, as in env NAME = "
                                 "\"value\", found a string");
  FAILS(WRAP("  env A = x\n"), "3:11: expected a value in quotes, such as \"hello\", found \"x\"");
  FAILS(WRAP("  env A = \"1\"\n  env B = \"2\"\n  env A = \"3\"\n"),
        "5:7: env A is given twice (first at line 3)");
}

TEST(app_parse_errors_in_services) {
  FAILS(WRAP("  service\n"), "3:10: expected a service name, found the end of the line");
  FAILS(WRAP("  service My {}\n"), "3:11: bad service name \"My\": use lower-case letters, "
                                   "digits and \"-\", starting with a letter (at most 63)");
  FAILS(WRAP("  service s\n  {}\n"), "3:12: expected \"{\" after the service name, on the "
                                     "same line, found the end of the line");
  FAILS(WRAP("  service s {}\n  service t {}\n  service s {}\n"),
        "5:11: service s is declared twice (first at line 3)");
  FAILS(WRAP("  service s { instance 1 }\n"), "3:15: unknown service field \"instance\"; "
                                              "did you mean \"instances\"?");
  FAILS(WRAP("  service s { color red }\n"), "3:15: unknown service field \"color\"; "
                                             "expected instances, memory, timeout, queue, "
                                             "quota or keys");
  FAILS(WRAP("  service s { quot 1MiB }\n"), "3:15: unknown service field \"quot\"; did "
                                              "you mean \"quota\"?");
  FAILS(WRAP("  service s { key 5 }\n"), "3:15: unknown service field \"key\"; did you "
                                          "mean \"keys\"?");
  FAILS(WRAP("  service s { quota 1MiB; quota 2MiB }\n"),
        "3:27: quota is given twice in service s (first at line 3)");
  FAILS(WRAP("  service s { keys 1; keys 2 }\n"),
        "3:23: keys is given twice in service s (first at line 3)");
  FAILS(WRAP("  service s { quota 1025GiB }\n"), "3:21: quota is at most 1TiB");
  FAILS(WRAP("  service s { quota 2s }\n"), "3:21: expected a size such as 64MiB, found 2s");
  FAILS(WRAP("  service s { quota }\n"), "3:21: expected a size such as 64MiB, found \"}\"");
  FAILS(WRAP("  service s { keys 1000000001 }\n"), "3:20: keys is at most 1000000000");
  FAILS(WRAP("  service s { keys 1KiB }\n"), "3:20: expected a number of keys such as "
                                              "1000000, found 1KiB");
  FAILS(WRAP("  service s { 4 }\n"), "3:15: expected a service field such as instances "
                                     "1..4, found 4");
  FAILS(WRAP("  service s {\n    memory 1MiB\n"),
        "6:1: missing \"}\" to close the app block opened at line 1");
  FAILS("app x 1.0.0 {\n  service s {\n    memory 1MiB\n",
        "4:1: missing \"}\" to close the service block opened at line 2");
  FAILS(WRAP("  service s { memory 1MiB; memory 2MiB }\n"),
        "3:28: memory is given twice in service s (first at line 3)");
  FAILS(WRAP("  service s { instances }\n"), "3:25: expected an instance count such as "
                                             "1..4, found \"}\"");
  FAILS(WRAP("  service s { instances 1.. }\n"), "3:29: expected the maximum after \"..\", "
                                                 "as in instances 1..4, found \"}\"");
  FAILS(WRAP("  service s { instances 5..2 }\n"), "3:25: the minimum (5) is more than the "
                                                  "maximum (2)");
  FAILS(WRAP("  service s { instances 0..0 }\n"), "3:28: the maximum must be at least 1, "
                                                  "or the service never runs");
  FAILS(WRAP("  service s { instances 0 }\n"), "3:25: the maximum must be at least 1, "
                                               "or the service never runs");
  FAILS(WRAP("  service s { instances 1..10001 }\n"), "3:28: at most 10000 instances");
  FAILS(WRAP("  service s { instances 1..4 5 }\n"), "3:30: expected the end of the "
                                                    "statement (a newline or \";\"), found 5");
  FAILS(WRAP("  service s { memory fast }\n"), "3:22: expected a size such as 16MiB, found \"fast\"");
  FAILS(WRAP("  service s { memory 2s }\n"), "3:22: expected a size such as 16MiB, found 2s");
  FAILS(WRAP("  service s { memory 4097MiB }\n"), "3:22: memory is at most 4GiB");
  FAILS(WRAP("  service s { memory 65535 }\n"), "3:22: memory is at least 64KiB (one "
                                                "WebAssembly page)");
  FAILS(WRAP("  service s { timeout 2 }\n"), "3:23: expected a duration such as 2s or "
                                             "500ms; give a unit: ms, s, m or h");
  FAILS(WRAP("  service s { timeout 2MiB }\n"), "3:23: expected a duration such as 2s or "
                                                "500ms, found 2MiB");
  FAILS(WRAP("  service s { timeout 0s }\n"), "3:23: timeout must be more than 0");
  FAILS(WRAP("  service s { timeout 61m }\n"), "3:23: timeout is at most 1h");
  FAILS(WRAP("  service s { queue 1000001 }\n"), "3:21: queue is at most 1000000");
  FAILS(WRAP("  service s { queue 1s }\n"), "3:21: expected a queue length such as 64, found 1s");
}

TEST(app_parse_limits_on_lists) {
  /* 4096 uses are fine, the 4097th is refused */
  size_t cap = 4200 * 8 + 128, o = 0;
  char *text = malloc(cap);
  REQUIRE(text);
  o += (size_t)snprintf(text, cap, "app x 1.0.0 {\n  uses ");
  for (int i = 0; i < 4097; i++)
    o += (size_t)snprintf(text + o, cap - o, "%sa%d", i ? "," : "", i);
  snprintf(text + o, cap - o, "\n}\n");
  struct sos_app *a = NULL;
  char err[256];
  CHECK_EQ(sos_app_parse(text, strlen(text), "app.sos", &a, err, sizeof err), SOS_EINVAL);
  CHECK(strstr(err, ": too many entries in uses (at most 4096)") != NULL);
  strcpy(strrchr(text, ','), "\n}\n"); /* now 4096 */
  CHECK_EQ(sos_app_parse(text, strlen(text), "app.sos", &a, err, sizeof err), 0);
  CHECK(a && a->nuses == 4096);
  sos_app_free(a);
  free(text);
}

TEST(app_parse_takes_length_not_nul) {
  const char *text = "app x 1.0.0 {}GARBAGE";
  struct sos_app *a = NULL;
  char err[128];
  CHECK_EQ(sos_app_parse(text, 14, "f", &a, err, sizeof err), 0);
  CHECK(a && strcmp(a->name, "x") == 0);
  sos_app_free(a);
  CHECK_EQ(sos_app_parse("app x 1.0.0 {}\0", 15, "f", &a, err, sizeof err), SOS_EINVAL);
  CHECK_STR(err, "f:1:15: unexpected control character \\x00");
}

/* ---- loading and extends --------------------------------------------------------- */

TEST(app_load_one_file) {
  make_root();
  REQUIRE(tmp_root[0]);
  put("app.sos", "app hello 1.0.0 {\n  module \"hello.wasm\"\n  service hello {}\n}\n");
  struct sos_app *a = load("app.sos");
  REQUIRE(a);
  CHECK_STR(a->file, at("app.sos"));
  CHECK_STR(a->module, "hello.wasm"); /* paths stay as written */
  CHECK_EQ(a->nservices, 1);
  sos_app_free(a);
  CHECK(load_fails("none.sos", SOS_ENOENT, "@/none.sos: cannot read: No such file or directory"));
  put("d/x", "");
  CHECK(load_fails("d", SOS_EIO, "@/d: cannot read: Is a directory"));
  put("bad.sos", "app x 1.0.0 {\n  module \"m\"\n  servce x {}\n}\n");
  LOAD_FAILS("bad.sos", "@/bad.sos:3:3: unknown statement \"servce\"; "
                        "did you mean \"service\"?");
  remove_root();
}

TEST(app_load_checks_completeness) {
  make_root();
  REQUIRE(tmp_root[0]);
  put("a.sos", "# no code\napp x 1.0.0 {\n  service x {}\n}\n");
  LOAD_FAILS("a.sos", "@/a.sos:2:1: app x has no code; add module "
                      "\"FILE.wasm\" or sources \"FILE.c\"");
  put("b.sos", "app y 1.0.0 {\n  sources \"y.c\"\n}\n");
  LOAD_FAILS("b.sos", "@/b.sos:1:1: app y has no service; add one "
                      "such as service y { instances 1..4 }");
  /* each is fine once the other gives what it lacks */
  put("c.sos", "app c 1.0.0 extends \"b.sos\" {\n  service c {}\n}\n");
  put("d.sos", "app d 1.0.0 extends \"a.sos\" { module \"d.wasm\" }\n");
  struct sos_app *c = load("c.sos"), *d = load("d.sos");
  CHECK(c && c->nsources == 1 && c->nservices == 1);
  CHECK(d && d->module && d->nservices == 1);
  sos_app_free(c);
  sos_app_free(d);
  remove_root();
}

TEST(app_extends_overrides_and_merges) {
  make_root();
  REQUIRE(tmp_root[0]);
  put("base/app.sos", "app base 0.9.0 {\n"
                      "  module \"base.wasm\"\n"
                      "  files \"static/\" \"b.txt\"\n"
                      "  uses time, log\n"
                      "  env A = \"base-a\"\n"
                      "  env B = \"base-b\"\n"
                      "  service web { instances 2..8; memory 32MiB; timeout 3s; queue 10 }\n"
                      "  service worker { instances 1..1 }\n"
                      "}\n");
  put("top/app.sos", "app top 1.2.3 extends \"../base/app.sos\" {\n"
                     "  uses log, counter\n"
                     "  env B = \"top-b\"\n"
                     "  env C = \"top-c\"\n"
                     "  service web { memory 64MiB }\n"
                     "  service admin { instances 1..1 }\n"
                     "}\n");
  struct sos_app *a = load("top/app.sos");
  REQUIRE(a);
  CHECK_STR(a->file, at("top/app.sos"));
  CHECK_STR(a->name, "top");
  CHECK_STR(a->version, "1.2.3");
  CHECK_STR(a->extends, "../base/app.sos");
  CHECK_STR(a->module, "../base/base.wasm"); /* relative to top/ now */
  REQUIRE(a->nfiles == 2);
  CHECK_STR(a->files[0], "../base/static/");
  CHECK_STR(a->files[1], "../base/b.txt");
  REQUIRE(a->nuses == 3);
  CHECK_STR(a->uses[0], "time");
  CHECK_STR(a->uses[1], "log");
  CHECK_STR(a->uses[2], "counter");
  REQUIRE(a->nparams == 3);
  CHECK_STR(a->params[0].name, "A");
  CHECK_STR(a->params[0].value, "base-a");
  CHECK_STR(a->params[1].name, "B");
  CHECK_STR(a->params[1].value, "top-b");
  CHECK_EQ(a->params[1].pos.line, 3);
  CHECK_STR(a->params[2].name, "C");
  REQUIRE(a->nservices == 3);
  const struct sos_app_service *web = &a->services[0];
  CHECK_STR(web->name, "web");
  CHECK_EQ(web->min_instances, 2); /* kept: the override gives only memory */
  CHECK_EQ(web->max_instances, 8);
  CHECK_EQ(web->memory, 64u << 20);
  CHECK_EQ(web->timeout_ms, 3000);
  CHECK_EQ(web->queue, 10);
  CHECK_STR(a->services[1].name, "worker");
  CHECK_EQ(a->services[1].max_instances, 1);
  CHECK_STR(a->services[2].name, "admin");
  sos_app_free(a);
  remove_root();
}

TEST(app_extends_replaces_code_and_files) {
  make_root();
  REQUIRE(tmp_root[0]);
  put("base.sos", "app base 1.0.0 {\n  module \"base.wasm\"\n  files \"a\"\n"
                  "  service s { queue 5 }\n}\n");
  put("src.sos", "app x 2.0.0 extends \"base.sos\" {\n  sources \"x.c\" \"y.c\"\n"
                 "  files \"b\"\n}\n");
  put("mod.sos", "app x 2.0.0 extends \"src.sos\" {\n  module \"m.wasm\"\n}\n");
  struct sos_app *a = load("src.sos");
  REQUIRE(a);
  CHECK(a->module == NULL);
  REQUIRE(a->nsources == 2);
  CHECK_STR(a->sources[1], "y.c");
  REQUIRE(a->nfiles == 1);
  CHECK_STR(a->files[0], "b");
  CHECK_EQ(a->services[0].queue, 5);
  sos_app_free(a);
  a = load("mod.sos"); /* two levels: module replaces the sources */
  REQUIRE(a);
  CHECK_STR(a->module, "m.wasm");
  CHECK_EQ(a->nsources, 0);
  CHECK_EQ(a->nfiles, 1);
  sos_app_free(a);
  remove_root();
}

TEST(app_extends_stores_structs_and_quotas) {
  make_root();
  REQUIRE(tmp_root[0]);
  put("base.sos", "app base 1.0.0 {\n"
                  "  module \"b.wasm\"\n"
                  "  struct Entry { id: u64 = 1; at: i64 = 2 }\n"
                  "  struct Other { k: text = 1 }\n"
                  "  store entries: table Entry key id index at\n"
                  "  store hits: kv\n"
                  "  store logs: log\n"
                  "  service web { quota 1GiB; keys 5000; queue 7 }\n"
                  "  service worker { keys 10 }\n"
                  "}\n");
  put("top.sos", "app top 2.0.0 extends \"base.sos\" {\n"
                 "  struct Other { k: bytes = 1; v: u8 = 2 }  # replaces the base's whole\n"
                 "  struct New { n: u32 = 1 }\n"
                 "  store hits: table New key n  # a kv store no more\n"
                 "  store blobs: files\n"
                 "  service web { keys 6000 }\n"
                 "  service worker { quota 1MiB }\n"
                 "}\n");
  struct sos_app *a = load("top.sos");
  REQUIRE(a);
  REQUIRE(a->nstructs == 3);
  CHECK_STR(a->structs[0].name, "Entry");
  CHECK_EQ(a->structs[0].nfields, 2);
  CHECK_EQ(a->structs[0].pos.line, 3); /* in base.sos */
  const struct sos_app_struct *other = &a->structs[1];
  CHECK_STR(other->name, "Other");
  REQUIRE(other->nfields == 2);
  CHECK_EQ(other->fields[0].type, SOS_APP_T_BYTES);
  CHECK_STR(other->fields[1].name, "v");
  CHECK_EQ(other->pos.line, 2); /* in top.sos */
  CHECK_STR(a->structs[2].name, "New");
  REQUIRE(a->nstores == 4);
  const char *const names[] = {"entries", "hits", "logs", "blobs"};
  const int types[] = {SOS_APP_STORE_TABLE, SOS_APP_STORE_TABLE, SOS_APP_STORE_LOG,
                       SOS_APP_STORE_FILES};
  for (int i = 0; i < 4; i++) {
    CHECK_STR(a->stores[i].name, names[i]);
    CHECK_EQ(a->stores[i].type, types[i]);
  }
  CHECK_STR(a->stores[0].table_struct, "Entry");
  REQUIRE(a->stores[0].nindexes == 1);
  CHECK_STR(a->stores[0].indexes[0], "at");
  CHECK_STR(a->stores[1].table_struct, "New");
  CHECK_STR(a->stores[1].key, "n");
  CHECK_EQ(a->stores[1].nindexes, 0);
  CHECK_EQ(a->stores[1].pos.line, 4);
  CHECK_EQ(a->stores[1].pos.col, 9);
  const struct sos_app_service *web = sos_app_service(a, "web");
  const struct sos_app_service *worker = sos_app_service(a, "worker");
  REQUIRE(web && worker);
  CHECK_EQ(web->quota_bytes, 1u << 30); /* kept: the override gives only keys */
  CHECK_EQ(web->quota_keys, 6000);
  CHECK_EQ(web->queue, 7);
  CHECK_EQ(worker->quota_bytes, 1u << 20);
  CHECK_EQ(worker->quota_keys, 10);
  sos_app_free(a);
  /* a store replaced by one of another type loses its table parts */
  put("kv.sos", "app top 2.0.0 extends \"base.sos\" {\n  store entries: kv\n}\n");
  a = load("kv.sos");
  REQUIRE(a && a->nstores == 3);
  CHECK_EQ(a->stores[0].type, SOS_APP_STORE_KV);
  CHECK(!a->stores[0].table_struct && !a->stores[0].key && a->stores[0].nindexes == 0);
  sos_app_free(a);
  remove_root();
}

TEST(app_load_checks_tables) {
  make_root();
  REQUIRE(tmp_root[0]);
  /* one file: its struct must be there */
  put("a.sos", "app a 1.0.0 {\n  module \"m\"\n  store t: table Entry key id\n  service s {}\n}\n");
  LOAD_FAILS("a.sos", "@/a.sos:3:18: unknown struct \"Entry\"; declare it "
                      "with struct Entry { FIELD: TYPE = 1 }");
  put("b.sos", "app b 1.0.0 {\n  module \"m\"\n  struct Entry {}\n"
               "  store t: table Entri key id\n  service s {}\n}\n");
  LOAD_FAILS("b.sos", "@/b.sos:4:18: unknown struct \"Entri\"; did you "
                      "mean \"Entry\"?");
  /* a table may use its base's struct, which must have its fields */
  put("base.sos", "app base 1.0.0 {\n  module \"m\"\n"
                  "  struct Entry { id: text = 1; at: u64 = 2; score: f64 = 3 }\n"
                  "  store entries: table Entry key id index at\n  service s {}\n}\n");
  put("ok.sos", "app ok 1.0.0 extends \"base.sos\" {\n  store more: table Entry key at\n}\n");
  struct sos_app *a = load("ok.sos");
  CHECK(a && a->nstores == 2 && a->nstructs == 1);
  sos_app_free(a);
  put("key.sos", "app k 1.0.0 extends \"base.sos\" {\n  store more: table Entry key idd\n}\n");
  LOAD_FAILS("key.sos", "@/key.sos:2:31: struct Entry has no field "
                        "\"idd\"; did you mean \"id\"?");
  put("idx.sos", "app k 1.0.0 extends \"base.sos\" {\n"
                 "  store more: table Entry key id index at, score\n}\n");
  LOAD_FAILS("idx.sos", "@/idx.sos:2:44: field score of struct Entry is "
                        "f64; a key or an index must be text, bytes or an "
                        "integer");
  put("sug.sos", "app k 1.0.0 extends \"base.sos\" {\n  store more: table Entyr key id\n}\n");
  LOAD_FAILS("sug.sos", "@/sug.sos:2:21: unknown struct \"Entyr\"; did you "
                        "mean \"Entry\"?");
  /* a struct that replaces the base's must still fit the base's tables */
  put("drop.sos", "app d 1.0.0 extends \"base.sos\" {\n  struct Entry { id: text = 1 }\n}\n");
  LOAD_FAILS("drop.sos", "@/drop.sos:2:10: struct Entry no longer fits "
                         "the base's store entries: struct Entry has no "
                         "field \"at\"");
  put("type.sos", "app d 1.0.0 extends \"base.sos\" {\n"
                  "  struct Entry { id: bool = 1; at: u64 = 2 }\n}\n");
  LOAD_FAILS("type.sos", "@/type.sos:2:10: struct Entry no longer fits "
                         "the base's store entries: field id of struct "
                         "Entry is bool; a key or an index must be text, "
                         "bytes or an integer");
  /* unless the table is replaced too */
  put("both.sos", "app d 1.0.0 extends \"base.sos\" {\n  struct Entry { id: text = 1 }\n"
                  "  store entries: table Entry key id\n}\n");
  a = load("both.sos");
  CHECK(a && a->structs[0].nfields == 1 && a->stores[0].nindexes == 0);
  sos_app_free(a);
  /* two levels: the top's struct is checked against the first base's tables */
  put("mid.sos", "app m 1.0.0 extends \"base.sos\" {\n  env X = \"1\"\n}\n");
  put("deep.sos", "app d 1.0.0 extends \"mid.sos\" {\n  struct Entry { at: u8 = 2 }\n}\n");
  LOAD_FAILS("deep.sos", "@/deep.sos:2:10: struct Entry no longer fits "
                         "the base's store entries: struct Entry has no "
                         "field \"id\"");
  /* a base's table may not rely on a struct that only an extension declares */
  put("tmpl.sos", "app t 1.0.0 {\n  module \"m\"\n  store rows: table Row key id\n}\n");
  put("use.sos", "app u 1.0.0 extends \"tmpl.sos\" {\n  struct Row { id: u32 = 1 }\n"
                 "  service s {}\n}\n");
  LOAD_FAILS("use.sos", "@/tmpl.sos:3:21: unknown struct \"Row\"; declare "
                        "it with struct Row { FIELD: TYPE = 1 }");
  remove_root();
}

TEST(app_extends_rebases_paths_through_levels) {
  make_root();
  REQUIRE(tmp_root[0]);
  put("core/app.sos", "app core 1.0.0 {\n  module \"./bin/core.wasm\"\n  service c {}\n}\n");
  put("base/app.sos", "app base 1.0.0 extends \"../core/app.sos\" {\n"
                      "  files \"./lib/\" \"/etc/abs\" \"x/../y\" \"../up\" \".\"\n}\n");
  put("app/app.sos", "app top 1.0.0 extends \"../base/app.sos\" {\n}\n");
  struct sos_app *a = load("app/app.sos");
  REQUIRE(a);
  CHECK_STR(a->module, "../core/bin/core.wasm"); /* ../base/../core/./bin, cleaned */
  REQUIRE(a->nfiles == 5);
  CHECK_STR(a->files[0], "../base/lib/");
  CHECK_STR(a->files[1], "/etc/abs");
  CHECK_STR(a->files[2], "../base/y");
  CHECK_STR(a->files[3], "../up");
  CHECK_STR(a->files[4], "../base");
  sos_app_free(a);
  /* the same file from the folder itself: nothing to rebase at the top */
  put("base/top.sos", "app t 1.0.0 extends \"app.sos\" {}\n");
  a = load("base/top.sos");
  REQUIRE(a);
  CHECK_STR(a->module, "../core/bin/core.wasm");
  CHECK_STR(a->files[0], "./lib/");
  sos_app_free(a);
  remove_root();
}

TEST(app_extends_cycles) {
  make_root();
  REQUIRE(tmp_root[0]);
  put("a.sos", "app a 1.0.0 extends \"b.sos\" {}\n");
  put("b.sos", "app b 1.0.0 extends \"a.sos\" {}\n");
  LOAD_FAILS("a.sos", "@/b.sos:1:21: extends cycle: @/a.sos -> @/b.sos -> @/a.sos");
  put("self.sos", "app s 1.0.0 extends \"self.sos\" {}\n");
  LOAD_FAILS("self.sos", "@/self.sos:1:21: extends cycle: @/self.sos -> @/self.sos");
  put("c/app.sos", "\napp c 1.0.0 extends \"../c/./app.sos\" {}\n");
  LOAD_FAILS("c/app.sos",
             "@/c/app.sos:2:21: extends cycle: @/c/app.sos -> @/c/../c/./app.sos");
  remove_root();
}

TEST(app_extends_depth) {
  make_root();
  REQUIRE(tmp_root[0]);
  char name[24], text[128];
  for (int i = 0; i < 8; i++) { /* l0 -> l1 -> ... -> l8: eight levels */
    snprintf(name, sizeof name, "l%d.sos", i);
    snprintf(text, sizeof text, "app l%d 1.0.0 extends \"l%d.sos\" {}\n", i, i + 1);
    put(name, text);
  }
  put("l8.sos", "app l8 1.0.0 {\n  module \"m\"\n  service s {}\n}\n");
  struct sos_app *a = load("l0.sos");
  CHECK(a && strcmp(a->name, "l0") == 0 && strcmp(a->module, "m") == 0);
  sos_app_free(a);
  put("l8.sos", "app l8 1.0.0 extends \"l9.sos\" {}\n");
  put("l9.sos", "app l9 1.0.0 {\n  module \"m\"\n  service s {}\n}\n");
  LOAD_FAILS("l0.sos",
             "@/l8.sos:1:22: extends nests more than 8 levels deep: @/l0.sos -> "
             "@/l1.sos -> @/l2.sos -> @/l3.sos -> @/l4.sos -> @/l5.sos -> @/l6.sos -> "
             "@/l7.sos -> @/l8.sos -> l9.sos");
  a = load("l1.sos"); /* from one level down it fits */
  CHECK(a != NULL);
  sos_app_free(a);
  remove_root();
}

TEST(app_extends_missing_or_bad_base) {
  make_root();
  REQUIRE(tmp_root[0]);
  put("app.sos", "app x 1.0.0 extends \"nope.sos\" {}\n");
  CHECK(load_fails("app.sos", SOS_ENOENT, "@/app.sos:1:21: cannot read base definition "
                                          "@/nope.sos: No such file or directory"));
  put("two.sos", "app x 1.0.0 extends \"app.sos\" {}\n"); /* reported where it is */
  CHECK(load_fails("two.sos", SOS_ENOENT, "@/app.sos:1:21: cannot read base definition "
                                          "@/nope.sos: No such file or directory"));
  put("dir/x", "");
  put("d.sos", "app x 1.0.0 extends \"dir\" {}\n");
  CHECK(load_fails("d.sos", SOS_EIO, "@/d.sos:1:21: cannot read base definition @/dir: "
                                     "Is a directory"));
  put("base.sos", "app b 1.0.0 {\n  module \"m\"\n  service s { queue x }\n}\n");
  put("e.sos", "app e 1.0.0 extends \"base.sos\" {}\n");
  LOAD_FAILS("e.sos", "@/base.sos:3:21: expected a queue length such as "
                      "64, found \"x\"");
  remove_root();
}

/* ---- printing ------------------------------------------------------------------- */

TEST(app_print_canonical_layout) {
  struct sos_app *a = parse(example);
  REQUIRE(a);
  CHECK(same_text(printed(a), "app hello 1.0.0 {\n"
                        "  module \"hello.wasm\"\n"
                        "  files \"static/\" \"README.md\"\n"
                        "  uses time, counter\n"
                        "  env GREETING = \"hello\"\n"
                        "  struct Entry {\n"
                        "    id: u64 = 1\n"
                        "    at: i64 = 2\n"
                        "    name: text = 3\n"
                        "  }\n"
                        "  struct Empty {}\n"
                        "  store entries: table Entry key id index at, name\n"
                        "  store hits: kv\n"
                        "  service hello {\n"
                        "    instances 1..4\n"
                        "    memory 16MiB\n"
                        "    timeout 2s\n"
                        "    queue 64\n"
                        "    quota 64MiB\n"
                        "    keys 1000000\n"
                        "  }\n"
                        "  service other {\n"
                        "    instances 2..2\n"
                        "    memory 16MiB\n"
                        "    timeout 5s\n"
                        "    queue 64\n"
                        "    quota 64MiB\n"
                        "    keys 1000000\n"
                        "  }\n"
                        "}\n"));
  sos_app_free(a);
}

TEST(app_print_units_and_escapes) {
  struct sos_app *a = parse(
      "app u 1.0.0 {\n  sources \"a b.c\" \"q\\\"\\\\.c\"\n"
      "  env E = \"\\n\\t\\r\\x01\\x7f\xc3\xa9\"\n"
      "  service a { memory 1024KiB; timeout 1500ms }\n"
      "  service b { memory 1000000; timeout 90s }\n"
      "  service c { memory 100000B; timeout 120s }\n"
      "  service d { memory 65537; timeout 3600s }\n"
      "  service e { memory 3GB; timeout 1ms }\n"
      "  service f { memory 4GiB; timeout 60m }\n"
      "  service g { quota 1TiB; keys 0 }\n"
      "  service h { quota 0; keys 1000000000 }\n"
      "  service i { quota 1000 }\n"
      "  service j { quota 1TB }\n"
      "  service k { quota 5000000000 }\n"
      "}\n");
  REQUIRE(a);
  const char *p = printed(a);
  CHECK(strstr(p, "  sources \"a b.c\" \"q\\\"\\\\.c\"\n") != NULL);
  CHECK(strstr(p, "  env E = \"\\n\\t\\r\\x01\\x7f\xc3\xa9\"\n") != NULL);
  CHECK(strstr(p, "service a {\n    instances 1..4\n    memory 1MiB\n    timeout 1500ms\n"));
  CHECK(strstr(p, "service b {\n    instances 1..4\n    memory 1MB\n    timeout 90s\n"));
  CHECK(strstr(p, "service c {\n    instances 1..4\n    memory 100KB\n    timeout 2m\n"));
  CHECK(strstr(p, "service d {\n    instances 1..4\n    memory 65537B\n    timeout 1h\n"));
  CHECK(strstr(p, "service e {\n    instances 1..4\n    memory 3GB\n    timeout 1ms\n"));
  CHECK(strstr(p, "service f {\n    instances 1..4\n    memory 4GiB\n    timeout 1h\n"));
  CHECK(strstr(p, "    quota 1TiB\n    keys 0\n  }\n  service h"));
  CHECK(strstr(p, "    quota 0B\n    keys 1000000000\n  }\n  service i"));
  CHECK(strstr(p, "    quota 1KB\n    keys 1000000\n  }\n  service j"));
  CHECK(strstr(p, "    quota 976562500KiB\n")); /* 1TB: the binary units come first */
  CHECK(strstr(p, "    quota 5GB\n"));
  sos_app_free(a);
}

/* Checks that text's printed form parses to a definition that prints the
 * same (print -> parse round trip). */
static void check_round_trip(const char *text) {
  struct sos_app *a = parse(text);
  REQUIRE(a);
  char *first;
  REQUIRE(sos_app_print(a, &first, NULL) == 0);
  struct sos_app *b = parse(first);
  REQUIRE(b);
  CHECK(same_text(printed(b), first));
  CHECK_EQ(b->nservices, a->nservices);
  CHECK(b->extends == NULL); /* print leaves extends out */
  sos_free(first);
  sos_app_free(a);
  sos_app_free(b);
}

TEST(app_print_round_trips) {
  check_round_trip(example);
  check_round_trip("app d 0.1.0 {\n  sources \"a.c\"\n  service d {}\n}\n");
  check_round_trip("app u 1.0.0 {\n  sources \"\\\\\\\"\" \"\\x1f\"\n  env _X = \"\\r\\n\"\n"
                   "  uses a, b, c\n  files \"a/\"\n"
                   "  service s { instances 0..10000; memory 65536; timeout 3599999ms; "
                   "queue 1000000 }\n}\n");
  check_round_trip(WRAP("  store b: table B key z index y, x\n  store a: log\n"
                        "  struct B { z: bytes = 9; y: u8 = 1; x: text = 2; w: f32 = 3 }\n"
                        "  struct A {}\n  store c: files\n"
                        "  service s { quota 1TiB; keys 1000000000 }\n"));
  struct sos_app bare = {.name = "n", .version = "1.0.0"};
  CHECK_STR(printed(&bare), "app n 1.0.0 {\n}\n");
  struct sos_app_field odd_field = {.name = "f", .type = 99, .tag = 1};
  struct sos_app_struct odd_struct = {.name = "S", .fields = &odd_field, .nfields = 1};
  struct sos_app_store odd_store = {.name = "s", .type = 0};
  struct sos_app odd = {.name = "n", .version = "1.0.0", .structs = &odd_struct,
                        .nstructs = 1, .stores = &odd_store, .nstores = 1};
  CHECK_STR(printed(&odd), "app n 1.0.0 {\n  struct S {\n    f: ? = 1\n  }\n"
                           "  store s: ?\n}\n");
  struct sos_app none = {0};
  char *out = (char *)1;
  CHECK_EQ(sos_app_print(&none, &out, NULL), SOS_EINVAL);
  CHECK(out == NULL);
}

/* ---- fmt ----------------------------------------------------------------------------- */

TEST(app_fmt_layout_and_comments) {
  char *out = fmt("\n\n# header comment   \n"
                  "\n"
                  "app   hello 1.0.0   extends   \"../b.sos\"{# opening\n"
                  "\n"
                  "    module   \"hello.wasm\"   # a ready module\n"
                  "\tfiles \"a\"   \"b\" ;uses   time ,counter,\n"
                  "                           other  # continued\n"
                  "\n\n\n"
                  "  # about env\n"
                  "  env   X=\"1\"\n"
                  "  service  s {instances 1 .. 4;memory 16MiB;;}  # one line\n"
                  "  service t{}\n"
                  "  service u {\n"
                  "\n"
                  "      queue 8\n"
                  "    # last\n"
                  "\n"
                  "  }\n"
                  "} # end\n"
                  "\n\n# trailer\n\n");
  REQUIRE(out);
  CHECK(same_text(out, "# header comment\n"
                 "\n"
                 "app hello 1.0.0 extends \"../b.sos\" {  # opening\n"
                 "  module \"hello.wasm\"                 # a ready module\n"
                 "  files \"a\" \"b\"\n"
                 "  uses time, counter,\n"
                 "      other  # continued\n"
                 "\n"
                 "  # about env\n"
                 "  env X = \"1\"\n"
                 "  service s { instances 1..4; memory 16MiB }  # one line\n"
                 "  service t {}\n"
                 "  service u {\n"
                 "    queue 8\n"
                 "    # last\n"
                 "  }\n"
                 "}  # end\n"
                 "\n"
                 "# trailer\n"));
  sos_free(out);
}

TEST(app_fmt_structs_and_stores) {
  char *out = fmt("app x 1.0.0 {\n"
                  "  struct   P{x:i32=1;y :i32 = 2}   # a point\n"
                  "  struct Entry {   # rows\n"
                  "\n"
                  "      id: u64 = 1;at:i64=2\n"
                  "    # the name\n"
                  "    name : text = 3\n"
                  "  }\n"
                  "  store   entries :table Entry key id index at ,\n"
                  "           name   # by name\n"
                  "  store hits:kv;store log: log\n"
                  "  service s {quota 1TiB;keys 5}\n"
                  "}\n");
  REQUIRE(out);
  CHECK(same_text(out, "app x 1.0.0 {\n"
                       "  struct P { x: i32 = 1; y: i32 = 2 }  # a point\n"
                       "  struct Entry {                       # rows\n"
                       "    id: u64 = 1\n"
                       "    at: i64 = 2\n"
                       "    # the name\n"
                       "    name: text = 3\n"
                       "  }\n"
                       "  store entries: table Entry key id index at,\n"
                       "      name  # by name\n"
                       "  store hits: kv\n"
                       "  store log: log\n"
                       "  service s { quota 1TiB; keys 5 }\n"
                       "}\n"));
  sos_free(out);
}

TEST(app_fmt_one_line_app_and_crlf) {
  char *out = fmt("app x 1.0.0 {module \"m\";service s{queue 1;memory 1MiB}}\r\n");
  CHECK_STR(out, "app x 1.0.0 { module \"m\"; service s { queue 1; memory 1MiB } }\n");
  sos_free(out);
  out = fmt("# c\r\napp x 1.0.0 {  \r\n  module \"m\"   # t  \r\n}\r\n");
  CHECK_STR(out, "# c\napp x 1.0.0 {\n  module \"m\"  # t\n}\n");
  sos_free(out);
}

TEST(app_fmt_reports_parse_errors) {
  char *out = (char *)1, err[256];
  size_t len = 7;
  const char *bad = "app x 1.0.0 {\n  modul \"x\"\n}\n";
  CHECK_EQ(sos_app_fmt(bad, strlen(bad), "f.sos", &out, &len, err, sizeof err), SOS_EINVAL);
  CHECK(out == NULL && len == 0);
  CHECK_STR(err, "f.sos:2:3: unknown statement \"modul\"; did you mean \"module\"?");
}

/* Inputs for the fmt properties. */
static const char *const fmt_inputs[] = {
    example,
    "app d 0.1.0 {\n  sources \"a.c\"\n  service d {}\n}\n",
    "app x 1.0.0 {module \"m\";service s{queue 1;memory 1MiB}}",
    "#a\n#b\n\n\napp x 1.0.0 extends \"y\" { # c\n\n uses a, # d\n # e\n b,\n\n c # f\n"
    " service s {\n\n}#g\n\n\n env K = \"v\" ; env L = \"w\"#h\n}\n#i",
    "app  x  1.0.0{\n;;files \"a\"\"b\";;\n  service s{instances 0..1;timeout 1h}\n}",
    "app s 1.0.0 {\n  struct E { # e\n\n\n  a: u8 = 1 # a\n ; b: text = 2\n}\n"
    "  store t: table E key a index b # t\n  store u : table F key x index y,\n"
    "   # between\n\n   z\n  store k: kv;store l:log\n"
    "  service s { quota 1KiB\n keys 3 } # s\n  struct F {x:u8=1;y:u8=2;z:bytes=3}\n}\n",
};

TEST(app_fmt_is_idempotent_and_keeps_the_definition) {
  for (size_t i = 0; i < sizeof fmt_inputs / sizeof *fmt_inputs; i++) {
    char *once = fmt(fmt_inputs[i]);
    REQUIRE(once);
    char *twice = fmt(once);
    REQUIRE(twice);
    CHECK(same_text(twice, once));
    struct sos_app *a = parse(fmt_inputs[i]), *b = parse(once);
    REQUIRE(a && b);
    char pa[8192];
    snprintf(pa, sizeof pa, "%s", printed(a));
    CHECK(same_text(printed(b), pa));
    CHECK((a->extends == NULL) == (b->extends == NULL));
    if (a->extends && b->extends) CHECK_STR(b->extends, a->extends);
    /* every comment survives */
    for (const char *c = strchr(fmt_inputs[i], '#'); c; c = strchr(c + 1, '#')) {
      char word[8];
      size_t n = strcspn(c, " \n\r");
      snprintf(word, sizeof word, "%.*s", (int)(n < 7 ? n : 7), c);
      CHECK(strstr(once, word) != NULL);
    }
    sos_app_free(a);
    sos_app_free(b);
    sos_free(once);
    sos_free(twice);
  }
}

/* ---- out of memory ------------------------------------------------------------------ */

TEST(app_alloc_failure_sweep) {
  CHECK(sweep(OP_PARSE, example, NULL) > 10);
  CHECK(sweep(OP_FMT, example, NULL) > 10);
  CHECK(sweep(OP_FMT, fmt_inputs[3], NULL) > 5);
  CHECK(sweep(OP_FMT, fmt_inputs[5], NULL) > 5);
  CHECK(sweep(OP_PARSE, fmt_inputs[5], NULL) > 10);
  struct sos_app *a = parse(example);
  REQUIRE(a);
  CHECK(sweep(OP_PRINT, NULL, a) > 1);
  sos_app_free(a);
  make_root();
  REQUIRE(tmp_root[0]);
  put("core/app.sos", "app core 1.0.0 {\n  module \"./core.wasm\"\n  uses a, b\n"
                      "  env A = \"1\"\n  service c {}\n  service d { queue 1 }\n"
                      "  struct E { id: u64 = 1; at: text = 2 }\n  struct F { k: bytes = 1 }\n"
                      "  store e: table E key id index at\n  store h: kv\n}\n");
  put("base/app.sos", "app base 1.0.0 extends \"../core/app.sos\" {\n"
                      "  files \"lib/\" \"x\"\n  uses b, c\n  env A = \"2\"; env B = \"3\"\n"
                      "  service d { memory 1MiB; keys 4 }\n  service e {}\n"
                      "  struct E { id: u64 = 1; at: text = 2; n: u8 = 3 }\n"
                      "  store f: table F key k\n  store h: log\n}\n");
  put("app/app.sos", "app top 1.0.0 extends \"../base/app.sos\" {\n  uses d, e, f, g, h\n"
                     "  env C = \"4\"\n  service f {}\n  service c { timeout 1s; quota 1GiB }\n"
                     "  struct G { g: i8 = 1 }\n  store g: table G key g\n  store e: files\n}\n");
  CHECK(sweep(OP_LOAD, at("app/app.sos"), NULL) > 30);
  remove_root();
}

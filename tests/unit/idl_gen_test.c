/*
 * idl_gen_test.c - the C code generator of the IDL (src/idl/gen_c.c) and
 * the guest runtime it writes for (sdk/sos_wire.c).
 *
 * The generated text is checked for its key declarations on a model
 * built by hand (names, members, union tags, which stubs an app gets,
 * the order C needs), and for every refusal (unknown types, a struct
 * containing itself, C names that would collide, long names), and under
 * allocation failures.  Then the code is compiled for real: the output
 * for tests/unit/idl_gen/everything.sos (every field type, every way to
 * hold one) is built natively with sdk/sos_wire.c, the kernel mock and
 * the driver in tests/unit/idl_gen/, with gcc and the sanitizers and
 * with clang, and for wasm32; the driver checks exact bytes against
 * docs/wire.md, round trips, malformed inputs and typed calls, and prints
 * what it encoded, accepted and refused, which is compared with the
 * host's codec (include/sos/idl.h): the two must encode the same values
 * to the same bytes and agree on what is malformed.
 */
#include "sos/app.h"
#include "sos/base.h"
#include "sos/idl.h"
#include "sos/idl_gen.h"
#include "test.h"

#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- a model built by hand ---------------------------------------------------------- */

static struct sos_app_enum_value mood_values[] = {
    {.name = "calm", .value = 0}, {.name = "happy", .value = 1}, {.name = "grumpy", .value = 2}};
static struct sos_app_field person_fields[] = {
    {.name = "name", .type = SOS_APP_T_TEXT, .tag = 1},
    {.name = "age", .type = SOS_APP_T_U8, .tag = 2},
    {.name = "scores", .type = SOS_APP_T_I32, .flags = SOS_APP_F_LIST, .tag = 3},
};
static struct sos_app_field req_fields[] = {
    {.name = "name", .type = SOS_APP_T_TEXT, .tag = 1},
    {.name = "times", .type = SOS_APP_T_U32, .tag = 2},
    {.name = "mood", .type = SOS_APP_T_ENUM, .tag = 3, .type_name = "Mood"},
    {.name = "tags", .type = SOS_APP_T_TEXT, .flags = SOS_APP_F_LIST, .tag = 4},
    {.name = "note", .type = SOS_APP_T_TEXT, .flags = SOS_APP_F_OPTIONAL, .tag = 5},
    {.name = "from", .type = SOS_APP_T_STRUCT, .tag = 6, .type_name = "Person"},
    {.name = "email", .type = SOS_APP_T_TEXT, .group = 1, .tag = 7},
    {.name = "phone", .type = SOS_APP_T_U64, .group = 1, .tag = 8},
    {.name = "default", .type = SOS_APP_T_BOOL, .tag = 9},
};
static struct sos_app_field resp_fields[] = {
    {.name = "greeting", .type = SOS_APP_T_TEXT, .tag = 1},
    {.name = "people", .type = SOS_APP_T_STRUCT, .flags = SOS_APP_F_LIST, .tag = 2,
     .type_name = "Person"},
};
static char *req_unions[] = {"contact"};
static struct sos_app_method methods[] = {
    {.name = "hello", .request = "HelloReq", .response = "HelloResp"}};
static struct sos_app_error errors[] = {{.name = "not_found", .code = 1},
                                        {.name = "too_many", .code = 2}};

/* Fills the model: app greeter (or pkg for its declarations' package)
 * with Mood, HelloReq, Person, HelloResp, interface Greeter and, when
 * serve, a service implementing it.  HelloReq comes before Person, which
 * it holds by value, to check the definitions' order. */
static void model(struct sos_app *app, struct sos_app_struct st[3], struct sos_app_enum *e,
                  struct sos_app_interface *it, struct sos_app_service *svc, const char *pkg,
                  bool serve) {
  memset(app, 0, sizeof *app);
  st[0] = (struct sos_app_struct){.name = "HelloReq", .fields = req_fields, .nfields = 9,
                                  .unions = req_unions, .nunions = 1, .package = (char *)pkg};
  st[1] = (struct sos_app_struct){.name = "Person", .fields = person_fields, .nfields = 3,
                                  .package = (char *)pkg};
  st[2] = (struct sos_app_struct){.name = "HelloResp", .fields = resp_fields, .nfields = 2,
                                  .package = (char *)pkg};
  *e = (struct sos_app_enum){.name = "Mood", .values = mood_values, .nvalues = 3,
                             .package = (char *)pkg};
  *it = (struct sos_app_interface){.name = "Greeter", .methods = methods, .nmethods = 1,
                                   .errors = errors, .nerrors = 2, .package = (char *)pkg};
  *svc = (struct sos_app_service){.name = "greeter", .implements = serve ? "Greeter" : NULL};
  app->name = "greeter";
  app->version = "1.0.0";
  app->structs = st;
  app->nstructs = app->nstructs_own = 3;
  app->enums = e;
  app->nenums = app->nenums_own = 1;
  app->interfaces = it;
  app->ninterfaces = app->ninterfaces_own = 1;
  app->services = svc;
  app->nservices = 1;
}

/* The model's declarations, for tests that change one part. */
struct world {
  struct sos_app app;
  struct sos_app_struct st[3];
  struct sos_app_enum e;
  struct sos_app_interface it;
  struct sos_app_service svc;
};

static void world(struct world *w, const char *pkg, bool serve) {
  model(&w->app, w->st, &w->e, &w->it, &w->svc, pkg, serve);
}

/* Whether text holds s; prints s when not. */
static bool has(const char *text, const char *s) {
  if (text && strstr(text, s)) return true;
  fprintf(stderr, "  missing: %s\n", s);
  return false;
}

/* Generates for app, expecting failure with a message containing want. */
static bool gen_fails(const struct sos_app *app, const char *want) {
  struct sos_idl_gen g;
  char err[512] = "";
  int rc = sos_idl_gen_c(app, &g, err, sizeof err);
  bool ok = rc == SOS_EINVAL && strstr(err, want) && !g.header && !g.source;
  if (!ok) fprintf(stderr, "  got %d \"%s\", want \"%s\"\n", rc, err, want);
  if (rc == 0) sos_idl_gen_free(&g);
  return ok;
}

TEST(idl_gen_declarations) {
  struct world w;
  world(&w, "greeter", true);
  struct sos_idl_gen g;
  char err[256];
  REQUIRE(sos_idl_gen_c(&w.app, &g, err, sizeof err) == 0);
  CHECK_STR(g.header_name, "greeter.sos.h");
  CHECK_STR(g.source_name, "greeter.sos.c");
  CHECK_EQ(g.header_len, strlen(g.header));
  CHECK_EQ(g.source_len, strlen(g.source));
  const char *h = g.header, *c = g.source;
  CHECK(strncmp(h, SOS_IDL_GEN_MARK, strlen(SOS_IDL_GEN_MARK)) == 0);
  CHECK(strncmp(c, SOS_IDL_GEN_MARK, strlen(SOS_IDL_GEN_MARK)) == 0);
  CHECK(has(h, "#ifndef GREETER_SOS_H\n#define GREETER_SOS_H\n"));
  CHECK(has(h, "#include \"sos_wire.h\""));
  /* Enums, with their IDL quoted. */
  CHECK(has(h, " * enum Mood {  (package greeter)\n *   calm = 0\n"));
  CHECK(has(h, "typedef enum greeter_Mood {\n  greeter_Mood_calm = 0,\n  greeter_Mood_happy = 1,"));
  CHECK(has(h, "} greeter_Mood;"));
  CHECK(has(h, "const char *greeter_Mood_name(greeter_Mood v);"));
  /* Structs: members by kind, union tags, codecs. */
  CHECK(has(h, " *   union contact {\n *     email: text = 7\n *     phone: u64 = 8\n *   }\n"));
  CHECK(has(h, "struct greeter_HelloReq {\n  sos_text name; "));
  CHECK(has(h, "  uint32_t times; "));
  CHECK(has(h, "  greeter_Mood mood; "));
  CHECK(has(h, "  sos_list_text tags; "));
  CHECK(has(h, "  bool has_note; "));
  CHECK(has(h, "  sos_text note;                     /* note: optional text = 5 */"));
  CHECK(has(h, "  greeter_Person from; "));
  CHECK(has(h, "  uint32_t contact_case; "));
  CHECK(has(h, "  union {\n    sos_text email; "));
  CHECK(has(h, "  } contact;\n  bool default_; "));
  CHECK(has(h, "#define greeter_HelloReq_contact_email 7"));
  CHECK(has(h, "#define greeter_HelloReq_contact_phone 8"));
  CHECK(has(h, "  sos_list_i32 scores; "));
  CHECK(has(h, "  greeter_Person_list people; "));
  CHECK(has(h, "typedef struct greeter_Person_list { greeter_Person *items; uint32_t n; }"));
  CHECK(has(h, "int greeter_HelloReq_encode(const greeter_HelloReq *m, sos_wbuf *w);"));
  CHECK(has(h, "int greeter_HelloReq_decode(greeter_HelloReq *m, const void *p, size_t n, "
               "sos_arena *a);"));
  /* Person is defined before HelloReq, which holds one by value. */
  const char *person = strstr(h, "struct greeter_Person {"), *req = strstr(h, "struct greeter_HelloReq {");
  CHECK(person && req && person < req);
  /* The interface: handle, errors, client stubs, server glue. */
  CHECK(has(h, "typedef struct greeter_Greeter { const char *service; } greeter_Greeter;"));
  CHECK(has(h, "greeter_Greeter greeter_Greeter_at(const char *service)"));
  CHECK(has(h, "  greeter_Greeter_not_found = 1,\n  greeter_Greeter_too_many = 2,\n"));
  CHECK(has(h, "int greeter_Greeter_hello(greeter_Greeter s, const greeter_HelloReq *req, "
               "greeter_HelloResp *resp, sos_arena *a);"));
  CHECK(has(h, "int greeter_Greeter_hello_start(greeter_Greeter s, const greeter_HelloReq *req);"));
  CHECK(has(h, "int greeter_Greeter_hello_finish(int handle, greeter_HelloResp *resp, "
               "sos_arena *a);"));
  CHECK(has(h, "int greeter_Greeter_hello_serve(const greeter_HelloReq *req, "
               "greeter_HelloResp *resp, sos_arena *a);"));
  CHECK(has(h, "void greeter_Greeter_register(void);"));
  /* The source: the header, the SDK, the codecs and the glue. */
  CHECK(has(c, "#include \"greeter.sos.h\""));
  CHECK(has(c, "#include \"sos.h\""));
  CHECK(has(c, "case SOS_WIRE_KEY(7, SOS_WIRE_LEN): /* email: text = 7 */"));
  CHECK(has(c, "m->contact_case = 7;"));
  CHECK(has(c, "if (m->has_note && sos_wire_put_text(w, SOS_WIRE_KEY(5, SOS_WIRE_LEN), m->note))"));
  CHECK(has(c, "sos_call_async(s.service, \"hello\", w.p, w.len, 0)"));
  CHECK(has(c, "  sos_method(\"hello\", greeter_Greeter_hello__handle);"));
  CHECK(has(c, "rc = greeter_Greeter_hello_serve(&req, &resp, a);"));
  sos_idl_gen_free(&g);
  CHECK(g.header == NULL && g.source == NULL);
  sos_idl_gen_free(&g); /* twice is harmless */
}

TEST(idl_gen_client_only_and_packages) {
  struct world w;
  world(&w, "hello-howdy", false); /* imported from a package, implemented by none */
  w.app.name = "caller";
  w.app.nstructs_own = w.app.nenums_own = w.app.ninterfaces_own = 0;
  struct sos_idl_gen g;
  char err[256];
  REQUIRE(sos_idl_gen_c(&w.app, &g, err, sizeof err) == 0);
  CHECK_STR(g.header_name, "caller.sos.h");
  CHECK(has(g.header, "struct hello_howdy_HelloReq {"));
  CHECK(has(g.header, "hello_howdy_Mood_grumpy = 2,"));
  CHECK(has(g.header, "int hello_howdy_Greeter_hello_start("));
  CHECK(!strstr(g.header, "hello_howdy_Greeter_hello_serve"));
  CHECK(!strstr(g.header, "hello_howdy_Greeter_register"));
  CHECK(!strstr(g.source, "sos_method(") && !strstr(g.source, "__handle"));
  sos_idl_gen_free(&g);
  /* Nothing but an enum: no interface code, no sos.h. */
  w.app.nstructs = w.app.ninterfaces = 0;
  w.app.nservices = 0;
  REQUIRE(sos_idl_gen_c(&w.app, &g, err, sizeof err) == 0);
  CHECK(has(g.header, "typedef enum hello_howdy_Mood {"));
  CHECK(!strstr(g.source, "#include \"sos.h\""));
  sos_idl_gen_free(&g);
  CHECK(sos_idl_gen_wanted(&w.app));
  w.app.nenums = 0;
  CHECK(!sos_idl_gen_wanted(&w.app));
  CHECK(!sos_idl_gen_wanted(NULL));
}

TEST(idl_gen_refusals) {
  struct world w;
  struct sos_app_field bad[3];
  world(&w, "greeter", true);
  memcpy(bad, person_fields, sizeof bad);
  w.st[1].fields = bad;
  bad[0].type = SOS_APP_T_STRUCT;
  bad[0].type_name = "Persn";
  CHECK(gen_fails(&w.app, "Person.name: unknown struct Persn"));
  bad[0].type = SOS_APP_T_ENUM;
  CHECK(gen_fails(&w.app, "Person.name: unknown enum Persn"));
  bad[0].type = 99;
  CHECK(gen_fails(&w.app, "Person.name: unknown field type 99"));
  /* Person holding a HelloReq, which holds a Person, by value. */
  bad[0].type = SOS_APP_T_STRUCT;
  bad[0].type_name = "HelloReq";
  CHECK(gen_fails(&w.app, "contains itself by value"));
  bad[0].flags = SOS_APP_F_LIST; /* a list breaks the cycle */
  struct sos_idl_gen g;
  char err[256];
  CHECK(sos_idl_gen_c(&w.app, &g, err, sizeof err) == 0);
  sos_idl_gen_free(&g);
  /* C names that would collide. */
  world(&w, "greeter", true);
  struct sos_app_method m2[] = {{.name = "at", .request = "Person", .response = "Person"}};
  w.it.methods = m2;
  CHECK(gen_fails(&w.app, "the C name greeter_Greeter_at would be declared by"));
  world(&w, "greeter", true);
  struct sos_app_error e2[] = {{.name = "hello_start", .code = 3}};
  w.it.errors = e2;
  w.it.nerrors = 1;
  CHECK(gen_fails(&w.app, "greeter_Greeter_hello_start"));
  world(&w, "greeter", true);
  memcpy(bad, person_fields, sizeof bad);
  w.st[1].fields = bad;
  bad[1].name = "name"; /* two members called name */
  CHECK(gen_fails(&w.app, "struct Person: the C member name would be declared twice"));
  bad[1].name = "na-me"; /* '-' becomes '_' */
  bad[0].name = "na_me";
  CHECK(gen_fails(&w.app, "the C member na_me"));
  world(&w, "greeter", true);
  struct sos_app_method m3[] = {{.name = "hello", .request = "Nope", .response = "Person"}};
  w.it.methods = m3;
  CHECK(gen_fails(&w.app, "Greeter.hello: unknown request struct Nope"));
  world(&w, "greeter", true);
  w.svc.implements = "Greater";
  CHECK(gen_fails(&w.app, "service greeter implements Greater"));
  world(&w, "greeter", true);
  w.st[1].name = "P123456789012345678901234567890123456789012345678901234567890123456789";
  CHECK(gen_fails(&w.app, "names longer than 64 bytes are not supported"));
  struct sos_app none = {0};
  CHECK(sos_idl_gen_c(&none, &g, err, sizeof err) == SOS_EINVAL);
}

TEST(idl_gen_allocation_failures) {
  struct world w;
  world(&w, "greeter", true);
  struct sos_idl_gen g;
  char err[256];
  int rc = SOS_ENOMEM;
  uint64_t n;
  for (n = 1; rc == SOS_ENOMEM && n < 100000; n++) {
    sos_alloc_fail_at(n);
    rc = sos_idl_gen_c(&w.app, &g, err, sizeof err);
    sos_alloc_fail_at(0);
    CHECK(rc == 0 || rc == SOS_ENOMEM);
    if (rc == SOS_ENOMEM) CHECK(!g.header && !g.source && strcmp(err, "out of memory") == 0);
  }
  CHECK(rc == 0 && n > 10); /* it did allocate, and every failure was survived */
  sos_idl_gen_free(&g);
}

/* ---- compiling the output for real ---------------------------------------------------- */

/* The source tree's root: the working folder when it holds the SDK, else
 * found upward from the test program (build/tests/unit). */
static const char *root(void) {
  static char dir[PATH_MAX];
  if (access("sdk/sos_wire.c", R_OK) == 0 && realpath(".", dir)) return dir;
  ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
  if (n <= 0) return ".";
  dir[n] = 0;
  for (int up = 0; up < 5; up++) {
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) break;
    *slash = 0;
    char probe[PATH_MAX + 32];
    snprintf(probe, sizeof probe, "%s/sdk/sos_wire.c", dir);
    if (access(probe, R_OK) == 0) return dir;
  }
  return ".";
}

static char tmp_dir[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

static void tmp_cleanup(void) {
  if (tmp_dir[0]) nftw(tmp_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Writes n bytes of text to dir/name. */
static bool write_file(const char *dir, const char *name, const char *text, size_t n) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f) return false;
  bool ok = fwrite(text, 1, n, f) == n;
  return fclose(f) == 0 && ok;
}

/* Loads the definition at path and writes its generated files into dir. */
static bool generate(const char *path, const char *dir, struct sos_app **out) {
  char err[512];
  struct sos_idl_gen g;
  struct sos_app *app;
  if (sos_app_load(path, &app, err, sizeof err) != 0) {
    fprintf(stderr, "  %s\n", err);
    return false;
  }
  int rc = sos_idl_gen_c(app, &g, err, sizeof err);
  if (rc) fprintf(stderr, "  %s\n", err);
  bool ok = rc == 0 && write_file(dir, g.header_name, g.header, g.header_len) &&
            write_file(dir, g.source_name, g.source, g.source_len);
  sos_idl_gen_free(&g);
  if (out && ok) *out = app;
  else sos_app_free(app);
  return ok;
}

/* Runs a shell command; prints its output (in dir/cmd.log) when it fails. */
static bool run(const char *dir, const char *cmd) {
  char full[8192], log[PATH_MAX];
  snprintf(log, sizeof log, "%s/cmd.log", dir);
  snprintf(full, sizeof full, "%s >'%s' 2>&1", cmd, log);
  if (system(full) == 0) return true;
  fprintf(stderr, "  failed: %s\n", cmd);
  uint8_t *text;
  size_t n;
  if (sos_file_read(log, &text, &n) == 0) {
    fprintf(stderr, "%.*s\n", (int)(n > 6000 ? 6000 : n), (const char *)text);
    sos_free(text);
  }
  return false;
}

/* Generates everything.sos into a fresh folder (tmp_dir). */
static bool setup_everything(struct sos_app **app) {
  snprintf(tmp_dir, sizeof tmp_dir, "/tmp/sos-idlgen-XXXXXX");
  if (!mkdtemp(tmp_dir)) return false;
  atexit(tmp_cleanup);
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/tests/unit/idl_gen/everything.sos", root());
  return generate(path, tmp_dir, app);
}

/* Builds the driver with cc and flags into tmp_dir/driver; runs it with
 * its output in tmp_dir/driver.out. */
static bool build_and_run(const char *cc, const char *flags) {
  const char *r = root();
  char cmd[8192];
  snprintf(cmd, sizeof cmd,
           "%s -std=c11 -D_GNU_SOURCE %s -g -Wall -Wextra -Wshadow -Wmissing-prototypes "
           "-Wstrict-prototypes -Werror -I'%s' -I'%s/sdk' -I'%s/include' -o '%s/driver' "
           "'%s/tests/unit/idl_gen/driver.c' '%s/tests/unit/idl_gen/mock_sos.c' "
           "'%s/everything.sos.c' '%s/sdk/sos_wire.c' -lm",
           cc, flags, tmp_dir, r, r, tmp_dir, r, r, tmp_dir, r);
  if (!run(tmp_dir, cmd)) return false;
  snprintf(cmd, sizeof cmd, "'%s/driver' >'%s/driver.out'", tmp_dir, tmp_dir);
  bool ok = system(cmd) == 0;
  char out[PATH_MAX];
  snprintf(out, sizeof out, "%s/driver.out", tmp_dir);
  FILE *f = fopen(out, "r");
  char line[8192];
  bool summary = false;
  while (f && fgets(line, sizeof line, f)) {
    if (strncmp(line, "wire ", 5) && strncmp(line, "accept ", 7) && strncmp(line, "reject ", 7))
      fprintf(stderr, "  %s", line); /* failures and the summary */
    summary |= strncmp(line, "driver: ", 8) == 0 && strstr(line, " 0 failed");
  }
  if (f) fclose(f);
  return ok && summary;
}

/* Whether cc is installed. */
static bool have(const char *cc) {
  char cmd[256];
  snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", cc);
  return system(cmd) == 0;
}

TEST(idl_gen_compiled_with_gcc_and_sanitizers) {
  REQUIRE(setup_everything(NULL));
  REQUIRE(have("gcc"));
  CHECK(build_and_run("gcc", "-O1 -fsanitize=address,undefined -fno-sanitize-recover=all"));
}

TEST(idl_gen_compiled_with_clang) {
  REQUIRE(setup_everything(NULL));
  REQUIRE(have("clang"));
  CHECK(build_and_run("clang", "-O2"));
}

TEST(idl_gen_compiled_for_wasm32) {
  REQUIRE(setup_everything(NULL));
  REQUIRE(have("clang"));
  const char *r = root();
  char cmd[4096];
  snprintf(cmd, sizeof cmd,
           "clang --target=wasm32-wasi -O2 -std=c11 -Wall -Wextra -Wshadow "
           "-Wmissing-prototypes -Wstrict-prototypes -Werror -I'%s' -I'%s/sdk' -c "
           "'%s/everything.sos.c' '%s/sdk/sos_wire.c'",
           tmp_dir, r, tmp_dir, r);
  char full[8192];
  snprintf(full, sizeof full, "cd '%s' && %s", tmp_dir, cmd);
  CHECK(run(tmp_dir, full));
}

/* ---- the host's codec, byte for byte ------------------------------------------------------ */

/* The driver's named values as the host's JSON (docs/wire.md, "JSON"). */
static const struct {
  const char *name, *type, *json;
} values[] = {
    {"doc", "Doc", "{\"name\":\"ada\",\"times\":300,\"loud\":false}"},
    {"zeros", "All",
     "{\"f32v\":-0.0,\"f64v\":-0.0,\"ou32\":0,\"otext\":\"\",\"oinner\":{},\"of64\":0,"
     "\"ocolor\":\"red\",\"cempty\":{}}"},
    {"canonical", "All",
     "{\"b\":true,\"u16v\":300,\"i16v\":-300,\"color\":\"blue\",\"t\":\"h\xc3\xa9\","
     "\"inner\":{\"label\":\"x\"},\"lu32\":[1,300],\"ou32\":0,\"ctext\":\"z\",\"big\":1,"
     "\"huge\":2}"},
    {"full", "All",
     "{\"b\":true,\"u8v\":200,\"u16v\":60000,\"u32v\":4000000000,"
     "\"u64v\":\"9223372036854775813\",\"i8v\":-100,\"i16v\":-30000,\"i32v\":-2000000000,"
     "\"i64v\":\"-9223372036854775808\",\"f32v\":1.5,\"f64v\":-2.25,"
     "\"t\":\"h\xc3\xa9llo w\xc3\xb6rld\",\"by\":\"AAEC/w==\",\"color\":\"green\","
     "\"inner\":{\"label\":\"in\",\"n\":-7},\"lb\":[true,false,true],\"lu8\":[0,255],"
     "\"lu16\":[1,65535],\"lu32\":[0,4294967295],\"lu64\":[\"18446744073709551615\",0],"
     "\"li8\":[-128,127],\"li16\":[-32768,32767],\"li32\":[-2147483648,2147483647],"
     "\"li64\":[\"-9223372036854775808\",\"9223372036854775807\"],\"lf32\":[0.5,-1],"
     "\"lf64\":[1e300,-0.0],\"lt\":[\"a\",\"\",\"\xc3\xbc\"],\"lby\":[\"\",\"AQI=\"],"
     "\"lcolor\":[\"red\",\"blue\",9],\"linner\":[{\"label\":\"p\",\"n\":1},"
     "{\"label\":\"\",\"n\":0},{\"label\":\"q\",\"n\":-1}],\"ou32\":0,\"otext\":\"o\","
     "\"oinner\":{},\"of64\":3,\"ocolor\":\"blue\",\"cinner\":{\"label\":\"c\",\"n\":3},"
     "\"kids\":[{\"t\":\"kid\",\"kids\":[{\"u8v\":1}]}],\"default\":42,\"big\":1000,"
     "\"huge\":65535}"},
};

/* Hex text into bytes (at most cap); returns the count. */
static size_t from_hex(const char *h, uint8_t *out, size_t cap) {
  size_t n = 0;
  unsigned v;
  while (n < cap && sscanf(h, "%2x", &v) == 1) {
    out[n++] = (uint8_t)v;
    h += 2;
  }
  return n;
}

/* Checks one line of the driver's output against the host's codec. */
static void cross_check(const struct sos_idl *s, char *line) {
  static uint8_t bytes[65536];
  char *kind = strtok(line, " \n"), *name = strtok(NULL, " \n");
  char *type = strcmp(kind, "wire") == 0 ? NULL : strtok(NULL, " \n");
  char *h = strtok(NULL, " \n");
  char err[512];
  if (!h) h = ""; /* an empty message */
  size_t n = from_hex(h, bytes, sizeof bytes);
  if (!type) {
    for (size_t i = 0; i < sizeof values / sizeof *values; i++)
      if (strcmp(values[i].name, name) == 0) type = (char *)values[i].type;
    if (!type) return; /* a value the host table does not know */
  }
  int t = sos_idl_struct(s, type);
  REQUIRE(t >= 0);
  int rc = sos_idl_check(s, t, bytes, n, err, sizeof err);
  if (strcmp(kind, "reject") == 0) {
    if (rc != SOS_EMALFORMED) fprintf(stderr, "  host accepts %s: %s\n", name, h);
    CHECK(rc == SOS_EMALFORMED);
    return;
  }
  if (rc) fprintf(stderr, "  host rejects %s: %s\n", name, err);
  CHECK(rc == 0);
  if (strcmp(kind, "wire") != 0) return;
  for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
    if (strcmp(values[i].name, name) != 0) continue;
    uint8_t *host;
    size_t hn;
    rc = sos_idl_from_json(s, t, values[i].json, strlen(values[i].json), &host, &hn, err,
                           sizeof err);
    if (rc) fprintf(stderr, "  host from_json %s: %s\n", name, err);
    REQUIRE(rc == 0);
    bool same = hn == n && memcmp(host, bytes, n) == 0;
    if (!same) {
      fprintf(stderr, "  %s differs:\n  guest %s\n  host  ", name, h);
      for (size_t k = 0; k < hn; k++) fprintf(stderr, "%02x", host[k]);
      fprintf(stderr, "\n");
    }
    CHECK(same);
    sos_free(host);
  }
}

TEST(idl_gen_agrees_with_the_host_codec) {
  struct sos_app *app = NULL;
  REQUIRE(setup_everything(&app));
  REQUIRE(have("gcc"));
  bool built = build_and_run("gcc", "-O3");
  CHECK(built);
  struct sos_idl *s;
  char err[512];
  int rc = sos_idl_new(app, &s, err, sizeof err);
  if (rc) fprintf(stderr, "  %s\n", err);
  REQUIRE(rc == 0);
  char path[PATH_MAX], line[65536 * 2 + 128];
  snprintf(path, sizeof path, "%s/driver.out", tmp_dir);
  FILE *f = fopen(path, "r");
  int wires = 0, rejects = 0, accepts = 0;
  while (f && fgets(line, sizeof line, f)) {
    wires += strncmp(line, "wire ", 5) == 0;
    accepts += strncmp(line, "accept ", 7) == 0;
    rejects += strncmp(line, "reject ", 7) == 0;
    if (!strncmp(line, "wire ", 5) || !strncmp(line, "accept ", 7) || !strncmp(line, "reject ", 7))
      cross_check(s, line);
  }
  if (f) fclose(f);
  CHECK(wires == 4 && accepts >= 4 && rejects >= 40);
  sos_idl_free(s);
  sos_app_free(app);
}

/* An app that imports a package with '-' in its name gets the package's
 * C names, and code that compiles. */
TEST(idl_gen_imported_package) {
  snprintf(tmp_dir, sizeof tmp_dir, "/tmp/sos-idlgen-XXXXXX");
  REQUIRE(mkdtemp(tmp_dir));
  atexit(tmp_cleanup);
  static const char pkg[] =
      "package hello-howdy 1.0.0 {\n"
      "  struct Hi { who: text = 1; n: u32 = 2 }\n"
      "  interface Howdy { hi(Hi) -> Hi\n    error nope = 1 }\n"
      "}\n";
  static const char app[] =
      "app caller 1.0.0 {\n"
      "  sources \"caller.c\"\n"
      "  import \"howdy.sos\"\n"
      "  uses howdy\n"
      "  struct Mine { hi: Hi = 1 }\n"
      "  service caller { instances 1..1 }\n"
      "}\n";
  REQUIRE(write_file(tmp_dir, "howdy.sos", pkg, strlen(pkg)));
  REQUIRE(write_file(tmp_dir, "app.sos", app, strlen(app)));
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/app.sos", tmp_dir);
  REQUIRE(generate(path, tmp_dir, NULL));
  uint8_t *h;
  size_t n;
  snprintf(path, sizeof path, "%s/caller.sos.h", tmp_dir);
  REQUIRE(sos_file_read(path, &h, &n) == 0);
  CHECK(has((char *)h, "struct caller_Mine {\n  hello_howdy_Hi hi; "));
  CHECK(has((char *)h, "int hello_howdy_Howdy_hi(hello_howdy_Howdy s, const hello_howdy_Hi *req"));
  CHECK(has((char *)h, "hello_howdy_Howdy_nope = 1,"));
  CHECK(!strstr((char *)h, "hello_howdy_Howdy_hi_serve"));
  sos_free(h);
  const char *r = root();
  char cmd[4096];
  snprintf(cmd, sizeof cmd,
           "cc -std=c11 -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes "
           "-Werror -I'%s/sdk' -I'%s/include' -fsyntax-only '%s/caller.sos.c'",
           r, r, tmp_dir);
  CHECK(run(tmp_dir, cmd));
}

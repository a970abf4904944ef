/*
 * spec.c - runs one file of the official WebAssembly spec suite.
 *
 * Usage: spec [-a] FILE.json, where FILE.json is what wabt's wast2json made
 * of one .wast script (the .wasm files it names sit beside it).  The
 * program walks the script's commands in order and drives the engine only
 * through the public API of include/sos/wasm.h, the same way an embedder
 * would: it decodes each module, links its imports by (module, field) name
 * against the "spectest" host module and the instances the script
 * registered, instantiates it, runs its start function, then invokes
 * exports and compares results bit for bit.
 *
 * Counting: every module command, action and assertion is one check that
 * passes or fails.  assert_invalid and assert_malformed on a module in the
 * text format are skipped, since SOS loads binary modules only; nothing
 * else is ever skipped.  The first five failures are described (all of
 * them with -a) as "FILE.wast:LINE: what was expected, what happened", and
 * the last line is "NAME: P passed, F failed, S skipped".  The exit status
 * is 0 when nothing failed, 1 when something did, 2 when the script could
 * not be read.
 *
 * Values: the JSON gives numbers as decimal strings of their unsigned bit
 * patterns, which are exactly the engine's 64-bit cells.  Expected floats
 * may be "nan:canonical" or "nan:arithmetic" (Core 2.0 §4.3.3), checked on
 * the bits.  externref N in the script is the host value N+1 here, because
 * 0 is the engine's null.
 *
 * Robustness: the whole file runs under alarm(120) so an engine bug that
 * loops cannot hang the suite; the alarm (and, outside ASan builds, a
 * crash) still prints the counts so far plus one failure naming the line.
 * Everything is freed at the end (instances newest first, then the host
 * objects) so that the ASan build's leak check stays meaningful.
 */
#include "sos/wasm.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define SPEC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPEC_ASAN 1
#endif
#endif

enum {
  TIME_LIMIT = 120, /* seconds for one script */
  SHOWN = 5,        /* failures described per script without -a */
  MAX_VALS = 256,   /* arguments or results of one call */
  ERRLEN = 256,
};

/* A name bound to an instance: a script's "$M" names and its registered
 * module names.  in is NULL when the named module failed to load. */
struct binding {
  char *name;
  sos_wasm_instance *in;
};

struct binding_list {
  struct binding *v;
  uint32_t n, cap;
};

/* The spectest module's exports (test/core/README of the spec suite). */
struct host_entry {
  const char *name;
  struct sos_wasm_extern ext;
};

enum { NHOST = 13 };

struct runner {
  const char *dir;    /* folder of the JSON file */
  const char *source; /* "NAME.wast", for messages */
  const char *name;   /* "NAME", for the summary */
  bool show_all;
  unsigned marker; /* private-use code point standing for NUL in strings */
  struct host_entry host[NHOST];
  uint32_t nhost;
  sos_wasm_instance **insts; /* every live instance, oldest first */
  uint32_t ninsts, capinsts;
  struct binding_list named, registered;
  sos_wasm_instance *current;
  unsigned pass, fail, skip;
};

/* What one invoke or get produced. */
struct outcome {
  int rc; /* 0, SOS_ETRAP, or another error */
  struct sos_wasm_trap trap;
  uint32_t n;
  sos_wasm_val vals[MAX_VALS];
  uint8_t types[MAX_VALS];
  char err[ERRLEN];
};

/* How far loading a module got. */
enum { ST_READ, ST_DECODE, ST_LINK, ST_START, ST_OK };

struct loaded {
  int stage; /* the stage that failed, or ST_OK */
  int rc;
  sos_wasm_instance *in; /* the instance, when instantiation succeeded */
  struct sos_wasm_trap trap;
  char err[ERRLEN];
};

/* ---- reporting ------------------------------------------------------------ */

static struct runner *the_runner;     /* for the signal handlers */
static volatile sig_atomic_t cur_line; /* line of the command running */

static void pass(struct runner *r) { r->pass++; }

/* Counts a failure at line and describes it when within the shown few. */
__attribute__((format(printf, 3, 4))) static void
failf(struct runner *r, int line, const char *fmt, ...) {
  r->fail++;
  if (!r->show_all && r->fail > SHOWN) return;
  va_list ap;
  va_start(ap, fmt);
  printf("  %s:%d: ", r->source, line);
  vprintf(fmt, ap);
  putchar('\n');
  va_end(ap);
}

static void print_summary(const struct runner *r) {
  if (!r->show_all && r->fail > SHOWN)
    printf("  ... and %u more failures (run with -a to see all)\n",
           r->fail - SHOWN);
  printf("%s: %u passed, %u failed, %u skipped\n", r->name, r->pass, r->fail,
         r->skip);
}

/* Appends s to buf at *at (async-signal-safe). */
static void put_str(char *buf, size_t cap, size_t *at, const char *s) {
  while (*s && *at + 1 < cap) buf[(*at)++] = *s++;
}

static void put_uint(char *buf, size_t cap, size_t *at, unsigned long v) {
  char tmp[24];
  int i = (int)sizeof tmp - 1;
  tmp[i] = 0;
  do tmp[--i] = (char)('0' + v % 10);
  while ((v /= 10) && i > 0);
  put_str(buf, cap, at, tmp + i);
}

/* Prints "what at line L" and the counts with one more failure, using
 * only async-signal-safe calls. */
static void emergency_summary(const char *what) {
  const struct runner *r = the_runner;
  char buf[512];
  size_t at = 0;
  put_str(buf, sizeof buf, &at, "  ");
  put_str(buf, sizeof buf, &at, r->source);
  put_str(buf, sizeof buf, &at, ":");
  put_uint(buf, sizeof buf, &at, (unsigned long)cur_line);
  put_str(buf, sizeof buf, &at, ": ");
  put_str(buf, sizeof buf, &at, what);
  put_str(buf, sizeof buf, &at, "\n");
  put_str(buf, sizeof buf, &at, r->name);
  put_str(buf, sizeof buf, &at, ": ");
  put_uint(buf, sizeof buf, &at, r->pass);
  put_str(buf, sizeof buf, &at, " passed, ");
  put_uint(buf, sizeof buf, &at, r->fail + 1ul);
  put_str(buf, sizeof buf, &at, " failed, ");
  put_uint(buf, sizeof buf, &at, r->skip);
  put_str(buf, sizeof buf, &at, " skipped\n");
  if (write(STDOUT_FILENO, buf, at) < 0) _exit(3);
}

static void on_alarm(int sig) {
  (void)sig;
  emergency_summary("timed out (the whole script took over 120 s)");
  _exit(1);
}

#ifndef SPEC_ASAN
static void on_crash(int sig) {
  emergency_summary(sig == SIGSEGV  ? "crashed (SIGSEGV)"
                    : sig == SIGBUS ? "crashed (SIGBUS)"
                    : sig == SIGFPE ? "crashed (SIGFPE)"
                                    : "crashed (SIGABRT)");
  raise(sig); /* the handler was reset: die by the signal */
}
#endif

static void install_handlers(void) {
  signal(SIGALRM, on_alarm);
#ifndef SPEC_ASAN /* ASan's own reports are more useful than ours */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_crash;
  sa.sa_flags = (int)SA_RESETHAND;
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);
  sigaction(SIGFPE, &sa, NULL);
  sigaction(SIGABRT, &sa, NULL);
#endif
}

/* ---- JSON helpers ------------------------------------------------------------ */

static const char *jstr(const cJSON *o, const char *key) {
  const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(s) ? s->valuestring : NULL;
}

static int jline(const cJSON *o) {
  const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, "line");
  return cJSON_IsNumber(n) ? n->valueint : 0;
}

static void utf8_3(unsigned cp, unsigned char out[3]) {
  out[0] = (unsigned char)(0xe0 | cp >> 12);
  out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
  out[2] = (unsigned char)(0x80 | (cp & 0x3f));
}

static int hexval(int ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

/* Chooses a code point of U+E000..U+E0FE that the text never uses, raw or
 * escaped, to stand for NUL: cJSON keeps "\u0000" inside a C string, where
 * it would end the name early (names.wast has such export names). */
static unsigned choose_marker(const char *text, size_t len) {
  bool used[256] = {false};
  const unsigned char *u = (const unsigned char *)text;
  for (size_t i = 0; i + 2 < len; i++) {
    if (u[i] == 0xee && (u[i + 1] & 0xfc) == 0x80)
      used[(u[i + 1] & 3) << 6 | (u[i + 2] & 0x3f)] = true;
    if (u[i] == '\\' && i + 5 < len && u[i + 1] == 'u' && hexval(u[i + 2]) == 0xe &&
        hexval(u[i + 3]) == 0 && hexval(u[i + 4]) >= 0 && hexval(u[i + 5]) >= 0)
      used[hexval(u[i + 4]) << 4 | hexval(u[i + 5])] = true;
  }
  unsigned k = 0;
  while (k < 255 && used[k]) k++;
  return 0xe000 + k;
}

/* Rewrites each "\u0000" escape of the JSON text into the marker's
 * escape, in place (both are six characters). */
static void hide_nuls(char *text, size_t len, unsigned marker) {
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i + 1 < len; i++) {
    if (text[i] != '\\') continue;
    if (text[i + 1] == 'u' && i + 5 < len && !memcmp(text + i + 2, "0000", 4))
      for (int k = 0; k < 4; k++) text[i + 2 + k] = hex[(marker >> (12 - 4 * k)) & 15];
    i++; /* skip the escaped character, so "\\u0000" stays as it is */
  }
}

/* Copies a string from the JSON with each marker turned back into NUL.
 * Returns a sos_malloc'd copy and its length in *len, or NULL. */
static char *unhide_nuls(const struct runner *r, const char *s, size_t *len) {
  size_t n = strlen(s);
  char *out = sos_malloc(n + 1);
  if (!out) return NULL;
  unsigned char m[3];
  utf8_3(r->marker, m);
  size_t j = 0;
  for (size_t i = 0; i < n; i++) {
    if (i + 2 < n && !memcmp(s + i, m, 3)) out[j++] = 0, i += 2;
    else out[j++] = s[i];
  }
  out[j] = 0;
  *len = j;
  return out;
}

/* ---- values ------------------------------------------------------------------ */

static int type_code(const char *t) {
  static const struct {
    const char *name;
    int code;
  } types[] = {{"i32", SOS_WASM_I32},         {"i64", SOS_WASM_I64},
               {"f32", SOS_WASM_F32},         {"f64", SOS_WASM_F64},
               {"funcref", SOS_WASM_FUNCREF}, {"externref", SOS_WASM_EXTERNREF}};
  for (size_t i = 0; t && i < sizeof types / sizeof types[0]; i++)
    if (!strcmp(t, types[i].name)) return types[i].code;
  return -1;
}

static bool parse_u64(const char *s, uint64_t *v) {
  char *end;
  if (!s || !*s) return false;
  *v = strtoull(s, &end, 10);
  return *end == 0;
}

/* Turns a script value {"type", "value"} into a cell.  Returns false when
 * it cannot be made (such as a non-null funcref argument). */
static bool parse_arg(const cJSON *a, sos_wasm_val *v) {
  int t = type_code(jstr(a, "type"));
  const char *s = jstr(a, "value");
  uint64_t u;
  if (t == SOS_WASM_FUNCREF || t == SOS_WASM_EXTERNREF) {
    if (s && !strcmp(s, "null")) return *v = 0, true;
    if (t == SOS_WASM_FUNCREF || !parse_u64(s, &u)) return false;
    return *v = u + 1, true;
  }
  if (t < 0 || !parse_u64(s, &u)) return false;
  *v = (t == SOS_WASM_I32 || t == SOS_WASM_F32) ? (uint32_t)u : u;
  return true;
}

/* Writes a cell as "type:value" for messages. */
static void format_val(char *buf, size_t n, int type, sos_wasm_val v) {
  float f;
  double d;
  uint32_t lo = (uint32_t)v;
  switch (type) {
  case SOS_WASM_I32: snprintf(buf, n, "i32:%" PRIu32, lo); break;
  case SOS_WASM_I64: snprintf(buf, n, "i64:%" PRIu64, v); break;
  case SOS_WASM_F32:
    memcpy(&f, &lo, 4);
    snprintf(buf, n, "f32:%" PRIu32 " (%.9g)", lo, (double)f);
    break;
  case SOS_WASM_F64:
    memcpy(&d, &v, 8);
    snprintf(buf, n, "f64:%" PRIu64 " (%.17g)", v, d);
    break;
  case SOS_WASM_EXTERNREF:
    if (v) snprintf(buf, n, "externref:%" PRIu64, v - 1);
    else snprintf(buf, n, "externref:null");
    break;
  case SOS_WASM_FUNCREF: snprintf(buf, n, v ? "funcref:non-null" : "funcref:null"); break;
  default: snprintf(buf, n, "type 0x%x:%" PRIu64, (unsigned)type, v);
  }
}

/* Does the NaN-pattern expectation s ("nan:canonical" / "nan:arithmetic")
 * hold for the bits of a float of the given type? */
static bool nan_matches(const char *s, int type, sos_wasm_val v) {
  uint64_t quiet = type == SOS_WASM_F32 ? 0x7fc00000u : 0x7ff8000000000000u;
  uint64_t nosign = type == SOS_WASM_F32 ? 0x7fffffffu : 0x7fffffffffffffffu;
  if (type == SOS_WASM_F32) v = (uint32_t)v;
  if (!strcmp(s, "nan:canonical")) return (v & nosign) == quiet;
  return (v & quiet) == quiet; /* arithmetic: any payload with the quiet bit */
}

/* Does result v of the given type meet the expectation e? */
static bool val_matches(const cJSON *e, int type, sos_wasm_val v) {
  int want = type_code(jstr(e, "type"));
  const char *s = jstr(e, "value");
  uint64_t u;
  if (want != type || !s) return false;
  if (type == SOS_WASM_FUNCREF || type == SOS_WASM_EXTERNREF) {
    if (!strcmp(s, "null")) return v == 0;
    if (type == SOS_WASM_FUNCREF) return v != 0;
    return parse_u64(s, &u) && v == u + 1;
  }
  if (!strncmp(s, "nan:", 4)) return (type == SOS_WASM_F32 || type == SOS_WASM_F64) && nan_matches(s, type, v);
  if (!parse_u64(s, &u)) return false;
  if (type == SOS_WASM_I32 || type == SOS_WASM_F32) return (uint32_t)v == (uint32_t)u;
  return v == u;
}

/* Writes the outcome's results as "(t:v, t:v)". */
static void format_results(char *buf, size_t n, const struct outcome *o) {
  size_t at = 0;
  buf[0] = 0;
  for (uint32_t i = 0; i < o->n && at + 1 < n; i++) {
    char one[96];
    format_val(one, sizeof one, o->types[i], o->vals[i]);
    at += (size_t)snprintf(buf + at, n - at, "%s%s", i ? ", " : "", one);
  }
}

/* Writes the expectation list as "(t:v, t:v)". */
static void format_expected(char *buf, size_t n, const cJSON *exp) {
  size_t at = 0;
  const cJSON *e;
  buf[0] = 0;
  cJSON_ArrayForEach(e, exp) {
    if (at + 1 >= n) break;
    const char *t = jstr(e, "type"), *v = jstr(e, "value");
    at += (size_t)snprintf(buf + at, n - at, "%s%s:%s", at ? ", " : "",
                           t ? t : "?", v ? v : "?");
  }
}

/* ---- the spectest module ----------------------------------------------------- */

static int host_print(struct sos_wasm_hostcall *call) {
  (void)call; /* the suite only checks that the calls link and run */
  return SOS_WASM_HOST_OK;
}

static const uint8_t P_I32[] = {SOS_WASM_I32}, P_I64[] = {SOS_WASM_I64},
                     P_F32[] = {SOS_WASM_F32}, P_F64[] = {SOS_WASM_F64},
                     P_I32_F32[] = {SOS_WASM_I32, SOS_WASM_F32},
                     P_F64_F64[] = {SOS_WASM_F64, SOS_WASM_F64};

static const struct {
  const char *name;
  uint32_t nparams;
  const uint8_t *params;
} PRINTS[] = {{"print", 0, P_I32},         {"print_i32", 1, P_I32},
              {"print_i64", 1, P_I64},     {"print_f32", 1, P_F32},
              {"print_f64", 1, P_F64},     {"print_i32_f32", 2, P_I32_F32},
              {"print_f64_f64", 2, P_F64_F64}};

static bool host_add(struct runner *r, const char *name, uint8_t kind, void *obj) {
  if (!obj) return false;
  struct host_entry *h = &r->host[r->nhost++];
  h->name = name;
  h->ext.kind = kind;
  switch (kind) {
  case SOS_WASM_EXTERN_FUNC: h->ext.u.func = obj; break;
  case SOS_WASM_EXTERN_TABLE: h->ext.u.table = obj; break;
  case SOS_WASM_EXTERN_MEMORY: h->ext.u.memory = obj; break;
  default: h->ext.u.global = obj;
  }
  return true;
}

static sos_wasm_global *global_f(uint8_t type, double x) {
  float f = (float)x;
  uint32_t b32;
  uint64_t b64;
  memcpy(&b32, &f, 4);
  memcpy(&b64, &x, 8);
  return sos_wasm_global_new(type, false, type == SOS_WASM_F32 ? b32 : b64);
}

/* Makes the spectest host module.  Returns false when out of memory. */
static bool spectest_new(struct runner *r) {
  for (size_t i = 0; i < sizeof PRINTS / sizeof PRINTS[0]; i++) {
    struct sos_wasm_functype t = {PRINTS[i].nparams, 0, PRINTS[i].params, P_I32};
    if (!host_add(r, PRINTS[i].name, SOS_WASM_EXTERN_FUNC,
                  sos_wasm_func_new(&t, host_print, NULL)))
      return false;
  }
  return host_add(r, "global_i32", SOS_WASM_EXTERN_GLOBAL,
                  sos_wasm_global_new(SOS_WASM_I32, false, 666)) &&
         host_add(r, "global_i64", SOS_WASM_EXTERN_GLOBAL,
                  sos_wasm_global_new(SOS_WASM_I64, false, 666)) &&
         host_add(r, "global_f32", SOS_WASM_EXTERN_GLOBAL, global_f(SOS_WASM_F32, 666.6)) &&
         host_add(r, "global_f64", SOS_WASM_EXTERN_GLOBAL, global_f(SOS_WASM_F64, 666.6)) &&
         host_add(r, "table", SOS_WASM_EXTERN_TABLE,
                  sos_wasm_table_new(SOS_WASM_FUNCREF, 10, true, 20)) &&
         host_add(r, "memory", SOS_WASM_EXTERN_MEMORY, sos_wasm_memory_new(1, true, 2));
}

static void spectest_free(struct runner *r) {
  for (uint32_t i = 0; i < r->nhost; i++) {
    struct sos_wasm_extern *e = &r->host[i].ext;
    switch (e->kind) {
    case SOS_WASM_EXTERN_FUNC: sos_wasm_func_free(e->u.func); break;
    case SOS_WASM_EXTERN_TABLE: sos_wasm_table_free(e->u.table); break;
    case SOS_WASM_EXTERN_MEMORY: sos_wasm_memory_free(e->u.memory); break;
    default: sos_wasm_global_free(e->u.global);
    }
  }
  r->nhost = 0;
}

/* ---- instances and names ----------------------------------------------------- */

static bool keep_instance(struct runner *r, sos_wasm_instance *in) {
  if (r->ninsts == r->capinsts) {
    uint32_t cap = r->capinsts ? 2 * r->capinsts : 16;
    void *p = sos_realloc(r->insts, cap * sizeof *r->insts);
    if (!p) return false;
    r->insts = p, r->capinsts = cap;
  }
  r->insts[r->ninsts++] = in;
  return true;
}

static bool bind_name(struct binding_list *l, const char *name, sos_wasm_instance *in) {
  if (l->n == l->cap) {
    uint32_t cap = l->cap ? 2 * l->cap : 16;
    void *p = sos_realloc(l->v, cap * sizeof *l->v);
    if (!p) return false;
    l->v = p, l->cap = cap;
  }
  char *copy = sos_strndup(name, strlen(name));
  if (!copy) return false;
  l->v[l->n++] = (struct binding){copy, in};
  return true;
}

/* The newest binding of name (p, len), or NULL. */
static const struct binding *lookup(const struct binding_list *l, const char *p,
                                    size_t len) {
  for (uint32_t i = l->n; i-- > 0;)
    if (strlen(l->v[i].name) == len && !memcmp(l->v[i].name, p, len)) return &l->v[i];
  return NULL;
}

static void bindings_free(struct binding_list *l) {
  for (uint32_t i = 0; i < l->n; i++) sos_free(l->v[i].name);
  sos_free(l->v);
  memset(l, 0, sizeof *l);
}

/* ---- loading modules ----------------------------------------------------------- */

/* Decodes the module file a command names.  On failure L says why. */
static sos_wasm_module *decode(const struct runner *r, const cJSON *c, struct loaded *L) {
  const char *file = jstr(c, "filename");
  char path[4096];
  uint8_t *bytes;
  size_t len;
  sos_wasm_module *m = NULL;
  L->stage = ST_READ;
  snprintf(path, sizeof path, "%s/%s", r->dir, file ? file : "(no filename)");
  if ((L->rc = sos_file_read(path, &bytes, &len)) != 0) {
    snprintf(L->err, sizeof L->err, "cannot read %.200s", path);
    return NULL;
  }
  L->stage = ST_DECODE;
  L->rc = sos_wasm_module_new(bytes, len, &m, L->err, sizeof L->err);
  sos_free(bytes);
  return L->rc ? NULL : m;
}

/* Finds the external value for import (mod, field): spectest's or a
 * registered instance's export.  SOS_ELINK when there is none. */
static int resolve(const struct runner *r, struct sos_wasm_name mod,
                   struct sos_wasm_name field, struct sos_wasm_extern *out) {
  if (mod.len == 8 && !memcmp(mod.p, "spectest", 8)) {
    for (uint32_t i = 0; i < r->nhost; i++)
      if (strlen(r->host[i].name) == field.len &&
          !memcmp(r->host[i].name, field.p, field.len))
        return *out = r->host[i].ext, 0;
    return SOS_ELINK;
  }
  const struct binding *b = lookup(&r->registered, mod.p, mod.len);
  if (!b || !b->in) return SOS_ELINK;
  return sos_wasm_instance_export(b->in, field.p, field.len, out) ? SOS_ELINK : 0;
}

/* Resolves every import of m into the array *out (sos_malloc'd). */
static int link_imports(const struct runner *r, const sos_wasm_module *m,
                        struct sos_wasm_extern **out, struct loaded *L) {
  uint32_t n = sos_wasm_module_import_count(m);
  *out = sos_calloc(n ? n : 1, sizeof **out);
  if (!*out) return SOS_ENOMEM;
  for (uint32_t i = 0; i < n; i++) {
    struct sos_wasm_name mod, field;
    struct sos_wasm_externtype t;
    sos_wasm_module_import(m, i, &mod, &field, &t);
    if (resolve(r, mod, field, &(*out)[i]) != 0) {
      snprintf(L->err, sizeof L->err, "unknown import \"%.*s\" \"%.*s\"", (int)mod.len,
               mod.p, (int)field.len, field.p);
      return SOS_ELINK;
    }
  }
  return 0;
}

/* Links and instantiates m (and frees it).  Keeps any instance made. */
static void instantiate(struct runner *r, sos_wasm_module *m, struct loaded *L) {
  struct sos_wasm_extern *imports;
  L->stage = ST_LINK;
  L->rc = link_imports(r, m, &imports, L);
  if (L->rc == 0)
    L->rc = sos_wasm_instance_new(m, NULL, imports, sos_wasm_module_import_count(m),
                                  &L->in, L->err, sizeof L->err);
  sos_free(imports);
  sos_wasm_module_free(m);
  /* An instance that trapped in a segment may still be referenced from a
   * table it wrote to; if the engine hands it back, keep it to the end. */
  if (L->in && !keep_instance(r, L->in)) {
    sos_wasm_instance_free(L->in);
    L->in = NULL;
    L->rc = SOS_ENOMEM;
  }
}

/* Runs the instance's start function, if any. */
static void start(struct loaded *L) {
  sos_wasm_func *f = sos_wasm_instance_start(L->in);
  L->stage = ST_START;
  if (f) L->rc = sos_wasm_call(L->in, f, NULL, 0, NULL, 0, &L->trap);
  if (L->rc == SOS_ETRAP) snprintf(L->err, sizeof L->err, "trap: %s", L->trap.message);
  else if (L->rc) snprintf(L->err, sizeof L->err, "call failed");
  else L->stage = ST_OK;
}

/* Decodes, links, instantiates and starts the module a command names.
 * link_only stops after instantiation. */
static void load(struct runner *r, const cJSON *c, bool link_only, struct loaded *L) {
  memset(L, 0, sizeof *L);
  sos_wasm_module *m = decode(r, c, L);
  if (!m) return;
  instantiate(r, m, L);
  if (L->rc == 0 && !link_only) start(L);
  else if (L->rc == 0) L->stage = ST_OK;
}

static const char *stage_name(int stage) {
  static const char *names[] = {"reading", "decoding", "instantiation", "start function"};
  return stage < ST_OK ? names[stage] : "nothing";
}

/* ---- actions ------------------------------------------------------------------- */

/* The instance an action or register names (or the current one). */
static sos_wasm_instance *target(const struct runner *r, const char *name, char *err,
                                 size_t errlen) {
  if (!name) {
    if (!r->current) snprintf(err, errlen, "no current module (the last one failed)");
    return r->current;
  }
  const struct binding *b = lookup(&r->named, name, strlen(name));
  if (!b || !b->in) snprintf(err, errlen, "module %s %s", name, b ? "failed to load" : "is unknown");
  return b ? b->in : NULL;
}

static int collect_args(const cJSON *action, sos_wasm_val *args, uint32_t *n, char *err) {
  const cJSON *a;
  *n = 0;
  cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(action, "args")) {
    if (*n == MAX_VALS || !parse_arg(a, &args[*n])) {
      snprintf(err, ERRLEN, "cannot pass argument %u", (unsigned)*n);
      return SOS_EINVAL;
    }
    (*n)++;
  }
  return 0;
}

static int invoke(sos_wasm_instance *in, sos_wasm_func *f, const cJSON *action,
                  struct outcome *o) {
  sos_wasm_val args[MAX_VALS];
  uint32_t nargs;
  const struct sos_wasm_functype *t = sos_wasm_func_type(f);
  if (collect_args(action, args, &nargs, o->err)) return SOS_EINVAL;
  if (t->nresults > MAX_VALS) {
    snprintf(o->err, sizeof o->err, "too many results (%u)", (unsigned)t->nresults);
    return SOS_EINVAL;
  }
  o->n = t->nresults;
  if (o->n) memcpy(o->types, t->results, o->n);
  int rc = sos_wasm_call(in, f, args, nargs, o->vals, MAX_VALS, &o->trap);
  if (rc == SOS_ETRAP) snprintf(o->err, sizeof o->err, "trap: %s", o->trap.message);
  else if (rc) snprintf(o->err, sizeof o->err, "call failed: %s", sos_err_name(rc));
  return rc;
}

/* Performs an invoke or get action; the outcome says what happened. */
static void act(const struct runner *r, const cJSON *action, struct outcome *o) {
  memset(o, 0, sizeof *o);
  o->rc = SOS_EINVAL;
  sos_wasm_instance *in = target(r, jstr(action, "module"), o->err, sizeof o->err);
  const char *type = jstr(action, "type"), *field = jstr(action, "field");
  if (!in || !type || !field) return;
  size_t len;
  char *name = unhide_nuls(r, field, &len);
  struct sos_wasm_extern ext;
  if (!name) {
    o->rc = SOS_ENOMEM;
  } else if (sos_wasm_instance_export(in, name, len, &ext) != 0) {
    snprintf(o->err, sizeof o->err, "no such export");
  } else if (!strcmp(type, "invoke") && ext.kind == SOS_WASM_EXTERN_FUNC) {
    o->rc = invoke(in, ext.u.func, action, o);
  } else if (!strcmp(type, "get") && ext.kind == SOS_WASM_EXTERN_GLOBAL) {
    o->n = 1, o->rc = 0;
    o->vals[0] = sos_wasm_global_get(ext.u.global);
    o->types[0] = sos_wasm_global_type(ext.u.global);
  } else {
    snprintf(o->err, sizeof o->err, "cannot %s an export of kind %u", type, (unsigned)ext.kind);
  }
  sos_free(name);
}

/* Copies name to buf for messages, at most 60 bytes of it, with bytes
 * outside printable ASCII written as \xx. */
static void printable(char *buf, size_t n, const char *name) {
  size_t at = 0;
  for (size_t i = 0; name[i] && i < 60 && at + 4 < n; i++) {
    unsigned char ch = (unsigned char)name[i];
    if (ch >= 0x20 && ch < 0x7f && ch != '\\' && ch != '"') buf[at++] = (char)ch;
    else at += (size_t)snprintf(buf + at, n - at, "\\%02x", ch);
  }
  buf[at] = 0;
}

/* A short description of an action for messages: invoke "f" or get "g". */
static void describe(char *buf, size_t n, const cJSON *action) {
  const char *type = jstr(action, "type"), *field = jstr(action, "field");
  const char *mod = jstr(action, "module");
  char name[256];
  printable(name, sizeof name, field ? field : "?");
  snprintf(buf, n, "%s %s%s\"%s\"", type ? type : "?", mod ? mod : "", mod ? " " : "", name);
}

/* ---- commands ---------------------------------------------------------------- */

static void cmd_module(struct runner *r, const cJSON *c, int line) {
  struct loaded L;
  const char *name = jstr(c, "name");
  load(r, c, false, &L);
  r->current = L.stage == ST_OK ? L.in : NULL;
  if (name && !bind_name(&r->named, name, r->current)) failf(r, line, "out of memory");
  if (L.stage == ST_OK) pass(r);
  else
    failf(r, line, "module %s: %s failed: %s: %s", jstr(c, "filename"), stage_name(L.stage),
        sos_err_name(L.rc), L.err);
}

static void cmd_register(struct runner *r, const cJSON *c, int line) {
  char err[ERRLEN];
  const char *as = jstr(c, "as");
  sos_wasm_instance *in = target(r, jstr(c, "name"), err, sizeof err);
  if (!in) failf(r, line, "register \"%s\": %s", as ? as : "?", err);
  else if (!as || !bind_name(&r->registered, as, in)) failf(r, line, "register failed");
}

static void cmd_action(struct runner *r, const cJSON *c, int line) {
  struct outcome o;
  char what[400];
  const cJSON *action = cJSON_GetObjectItemCaseSensitive(c, "action");
  act(r, action, &o);
  describe(what, sizeof what, action);
  if (o.rc == 0) pass(r);
  else failf(r, line, "%s: %s", what, o.err);
}

static bool results_match(const struct outcome *o, const cJSON *exp) {
  if ((int)o->n != cJSON_GetArraySize(exp)) return false;
  const cJSON *e;
  uint32_t i = 0;
  cJSON_ArrayForEach(e, exp) {
    if (!val_matches(e, o->types[i], o->vals[i])) return false;
    i++;
  }
  return true;
}

static void cmd_assert_return(struct runner *r, const cJSON *c, int line) {
  struct outcome o;
  char what[400], want[512], got[512];
  const cJSON *action = cJSON_GetObjectItemCaseSensitive(c, "action");
  const cJSON *exp = cJSON_GetObjectItemCaseSensitive(c, "expected");
  act(r, action, &o);
  if (o.rc == 0 && results_match(&o, exp)) {
    pass(r);
    return;
  }
  describe(what, sizeof what, action);
  format_expected(want, sizeof want, exp);
  if (o.rc == 0) format_results(got, sizeof got, &o);
  failf(r, line, "%s: expected (%s), got %s%s%s", what, want, o.rc ? "" : "(",
        o.rc ? o.err : got, o.rc ? "" : ")");
}

/* assert_trap on a module: instantiation or its start function traps. */
static void trap_module(struct runner *r, const cJSON *c, int line, const char *text) {
  struct loaded L;
  load(r, c, false, &L);
  if ((L.stage == ST_LINK || L.stage == ST_START) && L.rc == SOS_ETRAP) {
    pass(r);
    return;
  }
  failf(r, line, "module %s: expected trap \"%s\", got %s%s%s", jstr(c, "filename"), text,
        L.stage == ST_OK ? "a working instance" : sos_err_name(L.rc),
        L.stage == ST_OK ? "" : ": ", L.stage == ST_OK ? "" : L.err);
}

static void cmd_assert_trap(struct runner *r, const cJSON *c, int line, bool exhaustion) {
  struct outcome o;
  char what[400];
  const char *text = jstr(c, "text");
  const cJSON *action = cJSON_GetObjectItemCaseSensitive(c, "action");
  if (!text) text = "";
  if (!action) {
    trap_module(r, c, line, text);
    return;
  }
  act(r, action, &o);
  if (o.rc == SOS_ETRAP &&
      (exhaustion ? o.trap.kind == SOS_WASM_TRAP_STACK
                  : !strncmp(o.trap.message, text, strlen(text)))) {
    pass(r);
    return;
  }
  describe(what, sizeof what, action);
  if (o.rc == SOS_ETRAP)
    failf(r, line, "%s: expected trap \"%s\", got trap \"%s\" (kind %s)", what, text,
          o.trap.message, sos_wasm_trap_name(o.trap.kind));
  else
    failf(r, line, "%s: expected trap \"%s\", got %s", what, text,
          o.rc ? o.err : "a normal return");
}

/* assert_invalid and assert_malformed: decoding must fail. */
static void cmd_assert_bad(struct runner *r, const cJSON *c, int line) {
  const char *mt = jstr(c, "module_type");
  struct loaded L;
  if (mt && !strcmp(mt, "text")) {
    r->skip++; /* SOS loads binary modules only */
    return;
  }
  memset(&L, 0, sizeof L);
  sos_wasm_module *m = decode(r, c, &L);
  if (L.stage == ST_DECODE && L.rc != 0) {
    pass(r);
    return;
  }
  sos_wasm_module_free(m);
  failf(r, line, "%s %s: expected \"%s\", got %s", jstr(c, "type"), jstr(c, "filename"),
        jstr(c, "text"), L.stage == ST_READ ? L.err : "a valid module");
}

static void cmd_assert_unlinkable(struct runner *r, const cJSON *c, int line) {
  struct loaded L;
  load(r, c, true, &L);
  if (L.stage == ST_LINK && L.rc == SOS_ELINK) {
    pass(r);
    return;
  }
  failf(r, line, "module %s: expected unlinkable (\"%s\"), got %s%s%s", jstr(c, "filename"),
        jstr(c, "text"), L.stage == ST_OK ? "a working instance" : sos_err_name(L.rc),
        L.stage == ST_OK ? "" : ": ", L.stage == ST_OK ? "" : L.err);
}

static void cmd_assert_trap_plain(struct runner *r, const cJSON *c, int line) {
  cmd_assert_trap(r, c, line, false);
}

static void cmd_assert_exhaustion(struct runner *r, const cJSON *c, int line) {
  cmd_assert_trap(r, c, line, true);
}

static void cmd_assert_uninstantiable(struct runner *r, const cJSON *c, int line) {
  const char *text = jstr(c, "text");
  trap_module(r, c, line, text ? text : "");
}

static const struct {
  const char *type;
  void (*run)(struct runner *r, const cJSON *c, int line);
} COMMANDS[] = {
    {"module", cmd_module},
    {"register", cmd_register},
    {"action", cmd_action},
    {"assert_return", cmd_assert_return},
    {"assert_trap", cmd_assert_trap_plain},
    {"assert_exhaustion", cmd_assert_exhaustion},
    {"assert_invalid", cmd_assert_bad},
    {"assert_malformed", cmd_assert_bad},
    {"assert_unlinkable", cmd_assert_unlinkable},
    {"assert_uninstantiable", cmd_assert_uninstantiable},
};

static void run_command(struct runner *r, const cJSON *c) {
  const char *type = jstr(c, "type");
  int line = jline(c);
  cur_line = line;
  for (size_t i = 0; type && i < sizeof COMMANDS / sizeof COMMANDS[0]; i++) {
    if (!strcmp(type, COMMANDS[i].type)) {
      COMMANDS[i].run(r, c, line);
      return;
    }
  }
  failf(r, line, "unknown command \"%s\"", type ? type : "(none)");
}

/* ---- main ------------------------------------------------------------------------ */

/* Fills the runner's folder and name from the JSON file's path. */
static void name_files(struct runner *r, const char *path) {
  static char dir[4096], name[256], source[300];
  const char *slash = strrchr(path, '/');
  snprintf(name, sizeof name, "%s", slash ? slash + 1 : path);
  char *dot = strrchr(name, '.');
  if (dot && !strcmp(dot, ".json")) *dot = 0;
  snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
  if (!dir[0]) snprintf(dir, sizeof dir, "/");
  snprintf(source, sizeof source, "%s.wast", name);
  r->dir = dir, r->name = name, r->source = source;
}

static void runner_free(struct runner *r) {
  for (uint32_t i = r->ninsts; i-- > 0;) sos_wasm_instance_free(r->insts[i]);
  sos_free(r->insts);
  bindings_free(&r->named);
  bindings_free(&r->registered);
  spectest_free(r);
}

static void *json_malloc(size_t n) { return sos_malloc(n); }
static void json_free(void *p) { sos_free(p); }

/* Parses the script, with NULs in strings protected (see choose_marker). */
static cJSON *parse_script(struct runner *r, const char *path) {
  uint8_t *data;
  size_t len;
  if (sos_file_read(path, &data, &len) != 0) return NULL;
  char *text = (char *)data; /* NUL-terminated by sos_file_read */
  r->marker = choose_marker(text, len);
  hide_nuls(text, len, r->marker);
  cJSON_Hooks hooks = {json_malloc, json_free};
  cJSON_InitHooks(&hooks);
  cJSON *j = cJSON_ParseWithLength(text, len);
  sos_free(text);
  return j;
}

static void run_script(struct runner *r, const cJSON *script) {
  static char source[256];
  const char *src = jstr(script, "source_filename");
  const char *slash = src ? strrchr(src, '/') : NULL;
  if (src) snprintf(source, sizeof source, "%s", slash ? slash + 1 : src);
  if (src) r->source = source;
  const cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(script, "commands")) run_command(r, c);
}

int main(int argc, char **argv) {
  static struct runner r;
  int argi = 1;
  if (argi < argc && !strcmp(argv[argi], "-a")) r.show_all = true, argi++;
  if (argi + 1 != argc) {
    fprintf(stderr, "usage: %s [-a] FILE.json   (-a: describe every failure)\n", argv[0]);
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  name_files(&r, argv[argi]);
  the_runner = &r;
  install_handlers();
  alarm(TIME_LIMIT);
  cJSON *script = parse_script(&r, argv[argi]);
  if (!script) {
    fprintf(stderr, "%s: cannot read or parse %s\n", argv[0], argv[argi]);
    return 2;
  }
  if (!spectest_new(&r)) failf(&r, 0, "cannot make the spectest module (out of memory)");
  else run_script(&r, script);
  runner_free(&r);
  cJSON_Delete(script);
  print_summary(&r);
  return r.fail ? 1 : 0;
}

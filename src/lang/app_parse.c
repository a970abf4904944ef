/*
 * app_parse.c - parsing one app definition (`app.sos`) into a struct
 * sos_app, without following `extends` (app_load.c does that).
 *
 * A recursive-descent parser over the lexer's tokens with one token of
 * look-ahead; comments are skipped here (only the formatter keeps them).
 * The grammar (docs/language.md) is statement-oriented: a block is a list
 * of statements separated by newlines or `;`, and each statement starts
 * with a keyword.  Keywords are looked up in a table per block (the app
 * body, a service body), so a later issue adds a statement by adding a
 * row and a function; keywords are not reserved words, since they are
 * only recognised where a statement starts.  An unknown keyword gets a
 * did-you-mean from the same table.  A struct body is the one block
 * without keywords: each of its statements is a field, `id: u64 = 1`.
 *
 * Everything one file alone can get wrong is reported here, with the
 * position of the token at fault: malformed names, values out of range,
 * a statement or field given twice, duplicate names in a list, module
 * and sources together, a table whose struct (declared in the same file)
 * lacks its key or index fields.  Whether the definition is complete (it
 * has code and a service, every table's struct exists) can only be
 * decided once `extends` is resolved, so sos_app_load checks that; for
 * it the parser records where each table's struct, key and indexes are
 * written (struct sos__app_info).
 *
 * The struct is built as parsing goes; on any error the partly built
 * struct is freed whole, which works because every array count is raised
 * only when its slot is zeroed and every pointer starts NULL.
 */
#include "lang/lang.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct parser;
typedef int (*stmt_fn)(struct parser *p, void *ctx);

/* One statement of a block: its keyword and the function that parses the
 * rest of it (the keyword is the current token when it is called). */
struct stmt {
  const char *keyword;
  stmt_fn parse;
};

/* A kind of block: its statements and how its messages call it. */
struct block {
  const struct stmt *stmts;
  const char *const *keywords; /* the same keywords, NULL-ended */
  const char *name;            /* "app", "service", "struct" */
  const char *what;            /* "statement", "service field", "field" */
  const char *example;         /* a statement to show in messages */
  stmt_fn any; /* when stmts is NULL: parses every statement (struct fields) */
};

struct parser {
  struct sos__lex lx;
  struct sos__tok tok; /* the current token, never a comment */
  struct sos_app *app;
  uint8_t *given; /* per service: SOS__APP_GIVES_* */
  uint32_t ngiven;
  struct sos__app_table_pos *tables; /* per store */
  uint32_t ntables;
  struct sos_app_pos app_pos, extends_pos, module_pos, sources_pos;
  const char *pkg; /* the trailing `package` block being parsed, or NULL */
  const char *file;
  char *err;
  size_t errlen;
};

/* The struct block being parsed: its index, and the 1-based index of the
 * union whose variants are being parsed (0 outside a union). */
struct struct_ctx {
  uint32_t index;
  uint16_t group;
};

/* The service block being parsed: its index and where each field was. */
struct service_ctx {
  uint32_t index;
  struct sos_app_pos field_pos[6]; /* line 0: not given yet */
};

/* ---- tokens and messages ------------------------------------------------- */

/* Moves to the next token that is not a comment. */
static int next(struct parser *p) {
  int rc;
  do rc = sos__lex_next(&p->lx, &p->tok);
  while (rc == 0 && p->tok.kind == SOS__TOK_COMMENT);
  return rc;
}

static int fail(struct parser *p, struct sos_app_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct parser *p, struct sos_app_pos pos, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return sos__lang_error(p->err, p->errlen, p->file, pos, "%s", msg);
}

/* "expected WHAT, found <the current token>". */
static int expected(struct parser *p, const char *what) {
  char found[96];
  return fail(p, p->tok.pos, "expected %s, found %s", what,
              sos__tok_describe(&p->tok, found, sizeof found));
}

static int no_memory(struct parser *p) {
  if (p->err && p->errlen) snprintf(p->err, p->errlen, "%s: out of memory", p->file);
  return SOS_ENOMEM;
}

static bool is_word(const struct sos__tok *t, const char *w) {
  return t->kind == SOS__TOK_IDENT && t->len == strlen(w) && memcmp(t->p, w, t->len) == 0;
}

static bool ends_statement(enum sos__tok_kind k) {
  return k == SOS__TOK_NEWLINE || k == SOS__TOK_SEMI || k == SOS__TOK_RBRACE ||
         k == SOS__TOK_EOF;
}

/* Skips statement separators: newlines and `;`. */
static int skip_separators(struct parser *p) {
  int rc = 0;
  while (rc == 0 && (p->tok.kind == SOS__TOK_NEWLINE || p->tok.kind == SOS__TOK_SEMI))
    rc = next(p);
  return rc;
}

/* ---- names, strings and lists --------------------------------------------- */

/* The kinds of names, each with its own spelling rule. */
enum name_kind {
  NAME_LOWER, /* apps, services, stores: [a-z][a-z0-9-]* */
  NAME_ENV,   /* env parameters: [A-Za-z_][A-Za-z0-9_]* */
  NAME_TYPE,  /* structs: [A-Z][A-Za-z0-9]* */
  NAME_FIELD, /* struct fields: [a-z_][a-z0-9_]* */
};

static const char *const name_rules[] = {
    "use lower-case letters, digits and \"-\", starting with a letter",
    "use letters, digits and \"_\", not starting with a digit",
    "use letters and digits, starting with an upper-case letter",
    "use lower-case letters, digits and \"_\", not starting with a digit",
};

/* Whether c may be in a name of kind k (first: as its first character). */
static bool name_char(enum name_kind k, char c, bool first) {
  bool lower = c >= 'a' && c <= 'z', upper = c >= 'A' && c <= 'Z',
       digit = c >= '0' && c <= '9';
  switch (k) {
  case NAME_LOWER: return lower || (!first && (digit || c == '-'));
  case NAME_ENV: return lower || upper || c == '_' || (digit && !first);
  case NAME_TYPE: return upper || (!first && (lower || digit));
  default: return lower || c == '_' || (digit && !first);
  }
}

/* Whether t is a name of kind k: its rule, at most 63 bytes. */
static bool name_ok(const struct sos__tok *t, enum name_kind k) {
  if (t->len > SOS__APP_MAX_NAME) return false;
  for (size_t i = 0; i < t->len; i++)
    if (!name_char(k, t->p[i], i == 0)) return false;
  return true;
}

/* Reads a name of kind k into *out; noun ("app name", "env name") names
 * it in messages. */
static int take_name(struct parser *p, const char *noun, enum name_kind k, char **out) {
  char shown[64], what[64];
  if (p->tok.kind != SOS__TOK_IDENT) {
    snprintf(what, sizeof what, "%s %s", strchr("aeiou", noun[0]) ? "an" : "a", noun);
    return expected(p, what);
  }
  if (!name_ok(&p->tok, k))
    return fail(p, p->tok.pos, "bad %s \"%s\": %s (at most 63)", noun,
                sos__lang_show(p->tok.p, p->tok.len, shown, sizeof shown), name_rules[k]);
  if (!(*out = sos_strndup(p->tok.p, p->tok.len))) return no_memory(p);
  return next(p);
}

/* Reads a non-empty string (a path) into *out; example shows one. */
static int take_path(struct parser *p, const char *example, char **out) {
  if (p->tok.kind != SOS__TOK_STRING) return expected(p, example);
  if (p->tok.len == 2) return fail(p, p->tok.pos, "a path cannot be empty");
  if (sos__lex_string(&p->tok, out)) return no_memory(p);
  return next(p);
}

/* Whether s is among the n strings of list. */
static bool listed(char *const *list, uint32_t n, const char *s) {
  for (uint32_t i = 0; i < n; i++)
    if (strcmp(list[i], s) == 0) return true;
  return false;
}

/* What a list holds. */
enum entry { E_PATH, E_SERVICE, E_SECRET, E_ORIGIN };

/* Whether s is an egress entry: HOST[:PORT] (HTTPS to it), or an origin
 * http://HOST[:PORT] or https://HOST[:PORT] without a path. */
static bool origin_ok(const char *s) {
  const char *h = !strncmp(s, "https://", 8) ? s + 8 : !strncmp(s, "http://", 7) ? s + 7 : s;
  size_t n = strlen(h), colons = 0;
  if (!n || n > 253 || h[0] == ':' || h[0] == '.' || h[n - 1] == ':') return false;
  for (const char *c = h; *c; c++) {
    bool ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '.' || *c == '-';
    if (*c == ':') colons++;
    else if (!ok || (colons && !(*c >= '0' && *c <= '9'))) return false;
  }
  return colons <= 1;
}

/* Reads one entry of kind e into *s. */
static int take_entry(struct parser *p, enum entry e, char **s) {
  struct sos_app_pos pos = p->tok.pos;
  int rc;
  switch (e) {
  case E_SERVICE: return take_name(p, "service name", NAME_LOWER, s);
  case E_SECRET: return take_name(p, "secret name", NAME_ENV, s);
  case E_ORIGIN:
    if (p->tok.kind != SOS__TOK_STRING)
      return expected(p, "a host in quotes, such as \"api.slack.com\"");
    if ((rc = take_path(p, "", s)) != 0) return rc;
    if (!origin_ok(*s))
      return fail(p, pos, "bad egress host \"%s\": write a lower-case host name, optionally "
                          "with :PORT, or http://HOST[:PORT] to allow plain HTTP", *s);
    return 0;
  default: return take_path(p, "a path in quotes, such as \"main.c\"", s);
  }
}

/* Appends one entry of kind e to a string list called what, refusing
 * duplicates. */
static int add_to_list(struct parser *p, char ***list, uint32_t *n, const char *what,
                       enum entry e) {
  struct sos_app_pos pos = p->tok.pos;
  char shown[64], *s = NULL;
  if (*n >= SOS__APP_MAX_ITEMS)
    return fail(p, pos, "too many entries in %s (at most %u)", what, SOS__APP_MAX_ITEMS);
  int rc = take_entry(p, e, &s);
  if (rc) {
    sos_free(s);
    return rc;
  }
  if (listed(*list, *n, s)) {
    rc = fail(p, pos, "\"%s\" is listed twice in %s",
              sos__lang_show(s, strlen(s), shown, sizeof shown), what);
    sos_free(s);
    return rc;
  }
  char **slot = sos__app_push(list, n, sizeof *slot);
  if (!slot) {
    sos_free(s);
    return no_memory(p);
  }
  *slot = s;
  return 0;
}

/* ---- app statements --------------------------------------------------------- */

/* "module" STRING */
static int parse_module(struct parser *p, void *ctx) {
  struct sos_app_pos kw = p->tok.pos;
  (void)ctx;
  if (p->app->module)
    return fail(p, kw, "module is given twice (first at line %u)", p->module_pos.line);
  if (p->app->nsources)
    return fail(p, kw, "an app has a module or sources, not both (sources at line %u)",
                p->sources_pos.line);
  p->module_pos = kw;
  int rc = next(p);
  return rc ? rc : take_path(p, "the module's path in quotes, such as \"app.wasm\"",
                             &p->app->module);
}

/* ("sources" | "files") STRING { STRING } */
static int parse_paths(struct parser *p, char ***list, uint32_t *n, const char *what) {
  int rc = next(p);
  if (rc) return rc;
  if (p->tok.kind != SOS__TOK_STRING)
    return expected(p, "a path in quotes, such as \"main.c\"");
  while (rc == 0 && p->tok.kind == SOS__TOK_STRING) rc = add_to_list(p, list, n, what, E_PATH);
  return rc;
}

static int parse_sources(struct parser *p, void *ctx) {
  (void)ctx;
  if (p->app->module)
    return fail(p, p->tok.pos,
                "an app has a module or sources, not both (module at line %u)",
                p->module_pos.line);
  if (!p->app->nsources) p->sources_pos = p->tok.pos;
  return parse_paths(p, &p->app->sources, &p->app->nsources, "sources");
}

static int parse_files(struct parser *p, void *ctx) {
  (void)ctx;
  return parse_paths(p, &p->app->files, &p->app->nfiles, "files");
}

/* KEYWORD ENTRY { "," ENTRY }, with newlines allowed after a comma. */
static int parse_comma_list(struct parser *p, char ***list, uint32_t *n, const char *what,
                            enum entry e) {
  int rc = next(p);
  while (rc == 0) {
    rc = add_to_list(p, list, n, what, e);
    if (rc || p->tok.kind != SOS__TOK_COMMA) break;
    do rc = next(p);
    while (rc == 0 && p->tok.kind == SOS__TOK_NEWLINE);
  }
  return rc;
}

/* "uses" NAME { "," NAME } */
static int parse_uses(struct parser *p, void *ctx) {
  (void)ctx;
  return parse_comma_list(p, &p->app->uses, &p->app->nuses, "uses", E_SERVICE);
}

/* "secret" NAME { "," NAME }: secrets the app may read (sos secret set). */
static int parse_secret(struct parser *p, void *ctx) {
  (void)ctx;
  return parse_comma_list(p, &p->app->secrets, &p->app->nsecrets, "secret", E_SECRET);
}

/* "egress" STRING { "," STRING }: outside hosts the app may reach. */
static int parse_egress(struct parser *p, void *ctx) {
  (void)ctx;
  return parse_comma_list(p, &p->app->egress, &p->app->negress, "egress", E_ORIGIN);
}

/* "env" ENVNAME "=" STRING */
static int parse_env(struct parser *p, void *ctx) {
  struct sos_app *a = p->app;
  struct sos_app_pos pos;
  (void)ctx;
  int rc = next(p);
  if (rc) return rc;
  pos = p->tok.pos;
  if (a->nparams >= SOS__APP_MAX_ITEMS)
    return fail(p, pos, "too many env entries (at most %u)", SOS__APP_MAX_ITEMS);
  struct sos_app_param *e = sos__app_push(&a->params, &a->nparams, sizeof *e);
  if (!e) return no_memory(p);
  e->pos = pos;
  if ((rc = take_name(p, "env name", NAME_ENV, &e->name)) != 0) return rc;
  for (uint32_t i = 0; i + 1 < a->nparams; i++)
    if (strcmp(a->params[i].name, e->name) == 0)
      return fail(p, pos, "env %s is given twice (first at line %u)", e->name,
                  a->params[i].pos.line);
  if (p->tok.kind != SOS__TOK_EQUALS)
    return expected(p, "\"=\" after the name, as in env NAME = \"value\"");
  if ((rc = next(p)) != 0) return rc;
  if (p->tok.kind != SOS__TOK_STRING)
    return expected(p, "a value in quotes, such as \"hello\"");
  if (sos__lex_string(&p->tok, &e->value)) return no_memory(p);
  return next(p);
}

static int parse_block(struct parser *p, const struct block *b, struct sos_app_pos open,
                       void *ctx);
static const struct block service_block;

/* "service" NAME "{" { field } "}" */
static int parse_service(struct parser *p, void *ctx) {
  struct sos_app *a = p->app;
  (void)ctx;
  int rc = next(p);
  if (rc) return rc;
  struct sos_app_pos pos = p->tok.pos;
  if (a->nservices >= SOS__APP_MAX_ITEMS)
    return fail(p, pos, "too many services (at most %u)", SOS__APP_MAX_ITEMS);
  uint8_t *given = sos__app_push(&p->given, &p->ngiven, 1);
  struct sos_app_service *s =
      given ? sos__app_push(&a->services, &a->nservices, sizeof *s) : NULL;
  if (!s) return no_memory(p);
  *s = (struct sos_app_service){.min_instances = SOS__APP_DEF_MIN,
                                .max_instances = SOS__APP_DEF_MAX,
                                .memory = SOS__APP_DEF_MEMORY,
                                .timeout_ms = SOS__APP_DEF_TIMEOUT_MS,
                                .queue = SOS__APP_DEF_QUEUE,
                                .quota_bytes = SOS__APP_DEF_QUOTA,
                                .quota_keys = SOS__APP_DEF_KEYS,
                                .pos = pos};
  if ((rc = take_name(p, "service name", NAME_LOWER, &s->name)) != 0) return rc;
  for (uint32_t i = 0; i + 1 < a->nservices; i++)
    if (strcmp(a->services[i].name, s->name) == 0)
      return fail(p, pos, "service %s is declared twice (first at line %u)", s->name,
                  a->services[i].pos.line);
  if (is_word(&p->tok, "implements")) {
    if ((rc = next(p)) != 0 ||
        (rc = take_name(p, "interface name", NAME_TYPE, &s->implements)) != 0)
      return rc;
  }
  if (p->tok.kind != SOS__TOK_LBRACE)
    return expected(p, "\"{\" after the service name, on the same line");
  struct service_ctx sc = {.index = a->nservices - 1};
  struct sos_app_pos open = p->tok.pos;
  if ((rc = next(p)) != 0) return rc;
  return parse_block(p, &service_block, open, &sc);
}

/* ---- service fields --------------------------------------------------------- */

static const char *const field_names[] = {"instances", "memory", "timeout",
                                          "queue",     "quota",  "keys"};

/* Starts field f of the service in ctx: refuses a second one, records
 * where it is and moves to its value. */
static int begin_field(struct parser *p, struct service_ctx *sc, int f) {
  struct sos_app_pos *first = &sc->field_pos[f];
  if (first->line)
    return fail(p, p->tok.pos, "%s is given twice in service %s (first at line %u)",
                field_names[f], p->app->services[sc->index].name, first->line);
  *first = p->tok.pos;
  p->given[sc->index] |= (uint8_t)(1u << f);
  return next(p);
}

/* "instances" INT [ ".." INT ] */
static int parse_instances(struct parser *p, void *ctx) {
  struct service_ctx *sc = ctx;
  struct sos_app_service *s = &p->app->services[sc->index];
  int rc = begin_field(p, sc, 0);
  if (rc) return rc;
  if (p->tok.kind != SOS__TOK_INT) return expected(p, "an instance count such as 1..4");
  struct sos__tok min = p->tok, max = p->tok;
  if ((rc = next(p)) != 0) return rc;
  if (p->tok.kind == SOS__TOK_RANGE) {
    if ((rc = next(p)) != 0) return rc;
    if (p->tok.kind != SOS__TOK_INT)
      return expected(p, "the maximum after \"..\", as in instances 1..4");
    max = p->tok;
    if ((rc = next(p)) != 0) return rc;
  }
  if (max.value > SOS__APP_MAX_INSTANCES)
    return fail(p, max.pos, "at most %u instances", SOS__APP_MAX_INSTANCES);
  if (max.value == 0)
    return fail(p, max.pos, "the maximum must be at least 1, or the service never runs");
  if (min.value > max.value)
    return fail(p, min.pos, "the minimum (%llu) is more than the maximum (%llu)",
                (unsigned long long)min.value, (unsigned long long)max.value);
  s->min_instances = (uint32_t)min.value;
  s->max_instances = (uint32_t)max.value;
  return 0;
}

/* "memory" SIZE (a bare integer counts bytes) */
static int parse_memory(struct parser *p, void *ctx) {
  struct service_ctx *sc = ctx;
  int rc = begin_field(p, sc, 1);
  if (rc) return rc;
  if (p->tok.kind != SOS__TOK_SIZE && p->tok.kind != SOS__TOK_INT)
    return expected(p, "a size such as 16MiB");
  if (p->tok.value > SOS__APP_MAX_MEMORY)
    return fail(p, p->tok.pos, "memory is at most 4GiB");
  if (p->tok.value < SOS__APP_MIN_MEMORY)
    return fail(p, p->tok.pos, "memory is at least 64KiB (one WebAssembly page)");
  p->app->services[sc->index].memory = p->tok.value;
  return next(p);
}

/* "timeout" DURATION */
static int parse_timeout(struct parser *p, void *ctx) {
  struct service_ctx *sc = ctx;
  int rc = begin_field(p, sc, 2);
  if (rc) return rc;
  if (p->tok.kind == SOS__TOK_INT)
    return fail(p, p->tok.pos, "expected a duration such as 2s or 500ms; "
                               "give a unit: ms, s, m or h");
  if (p->tok.kind != SOS__TOK_DURATION)
    return expected(p, "a duration such as 2s or 500ms");
  if (p->tok.value == 0) return fail(p, p->tok.pos, "timeout must be more than 0");
  if (p->tok.value > SOS__APP_MAX_TIMEOUT_MS)
    return fail(p, p->tok.pos, "timeout is at most 1h");
  p->app->services[sc->index].timeout_ms = p->tok.value;
  return next(p);
}

/* "queue" INT */
static int parse_queue(struct parser *p, void *ctx) {
  struct service_ctx *sc = ctx;
  int rc = begin_field(p, sc, 3);
  if (rc) return rc;
  if (p->tok.kind != SOS__TOK_INT) return expected(p, "a queue length such as 64");
  if (p->tok.value > SOS__APP_MAX_QUEUE)
    return fail(p, p->tok.pos, "queue is at most %u", SOS__APP_MAX_QUEUE);
  p->app->services[sc->index].queue = (uint32_t)p->tok.value;
  return next(p);
}

/* "quota" SIZE (a bare integer counts bytes) */
static int parse_quota(struct parser *p, void *ctx) {
  struct service_ctx *sc = ctx;
  int rc = begin_field(p, sc, 4);
  if (rc) return rc;
  if (p->tok.kind != SOS__TOK_SIZE && p->tok.kind != SOS__TOK_INT)
    return expected(p, "a size such as 64MiB");
  if (p->tok.value > SOS__APP_MAX_QUOTA) return fail(p, p->tok.pos, "quota is at most 1TiB");
  p->app->services[sc->index].quota_bytes = p->tok.value;
  return next(p);
}

/* "keys" INT */
static int parse_keys(struct parser *p, void *ctx) {
  struct service_ctx *sc = ctx;
  int rc = begin_field(p, sc, 5);
  if (rc) return rc;
  if (p->tok.kind != SOS__TOK_INT) return expected(p, "a number of keys such as 1000000");
  if (p->tok.value > SOS__APP_MAX_KEYS)
    return fail(p, p->tok.pos, "keys is at most %u", SOS__APP_MAX_KEYS);
  p->app->services[sc->index].quota_keys = p->tok.value;
  return next(p);
}

/* ---- structs -------------------------------------------------------------------- */

/* Writes "a, b or c" of the NULL-ended words into buf (n bytes). */
static const char *word_list(const char *const *words, char *buf, size_t n) {
  size_t o = 0;
  buf[0] = 0;
  for (const char *const *k = words; *k && o < n; k++) {
    int w = snprintf(buf + o, n - o, "%s%s", *k, !k[1] ? "" : k[2] ? ", " : " or ");
    o += w > 0 ? (size_t)w : 0;
  }
  return buf;
}

/* Reports the current token as an unknown what (a "type", a "store
 * type") among words, with a suggestion or else the list of words.
 * aliases (NULL-ended pairs, may be NULL) suggest a word for names other
 * languages use. */
static int unknown_word(struct parser *p, const char *what, const char *const *words,
                        const char *const (*aliases)[2]) {
  char shown[64], list[256];
  const char *hint = sos__lang_suggest(p->tok.p, p->tok.len, words);
  for (; !hint && aliases && (*aliases)[0]; aliases++)
    if (is_word(&p->tok, (*aliases)[0])) hint = (*aliases)[1];
  sos__lang_show(p->tok.p, p->tok.len, shown, sizeof shown);
  if (hint)
    return fail(p, p->tok.pos, "unknown %s \"%s\"; did you mean \"%s\"?", what, shown, hint);
  return fail(p, p->tok.pos, "unknown %s \"%s\"; expected %s", what, shown,
              word_list(words, list, sizeof list));
}

/* Reads a scalar type or a type name (a struct or an enum, told apart
 * once every declaration is known: see sos__app_resolve) into f. */
static int take_base_type(struct parser *p, struct sos_app_field *f) {
  static const char *const aliases[][2] = {{"string", "text"}, {"str", "text"},
                                           {"boolean", "bool"}, {"blob", "bytes"},
                                           {"float", "f32"},    {"double", "f64"},
                                           {NULL, NULL}};
  if (p->tok.kind != SOS__TOK_IDENT)
    return expected(p, "a type such as u64, text or a struct's name");
  if ((f->type = sos__app_type(p->tok.p, p->tok.len)) != 0) return next(p);
  if (!name_ok(&p->tok, NAME_TYPE)) return unknown_word(p, "type", sos__app_type_names, aliases);
  f->type = SOS_APP_T_STRUCT;
  return take_name(p, "type name", NAME_TYPE, &f->type_name);
}

/* TYPE = [ "optional" ] ( "list" "<" BASE ">" | BASE ), into f.  A union
 * variant (in_union) is neither optional nor a list. */
static int take_type(struct parser *p, struct sos_app_field *f, bool in_union) {
  int rc;
  if (is_word(&p->tok, "optional")) {
    if (in_union)
      return fail(p, p->tok.pos, "a union's variants are optional already");
    f->flags |= SOS_APP_F_OPTIONAL;
    if ((rc = next(p)) != 0) return rc;
  }
  if (!is_word(&p->tok, "list")) return take_base_type(p, f);
  if (in_union) return fail(p, p->tok.pos, "a union's variant cannot be a list");
  if (f->flags & SOS_APP_F_OPTIONAL)
    return fail(p, p->tok.pos, "a list cannot be optional: an empty list is its absence");
  f->flags |= SOS_APP_F_LIST;
  if ((rc = next(p)) != 0) return rc;
  if (p->tok.kind != SOS__TOK_LANGLE)
    return expected(p, "\"<\" and the element type, as in list<text>");
  if ((rc = next(p)) != 0) return rc;
  if (is_word(&p->tok, "list") || is_word(&p->tok, "optional"))
    return fail(p, p->tok.pos, "a list's elements are a plain type; for a list of lists, "
                               "use a list of a struct that holds a list");
  if ((rc = take_base_type(p, f)) != 0) return rc;
  if (p->tok.kind != SOS__TOK_RANGLE) return expected(p, "\">\" to close list<...>");
  return next(p);
}

/* Whether the token after the current one is a `:` (a field named like a
 * keyword) rather than what the keyword starts. */
static bool colon_follows(struct parser *p) {
  struct sos__lex peek = p->lx;
  struct sos__tok t;
  char err[8];
  peek.err = err;
  peek.errlen = sizeof err;
  do
    if (sos__lex_next(&peek, &t)) return false;
  while (t.kind == SOS__TOK_COMMENT);
  return t.kind == SOS__TOK_COLON;
}

static int parse_union(struct parser *p, struct struct_ctx *sc);

/* FIELD ":" TYPE "=" INTEGER, or a union, in the struct of ctx. */
static int parse_field(struct parser *p, void *ctx) {
  struct struct_ctx *sc = ctx;
  struct sos_app_struct *st = &p->app->structs[sc->index];
  struct sos_app_pos pos = p->tok.pos;
  if (is_word(&p->tok, "union") && !colon_follows(p)) return parse_union(p, sc);
  if (st->nfields >= SOS__APP_MAX_ITEMS)
    return fail(p, pos, "too many fields in struct %s (at most %u)", st->name,
                SOS__APP_MAX_ITEMS);
  struct sos_app_field *f = sos__app_push(&st->fields, &st->nfields, sizeof *f);
  if (!f) return no_memory(p);
  f->pos = pos;
  f->group = sc->group;
  int rc = take_name(p, "field name", NAME_FIELD, &f->name);
  if (rc) return rc;
  for (uint32_t i = 0; i + 1 < st->nfields; i++)
    if (strcmp(st->fields[i].name, f->name) == 0)
      return fail(p, pos, "field %s is declared twice in struct %s (first at line %u)",
                  f->name, st->name, st->fields[i].pos.line);
  for (uint32_t i = 0; i < st->nunions; i++)
    if (strcmp(st->unions[i], f->name) == 0)
      return fail(p, pos, "struct %s has a union named %s already", st->name, f->name);
  if (p->tok.kind != SOS__TOK_COLON)
    return expected(p, "\":\" and a type after the field name, as in id: u64 = 1");
  if ((rc = next(p)) != 0 || (rc = take_type(p, f, sc->group != 0)) != 0) return rc;
  if (p->tok.kind != SOS__TOK_EQUALS)
    return expected(p, "\"=\" and the field number after the type, as in id: u64 = 1");
  if ((rc = next(p)) != 0) return rc;
  if (p->tok.kind != SOS__TOK_INT) return expected(p, "a field number such as 1");
  if (p->tok.value == 0 || p->tok.value > SOS__APP_MAX_TAG)
    return fail(p, p->tok.pos, "a field number is 1 to %u", SOS__APP_MAX_TAG);
  f->tag = (uint32_t)p->tok.value;
  for (uint32_t i = 0; i + 1 < st->nfields; i++)
    if (st->fields[i].tag == f->tag)
      return fail(p, p->tok.pos, "field number %u is used twice in struct %s (first by %s "
                                 "at line %u)",
                  f->tag, st->name, st->fields[i].name, st->fields[i].pos.line);
  return next(p);
}

static const struct block struct_block, union_block, enum_block, interface_block;
static int type_name_taken(struct parser *p, const char *kind, const char *name,
                           struct sos_app_pos pos, const void *self);
static int set_package(struct parser *p, char **pkg);

/* "struct" TYPENAME "{" { field } "}" */
static int parse_struct(struct parser *p, void *ctx) {
  struct sos_app *a = p->app;
  (void)ctx;
  int rc = next(p);
  if (rc) return rc;
  struct sos_app_pos pos = p->tok.pos;
  if (a->nstructs >= SOS__APP_MAX_ITEMS)
    return fail(p, pos, "too many structs (at most %u)", SOS__APP_MAX_ITEMS);
  struct sos_app_struct *st = sos__app_push(&a->structs, &a->nstructs, sizeof *st);
  if (!st) return no_memory(p);
  st->pos = pos;
  if ((rc = take_name(p, "struct name", NAME_TYPE, &st->name)) != 0 ||
      (rc = type_name_taken(p, "struct", st->name, pos, st)) != 0 ||
      (rc = set_package(p, &st->package)) != 0)
    return rc;
  if (p->tok.kind != SOS__TOK_LBRACE)
    return expected(p, "\"{\" after the struct name, on the same line");
  struct struct_ctx sc = {.index = a->nstructs - 1};
  struct sos_app_pos open = p->tok.pos;
  if ((rc = next(p)) != 0) return rc;
  return parse_block(p, &struct_block, open, &sc);
}

/* "union" NAME "{" { field } "}" inside a struct: fields of which at
 * most one is set. */
static int parse_union(struct parser *p, struct struct_ctx *sc) {
  struct sos_app_struct *st = &p->app->structs[sc->index];
  if (sc->group) return fail(p, p->tok.pos, "a union cannot hold another union");
  int rc = next(p);
  if (rc) return rc;
  struct sos_app_pos pos = p->tok.pos;
  if (st->nunions >= 0xffff) return fail(p, pos, "too many unions in struct %s", st->name);
  char **slot = sos__app_push(&st->unions, &st->nunions, sizeof *slot);
  if (!slot) return no_memory(p);
  if ((rc = take_name(p, "union name", NAME_FIELD, slot)) != 0) return rc;
  for (uint32_t i = 0; i + 1 < st->nunions; i++)
    if (strcmp(st->unions[i], *slot) == 0)
      return fail(p, pos, "union %s is declared twice in struct %s", *slot, st->name);
  for (uint32_t i = 0; i < st->nfields; i++)
    if (strcmp(st->fields[i].name, *slot) == 0)
      return fail(p, pos, "struct %s has a field named %s already", st->name, *slot);
  if (p->tok.kind != SOS__TOK_LBRACE)
    return expected(p, "\"{\" after the union name, on the same line");
  struct struct_ctx inner = {.index = sc->index, .group = (uint16_t)st->nunions};
  struct sos_app_pos open = p->tok.pos;
  if ((rc = next(p)) != 0 || (rc = parse_block(p, &union_block, open, &inner)) != 0)
    return rc;
  for (uint32_t i = 0; i < st->nfields; i++)
    if (st->fields[i].group == inner.group) return 0;
  return fail(p, open, "union %s has no variant", *slot);
}

/* Whether name is taken by a struct, an enum or an interface declared
 * before; if so reports it at pos. */
static int type_name_taken(struct parser *p, const char *kind, const char *name,
                           struct sos_app_pos pos, const void *self) {
  const struct sos_app *a = p->app;
  const struct sos_app_pos *first = NULL;
  for (uint32_t i = 0; i < a->nstructs && !first; i++)
    if (&a->structs[i] != self && strcmp(a->structs[i].name, name) == 0)
      first = &a->structs[i].pos;
  for (uint32_t i = 0; i < a->nenums && !first; i++)
    if (&a->enums[i] != self && a->enums[i].name && strcmp(a->enums[i].name, name) == 0)
      first = &a->enums[i].pos;
  for (uint32_t i = 0; i < a->ninterfaces && !first; i++)
    if (&a->interfaces[i] != self && a->interfaces[i].name &&
        strcmp(a->interfaces[i].name, name) == 0)
      first = &a->interfaces[i].pos;
  if (!first) return 0;
  return fail(p, pos, "%s %s is declared twice (first at line %u)", kind, name, first->line);
}

/* Copies the package being parsed into *pkg (NULL: the file's own, set
 * when the file is done). */
static int set_package(struct parser *p, char **pkg) {
  if (!p->pkg) return 0;
  return (*pkg = sos_strndup(p->pkg, strlen(p->pkg))) ? 0 : no_memory(p);
}

/* VALUE "=" INTEGER in the enum whose index is at ctx. */
static int parse_enum_value(struct parser *p, void *ctx) {
  struct sos_app_enum *e = &p->app->enums[*(const uint32_t *)ctx];
  struct sos_app_pos pos = p->tok.pos;
  if (e->nvalues >= SOS__APP_MAX_ITEMS)
    return fail(p, pos, "too many values in enum %s (at most %u)", e->name,
                SOS__APP_MAX_ITEMS);
  struct sos_app_enum_value *v = sos__app_push(&e->values, &e->nvalues, sizeof *v);
  if (!v) return no_memory(p);
  v->pos = pos;
  int rc = take_name(p, "enum value", NAME_FIELD, &v->name);
  if (rc) return rc;
  for (uint32_t i = 0; i + 1 < e->nvalues; i++)
    if (strcmp(e->values[i].name, v->name) == 0)
      return fail(p, pos, "value %s is declared twice in enum %s", v->name, e->name);
  if (p->tok.kind != SOS__TOK_EQUALS)
    return expected(p, "\"=\" and a number after the value's name, as in red = 0");
  if ((rc = next(p)) != 0) return rc;
  if (p->tok.kind != SOS__TOK_INT) return expected(p, "a number such as 0");
  if (p->tok.value > INT32_MAX)
    return fail(p, p->tok.pos, "an enum value is 0 to %d", INT32_MAX);
  v->value = (uint32_t)p->tok.value;
  for (uint32_t i = 0; i + 1 < e->nvalues; i++)
    if (e->values[i].value == v->value)
      return fail(p, p->tok.pos, "number %u is used twice in enum %s (first by %s)",
                  v->value, e->name, e->values[i].name);
  return next(p);
}

/* "enum" TYPENAME "{" { VALUE "=" INTEGER } "}" */
static int parse_enum(struct parser *p, void *ctx) {
  struct sos_app *a = p->app;
  (void)ctx;
  int rc = next(p);
  if (rc) return rc;
  struct sos_app_pos pos = p->tok.pos;
  if (a->nenums >= SOS__APP_MAX_ITEMS)
    return fail(p, pos, "too many enums (at most %u)", SOS__APP_MAX_ITEMS);
  struct sos_app_enum *e = sos__app_push(&a->enums, &a->nenums, sizeof *e);
  if (!e) return no_memory(p);
  e->pos = pos;
  if ((rc = take_name(p, "enum name", NAME_TYPE, &e->name)) != 0 ||
      (rc = type_name_taken(p, "enum", e->name, pos, e)) != 0 || (rc = set_package(p, &e->package)))
    return rc;
  if (p->tok.kind != SOS__TOK_LBRACE)
    return expected(p, "\"{\" after the enum name, on the same line");
  uint32_t index = a->nenums - 1;
  struct sos_app_pos open = p->tok.pos;
  if ((rc = next(p)) != 0 || (rc = parse_block(p, &enum_block, open, &index)) != 0) return rc;
  if (!a->enums[index].nvalues)
    return fail(p, pos, "enum %s has no value; give it one such as none = 0",
                a->enums[index].name);
  return 0;
}

/* "error" NAME "=" INTEGER in interface it. */
static int parse_error_decl(struct parser *p, struct sos_app_interface *it) {
  int rc = next(p);
  if (rc) return rc;
  struct sos_app_pos pos = p->tok.pos;
  if (it->nerrors >= SOS__APP_MAX_ITEMS)
    return fail(p, pos, "too many errors in interface %s", it->name);
  struct sos_app_error *e = sos__app_push(&it->errors, &it->nerrors, sizeof *e);
  if (!e) return no_memory(p);
  e->pos = pos;
  if ((rc = take_name(p, "error name", NAME_FIELD, &e->name)) != 0) return rc;
  for (uint32_t i = 0; i + 1 < it->nerrors; i++)
    if (strcmp(it->errors[i].name, e->name) == 0)
      return fail(p, pos, "error %s is declared twice in interface %s", e->name, it->name);
  if (p->tok.kind != SOS__TOK_EQUALS)
    return expected(p, "\"=\" and a code, as in error not_found = 1");
  if ((rc = next(p)) != 0) return rc;
  if (p->tok.kind != SOS__TOK_INT || p->tok.value == 0 || p->tok.value > 65535)
    return expected(p, "an error code from 1 to 65535");
  e->code = (uint32_t)p->tok.value;
  for (uint32_t i = 0; i + 1 < it->nerrors; i++)
    if (it->errors[i].code == e->code)
      return fail(p, p->tok.pos, "code %u is used twice in interface %s (first by %s)",
                  e->code, it->name, it->errors[i].name);
  return next(p);
}

/* "(" TYPENAME ")" "->" TYPENAME after a method's name. */
static int parse_signature(struct parser *p, struct sos_app_method *m) {
  int rc;
  if (p->tok.kind != SOS__TOK_LPAREN)
    return expected(p, "\"(\" and the request struct, as in get(GetReq) -> GetResp");
  if ((rc = next(p)) != 0 || (rc = take_name(p, "struct name", NAME_TYPE, &m->request)))
    return rc;
  if (p->tok.kind != SOS__TOK_RPAREN) return expected(p, "\")\" after the request struct");
  if ((rc = next(p)) != 0) return rc;
  if (p->tok.kind != SOS__TOK_ARROW)
    return expected(p, "\"->\" and the response struct, as in get(GetReq) -> GetResp");
  if ((rc = next(p)) != 0) return rc;
  return take_name(p, "struct name", NAME_TYPE, &m->response);
}

/* A method, NAME "(" REQ ")" "->" RESP, or "error" NAME "=" CODE, in the
 * interface whose index is at ctx. */
static int parse_member(struct parser *p, void *ctx) {
  struct sos_app_interface *it = &p->app->interfaces[*(const uint32_t *)ctx];
  struct sos_app_pos pos = p->tok.pos;
  if (is_word(&p->tok, "error")) {
    struct sos__lex peek = p->lx;
    struct sos__tok t;
    char err[8];
    peek.err = err;
    peek.errlen = sizeof err;
    if (sos__lex_next(&peek, &t) == 0 && t.kind == SOS__TOK_IDENT)
      return parse_error_decl(p, it);
  }
  if (it->nmethods >= SOS__APP_MAX_ITEMS)
    return fail(p, pos, "too many methods in interface %s", it->name);
  struct sos_app_method *m = sos__app_push(&it->methods, &it->nmethods, sizeof *m);
  if (!m) return no_memory(p);
  m->pos = pos;
  int rc = take_name(p, "method name", NAME_FIELD, &m->name);
  if (rc) return rc;
  for (uint32_t i = 0; i + 1 < it->nmethods; i++)
    if (strcmp(it->methods[i].name, m->name) == 0)
      return fail(p, pos, "method %s is declared twice in interface %s", m->name, it->name);
  return parse_signature(p, m);
}

/* "interface" TYPENAME "{" { method | error } "}" */
static int parse_interface(struct parser *p, void *ctx) {
  struct sos_app *a = p->app;
  (void)ctx;
  int rc = next(p);
  if (rc) return rc;
  struct sos_app_pos pos = p->tok.pos;
  if (a->ninterfaces >= SOS__APP_MAX_ITEMS)
    return fail(p, pos, "too many interfaces (at most %u)", SOS__APP_MAX_ITEMS);
  struct sos_app_interface *it = sos__app_push(&a->interfaces, &a->ninterfaces, sizeof *it);
  if (!it) return no_memory(p);
  it->pos = pos;
  if ((rc = take_name(p, "interface name", NAME_TYPE, &it->name)) != 0 ||
      (rc = type_name_taken(p, "interface", it->name, pos, it)) != 0 ||
      (rc = set_package(p, &it->package)))
    return rc;
  if (p->tok.kind != SOS__TOK_LBRACE)
    return expected(p, "\"{\" after the interface name, on the same line");
  uint32_t index = a->ninterfaces - 1;
  struct sos_app_pos open = p->tok.pos;
  if ((rc = next(p)) != 0) return rc;
  return parse_block(p, &interface_block, open, &index);
}

/* "import" STRING: a package (or app) whose declarations this one uses. */
static int parse_import(struct parser *p, void *ctx) {
  (void)ctx;
  if (p->pkg)
    return fail(p, p->tok.pos, "an imported package cannot import (its imports are "
                               "resolved already)");
  int rc = next(p);
  if (rc) return rc;
  if (p->tok.kind != SOS__TOK_STRING)
    return expected(p, "the path of a definition in quotes, such as \"../greeter/app.sos\"");
  struct sos_app_pos pos = p->tok.pos;
  if ((rc = add_to_list(p, &p->app->imports, &p->app->nimports, "imports", E_PATH)) != 0)
    return rc;
  struct sos_app_pos *grown = sos_realloc(p->app->import_pos,
                                          p->app->nimports * sizeof *grown);
  if (!grown) return no_memory(p);
  p->app->import_pos = grown;
  grown[p->app->nimports - 1] = pos;
  return 0;
}

/* ---- http routes ------------------------------------------------------------------ */

/* Whether s is a route's path prefix: "/" then visible ASCII without `?`
 * or `#` (those end a path), at most 1024 bytes. */
static bool prefix_ok(const char *s) {
  if (s[0] != '/' || strlen(s) > 1024) return false;
  for (; *s; s++)
    if (*s <= 0x20 || *s >= 0x7f || *s == '?' || *s == '#') return false;
  return true;
}

/* Whether s is a host name, optionally with ":port": letters, digits, `.`
 * and `-`, at most 253 bytes; lower-cases it in place. */
static bool host_ok(char *s) {
  size_t n = strlen(s);
  if (!n || n > 253) return false;
  for (; *s; s++) {
    if (*s >= 'A' && *s <= 'Z') *s = (char)(*s - 'A' + 'a');
    bool ok = (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '.' ||
              *s == '-' || *s == ':';
    if (!ok) return false;
  }
  return true;
}

/* "http" STRING [ "host" STRING ] "->" SERVICE [ "." METHOD ] */
static int parse_http(struct parser *p, void *ctx) {
  struct sos_app *a = p->app;
  (void)ctx;
  int rc = next(p);
  if (rc) return rc;
  struct sos_app_pos pos = p->tok.pos;
  if (a->nroutes >= SOS__APP_MAX_ITEMS)
    return fail(p, pos, "too many http routes (at most %u)", SOS__APP_MAX_ITEMS);
  struct sos_app_route *r = sos__app_push(&a->routes, &a->nroutes, sizeof *r);
  if (!r) return no_memory(p);
  r->pos = pos;
  if (p->tok.kind != SOS__TOK_STRING)
    return expected(p, "a path prefix in quotes, as in http \"/\" -> web");
  if (sos__lex_string(&p->tok, &r->prefix)) return no_memory(p);
  if (!prefix_ok(r->prefix))
    return fail(p, pos, "bad path prefix \"%s\": it starts with \"/\" and holds no spaces, "
                        "\"?\" or \"#\" (at most 1024 bytes)", r->prefix);
  if ((rc = next(p)) != 0) return rc;
  if (is_word(&p->tok, "host")) {
    struct sos_app_pos hpos;
    if ((rc = next(p)) != 0) return rc;
    hpos = p->tok.pos;
    if (p->tok.kind != SOS__TOK_STRING)
      return expected(p, "a host name in quotes, as in host \"example.com\"");
    if (sos__lex_string(&p->tok, &r->host)) return no_memory(p);
    if (!host_ok(r->host))
      return fail(p, hpos, "bad host \"%s\": use letters, digits, \".\" and \"-\", with "
                           "an optional \":port\"", r->host);
    if ((rc = next(p)) != 0) return rc;
  }
  for (uint32_t i = 0; i + 1 < a->nroutes; i++) {
    const struct sos_app_route *o = &a->routes[i];
    bool same_host = (!o->host && !r->host) || (o->host && r->host && !strcmp(o->host, r->host));
    if (same_host && strcmp(o->prefix, r->prefix) == 0)
      return fail(p, pos, "http route \"%s\" is declared twice (first at line %u)", r->prefix,
                  o->pos.line);
  }
  if (p->tok.kind != SOS__TOK_ARROW)
    return expected(p, "\"->\" and a service, as in http \"/\" -> web");
  if ((rc = next(p)) != 0 || (rc = take_name(p, "service name", NAME_LOWER, &r->service)))
    return rc;
  if (p->tok.kind != SOS__TOK_DOT) {
    if (!(r->method = sos_strndup("http", 4))) return no_memory(p);
    return 0;
  }
  if ((rc = next(p)) != 0) return rc;
  return take_name(p, "method name", NAME_FIELD, &r->method);
}

/* ---- stores ---------------------------------------------------------------------- */

/* In SOS_APP_STORE_* order. */
static const char *const store_types[] = {"kv", "log", "table", "files", NULL};

/* The index list of a table: FIELD { "," { NL } FIELD }, none of them the
 * key or given twice. */
static int parse_indexes(struct parser *p, struct sos_app_store *s,
                         struct sos__app_table_pos *tp) {
  for (;;) {
    struct sos_app_pos pos = p->tok.pos;
    if (s->nindexes >= SOS__APP_MAX_INDEXES)
      return fail(p, pos, "a table has at most %u indexes", SOS__APP_MAX_INDEXES);
    char **slot = sos__app_push(&s->indexes, &s->nindexes, sizeof *slot);
    if (!slot) return no_memory(p);
    tp->index[s->nindexes - 1] = pos;
    int rc = take_name(p, "field name", NAME_FIELD, slot);
    if (rc) return rc;
    if (strcmp(*slot, s->key) == 0)
      return fail(p, pos, "%s is the table's key, which needs no index", *slot);
    for (uint32_t i = 0; i + 1 < s->nindexes; i++)
      if (strcmp(s->indexes[i], *slot) == 0)
        return fail(p, pos, "field %s is indexed twice", *slot);
    if (p->tok.kind != SOS__TOK_COMMA) return 0;
    do rc = next(p);
    while (rc == 0 && p->tok.kind == SOS__TOK_NEWLINE);
    if (rc) return rc;
  }
}

/* "table" STRUCT "key" FIELD [ "index" indexes ], from STRUCT on. */
static int parse_table(struct parser *p, struct sos_app_store *s,
                       struct sos__app_table_pos *tp) {
  tp->table = p->tok.pos;
  int rc = take_name(p, "struct name", NAME_TYPE, &s->table_struct);
  if (rc) return rc;
  if (!is_word(&p->tok, "key"))
    return expected(p, "\"key\" and the key field, as in table Entry key id");
  if ((rc = next(p)) != 0) return rc;
  tp->key = p->tok.pos;
  if ((rc = take_name(p, "field name", NAME_FIELD, &s->key)) != 0) return rc;
  if (p->tok.kind == SOS__TOK_IDENT && !is_word(&p->tok, "index"))
    return expected(p, "\"index\" or the end of the statement");
  if (p->tok.kind != SOS__TOK_IDENT) return 0;
  return (rc = next(p)) != 0 ? rc : parse_indexes(p, s, tp);
}

/* "store" NAME ":" ( "kv" | "log" | "files" | "table" ... ) */
static int parse_store(struct parser *p, void *ctx) {
  struct sos_app *a = p->app;
  (void)ctx;
  int rc = next(p);
  if (rc) return rc;
  struct sos_app_pos pos = p->tok.pos;
  if (a->nstores >= SOS__APP_MAX_ITEMS)
    return fail(p, pos, "too many stores (at most %u)", SOS__APP_MAX_ITEMS);
  struct sos__app_table_pos *tp = sos__app_push(&p->tables, &p->ntables, sizeof *tp);
  struct sos_app_store *s = tp ? sos__app_push(&a->stores, &a->nstores, sizeof *s) : NULL;
  if (!s) return no_memory(p);
  s->pos = pos;
  if ((rc = take_name(p, "store name", NAME_LOWER, &s->name)) != 0) return rc;
  for (uint32_t i = 0; i + 1 < a->nstores; i++)
    if (strcmp(a->stores[i].name, s->name) == 0)
      return fail(p, pos, "store %s is declared twice (first at line %u)", s->name,
                  a->stores[i].pos.line);
  if (p->tok.kind != SOS__TOK_COLON)
    return expected(p, "\":\" and a type after the store name, as in store hits: kv");
  if ((rc = next(p)) != 0) return rc;
  if (p->tok.kind != SOS__TOK_IDENT) return expected(p, "a store type: kv, log, table or files");
  for (int i = 0; store_types[i] && !s->type; i++)
    if (is_word(&p->tok, store_types[i])) s->type = SOS_APP_STORE_KV + i;
  if (!s->type) return unknown_word(p, "store type", store_types, NULL);
  if ((rc = next(p)) != 0) return rc;
  return s->type == SOS_APP_STORE_TABLE ? parse_table(p, s, tp) : 0;
}

/* Checks each table against its struct when this file declares it (a
 * struct from a base is the loader's to check). */
static int check_tables(struct parser *p) {
  const struct sos_app *a = p->app;
  for (uint32_t i = 0; i < a->nstores; i++) {
    const struct sos_app_store *s = &a->stores[i];
    const struct sos_app_struct *st = s->type == SOS_APP_STORE_TABLE
                                          ? sos_app_struct(a, s->table_struct)
                                          : NULL;
    int rc = st ? sos__app_check_table(s, &p->tables[i], st, p->file, p->err, p->errlen) : 0;
    if (rc) return rc;
  }
  return 0;
}

/* ---- blocks ------------------------------------------------------------------ */

static const struct stmt app_stmts[] = {
    {"module", parse_module},   {"sources", parse_sources},
    {"files", parse_files},     {"uses", parse_uses},
    {"env", parse_env},         {"import", parse_import},
    {"struct", parse_struct},   {"enum", parse_enum},
    {"interface", parse_interface}, {"store", parse_store},
    {"service", parse_service}, {"http", parse_http},
    {"secret", parse_secret},   {"egress", parse_egress},
    {NULL, NULL},
};
static const char *const app_keywords[] = {"module", "sources", "files",  "uses",
                                           "env",    "import",  "struct", "enum",
                                           "interface", "store", "service", "http",
                                           "secret", "egress",  NULL};
static const struct block app_block = {app_stmts, app_keywords, "app", "statement",
                                       "module \"app.wasm\"", NULL};

/* A package holds declarations only. */
static const struct stmt package_stmts[] = {
    {"import", parse_import}, {"struct", parse_struct},       {"enum", parse_enum},
    {"interface", parse_interface}, {NULL, NULL},
};
static const char *const package_keywords[] = {"import", "struct", "enum", "interface",
                                               NULL};
static const struct block package_block = {package_stmts, package_keywords, "package",
                                           "statement", "struct Point { x: i32 = 1 }",
                                           NULL};

static const struct stmt service_stmts[] = {
    {"instances", parse_instances},
    {"memory", parse_memory},
    {"timeout", parse_timeout},
    {"queue", parse_queue},
    {"quota", parse_quota},
    {"keys", parse_keys},
    {NULL, NULL},
};
static const char *const service_keywords[] = {"instances", "memory", "timeout", "queue",
                                               "quota",     "keys",   NULL};
static const struct block service_block = {service_stmts, service_keywords, "service",
                                           "service field", "instances 1..4", NULL};

static const struct block struct_block = {NULL,    NULL,          "struct",
                                          "field", "id: u64 = 1", parse_field};
static const struct block union_block = {NULL,      NULL,           "union",
                                         "variant", "email: text = 2", parse_field};
static const struct block enum_block = {NULL,    NULL,       "enum",
                                        "value", "red = 0", parse_enum_value};
static const struct block interface_block = {NULL,     NULL,
                                             "interface", "method",
                                             "get(GetReq) -> GetResp", parse_member};

/* Reports an unknown keyword in block b, with a suggestion or else the
 * list of the block's keywords. */
static int unknown_keyword(struct parser *p, const struct block *b) {
  return unknown_word(p, b->what, b->keywords, NULL);
}

/* Parses statements up to the `}` that closes the block opened at open,
 * and the `}` itself. */
static int parse_block(struct parser *p, const struct block *b, struct sos_app_pos open,
                       void *ctx) {
  char example[64];
  for (;;) {
    int rc = skip_separators(p);
    if (rc) return rc;
    if (p->tok.kind == SOS__TOK_RBRACE) return next(p);
    if (p->tok.kind == SOS__TOK_EOF)
      return fail(p, p->tok.pos, "missing \"}\" to close the %s block opened at line %u",
                  b->name, open.line);
    snprintf(example, sizeof example, "a %s such as %s", b->what, b->example);
    if (p->tok.kind != SOS__TOK_IDENT) return expected(p, example);
    const struct stmt *s = b->stmts;
    while (s && s->keyword && !is_word(&p->tok, s->keyword)) s++;
    if (s && !s->keyword) return unknown_keyword(p, b);
    if ((rc = s ? s->parse(p, ctx) : b->any(p, ctx)) != 0) return rc;
    if (!ends_statement(p->tok.kind))
      return expected(p, "the end of the statement (a newline or \";\")");
  }
}

/* ---- the file ------------------------------------------------------------------ */

/* "app" NAME VERSION [ "extends" STRING ] "{" body "}" */
static int parse_app(struct parser *p) {
  struct sos_app *a = p->app;
  p->app_pos = p->tok.pos;
  int rc = next(p);
  if (rc || (rc = take_name(p, "app name", NAME_LOWER, &a->name)) != 0) return rc;
  if (p->tok.kind != SOS__TOK_VERSION)
    return expected(p, "a version such as 1.0.0 after the app name");
  if (!(a->version = sos_strndup(p->tok.p, p->tok.len))) return no_memory(p);
  if ((rc = next(p)) != 0) return rc;
  if (is_word(&p->tok, "extends")) {
    if ((rc = next(p)) != 0) return rc;
    p->extends_pos = p->tok.pos;
    rc = take_path(p, "the base definition's path in quotes, such as \"../base/app.sos\"",
                   &a->extends);
    if (rc) return rc;
  }
  if (p->tok.kind != SOS__TOK_LBRACE)
    return expected(p, "\"{\" to open the app block, on the same line");
  struct sos_app_pos open = p->tok.pos;
  if ((rc = next(p)) != 0 || (rc = parse_block(p, &app_block, open, NULL)) != 0) return rc;
  return check_tables(p);
}

/* "package" NAME [ VERSION ] "{" declarations "}".  The file's own
 * package (first) names the definition; a later one holds declarations
 * imported from that package (what sos_app_print writes into images). */
static int parse_package(struct parser *p, bool own) {
  struct sos_app *a = p->app;
  char *name = NULL;
  if (own) p->app_pos = p->tok.pos;
  int rc = next(p);
  if (rc || (rc = take_name(p, "package name", NAME_LOWER, &name)) != 0) goto done;
  if (p->tok.kind == SOS__TOK_VERSION) {
    if (own && !(a->version = sos_strndup(p->tok.p, p->tok.len))) rc = no_memory(p);
    if (rc || (rc = next(p)) != 0) goto done;
  }
  if (p->tok.kind != SOS__TOK_LBRACE) {
    rc = expected(p, "\"{\" to open the package block, on the same line");
    goto done;
  }
  struct sos_app_pos open = p->tok.pos;
  p->pkg = own ? NULL : name;
  if ((rc = next(p)) == 0) rc = parse_block(p, &package_block, open, NULL);
  if (own) {
    a->is_package = 1;
    a->name = name;
    name = NULL;
  }
done:
  sos_free(name);
  return rc;
}

/* Sets the package of the file's own declarations to its name, and counts
 * them (the imported ones follow). */
static int own_declarations(struct parser *p) {
  struct sos_app *a = p->app;
  a->nstructs_own = a->nstructs;
  a->nenums_own = a->nenums;
  a->ninterfaces_own = a->ninterfaces;
  for (uint32_t i = 0; i < a->nstructs; i++)
    if (!(a->structs[i].package = sos_strndup(a->name, strlen(a->name))))
      return no_memory(p);
  for (uint32_t i = 0; i < a->nenums; i++)
    if (!(a->enums[i].package = sos_strndup(a->name, strlen(a->name))))
      return no_memory(p);
  for (uint32_t i = 0; i < a->ninterfaces; i++)
    if (!(a->interfaces[i].package = sos_strndup(a->name, strlen(a->name))))
      return no_memory(p);
  return 0;
}

/* file = { sep } ( app | package ) { sep } { package { sep } } EOF. */
static int parse_file(struct parser *p) {
  static const char *const decls[] = {"app", "package", NULL};
  int rc = next(p);
  if (rc || (rc = skip_separators(p)) != 0) return rc;
  if (p->tok.kind == SOS__TOK_EOF)
    return fail(p, p->tok.pos, "expected an app definition: app NAME VERSION { ... }");
  if (!is_word(&p->tok, "app") && !is_word(&p->tok, "package")) {
    char shown[64];
    const char *hint = p->tok.kind == SOS__TOK_IDENT
                           ? sos__lang_suggest(p->tok.p, p->tok.len, decls)
                           : NULL;
    if (hint)
      return fail(p, p->tok.pos, "unknown declaration \"%s\"; did you mean \"%s\"?",
                  sos__lang_show(p->tok.p, p->tok.len, shown, sizeof shown), hint);
    return expected(p, "an app definition: app NAME VERSION { ... }");
  }
  rc = is_word(&p->tok, "app") ? parse_app(p) : parse_package(p, true);
  if (rc || (rc = own_declarations(p)) != 0 || (rc = skip_separators(p)) != 0) return rc;
  while (is_word(&p->tok, "package"))
    if ((rc = parse_package(p, false)) != 0 || (rc = skip_separators(p)) != 0) return rc;
  p->pkg = NULL;
  if (is_word(&p->tok, "app"))
    return fail(p, p->tok.pos, "a second app; a file holds one app definition");
  if (p->tok.kind != SOS__TOK_EOF)
    return expected(p, "the end of the file after the app block");
  return sos__app_resolve(p->app, p->file, false, p->err, p->errlen);
}

int sos__app_parse(const char *text, size_t len, const char *file,
                   struct sos_app **out, struct sos__app_info *info, char *err,
                   size_t errlen) {
  struct parser p;
  memset(&p, 0, sizeof p);
  p.file = file ? file : "<input>";
  p.err = err;
  p.errlen = errlen;
  if (err && errlen) err[0] = 0;
  *out = NULL;
  if (info) memset(info, 0, sizeof *info);
  sos__lex_init(&p.lx, text ? text : "", text ? len : 0, p.file, err, errlen);
  int rc = (p.app = sos_calloc(1, sizeof *p.app)) ? 0 : no_memory(&p);
  if (rc == 0 && !(p.app->file = sos_strndup(p.file, strlen(p.file)))) rc = no_memory(&p);
  if (rc == 0) rc = parse_file(&p);
  if (rc) {
    sos_app_free(p.app);
    sos_free(p.given);
    sos_free(p.tables);
    return rc;
  }
  *out = p.app;
  if (info) {
    info->app = p.app_pos;
    info->extends = p.extends_pos;
    info->given = p.given;
    info->tables = p.tables;
  } else {
    sos_free(p.given);
    sos_free(p.tables);
  }
  return 0;
}

void sos__app_info_free(struct sos__app_info *info) {
  sos_free(info->given);
  sos_free(info->tables);
  info->given = NULL;
  info->tables = NULL;
}

int sos_app_parse(const char *text, size_t len, const char *file,
                  struct sos_app **out, char *err, size_t errlen) {
  return sos__app_parse(text, len, file, out, NULL, err, errlen);
}

/* ---- the struct ------------------------------------------------------------------ */

void *sos__app_push(void *arrp, uint32_t *n, size_t size) {
  char *arr;
  uint32_t k = *n;
  memcpy(&arr, arrp, sizeof arr);
  if (k == UINT32_MAX) return NULL;
  if (k == 0 || (k >= 4 && (k & (k - 1)) == 0)) { /* full: double */
    size_t cap = k == 0 ? 4 : (size_t)k * 2;
    if (cap > SIZE_MAX / size) return NULL;
    char *grown = sos_realloc(arr, cap * size);
    if (!grown) return NULL;
    arr = grown;
    memcpy(arrp, &arr, sizeof arr);
  }
  memset(arr + (size_t)k * size, 0, size);
  (*n)++;
  return arr + (size_t)k * size;
}

const struct sos_app_service *sos_app_service(const struct sos_app *app,
                                              const char *name) {
  for (uint32_t i = 0; app && name && i < app->nservices; i++)
    if (app->services[i].name && strcmp(app->services[i].name, name) == 0)
      return &app->services[i];
  return NULL;
}

static void free_list(char **list, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) sos_free(list[i]);
  sos_free(list);
}

void sos__app_struct_clear(struct sos_app_struct *st) {
  for (uint32_t j = 0; j < st->nfields; j++) {
    sos_free(st->fields[j].name);
    sos_free(st->fields[j].type_name);
  }
  sos_free(st->fields);
  free_list(st->unions, st->nunions);
  sos_free(st->name);
  sos_free(st->package);
  memset(st, 0, sizeof *st);
}

void sos__app_enum_clear(struct sos_app_enum *e) {
  for (uint32_t j = 0; j < e->nvalues; j++) sos_free(e->values[j].name);
  sos_free(e->values);
  sos_free(e->name);
  sos_free(e->package);
  memset(e, 0, sizeof *e);
}

void sos__app_interface_clear(struct sos_app_interface *it) {
  for (uint32_t j = 0; j < it->nmethods; j++) {
    sos_free(it->methods[j].name);
    sos_free(it->methods[j].request);
    sos_free(it->methods[j].response);
  }
  sos_free(it->methods);
  for (uint32_t j = 0; j < it->nerrors; j++) sos_free(it->errors[j].name);
  sos_free(it->errors);
  sos_free(it->name);
  sos_free(it->package);
  memset(it, 0, sizeof *it);
}

void sos__app_route_clear(struct sos_app_route *r) {
  sos_free(r->prefix);
  sos_free(r->host);
  sos_free(r->service);
  sos_free(r->method);
  memset(r, 0, sizeof *r);
}

void sos_app_free(struct sos_app *app) {
  if (!app) return;
  sos_free(app->file);
  sos_free(app->name);
  sos_free(app->version);
  sos_free(app->extends);
  sos_free(app->module);
  free_list(app->sources, app->nsources);
  free_list(app->files, app->nfiles);
  free_list(app->uses, app->nuses);
  free_list(app->secrets, app->nsecrets);
  free_list(app->egress, app->negress);
  for (uint32_t i = 0; i < app->nparams; i++) {
    sos_free(app->params[i].name);
    sos_free(app->params[i].value);
  }
  sos_free(app->params);
  for (uint32_t i = 0; i < app->nservices; i++) {
    sos_free(app->services[i].name);
    sos_free(app->services[i].implements);
  }
  sos_free(app->services);
  for (uint32_t i = 0; i < app->nstructs; i++) sos__app_struct_clear(&app->structs[i]);
  sos_free(app->structs);
  for (uint32_t i = 0; i < app->nenums; i++) sos__app_enum_clear(&app->enums[i]);
  sos_free(app->enums);
  for (uint32_t i = 0; i < app->ninterfaces; i++)
    sos__app_interface_clear(&app->interfaces[i]);
  sos_free(app->interfaces);
  free_list(app->imports, app->nimports);
  sos_free(app->import_pos);
  for (uint32_t i = 0; i < app->nstores; i++) {
    const struct sos_app_store *s = &app->stores[i];
    sos_free(s->name);
    sos_free(s->table_struct);
    sos_free(s->key);
    free_list(s->indexes, s->nindexes);
  }
  sos_free(app->stores);
  for (uint32_t i = 0; i < app->nroutes; i++) sos__app_route_clear(&app->routes[i]);
  sos_free(app->routes);
  sos_free(app);
}

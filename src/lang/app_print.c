/*
 * app_print.c - writing app definitions back as text: sos_app_print (the
 * canonical layout of a struct, for images) and sos_app_fmt (`sos fmt`,
 * which lays out source text and keeps its comments).
 *
 * sos_app_print writes every statement in a fixed order (module or
 * sources, files, uses, env, structs, stores, services), one per line
 * with two-space indents, every struct and service in block form, every
 * service with all six fields, sizes and durations in the largest unit
 * that divides them exactly.  The text stands alone: it has no `extends`, and its defaults
 * are spelled out, so an image's definition says everything.
 *
 * sos_app_fmt works on tokens, not on the struct, because it must keep
 * what the struct forgets: comments, the order of statements, `extends`,
 * and how each value was written (16384KiB stays 16384KiB).  The text is
 * parsed first, so only valid definitions are formatted; then its tokens
 * are laid out again:
 *
 *   - one statement per line, indented two spaces per block; a `{` ends
 *     its line and the `}` gets a line of its own;
 *   - a block written on one line (`service s { instances 1..4; queue 8 }`,
 *     `struct P { x: i32 = 1; y: i32 = 2 }`) stays on one line, its
 *     statements separated by "; ";
 *   - tokens are separated by one space, except before `,` and `:` and
 *     around `..`;
 *   - a line break after a comma is kept (a long `uses` list), the next
 *     line indented four more spaces;
 *   - blank lines between statements are kept, at most one in a row, none
 *     at the start or end of a block;
 *   - comments stay where they were: alone on a line (indented as the
 *     statement that follows) or after a statement; the trailing comments
 *     of consecutive lines are aligned two spaces after the longest line.
 *
 * Only newlines, `;` and spaces change, so the result parses to the same
 * definition, and formatting it again changes nothing.
 */
#include "lang/lang.h"

#include <stdio.h>
#include <string.h>

/* ---- sos_app_print ------------------------------------------------------------ */

/* Writes a byte count in the largest unit that divides it exactly. */
static void print_size(struct sos_buf *b, uint64_t v) {
  static const struct {
    const char *unit;
    uint64_t scale;
  } units[] = {{"TiB", 1ull << 40}, {"GiB", 1ull << 30},   {"MiB", 1ull << 20},
               {"KiB", 1ull << 10}, {"GB", 1000000000ull}, {"MB", 1000000ull},
               {"KB", 1000ull}}; /* no TB: a multiple of 10^12 is one of 1KiB */
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
    if (v && v % units[i].scale == 0) {
      sos_buf_fmt(b, "%llu%s", (unsigned long long)(v / units[i].scale), units[i].unit);
      return;
    }
  sos_buf_fmt(b, "%lluB", (unsigned long long)v);
}

/* Writes milliseconds in the largest unit that divides them exactly. */
static void print_duration(struct sos_buf *b, uint64_t ms) {
  if (ms && ms % 3600000 == 0) sos_buf_fmt(b, "%lluh", (unsigned long long)(ms / 3600000));
  else if (ms && ms % 60000 == 0) sos_buf_fmt(b, "%llum", (unsigned long long)(ms / 60000));
  else if (ms && ms % 1000 == 0) sos_buf_fmt(b, "%llus", (unsigned long long)(ms / 1000));
  else sos_buf_fmt(b, "%llums", (unsigned long long)ms);
}

/* "  KEYWORD "a" "b"" for a list of paths. */
static void print_paths(struct sos_buf *b, const char *kw, char *const *list,
                        uint32_t n) {
  if (!n) return;
  sos_buf_fmt(b, "  %s", kw);
  for (uint32_t i = 0; i < n; i++) {
    sos_buf_add(b, " ", 1);
    sos__buf_quote(b, list[i] ? list[i] : "");
  }
  sos_buf_add(b, "\n", 1);
}

static void print_service(struct sos_buf *b, const struct sos_app_service *s) {
  sos_buf_fmt(b, "  service %s%s%s {\n", s->name ? s->name : "",
               s->implements ? " implements " : "", s->implements ? s->implements : "");
  sos_buf_fmt(b, "    instances %u..%u\n", s->min_instances, s->max_instances);
  sos_buf_str(b, "    memory ");
  print_size(b, s->memory);
  sos_buf_str(b, "\n    timeout ");
  print_duration(b, s->timeout_ms);
  sos_buf_fmt(b, "\n    queue %u\n    quota ", s->queue);
  print_size(b, s->quota_bytes);
  sos_buf_fmt(b, "\n    keys %llu\n  }\n", (unsigned long long)s->quota_keys);
}

/* One field line of a struct (indent: its spaces). */
static void print_field(struct sos_buf *b, const struct sos_app_field *f, const char *indent) {
  char type[96];
  sos_buf_fmt(b, "%s%s: %s = %u\n", indent, f->name ? f->name : "",
               sos__app_field_type(f, type, sizeof type), f->tag);
}

/* A struct in block form, one field per line ("{}" when it has none);
 * each union's variants in a block of their own where its first is. */
static void print_struct(struct sos_buf *b, const struct sos_app_struct *st) {
  sos_buf_fmt(b, "  struct %s {%s", st->name ? st->name : "", st->nfields ? "\n" : "}\n");
  for (uint32_t i = 0; i < st->nfields; i++) {
    const struct sos_app_field *f = &st->fields[i];
    if (!f->group) {
      print_field(b, f, "    ");
      continue;
    }
    bool first = true;
    for (uint32_t j = 0; j < i && first; j++) first = st->fields[j].group != f->group;
    if (!first) continue;
    sos_buf_fmt(b, "    union %s {\n", st->unions[f->group - 1]);
    for (uint32_t j = i; j < st->nfields; j++)
      if (st->fields[j].group == f->group) print_field(b, &st->fields[j], "      ");
    sos_buf_str(b, "    }\n");
  }
  if (st->nfields) sos_buf_str(b, "  }\n");
}

static void print_enum(struct sos_buf *b, const struct sos_app_enum *e) {
  sos_buf_fmt(b, "  enum %s {%s", e->name, e->nvalues ? "\n" : "}\n");
  for (uint32_t i = 0; i < e->nvalues; i++)
    sos_buf_fmt(b, "    %s = %u\n", e->values[i].name, e->values[i].value);
  if (e->nvalues) sos_buf_str(b, "  }\n");
}

static void print_interface(struct sos_buf *b, const struct sos_app_interface *it) {
  sos_buf_fmt(b, "  interface %s {%s", it->name, it->nmethods + it->nerrors ? "\n" : "}\n");
  for (uint32_t i = 0; i < it->nmethods; i++)
    sos_buf_fmt(b, "    %s(%s) -> %s\n", it->methods[i].name, it->methods[i].request,
                 it->methods[i].response);
  for (uint32_t i = 0; i < it->nerrors; i++)
    sos_buf_fmt(b, "    error %s = %u\n", it->errors[i].name, it->errors[i].code);
  if (it->nmethods + it->nerrors) sos_buf_str(b, "  }\n");
}

/* Whether a declaration of package decl belongs to package pkg (NULL:
 * the app's own, which hand-built definitions may leave without one). */
static bool in_pkg(const struct sos_app *app, const char *decl, const char *pkg) {
  bool own = !decl || strcmp(decl, app->name) == 0;
  return pkg ? !own && strcmp(decl, pkg) == 0 : own;
}

/* The declarations of package pkg, or the own ones (pkg NULL). */
static void print_decls(struct sos_buf *b, const struct sos_app *app, const char *pkg) {
  for (uint32_t i = 0; i < app->nenums; i++)
    if (in_pkg(app, app->enums[i].package, pkg)) print_enum(b, &app->enums[i]);
  for (uint32_t i = 0; i < app->nstructs; i++)
    if (in_pkg(app, app->structs[i].package, pkg)) print_struct(b, &app->structs[i]);
  for (uint32_t i = 0; i < app->ninterfaces; i++)
    if (in_pkg(app, app->interfaces[i].package, pkg)) print_interface(b, &app->interfaces[i]);
}

/* The imported packages in order of first appearance: the names of the
 * packages of every declaration, as an array of count entries. */
static uint32_t imported_pkgs(const struct sos_app *app, const char **names, uint32_t cap) {
  uint32_t n = 0;
  for (int kind = 0; kind < 3; kind++) {
    uint32_t count = kind == 0 ? app->nenums : kind == 1 ? app->nstructs : app->ninterfaces;
    for (uint32_t i = 0; i < count; i++) {
      const char *pkg = kind == 0   ? app->enums[i].package
                        : kind == 1 ? app->structs[i].package
                                    : app->interfaces[i].package;
      bool seen = in_pkg(app, pkg, NULL);
      for (uint32_t j = 0; j < n && !seen; j++) seen = strcmp(names[j], pkg) == 0;
      if (!seen && n < cap) names[n++] = pkg;
    }
  }
  return n;
}

static void print_package(struct sos_buf *b, const struct sos_app *app, const char *pkg) {
  sos_buf_fmt(b, "package %s {\n", pkg);
  print_decls(b, app, pkg);
  sos_buf_str(b, "}\n");
}

int sos__app_decl_text(const struct sos_app *app, const char *name, char **out) {
  struct sos_buf b = {0};
  for (uint32_t i = 0; i < app->nstructs; i++)
    if (app->structs[i].name && strcmp(app->structs[i].name, name) == 0)
      print_struct(&b, &app->structs[i]);
  for (uint32_t i = 0; i < app->nenums; i++)
    if (app->enums[i].name && strcmp(app->enums[i].name, name) == 0)
      print_enum(&b, &app->enums[i]);
  for (uint32_t i = 0; i < app->ninterfaces; i++)
    if (app->interfaces[i].name && strcmp(app->interfaces[i].name, name) == 0)
      print_interface(&b, &app->interfaces[i]);
  return sos_buf_finish(&b, out, NULL);
}

/* `http "/prefix" [host "h"] -> service[.method]`, the method left out
 * when it is the default. */
static void print_route(struct sos_buf *b, const struct sos_app_route *r) {
  sos_buf_str(b, "  http ");
  sos__buf_quote(b, r->prefix ? r->prefix : "");
  if (r->host) {
    sos_buf_str(b, " host ");
    sos__buf_quote(b, r->host);
  }
  sos_buf_fmt(b, " -> %s", r->service ? r->service : "");
  if (r->method && strcmp(r->method, "http") != 0) sos_buf_fmt(b, ".%s", r->method);
  sos_buf_add(b, "\n", 1);
}

/* The imported declarations, one package block per package. */
static void print_imported(struct sos_buf *b, const struct sos_app *app) {
  const char *names[256];
  uint32_t n = imported_pkgs(app, names, 256);
  for (uint32_t i = 0; i < n; i++) print_package(b, app, names[i]);
}

static void print_store(struct sos_buf *b, const struct sos_app_store *s) {
  static const char *const types[] = {"?", "kv", "log", "table", "files"};
  int t = s->type >= SOS_APP_STORE_KV && s->type <= SOS_APP_STORE_FILES ? s->type : 0;
  sos_buf_fmt(b, "  store %s: %s", s->name ? s->name : "", types[t]);
  if (t == SOS_APP_STORE_TABLE)
    sos_buf_fmt(b, " %s key %s", s->table_struct ? s->table_struct : "",
                 s->key ? s->key : "");
  for (uint32_t i = 0; t == SOS_APP_STORE_TABLE && i < s->nindexes; i++)
    sos_buf_fmt(b, "%s%s", i ? ", " : " index ", s->indexes[i] ? s->indexes[i] : "");
  sos_buf_add(b, "\n", 1);
}

int sos_app_print(const struct sos_app *app, char **out, size_t *len) {
  struct sos_buf b = {0};
  *out = NULL;
  if (len) *len = 0;
  if (!app || !app->name || (!app->version && !app->is_package)) return SOS_EINVAL;
  if (app->is_package)
    sos_buf_fmt(&b, "package %s%s%s {\n", app->name, app->version ? " " : "",
                 app->version ? app->version : "");
  else
    sos_buf_fmt(&b, "app %s %s {\n", app->name, app->version);
  if (app->module) {
    sos_buf_str(&b, "  module ");
    sos__buf_quote(&b, app->module);
    sos_buf_add(&b, "\n", 1);
  }
  print_paths(&b, "sources", app->sources, app->nsources);
  print_paths(&b, "files", app->files, app->nfiles);
  for (uint32_t i = 0; i < app->nuses; i++)
    sos_buf_fmt(&b, "%s%s", i ? ", " : "  uses ", app->uses[i] ? app->uses[i] : "");
  if (app->nuses) sos_buf_add(&b, "\n", 1);
  for (uint32_t i = 0; i < app->nsecrets; i++)
    sos_buf_fmt(&b, "%s%s", i ? ", " : "  secret ", app->secrets[i] ? app->secrets[i] : "");
  if (app->nsecrets) sos_buf_add(&b, "\n", 1);
  for (uint32_t i = 0; i < app->negress; i++) {
    sos_buf_str(&b, i ? ", " : "  egress ");
    sos__buf_quote(&b, app->egress[i] ? app->egress[i] : "");
  }
  if (app->negress) sos_buf_add(&b, "\n", 1);
  for (uint32_t i = 0; i < app->nparams; i++) {
    sos_buf_fmt(&b, "  env %s = ", app->params[i].name ? app->params[i].name : "");
    sos__buf_quote(&b, app->params[i].value ? app->params[i].value : "");
    sos_buf_add(&b, "\n", 1);
  }
  for (uint32_t i = 0; i < app->nimports; i++) {
    sos_buf_str(&b, "  import ");
    sos__buf_quote(&b, app->imports[i]);
    sos_buf_add(&b, "\n", 1);
  }
  print_decls(&b, app, NULL);
  for (uint32_t i = 0; i < app->nstores; i++) print_store(&b, &app->stores[i]);
  for (uint32_t i = 0; i < app->nservices; i++) print_service(&b, &app->services[i]);
  for (uint32_t i = 0; i < app->nroutes; i++) print_route(&b, &app->routes[i]);
  sos_buf_str(&b, "}\n");
  print_imported(&b, app);
  return sos_buf_finish(&b, out, len);
}

/* ---- sos_app_fmt ----------------------------------------------------------------- */

/* One output line: its code (indent and tokens) is code[start, next
 * line's start) in the code buffer; com is its trailing comment. */
struct line {
  size_t start;
  const char *com;
  size_t comlen;
};

struct fmt {
  struct sos__tok *toks;
  uint32_t ntoks;
  struct sos_buf code;
  struct line *lines;
  uint32_t nlines;
  int rc;
  int depth;          /* open multi-line blocks */
  int inline_depth;   /* open one-line blocks (inside the multi-line ones) */
  bool inline_empty;  /* the innermost one-line block has no statement yet */
  bool in_stmt;       /* a statement has begun and not ended */
  bool cont;          /* a newline after a comma: break the statement there */
  bool fresh;         /* at the start of a block: no blank line */
  uint32_t newlines;  /* since the last token that was not a newline */
  uint32_t last_line; /* source line of the last token on the current line */
  enum sos__tok_kind prev;
};

/* Lexes all of text into f->toks (the parse has validated it). */
static int lex_all(struct fmt *f, const char *text, size_t len, const char *file) {
  struct sos__lex lx;
  char err[8];
  sos__lex_init(&lx, text, len, file, err, sizeof err);
  for (;;) {
    struct sos__tok *t = sos__app_push(&f->toks, &f->ntoks, sizeof *t);
    if (!t) return SOS_ENOMEM;
    int rc = sos__lex_next(&lx, t);
    if (rc) return rc;
    if (t->kind == SOS__TOK_EOF) return 0;
  }
}

/* Starts a new output line indented by indent levels of two spaces. */
static void new_line(struct fmt *f, int indent) {
  struct line *l = sos__app_push(&f->lines, &f->nlines, sizeof *l);
  if (!l) {
    f->rc = SOS_ENOMEM;
    return;
  }
  l->start = f->code.len;
  for (int i = 0; i < indent; i++) sos_buf_add(&f->code, "  ", 2);
}

/* Starts the line for a statement or comment, after one blank line when
 * the source had one here. */
static void begin_line(struct fmt *f, int indent) {
  if (f->newlines >= 2 && !f->fresh) new_line(f, 0);
  new_line(f, indent);
  f->fresh = false;
}

static void add_tok(struct fmt *f, const struct sos__tok *t) {
  sos_buf_add(&f->code, t->p, t->len);
  f->last_line = t->pos.line;
}

/* Whether the block opened by toks[i] closes on the same line. */
static bool one_line_block(const struct fmt *f, uint32_t i) {
  int open = 0;
  for (; i < f->ntoks; i++) {
    enum sos__tok_kind k = f->toks[i].kind;
    if (k == SOS__TOK_NEWLINE || k == SOS__TOK_COMMENT || k == SOS__TOK_EOF) return false;
    if (k == SOS__TOK_LBRACE) open++;
    if (k == SOS__TOK_RBRACE && --open == 0) return true;
  }
  return false;
}

static void on_comment(struct fmt *f, const struct sos__tok *t) {
  size_t n = t->len;
  while (n > 1 && (t->p[n - 1] == ' ' || t->p[n - 1] == '\t' || t->p[n - 1] == '\r')) n--;
  if (f->nlines && f->last_line == t->pos.line && !f->lines[f->nlines - 1].com) {
    f->lines[f->nlines - 1].com = t->p; /* after code on its line */
    f->lines[f->nlines - 1].comlen = n;
    return;
  }
  begin_line(f, f->depth + (f->in_stmt ? 2 : 0));
  sos_buf_add(&f->code, t->p, n);
  f->last_line = t->pos.line;
}

static void on_lbrace(struct fmt *f, const struct sos__tok *t, uint32_t i) {
  sos_buf_add(&f->code, " ", 1);
  add_tok(f, t);
  f->in_stmt = false;
  if (f->inline_depth || one_line_block(f, i)) {
    f->inline_depth++;
    f->inline_empty = true;
  } else {
    f->depth++;
    f->fresh = true;
  }
}

static void on_rbrace(struct fmt *f, const struct sos__tok *t) {
  if (f->inline_depth) {
    if (!f->inline_empty) sos_buf_add(&f->code, " ", 1);
    f->inline_depth--;
    f->inline_empty = false;
  } else {
    f->depth--;
    new_line(f, f->depth);
  }
  add_tok(f, t);
  f->fresh = false;
  f->in_stmt = true; /* the statement that holds the block ends after it */
}

/* Whether a space goes between tokens of kinds a and b on one line: not
 * before `,` `:` `..` `.` `(` `)` `<` `>`, nor after `..` `.` `(` `<`
 * (`store hits: kv`, `1..4`, `list<text>`, `hello(Req) -> Resp`,
 * `-> guestbook.page`). */
static bool spaced(enum sos__tok_kind a, enum sos__tok_kind b) {
  if (b == SOS__TOK_COMMA || b == SOS__TOK_COLON || b == SOS__TOK_RANGE ||
      b == SOS__TOK_DOT || b == SOS__TOK_LPAREN || b == SOS__TOK_RPAREN ||
      b == SOS__TOK_LANGLE || b == SOS__TOK_RANGLE)
    return false;
  return a != SOS__TOK_RANGE && a != SOS__TOK_DOT && a != SOS__TOK_LPAREN &&
         a != SOS__TOK_LANGLE;
}

/* A token that is part of a statement. */
static void on_word(struct fmt *f, const struct sos__tok *t) {
  enum sos__tok_kind k = t->kind;
  if (!f->in_stmt && f->inline_depth) {
    sos_buf_str(&f->code, f->inline_empty ? " " : "; ");
    f->inline_empty = false;
  } else if (!f->in_stmt) {
    begin_line(f, f->depth);
  } else if (f->cont) {
    new_line(f, f->depth + 2);
  } else if (spaced(f->prev, k)) {
    sos_buf_add(&f->code, " ", 1);
  }
  add_tok(f, t);
  f->in_stmt = true;
  f->cont = false;
}

/* Lays out every token into lines. */
static void layout(struct fmt *f) {
  f->fresh = true;
  for (uint32_t i = 0; i < f->ntoks && f->rc == 0; i++) {
    const struct sos__tok *t = &f->toks[i];
    switch (t->kind) {
    case SOS__TOK_EOF: return;
    case SOS__TOK_NEWLINE:
      if (f->in_stmt && f->prev == SOS__TOK_COMMA) f->cont = true;
      else f->in_stmt = false;
      f->newlines++;
      continue;
    case SOS__TOK_COMMENT: on_comment(f, t); break;
    case SOS__TOK_SEMI: f->in_stmt = false; break;
    case SOS__TOK_LBRACE: on_lbrace(f, t, i); break;
    case SOS__TOK_RBRACE: on_rbrace(f, t); break;
    default: on_word(f, t);
    }
    f->newlines = 0;
    if (t->kind != SOS__TOK_COMMENT) f->prev = t->kind;
  }
}

/* The width of line i's code in characters. */
static size_t width(const struct fmt *f, uint32_t i) {
  size_t end = i + 1 < f->nlines ? f->lines[i + 1].start : f->code.len, w = 0;
  for (size_t k = f->lines[i].start; k < end; k++)
    w += ((unsigned char)f->code.p[k] & 0xc0) != 0x80;
  return w;
}

/* Joins the lines, aligning the trailing comments of each run of
 * consecutive lines that have one. */
static int assemble(struct fmt *f, char **out, size_t *outlen) {
  struct sos_buf b = {0};
  size_t col = 0;
  for (uint32_t i = 0; i < f->nlines; i++) {
    const struct line *l = &f->lines[i];
    size_t end = i + 1 < f->nlines ? f->lines[i + 1].start : f->code.len;
    sos_buf_add(&b, f->code.p + l->start, end - l->start);
    if (l->com) {
      if (i == 0 || !f->lines[i - 1].com) { /* a run starts: find its column */
        col = 0;
        for (uint32_t j = i; j < f->nlines && f->lines[j].com; j++)
          if (width(f, j) > col) col = width(f, j);
        col += 2;
      }
      for (size_t w = width(f, i); w < col; w++) sos_buf_add(&b, " ", 1);
      sos_buf_add(&b, l->com, l->comlen);
    }
    sos_buf_add(&b, "\n", 1);
  }
  return sos_buf_finish(&b, out, outlen);
}

int sos_app_fmt(const char *text, size_t len, const char *file, char **out,
                size_t *outlen, char *err, size_t errlen) {
  struct sos_app *app;
  struct fmt f;
  *out = NULL;
  if (outlen) *outlen = 0;
  int rc = sos_app_parse(text, len, file, &app, err, errlen);
  if (rc) return rc;
  sos_app_free(app);
  memset(&f, 0, sizeof f);
  rc = lex_all(&f, text, len, file ? file : "<input>");
  if (rc == 0) {
    layout(&f);
    rc = f.rc ? f.rc : f.code.rc;
  }
  if (rc == 0) rc = assemble(&f, out, outlen);
  if (rc && err && errlen) snprintf(err, errlen, "%s: out of memory", file ? file : "<input>");
  sos_free(f.toks);
  sos_free(f.lines);
  sos_free(f.code.p);
  return rc;
}

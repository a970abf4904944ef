/*
 * lang.h - the SOS language's shared machinery: the lexer, quoting,
 * error messages with did-you-mean hints, and the app parser's internal
 * entry points.
 *
 * The SOS language is line-oriented: a newline ends a statement (so does
 * `;`), which makes the lexer return NEWLINE tokens, and a formatter needs
 * the comments, which makes it return COMMENT tokens too; parsers skip
 * the latter.  Numbers come in four kinds decided by their spelling: a
 * plain integer (64), a size (16MiB: the value is in bytes), a duration
 * (2s: the value is in milliseconds) and a version (1.0.0: only its text).
 * docs/language.md describes every token.
 *
 * The app parser (app_parse.c) lives beside the lexer, with what the
 * parser and the loader share about stores and structs (app_store.c);
 * later parts of the language (the IDL, HTTP routes) reuse the lexer and
 * these helpers.
 */
#ifndef SOS_LANG_H
#define SOS_LANG_H

#include "sos/app.h"
#include "sos/base.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the lexer (lex.c) ---------------------------------------------------- */

enum sos__tok_kind {
  SOS__TOK_EOF,
  SOS__TOK_NEWLINE,
  SOS__TOK_COMMENT,  /* `#` to the end of the line, without the newline */
  SOS__TOK_IDENT,    /* [A-Za-z_][A-Za-z0-9_-]*, never ending in the `-` of `->` */
  SOS__TOK_STRING,   /* "..." with escapes; text includes the quotes */
  SOS__TOK_INT,      /* 64: value */
  SOS__TOK_SIZE,     /* 16MiB: value in bytes */
  SOS__TOK_DURATION, /* 2s: value in milliseconds */
  SOS__TOK_VERSION,  /* 1.0.0 */
  SOS__TOK_LBRACE,   /* { */
  SOS__TOK_RBRACE,   /* } */
  SOS__TOK_SEMI,     /* ; */
  SOS__TOK_COMMA,    /* , */
  SOS__TOK_EQUALS,   /* = */
  SOS__TOK_RANGE,    /* .. */
  SOS__TOK_DOT,      /* . (service.method) */
  SOS__TOK_ARROW,    /* -> */
  SOS__TOK_COLON,    /* : */
  SOS__TOK_LPAREN,   /* ( */
  SOS__TOK_RPAREN,   /* ) */
  SOS__TOK_LANGLE,   /* < */
  SOS__TOK_RANGLE,   /* > */
};

/* One token.  p and len are its text in the source (borrowed). */
struct sos__tok {
  enum sos__tok_kind kind;
  const char *p;
  size_t len;
  uint64_t value; /* INT, SIZE and DURATION only */
  struct sos_app_pos pos;
};

/* The lexer's state.  Columns count characters (UTF-8 sequences), not
 * bytes; col caches the column of col_p so that counting stays linear. */
struct sos__lex {
  const char *cur, *end;
  const char *file;
  uint32_t line;
  const char *col_p; /* a place on the current line whose column is col */
  uint32_t col;
  char *err;
  size_t errlen;
};

/* Starts lexing len bytes of text.  file names the text in messages;
 * err (errlen bytes) receives the first error.  Borrows all three. */
void sos__lex_init(struct sos__lex *lx, const char *text, size_t len,
                   const char *file, char *err, size_t errlen);

/* Reads the next token into *t.  At the end it returns EOF tokens for
 * ever.  Errors: SOS_EINVAL with "file:line:col: message" in err (an
 * unterminated string, a bad escape, an unknown unit, a number too large,
 * a stray character). */
int sos__lex_next(struct sos__lex *lx, struct sos__tok *t);

/* Decodes a STRING token's escapes into a fresh NUL-terminated string
 * (freed with sos_free).  The lexer has checked them.  Errors: SOS_ENOMEM. */
int sos__lex_string(const struct sos__tok *t, char **out);

/* A short description of t for messages: `"modul"`, `a string`, `"{"`,
 * `the end of the line`.  Written into buf (n bytes), which it returns. */
const char *sos__tok_describe(const struct sos__tok *t, char *buf, size_t n);

/* ---- messages and text (util.c) ------------------------------------------ */

/* Writes "file:line:col: " and the formatted message into err; returns
 * SOS_EINVAL for the caller to pass on. */
int sos__lang_error(char *err, size_t errlen, const char *file,
                    struct sos_app_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* The word of the NULL-ended list words that w (n bytes) most likely
 * misspells, or NULL when none is close enough to suggest. */
const char *sos__lang_suggest(const char *w, size_t n, const char *const *words);

/* The same over the names of count items of size bytes each starting at
 * items, each a struct whose first member is its `char *name` (services,
 * structs, fields, stores); NULL names are skipped. */
const char *sos__lang_suggest_name(const char *w, size_t n, const void *items,
                                   size_t count, size_t size);

/* Copies p (n bytes) into buf (size bytes) for a message: non-printable
 * bytes as \xHH, cut with "..." past about 40 characters.  Returns buf. */
const char *sos__lang_show(const char *p, size_t n, char *buf, size_t size);

/* Appends s as a string literal: quotes, with \" \\ \n \t \r and \xHH. */
void sos__buf_quote(struct sos_buf *b, const char *s);

/* ---- the app parser (app_parse.c) ------------------------------------------ */

#define SOS__APP_MAX_NAME 63      /* bytes of a name */
#define SOS__APP_MAX_ITEMS 4096u  /* entries of each list in one file */
#define SOS__APP_MAX_INSTANCES 10000u
#define SOS__APP_MAX_MEMORY ((uint64_t)4 << 30)
#define SOS__APP_MIN_MEMORY ((uint64_t)64 << 10) /* one WebAssembly page */
#define SOS__APP_MAX_TIMEOUT_MS 3600000u
#define SOS__APP_MAX_QUEUE 1000000u

#define SOS__APP_MAX_QUOTA ((uint64_t)1 << 40)
#define SOS__APP_MAX_KEYS 1000000000u
#define SOS__APP_MAX_TAG 65535u      /* field numbers are 1..65535 */
#define SOS__APP_MAX_INDEXES 16u     /* secondary indexes of one table */

/* Service field defaults (see app.h). */
#define SOS__APP_DEF_MIN 1u
#define SOS__APP_DEF_MAX 4u
#define SOS__APP_DEF_MEMORY ((uint64_t)16 << 20)
#define SOS__APP_DEF_TIMEOUT_MS 5000u
#define SOS__APP_DEF_QUEUE 64u
#define SOS__APP_DEF_QUOTA ((uint64_t)64 << 20)
#define SOS__APP_DEF_KEYS 1000000u

/* Which fields a service block gives (for extends). */
enum {
  SOS__APP_GIVES_INSTANCES = 1,
  SOS__APP_GIVES_MEMORY = 2,
  SOS__APP_GIVES_TIMEOUT = 4,
  SOS__APP_GIVES_QUEUE = 8,
  SOS__APP_GIVES_QUOTA = 16,
  SOS__APP_GIVES_KEYS = 32,
};

/* Where the parts of a table store's type are written (for messages):
 * the struct name, the key field and each index field. */
struct sos__app_table_pos {
  struct sos_app_pos table, key;
  struct sos_app_pos index[SOS__APP_MAX_INDEXES];
};

/* What a parse knows beyond struct sos_app, for sos_app_load: where the
 * `app` keyword and the extends path are, which fields each service
 * block gave (given[i] for services[i], SOS__APP_GIVES_* bits) and where
 * each store's type is written (tables[i] for stores[i]; only tables use
 * it). */
struct sos__app_info {
  struct sos_app_pos app, extends;
  uint8_t *given; /* sos_malloc'd, nservices entries (may be NULL if 0) */
  struct sos__app_table_pos *tables; /* sos_malloc'd, nstores entries */
};

/* sos_app_parse with *info filled in as well (when info is not NULL);
 * on success the caller frees it with sos__app_info_free. */
int sos__app_parse(const char *text, size_t len, const char *file,
                   struct sos_app **out, struct sos__app_info *info, char *err,
                   size_t errlen);

/* Frees what info holds and empties it. */
void sos__app_info_free(struct sos__app_info *info);

/* The canonical text of app's declarations named name (a struct, an
 * enum or an interface; empty when none), in *out (sos_free). */
int sos__app_decl_text(const struct sos_app *app, const char *name, char **out);

/* Free what one declaration holds and zero it. */
void sos__app_struct_clear(struct sos_app_struct *st);
void sos__app_enum_clear(struct sos_app_enum *e);
void sos__app_interface_clear(struct sos_app_interface *it);
void sos__app_route_clear(struct sos_app_route *r);

/* Appends one element of size bytes to the array whose pointer is at
 * arrp (a `T **`) and whose count is *n, growing it to the next power of
 * two (at least 4); the new slot is zeroed and returned, and *n grows by
 * one.  NULL when out of memory (nothing changes). */
void *sos__app_push(void *arrp, uint32_t *n, size_t size);

/* ---- the IDL's checks (idl_check.c) ---------------------------------------------- */

/* Resolves the type names of app's fields (a struct's or an enum's, which
 * the parser cannot tell apart) and checks the declarations together:
 * methods name structs, services implement declared interfaces, no
 * struct holds itself by value, a table's struct has only scalar fields.
 * strict (sos_app_load, with every import and base present) reports a
 * name that is declared nowhere; otherwise such names stay unresolved
 * (SOS_APP_T_STRUCT).  Errors: SOS_EINVAL with "file:line:col: message"
 * (positions of imported declarations refer to their own files). */
int sos__app_resolve(struct sos_app *app, const char *file, bool strict, char *err,
                     size_t errlen);

/* Writes field f's type as written ("u64", "list<text>", "optional Person")
 * into buf (n bytes) and returns buf. */
const char *sos__app_field_type(const struct sos_app_field *f, char *buf, size_t n);

/* ---- stores and structs (app_store.c) ---------------------------------------- */

/* The SOS_APP_T_* type spelled p (n bytes), or 0 for none. */
uint8_t sos__app_type(const char *p, size_t n);

/* The type names, in SOS_APP_T_* order, NULL-ended (for suggestions). */
extern const char *const sos__app_type_names[];

/* Checks a table store s, declared in file with its type's tokens at tp,
 * against its struct st: its key and index fields must be fields of st
 * of type text, bytes or an integer.  Errors: SOS_EINVAL with the
 * message at the token of the first field that does not fit. */
int sos__app_check_table(const struct sos_app_store *s, const struct sos__app_table_pos *tp,
                         const struct sos_app_struct *st, const char *file, char *err,
                         size_t errlen);

/* Whether field can be a key or an index of a table of struct st; when
 * not, why (a message without a position, such as `struct Entry has no
 * field "at"`) in why, n bytes.  hint adds a did-you-mean. */
bool sos__app_field_fits(const struct sos_app_struct *st, const char *field, bool hint,
                         char *why, size_t n);

#endif

/*
 * lex.c - the SOS language's lexer, shared by app definitions and (later)
 * the IDL.
 *
 * The input is UTF-8 text read in one piece; tokens point into it, so
 * lexing allocates nothing (only sos__lex_string, which decodes a string
 * token on demand, does).  The lexer checks everything a token alone can
 * get wrong, so parsers see only well-formed tokens:
 *
 *   - strings end on their line; escapes are \\ \" \n \t \r and \xHH
 *     (never \x00: strings become C strings); raw control characters
 *     other than tab are refused;
 *   - a number is a run of digits.  Digits, a dot and a digit start a
 *     version, which must be exactly MAJOR.MINOR.PATCH without leading
 *     zeros.  Digits then letters are a size or a duration, converted to
 *     bytes or milliseconds here, with a did-you-mean for unknown units.
 *     "1..4" is an integer, a range and an integer;
 *   - an identifier may contain '-' (service names do), except the '-' of
 *     a following "->", so that `a->b` reads as three tokens.
 *
 * Newlines are tokens, because a newline ends a statement; spaces, tabs
 * and carriage returns (CRLF files) are not.  Columns count characters,
 * not bytes, as editors do.
 */
#include "lang/lang.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

void sos__lex_init(struct sos__lex *lx, const char *text, size_t len,
                   const char *file, char *err, size_t errlen) {
  lx->cur = text;
  lx->end = text + len;
  lx->file = file;
  lx->line = 1;
  lx->col_p = text;
  lx->col = 1;
  lx->err = err;
  lx->errlen = errlen;
}

/* The position of p, which is on the current line at or after col_p. */
static struct sos_app_pos pos_of(struct sos__lex *lx, const char *p) {
  for (; lx->col_p < p; lx->col_p++)
    if (((unsigned char)*lx->col_p & 0xc0) != 0x80) lx->col++; /* not a continuation */
  return (struct sos_app_pos){lx->line, lx->col};
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_word(int c) { return is_alpha(c) || is_digit(c) || c == '_'; }

/* ---- strings -------------------------------------------------------------- */

static int hex_value(int c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Checks the escape at p (a backslash); its length, or 0 when bad. */
static size_t escape_len(const char *p, const char *end) {
  if (end - p < 2) return 0;
  if (strchr("\\\"ntr", p[1]) && p[1]) return 2;
  if (p[1] != 'x' || end - p < 4) return 0;
  int hi = hex_value(p[2]), lo = hex_value(p[3]);
  return hi >= 0 && lo >= 0 && (hi | lo) != 0 ? 4 : 0;
}

static int lex_string(struct sos__lex *lx, struct sos__tok *t) {
  const char *p = lx->cur + 1;
  for (;;) {
    if (p == lx->end || *p == '\n')
      return sos__lang_error(lx->err, lx->errlen, lx->file, t->pos,
                             "unterminated string (a string ends on the line it starts)");
    unsigned char c = (unsigned char)*p;
    if (c == '"') break;
    if (c == '\\') {
      size_t n = escape_len(p, lx->end);
      if (n == 0)
        return sos__lang_error(lx->err, lx->errlen, lx->file, pos_of(lx, p),
                               "bad escape in string; use \\\\, \\\", \\n, \\t, \\r "
                               "or \\xHH (not \\x00)");
      p += n;
      continue;
    }
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      return sos__lang_error(lx->err, lx->errlen, lx->file, pos_of(lx, p),
                             "control character \\x%02x in string; write it as an escape",
                             c);
    p++;
  }
  t->kind = SOS__TOK_STRING;
  t->len = (size_t)(p + 1 - lx->cur);
  return 0;
}

int sos__lex_string(const struct sos__tok *t, char **out) {
  char *s = sos_malloc(t->len), *o = s; /* never longer than the literal */
  if (!s) return SOS_ENOMEM;
  for (const char *p = t->p + 1, *end = t->p + t->len - 1; p < end; p++) {
    if (*p != '\\') {
      *o++ = *p;
      continue;
    }
    p++;
    switch (*p) {
    case 'n': *o++ = '\n'; break;
    case 't': *o++ = '\t'; break;
    case 'r': *o++ = '\r'; break;
    case 'x':
      *o++ = (char)(hex_value(p[1]) << 4 | hex_value(p[2]));
      p += 2;
      break;
    default: *o++ = *p; /* \\ and \" */
    }
  }
  *o = 0;
  *out = s;
  return 0;
}

/* ---- numbers -------------------------------------------------------------- */

static const struct unit {
  const char *name;
  enum sos__tok_kind kind;
  uint64_t scale;
} units[] = {
    {"B", SOS__TOK_SIZE, 1},
    {"KiB", SOS__TOK_SIZE, 1ull << 10},
    {"MiB", SOS__TOK_SIZE, 1ull << 20},
    {"GiB", SOS__TOK_SIZE, 1ull << 30},
    {"TiB", SOS__TOK_SIZE, 1ull << 40},
    {"KB", SOS__TOK_SIZE, 1000ull},
    {"MB", SOS__TOK_SIZE, 1000000ull},
    {"GB", SOS__TOK_SIZE, 1000000000ull},
    {"TB", SOS__TOK_SIZE, 1000000000000ull},
    {"ms", SOS__TOK_DURATION, 1},
    {"s", SOS__TOK_DURATION, 1000},
    {"m", SOS__TOK_DURATION, 60000},
    {"h", SOS__TOK_DURATION, 3600000},
};
#define NUNITS (sizeof units / sizeof units[0])

/* A unit that the unknown unit u (n bytes) may misspell: one that starts
 * with it ("M" -> "MiB"), equals it but for case ("mb" -> "MB"), or is
 * one edit away. */
static const char *unit_hint(const char *u, size_t n) {
  const char *names[NUNITS + 1];
  for (size_t i = 0; i < NUNITS; i++) {
    names[i] = units[i].name;
    if (strlen(units[i].name) > n && memcmp(units[i].name, u, n) == 0) return names[i];
  }
  for (size_t i = 0; i < NUNITS; i++)
    if (strlen(units[i].name) == n && strncasecmp(units[i].name, u, n) == 0)
      return names[i];
  names[NUNITS] = NULL;
  return n >= 2 ? sos__lang_suggest(u, n, names) : NULL;
}

static int unknown_unit(struct sos__lex *lx, struct sos__tok *t, const char *u,
                        size_t n) {
  char shown[64];
  const char *hint = unit_hint(u, n);
  sos__lang_show(u, n, shown, sizeof shown);
  if (hint)
    return sos__lang_error(lx->err, lx->errlen, lx->file, t->pos,
                           "unknown unit \"%s\"; did you mean \"%s\"?", shown, hint);
  return sos__lang_error(lx->err, lx->errlen, lx->file, t->pos,
                         "unknown unit \"%s\"; sizes take B, KiB, MiB, GiB, KB, MB, "
                         "GB and durations ms, s, m, h",
                         shown);
}

/* Applies the unit after the digits (at p, n bytes) to t. */
static int apply_unit(struct sos__lex *lx, struct sos__tok *t, const char *u, size_t n) {
  for (size_t i = 0; i < NUNITS; i++) {
    if (strlen(units[i].name) != n || memcmp(units[i].name, u, n) != 0) continue;
    if (t->value > UINT64_MAX / units[i].scale)
      return sos__lang_error(lx->err, lx->errlen, lx->file, t->pos, "number too large");
    t->kind = units[i].kind;
    t->value *= units[i].scale;
    return 0;
  }
  return unknown_unit(lx, t, u, n);
}

/* Scans one version part at *p: digits, no leading zero, at most 9. */
static bool version_part(const char **p, const char *end) {
  const char *s = *p;
  while (*p < end && is_digit(**p)) (*p)++;
  size_t n = (size_t)(*p - s);
  return n >= 1 && n <= 9 && !(n > 1 && *s == '0');
}

static int lex_version(struct sos__lex *lx, struct sos__tok *t) {
  const char *p = lx->cur;
  int parts = 0;
  bool ok = true;
  do {
    if (parts++) p++; /* the dot */
    ok = version_part(&p, lx->end) && ok;
  } while (p + 1 < lx->end && *p == '.' && is_digit(p[1]));
  if (p < lx->end && (is_word(*p) || *p == '.' || *p == '-' || *p == '+')) ok = false;
  if (!ok || parts != 3)
    return sos__lang_error(lx->err, lx->errlen, lx->file, t->pos,
                           "bad version; write MAJOR.MINOR.PATCH such as 1.0.0 "
                           "(no leading zeros, no suffix)");
  t->kind = SOS__TOK_VERSION;
  t->len = (size_t)(p - lx->cur);
  return 0;
}

static int lex_number(struct sos__lex *lx, struct sos__tok *t) {
  const char *p = lx->cur;
  while (p < lx->end && is_digit(*p)) p++;
  if (p + 1 < lx->end && *p == '.' && is_digit(p[1])) return lex_version(lx, t);
  t->kind = SOS__TOK_INT;
  t->value = 0;
  for (const char *d = lx->cur; d < p; d++) {
    if (t->value > (UINT64_MAX - (uint64_t)(*d - '0')) / 10)
      return sos__lang_error(lx->err, lx->errlen, lx->file, t->pos, "number too large");
    t->value = t->value * 10 + (uint64_t)(*d - '0');
  }
  const char *u = p;
  while (p < lx->end && is_word(*p)) p++;
  t->len = (size_t)(p - lx->cur);
  return p > u ? apply_unit(lx, t, u, (size_t)(p - u)) : 0;
}

/* ---- the rest ------------------------------------------------------------- */

static void lex_ident(struct sos__lex *lx, struct sos__tok *t) {
  const char *p = lx->cur + 1;
  while (p < lx->end &&
         (is_word(*p) || (*p == '-' && !(p + 1 < lx->end && p[1] == '>'))))
    p++;
  t->kind = SOS__TOK_IDENT;
  t->len = (size_t)(p - lx->cur);
}

static int stray(struct sos__lex *lx, struct sos__tok *t) {
  unsigned char c = (unsigned char)*lx->cur;
  if (c == '-' && lx->cur + 1 < lx->end && is_digit(lx->cur[1]))
    return sos__lang_error(lx->err, lx->errlen, lx->file, t->pos,
                           "unexpected \"-\"; numbers cannot be negative");
  if (c >= 0x80)
    return sos__lang_error(lx->err, lx->errlen, lx->file, t->pos,
                           "unexpected non-ASCII character outside a string or comment");
  if (c < 0x20 || c == 0x7f)
    return sos__lang_error(lx->err, lx->errlen, lx->file, t->pos,
                           "unexpected control character \\x%02x", c);
  return sos__lang_error(lx->err, lx->errlen, lx->file, t->pos,
                         "unexpected character \"%c\"", c);
}

/* Single-character punctuation, or EOF (0) when c is none. */
static enum sos__tok_kind punct(int c) {
  switch (c) {
  case '{': return SOS__TOK_LBRACE;
  case '}': return SOS__TOK_RBRACE;
  case ';': return SOS__TOK_SEMI;
  case ',': return SOS__TOK_COMMA;
  case '=': return SOS__TOK_EQUALS;
  case ':': return SOS__TOK_COLON;
  case '(': return SOS__TOK_LPAREN;
  case ')': return SOS__TOK_RPAREN;
  case '<': return SOS__TOK_LANGLE;
  case '>': return SOS__TOK_RANGLE;
  }
  return SOS__TOK_EOF;
}

/* Lexes the token at lx->cur (not a space, not the end) into t. */
static int lex_token(struct sos__lex *lx, struct sos__tok *t) {
  char c = *lx->cur;
  const char *nl;
  t->len = 1;
  if (c == '\n') t->kind = SOS__TOK_NEWLINE;
  else if (c == '#') {
    nl = memchr(lx->cur, '\n', (size_t)(lx->end - lx->cur));
    t->kind = SOS__TOK_COMMENT;
    t->len = (size_t)((nl ? nl : lx->end) - lx->cur);
  } else if (c == '"') return lex_string(lx, t);
  else if (is_digit(c)) return lex_number(lx, t);
  else if (is_alpha(c) || c == '_') lex_ident(lx, t);
  else if ((t->kind = punct(c)) != SOS__TOK_EOF) return 0;
  else if (c == '.' && lx->cur + 1 < lx->end && lx->cur[1] == '.') {
    t->kind = SOS__TOK_RANGE;
    t->len = 2;
  } else if (c == '.') {
    t->kind = SOS__TOK_DOT;
  } else if (c == '-' && lx->cur + 1 < lx->end && lx->cur[1] == '>') {
    t->kind = SOS__TOK_ARROW;
    t->len = 2;
  } else return stray(lx, t);
  return 0;
}

int sos__lex_next(struct sos__lex *lx, struct sos__tok *t) {
  while (lx->cur < lx->end && (*lx->cur == ' ' || *lx->cur == '\t' || *lx->cur == '\r'))
    lx->cur++;
  memset(t, 0, sizeof *t);
  t->p = lx->cur;
  t->pos = pos_of(lx, lx->cur);
  if (lx->cur == lx->end) return 0; /* EOF */
  int rc = lex_token(lx, t);
  if (rc) return rc;
  lx->cur += t->len;
  if (t->kind == SOS__TOK_NEWLINE) {
    lx->line++;
    lx->col_p = lx->cur;
    lx->col = 1;
  }
  return 0;
}

const char *sos__tok_describe(const struct sos__tok *t, char *buf, size_t n) {
  char shown[64];
  switch (t->kind) {
  case SOS__TOK_EOF: return "the end of the file";
  case SOS__TOK_NEWLINE: return "the end of the line";
  case SOS__TOK_COMMENT: return "a comment";
  case SOS__TOK_STRING: return "a string";
  case SOS__TOK_IDENT:
    snprintf(buf, n, "\"%s\"", sos__lang_show(t->p, t->len, shown, sizeof shown));
    return buf;
  case SOS__TOK_INT:
  case SOS__TOK_SIZE:
  case SOS__TOK_DURATION:
  case SOS__TOK_VERSION:
    snprintf(buf, n, "%s", sos__lang_show(t->p, t->len, shown, sizeof shown));
    return buf;
  default: snprintf(buf, n, "\"%.*s\"", (int)t->len, t->p); return buf;
  }
}

/*
 * version.c - semantic versions (MAJOR.MINOR.PATCH, semver.org §2) and the
 * requirements that select them, as `service("name", ">=1.2")` and the
 * `services` built-in use them.
 *
 * A requirement is one or more comparisons joined by commas, all of which
 * must hold: `OP VERSION` where OP is =, >, >=, <, <=, ^ (compatible: the
 * same major version, at least VERSION; for 0.x the same minor) or ~ (the
 * same major and minor, at least VERSION), and VERSION has one to three
 * numbers (missing ones are 0).  A bare VERSION means ^VERSION, as in
 * Cargo; an empty requirement or `*` accepts every version.  Pre-release
 * and build suffixes are not supported: SOS versions have none.
 */
#include "sos/base.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Reads up to three dot-separated numbers at *s into v; n gets how many. */
static bool parse_parts(const char **s, uint64_t v[3], int *n) {
  *n = 0;
  v[0] = v[1] = v[2] = 0;
  for (;;) {
    const char *p = *s;
    uint64_t x = 0;
    if (*p < '0' || *p > '9') return false;
    while (*p >= '0' && *p <= '9') {
      if (x > 999999999) return false;
      x = x * 10 + (uint64_t)(*p++ - '0');
    }
    v[(*n)++] = x;
    *s = p;
    if (**s != '.' || *n == 3) return true;
    (*s)++;
  }
}

static int cmp3(const uint64_t a[3], const uint64_t b[3]) {
  for (int i = 0; i < 3; i++)
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

/* Whether version v satisfies one comparison (op, want with n parts). */
static bool holds(const uint64_t v[3], const char *op, const uint64_t want[3], int n) {
  int c = cmp3(v, want);
  if (!strcmp(op, "=")) return c == 0;
  if (!strcmp(op, ">")) return c > 0;
  if (!strcmp(op, ">=")) return c >= 0;
  if (!strcmp(op, "<")) return c < 0;
  if (!strcmp(op, "<=")) return c <= 0;
  if (c < 0) return false;
  if (!strcmp(op, "~")) return v[0] == want[0] && (n < 2 || v[1] == want[1]);
  /* ^: the leftmost non-zero part given stays the same */
  if (want[0] || n == 1) return v[0] == want[0];
  if (want[1] || n == 2) return v[0] == 0 && v[1] == want[1];
  return v[0] == 0 && v[1] == 0 && v[2] == want[2];
}

int sos_version_parse(const char *s, uint64_t out[3]) {
  int n;
  if (!s || !parse_parts(&s, out, &n) || n != 3 || *s) return SOS_EINVAL;
  return 0;
}

int sos_version_match(const char *version, const char *req) {
  uint64_t v[3];
  if (sos_version_parse(version, v)) return SOS_EINVAL;
  const char *s = req ? req : "";
  bool ok = true;
  while (*s == ' ') s++;
  if (!*s || (s[0] == '*' && !s[1])) return 1;
  for (;;) {
    char op[3] = "^";
    while (*s == ' ') s++;
    size_t k = strspn(s, "=<>^~");
    if (k > 2 || (k == 2 && s[1] != '=') || (k == 2 && s[0] != '<' && s[0] != '>'))
      return SOS_EINVAL;
    if (k) memcpy(op, s, k), op[k] = 0;
    s += k;
    while (*s == ' ') s++;
    uint64_t want[3];
    int n;
    if (!parse_parts(&s, want, &n)) return SOS_EINVAL;
    ok = ok && holds(v, op, want, n);
    while (*s == ' ') s++;
    if (!*s) return ok;
    if (*s++ != ',') return SOS_EINVAL;
  }
}

/*
 * util.c - small helpers shared by the `sos` commands: option matching,
 * number and byte-size parsing, and the messages for a file that cannot be
 * read.
 *
 * Options follow the GNU long form: "--name VALUE" or "--name=VALUE".
 * Sizes take binary units by default (64M and 64MiB are both 64 * 2^20)
 * and decimal ones only when spelled with a B (64MB is 64 * 10^6), so the
 * short forms mean what a person sizing memory usually means.
 */
#include "cli/cli.h"

#include "sos/base.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Whether arg asks for help. */
int sos__cli_is_help(const char *arg) {
  return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* Matches option name at argv[*i] (see cli.h). */
int sos__cli_opt(const struct sos__cli_cmd *cmd, int argc, char **argv,
                 int *i, const char *name, const char **val) {
  const char *a = argv[*i];
  size_t n = strlen(name);
  if (strncmp(a, name, n) != 0) return 0;
  if (!val) return a[n] == '\0';
  if (a[n] == '=') {
    *val = a + n + 1;
    return 1;
  }
  if (a[n] != '\0') return 0;
  if (*i + 1 >= argc) {
    sos__cli_usage(cmd, "option %s needs a value", name);
    return -1;
  }
  *val = argv[++*i];
  return 1;
}

/* Parses a decimal count. */
int sos__cli_parse_u64(const char *s, uint64_t *out) {
  uint64_t v = 0;
  if (!*s) return SOS_EINVAL;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return SOS_EINVAL;
    if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10) return SOS_ETOOBIG;
    v = v * 10 + (uint64_t)(*s - '0');
  }
  *out = v;
  return 0;
}

/* The multiplier for a size unit, or 0 when the unit is unknown. */
static uint64_t unit_scale(const char *u) {
  static const struct {
    const char *name;
    uint64_t scale;
  } units[] = {
      {"", 1},          {"b", 1},
      {"k", 1ull << 10}, {"kib", 1ull << 10}, {"kb", 1000ull},
      {"m", 1ull << 20}, {"mib", 1ull << 20}, {"mb", 1000000ull},
      {"g", 1ull << 30}, {"gib", 1ull << 30}, {"gb", 1000000000ull},
      {"t", 1ull << 40}, {"tib", 1ull << 40}, {"tb", 1000000000000ull},
  };
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
    if (strcasecmp(u, units[i].name) == 0) return units[i].scale;
  return 0;
}

/* Parses a byte count with an optional unit (see cli.h). */
int sos__cli_parse_size(const char *s, uint64_t *out) {
  char digits[32];
  size_t n = strspn(s, "0123456789");
  if (n == 0 || n >= sizeof digits) return n ? SOS_ETOOBIG : SOS_EINVAL;
  memcpy(digits, s, n);
  digits[n] = '\0';
  uint64_t v, scale = unit_scale(s + n);
  int rc = sos__cli_parse_u64(digits, &v);
  if (rc) return rc;
  if (!scale) return SOS_EINVAL;
  if (v > UINT64_MAX / scale) return SOS_ETOOBIG;
  *out = v * scale;
  return 0;
}

/* Whether an errno value comes from read(2) on an open file rather than
 * from opening it, so that messages name the step that failed. */
static int is_read_errno(int e) {
  return e == EISDIR || e == EIO || e == EINVAL || e == EAGAIN;
}

/* Reads the file at path (see cli.h); sos_file_read does the reading. */
int sos__cli_read_file(const char *path, uint8_t **data, size_t *len,
                       char *err, size_t errlen) {
  int rc = sos_file_read(path, data, len);
  if (rc == SOS_ENOMEM)
    snprintf(err, errlen, "cannot read: %s", sos_strerror(rc));
  else if (rc)
    snprintf(err, errlen, "cannot %s: %s", is_read_errno(errno) ? "read" : "open",
             strerror(errno));
  return rc;
}

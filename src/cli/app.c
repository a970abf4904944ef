/*
 * app.c - `sos check` and `sos fmt`: the command-line face of app
 * definitions (include/sos/app.h, docs/language.md).
 *
 * Both take an app.sos file, or a folder meaning the app.sos inside it,
 * or nothing meaning ./app.sos.  `check` loads the definition as a deploy
 * would (following `extends`, checking the result) and prints a one-line
 * summary.  `fmt` prints the file in the canonical layout, or with -w
 * replaces it atomically: the new text goes to a temporary file in the
 * same folder, which is synced and renamed over the old one, so a reader
 * sees the old file or the new one, never half of either.  An unchanged
 * file is not rewritten.
 */
#include "cli/cli.h"

#include "sos/app.h"
#include "sos/base.h"
#include "sos/idl.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The definition named by arg (NULL: the current folder) into path. */
static void def_path(const char *arg, char *path, size_t n) {
  struct stat st;
  if (!arg) snprintf(path, n, "app.sos");
  else if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode))
    snprintf(path, n, "%s%sapp.sos", arg, arg[strlen(arg) - 1] == '/' ? "" : "/");
  else snprintf(path, n, "%s", arg);
}

/* The exit status for an error from the app functions. */
static int status_of(int rc) { return rc == SOS_EINVAL ? SOS_CLI_NO : SOS_CLI_USAGE; }

/* ---- sos check ---------------------------------------------------------------- */

/* Parses check's arguments: [--against OLD] [FILE|DIR]. */
static int check_args(const struct sos__cli_cmd *self, int argc, char **argv,
                      const char **arg, const char **against) {
  for (int i = 1; i < argc; i++) {
    int m = sos__cli_opt(self, argc, argv, &i, "--against", against);
    if (m < 0) return SOS_CLI_USAGE;
    if (m) continue;
    if (sos__cli_is_help(argv[i])) {
      sos__cli_help(self);
      return SOS_CLI_OK;
    }
    if (argv[i][0] == '-' && argv[i][1])
      return sos__cli_usage(self, "unknown option '%s'", argv[i]);
    if (*arg) return sos__cli_usage(self, "expected at most one FILE or DIR");
    *arg = argv[i];
  }
  return -1;
}

/* Loads the definition at arg (a file or a folder) or prints why not. */
static int load_def(const char *arg, char *path, size_t n, struct sos_app **app) {
  char err[1024];
  def_path(arg, path, n);
  int rc = sos_app_load(path, app, err, sizeof err);
  if (rc) fprintf(stderr, "%s\n", err[0] ? err : sos_strerror(rc));
  return rc;
}

static int check_main(const struct sos__cli_cmd *self, int argc, char **argv) {
  char path[PATH_MAX], old_path[PATH_MAX], err[1024];
  const char *arg = NULL, *against = NULL;
  int rc = check_args(self, argc, argv, &arg, &against);
  if (rc >= 0) return rc;
  struct sos_app *app, *old = NULL;
  if ((rc = load_def(arg, path, sizeof path, &app)) != 0) return status_of(rc);
  if (against && (rc = load_def(against, old_path, sizeof old_path, &old)) == 0 &&
      (rc = sos_idl_compat(old, app, err, sizeof err)) != 0)
    fprintf(stderr, "%s\n(a breaking change against %s; docs/language.md, \"Changing an "
                    "interface\", lists what may change)\n", err, old_path);
  if (rc == 0 && app->is_package)
    printf("%s: ok (package %s, %u structs, %u enums, %u interfaces)\n", path, app->name,
           app->nstructs_own, app->nenums_own, app->ninterfaces_own);
  else if (rc == 0)
    printf("%s: ok (app %s %s, %u service%s)\n", path, app->name, app->version,
           app->nservices, app->nservices == 1 ? "" : "s");
  if (rc == 0 && against) printf("%s: compatible with %s\n", path, old_path);
  sos_app_free(app);
  sos_app_free(old);
  return rc ? status_of(rc) : SOS_CLI_OK;
}

/* ---- sos fmt -------------------------------------------------------------------- */

/* Writes all n bytes of p to fd. */
static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Replaces the file at path with text (n bytes), keeping its mode: a
 * temporary file beside it, fsync, rename.  0, or -1 with errno set. */
static int replace_file(const char *path, const char *text, size_t n) {
  char real[PATH_MAX], tmp[PATH_MAX + 16];
  struct stat st;
  if (!realpath(path, real) || stat(real, &st) != 0) return -1; /* write through links */
  if (snprintf(tmp, sizeof tmp, "%s.fmt-XXXXXX", real) >= (int)sizeof tmp) {
    errno = ENAMETOOLONG;
    return -1;
  }
  int fd = mkstemp(tmp);
  if (fd < 0) return -1;
  int ok = fchmod(fd, st.st_mode & 07777) == 0 && write_all(fd, text, n) == 0 &&
           fsync(fd) == 0;
  int saved = errno;
  ok = close(fd) == 0 && ok;
  if (ok && rename(tmp, real) == 0) return 0;
  saved = ok ? errno : saved;
  unlink(tmp);
  errno = saved;
  return -1;
}

/* Parses fmt's arguments: [-w] [FILE|DIR]. */
static int fmt_args(const struct sos__cli_cmd *self, int argc, char **argv, bool *write,
                    const char **arg) {
  for (int i = 1; i < argc; i++) {
    if (sos__cli_is_help(argv[i])) {
      sos__cli_help(self);
      return SOS_CLI_OK;
    }
    if (strcmp(argv[i], "-w") == 0) *write = true;
    else if (argv[i][0] == '-' && argv[i][1])
      return sos__cli_usage(self, "unknown option '%s'", argv[i]);
    else if (*arg) return sos__cli_usage(self, "expected one FILE");
    else *arg = argv[i];
  }
  return -1;
}

static int fmt_main(const struct sos__cli_cmd *self, int argc, char **argv) {
  char path[PATH_MAX], err[1024];
  bool write = false;
  const char *arg = NULL;
  int st = fmt_args(self, argc, argv, &write, &arg);
  if (st >= 0) return st;
  def_path(arg, path, sizeof path);
  uint8_t *text;
  size_t len, outlen;
  char *out;
  if (sos__cli_read_file(path, &text, &len, err, sizeof err)) {
    fprintf(stderr, "%s: %s\n", path, err);
    return SOS_CLI_USAGE;
  }
  int rc = sos_app_fmt((const char *)text, len, path, &out, &outlen, err, sizeof err);
  if (rc) {
    fprintf(stderr, "%s\n", err[0] ? err : sos_strerror(rc));
    st = status_of(rc);
  } else if (!write) {
    st = fwrite(out, 1, outlen, stdout) == outlen ? SOS_CLI_OK : SOS_CLI_USAGE;
  } else if (outlen == len && memcmp(out, text, len) == 0) {
    st = SOS_CLI_OK; /* already formatted */
  } else if (replace_file(path, out, outlen) != 0) {
    fprintf(stderr, "%s: cannot write: %s\n", path, strerror(errno));
    st = SOS_CLI_USAGE;
  } else {
    st = SOS_CLI_OK;
  }
  sos_free(out);
  sos_free(text);
  return st;
}

/* ---- the commands ------------------------------------------------------------------ */

const struct sos__cli_cmd sos__cli_check = {
    .name = "check",
    .path = "sos check",
    .summary = "check an app definition (app.sos)",
    .help = "Usage: sos check [--against OLD] [FILE|DIR]\n"
            "\n"
            "Loads the app definition FILE (DIR/app.sos for a folder; ./app.sos\n"
            "by default), or an interface package, as a build would: it follows\n"
            "`extends` and `import`, merges the bases, and checks that the result\n"
            "is complete.  Prints `FILE: ok (app NAME VERSION, N services)`, or\n"
            "the first error as `FILE:LINE:COL: message` on stderr.\n"
            "docs/language.md describes the language.\n"
            "\n"
            "Options:\n"
            "  --against OLD  also check that FILE keeps every client and server of\n"
            "                 the definition OLD (a file or folder) working: no\n"
            "                 interface, method, error, field or enum value of OLD\n"
            "                 removed or changed (docs/language.md, \"Changing an\n"
            "                 interface\")\n"
            "\n"
            "Exit status: 0 valid; 1 an error in a definition or a breaking change;\n"
            "2 when a file cannot be read, or on a usage error.\n",
    .run = check_main,
};

const struct sos__cli_cmd sos__cli_fmt = {
    .name = "fmt",
    .path = "sos fmt",
    .summary = "lay out an app definition canonically",
    .help = "Usage: sos fmt [-w] [FILE|DIR]\n"
            "\n"
            "Prints the app definition FILE (DIR/app.sos for a folder; ./app.sos\n"
            "by default) in the canonical layout: one statement per line, two-\n"
            "space indents, one space between words, comments kept and trailing\n"
            "comments aligned.  Statement order, `extends`, blocks written on one\n"
            "line and the spelling of values are kept.  The file must parse;\n"
            "`extends` is not followed.\n"
            "\n"
            "Options:\n"
            "  -w           rewrite FILE in place (atomically) instead of printing\n"
            "  -h, --help   show this help\n"
            "\n"
            "Exit status: 0 done; 1 a syntax error in FILE; 2 when FILE cannot be\n"
            "read or written, or on a usage error.\n",
    .run = fmt_main,
};

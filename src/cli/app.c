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

static int check_main(const struct sos__cli_cmd *self, int argc, char **argv) {
  char path[PATH_MAX], err[1024];
  if (argc == 2 && sos__cli_is_help(argv[1])) {
    sos__cli_help(self);
    return SOS_CLI_OK;
  }
  if (argc > 2) return sos__cli_usage(self, "expected at most one FILE or DIR");
  if (argc == 2 && argv[1][0] == '-' && argv[1][1])
    return sos__cli_usage(self, "unknown option '%s'", argv[1]);
  def_path(argc == 2 ? argv[1] : NULL, path, sizeof path);
  struct sos_app *app;
  int rc = sos_app_load(path, &app, err, sizeof err);
  if (rc) {
    fprintf(stderr, "%s\n", err[0] ? err : sos_strerror(rc));
    return status_of(rc);
  }
  printf("%s: ok (app %s %s, %u service%s)\n", path, app->name, app->version,
         app->nservices, app->nservices == 1 ? "" : "s");
  sos_app_free(app);
  return SOS_CLI_OK;
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
    .help = "Usage: sos check [FILE|DIR]\n"
            "\n"
            "Loads the app definition FILE (DIR/app.sos for a folder; ./app.sos\n"
            "by default) as a build would: it follows `extends`, merges the\n"
            "bases, and checks that the result is a complete app.  Prints\n"
            "`FILE: ok (app NAME VERSION, N services)`, or the first error as\n"
            "`FILE:LINE:COL: message` on stderr.  docs/language.md describes\n"
            "the language.\n"
            "\n"
            "Exit status: 0 valid; 1 an error in a definition; 2 when a file\n"
            "cannot be read, or on a usage error.\n",
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

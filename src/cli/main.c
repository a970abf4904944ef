/*
 * main.c - the `sos` program: the top command table and dispatch.
 *
 * `sos COMMAND ...` walks the command tree of cli.h: each group looks up
 * its next word in its table and hands the rest of argv to it, so a
 * command sees an argv that starts with its own name, as a program would.
 * --help at any level prints that level's help; an unknown word prints
 * the closest known one as a suggestion.
 */
#include "cli/cli.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The top-level commands.  Add new groups here. */
static const struct sos__cli_cmd *const top_cmds[] = {
    &sos__cli_node,     &sos__cli_build,   &sos__cli_deploy, &sos__cli_ps,
    &sos__cli_call,     &sos__cli_describe, &sos__cli_logs,    &sos__cli_rollback, &sos__cli_rm,
    &sos__cli_kv,       &sos__cli_log,     &sos__cli_files,  &sos__cli_table,
    &sos__cli_snapshot, &sos__cli_secret,
    &sos__cli_restore,  &sos__cli_check,   &sos__cli_fmt,    &sos__cli_idl,    &sos__cli_wasm,
    NULL,
};

static const struct sos__cli_cmd root = {
    .name = "sos",
    .path = "sos",
    .summary = "the SOS command line",
    .help = "Usage: sos [--help] [--version] COMMAND [ARGS...]\n"
            "\n"
            "SOS is a service-oriented operating system; `sos` drives it.\n",
    .subs = top_cmds,
};

/* Edit distance between two short words (for suggestions). */
static size_t distance(const char *a, const char *b) {
  size_t lb = strlen(b), row[64];
  if (lb >= 64) return 64;
  for (size_t j = 0; j <= lb; j++) row[j] = j;
  for (size_t i = 1; a[i - 1]; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t up = row[j];
      size_t best = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < best) best = up + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[lb];
}

/* The subcommand of cmd closest to word, or NULL when none is close. */
static const char *suggest(const struct sos__cli_cmd *cmd, const char *word) {
  const char *best = NULL;
  size_t bestd = 3;
  for (const struct sos__cli_cmd *const *p = cmd->subs; *p; p++) {
    const struct sos__cli_cmd *s = *p;
    size_t d = strncmp(s->name, word, strlen(word)) == 0 ? 1 : distance(word, s->name);
    if (d < bestd) {
      bestd = d;
      best = s->name;
    }
  }
  return best;
}

/* Prints cmd's help, with its subcommand list for a group. */
void sos__cli_help(const struct sos__cli_cmd *cmd) {
  fputs(cmd->help, stdout);
  if (!cmd->subs) return;
  printf("\nCommands:\n");
  for (const struct sos__cli_cmd *const *s = cmd->subs; *s; s++)
    printf("  %-10s %s\n", (*s)->name, (*s)->summary);
  printf("\nRun '%s COMMAND --help' for more about a command.\n", cmd->path);
}

/* Prints a usage error and the way to help; returns SOS_CLI_USAGE. */
int sos__cli_usage(const struct sos__cli_cmd *cmd, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "%s: ", cmd->path);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nRun '%s --help' for usage.\n", cmd->path);
  return SOS_CLI_USAGE;
}

/* Runs a group or a leaf (see cli.h). */
int sos__cli_dispatch(const struct sos__cli_cmd *cmd, int argc, char **argv) {
  if (!cmd->subs) return cmd->run(cmd, argc, argv);
  if (argc < 2) return sos__cli_usage(cmd, "missing command");
  if (sos__cli_is_help(argv[1])) {
    sos__cli_help(cmd);
    return SOS_CLI_OK;
  }
  for (const struct sos__cli_cmd *const *s = cmd->subs; *s; s++)
    if (strcmp((*s)->name, argv[1]) == 0)
      return sos__cli_dispatch(*s, argc - 1, argv + 1);
  const char *near = suggest(cmd, argv[1]);
  if (near)
    return sos__cli_usage(cmd, "unknown command '%s'; did you mean '%s'?", argv[1], near);
  return sos__cli_usage(cmd, "unknown command '%s'", argv[1]);
}

/* sos [--version] COMMAND ...: exits with the command's status. */
int main(int argc, char **argv) {
  /* A node that dies while we write to its socket is an error to report
   * (EPIPE), not a reason to be killed. */
  signal(SIGPIPE, SIG_IGN);
  if (argc == 2 && strcmp(argv[1], "--version") == 0) {
    printf("sos %s\n", SOS_CLI_VERSION);
    return SOS_CLI_OK;
  }
  if (argc < 2) {
    sos__cli_help(&root);
    return SOS_CLI_USAGE;
  }
  return sos__cli_dispatch(&root, argc, argv);
}

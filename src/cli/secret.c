/*
 * secret.c - `sos secret set|ls|rm`: the node's secrets (docs/operations.md,
 * src/kernel/secrets.c).
 *
 * A value is read from stdin, never from the command line, where it would
 * land in shell history and in every other user's `ps`.  One trailing
 * newline is dropped, so `echo "$TOKEN" | sos secret set TOKEN` stores
 * the token itself; a terminal gets a prompt and no echo.  No command
 * prints a value: `ls` shows names and sizes.
 */
#include "cli/cli.h"
#include "sos/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* The value to set: stdin, or a line typed without echo at a terminal. */
static int read_value(uint8_t **out, size_t *len) {
  struct termios old, quiet;
  bool tty = isatty(0) && tcgetattr(0, &old) == 0;
  if (tty) {
    fprintf(stderr, "value (not shown; end with Enter): ");
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(0, TCSANOW, &quiet);
    char line[65600];
    bool got = fgets(line, sizeof line, stdin) != NULL;
    tcsetattr(0, TCSANOW, &old);
    fputc('\n', stderr);
    if (!got) return SOS_EIO;
    *len = strlen(line);
    *out = sos_malloc(*len + 1);
    if (!*out) return SOS_ENOMEM;
    memcpy(*out, line, *len + 1);
  } else {
    int rc = sos_file_read("/dev/stdin", out, len);
    if (rc) return rc;
  }
  if (*len && (*out)[*len - 1] == '\n') (*len)--;
  if (*len && (*out)[*len - 1] == '\r') (*len)--;
  return 0;
}

static int run_secret(const struct sos__cli_cmd *cmd, int argc, char **argv) {
  bool ls = !strcmp(cmd->name, "ls"), set = !strcmp(cmd->name, "set");
  struct sos__cli_args a;
  int rc = sos__cli_parse(cmd, argc, argv, ls ? SOS__CLI_F_JSON : 0, ls ? 0 : 1, ls ? 0 : 1, &a);
  if (rc) return rc == 1 ? SOS_CLI_OK : rc;
  uint8_t *val = NULL;
  size_t len = 0;
  if (set && read_value(&val, &len)) {
    fprintf(stderr, "%s: cannot read the value from stdin\n", cmd->path);
    return SOS_CLI_NO;
  }
  cJSON *j = sos__cli_op("secret", NULL);
  cJSON_AddStringToObject(j, "action", cmd->name);
  if (!ls) cJSON_AddStringToObject(j, "name", a.pos[0]);
  struct sos__cli_reply r;
  rc = sos__cli_ask(cmd, a.data, j, val, len, 10000, &r);
  if (val) memset(val, 0, len);
  sos_free(val);
  if (rc) return rc;
  if (ls && (a.flags & SOS__CLI_F_JSON)) {
    cJSON *arr = cJSON_CreateArray();
    for (char *p = (char *)r.body, *end = p + r.len, *nl; p < end; p = nl + 1) {
      if (!(nl = memchr(p, '\n', (size_t)(end - p)))) break;
      char *tab = memchr(p, '\t', (size_t)(nl - p));
      if (!tab) continue;
      cJSON *o = cJSON_CreateObject();
      *tab = 0;
      cJSON_AddStringToObject(o, "name", p);
      cJSON_AddNumberToObject(o, "bytes", atof(tab + 1));
      cJSON_AddItemToArray(arr, o);
    }
    char *t = cJSON_PrintUnformatted(arr);
    if (t) printf("%s\n", t);
    cJSON_free(t);
    cJSON_Delete(arr);
  } else if (ls) {
    printf("%-32s %s\n", "NAME", "BYTES");
    for (char *p = (char *)r.body, *end = p + r.len, *nl; p < end; p = nl + 1) {
      if (!(nl = memchr(p, '\n', (size_t)(end - p)))) break;
      char *tab = memchr(p, '\t', (size_t)(nl - p));
      if (tab) printf("%-32.*s %.*s\n", (int)(tab - p), p, (int)(nl - tab - 1), tab + 1);
    }
  } else {
    printf(set ? "secret %s set (%zu bytes)\n" : "secret %s removed\n", a.pos[0], len);
  }
  sos__cli_reply_free(&r);
  return SOS_CLI_OK;
}

#define DATA_HELP "  --data DIR   the node's data directory\n"

static const struct sos__cli_cmd set_cmd = {
    .name = "set",
    .path = "sos secret set",
    .summary = "set a secret from stdin",
    .help = "Usage: sos secret set NAME [--data DIR] < VALUE\n"
            "\n"
            "Stores the secret NAME with the value read from stdin (one trailing\n"
            "newline dropped; at a terminal, typed without echo), replacing any\n"
            "old value.  Apps whose app.sos declares `secret NAME` can read it.\n"
            "The value is never taken from the command line, never printed and\n"
            "never logged.  At most 64 KiB.\n" DATA_HELP,
    .run = run_secret,
};

static const struct sos__cli_cmd ls_cmd = {
    .name = "ls",
    .path = "sos secret ls",
    .summary = "list the secrets' names and sizes",
    .help = "Usage: sos secret ls [--json] [--data DIR]\n"
            "\n"
            "Lists the node's secrets by name, with the size of each value in\n"
            "bytes.  Values are never shown.\n" DATA_HELP,
    .run = run_secret,
};

static const struct sos__cli_cmd rm_cmd = {
    .name = "rm",
    .path = "sos secret rm",
    .summary = "remove a secret",
    .help = "Usage: sos secret rm NAME [--data DIR]\n"
            "\n"
            "Removes the secret NAME; apps that read it get not_set from then on.\n" DATA_HELP,
    .run = run_secret,
};

static const struct sos__cli_cmd *const secret_cmds[] = {&set_cmd, &ls_cmd, &rm_cmd, NULL};

const struct sos__cli_cmd sos__cli_secret = {
    .name = "secret",
    .path = "sos secret",
    .summary = "the node's secrets: set, ls, rm",
    .help = "Usage: sos secret COMMAND [NAME]\n"
            "\n"
            "Secrets are values such as API tokens that apps read by name when\n"
            "their definition declares them (secret NAME in app.sos).  They are\n"
            "kept in DATA/secrets, readable only by the node's owner.\n",
    .subs = secret_cmds,
};

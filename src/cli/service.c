/*
 * service.c - the commands that work on a node's services: deploy, ps,
 * call, logs, rollback, rm.
 *
 * Each is a thin client of one control op (include/sos/control.h): parse
 * the arguments, send one request, print the answer.  Tables are for
 * people; --json prints what scripts need.  Errors go to stderr with a
 * non-zero exit status: 1 when the node said no, 2 for bad usage.
 */
#include "cli/cli.h"

#include "sos/abi.h"
#include "sos/base.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DATA_HELP                                                                    \
  "  --data DIR     the node's data directory (default: $SOS_HOME, else\n"           \
  "                 ~/.local/share/sos)\n"

static void print_json(const cJSON *j) {
  char *t = cJSON_PrintUnformatted(j);
  if (t) printf("%s\n", t);
  cJSON_free(t);
}

static const char *str(const cJSON *j, const char *name) {
  const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(j, name));
  return s ? s : "";
}

static double num(const cJSON *j, const char *name) {
  const cJSON *v = cJSON_GetObjectItem(j, name);
  return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* ---- deploy ---------------------------------------------------------------- */

static int run_deploy(const struct sos__cli_cmd *cmd, int argc, char **argv) {
  struct sos__cli_args a;
  int rc = sos__cli_parse(cmd, argc, argv, SOS__CLI_F_JSON, 1, 1, &a);
  if (rc) return rc == 1 ? SOS_CLI_OK : rc;
  char image[4200];
  struct stat st;
  if (stat(a.pos[0], &st)) {
    fprintf(stderr, "%s: %s: %s\n", cmd->path, a.pos[0], strerror(errno));
    return SOS_CLI_USAGE;
  }
  if (S_ISDIR(st.st_mode)) { /* an app folder: build it first */
    if ((rc = sos__cli_build_image(a.pos[0], NULL, image, sizeof image)) != 0) return rc;
  } else {
    snprintf(image, sizeof image, "%s", a.pos[0]);
  }
  uint8_t *bytes;
  size_t len;
  char err[512];
  if (sos__cli_read_file(image, &bytes, &len, err, sizeof err)) {
    fprintf(stderr, "%s: %s\n", cmd->path, err);
    return SOS_CLI_USAGE;
  }
  struct sos__cli_reply r;
  rc = sos__cli_ask(cmd, a.data, sos__cli_op("deploy", NULL), bytes, len, 60000, &r);
  sos_free(bytes);
  if (rc) return rc;
  if (a.flags & SOS__CLI_F_JSON) {
    cJSON_DeleteItemFromObject(r.json, "ok");
    print_json(r.json);
  } else {
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItem(r.json, "services"))
      printf("%s %s version %d (app %s %s, image %.12s)\n",
             cJSON_IsTrue(cJSON_GetObjectItem(s, "unchanged")) ? "unchanged:" : "deployed",
             str(s, "name"),
             (int)num(s, "version"), str(r.json, "app"), str(r.json, "app_version"),
             str(r.json, "image"));
  }
  sos__cli_reply_free(&r);
  return SOS_CLI_OK;
}

/* ---- ps ---------------------------------------------------------------------- */

static int run_ps(const struct sos__cli_cmd *cmd, int argc, char **argv) {
  struct sos__cli_args a;
  int rc = sos__cli_parse(cmd, argc, argv, SOS__CLI_F_JSON, 0, 0, &a);
  if (rc) return rc == 1 ? SOS_CLI_OK : rc;
  struct sos__cli_reply r;
  if ((rc = sos__cli_ask(cmd, a.data, sos__cli_op("ps", NULL), NULL, 0, 5000, &r))) return rc;
  const cJSON *list = cJSON_GetObjectItem(r.json, "services"), *s;
  if (a.flags & SOS__CLI_F_JSON) {
    print_json(list);
  } else {
    printf("%-16s %-7s %-20s %-9s %-11s %6s %8s %7s %6s\n", "SERVICE", "VERSION", "APP",
           "STATE", "INSTANCES", "QUEUED", "CALLS", "ERRORS", "TRAPS");
    cJSON_ArrayForEach(s, list) {
      char app[64], inst[32], state[32];
      snprintf(app, sizeof app, "%s %s", str(s, "app"), str(s, "app_version"));
      snprintf(inst, sizeof inst, "%d (%d..%d)", (int)num(s, "instances"), (int)num(s, "min"),
               (int)num(s, "max"));
      if (cJSON_GetObjectItem(s, "exit_code"))
        snprintf(state, sizeof state, "exited(%d)", (int)num(s, "exit_code"));
      else
        snprintf(state, sizeof state, "%s", str(s, "state"));
      printf("%-16s %-7d %-20s %-9s %-11s %6d %8.0f %7.0f %6.0f\n", str(s, "name"),
             (int)num(s, "version"), app, state, inst, (int)num(s, "queued"), num(s, "calls"),
             num(s, "errors"), num(s, "traps"));
    }
  }
  sos__cli_reply_free(&r);
  return SOS_CLI_OK;
}

/* ---- call -------------------------------------------------------------------- */

/* Reads all of stdin into *out (sos_free). */
static int read_stdin(uint8_t **out, size_t *len) {
  return sos_file_read("/dev/stdin", out, len);
}

/* A typed call's failure: its Error struct as "NAME (CODE): message". */
static void print_typed_error(const struct sos__cli_cmd *cmd, const struct sos__cli_args *a,
                              const struct sos__cli_reply *r) {
  cJSON *e = cJSON_ParseWithLength((const char *)r->body, r->len);
  const cJSON *code = cJSON_GetObjectItem(e, "code");
  fprintf(stderr, "%s: %s.%s: %s (%d): %s\n", cmd->path, a->pos[0], a->pos[1],
          str(e, "name")[0] ? str(e, "name") : "error",
          cJSON_IsNumber(code) ? (int)code->valuedouble : 0, str(e, "message"));
  cJSON_Delete(e);
}

static int run_call(const struct sos__cli_cmd *cmd, int argc, char **argv) {
  struct sos__cli_args a;
  int rc = sos__cli_parse(cmd, argc, argv,
                          SOS__CLI_F_TIMEOUT | SOS__CLI_F_JSON | SOS__CLI_F_RAW, 2, 3, &a);
  if (rc) return rc == 1 ? SOS_CLI_OK : rc;
  uint8_t *body = NULL;
  size_t len = 0;
  if (a.npos == 3 && strcmp(a.pos[2], "-") == 0) {
    if (read_stdin(&body, &len)) {
      fprintf(stderr, "%s: cannot read the request from stdin\n", cmd->path);
      return SOS_CLI_USAGE;
    }
  }
  cJSON *j = sos__cli_op("call", a.pos[0]);
  cJSON_AddStringToObject(j, "method", a.pos[1]);
  if (!(a.flags & SOS__CLI_F_RAW)) cJSON_AddBoolToObject(j, "typed", 1);
  const char *to = sos__cli_value(&a, SOS__CLI_F_TIMEOUT);
  uint64_t ms = 0;
  if (to && sos__cli_parse_u64(to, &ms)) {
    cJSON_Delete(j);
    sos_free(body);
    return sos__cli_usage(cmd, "--timeout takes milliseconds");
  }
  if (ms) cJSON_AddNumberToObject(j, "timeout_ms", (double)ms);
  const void *req = body ? (const void *)body : a.npos == 3 ? a.pos[2] : "";
  size_t rlen = body ? len : a.npos == 3 ? strlen(a.pos[2]) : 0;
  char err[1024];
  struct sos__cli_reply r;
  rc = sos__cli_request(a.data, j, req, rlen, 3600 * 1000, &r, err, sizeof err);
  cJSON_Delete(j);
  sos_free(body);
  if (rc) {
    fprintf(stderr, "%s: %s\n", cmd->path, err);
    return SOS_CLI_NO;
  }
  bool typed = cJSON_IsTrue(cJSON_GetObjectItem(r.json, "typed"));
  if (a.flags & SOS__CLI_F_JSON) {
    r.body[r.len] = 0; /* text up to the first NUL; binary needs the plain form */
    cJSON *resp = typed ? cJSON_ParseWithLength((char *)r.body, r.len) : NULL;
    cJSON_AddItemToObject(r.json, "response",
                          resp ? resp : cJSON_CreateString((char *)r.body));
    print_json(r.json);
  } else if (r.ok) {
    fwrite(r.body, 1, r.len, stdout);
    if ((typed || isatty(1)) && (!r.len || r.body[r.len - 1] != '\n')) putchar('\n');
  } else if (typed) {
    print_typed_error(cmd, &a, &r);
  } else {
    const char *sn = str(r.json, "status_name"), *words = str(r.json, "error");
    fprintf(stderr, "%s: %s.%s: %s%s%s", cmd->path, a.pos[0], a.pos[1], sn, sn[0] ? ": " : "",
            words);
    bool same = r.len == strlen(words) && memcmp(r.body, words, r.len) == 0;
    if (r.len && !same) { /* the service's message, unless it only repeats the words */
      fputs(": ", stderr);
      fwrite(r.body, 1, r.len, stderr);
    }
    fputc('\n', stderr);
  }
  rc = r.ok ? SOS_CLI_OK : SOS_CLI_NO;
  sos__cli_reply_free(&r);
  return rc;
}

/* ---- logs -------------------------------------------------------------------- */

static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

static int run_logs(const struct sos__cli_cmd *cmd, int argc, char **argv) {
  struct sos__cli_args a;
  int rc = sos__cli_parse(cmd, argc, argv, SOS__CLI_F_FOLLOW | SOS__CLI_F_LINES, 1, 1, &a);
  if (rc) return rc == 1 ? SOS_CLI_OK : rc;
  uint64_t lines = 100;
  const char *n = sos__cli_value(&a, SOS__CLI_F_LINES);
  if (n && (sos__cli_parse_u64(n, &lines) || !lines))
    return sos__cli_usage(cmd, "--lines takes a positive count");
  double next = -1;
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (;;) {
    cJSON *j = sos__cli_op("logs", a.pos[0]);
    if (next < 0)
      cJSON_AddNumberToObject(j, "lines", (double)lines);
    else
      cJSON_AddNumberToObject(j, "from", next);
    struct sos__cli_reply r;
    if ((rc = sos__cli_ask(cmd, a.data, j, NULL, 0, 5000, &r))) return next < 0 ? rc : SOS_CLI_OK;
    fwrite(r.body, 1, r.len, stdout);
    next = num(r.json, "next");
    sos__cli_reply_free(&r);
    if (!(a.flags & SOS__CLI_F_FOLLOW)) return SOS_CLI_OK;
    fflush(stdout);
    sleep_ms(200); /* follow: poll the log's end (ends when the node stops) */
  }
}

/* ---- rollback, rm -------------------------------------------------------------- */

/* rollback and rm: one op on one named service; prints what happened. */
static int run_named(const struct sos__cli_cmd *cmd, int argc, char **argv) {
  struct sos__cli_args a;
  bool rollback = strcmp(cmd->name, "rollback") == 0;
  int rc = sos__cli_parse(cmd, argc, argv, rollback ? 0 : SOS__CLI_F_PURGE, 1, 1, &a);
  if (rc) return rc == 1 ? SOS_CLI_OK : rc;
  cJSON *req = sos__cli_op(cmd->name, a.pos[0]);
  if (a.flags & SOS__CLI_F_PURGE) cJSON_AddBoolToObject(req, "purge", 1);
  struct sos__cli_reply r;
  if ((rc = sos__cli_ask(cmd, a.data, req, NULL, 0, 60000, &r))) return rc;
  if (rollback)
    printf("%s rolled back to version %d\n", a.pos[0], (int)num(r.json, "version"));
  else if (a.flags & SOS__CLI_F_PURGE)
    printf("%s removed with its data (%d keys)\n", a.pos[0], (int)num(r.json, "purged"));
  else
    printf("%s removed (its stored data stays; --purge deletes it)\n", a.pos[0]);
  sos__cli_reply_free(&r);
  return SOS_CLI_OK;
}

/* ---- the command table entries --------------------------------------------------- */

const struct sos__cli_cmd sos__cli_deploy = {
    .name = "deploy",
    .path = "sos deploy",
    .summary = "deploy an app (a folder with app.sos, or an image)",
    .help = "Usage: sos deploy DIR|IMAGE [--json] [--data DIR]\n"
            "\n"
            "Makes a new version of every service the app defines and starts it.\n"
            "A folder is built first (as by 'sos build').  The node verifies the\n"
            "image's sha-256 and keeps the previous version for 'sos rollback'.\n"
            "\n"
            "Options:\n"
            "  --json         print the node's answer as JSON\n" DATA_HELP,
    .run = run_deploy,
};

const struct sos__cli_cmd sos__cli_ps = {
    .name = "ps",
    .path = "sos ps",
    .summary = "list the node's services",
    .help = "Usage: sos ps [--json] [--data DIR]\n"
            "\n"
            "One line per service: current version, app, state (running, crashing,\n"
            "backoff; for jobs running or exited), live instances with the pool's\n"
            "minimum and maximum, queued requests, calls, errors and traps.\n"
            "\n"
            "Options:\n"
            "  --json         print a JSON array\n" DATA_HELP,
    .run = run_ps,
};

const struct sos__cli_cmd sos__cli_call = {
    .name = "call",
    .path = "sos call",
    .summary = "call a service's method and print the response",
    .help = "Usage: sos call SERVICE METHOD [REQUEST|-] [--timeout MS] [--json] [--raw]\n"
            "                [--data DIR]\n"
            "\n"
            "Sends REQUEST (the bytes of the argument; '-' reads stdin; none: empty)\n"
            "to SERVICE's METHOD and prints the response bytes.  On failure prints\n"
            "the status and the service's message on stderr and exits 1.\n"
            "When SERVICE implements an interface declaring METHOD, REQUEST is JSON\n"
            "('{\"name\": \"ada\"}'), encoded with the method's request struct, and\n"
            "the response prints as JSON; a declared error prints as NAME (CODE).\n"
            "Built-in services: time (now, sleep), services (list, describe),\n"
            "logs (tail).\n"
            "\n"
            "Options:\n"
            "  --timeout MS   give up after MS milliseconds (default: the service's)\n"
            "  --json         print status and response as JSON\n"
            "  --raw          send REQUEST's bytes as they are, even to a typed method\n" DATA_HELP,
    .run = run_call,
};

/* ---- describe ------------------------------------------------------------------ */

static int run_describe(const struct sos__cli_cmd *cmd, int argc, char **argv) {
  struct sos__cli_args a;
  int rc = sos__cli_parse(cmd, argc, argv, SOS__CLI_F_JSON, 1, 1, &a);
  if (rc) return rc == 1 ? SOS_CLI_OK : rc;
  struct sos__cli_reply r;
  if (sos__cli_ask(cmd, a.data, sos__cli_op("describe", a.pos[0]), NULL, 0, 10000, &r))
    return SOS_CLI_NO;
  if (a.flags & SOS__CLI_F_JSON) {
    cJSON_AddItemToObject(r.json, "text", cJSON_CreateString((char *)r.body));
    print_json(r.json);
  } else {
    printf("# service %s: app %s %s, version %d\n", a.pos[0], str(r.json, "app"),
           str(r.json, "app_version"), (int)num(r.json, "version"));
    fwrite(r.body, 1, r.len, stdout);
  }
  sos__cli_reply_free(&r);
  return SOS_CLI_OK;
}

const struct sos__cli_cmd sos__cli_describe = {
    .name = "describe",
    .path = "sos describe",
    .summary = "print a service's interface",
    .help = "Usage: sos describe SERVICE [--json] [--data DIR]\n"
            "\n"
            "Prints the interface SERVICE implements, and every struct and enum its\n"
            "methods reach, in the SOS language, from the schema of its current\n"
            "version.  A service without an interface has nothing to describe.\n"
            "\n"
            "Options:\n"
            "  --json         print the answer as JSON\n" DATA_HELP,
    .run = run_describe,
};

const struct sos__cli_cmd sos__cli_logs = {
    .name = "logs",
    .path = "sos logs",
    .summary = "print a service's log",
    .help = "Usage: sos logs SERVICE [-f] [-n N] [--data DIR]\n"
            "\n"
            "Prints the last lines of SERVICE's log: what its instances print, log\n"
            "through the SDK, and what the kernel says about them (deploys, traps).\n"
            "\n"
            "Options:\n"
            "  -f, --follow   keep printing new lines until interrupted\n"
            "  -n, --lines N  how many lines to start with (default 100)\n" DATA_HELP,
    .run = run_logs,
};

const struct sos__cli_cmd sos__cli_rollback = {
    .name = "rollback",
    .path = "sos rollback",
    .summary = "return a service to its previous version",
    .help = "Usage: sos rollback SERVICE [--data DIR]\n"
            "\n"
            "Makes the version before the current one current again.  Instances of\n"
            "the newer version finish their requests and stop.\n"
            "\n"
            "Options:\n" DATA_HELP,
    .run = run_named,
};

const struct sos__cli_cmd sos__cli_rm = {
    .name = "rm",
    .path = "sos rm",
    .summary = "remove a service from the node",
    .help = "Usage: sos rm SERVICE [--purge] [--data DIR]\n"
            "\n"
            "Stops the service's instances (waiting requests fail) and forgets it.\n"
            "Its stored data stays, for a later deploy of the same name, unless\n"
            "--purge is given.\n"
            "\n"
            "Options:\n"
            "  --purge        also delete every key of the service's stores\n" DATA_HELP,
    .run = run_named,
};

/*
 * snapshot.c - `sos snapshot [--list] SERVICE` and `sos restore SERVICE
 * SNAPSHOT`: all of a service's stores saved to a file on the node and
 * brought back (control ops "snapshot", "snapshots" and "restore").
 *
 * The node does the work (docs/storage.md): a snapshot is one point in
 * time of every key of the service, written to DATA/snapshots/SERVICE/
 * ID.snap with a sha-256; a restore checks the whole file and then
 * replaces the service's keys in one transaction.  These commands only
 * ask and print: a sentence for people, --json for scripts.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#define SNAP_DATA_HELP                                                               \
  "  --json         print the node's answer as JSON\n"                               \
  "  --data DIR     the node's data directory (default: $SOS_HOME, else\n"           \
  "                 ~/.local/share/sos)\n"

/* Snapshots and restores copy every key: give them time. */
#define SNAP_TIMEOUT_MS (3600 * 1000)

static void print_json(const cJSON *j) {
  char *t = cJSON_PrintUnformatted(j);
  if (t) printf("%s\n", t);
  cJSON_free(t);
}

static double num(const cJSON *j, const char *name) {
  const cJSON *v = cJSON_GetObjectItem(j, name);
  return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* Prints the snapshots of a service, oldest first. */
static int list(const struct sos__cli_cmd *cmd, const struct sos__cli_args *a) {
  struct sos__cli_reply r;
  int rc = sos__cli_ask(cmd, a->data, sos__cli_op("snapshots", a->pos[0]), NULL, 0, SNAP_TIMEOUT_MS, &r);
  if (rc) return rc;
  const cJSON *arr = cJSON_GetObjectItem(r.json, "snapshots"), *s;
  if (a->flags & SOS__CLI_F_JSON) {
    print_json(arr);
  } else if (!cJSON_GetArraySize(arr)) {
    printf("%s has no snapshots\n", a->pos[0]);
  } else {
    printf("%-24s %14s\n", "SNAPSHOT", "BYTES");
    cJSON_ArrayForEach(s, arr)
      printf("%-24s %14.0f\n", cJSON_GetStringValue(cJSON_GetObjectItem(s, "id")), num(s, "bytes"));
  }
  sos__cli_reply_free(&r);
  return SOS_CLI_OK;
}

/* Prints what a snapshot or a restore did. */
static void done(const struct sos__cli_args *a, bool restore, const struct sos__cli_reply *r) {
  const char *id = restore ? a->pos[1] : cJSON_GetStringValue(cJSON_GetObjectItem(r->json, "snapshot"));
  double keys = num(r->json, "keys");
  if (a->flags & SOS__CLI_F_JSON) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "service", a->pos[0]);
    cJSON_AddStringToObject(o, "snapshot", id ? id : "");
    cJSON_AddNumberToObject(o, "keys", keys);
    print_json(o);
    cJSON_Delete(o);
  } else if (restore) {
    printf("%s restored from %s (%.0f key%s)\n", a->pos[0], id, keys, keys == 1 ? "" : "s");
  } else {
    printf("snapshot %s of %s (%.0f key%s)\n", id ? id : "?", a->pos[0], keys, keys == 1 ? "" : "s");
  }
}

static int run_snapshot(const struct sos__cli_cmd *cmd, int argc, char **argv) {
  bool restore = strcmp(cmd->name, "restore") == 0, listing = false;
  char *args[64];
  int n = 0;
  if (argc > 64) return sos__cli_usage(cmd, "too many arguments");
  for (int i = 0; i < argc; i++) { /* --list is ours; the rest is common */
    if (!restore && (!strcmp(argv[i], "--list") || !strcmp(argv[i], "-l"))) listing = true;
    else args[n++] = argv[i];
  }
  struct sos__cli_args a;
  int rc = sos__cli_parse(cmd, n, args, SOS__CLI_F_JSON, restore ? 2 : 1, restore ? 2 : 1, &a);
  if (rc) return rc == 1 ? SOS_CLI_OK : rc;
  if (listing) return list(cmd, &a);
  cJSON *req = sos__cli_op(restore ? "restore" : "snapshot", a.pos[0]);
  if (restore) cJSON_AddStringToObject(req, "snapshot", a.pos[1]);
  struct sos__cli_reply r;
  if ((rc = sos__cli_ask(cmd, a.data, req, NULL, 0, SNAP_TIMEOUT_MS, &r))) return rc;
  done(&a, restore, &r);
  sos__cli_reply_free(&r);
  return SOS_CLI_OK;
}

const struct sos__cli_cmd sos__cli_snapshot = {
    .name = "snapshot",
    .path = "sos snapshot",
    .summary = "save all of a service's stores (--list: the saved ones)",
    .help = "Usage: sos snapshot SERVICE [--json] [--data DIR]\n"
            "       sos snapshot --list SERVICE [--json] [--data DIR]\n"
            "\n"
            "Saves every key of every store of SERVICE, as of one moment, to a file\n"
            "on the node (DATA/snapshots/SERVICE/ID.snap, with a sha-256) and prints\n"
            "its ID, the UTC time it was taken (20261123T230501Z; -2, -3... when\n"
            "taken twice in a second).  The service keeps running meanwhile.\n"
            "Snapshots stay when the service is removed, even with rm --purge.\n"
            "--list prints the service's snapshots, oldest first, with their sizes.\n"
            "\n"
            "Options:\n"
            "  -l, --list     list the snapshots instead of taking one\n" SNAP_DATA_HELP,
    .run = run_snapshot,
};

const struct sos__cli_cmd sos__cli_restore = {
    .name = "restore",
    .path = "sos restore",
    .summary = "put a service's stores back as a snapshot saved them",
    .help = "Usage: sos restore SERVICE SNAPSHOT [--json] [--data DIR]\n"
            "\n"
            "Replaces every key of every store of SERVICE with the keys saved in\n"
            "SNAPSHOT (an ID from 'sos snapshot --list SERVICE'): keys written since\n"
            "are deleted, deleted ones come back.  The whole file is checked first;\n"
            "a damaged snapshot is refused and changes nothing.  The replacement is\n"
            "one durable transaction.  Quotas are not checked: a restore brings back\n"
            "what was there, and the service's usage is set to exactly that.\n"
            "\n"
            "Options:\n" SNAP_DATA_HELP,
    .run = run_snapshot,
};

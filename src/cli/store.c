/*
 * store.c - the operator's view of a service's stores, through the
 * control API: `sos kv get|put|del|ls SERVICE/STORE [KEY] [VALUE]` (op
 * "kv") and `sos log tail SERVICE/STORE [-f] [-n N]` (op "log").
 *
 * Values are bytes.  On a terminal, and always in --json and in `ls`,
 * they are printed as text with every byte that is not printable UTF-8
 * escaped as \xNN (and a backslash as \\), so a value never sends raw
 * control bytes to a terminal; `get` into a pipe or file writes the raw
 * bytes, so `sos kv get s/st k > file` round-trips.
 */
#include "cli/cli.h"

#include "sos/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Length of the valid UTF-8 sequence at p (n bytes left), or 0. */
static size_t utf8_len(const uint8_t *p, size_t n) {
  size_t len = p[0] < 0x80 ? 1 : (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3
             : (p[0] & 0xf8) == 0xf0 ? 4 : 0;
  if (!len || len > n || (len == 2 && p[0] < 0xc2)) return 0;
  for (size_t i = 1; i < len; i++)
    if ((p[i] & 0xc0) != 0x80) return 0;
  return len;
}

/* Appends p as escaped text to out (4n + 1 bytes of room). */
static size_t escape(const uint8_t *p, size_t n, char *out) {
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    size_t u = utf8_len(p + i, n - i);
    if (u == 1 && (p[i] < 0x20 || p[i] == 0x7f || p[i] == '\\')) u = 0;
    if (p[i] == '\\') {
      out[o++] = '\\';
      out[o++] = '\\';
      i++;
    } else if (u) {
      memcpy(out + o, p + i, u);
      o += u;
      i += u;
    } else {
      o += (size_t)sprintf(out + o, "\\x%02x", p[i++]);
    }
  }
  out[o] = 0;
  return o;
}

/* Prints p escaped, then end. */
static void print_escaped(const uint8_t *p, size_t n, const char *end) {
  char *t = sos_malloc(4 * n + 1);
  if (!t) return;
  escape(p, n, t);
  fputs(t, stdout);
  fputs(end, stdout);
  sos_free(t);
}

/* An escaped copy of p as a cJSON string. */
static cJSON *escaped_json(const uint8_t *p, size_t n) {
  char *t = sos_malloc(4 * n + 1);
  if (!t) return cJSON_CreateNull();
  escape(p, n, t);
  cJSON *s = cJSON_CreateString(t);
  sos_free(t);
  return s;
}

/* Splits SERVICE/STORE. */
static int target(const struct sos__cli_cmd *cmd, const char *arg, char *svc, char *store) {
  const char *slash = strchr(arg, '/');
  if (!slash || slash == arg || !slash[1] || slash - arg >= 64 || strlen(slash + 1) >= 64)
    return sos__cli_usage(cmd, "'%s' is not SERVICE/STORE", arg);
  memcpy(svc, arg, (size_t)(slash - arg));
  svc[slash - arg] = 0;
  strcpy(store, slash + 1);
  return 0;
}

static void print_list(const uint8_t *p, size_t n, bool json) {
  cJSON *arr = json ? cJSON_CreateArray() : NULL;
  while (n >= 8) {
    uint32_t h[2];
    memcpy(h, p, 8);
    if ((uint64_t)h[0] + h[1] > n - 8) break;
    if (json) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddItemToObject(o, "key", escaped_json(p + 8, h[0]));
      cJSON_AddItemToObject(o, "value", escaped_json(p + 8 + h[0], h[1]));
      cJSON_AddItemToArray(arr, o);
    } else {
      print_escaped(p + 8, h[0], "\t");
      print_escaped(p + 8 + h[0], h[1], "\n");
    }
    p += 8 + (size_t)h[0] + h[1];
    n -= 8 + (size_t)h[0] + h[1];
  }
  if (json) {
    char *t = cJSON_PrintUnformatted(arr);
    if (t) printf("%s\n", t);
    cJSON_free(t);
    cJSON_Delete(arr);
  }
}

static int run_kv(const struct sos__cli_cmd *cmd, int argc, char **argv) {
  bool put = !strcmp(cmd->name, "put"), ls = !strcmp(cmd->name, "ls");
  struct sos__cli_args a;
  int rc = sos__cli_parse(cmd, argc, argv, SOS__CLI_F_JSON | (ls ? SOS__CLI_F_LINES : 0),
                          ls ? 1 : put ? 3 : 2, ls ? 2 : put ? 3 : 2, &a);
  if (rc) return rc == 1 ? SOS_CLI_OK : rc;
  char svc[64], store[64];
  if ((rc = target(cmd, a.pos[0], svc, store))) return rc;
  cJSON *j = sos__cli_op("kv", svc);
  cJSON_AddStringToObject(j, "store", store);
  cJSON_AddStringToObject(j, "action", cmd->name);
  if (a.npos > 1) cJSON_AddStringToObject(j, "key", a.pos[1]);
  const char *n = sos__cli_value(&a, SOS__CLI_F_LINES);
  if (n) cJSON_AddNumberToObject(j, "limit", atof(n));
  const char *val = put ? a.pos[2] : "";
  struct sos__cli_reply r;
  if ((rc = sos__cli_ask(cmd, a.data, j, val, strlen(val), 60000, &r))) return rc;
  bool json = a.flags & SOS__CLI_F_JSON;
  if (ls) {
    print_list(r.body, r.len, json);
  } else if (!strcmp(cmd->name, "get")) {
    if (json) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "key", a.pos[1]);
      cJSON_AddItemToObject(o, "value", escaped_json(r.body, r.len));
      char *t = cJSON_PrintUnformatted(o);
      if (t) printf("%s\n", t);
      cJSON_free(t);
      cJSON_Delete(o);
    } else if (isatty(1)) {
      print_escaped(r.body, r.len, "\n");
    } else {
      fwrite(r.body, 1, r.len, stdout);
    }
  } else if (json) {
    printf("{\"ok\":true}\n");
  }
  sos__cli_reply_free(&r);
  return SOS_CLI_OK;
}

#define KV_DATA                                                                     \
  "\nOptions:\n"                                                                    \
  "  --json         print JSON (values escaped as text)\n"                          \
  "  --data DIR     the node's data directory (default: $SOS_HOME, else\n"          \
  "                 ~/.local/share/sos)\n"

static const struct sos__cli_cmd get_cmd = {
    .name = "get", .path = "sos kv get", .summary = "print the value of a key",
    .help = "Usage: sos kv get SERVICE/STORE KEY [--json] [--data DIR]\n\n"
            "Prints KEY's value: raw into a pipe or file, escaped on a terminal.\n"
            "Exits 1 when there is no such key.\n" KV_DATA,
    .run = run_kv,
};
static const struct sos__cli_cmd put_cmd = {
    .name = "put", .path = "sos kv put", .summary = "set a key (durably)",
    .help = "Usage: sos kv put SERVICE/STORE KEY VALUE [--data DIR]\n\n"
            "Sets KEY to VALUE and returns once the write is on disk.  The write\n"
            "counts against the service's quota.\n" KV_DATA,
    .run = run_kv,
};
static const struct sos__cli_cmd del_cmd = {
    .name = "del", .path = "sos kv del", .summary = "delete a key",
    .help = "Usage: sos kv del SERVICE/STORE KEY [--data DIR]\n\n"
            "Deletes KEY (no error when it is absent).\n" KV_DATA,
    .run = run_kv,
};
static const struct sos__cli_cmd ls_cmd = {
    .name = "ls", .path = "sos kv ls", .summary = "list keys and values in order",
    .help = "Usage: sos kv ls SERVICE/STORE [PREFIX] [-n N] [--json] [--data DIR]\n\n"
            "Lists the keys that start with PREFIX (all when none), in key order,\n"
            "with their values, one per line separated by a tab; at most N\n"
            "(default 1000).\n" KV_DATA "  -n, --lines N  list at most N keys\n",
    .run = run_kv,
};

static const struct sos__cli_cmd *const kv_cmds[] = {&get_cmd, &put_cmd, &del_cmd, &ls_cmd, NULL};

const struct sos__cli_cmd sos__cli_kv = {
    .name = "kv",
    .path = "sos kv",
    .summary = "read and write a service's kv stores",
    .help = "Usage: sos kv COMMAND SERVICE/STORE [KEY] [VALUE]\n"
            "\n"
            "The kv stores a service declares in its app.sos (store NAME: kv).\n",
    .subs = kv_cmds,
};

/* ---- sos log tail ------------------------------------------------------------- */

static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

/* Prints log records (u64 offset, u32 length, bytes) as OFFSET TAB TEXT. */
static void print_records(const uint8_t *p, size_t n, bool json) {
  while (n >= 12) {
    uint64_t off;
    uint32_t len;
    memcpy(&off, p, 8);
    memcpy(&len, p + 8, 4);
    if (len > n - 12) break;
    if (json) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddNumberToObject(o, "offset", (double)off);
      cJSON_AddItemToObject(o, "record", escaped_json(p + 12, len));
      char *t = cJSON_PrintUnformatted(o);
      if (t) printf("%s\n", t);
      cJSON_free(t);
      cJSON_Delete(o);
    } else {
      printf("%llu\t", (unsigned long long)off);
      print_escaped(p + 12, len, "\n");
    }
    p += 12 + (size_t)len;
    n -= 12 + (size_t)len;
  }
}

static int run_log_tail(const struct sos__cli_cmd *cmd, int argc, char **argv) {
  struct sos__cli_args a;
  int rc = sos__cli_parse(cmd, argc, argv,
                          SOS__CLI_F_FOLLOW | SOS__CLI_F_LINES | SOS__CLI_F_JSON, 1, 1, &a);
  if (rc) return rc == 1 ? SOS_CLI_OK : rc;
  char svc[64], store[64], err[1024];
  if ((rc = target(cmd, a.pos[0], svc, store))) return rc;
  const char *n = sos__cli_value(&a, SOS__CLI_F_LINES);
  double next = -1;
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (;;) {
    cJSON *j = sos__cli_op("log", svc);
    cJSON_AddStringToObject(j, "store", store);
    if (next >= 0) cJSON_AddNumberToObject(j, "from", next);
    else cJSON_AddNumberToObject(j, "lines", n ? atof(n) : 20);
    struct sos__cli_reply r;
    rc = sos__cli_request(a.data, j, NULL, 0, 10000, &r, err, sizeof err);
    cJSON_Delete(j);
    if (rc || !r.ok) {
      if (!rc) sos__cli_reply_free(&r);
      if (next >= 0) return SOS_CLI_OK; /* following, and the node went away */
      fprintf(stderr, "%s: %s\n", cmd->path, err);
      return SOS_CLI_NO;
    }
    print_records(r.body, r.len, a.flags & SOS__CLI_F_JSON);
    next = cJSON_GetNumberValue(cJSON_GetObjectItem(r.json, "next"));
    sos__cli_reply_free(&r);
    if (!(a.flags & SOS__CLI_F_FOLLOW)) return SOS_CLI_OK;
    sleep_ms(200);
  }
}

static const struct sos__cli_cmd log_tail_cmd = {
    .name = "tail", .path = "sos log tail", .summary = "print a log store's last records",
    .help = "Usage: sos log tail SERVICE/STORE [-f] [-n N] [--json] [--data DIR]\n\n"
            "Prints the last N (default 20) records of a log store as OFFSET, a tab\n"
            "and the record (escaped where it is not text); -f keeps printing new\n"
            "records as they are appended.\n"
            "\nOptions:\n"
            "  -f, --follow   keep printing new records until interrupted\n"
            "  -n, --lines N  how many records to start with\n"
            "  --json         one JSON object per record\n"
            "  --data DIR     the node's data directory\n",
    .run = run_log_tail,
};

static const struct sos__cli_cmd *const log_cmds[] = {&log_tail_cmd, NULL};

const struct sos__cli_cmd sos__cli_log = {
    .name = "log",
    .path = "sos log",
    .summary = "read a service's log stores",
    .help = "Usage: sos log COMMAND SERVICE/STORE\n"
            "\n"
            "The log stores a service declares in its app.sos (store NAME: log).\n",
    .subs = log_cmds,
};

/* ---- sos files ls|cat|put ------------------------------------------------------- */

static int run_files(const struct sos__cli_cmd *cmd, int argc, char **argv) {
  bool ls = !strcmp(cmd->name, "ls"), put = !strcmp(cmd->name, "put");
  struct sos__cli_args a;
  int rc = sos__cli_parse(cmd, argc, argv, SOS__CLI_F_JSON, ls ? 1 : 2, 2, &a);
  if (rc) return rc == 1 ? SOS_CLI_OK : rc;
  uint8_t *body = NULL;
  size_t blen = 0;
  if (put && sos_file_read("/dev/stdin", &body, &blen)) {
    fprintf(stderr, "%s: cannot read the content from stdin\n", cmd->path);
    return SOS_CLI_USAGE;
  }
  cJSON *j = sos__cli_op("files", a.pos[0]);
  cJSON_AddStringToObject(j, "action", cmd->name);
  cJSON_AddStringToObject(j, "path", a.npos > 1 ? a.pos[1] : "");
  struct sos__cli_reply r;
  rc = sos__cli_ask(cmd, a.data, j, body, blen, 60000, &r);
  sos_free(body);
  if (rc) return rc;
  bool json = a.flags & SOS__CLI_F_JSON;
  if (ls) { /* one name per line; each escaped on its own */
    cJSON *arr = json ? cJSON_CreateArray() : NULL;
    for (size_t i = 0; i < r.len;) {
      const uint8_t *nl = memchr(r.body + i, '\n', r.len - i);
      size_t n = nl ? (size_t)(nl - (r.body + i)) : r.len - i;
      if (json)
        cJSON_AddItemToArray(arr, escaped_json(r.body + i, n));
      else
        print_escaped(r.body + i, n, "\n");
      i += n + 1;
    }
    if (json) {
      char *t = cJSON_PrintUnformatted(arr);
      if (t) printf("%s\n", t);
      cJSON_free(t);
      cJSON_Delete(arr);
    }
  } else if (json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "path", a.pos[1]);
    if (!put) cJSON_AddItemToObject(o, "content", escaped_json(r.body, r.len));
    char *t = cJSON_PrintUnformatted(o);
    if (t) printf("%s\n", t);
    cJSON_free(t);
    cJSON_Delete(o);
  } else if (!put && isatty(1)) {
    print_escaped(r.body, r.len, "");
  } else if (!put) {
    fwrite(r.body, 1, r.len, stdout);
  }
  sos__cli_reply_free(&r);
  return SOS_CLI_OK;
}

#define FILES_OPTS                                                                  \
  "\nOptions:\n"                                                                    \
  "  --json         print JSON (content escaped as text)\n"                         \
  "  --data DIR     the node's data directory\n"

static const struct sos__cli_cmd files_ls_cmd = {
    .name = "ls", .path = "sos files ls", .summary = "list a folder of a service's files",
    .help = "Usage: sos files ls SERVICE [PATH] [--json] [--data DIR]\n\n"
            "Lists the folder PATH (default /) as the service's instances see it:\n"
            "its image's files with the app's own writes over them; folders end\n"
            "with /.\n" FILES_OPTS,
    .run = run_files,
};
static const struct sos__cli_cmd files_cat_cmd = {
    .name = "cat", .path = "sos files cat", .summary = "print a file of a service",
    .help = "Usage: sos files cat SERVICE PATH [--json] [--data DIR]\n\n"
            "Prints the file: raw into a pipe or file, escaped on a terminal.\n" FILES_OPTS,
    .run = run_files,
};
static const struct sos__cli_cmd files_put_cmd = {
    .name = "put", .path = "sos files put", .summary = "write a file of a service from stdin",
    .help = "Usage: sos files put SERVICE PATH [--data DIR] < CONTENT\n\n"
            "Writes stdin to PATH in the service's files store (its app must declare\n"
            "one: store NAME: files), durably; the instances see it at once.\n" FILES_OPTS,
    .run = run_files,
};

static const struct sos__cli_cmd *const files_cmds[] = {&files_ls_cmd, &files_cat_cmd,
                                                         &files_put_cmd, NULL};

const struct sos__cli_cmd sos__cli_files = {
    .name = "files",
    .path = "sos files",
    .summary = "read and write a service's files",
    .help = "Usage: sos files COMMAND SERVICE [PATH]\n"
            "\n"
            "The file tree a service's instances see as /: its image's files, with\n"
            "what the app wrote to its files store laid over them.\n",
    .subs = files_cmds,
};

/* ---- sos table get|query ------------------------------------------------------------ */

static int run_table(const struct sos__cli_cmd *cmd, int argc, char **argv) {
  bool get = !strcmp(cmd->name, "get");
  struct sos__cli_args a;
  int rc = sos__cli_parse(cmd, argc, argv, get ? 0 : SOS__CLI_F_LINES, get ? 2 : 1, get ? 2 : 4, &a);
  if (rc) return rc == 1 ? SOS_CLI_OK : rc;
  char svc[64], store[64];
  if ((rc = target(cmd, a.pos[0], svc, store))) return rc;
  cJSON *j = sos__cli_op("table", svc);
  cJSON_AddStringToObject(j, "store", store);
  cJSON_AddStringToObject(j, "action", cmd->name);
  if (get) cJSON_AddStringToObject(j, "key", a.pos[1]);
  if (!get && a.npos > 1) cJSON_AddStringToObject(j, "field", a.pos[1]);
  if (!get && a.npos > 2) cJSON_AddStringToObject(j, "from", a.pos[2]);
  if (!get && a.npos > 3) cJSON_AddStringToObject(j, "to", a.pos[3]);
  const char *n = sos__cli_value(&a, SOS__CLI_F_LINES);
  if (n) cJSON_AddNumberToObject(j, "limit", atof(n));
  struct sos__cli_reply r;
  if ((rc = sos__cli_ask(cmd, a.data, j, NULL, 0, 60000, &r))) return rc;
  const cJSON *row;
  cJSON_ArrayForEach(row, cJSON_GetObjectItem(r.json, "rows")) {
    char *t = cJSON_PrintUnformatted(row);
    if (t) printf("%s\n", t);
    cJSON_free(t);
  }
  sos__cli_reply_free(&r);
  return SOS_CLI_OK;
}

static const struct sos__cli_cmd table_get_cmd = {
    .name = "get", .path = "sos table get", .summary = "print the row with a key",
    .help = "Usage: sos table get SERVICE/STORE KEY [--data DIR]\n\n"
            "Prints the row whose key is KEY (a number or text, as the key field's\n"
            "type) as one JSON object named by the struct's fields; exits 1 when\n"
            "there is none.\n",
    .run = run_table,
};
static const struct sos__cli_cmd table_query_cmd = {
    .name = "query", .path = "sos table query", .summary = "print rows by key or index range",
    .help = "Usage: sos table query SERVICE/STORE [FIELD [FROM [TO]]] [-n N] [--data DIR]\n\n"
            "Prints the rows whose FIELD (the key when none; else an indexed field)\n"
            "is at least FROM and below TO (each optional; \"\" for none), in that\n"
            "field's order, one JSON object per line, at most N (default 1000).\n",
    .run = run_table,
};

static const struct sos__cli_cmd *const table_cmds[] = {&table_get_cmd, &table_query_cmd, NULL};

const struct sos__cli_cmd sos__cli_table = {
    .name = "table",
    .path = "sos table",
    .summary = "read a service's table stores",
    .help = "Usage: sos table COMMAND SERVICE/STORE ...\n"
            "\n"
            "The table stores a service declares in its app.sos\n"
            "(store NAME: table STRUCT key FIELD index FIELD, ...).\n",
    .subs = table_cmds,
};

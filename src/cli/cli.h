/*
 * cli.h - the `sos` command line: command tables and shared helpers.
 *
 * Commands form a tree.  A group (`sos`, `sos wasm`) has a table of
 * subcommands and only dispatches; a leaf (`sos wasm run`) has a run
 * function that parses its own options.  Every node has a one-line
 * summary, shown in its parent's list, and a help text printed by
 * --help.  A later feature adds a command by adding one entry to a table
 * (a group in its own file, named in main.c's top table).
 *
 * Exit codes shared by every command: 0 success, 1 a negative answer
 * (for example an invalid module for `validate`), 2 a usage error or an
 * input that cannot be used (unreadable file, malformed module).  `sos
 * wasm run` also exits with the program's own code, or 134 on a trap.
 */
#ifndef SOS_CLI_H
#define SOS_CLI_H

#include <stddef.h>
#include <stdint.h>

#define SOS_CLI_VERSION "0.1.0"

enum {
  SOS_CLI_OK = 0,
  SOS_CLI_NO = 1,    /* a negative answer */
  SOS_CLI_USAGE = 2, /* bad usage or unusable input */
  SOS_CLI_TRAP = 134,
};

struct sos__cli_cmd;
typedef int (*sos__cli_run_fn)(const struct sos__cli_cmd *self, int argc,
                               char **argv);

struct sos__cli_cmd {
  const char *name;    /* as typed: "run" */
  const char *path;    /* the full command: "sos wasm run" */
  const char *summary; /* one line for the parent's list */
  const char *help;    /* usage and options, printed by --help */
  sos__cli_run_fn run; /* a leaf's body: argv[0] is the command's name */
  const struct sos__cli_cmd *const *subs; /* a group's table, NULL-ended */
};

/* Runs a group or a leaf with its own argv (argv[0] is its name): a group
 * picks the subcommand named by argv[1]; --help prints help.  Returns the
 * process exit code. */
int sos__cli_dispatch(const struct sos__cli_cmd *cmd, int argc, char **argv);

/* Prints cmd's help to stdout. */
void sos__cli_help(const struct sos__cli_cmd *cmd);

/* Prints "PATH: message" and a pointer to --help on stderr; returns
 * SOS_CLI_USAGE. */
int sos__cli_usage(const struct sos__cli_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Whether argv[*i] is option name; when it is and takes a value (either
 * "--name=VALUE" or "--name VALUE", advancing *i), *val points at it.
 * Returns 1 when matched, 0 when not, -1 when the value is missing (a
 * usage error has been printed). */
int sos__cli_opt(const struct sos__cli_cmd *cmd, int argc, char **argv,
                 int *i, const char *name, const char **val);

/* Whether argv[i] asks for help ("--help" or "-h"). */
int sos__cli_is_help(const char *arg);

/* Parses a byte count: digits with an optional unit B, K/KiB, M/MiB,
 * G/GiB, T/TiB (powers of 1024) or KB, MB, GB, TB (powers of 1000),
 * letters in any case.  Returns 0, or SOS_EINVAL / SOS_ETOOBIG. */
int sos__cli_parse_size(const char *s, uint64_t *out);

/* Parses a decimal count without sign or unit. */
int sos__cli_parse_u64(const char *s, uint64_t *out);

/* Reads the whole file at path into *data (free with sos_free) and *len
 * with sos_file_read.  On failure returns its negative SOS error with a
 * sentence in err: "cannot open: " or "cannot read: " and errno's words. */
int sos__cli_read_file(const char *path, uint8_t **data, size_t *len,
                       char *err, size_t errlen);

/* ---- talking to a node (client.c) ---- */

#include <cjson/cJSON.h>
#include <stdbool.h>

/* One answer from sosd: its JSON and body (sos__cli_reply_free). */
struct sos__cli_reply {
  cJSON *json;
  uint8_t *body;
  size_t len;
  bool ok; /* the answer's "ok" */
};

/* The data directory: opt (--data), else $SOS_HOME, else
 * ~/.local/share/sos. */
void sos__cli_data_dir(const char *opt, char *buf, size_t cap);

/* Sends req (still owned by the caller) and body to the node on data and
 * reads its answer into *out, waiting at most timeout_ms for each read.
 * Returns 0 when an answer came (then out->ok says whether it succeeded,
 * with the node's message in err when not), or a negative error with a
 * sentence in err (SOS_ENOENT: no node running). */
int sos__cli_request(const char *data, cJSON *req, const void *body, size_t blen,
                     int timeout_ms, struct sos__cli_reply *out, char *err, size_t errlen);
void sos__cli_reply_free(struct sos__cli_reply *r);
/* sos__cli_request for a command: deletes req, and when the node says no
 * (or cannot be reached) prints "PATH: why" on stderr and frees *r.
 * Returns SOS_CLI_OK with the answer in *r, or SOS_CLI_NO. */
int sos__cli_ask(const struct sos__cli_cmd *cmd, const char *data, cJSON *req, const void *body,
                 size_t blen, int timeout_ms, struct sos__cli_reply *r);
/* {"op": op, "service": service} (service may be NULL); cJSON_Delete it. */
cJSON *sos__cli_op(const char *op, const char *service);

/* Options of the node-facing commands: every one takes --data DIR and
 * --help; each names the others it accepts with these bits. */
enum {
  SOS__CLI_F_JSON = 1 << 0,       /* --json */
  SOS__CLI_F_FOLLOW = 1 << 1,     /* --follow, -f */
  SOS__CLI_F_LINES = 1 << 2,      /* --lines N, -n N */
  SOS__CLI_F_TIMEOUT = 1 << 3,    /* --timeout MS */
  SOS__CLI_F_FOREGROUND = 1 << 4, /* --foreground */
  SOS__CLI_F_WORKERS = 1 << 5,    /* --workers N */
  SOS__CLI_F_OUT = 1 << 6,        /* --out DIR */
  SOS__CLI_F_PURGE = 1 << 7,      /* --purge */
  SOS__CLI_F_RAW = 1 << 8,        /* --raw */
  SOS__CLI_F_HTTP = 1 << 9,       /* --http ADDR */
};
struct sos__cli_args {
  char data[4096];      /* the data directory, resolved */
  unsigned flags;       /* SOS__CLI_F_* given */
  const char *value[16]; /* values of options that take one (sos__cli_value), by
                            their index in client.c's table of options */
  const char *pos[8];   /* positional arguments */
  int npos;
};
/* Parses a command's argv.  Returns 0, 1 after printing --help (exit 0),
 * or SOS_CLI_USAGE after printing a usage error. */
int sos__cli_parse(const struct sos__cli_cmd *cmd, int argc, char **argv, unsigned allowed,
                   int minpos, int maxpos, struct sos__cli_args *a);
/* The value given for option bit, or NULL. */
const char *sos__cli_value(const struct sos__cli_args *a, unsigned bit);

/* The command groups and commands of the node (node.c, service.c). */
extern const struct sos__cli_cmd sos__cli_describe;
extern const struct sos__cli_cmd sos__cli_node, sos__cli_deploy, sos__cli_ps, sos__cli_call,
    sos__cli_logs, sos__cli_rollback, sos__cli_rm, sos__cli_kv, sos__cli_log, sos__cli_files,
    sos__cli_table;

/* `sos snapshot` and `sos restore`: a service's stores saved and brought
 * back (snapshot.c). */
extern const struct sos__cli_cmd sos__cli_snapshot, sos__cli_restore, sos__cli_secret;

/* Builds the app in dir (as `sos build`) into out (NULL: the default) and
 * puts the image's path in path.  Returns 0 or an exit status, after
 * printing what went wrong (build.c). */
int sos__cli_build_image(const char *dir, const char *out, char *path, size_t cap);

/* The wasm command group (wasm.c). */
extern const struct sos__cli_cmd sos__cli_wasm;

/* `sos build`: an app folder into an image (build.c). */
extern const struct sos__cli_cmd sos__cli_build;

/* `sos idl`: C code from an app's structs, enums and interfaces (idl.c). */
extern const struct sos__cli_cmd sos__cli_idl;

/* What sos__cli_idl_put did with a file. */
enum { SOS__CLI_IDL_SAME = 0, SOS__CLI_IDL_WROTE = 1, SOS__CLI_IDL_ABSENT = 2 };

/* Writes the generated file name (len bytes of text) into dir, its path
 * going to path: SOS__CLI_IDL_SAME when the file already holds that
 * text, SOS__CLI_IDL_WROTE when it was written (atomically; dir created
 * if missing).  With refresh, only an existing file is rewritten, and
 * only when it was generated (SOS_IDL_GEN_MARK): SOS__CLI_IDL_ABSENT when
 * there is none.  Errors: SOS_EINVAL (a foreign file in the way, a path
 * too long), SOS_EIO; both with a sentence in err (idl.c). */
int sos__cli_idl_put(const char *dir, const char *name, const char *text, size_t len,
                     bool refresh, char *path, size_t cap, char *err, size_t errlen);

/* `sos check` and `sos fmt`: app definitions (app.c). */
extern const struct sos__cli_cmd sos__cli_check;
extern const struct sos__cli_cmd sos__cli_fmt;

#endif

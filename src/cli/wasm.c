/*
 * wasm.c - `sos wasm`: run and validate WebAssembly modules.
 *
 * `sos wasm run` is a small embedder of the engine and WASI, in the manner
 * of `wasmtime run`: it reads and compiles the module, resolves each
 * import through WASI (nothing else is offered yet), instantiates with the
 * limits given on the command line, runs the module's start function and
 * then `_start` (or the export named by --invoke), and turns the outcome
 * into an exit status.  The run loop is begin-then-run with no slice
 * limit, since no host function here suspends.
 *
 * The steps share one struct run and each returns RUN_ON to go on or the
 * exit status to stop with, so that cleanup happens in one place.
 */
#include "cli/cli.h"

#include "sos/wasi.h"
#include "sos/wasm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

enum { RUN_ON = -1 };

struct run {
  const struct sos__cli_cmd *cmd;
  const char *file, *invoke;
  char **args; /* the program's arguments after FILE */
  int nargs;
  const char **env;
  uint32_t envc;
  struct sos_wasm_limits lim;
  sos_wasm_module *mod;
  sos_wasi *wasi;
  struct sos_wasm_extern *imports;
  sos_wasm_instance *inst;
};

/* ---- options ---------------------------------------------------------- */

/* Adds --env VALUE: "NAME=VALUE", or "NAME" for the host's value. */
static int add_env(struct run *r, const char *v) {
  if (!*v || *v == '=') return sos__cli_usage(r->cmd, "bad --env '%s': expected NAME=VALUE", v);
  if (strchr(v, '=')) {
    r->env[r->envc++] = v;
    return RUN_ON;
  }
  size_t n = strlen(v);
  for (char **e = environ; *e; e++)
    if (strncmp(*e, v, n) == 0 && (*e)[n] == '=') {
      r->env[r->envc++] = *e;
      break;
    }
  return RUN_ON;
}

static int set_count(struct run *r, const char *opt, const char *v, uint64_t *out,
                     bool size) {
  int rc = size ? sos__cli_parse_size(v, out) : sos__cli_parse_u64(v, out);
  if (rc == SOS_ETOOBIG) return sos__cli_usage(r->cmd, "%s %s is too large", opt, v);
  if (rc || *out == 0)
    return sos__cli_usage(r->cmd, "bad %s '%s': expected a positive %s", opt, v,
                          size ? "size such as 64MiB" : "whole number");
  return RUN_ON;
}

/* Applies the option at argv[*i]; returns RUN_ON or an exit status. */
static int run_option(struct run *r, int argc, char **argv, int *i) {
  const char *v;
  int m;
  if (sos__cli_is_help(argv[*i])) {
    sos__cli_help(r->cmd);
    return SOS_CLI_OK;
  }
  if ((m = sos__cli_opt(r->cmd, argc, argv, i, "--env", &v)) != 0)
    return m < 0 ? SOS_CLI_USAGE : add_env(r, v);
  if ((m = sos__cli_opt(r->cmd, argc, argv, i, "--fuel", &v)) != 0)
    return m < 0 ? SOS_CLI_USAGE : set_count(r, "--fuel", v, &r->lim.fuel, false);
  if ((m = sos__cli_opt(r->cmd, argc, argv, i, "--max-memory", &v)) != 0)
    return m < 0 ? SOS_CLI_USAGE
                 : set_count(r, "--max-memory", v, &r->lim.max_memory, true);
  if ((m = sos__cli_opt(r->cmd, argc, argv, i, "--invoke", &v)) != 0) {
    r->invoke = v;
    return m < 0 ? SOS_CLI_USAGE : RUN_ON;
  }
  return sos__cli_usage(r->cmd, "unknown option '%s'", argv[*i]);
}

/* Parses options up to FILE; the rest belongs to the program. */
static int run_parse(struct run *r, int argc, char **argv) {
  int i = 1, st;
  r->env = sos_calloc((size_t)argc, sizeof *r->env);
  if (!r->env) return sos__cli_usage(r->cmd, "out of memory");
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
    if (strcmp(argv[i], "--") == 0) {
      i++;
      break;
    }
    if ((st = run_option(r, argc, argv, &i)) != RUN_ON) return st;
  }
  if (i >= argc) return sos__cli_usage(r->cmd, "missing FILE.wasm");
  r->file = argv[i];
  r->args = argv + i + 1;
  r->nargs = argc - i - 1;
  return RUN_ON;
}

/* ---- loading and linking ------------------------------------------------ */

/* Reads and compiles path into *m; prints the reason on failure. */
static int load(const char *path, sos_wasm_module **m, int invalid_status) {
  char err[256];
  uint8_t *bytes;
  size_t len;
  if (sos__cli_read_file(path, &bytes, &len, err, sizeof err)) {
    fprintf(stderr, "%s: %s\n", path, err);
    return SOS_CLI_USAGE;
  }
  int rc = sos_wasm_module_new(bytes, len, m, err, sizeof err);
  sos_free(bytes);
  if (rc == 0) return RUN_ON;
  fprintf(stderr, "%s: %s\n", path, err[0] ? err : sos_strerror(rc));
  return rc == SOS_ENOMEM ? SOS_CLI_USAGE : invalid_status;
}

/* Makes the WASI context: argv[0] is the file name as given. */
static int make_wasi(struct run *r) {
  struct sos_wasi_config c;
  const char **argv = sos_calloc((size_t)r->nargs + 1, sizeof *argv);
  if (!argv) return sos__cli_usage(r->cmd, "out of memory");
  argv[0] = r->file;
  for (int i = 0; i < r->nargs; i++) argv[i + 1] = r->args[i];
  sos_wasi_config_init(&c);
  c.argc = (uint32_t)r->nargs + 1;
  c.argv = argv;
  c.envc = r->envc;
  c.env = r->env;
  int rc = sos_wasi_new(&c, &r->wasi);
  sos_free(argv);
  if (rc) fprintf(stderr, "%s: %s\n", r->file, sos_strerror(rc));
  return rc ? SOS_CLI_USAGE : RUN_ON;
}

/* Resolves every import through WASI. */
static int link_imports(struct run *r) {
  uint32_t n = sos_wasm_module_import_count(r->mod);
  r->imports = sos_calloc(n ? n : 1, sizeof *r->imports);
  if (!r->imports) return sos__cli_usage(r->cmd, "out of memory");
  for (uint32_t i = 0; i < n; i++) {
    struct sos_wasm_name mod, name;
    struct sos_wasm_externtype type;
    sos_wasm_module_import(r->mod, i, &mod, &name, &type);
    int rc = sos_wasi_resolve(r->wasi, &mod, &name, &type, &r->imports[i]);
    if (rc == 0) continue;
    fprintf(stderr, "%s: %s import \"%.*s\" \"%.*s\"%s\n", r->file,
            rc == SOS_ENOENT ? "unknown" : "cannot link", (int)mod.len, mod.p,
            (int)name.len, name.p,
            rc == SOS_ENOENT  ? " (only " SOS_WASI_MODULE " is provided)"
            : rc == SOS_ELINK ? ": WASI provides a function of that name"
                              : ": out of memory");
    return SOS_CLI_USAGE;
  }
  return RUN_ON;
}

static int instantiate(struct run *r) {
  char err[256] = "";
  int rc = sos_wasm_instance_new(r->mod, &r->lim, r->imports,
                                 sos_wasm_module_import_count(r->mod), &r->inst,
                                 err, sizeof err);
  if (rc == 0) return RUN_ON;
  fprintf(stderr, "%s: %s\n", r->file, err[0] ? err : sos_strerror(rc));
  return SOS_CLI_USAGE;
}

/* ---- running -------------------------------------------------------------- */

static const char *trap_default(int kind) {
  static const char *const msgs[] = {
#define SOS__TRAP_MSG(e, name, msg) msg,
      SOS_WASM_TRAP_MAP(SOS__TRAP_MSG)
#undef SOS__TRAP_MSG
  };
  return kind >= 0 && (size_t)kind < sizeof msgs / sizeof msgs[0] ? msgs[kind] : "trap";
}

/* Calls f to completion.  Returns RUN_ON when it returned, else the exit
 * status: the program's code after proc_exit, 134 after a trap. */
static int call(struct run *r, sos_wasm_func *f, const sos_wasm_val *args, uint32_t n) {
  struct sos_wasm_trap trap;
  memset(&trap, 0, sizeof trap);
  int rc = sos_wasm_call_begin(r->inst, f, args, n);
  if (rc == 0) {
    do rc = sos_wasm_run(r->inst, -1, &trap);
    while (rc == SOS_WASM_YIELDED);
  }
  if (rc == SOS_WASM_DONE) return RUN_ON;
  if (rc == SOS_ETRAP && trap.kind == SOS_WASM_TRAP_EXIT)
    return (int)(trap.exit_code & 0xff); /* as a native exit() would */
  if (rc == SOS_ETRAP) {
    fprintf(stderr, "trap: %s: %s\n", sos_wasm_trap_name(trap.kind),
            trap.message[0] ? trap.message : trap_default(trap.kind));
    return SOS_CLI_TRAP;
  }
  if (rc == SOS_WASM_SUSPENDED) sos_wasm_call_abort(r->inst);
  fprintf(stderr, "%s: cannot run: %s\n", r->file,
          rc == SOS_WASM_SUSPENDED ? "a host function suspended" : sos_strerror(rc));
  return SOS_CLI_USAGE;
}

/* The function export called name, or NULL. */
static sos_wasm_func *export_func(struct run *r, const char *name) {
  struct sos_wasm_extern e;
  if (sos_wasm_instance_export(r->inst, name, strlen(name), &e) != 0) return NULL;
  return e.kind == SOS_WASM_EXTERN_FUNC ? e.u.func : NULL;
}

/* Runs _start, which takes and returns nothing. */
static int run_start(struct run *r, bool had_start_fn) {
  sos_wasm_func *f = export_func(r, "_start");
  if (!f && had_start_fn) return SOS_CLI_OK; /* the start function was all */
  if (!f) {
    fprintf(stderr, "%s: no _start function to run; call an export with --invoke NAME\n", r->file);
    return SOS_CLI_USAGE;
  }
  const struct sos_wasm_functype *t = sos_wasm_func_type(f);
  if (t->nparams || t->nresults) {
    fprintf(stderr, "%s: _start must take and return nothing\n", r->file);
    return SOS_CLI_USAGE;
  }
  int st = call(r, f, NULL, 0);
  return st == RUN_ON ? SOS_CLI_OK : st;
}

/* ---- --invoke ------------------------------------------------------------- */

/* Parses s as a value of the given type. */
static bool parse_val(const char *s, uint8_t type, sos_wasm_val *out) {
  char *end;
  errno = 0;
  if (type == SOS_WASM_I32 || type == SOS_WASM_I64) {
    bool neg = s[0] == '-';
    uint64_t u = neg ? (uint64_t)strtoll(s, &end, 0) : strtoull(s, &end, 0);
    if (errno || end == s || *end) return false;
    if (type == SOS_WASM_I32 && (neg ? (int64_t)u < INT32_MIN : u > UINT32_MAX))
      return false;
    *out = type == SOS_WASM_I32 ? (uint32_t)u : u;
    return true;
  }
  if (type != SOS_WASM_F32 && type != SOS_WASM_F64) return false;
  double d = strtod(s, &end);
  if (end == s || *end) return false;
  if (type == SOS_WASM_F64) {
    memcpy(out, &d, sizeof d);
  } else {
    float f = (float)d;
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    *out = bits;
  }
  return true;
}

/* Prints a float with the fewest digits that read back as the same value. */
static void print_float(double d, bool single) {
  char b[40];
  for (int p = 1; p <= 17; p++) {
    snprintf(b, sizeof b, "%.*g", p, d);
    double back = strtod(b, NULL);
    if (single ? (float)back == (float)d : back == d) break;
  }
  puts(b);
}

/* Prints one result as `wasmtime run --invoke` does: integers signed. */
static void print_val(sos_wasm_val v, uint8_t type) {
  if (type == SOS_WASM_I32) printf("%d\n", (int32_t)(uint32_t)v);
  else if (type == SOS_WASM_I64) printf("%lld\n", (long long)(int64_t)v);
  else if (type == SOS_WASM_F32) {
    float f;
    uint32_t bits = (uint32_t)v;
    memcpy(&f, &bits, sizeof f);
    print_float(f, true);
  } else if (type == SOS_WASM_F64) {
    double d;
    memcpy(&d, &v, sizeof d);
    print_float(d, false);
  } else if (v == 0) puts("null");
  else printf("ref 0x%llx\n", (unsigned long long)v);
}

/* Builds the arguments of f from the command line. */
static int invoke_args(struct run *r, const struct sos_wasm_functype *t,
                       sos_wasm_val *args) {
  if ((uint32_t)r->nargs != t->nparams)
    return sos__cli_usage(r->cmd, "%s takes %u argument%s, got %d", r->invoke,
                          t->nparams, t->nparams == 1 ? "" : "s", r->nargs);
  for (uint32_t i = 0; i < t->nparams; i++)
    if (!parse_val(r->args[i], t->params[i], &args[i]))
      return sos__cli_usage(r->cmd, "argument %u of %s: '%s' is not a%s",
                            i + 1, r->invoke, r->args[i],
                            t->params[i] == SOS_WASM_I32   ? "n i32"
                            : t->params[i] == SOS_WASM_I64 ? "n i64"
                            : t->params[i] == SOS_WASM_F32 ? "n f32"
                            : t->params[i] == SOS_WASM_F64 ? "n f64"
                                                           : " supported value");
  return RUN_ON;
}

/* Calls the export named by --invoke (after _initialize, for reactors)
 * and prints its results one per line. */
static int run_invoke(struct run *r) {
  sos_wasm_func *f = export_func(r, r->invoke), *init = export_func(r, "_initialize");
  if (!f) {
    fprintf(stderr, "%s: no exported function named '%s'\n", r->file, r->invoke);
    return SOS_CLI_USAGE;
  }
  const struct sos_wasm_functype *t = sos_wasm_func_type(f);
  sos_wasm_val *args = sos_calloc(t->nparams + 1, sizeof *args);
  if (!args) return sos__cli_usage(r->cmd, "out of memory");
  int st = invoke_args(r, t, args);
  if (st == RUN_ON && init && init != f) st = call(r, init, NULL, 0);
  if (st == RUN_ON) st = call(r, f, args, t->nparams);
  sos_free(args);
  if (st != RUN_ON) return st;
  uint32_t n;
  const sos_wasm_val *res = sos_wasm_results(r->inst, &n);
  for (uint32_t i = 0; i < n && i < t->nresults; i++) print_val(res[i], t->results[i]);
  fflush(stdout);
  return SOS_CLI_OK;
}

/* ---- the commands ---------------------------------------------------------- */

static void run_free(struct run *r) {
  sos_wasm_instance_free(r->inst);
  sos_wasi_free(r->wasi);
  sos_wasm_module_free(r->mod);
  sos_free(r->imports);
  sos_free(r->env);
}

static int run_main(const struct sos__cli_cmd *self, int argc, char **argv) {
  struct run r;
  memset(&r, 0, sizeof r);
  r.cmd = self;
  int st = run_parse(&r, argc, argv);
  if (st == RUN_ON) st = load(r.file, &r.mod, SOS_CLI_USAGE);
  if (st == RUN_ON) st = make_wasi(&r);
  if (st == RUN_ON) st = link_imports(&r);
  if (st == RUN_ON) st = instantiate(&r);
  sos_wasm_func *start = r.inst ? sos_wasm_instance_start(r.inst) : NULL;
  if (st == RUN_ON && start) st = call(&r, start, NULL, 0);
  if (st == RUN_ON) st = r.invoke ? run_invoke(&r) : run_start(&r, start != NULL);
  run_free(&r);
  return st;
}

static int validate_main(const struct sos__cli_cmd *self, int argc, char **argv) {
  if (argc == 2 && sos__cli_is_help(argv[1])) {
    sos__cli_help(self);
    return SOS_CLI_OK;
  }
  if (argc != 2 || argv[1][0] == '-')
    return sos__cli_usage(self, argc < 2 ? "missing FILE.wasm" : "expected one FILE.wasm");
  sos_wasm_module *m = NULL;
  int st = load(argv[1], &m, SOS_CLI_NO);
  sos_wasm_module_free(m);
  if (st != RUN_ON) return st;
  puts("valid");
  return SOS_CLI_OK;
}

static const struct sos__cli_cmd run_cmd = {
    .name = "run",
    .path = "sos wasm run",
    .summary = "run a WASI command module",
    .help =
        "Usage: sos wasm run [OPTIONS] FILE.wasm [ARGS...]\n"
        "\n"
        "Runs a WebAssembly command module with WASI preview 1, like `wasmtime\n"
        "run`.  The program gets ARGS (its argv[0] is FILE.wasm as given) and\n"
        "this process's stdin, stdout and stderr.  It sees no environment\n"
        "variables except those given with --env, and no files.\n"
        "\n"
        "Options:\n"
        "  --env NAME=VALUE    set an environment variable (repeatable);\n"
        "                      --env NAME passes this process's value of NAME\n"
        "  --fuel N            allow at most N instructions, then trap (fuel)\n"
        "  --max-memory SIZE   cap the linear memory, e.g. 1MiB, 64M, 2GiB\n"
        "                      (K, M, G, KiB, MiB, GiB: powers of 1024;\n"
        "                      KB, MB, GB: powers of 1000)\n"
        "  --invoke FUNC       call export FUNC with ARGS as its arguments\n"
        "                      instead of _start, and print each result on a\n"
        "                      line (integers in decimal)\n"
        "  -h, --help          show this help\n"
        "\n"
        "Exit status: the program's exit code (0 when _start returns; the low\n"
        "8 bits of a proc_exit code); 134 when it traps, after printing\n"
        "`trap: KIND: MESSAGE` on stderr; 2 when the module cannot be read,\n"
        "validated, linked or instantiated, or on a usage error.\n",
    .run = run_main,
};

static const struct sos__cli_cmd validate_cmd = {
    .name = "validate",
    .path = "sos wasm validate",
    .summary = "check that a module is well-formed and valid",
    .help = "Usage: sos wasm validate FILE.wasm\n"
            "\n"
            "Decodes and validates FILE.wasm (WebAssembly 2.0 without SIMD)\n"
            "and compiles it, as `run` would.  Prints `valid`, or the first\n"
            "error found as `FILE: MESSAGE`.\n"
            "\n"
            "Exit status: 0 valid; 1 malformed or invalid; 2 when the file\n"
            "cannot be read, or on a usage error.\n",
    .run = validate_main,
};

static const struct sos__cli_cmd *const wasm_cmds[] = {&run_cmd, &validate_cmd, NULL};

/* The `sos wasm` group. */
const struct sos__cli_cmd sos__cli_wasm = {
    .name = "wasm",
    .path = "sos wasm",
    .summary = "run and check WebAssembly modules",
    .help = "Usage: sos wasm COMMAND [ARGS...]\n"
            "\n"
            "Runs and checks WebAssembly modules with the SOS engine.\n",
    .subs = wasm_cmds,
};

/*
 * build.c - `sos build`: turn an app folder into one image file.
 *
 * The steps, each a function that returns BUILD_ON to go on or the exit
 * status to stop with (so cleanup happens once, in build_run):
 *
 *   1. load DIR/app.sos with sos_app_load (extends resolved, checked);
 *   2. get the module: read the `module` file, or compile the `sources`
 *      with clang for wasm32-wasi against the guest SDK (sdk/);
 *   3. validate the module with the engine, so a broken module fails here
 *      and not at deploy time on some other node;
 *   4. collect the `files` entries into path -> bytes pairs;
 *   5. encode the canonical definition, module and files with
 *      sos_image_write into DIR/.sos/ (or --out) and print the path.
 *
 * Paths in the loaded definition are relative to DIR (the loader rebases
 * those of bases), so they are joined to DIR; the image's file keys are
 * the `files` paths as written, relative to DIR.  Everything in an image
 * must come from inside DIR: a `files` entry may not climb out with "..",
 * and a symbolic link met while walking a folder is followed only when it
 * leads to a place inside DIR (checked with realpath), and never twice
 * around a loop.  Names starting with '.' are skipped in folders (.git,
 * .sos itself); a file named explicitly is taken whatever its name.
 *
 * An app that declares or imports structs, enums or interfaces gets the
 * C code of `sos idl` (include/sos/idl_gen.h) generated into the
 * temporary folder and compiled with it: -ITMP, TMP/NAME.sos.c and the
 * SDK's sos_wire.c and sos_typed.c.  Copies that `sos idl` left in DIR
 * would come first in the compiler's search (an #include "..." looks
 * beside the including file before -I), so they are refreshed when out of
 * date, and a `sources` entry naming NAME.sos.c is left out for the
 * fresh one.
 *
 * The compiler runs with fork and execvp, never a shell, so no path is
 * ever interpreted.  Its diagnostics go to our stderr as they come; its
 * stdout is sent to stderr too, because stdout belongs to the one line
 * with the image's path.  A pipe with close-on-exec tells the parent
 * whether exec itself failed (clang is not installed), which deserves a
 * different message from clang failing.
 */
#include "cli/cli.h"

#include "sos/app.h"
#include "sos/base.h"
#include "sos/idl_gen.h"
#include "sos/image.h"
#include "sos/wasm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum { BUILD_ON = -1, MAX_NEST = 64 };

#define SDK_INSTALLED "/usr/local/share/sos/sdk"

struct build {
  const struct sos__cli_cmd *cmd;
  const char *dir; /* the app folder, as given */
  const char *out; /* --out, or NULL */
  char root[PATH_MAX]; /* realpath of dir */
  struct sos_app *app;
  uint8_t *module;
  size_t modlen;
  struct sos_image_file *files;
  uint32_t nfiles, cap;
  size_t bytes; /* of files so far */
  char *definition;
  size_t deflen;
  struct stat nest[MAX_NEST]; /* the folders being walked, for loops */
  int depth;
};

/* Prints "sos build: message" on stderr and returns SOS_CLI_NO. */
__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...) {
  va_list ap;
  fputs("sos build: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return SOS_CLI_NO;
}

/* Joins dir and a relative path into out ("." adds nothing; an absolute
 * path stays as it is).  Returns 0, or -1 when it does not fit. */
static int join(char *out, size_t cap, const char *dir, const char *path) {
  int n;
  if (path[0] == '/' || strcmp(dir, ".") == 0) n = snprintf(out, cap, "%s", path);
  else n = snprintf(out, cap, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", path);
  return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* ---- options ---------------------------------------------------------- */

static int parse_args(struct build *b, int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *val;
    int m;
    if (sos__cli_is_help(argv[i])) {
      sos__cli_help(b->cmd);
      return SOS_CLI_OK;
    }
    if ((m = sos__cli_opt(b->cmd, argc, argv, &i, "--out", &val)) != 0) {
      if (m < 0) return SOS_CLI_USAGE;
      if (!*val) return sos__cli_usage(b->cmd, "--out needs a folder");
      b->out = val;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      return sos__cli_usage(b->cmd, "unknown option '%s'", argv[i]);
    } else if (b->dir) {
      return sos__cli_usage(b->cmd, "unexpected argument '%s'", argv[i]);
    } else {
      b->dir = argv[i][0] ? argv[i] : ".";
    }
  }
  if (!b->dir) b->dir = ".";
  return BUILD_ON;
}

/* ---- 1. the definition -------------------------------------------------- */

static int load_app(struct build *b) {
  char path[PATH_MAX], err[1024];
  if (join(path, sizeof path, b->dir, "app.sos") != 0) return fail("%s: path too long", b->dir);
  if (!realpath(b->dir, b->root)) return fail("%s: %s", b->dir, strerror(errno));
  if (sos_app_load(path, &b->app, err, sizeof err) != 0) return fail("%s", err);
  if (sos_app_print(b->app, &b->definition, &b->deflen) != 0) return fail("out of memory");
  return BUILD_ON;
}

/* ---- 2. the module: a ready file, or compiled sources --------------------- */

static int read_module(struct build *b) {
  char path[PATH_MAX], err[512];
  if (join(path, sizeof path, b->dir, b->app->module) != 0)
    return fail("%s: path too long", b->app->module);
  if (sos__cli_read_file(path, &b->module, &b->modlen, err, sizeof err) != 0)
    return fail("module %s: %s", path, err);
  return BUILD_ON;
}

/* Whether dir holds the SDK (sos.h and sos.c). */
static int has_sdk(const char *dir) {
  char h[PATH_MAX], c[PATH_MAX];
  return join(h, sizeof h, dir, "sos.h") == 0 && join(c, sizeof c, dir, "sos.c") == 0 &&
         access(h, R_OK) == 0 && access(c, R_OK) == 0;
}

/* The SDK beside this program: sdk/ in the folder above the executable's,
 * or one or two further up (build/sos, build/asan/sos in a source tree).
 * Puts the first candidate in out when none has the SDK. */
static int sdk_beside_exe(char *out, size_t cap) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return -1;
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  if (!slash) return -1;
  *slash = '\0';
  static const char *const up[] = {"/../sdk", "/../../sdk", "/../../../sdk"};
  for (int i = 0; i < 3; i++) {
    int m = snprintf(out, cap, "%s%s", exe, up[i]);
    if (m < 0 || (size_t)m >= cap) return -1;
    if (has_sdk(out)) return 0;
  }
  int m = snprintf(out, cap, "%s%s", exe, up[0]);
  return m < 0 || (size_t)m >= cap ? -1 : 0;
}

/* Finds the guest SDK's folder: $SOS_SDK, else beside the program, else
 * the installed one.  An SOS_SDK that is set must be right. */
static int find_sdk(char *sdk, size_t cap) {
  const char *env = getenv("SOS_SDK");
  if (env && *env) {
    if (has_sdk(env) && snprintf(sdk, cap, "%s", env) < (int)cap) return BUILD_ON;
    return fail("SOS_SDK=%s is not the guest SDK: it needs sos.h and sos.c", env);
  }
  char beside[PATH_MAX] = "(the folder of the sos program)/../sdk";
  if (sdk_beside_exe(beside, sizeof beside) == 0 && has_sdk(beside) &&
      realpath(beside, sdk) != NULL)
    return BUILD_ON;
  if (has_sdk(SDK_INSTALLED) && snprintf(sdk, cap, "%s", SDK_INSTALLED) < (int)cap)
    return BUILD_ON;
  return fail("cannot find the guest SDK (sos.h and sos.c): looked in %s and %s; "
              "set SOS_SDK to its folder", beside, SDK_INSTALLED);
}

/* The generated code's part of a compile: -ITMP, TMP/NAME.sos.c and
 * SDK/sos_wire.c, SDK/sos_typed.c and SDK/sos_json.c (on is false for an app without IDL
 * declarations). */
struct idl_part {
  bool on;
  char inc[PATH_MAX + 2];
  char source[PATH_MAX];
  char header[PATH_MAX];
  char wire[PATH_MAX];
  char typed[PATH_MAX]; /* SDK/sos_typed.c: discovery and time travel */
  char json[PATH_MAX];  /* SDK/sos_json.c: reading and writing JSON */
  const char *name; /* NAME.sos.c, to leave out of `sources` */
};

/* Whether path's last component is name. */
static bool named(const char *path, const char *name) {
  const char *slash = strrchr(path, '/');
  return strcmp(slash ? slash + 1 : path, name) == 0;
}

/* The compiler's fixed flags.  Bulk memory turns the app's memcpy and
 * memset into single memory.copy and memory.fill instructions, which the
 * engine runs natively, instead of wasi-libc's byte loops; with it, clang
 * 14 lowers thread-locals (wasi-libc's errno) only in the local-exec
 * model, which is right for an instance that has one thread.  -flto
 * optimises the app, its generated codec and the SDK as one program, so
 * the SDK's small helpers (the wire codec's varint and field readers)
 * are inlined into the code that calls them. */
static const char *const fixed[] = {"--target=wasm32-wasi", "-O2", "-flto", "-std=c11",
                                    "-mexec-model=reactor", "-mbulk-memory",
                                    "-ftls-model=local-exec"};
#define NFIXED (sizeof fixed / sizeof fixed[0])
#define FIRST_SOURCE (1 + NFIXED + 3) /* cc, the fixed flags, -I, -o OUT */

/* The compiler's command line (NULL-ended; strings owned by the caller's
 * buffers except the source paths, which are fresh: *nfresh of them from
 * argv[FIRST_SOURCE]; free with free_argv). */
static char **compiler_argv(struct build *b, const char *cc, const char *inc,
                            const char *out, const char *sdk_c, const struct idl_part *g,
                            uint32_t *nfresh) {
  size_t n = 0, total = FIRST_SOURCE + b->app->nsources + 2 + 5;
  char **argv = sos_calloc(total, sizeof *argv);
  *nfresh = 0;
  if (!argv) return NULL;
  argv[n++] = (char *)cc;
  for (size_t i = 0; i < NFIXED; i++) argv[n++] = (char *)fixed[i];
  argv[n++] = (char *)inc;
  argv[n++] = (char *)"-o";
  argv[n++] = (char *)out;
  for (uint32_t i = 0; i < b->app->nsources; i++) {
    char path[PATH_MAX];
    if (g->on && named(b->app->sources[i], g->name)) continue; /* compiled fresh below */
    if (join(path, sizeof path, b->dir, b->app->sources[i]) != 0 ||
        !(argv[n++] = sos_strndup(path, strlen(path)))) {
      for (size_t j = FIRST_SOURCE; j < n; j++) sos_free(argv[j]);
      sos_free(argv);
      return NULL;
    }
    (*nfresh)++;
  }
  argv[n++] = (char *)sdk_c;
  if (g->on) {
    argv[n++] = (char *)g->inc;
    argv[n++] = (char *)g->source;
    argv[n++] = (char *)g->wire;
    argv[n++] = (char *)g->typed;
    argv[n++] = (char *)g->json;
  }
  return argv;
}

static void free_argv(char **argv, uint32_t nfresh) {
  for (uint32_t i = 0; argv && i < nfresh; i++) sos_free(argv[FIRST_SOURCE + i]);
  sos_free(argv);
}

/* Writes one generated file into the temporary folder, and refreshes a
 * copy of it in the app's folder when there is one. */
static int put_generated(struct build *b, const char *tmp, const char *name, const char *text,
                         size_t len, char *path, size_t cap) {
  char err[PATH_MAX + 256], mine[PATH_MAX];
  if (sos__cli_idl_put(tmp, name, text, len, false, path, cap, err, sizeof err) < 0)
    return fail("%s", err);
  int rc = sos__cli_idl_put(b->dir, name, text, len, true, mine, sizeof mine, err, sizeof err);
  if (rc < 0) return fail("%s", err);
  if (rc == SOS__CLI_IDL_WROTE)
    fprintf(stderr, "sos build: regenerated %s, which was out of date\n", mine);
  return BUILD_ON;
}

/* Generates the app's C code into tmp and fills g, when the app has any
 * structs, enums or interfaces. */
static int generate_idl(struct build *b, const char *sdk, const char *tmp,
                        struct idl_part *g) {
  char err[1024];
  struct sos_idl_gen gen;
  memset(g, 0, sizeof *g);
  if (!sos_idl_gen_wanted(b->app)) return BUILD_ON;
  if (join(g->wire, sizeof g->wire, sdk, "sos_wire.c") != 0 || access(g->wire, R_OK) != 0 ||
      join(g->typed, sizeof g->typed, sdk, "sos_typed.c") != 0 || access(g->typed, R_OK) != 0 ||
      join(g->json, sizeof g->json, sdk, "sos_json.c") != 0 || access(g->json, R_OK) != 0)
    return fail("the guest SDK in %s has no sos_wire.c, sos_typed.c or sos_json.c, which the "
                "app's structs and interfaces need: update the SDK", sdk);
  if (snprintf(g->inc, sizeof g->inc, "-I%s", tmp) >= (int)sizeof g->inc)
    return fail("%s: path too long", tmp);
  if (sos_idl_gen_c(b->app, &gen, err, sizeof err) != 0) return fail("%s", err);
  g->on = true;
  int rc = put_generated(b, tmp, gen.header_name, gen.header, gen.header_len, g->header,
                         sizeof g->header);
  if (rc == BUILD_ON)
    rc = put_generated(b, tmp, gen.source_name, gen.source, gen.source_len, g->source,
                       sizeof g->source);
  if (rc == BUILD_ON) g->name = g->source + strlen(g->source) - strlen(gen.source_name);
  sos_idl_gen_free(&gen);
  return rc;
}

/* In the child: runs argv with stdout sent to stderr; reports exec's
 * errno on the close-on-exec pipe. */
static void exec_child(char **argv, int report) {
  dup2(STDERR_FILENO, STDOUT_FILENO);
  execvp(argv[0], argv);
  int e = errno;
  ssize_t put = write(report, &e, sizeof e);
  (void)put;
  _exit(127);
}

/* Runs argv and waits for it; returns BUILD_ON when it succeeded. */
static int run_compiler(char **argv) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return fail("cannot run %s: %s", argv[0], strerror(errno));
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) exec_child(argv, fds[1]);
  close(fds[1]);
  int e = 0, status = 0;
  ssize_t got = pid < 0 ? 0 : read(fds[0], &e, sizeof e);
  close(fds[0]);
  if (pid < 0) return fail("cannot run %s: %s", argv[0], strerror(errno));
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  if (got == (ssize_t)sizeof e)
    return fail("cannot run %s: %s%s", argv[0], strerror(e),
                e == ENOENT ? " (install clang, or set SOS_CLANG to the compiler)" : "");
  if (WIFSIGNALED(status)) return fail("%s was killed by signal %d", argv[0], WTERMSIG(status));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return fail("%s failed (exit status %d)", argv[0], WEXITSTATUS(status));
  return BUILD_ON;
}

/* A fresh, empty folder for the compiler's output, in $TMPDIR or /tmp. */
static int make_tmpdir(char *tmp, size_t cap) {
  const char *base = getenv("TMPDIR");
  if (!base || base[0] != '/') base = "/tmp";
  if (snprintf(tmp, cap, "%s/sos-build-XXXXXX", base) >= (int)cap || !mkdtemp(tmp))
    return fail("cannot create a temporary folder in %s: %s", base, strerror(errno));
  return BUILD_ON;
}

/* Compiles the sources and reads the result into b->module. */
static int compile_sources(struct build *b) {
  char sdk[PATH_MAX], inc[PATH_MAX + 2], sdk_c[PATH_MAX], tmp[PATH_MAX], out[PATH_MAX];
  int rc = find_sdk(sdk, sizeof sdk);
  if (rc != BUILD_ON) return rc;
  if (snprintf(inc, sizeof inc, "-I%s", sdk) >= (int)sizeof inc ||
      join(sdk_c, sizeof sdk_c, sdk, "sos.c") != 0)
    return fail("%s: path too long", sdk);
  if ((rc = make_tmpdir(tmp, sizeof tmp)) != BUILD_ON) return rc;
  if (join(out, sizeof out, tmp, "module.wasm") != 0) {
    rmdir(tmp);
    return fail("%s: path too long", tmp);
  }
  struct idl_part *g = sos_calloc(1, sizeof *g);
  rc = g ? generate_idl(b, sdk, tmp, g) : fail("out of memory");
  const char *cc = getenv("SOS_CLANG");
  uint32_t nfresh = 0;
  char **argv = NULL;
  if (rc == BUILD_ON) {
    argv = compiler_argv(b, cc && *cc ? cc : "clang", inc, out, sdk_c, g, &nfresh);
    rc = argv ? run_compiler(argv) : fail("out of memory");
  }
  free_argv(argv, nfresh);
  if (g && g->source[0]) unlink(g->source);
  if (g && g->header[0]) unlink(g->header);
  sos_free(g);
  char err[512];
  if (rc == BUILD_ON && sos__cli_read_file(out, &b->module, &b->modlen, err, sizeof err))
    rc = fail("the compiled module %s: %s", out, err);
  unlink(out);
  rmdir(tmp);
  return rc;
}

/* ---- 3. validation ------------------------------------------------------- */

static int validate_module(struct build *b) {
  char err[1024];
  sos_wasm_module *m = NULL;
  int rc = sos_wasm_module_new(b->module, b->modlen, &m, err, sizeof err);
  sos_wasm_module_free(m);
  if (rc == 0) return BUILD_ON;
  if (rc == SOS_ENOMEM) return fail("out of memory");
  return fail("%s is not a valid WebAssembly module: %s",
              b->app->module ? b->app->module : "the module built from the sources", err);
}

/* ---- 4. files ------------------------------------------------------------- */

/* Adds the regular file at full under the key rel. */
static int add_file(struct build *b, const char *rel, const char *full, const struct stat *st) {
  char why[128];
  if (sos_image_path_check(rel, why, sizeof why) != 0) return fail("file %s: %s", rel, why);
  if (b->nfiles >= SOS_IMAGE_MAX_FILES)
    return fail("more than %u files: an image holds at most that many", SOS_IMAGE_MAX_FILES);
  if ((uint64_t)st->st_size > SOS_IMAGE_MAX_BYTES - b->bytes)
    return fail("the files are larger than the 1 GiB an image can hold (at %s)", rel);
  if (b->nfiles == b->cap) {
    uint32_t cap = b->cap ? b->cap * 2 : 16;
    void *p = sos_realloc(b->files, cap * sizeof *b->files);
    if (!p) return fail("out of memory");
    b->files = p;
    b->cap = cap;
  }
  struct sos_image_file *f = &b->files[b->nfiles];
  char err[512];
  if (sos__cli_read_file(full, &f->data, &f->len, err, sizeof err) != 0)
    return fail("file %s: %s", full, err);
  if (!(f->path = sos_strndup(rel, strlen(rel)))) {
    sos_free(f->data);
    return fail("out of memory");
  }
  b->nfiles++;
  b->bytes += f->len;
  return BUILD_ON;
}

/* Whether full resolves to a place inside the app folder. */
static int inside_root(const struct build *b, const char *full) {
  char real[PATH_MAX];
  if (!realpath(full, real)) return 0;
  size_t n = strlen(b->root);
  if (strcmp(b->root, "/") == 0) return 1;
  return strncmp(real, b->root, n) == 0 && (real[n] == '/' || real[n] == '\0');
}

static int walk(struct build *b, const char *rel, const char *full);

/* Takes one folder entry (name inside rel) while walking. */
static int walk_entry(struct build *b, const char *rel, const char *full, const char *name) {
  char crel[PATH_MAX], cfull[PATH_MAX];
  struct stat lst, st;
  if (join(crel, sizeof crel, rel, name) != 0 || join(cfull, sizeof cfull, full, name) != 0)
    return fail("%s/%s: path too long", rel, name);
  if (lstat(cfull, &lst) != 0) return fail("%s: %s", cfull, strerror(errno));
  if (S_ISLNK(lst.st_mode) && (!inside_root(b, cfull) || stat(cfull, &st) != 0)) {
    fprintf(stderr, "sos build: skipping %s: a symbolic link that leads out of %s\n", crel,
            b->dir);
    return BUILD_ON;
  }
  if (!S_ISLNK(lst.st_mode)) st = lst;
  if (S_ISDIR(st.st_mode)) return walk(b, crel, cfull);
  if (S_ISREG(st.st_mode)) return add_file(b, crel, cfull, &st);
  fprintf(stderr, "sos build: skipping %s: not a regular file or folder\n", crel);
  return BUILD_ON;
}

/* Whether the folder st is already being walked (a symbolic link loop). */
static int on_stack(const struct build *b, const struct stat *st) {
  for (int i = 0; i < b->depth; i++)
    if (b->nest[i].st_dev == st->st_dev && b->nest[i].st_ino == st->st_ino) return 1;
  return 0;
}

/* Adds every file under the folder full, keyed under rel. */
static int walk(struct build *b, const char *rel, const char *full) {
  struct stat st;
  if (stat(full, &st) != 0) return fail("%s: %s", full, strerror(errno));
  if (on_stack(b, &st)) {
    fprintf(stderr, "sos build: skipping %s: a symbolic link loop\n", rel);
    return BUILD_ON;
  }
  if (b->depth == MAX_NEST) return fail("%s: folders nested more than %d deep", rel, MAX_NEST);
  DIR *d = opendir(full);
  if (!d) return fail("%s: %s", full, strerror(errno));
  b->nest[b->depth++] = st;
  int rc = BUILD_ON;
  errno = 0;
  for (struct dirent *e; rc == BUILD_ON && (e = readdir(d)) != NULL; errno = 0)
    if (e->d_name[0] != '.') rc = walk_entry(b, rel, full, e->d_name);
  if (rc == BUILD_ON && errno) rc = fail("%s: %s", full, strerror(errno));
  closedir(d);
  b->depth--;
  return rc;
}

/* Takes one `files` entry: "x.txt" a file, "static/" a folder. */
static int add_entry(struct build *b, const char *entry) {
  char rel[PATH_MAX], full[PATH_MAX], why[128];
  size_t n = strlen(entry);
  int folder = n > 1 && entry[n - 1] == '/';
  if (n >= sizeof rel) return fail("files \"%s\": path too long", entry);
  memcpy(rel, entry, n + 1);
  if (folder) rel[n - 1] = '\0';
  if (sos_image_path_check(rel, why, sizeof why) != 0)
    return fail("files \"%s\": %s (entries are paths inside %s)", entry, why, b->dir);
  if (join(full, sizeof full, b->dir, rel) != 0) return fail("files \"%s\": path too long", entry);
  struct stat st;
  if (stat(full, &st) != 0) return fail("files \"%s\": %s: %s", entry, full, strerror(errno));
  if (!inside_root(b, full))
    return fail("files \"%s\": %s leads out of %s", entry, full, b->dir);
  if (folder && !S_ISDIR(st.st_mode))
    return fail("files \"%s\": %s is not a folder", entry, full);
  if (folder) return walk(b, rel, full);
  if (S_ISDIR(st.st_mode))
    return fail("files \"%s\": %s is a folder; write \"%s/\" to take all of it", entry, full,
                rel);
  if (!S_ISREG(st.st_mode)) return fail("files \"%s\": %s is not a regular file", entry, full);
  return add_file(b, rel, full, &st);
}

static int by_path(const void *x, const void *y) {
  return strcmp(((const struct sos_image_file *)x)->path,
                ((const struct sos_image_file *)y)->path);
}

/* Collects every `files` entry; a file named twice (say by "static/" and
 * "static/a.txt") is kept once. */
static int collect_files(struct build *b) {
  for (uint32_t i = 0; i < b->app->nfiles; i++) {
    int rc = add_entry(b, b->app->files[i]);
    if (rc != BUILD_ON) return rc;
  }
  if (b->nfiles > 1) qsort(b->files, b->nfiles, sizeof *b->files, by_path);
  uint32_t kept = 0;
  for (uint32_t i = 0; i < b->nfiles; i++) {
    if (kept && strcmp(b->files[kept - 1].path, b->files[i].path) == 0) {
      sos_free(b->files[i].path);
      sos_free(b->files[i].data);
      continue;
    }
    b->files[kept++] = b->files[i];
  }
  b->nfiles = kept;
  return BUILD_ON;
}

/* ---- 5. the image ------------------------------------------------------------ */

/* Writes the image and puts its path in path. */
static int write_image(struct build *b, char *path, size_t cap) {
  char dir[PATH_MAX], err[1024];
  if (b->out) snprintf(dir, sizeof dir, "%s", b->out);
  else if (join(dir, sizeof dir, b->dir, ".sos") != 0) return fail("%s: path too long", b->dir);
  struct sos_image img = {.definition = b->definition, .deflen = b->deflen,
                          .module = b->module, .modlen = b->modlen,
                          .files = b->files, .nfiles = b->nfiles};
  if (sos_image_write(&img, dir, path, cap, err, sizeof err) != 0) return fail("%s", err);
  return SOS_CLI_OK;
}

/* ---- the command ------------------------------------------------------------ */

static int build_steps(struct build *b, char *path, size_t cap) {
  int rc = load_app(b);
  if (rc == BUILD_ON) rc = b->app->module ? read_module(b) : compile_sources(b);
  if (rc == BUILD_ON) rc = validate_module(b);
  if (rc == BUILD_ON) rc = collect_files(b);
  if (rc == BUILD_ON) rc = write_image(b, path, cap);
  return rc;
}

static void build_free(struct build *b) {
  for (uint32_t i = 0; i < b->nfiles; i++) {
    sos_free(b->files[i].path);
    sos_free(b->files[i].data);
  }
  sos_free(b->files);
  sos_free(b->module);
  sos_free(b->definition);
  sos_app_free(b->app);
  sos_free(b);
}

/* Builds dir into out (see cli.h). */
int sos__cli_build_image(const char *dir, const char *out, char *path, size_t cap) {
  struct build *b = sos_calloc(1, sizeof *b);
  if (!b) return fail("out of memory");
  b->dir = dir && *dir ? dir : ".";
  b->out = out;
  int rc = build_steps(b, path, cap);
  build_free(b);
  return rc;
}

/* sos build [DIR] [--out DIR2]: prints the image's path. */
static int build_run(const struct sos__cli_cmd *self, int argc, char **argv) {
  struct build *b = sos_calloc(1, sizeof *b);
  if (!b) return fail("out of memory");
  b->cmd = self;
  char path[PATH_MAX] = "";
  int rc = parse_args(b, argc, argv);
  if (rc == BUILD_ON) rc = build_steps(b, path, sizeof path);
  build_free(b);
  if (rc != SOS_CLI_OK || !path[0]) return rc;
  printf("%s\n", path);
  return fflush(stdout) == 0 ? SOS_CLI_OK : fail("cannot write to stdout: %s", strerror(errno));
}

const struct sos__cli_cmd sos__cli_build = {
    .name = "build",
    .path = "sos build",
    .summary = "build an app folder into an image",
    .help =
        "Usage: sos build [DIR] [--out DIR2]\n"
        "\n"
        "Builds the app in DIR (default: the current folder) into one image file\n"
        "and prints the image's path, and nothing else, on stdout.\n"
        "\n"
        "  1. Reads DIR/app.sos and resolves its `extends`.\n"
        "  2. Gets the module: the file named by `module`, or the `sources`\n"
        "     compiled for WebAssembly with\n"
        "       clang --target=wasm32-wasi -O2 -flto -std=c11 -mexec-model=reactor\n"
        "             -mbulk-memory -ftls-model=local-exec\n"
        "             -ISDK -o TMP/module.wasm SOURCES... SDK/sos.c\n"
        "     The compiler is $SOS_CLANG if set, else clang.  SDK, the guest SDK's\n"
        "     folder (sos.h, sos.c), is $SOS_SDK if set, else ../sdk beside the\n"
        "     sos program, else " SDK_INSTALLED ".\n"
        "     An app that declares or imports structs, enums or interfaces also\n"
        "     gets their C code (see `sos idl`), generated into TMP and compiled\n"
        "     with -ITMP TMP/NAME.sos.c SDK/sos_wire.c SDK/sos_typed.c, so its\n"
        "     sources can #include \"NAME.sos.h\".  Copies of those files in DIR\n"
        "     are refreshed.\n"
        "  3. Checks that the module is valid WebAssembly.\n"
        "  4. Takes the `files` entries, paths inside DIR: \"x.txt\" is one file,\n"
        "     \"static/\" a folder taken with everything under it, except names\n"
        "     that start with '.' and symbolic links that lead out of DIR.  Each\n"
        "     file is stored under its path relative to DIR.\n"
        "  5. Writes the image, named ID.sosimg where ID is the sha-256 of its\n"
        "     bytes, into DIR/.sos/ (or DIR2).  It holds the resolved definition,\n"
        "     the module and the files; docs/image.md describes the format.\n"
        "\n"
        "Options:\n"
        "  --out DIR2   write the image into DIR2 (created if missing)\n"
        "  -h, --help   show this help\n"
        "\n"
        "Exit status: 0 built; 1 the build failed (the reason is on stderr);\n"
        "2 bad usage.\n",
    .run = build_run,
};

/*
 * node.c - `sos node start|stop|status`: running the node kernel.
 *
 * `start` runs sosd from the folder of the sos executable (build/sosd
 * beside build/sos), or $SOS_SOSD when set.  In the background (the
 * default) it detaches sosd into its own session with its output in
 * DATA/sosd.log, then waits until the control socket answers (at most
 * five seconds) so that the next command finds the node ready.  With
 * --foreground it becomes sosd.  `stop` asks the node to shut down and
 * waits until its socket stops answering.
 */
#include "cli/cli.h"

#include "sos/base.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/file.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

/* Creates path and its missing parents (the last one mode 0700, as sosd
 * would). */
static void mkdir_p(const char *path) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1; *p; p++)
    if (*p == '/') {
      *p = 0;
      mkdir(buf, 0755);
      *p = '/';
    }
  mkdir(buf, 0700);
}

/* The sosd program to run. */
static void sosd_path(char *buf, size_t cap) {
  const char *env = getenv("SOS_SOSD");
  if (env && *env) {
    snprintf(buf, cap, "%s", env);
    return;
  }
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) {
    snprintf(buf, cap, "sosd");
    return;
  }
  exe[n] = 0;
  char *slash = strrchr(exe, '/');
  if (slash) *slash = 0;
  snprintf(buf, cap, "%s/sosd", exe);
}

/* The node's status answer, or NULL when none is running. */
static int status(const char *data, struct sos__cli_reply *r) {
  char err[512];
  cJSON *j = sos__cli_op("status", NULL);
  int rc = sos__cli_request(data, j, NULL, 0, 2000, r, err, sizeof err);
  cJSON_Delete(j);
  return rc == 0 && r->ok ? 0 : -1;
}

static double num(const cJSON *j, const char *name) {
  const cJSON *v = cJSON_GetObjectItem(j, name);
  return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* Starts sosd detached and waits for it to answer. */
static int start_background(const struct sos__cli_cmd *cmd, const struct sos__cli_args *a,
                            char **argv) {
  char log[4200];
  mkdir_p(a->data);
  snprintf(log, sizeof log, "%s/sosd.log", a->data);
  int logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (logfd < 0) {
    fprintf(stderr, "%s: cannot open %s: %s\n", cmd->path, log, strerror(errno));
    return SOS_CLI_NO;
  }
  off_t log_start = lseek(logfd, 0, SEEK_END);
  pid_t pid = fork();
  if (pid == 0) {
    setsid();
    int nul = open("/dev/null", O_RDONLY);
    dup2(nul, 0);
    dup2(logfd, 1);
    dup2(logfd, 2);
    execv(argv[0], argv);
    fprintf(stderr, "sos node start: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  close(logfd);
  struct sos__cli_reply r;
  for (int i = 0; i < 500; i++) { /* at most five seconds */
    int st;
    if (waitpid(pid, &st, WNOHANG) == pid) break;
    if (status(a->data, &r) == 0) {
      const cJSON *http = cJSON_GetObjectItem(r.json, "http");
      printf("node started (pid %d, data %s, %s %s)\n", (int)num(r.json, "pid"), a->data,
             cJSON_IsTrue(cJSON_GetObjectItem(r.json, "tls")) ? "https" : "http",
             cJSON_IsString(http) ? http->valuestring : "off");
      sos__cli_reply_free(&r);
      return SOS_CLI_OK;
    }
    sleep_ms(10);
  }
  fprintf(stderr, "%s: the node did not start; from %s:\n", cmd->path, log);
  char buf[4096];
  int fd = open(log, O_RDONLY);
  ssize_t n = fd >= 0 ? pread(fd, buf, sizeof buf, log_start) : 0;
  if (n > 0) fwrite(buf, 1, (size_t)n, stderr);
  if (fd >= 0) close(fd);
  return SOS_CLI_NO;
}

static int run_start(const struct sos__cli_cmd *cmd, int argc, char **argv) {
  struct sos__cli_args a;
  int rc = sos__cli_parse(cmd, argc, argv,
                          SOS__CLI_F_FOREGROUND | SOS__CLI_F_WORKERS | SOS__CLI_F_HTTP, 0, 0, &a);
  if (rc) return rc == 1 ? SOS_CLI_OK : rc;
  char sosd[PATH_MAX + 16];
  sosd_path(sosd, sizeof sosd);
  const char *workers = sos__cli_value(&a, SOS__CLI_F_WORKERS);
  const char *http = sos__cli_value(&a, SOS__CLI_F_HTTP);
  char *args[8] = {sosd, "--data", a.data}, **arg = args + 3;
  if (workers) *arg++ = "--workers", *arg++ = (char *)workers;
  if (http) *arg++ = "--http", *arg++ = (char *)http;
  if (a.flags & SOS__CLI_F_FOREGROUND) {
    execv(sosd, args);
    fprintf(stderr, "%s: cannot run %s: %s\n", cmd->path, sosd, strerror(errno));
    return SOS_CLI_NO;
  }
  struct sos__cli_reply r;
  if (status(a.data, &r) == 0) {
    printf("node already running (pid %d, data %s)\n", (int)num(r.json, "pid"), a.data);
    sos__cli_reply_free(&r);
    return SOS_CLI_OK;
  }
  return start_background(cmd, &a, args);
}

/* Whether no sosd holds DATA/sosd.lock: the node has not only stopped
 * answering but exited (the lock goes with its process, so a node started
 * right after cannot find the old one still holding it). */
static bool lock_free(const char *data) {
  char path[4200];
  snprintf(path, sizeof path, "%s/sosd.lock", data);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return true;
  bool free_now = flock(fd, LOCK_EX | LOCK_NB) == 0;
  close(fd); /* releases our lock at once */
  return free_now;
}

static int run_stop(const struct sos__cli_cmd *cmd, int argc, char **argv) {
  struct sos__cli_args a;
  int rc = sos__cli_parse(cmd, argc, argv, 0, 0, 0, &a);
  if (rc) return rc == 1 ? SOS_CLI_OK : rc;
  char err[512];
  struct sos__cli_reply r;
  cJSON *j = sos__cli_op("stop", NULL);
  rc = sos__cli_request(a.data, j, NULL, 0, 5000, &r, err, sizeof err);
  cJSON_Delete(j);
  sos__cli_reply_free(&r);
  if (rc) {
    fprintf(stderr, "%s: %s\n", cmd->path, err);
    return SOS_CLI_NO;
  }
  for (int i = 0; i < 1500; i++) { /* at most fifteen seconds */
    if (lock_free(a.data)) {
      printf("node stopped\n");
      return SOS_CLI_OK;
    }
    sleep_ms(10);
  }
  fprintf(stderr, "%s: the node is still running after 15 s\n", cmd->path);
  return SOS_CLI_NO;
}

static int run_status(const struct sos__cli_cmd *cmd, int argc, char **argv) {
  struct sos__cli_args a;
  int rc = sos__cli_parse(cmd, argc, argv, SOS__CLI_F_JSON, 0, 0, &a);
  if (rc) return rc == 1 ? SOS_CLI_OK : rc;
  struct sos__cli_reply r;
  if (status(a.data, &r) != 0) {
    if (a.flags & SOS__CLI_F_JSON)
      printf("{\"running\":false}\n");
    else
      fprintf(stderr, "not running (data %s)\n", a.data);
    return SOS_CLI_NO;
  }
  if (a.flags & SOS__CLI_F_JSON) {
    cJSON_DeleteItemFromObject(r.json, "ok");
    cJSON_AddBoolToObject(r.json, "running", 1);
    char *t = cJSON_PrintUnformatted(r.json);
    printf("%s\n", t);
    cJSON_free(t);
  } else {
    const char *http = cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "http"));
    printf("running\n  pid        %d\n  data       %s\n  http       %s\n"
           "  version    %s (ABI v%d)\n"
           "  uptime     %.1f s\n  workers    %d\n  services   %d\n  instances  %d\n",
           (int)num(r.json, "pid"), a.data, http ? http : "off",
           cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "version")),
           (int)num(r.json, "abi"), num(r.json, "uptime_ms") / 1000,
           (int)num(r.json, "workers"), (int)num(r.json, "services"),
           (int)num(r.json, "instances"));
  }
  sos__cli_reply_free(&r);
  return SOS_CLI_OK;
}

#define DATA_HELP                                                                    \
  "  --data DIR     the node's data directory (default: $SOS_HOME, else\n"           \
  "                 ~/.local/share/sos)\n"

static const struct sos__cli_cmd start_cmd = {
    .name = "start",
    .path = "sos node start",
    .summary = "start the node kernel (sosd) on this machine",
    .help = "Usage: sos node start [--foreground] [--workers N] [--http ADDR] [--data DIR]\n"
            "\n"
            "Starts sosd in the background with its output in DATA/sosd.log and\n"
            "waits until it answers.  Every service deployed on the node comes back.\n"
            "Does nothing when the node is already running.  Settings come from\n"
            "DATA/node.conf (docs/operations.md); the options override them.\n"
            "\n"
            "Options:\n"
            "  --foreground   run sosd in this terminal instead (stop with Ctrl-C)\n"
            "  --workers N    threads that run instances (default: one per core)\n"
            "  --http ADDR    where the HTTP gateway listens: HOST:PORT, PORT or off\n"
            "                 (default: 127.0.0.1:8080)\n" DATA_HELP,
    .run = run_start,
};

static const struct sos__cli_cmd stop_cmd = {
    .name = "stop",
    .path = "sos node stop",
    .summary = "stop the node cleanly",
    .help = "Usage: sos node stop [--data DIR]\n"
            "\n"
            "Asks the node to shut down: calls in flight finish (or fail after five\n"
            "seconds), then sosd exits.  Waits until it has.\n"
            "\n"
            "Options:\n" DATA_HELP,
    .run = run_stop,
};

static const struct sos__cli_cmd status_cmd = {
    .name = "status",
    .path = "sos node status",
    .summary = "whether the node runs, and its figures",
    .help = "Usage: sos node status [--json] [--data DIR]\n"
            "\n"
            "Prints the node's pid, version, uptime and counts; exits 1 when no node\n"
            "is running.\n"
            "\n"
            "Options:\n"
            "  --json         print one JSON object\n" DATA_HELP,
    .run = run_status,
};

static const struct sos__cli_cmd *const node_cmds[] = {&start_cmd, &stop_cmd, &status_cmd, NULL};

const struct sos__cli_cmd sos__cli_node = {
    .name = "node",
    .path = "sos node",
    .summary = "start, stop and inspect the node kernel",
    .help = "Usage: sos node COMMAND [OPTIONS]\n"
            "\n"
            "The node kernel, sosd, runs the services of this machine.\n",
    .subs = node_cmds,
};

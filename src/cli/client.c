/*
 * client.c - the CLI's side of the control protocol (include/sos/control.h):
 * finding the node's data directory and exchanging one request and one
 * answer with sosd over its unix socket.
 *
 * Every command that talks to a node finds it the same way: --data DIR,
 * else $SOS_HOME, else ~/.local/share/sos, and connects to DIR/sosd.sock.
 * I/O is blocking with a bounded wait: a node that does not answer within
 * the timeout is an error, never a hang.
 */
#include "cli/cli.h"

#include "sos/base.h"
#include "sos/control.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

void sos__cli_data_dir(const char *opt, char *buf, size_t cap) {
  const char *env = getenv("SOS_HOME"), *home = getenv("HOME");
  if (opt)
    snprintf(buf, cap, "%s", opt);
  else if (env && *env)
    snprintf(buf, cap, "%s", env);
  else
    snprintf(buf, cap, "%s/.local/share/sos", home ? home : "/root");
}

/* Connects to DATA/sosd.sock; -1 with a sentence in err. */
static int dial(const char *data, char *err, size_t errlen) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if ((size_t)snprintf(a.sun_path, sizeof a.sun_path, "%s/%s", data, SOS_CONTROL_SOCKET) >=
      sizeof a.sun_path) {
    snprintf(err, errlen, "the data directory path %s is too long for a unix socket", data);
    return -1;
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) {
    snprintf(err, errlen, "no node is running on %s (start one with 'sos node start')", data);
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}

/* Writes all of p; false on error. */
static bool write_all(int fd, const void *p, size_t n) {
  const uint8_t *b = p;
  while (n) {
    ssize_t w = write(fd, b, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    b += w;
    n -= (size_t)w;
  }
  return true;
}

/* Reads exactly n bytes, waiting at most timeout_ms for each chunk. */
static bool read_all(int fd, void *p, size_t n, int timeout_ms) {
  uint8_t *b = p;
  while (n) {
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    int r = poll(&pf, 1, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    ssize_t got = read(fd, b, n);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    b += got;
    n -= (size_t)got;
  }
  return true;
}

int sos__cli_request(const char *data, cJSON *req, const void *body, size_t blen,
                     int timeout_ms, struct sos__cli_reply *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  int fd = dial(data, err, errlen);
  if (fd < 0) return SOS_ENOENT;
  char *text = cJSON_PrintUnformatted(req);
  int rc = SOS_EIO;
  uint32_t h[2] = {text ? (uint32_t)strlen(text) : 0, (uint32_t)blen};
  if (!text) {
    rc = SOS_ENOMEM;
  } else if (write_all(fd, h, 8) && write_all(fd, text, h[0]) && write_all(fd, body, blen) &&
             read_all(fd, h, 8, timeout_ms) && h[0] <= SOS_CONTROL_MAX_JSON &&
             h[1] <= SOS_CONTROL_MAX_BODY) {
    char *json = sos_malloc(h[0] + 1);
    out->body = sos_malloc(h[1] + 1);
    if (json && out->body && read_all(fd, json, h[0], timeout_ms) &&
        read_all(fd, out->body, h[1], timeout_ms)) {
      out->len = h[1];
      out->json = cJSON_ParseWithLength(json, h[0]);
      rc = out->json ? 0 : SOS_EIO;
    }
    sos_free(json);
  }
  cJSON_free(text);
  close(fd);
  if (rc) {
    snprintf(err, errlen, "the node on %s did not answer properly", data);
    sos__cli_reply_free(out);
    return rc;
  }
  const cJSON *ok = cJSON_GetObjectItem(out->json, "ok");
  out->ok = cJSON_IsTrue(ok);
  const cJSON *e = cJSON_GetObjectItem(out->json, "error");
  if (!out->ok) snprintf(err, errlen, "%s", cJSON_IsString(e) ? e->valuestring : "failed");
  return 0;
}

int sos__cli_ask(const struct sos__cli_cmd *cmd, const char *data, cJSON *req, const void *body,
                 size_t blen, int timeout_ms, struct sos__cli_reply *r) {
  char err[1024];
  int rc = sos__cli_request(data, req, body, blen, timeout_ms, r, err, sizeof err);
  cJSON_Delete(req);
  if (rc == 0 && r->ok) return SOS_CLI_OK;
  fprintf(stderr, "%s: %s\n", cmd->path, err);
  sos__cli_reply_free(r);
  return SOS_CLI_NO;
}

void sos__cli_reply_free(struct sos__cli_reply *r) {
  cJSON_Delete(r->json);
  sos_free(r->body);
  memset(r, 0, sizeof *r);
}

/* A one-op request with an optional "service" field. */
cJSON *sos__cli_op(const char *op, const char *service) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "op", op);
  if (service) cJSON_AddStringToObject(j, "service", service);
  return j;
}

/* The options commands share, by flag bit (see cli.h). */
static const struct {
  unsigned bit;
  const char *name, *alias;
  bool takes_value;
} options[] = {
    {SOS__CLI_F_JSON, "--json", NULL, false},
    {SOS__CLI_F_FOLLOW, "--follow", "-f", false},
    {SOS__CLI_F_LINES, "--lines", "-n", true},
    {SOS__CLI_F_TIMEOUT, "--timeout", NULL, true},
    {SOS__CLI_F_FOREGROUND, "--foreground", NULL, false},
    {SOS__CLI_F_WORKERS, "--workers", NULL, true},
    {SOS__CLI_F_OUT, "--out", NULL, true},
    {SOS__CLI_F_PURGE, "--purge", NULL, false},
    {SOS__CLI_F_RAW, "--raw", NULL, false},
    {SOS__CLI_F_HTTP, "--http", NULL, true},
};

_Static_assert(sizeof options / sizeof options[0] <=
                   sizeof ((struct sos__cli_args *)0)->value /
                       sizeof ((struct sos__cli_args *)0)->value[0],
               "every option needs a slot in sos__cli_args.value");

/* Matches argv[*i] against one option; 1 matched, 0 not, -1 error. */
static int match(const struct sos__cli_cmd *cmd, int argc, char **argv, int *i, size_t o,
                 struct sos__cli_args *a) {
  const char *v = NULL;
  int m = sos__cli_opt(cmd, argc, argv, i, options[o].name, options[o].takes_value ? &v : NULL);
  if (m == 0 && options[o].alias)
    m = sos__cli_opt(cmd, argc, argv, i, options[o].alias, options[o].takes_value ? &v : NULL);
  if (m <= 0) return m;
  a->flags |= options[o].bit;
  a->value[o] = v;
  return 1;
}

int sos__cli_parse(const struct sos__cli_cmd *cmd, int argc, char **argv, unsigned allowed,
                   int minpos, int maxpos, struct sos__cli_args *a) {
  memset(a, 0, sizeof *a);
  const char *data = NULL;
  bool opts = true; /* until "--": what follows is positional */
  for (int i = 1; i < argc; i++) {
    if (opts && !strcmp(argv[i], "--")) {
      opts = false;
      continue;
    }
    if (!opts) {
      if (a->npos == maxpos || a->npos == 8) {
        sos__cli_usage(cmd, "unexpected argument '%s'", argv[i]);
        return SOS_CLI_USAGE;
      }
      a->pos[a->npos++] = argv[i];
      continue;
    }
    if (sos__cli_is_help(argv[i])) {
      sos__cli_help(cmd);
      return 1;
    }
    int m = sos__cli_opt(cmd, argc, argv, &i, "--data", &data);
    for (size_t o = 0; m == 0 && o < sizeof options / sizeof options[0]; o++)
      if (allowed & options[o].bit) m = match(cmd, argc, argv, &i, o, a);
    if (m < 0) return SOS_CLI_USAGE;
    if (m > 0) continue;
    if (argv[i][0] == '-' && argv[i][1]) {
      sos__cli_usage(cmd, "unknown option '%s'", argv[i]);
      return SOS_CLI_USAGE;
    }
    if (a->npos == maxpos || a->npos == 8) {
      sos__cli_usage(cmd, "unexpected argument '%s'", argv[i]);
      return SOS_CLI_USAGE;
    }
    a->pos[a->npos++] = argv[i];
  }
  if (a->npos < minpos) {
    sos__cli_usage(cmd, "missing argument");
    return SOS_CLI_USAGE;
  }
  sos__cli_data_dir(data, a->data, sizeof a->data);
  return 0;
}

const char *sos__cli_value(const struct sos__cli_args *a, unsigned bit) {
  for (size_t o = 0; o < sizeof options / sizeof options[0]; o++)
    if (options[o].bit == bit) return a->value[o];
  return NULL;
}

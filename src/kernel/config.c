/*
 * config.c - the node's configuration: DATA/node.conf.
 *
 * A missing file means every default, so a fresh node needs nothing
 * configured.  The file holds one setting per line, `name = value`, with
 * `#` comments and blank lines; an unknown name or a bad value stops the
 * node at start with `node.conf:LINE: what is wrong`, since a setting
 * silently ignored (a typo in a port) is worse than a node that does not
 * start.  docs/operations.md lists the settings.
 */
#include "kernel/kernel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sos__k_config_defaults(struct kconfig *c) {
  memset(c, 0, sizeof *c);
  snprintf(c->http_host, sizeof c->http_host, "127.0.0.1");
  c->http_port = 8080;
  c->http_max_head = 16 * 1024;
  c->http_max_body = 1024 * 1024;
  c->http_max_conns = 1024;
  c->http_request_timeout_ms = 10000;
  c->http_idle_timeout_ms = 5000;
}

/* "HOST:PORT", ":PORT", "PORT" or "off" into c. */
static int parse_listen(struct kconfig *c, const char *v) {
  if (!strcmp(v, "off")) {
    c->http_off = true;
    return 0;
  }
  const char *colon = strrchr(v, ':');
  const char *port = colon ? colon + 1 : v;
  size_t hlen = colon ? (size_t)(colon - v) : 0;
  char *end;
  errno = 0;
  long p = strtol(port, &end, 10);
  if (!*port || *end || errno || p < 0 || p > 65535 || hlen >= sizeof c->http_host) return -1;
  if (colon && hlen) {
    memcpy(c->http_host, v, hlen);
    c->http_host[hlen] = 0;
  }
  c->http_port = (int)p;
  c->http_off = false;
  return 0;
}

/* A positive integer no larger than max into *out. */
static int parse_num(const char *v, uint64_t max, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long n = strtoull(v, &end, 10);
  if (!*v || *end || errno || n == 0 || n > max || v[0] == '-') return -1;
  *out = n;
  return 0;
}

int sos__k_config_set(struct kconfig *c, const char *name, const char *value, char *err,
                      size_t errlen) {
  uint64_t n = 0;
  int rc = 0;
  if (!strcmp(name, "http")) rc = parse_listen(c, value);
  else if (!strcmp(name, "http_max_head")) {
    if (!(rc = parse_num(value, 1024 * 1024, &n))) c->http_max_head = (uint32_t)n;
  } else if (!strcmp(name, "http_max_body")) {
    if (!(rc = parse_num(value, SOS_ABI_MAX_MESSAGE / 2, &n))) c->http_max_body = n;
  } else if (!strcmp(name, "http_max_connections")) {
    if (!(rc = parse_num(value, 1000000, &n))) c->http_max_conns = (uint32_t)n;
  } else if (!strcmp(name, "http_request_timeout_ms")) {
    if (!(rc = parse_num(value, 3600000, &n))) c->http_request_timeout_ms = n;
  } else if (!strcmp(name, "http_idle_timeout_ms")) {
    if (!(rc = parse_num(value, 3600000, &n))) c->http_idle_timeout_ms = n;
  } else if (!strcmp(name, "http_tls_cert") || !strcmp(name, "http_tls_key")) {
    char *dst = name[9] == 'c' ? c->http_tls_cert : c->http_tls_key;
    rc = strlen(value) < sizeof c->http_tls_cert && value[0] ? 0 : -1;
    if (!rc) snprintf(dst, sizeof c->http_tls_cert, "%s", value);
  } else {
    snprintf(err, errlen, "unknown setting \"%s\" (known: http, http_max_head, "
                          "http_max_body, http_max_connections, http_request_timeout_ms, "
                          "http_idle_timeout_ms, http_tls_cert, http_tls_key)", name);
    return SOS_EINVAL;
  }
  if (rc) {
    snprintf(err, errlen, "bad value \"%s\" for %s%s", value, name,
             !strcmp(name, "http")           ? ": write HOST:PORT, PORT or off"
             : !strncmp(name, "http_tls", 8) ? ": write the path of a PEM file"
                                             : ": write a positive whole number");
    return SOS_EINVAL;
  }
  return 0;
}

/* Trims spaces and tabs off both ends of s in place. */
static char *trim(char *s) {
  while (*s == ' ' || *s == '\t') s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) s[--n] = 0;
  return s;
}

int sos__k_config_load(struct kconfig *c, const char *data, char *err, size_t errlen) {
  char path[4200], line[1024], why[400];
  snprintf(path, sizeof path, "%s/node.conf", data);
  FILE *f = fopen(path, "r");
  if (!f) return errno == ENOENT ? 0 : (snprintf(err, errlen, "cannot read %s: %s", path,
                                                 strerror(errno)), SOS_EIO);
  int rc = 0;
  for (unsigned no = 1; rc == 0 && fgets(line, sizeof line, f); no++) {
    line[strcspn(line, "#\n")] = 0; /* a comment, or the newline, ends it */
    char *l = trim(line);
    if (!*l) continue;
    char *eq = strchr(l, '=');
    if (!eq) {
      snprintf(err, errlen, "%s:%u: expected name = value", path, no);
      rc = SOS_EINVAL;
      break;
    }
    *eq = 0;
    if ((rc = sos__k_config_set(c, trim(l), trim(eq + 1), why, sizeof why)))
      snprintf(err, errlen, "%s:%u: %s", path, no, why);
  }
  fclose(f);
  return rc;
}

/*
 * secrets.c - the node's secrets: values an operator sets (`sos secret
 * set NAME`, reading stdin) and apps read by name when their definition
 * declares it (`secret NAME` in app.sos) - no ambient authority.
 *
 * Each secret is one file, DATA/secrets/NAME, mode 0600 in a folder of
 * mode 0700: readable by the node's owner only, outside LMDB so that
 * snapshots, `sos kv` and the stores' admin calls never carry one.  A
 * set writes a temporary file, syncs it and renames it over the old one,
 * so a crash leaves the old value or the new, never half of one.  Values
 * never reach a log, an image or a command's output: `sos secret ls`
 * lists names and sizes, and the built-in `secrets` refuses callers from
 * outside (the owner already has the file) and instances whose app does
 * not declare the name.
 */
#include "kernel/kernel.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SECRET (64 * 1024)
enum { E_NOT_DECLARED = 1, E_NOT_SET = 2 };

/* Whether name is a secret's name: [A-Za-z_][A-Za-z0-9_]*, at most 63. */
static bool name_ok(const char *name) {
  size_t n = strlen(name);
  if (!n || n > 63 || (name[0] >= '0' && name[0] <= '9')) return false;
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  }
  return true;
}

static int bad_name(const char *name, char *err, size_t errlen) {
  snprintf(err, errlen, "bad secret name \"%.63s\": use letters, digits and \"_\", not "
                        "starting with a digit (at most 63)", name);
  return SOS_EINVAL;
}

int sos__k_secret_get(struct kernel *k, const struct inst *caller, const char *name,
                      uint8_t **val, size_t *len) {
  *val = NULL;
  *len = 0;
  if (!caller) return SOS_EPERM;
  const struct sos_app *app = caller->ver->img->app;
  bool declared = false;
  for (uint32_t i = 0; i < app->nsecrets && !declared; i++)
    declared = strcmp(app->secrets[i], name) == 0;
  if (!declared || !name_ok(name)) return SOS_EPERM;
  char path[4200];
  snprintf(path, sizeof path, "%s/secrets/%s", k->data, name);
  int rc = sos_file_read(path, val, len);
  return rc == SOS_ENOENT ? SOS_ENOENT : rc ? SOS_EIO : 0;
}

void sos__k_secrets_call(struct kernel *k, struct req *r, int req_type) {
  char name[64] = "";
  if (!sos__k_req_text(k, r, req_type, "name", name, sizeof name)) name[0] = 0;
  if (!r->caller) /* the owner reads DATA/secrets; no command prints a secret */
    return sos__k_complete(k, r, SOS_STATUS_DENIED, "secrets are for apps only", 25);
  uint8_t *val = NULL;
  size_t len = 0;
  int rc = sos__k_secret_get(k, r->caller, name, &val, &len);
  if (rc == SOS_EPERM) {
    sos__k_log(r->caller->svc, "warn", "denied: secret %s (not declared by app %s)", name,
               r->caller->ver->img->app->name);
    return sos__k_answer_error(k, r, "Secrets", E_NOT_DECLARED,
                               "the app's definition does not declare that secret");
  }
  if (rc) return sos__k_answer_error(k, r, "Secrets", E_NOT_SET, "that secret is not set");
  struct sos_buf b = {0};
  if (len) sos_idl_put_bytes(&b, 1, val, len);
  memset(val, 0, len);
  sos_free(val);
  if (b.rc) sos__k_complete(k, r, SOS_STATUS_BUSY, "out of memory", 13);
  else sos__k_complete(k, r, SOS_STATUS_OK, b.p, b.len);
  if (b.p) memset(b.p, 0, b.len);
  sos_buf_free(&b);
}

int sos__k_secret_set(struct kernel *k, const char *name, const uint8_t *val, size_t len,
                      char *err, size_t errlen) {
  if (!name_ok(name)) return bad_name(name, err, errlen);
  if (len > MAX_SECRET) {
    snprintf(err, errlen, "a secret holds at most 64 KiB");
    return SOS_EINVAL;
  }
  char dir[4200], tmp[4300], path[4300];
  snprintf(dir, sizeof dir, "%s/secrets", k->data);
  mkdir(dir, 0700);
  snprintf(path, sizeof path, "%s/%s", dir, name);
  snprintf(tmp, sizeof tmp, "%s/.%s.new", dir, name);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  bool ok = fd >= 0 && fchmod(fd, 0600) == 0 && (len == 0 || write(fd, val, len) == (ssize_t)len) &&
            fsync(fd) == 0;
  if (fd >= 0) close(fd);
  if (ok) ok = rename(tmp, path) == 0;
  if (!ok) {
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    unlink(tmp);
    return SOS_EIO;
  }
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* the rename, durably */
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return 0;
}

int sos__k_secret_rm(struct kernel *k, const char *name, char *err, size_t errlen) {
  if (!name_ok(name)) return bad_name(name, err, errlen);
  char path[4300];
  snprintf(path, sizeof path, "%s/secrets/%s", k->data, name);
  if (unlink(path) == 0) return 0;
  snprintf(err, errlen, errno == ENOENT ? "no secret named %s" : "cannot remove %s", name);
  return errno == ENOENT ? SOS_ENOENT : SOS_EIO;
}

int sos__k_secret_list(struct kernel *k, char **text) {
  char dir[4200];
  struct sos_buf b = {0};
  snprintf(dir, sizeof dir, "%s/secrets", k->data);
  DIR *d = opendir(dir);
  for (struct dirent *e; d && (e = readdir(d));) {
    struct stat st;
    if (!name_ok(e->d_name) || fstatat(dirfd(d), e->d_name, &st, 0) || !S_ISREG(st.st_mode))
      continue;
    sos_buf_fmt(&b, "%s\t%lld\n", e->d_name, (long long)st.st_size);
  }
  if (d) closedir(d);
  size_t n;
  return sos_buf_finish(&b, text, &n);
}

/*
 * reader.c - a test service that uses unmodified C file calls on the
 * files of its image:
 *   cat PATH    the file's bytes (fopen, fread, fseek to learn the size)
 *   ls DIR      the names in DIR, one per line, "/" after directories
 *   stat PATH   "file SIZE" or "dir"
 *   write PATH  tries fopen(PATH, "w"): the answer is strerror's words
 *   put PATH TEXT / add PATH TEXT   writes (appends) TEXT to PATH
 *   rm PATH, mkdir PATH, rmdir PATH unlink, mkdir, rmdir
 *   mv OLD NEW                      rename
 *   trunc PATH SIZE                 truncate
 * The last ones answer "ok" or strerror's words.  tests/apps/writer is the
 * same code with a files store, where they succeed.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sos.h"

static int cat(const struct sos_request *req) {
  FILE *f = fopen(req->body, "r");
  if (!f) return sos_fail(SOS_STATUS_NOT_FOUND, "%s: %s", req->body, strerror(errno));
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)size + 1);
  size_t got = buf ? fread(buf, 1, (size_t)size, f) : 0;
  fclose(f);
  int rc = sos_respond(buf, got);
  free(buf);
  return rc;
}

static int ls(const struct sos_request *req) {
  DIR *d = opendir(req->body);
  if (!d) return sos_fail(SOS_STATUS_NOT_FOUND, "%s: %s", req->body, strerror(errno));
  char out[4096];
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < sizeof out - 300)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
      n += (size_t)snprintf(out + n, sizeof out - n, "%s%s\n", e->d_name,
                            e->d_type == DT_DIR ? "/" : "");
  closedir(d);
  return sos_respond(out, n);
}

static int stat_(const struct sos_request *req) {
  struct stat st;
  if (stat(req->body, &st)) return sos_fail(SOS_STATUS_NOT_FOUND, "%s", strerror(errno));
  if (S_ISDIR(st.st_mode)) return sos_respond_str("dir");
  return sos_respondf("file %lld", (long long)st.st_size);
}

static int write_(const struct sos_request *req) {
  FILE *f = fopen(req->body, "w");
  if (f) {
    fclose(f);
    return sos_respond_str("opened");
  }
  return sos_respond_str(strerror(errno));
}

/* PATH TEXT into path (a buffer of cap bytes); the text after it. */
static const char *split(const struct sos_request *req, char *path, size_t cap) {
  const char *sp = strchr(req->body, ' ');
  size_t n = sp ? (size_t)(sp - req->body) : req->len;
  if (n >= cap) n = cap - 1;
  memcpy(path, req->body, n);
  path[n] = 0;
  return sp ? sp + 1 : "";
}

static int put_text(const struct sos_request *req, const char *mode) {
  char path[256];
  const char *text = split(req, path, sizeof path);
  FILE *f = fopen(path, mode);
  if (!f) return sos_respond_str(strerror(errno));
  fputs(text, f);
  return sos_respond_str(fclose(f) ? strerror(errno) : "ok");
}

static int put(const struct sos_request *req) { return put_text(req, "w"); }
static int add(const struct sos_request *req) { return put_text(req, "a"); }

static int answer_errno(int rc) { return sos_respond_str(rc ? strerror(errno) : "ok"); }
static int rm(const struct sos_request *req) { return answer_errno(unlink(req->body)); }
static int mkdir_(const struct sos_request *req) { return answer_errno(mkdir(req->body, 0755)); }
static int rmdir_(const struct sos_request *req) { return answer_errno(rmdir(req->body)); }

/* trunc PATH SIZE: truncate(). */
static int trunc_(const struct sos_request *req) {
  char path[256];
  const char *size = split(req, path, sizeof path);
  return answer_errno(truncate(path, atol(size)));
}

/* mv OLD NEW: rename(). */
static int mv(const struct sos_request *req) {
  char from[256];
  const char *to = split(req, from, sizeof from);
  return answer_errno(rename(from, to));
}

void sos_main(void) {
  sos_method("put", put);
  sos_method("add", add);
  sos_method("rm", rm);
  sos_method("mkdir", mkdir_);
  sos_method("rmdir", rmdir_);
  sos_method("mv", mv);
  sos_method("trunc", trunc_);
  sos_method("cat", cat);
  sos_method("ls", ls);
  sos_method("stat", stat_);
  sos_method("write", write_);
}

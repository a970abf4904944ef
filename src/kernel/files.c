/*
 * files.c - the file tree an instance sees through WASI: its version's
 * image files, read-only, as the preopened directory "/" (include/sos/
 * wasi.h, struct sos_wasi_fs).
 *
 * So unmodified C code reads the files an app ships (fopen, fread,
 * opendir, stat) without knowing about images.  The tree is the image's
 * sorted list of paths: a file is found by binary search, a directory is
 * a path that some file's path continues with "/", and a listing walks
 * the run of paths under a directory, one entry per distinct next
 * component.  Each instance has its own table of open files (fds 4 and
 * up), kept in struct inst and freed with it; the bytes are the image's,
 * which outlives every instance of its version.
 *
 * Paths are resolved here: "." is skipped, ".." goes up and may not leave
 * the root (ENOTCAPABLE), NUL bytes and over-long paths are refused.
 * Writable file stores (the overlay of docs/storage.md) come next.
 */
#include "kernel/kernel.h"

#include <stdio.h>
#include <string.h>

#define MAX_OPEN 64
#define MAX_PATH 1024

struct kfile {
  bool used, dir;
  char *path; /* resolved, "" for the root */
  const uint8_t *data;
  size_t len;
  uint64_t pos;
};

static struct inst *me(sos_wasm_instance *wi) { return sos_wasm_instance_user(wi); }

static const struct sos_image *image_of(struct inst *in) { return in->ver->img->img; }

/* The open file fd of in, or NULL. */
static struct kfile *file_of(struct inst *in, uint32_t fd) {
  if (fd < 4 || fd - 4 >= in->nfiles || !in->files[fd - 4].used) return NULL;
  return &in->files[fd - 4];
}

/* The directory path of fd: "" for 3, else an open directory's. */
static const char *dir_of(struct inst *in, uint32_t fd) {
  if (fd == 3) return "";
  struct kfile *f = file_of(in, fd);
  return f && f->dir ? f->path : NULL;
}

/* Resolves path (len bytes) under dir into out; a WASI errno. */
static uint32_t resolve(const char *dir, const char *path, size_t len, char *out) {
  size_t n = strlen(dir);
  if (n >= MAX_PATH || len >= MAX_PATH || memchr(path, 0, len)) return SOS_WASI_ENOENT;
  memcpy(out, dir, n);
  for (size_t i = 0; i < len;) {
    size_t j = i;
    while (j < len && path[j] != '/') j++;
    size_t part = j - i;
    if (part == 2 && path[i] == '.' && path[i + 1] == '.') {
      if (!n) return SOS_WASI_ENOTCAPABLE; /* above the root */
      while (n && out[n - 1] != '/') n--;
      if (n) n--;
    } else if (part && !(part == 1 && path[i] == '.')) {
      if (n + 1 + part >= MAX_PATH) return SOS_WASI_ENOENT;
      if (n) out[n++] = '/';
      memcpy(out + n, path + i, part);
      n += part;
    }
    i = j + 1;
  }
  out[n] = 0;
  return 0;
}

/* The index of the first image file whose path is >= key. */
static uint32_t lower_bound(const struct sos_image *img, const char *key) {
  uint32_t lo = 0, hi = img->nfiles;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (strcmp(img->files[mid].path, key) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* Whether path names a directory: the root, or a prefix of a file's path
 * followed by "/". */
static bool is_dir(const struct sos_image *img, const char *path) {
  if (!*path) return true;
  char key[MAX_PATH + 2];
  snprintf(key, sizeof key, "%s/", path);
  uint32_t i = lower_bound(img, key);
  return i < img->nfiles && !strncmp(img->files[i].path, key, strlen(key));
}

static uint32_t fs_open(void *env, sos_wasm_instance *wi, uint32_t dirfd, const char *path,
                        size_t len, bool want_dir, uint32_t *fd) {
  (void)env;
  struct inst *in = me(wi);
  const char *dir = dir_of(in, dirfd);
  char full[MAX_PATH + 1];
  if (!dir) return file_of(in, dirfd) ? SOS_WASI_ENOTDIR : SOS_WASI_EBADF;
  uint32_t e = resolve(dir, path, len, full);
  if (e) return e;
  const struct sos_image_file *f = *full ? sos_image_file(image_of(in), full) : NULL;
  bool d = !f && is_dir(image_of(in), full);
  if (!f && !d) return SOS_WASI_ENOENT;
  if (want_dir && !d) return SOS_WASI_ENOTDIR;
  uint32_t i = 0;
  while (i < in->nfiles && in->files[i].used) i++;
  if (i == MAX_OPEN) return SOS_WASI_EMFILE;
  if (i == in->nfiles) {
    struct kfile *t = sos_realloc(in->files, (i + 1) * sizeof *t);
    if (!t) return SOS_WASI_EIO;
    in->files = t;
    in->nfiles = i + 1;
  }
  char *copy = sos_strndup(full, strlen(full));
  if (!copy) return SOS_WASI_EIO;
  in->files[i] = (struct kfile){true, d, copy, f ? f->data : NULL, f ? f->len : 0, 0};
  *fd = i + 4;
  return 0;
}

static uint32_t fs_read(void *env, sos_wasm_instance *wi, uint32_t fd, const uint64_t *at,
                        uint8_t *buf, size_t len, size_t *got) {
  (void)env;
  struct kfile *f = file_of(me(wi), fd);
  if (!f) return SOS_WASI_EBADF;
  if (f->dir) return SOS_WASI_EISDIR;
  uint64_t pos = at ? *at : f->pos;
  size_t n = pos >= f->len ? 0 : f->len - pos < len ? (size_t)(f->len - pos) : len;
  if (n) memcpy(buf, f->data + pos, n);
  if (!at) f->pos = pos + n;
  *got = n;
  return 0;
}

static uint32_t fs_seek(void *env, sos_wasm_instance *wi, uint32_t fd, int64_t off,
                        uint8_t whence, uint64_t *pos) {
  (void)env;
  struct kfile *f = file_of(me(wi), fd);
  if (!f) return SOS_WASI_EBADF;
  if (f->dir) return SOS_WASI_EISDIR;
  int64_t base = whence == 0 ? 0 : whence == 1 ? (int64_t)f->pos : (int64_t)f->len;
  if ((off < 0 && base + off < 0) || (off > 0 && base > INT64_MAX - off)) return SOS_WASI_EINVAL;
  f->pos = (uint64_t)(base + off);
  *pos = f->pos;
  return 0;
}

static uint32_t fs_close(void *env, sos_wasm_instance *wi, uint32_t fd) {
  (void)env;
  struct kfile *f = file_of(me(wi), fd);
  if (!f) return SOS_WASI_EBADF;
  sos_free(f->path);
  f->used = false;
  return 0;
}

static uint32_t fs_stat(void *env, sos_wasm_instance *wi, uint32_t fd, const char *path,
                        size_t len, uint8_t *type, uint64_t *size) {
  (void)env;
  struct inst *in = me(wi);
  if (!path) {
    struct kfile *f = file_of(in, fd);
    if (!f) return SOS_WASI_EBADF;
    *type = f->dir ? SOS_WASI_FT_DIR : SOS_WASI_FT_FILE;
    *size = f->len;
    return 0;
  }
  const char *dir = dir_of(in, fd);
  char full[MAX_PATH + 1];
  if (!dir) return file_of(in, fd) ? SOS_WASI_ENOTDIR : SOS_WASI_EBADF;
  uint32_t e = resolve(dir, path, len, full);
  if (e) return e;
  const struct sos_image_file *f = *full ? sos_image_file(image_of(in), full) : NULL;
  if (f) {
    *type = SOS_WASI_FT_FILE;
    *size = f->len;
    return 0;
  }
  if (!is_dir(image_of(in), full)) return SOS_WASI_ENOENT;
  *type = SOS_WASI_FT_DIR;
  *size = 0;
  return 0;
}

/* Lists "." and "..", then each distinct next component under the
 * directory, in path order; the cookie counts entries. */
static uint32_t fs_readdir(void *env, sos_wasm_instance *wi, uint32_t fd, uint64_t cookie,
                           bool (*emit)(void *, uint64_t, const char *, size_t, uint8_t),
                           void *user) {
  (void)env;
  struct inst *in = me(wi);
  const char *dir = dir_of(in, fd);
  if (!dir) return file_of(in, fd) ? SOS_WASI_ENOTDIR : SOS_WASI_EBADF;
  const struct sos_image *img = image_of(in);
  char prefix[MAX_PATH + 2];
  snprintf(prefix, sizeof prefix, *dir ? "%s/" : "%s", dir);
  size_t plen = strlen(prefix);
  uint64_t n = 0;
  if (n++ >= cookie && !emit(user, n, ".", 1, SOS_WASI_FT_DIR)) return 0;
  if (n++ >= cookie && !emit(user, n, "..", 2, SOS_WASI_FT_DIR)) return 0;
  const char *last = NULL;
  size_t lastlen = 0;
  for (uint32_t i = lower_bound(img, prefix); i < img->nfiles; i++) {
    const char *p = img->files[i].path;
    if (strncmp(p, prefix, plen)) break;
    const char *name = p + plen, *slash = strchr(name, '/');
    size_t len = slash ? (size_t)(slash - name) : strlen(name);
    if (last && len == lastlen && !memcmp(last, name, len)) continue; /* same subfolder */
    last = name;
    lastlen = len;
    if (n++ >= cookie &&
        !emit(user, n, name, len, slash ? SOS_WASI_FT_DIR : SOS_WASI_FT_FILE))
      return 0;
  }
  return 0;
}

const struct sos_wasi_fs sos__k_files = {
    .env = NULL,
    .open = fs_open,
    .read = fs_read,
    .seek = fs_seek,
    .close = fs_close,
    .stat = fs_stat,
    .readdir = fs_readdir,
};

void sos__k_files_free(struct inst *in) {
  for (uint32_t i = 0; i < in->nfiles; i++)
    if (in->files[i].used) sos_free(in->files[i].path);
  sos_free(in->files);
  in->files = NULL;
  in->nfiles = 0;
}

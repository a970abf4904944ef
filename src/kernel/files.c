/*
 * files.c - the file tree an instance sees through WASI as "/" (struct
 * sos_wasi_fs of include/sos/wasi.h): its version's image files, with the
 * app's own writes laid over them when it declares a `files` store.
 *
 * Two layers, copy-on-write (docs/storage.md):
 *   the base   the image's files, read-only: a sorted list of paths, so a
 *              file is a binary search and a directory is a path that some
 *              file's path continues with "/";
 *   the store  the app's writes, under the key service NUL store NUL path,
 *              each value tagged by its first byte: 0 the path is deleted
 *              (it hides a base file), 1 a file (the bytes follow), 2 an
 *              empty directory made with mkdir.
 * A lookup asks the store first, then the image, so a new version sees
 * its image's files unless the app changed them, and a rollback brings the
 * older image back; the app's writes carry over both ways.
 *
 * Open files are per instance (struct inst: files), fds 4 and up.  A file
 * opened for writing gets its own buffer (a copy of the current content
 * unless truncated); writes and seeks work on the buffer; close and sync
 * store it in one batch and suspend the instance until that is durable,
 * answering the WASI errno then.  Files are whole values in the store, so
 * a file holds at most SOS_ABI_MAX_VALUE - 1 bytes (EFBIG past that).
 *
 * Paths are resolved here: "." is skipped, ".." goes up and may not leave
 * the root (ENOTCAPABLE); NUL bytes and over-long paths are refused.
 */
#include "kernel/kernel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPEN 64
#define MAX_PATH 380 /* so that service NUL store NUL path fits LMDB's 511-byte keys */
#define MAX_FILE (SOS_ABI_MAX_VALUE - 1)

enum { TAG_GONE = 0, TAG_FILE = 1, TAG_DIR = 2 };

struct kfile {
  bool used, dir, write, append, dirty;
  char *path;          /* resolved, "" for the root */
  const uint8_t *data; /* the content: the image's bytes, or buf */
  uint8_t *buf;        /* owned content (from the store, or being written) */
  size_t len, cap;
  uint64_t pos;
};

static struct inst *me(sos_wasm_instance *wi) { return sos_wasm_instance_user(wi); }

/* The tree a lookup walks: a service at one of its versions. */
struct tree {
  const struct svc *svc;
  const struct ver *ver;
};

static struct tree tree_of(const struct inst *in) { return (struct tree){in->svc, in->ver}; }

static const struct sos_image *image_of(const struct tree *t) { return t->ver->img->img; }

/* ---- the two layers --------------------------------------------------------- */

/* The store key of path: service NUL store NUL path; 0 when the app has no
 * files store. */
static size_t store_key(const struct tree *t, const char *path, uint8_t *key) {
  const struct sos_app *app = t->ver->img->app;
  for (uint32_t i = 0; i < app->nstores; i++) {
    if (app->stores[i].type != SOS_APP_STORE_FILES) continue;
    const char *name = app->stores[i].name;
    size_t n = sos__k_store_prefix(t->svc, app, name, strlen(name), SOS_APP_STORE_FILES, key);
    size_t plen = strlen(path);
    memcpy(key + n, path, plen);
    return n + plen;
  }
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

/* Whether the image has a file under the folder path. */
static bool image_dir(const struct sos_image *img, const char *path) {
  if (!*path) return true;
  char key[MAX_PATH + 2];
  snprintf(key, sizeof key, "%s/", path);
  uint32_t i = lower_bound(img, key);
  return i < img->nfiles && !strncmp(img->files[i].path, key, strlen(key));
}

static int any_live(void *user, const void *k, size_t kl, const void *v, size_t vl) {
  (void)user, (void)k, (void)kl;
  return vl && ((const uint8_t *)v)[0] != TAG_GONE; /* stops at the first live one */
}

/* Whether the store has a live path under the folder whose key is key. */
static bool store_dir(struct kernel *k, const uint8_t *key, size_t klen) {
  uint8_t lo[600], hi[600];
  memcpy(lo, key, klen);
  lo[klen] = '/';
  memcpy(hi, key, klen);
  hi[klen] = '/' + 1;
  return sos_store_scan(k->store, lo, klen + 1, hi, klen + 1, 100000, any_live, NULL) == 1;
}

/* What a path is: NONE, a FILE (*f filled: data borrowed from the image or
 * a fresh buffer in f->buf) or a DIR. */
enum { NONE, FILE_, DIR_ };

static int lookup(struct kernel *k, const struct tree *t, const char *path, struct kfile *f) {
  uint8_t key[600];
  size_t klen = *path ? store_key(t, path, key) : 0;
  if (klen) {
    size_t len = 0;
    uint8_t tag;
    if (sos_store_get(k->store, key, klen, &tag, 1, &len) == 0 && len >= 1) {
      if (tag == TAG_GONE) return NONE;
      if (tag == TAG_DIR) return DIR_;
      if (f) {
        f->buf = sos_malloc(len);
        if (!f->buf) return NONE;
        sos_store_get(k->store, key, klen, f->buf, len, &len);
        memmove(f->buf, f->buf + 1, len - 1);
        f->data = f->buf;
        f->len = f->cap = len - 1;
      }
      return FILE_;
    }
  }
  const struct sos_image_file *im = *path ? sos_image_file(image_of(t), path) : NULL;
  if (im) {
    if (f) {
      f->data = im->data;
      f->len = im->len;
    }
    return FILE_;
  }
  if (image_dir(image_of(t), path) || (klen && store_dir(k, key, klen))) return DIR_;
  return NONE;
}

/* ---- paths and descriptors ----------------------------------------------------- */

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

/* Resolves (dirfd, path) for in into full. */
static uint32_t resolve_at(struct inst *in, uint32_t dirfd, const char *path, size_t len,
                           char *full) {
  const char *dir = dir_of(in, dirfd);
  if (!dir) return file_of(in, dirfd) ? SOS_WASI_ENOTDIR : SOS_WASI_EBADF;
  return resolve(dir, path, len, full);
}

/* A free slot of in's table, or -1. */
static int free_slot(struct inst *in) {
  uint32_t i = 0;
  while (i < in->nfiles && in->files[i].used) i++;
  if (i == MAX_OPEN) return -1;
  if (i == in->nfiles) {
    struct kfile *t = sos_realloc(in->files, (i + 1) * sizeof *t);
    if (!t) return -1;
    memset(&t[i], 0, sizeof t[i]); /* unused until the open succeeds */
    in->files = t;
    in->nfiles = i + 1;
  }
  return (int)i;
}

static void file_release(struct kfile *f) {
  sos_free(f->path);
  sos_free(f->buf);
  memset(f, 0, sizeof *f);
}

/* ---- the sos_wasi_fs calls -------------------------------------------------------- */

static uint32_t fs_open(void *env, sos_wasm_instance *wi, uint32_t dirfd, const char *path,
                        size_t len, uint32_t oflags, uint32_t fdflags, bool write, uint32_t *fd) {
  struct kernel *k = env;
  struct inst *in = me(wi);
  char full[MAX_PATH + 1];
  uint32_t e = resolve_at(in, dirfd, path, len, full);
  if (e) return e;
  uint8_t key[600];
  struct tree t = tree_of(in);
  if (write && !store_key(&t, full, key)) return SOS_WASI_EROFS; /* no files store */
  int slot = free_slot(in);
  if (slot < 0) return SOS_WASI_EMFILE;
  struct kfile f = {0};
  int what = lookup(k, &t, full, &f);
  if (what == NONE && !(oflags & 1)) return SOS_WASI_ENOENT;       /* O_CREAT */
  if (what != NONE && (oflags & 4)) e = SOS_WASI_EEXIST;           /* O_EXCL */
  else if (what == DIR_ && write) e = SOS_WASI_EISDIR;
  else if (what != DIR_ && (oflags & 2)) e = SOS_WASI_ENOTDIR;     /* O_DIRECTORY */
  else if (!*full && write) e = SOS_WASI_EISDIR;
  if (!e && !(f.path = sos_strndup(full, strlen(full)))) e = SOS_WASI_EIO;
  if (e) {
    file_release(&f);
    return e;
  }
  f.used = true;
  f.dir = what == DIR_;
  f.write = write;
  f.append = fdflags & 1;
  if (write && (what == NONE || (oflags & 8))) { /* created or truncated */
    f.len = 0;
    f.data = f.buf;
    f.dirty = true;
  }
  in->files[slot] = f;
  *fd = (uint32_t)slot + 4;
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

static uint32_t fs_write(void *env, sos_wasm_instance *wi, uint32_t fd, const uint64_t *at,
                         const uint8_t *buf, size_t len, size_t *done) {
  (void)env;
  struct kfile *f = file_of(me(wi), fd);
  if (!f || !f->write) return SOS_WASI_EBADF;
  uint64_t pos = at ? *at : f->append ? f->len : f->pos;
  if (pos > MAX_FILE || len > MAX_FILE - pos) return SOS_WASI_EFBIG;
  size_t end = (size_t)pos + len;
  if (end > f->cap || f->data != f->buf) { /* own the bytes before changing them */
    size_t cap = end > f->len ? end : f->len;
    cap = cap < 4096 ? 4096 : cap + cap / 2;
    uint8_t *b = sos_malloc(cap);
    if (!b) return SOS_WASI_EIO;
    if (f->len) memcpy(b, f->data, f->len);
    sos_free(f->buf);
    f->buf = b;
    f->data = b;
    f->cap = cap;
  }
  if (pos > f->len) memset(f->buf + f->len, 0, (size_t)pos - f->len); /* a hole reads 0 */
  if (len) memcpy(f->buf + pos, buf, len);
  if (end > f->len) f->len = end;
  if (!at) f->pos = end;
  f->dirty = true;
  *done = len;
  return 0;
}

static uint32_t fs_resize(void *env, sos_wasm_instance *wi, uint32_t fd, uint64_t size) {
  (void)env;
  struct kfile *f = file_of(me(wi), fd);
  if (!f || !f->write) return SOS_WASI_EBADF;
  if (size > MAX_FILE) return SOS_WASI_EFBIG;
  if (size > f->len) { /* grow by writing zeros at the end */
    size_t done;
    uint64_t at = f->len;
    static const uint8_t zeros[4096];
    while (at < size) {
      size_t n = size - at < sizeof zeros ? (size_t)(size - at) : sizeof zeros;
      uint32_t e = fs_write(env, wi, fd, &at, zeros, n, &done);
      if (e) return e;
      at += n;
    }
    return 0;
  }
  if (f->data != f->buf && size) { /* own the bytes before cutting them */
    uint8_t *b = sos_malloc((size_t)size);
    if (!b) return SOS_WASI_EIO;
    memcpy(b, f->data, (size_t)size);
    sos_free(f->buf);
    f->buf = b;
    f->data = b;
    f->cap = (size_t)size;
  }
  f->len = (size_t)size;
  f->dirty = true;
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

static int answer(struct sos_wasm_hostcall *c, uint32_t e) {
  c->results[0] = e;
  return SOS_WASM_HOST_OK;
}

/* Stores value under path's key (tag, then bytes) and suspends until
 * durable; the instance gets the WASI errno. */
static int store_put(struct kernel *k, struct sos_wasm_hostcall *c, struct inst *in,
                     const char *path, uint8_t tag, const uint8_t *bytes, size_t len) {
  uint8_t key[600];
  struct tree t = tree_of(in);
  size_t klen = store_key(&t, path, key);
  if (!klen) return answer(c, SOS_WASI_EROFS);
  uint8_t *v = sos_malloc(len + 1);
  if (!v) return answer(c, SOS_WASI_EIO);
  v[0] = tag;
  if (len) memcpy(v + 1, bytes, len);
  struct sos_store_op op = {SOS_STORE_PUT, false, key, (uint32_t)klen, v, (uint32_t)len + 1};
  int rc = sos__k_store_write(k, c, &op, 1, SOS__K_ANSWER_ERRNO);
  sos_free(v); /* the store copied it */
  return rc;
}

/* Deletes path's key, durably. */
static int store_del(struct kernel *k, struct sos_wasm_hostcall *c, struct inst *in,
                     const char *path) {
  uint8_t key[600];
  struct tree t = tree_of(in);
  size_t klen = store_key(&t, path, key);
  if (!klen) return answer(c, SOS_WASI_EROFS);
  struct sos_store_op op = {SOS_STORE_DEL, false, key, (uint32_t)klen, NULL, 0};
  return sos__k_store_write(k, c, &op, 1, SOS__K_ANSWER_ERRNO);
}

static int fs_sync(void *env, struct sos_wasm_hostcall *c, uint32_t fd) {
  struct kernel *k = env;
  struct inst *in = me(c->instance);
  struct kfile *f = file_of(in, fd);
  if (!f) return answer(c, SOS_WASI_EBADF);
  if (!f->dirty) return answer(c, 0);
  f->dirty = false;
  return store_put(k, c, in, f->path, TAG_FILE, f->data, f->len);
}

static int fs_close(void *env, struct sos_wasm_hostcall *c, uint32_t fd) {
  struct inst *in = me(c->instance);
  struct kfile *f = file_of(in, fd);
  if (!f) return answer(c, SOS_WASI_EBADF);
  int rc = f->dirty ? fs_sync(env, c, fd) : answer(c, 0);
  file_release(f);
  return rc;
}

static uint32_t fs_stat(void *env, sos_wasm_instance *wi, uint32_t fd, const char *path,
                        size_t len, uint8_t *type, uint64_t *size) {
  struct inst *in = me(wi);
  if (!path) {
    struct kfile *f = file_of(in, fd);
    if (!f) return SOS_WASI_EBADF;
    *type = f->dir ? SOS_WASI_FT_DIR : SOS_WASI_FT_FILE;
    *size = f->len;
    return 0;
  }
  char full[MAX_PATH + 1];
  uint32_t e = resolve_at(in, fd, path, len, full);
  if (e) return e;
  struct kfile f = {0};
  struct tree t = tree_of(in);
  int what = lookup(env, &t, full, &f);
  *type = what == DIR_ ? SOS_WASI_FT_DIR : SOS_WASI_FT_FILE;
  *size = f.len;
  sos_free(f.buf);
  return what == NONE ? SOS_WASI_ENOENT : 0;
}

/* ---- listings ------------------------------------------------------------------------ */

struct entry {
  char name[256];
  uint8_t type; /* FT_DIR, FT_FILE, or 0: hidden by a deletion */
};

struct listing {
  struct entry *e;
  uint32_t n, cap;
  size_t skip; /* bytes of store key before the listed folder's names */
};

/* Adds (or updates) name in l: a store entry overrides the image's. */
static void list_add(struct listing *l, const char *name, size_t len, uint8_t type) {
  if (!len || len >= sizeof l->e[0].name) return;
  for (uint32_t i = 0; i < l->n; i++)
    if (strlen(l->e[i].name) == len && !memcmp(l->e[i].name, name, len)) {
      if (type != SOS_WASI_FT_DIR || l->e[i].type == 0) l->e[i].type = type;
      return;
    }
  if (l->n == l->cap) {
    uint32_t cap = l->cap ? l->cap * 2 : 16;
    struct entry *e = sos_realloc(l->e, cap * sizeof *e);
    if (!e) return;
    l->e = e;
    l->cap = cap;
  }
  memcpy(l->e[l->n].name, name, len);
  l->e[l->n].name[len] = 0;
  l->e[l->n++].type = type;
}

static int list_store(void *user, const void *k, size_t kl, const void *v, size_t vl) {
  struct listing *l = user;
  const char *name = (const char *)k + l->skip;
  size_t len = kl - l->skip;
  const char *slash = memchr(name, '/', len);
  uint8_t tag = vl ? ((const uint8_t *)v)[0] : TAG_GONE;
  if (slash) { /* something deeper: a live one makes a folder */
    if (tag != TAG_GONE) list_add(l, name, (size_t)(slash - name), SOS_WASI_FT_DIR);
  } else {
    list_add(l, name, len, tag == TAG_GONE ? 0 : tag == TAG_DIR ? SOS_WASI_FT_DIR : SOS_WASI_FT_FILE);
  }
  return 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/* The merged entries of folder dir, sorted by name. */
static void list_dir(struct kernel *k, const struct tree *t, const char *dir, struct listing *l) {
  const struct sos_image *img = image_of(t);
  char prefix[MAX_PATH + 2];
  snprintf(prefix, sizeof prefix, *dir ? "%s/" : "%s", dir);
  size_t plen = strlen(prefix);
  for (uint32_t i = lower_bound(img, prefix); i < img->nfiles; i++) {
    const char *p = img->files[i].path;
    if (strncmp(p, prefix, plen)) break;
    const char *name = p + plen, *slash = strchr(name, '/');
    list_add(l, name, slash ? (size_t)(slash - name) : strlen(name),
             slash ? SOS_WASI_FT_DIR : SOS_WASI_FT_FILE);
  }
  uint8_t lo[600], hi[600];
  size_t klen = store_key(t, prefix, lo);
  if (klen) {
    memcpy(hi, lo, klen);
    hi[klen - 1]++; /* just past every key under the folder */
    if (!plen) hi[klen - 1] = 1;
    l->skip = klen;
    sos_store_scan(k->store, lo, klen, hi, klen, 100000, list_store, l);
  }
  if (l->n) qsort(l->e, l->n, sizeof *l->e, by_name);
}

static uint32_t fs_readdir(void *env, sos_wasm_instance *wi, uint32_t fd, uint64_t cookie,
                           bool (*emit)(void *, uint64_t, const char *, size_t, uint8_t),
                           void *user) {
  struct inst *in = me(wi);
  const char *dir = dir_of(in, fd);
  if (!dir) return file_of(in, fd) ? SOS_WASI_ENOTDIR : SOS_WASI_EBADF;
  struct listing l = {0};
  struct tree t = tree_of(in);
  list_dir(env, &t, dir, &l);
  uint64_t n = 0;
  bool go = true;
  if (n++ >= cookie) go = emit(user, n, ".", 1, SOS_WASI_FT_DIR);
  if (go && n++ >= cookie) go = emit(user, n, "..", 2, SOS_WASI_FT_DIR);
  for (uint32_t i = 0; go && i < l.n; i++) {
    if (!l.e[i].type) continue; /* deleted */
    if (n++ >= cookie) go = emit(user, n, l.e[i].name, strlen(l.e[i].name), l.e[i].type);
  }
  sos_free(l.e);
  return 0;
}

/* Whether folder dir lists nothing. */
static bool dir_empty(struct kernel *k, const struct tree *t, const char *dir) {
  struct listing l = {0};
  list_dir(k, t, dir, &l);
  bool empty = true;
  for (uint32_t i = 0; i < l.n; i++) empty = empty && !l.e[i].type;
  sos_free(l.e);
  return empty;
}

/* unlink, mkdir, rmdir. */
static int fs_change(void *env, struct sos_wasm_hostcall *c, int op, uint32_t dirfd,
                     const char *path, size_t len) {
  struct kernel *k = env;
  struct inst *in = me(c->instance);
  char full[MAX_PATH + 1];
  uint32_t e = resolve_at(in, dirfd, path, len, full);
  if (e) return answer(c, e);
  if (!*full) return answer(c, op == SOS_WASI_FS_MKDIR ? SOS_WASI_EEXIST : SOS_WASI_EISDIR);
  struct tree t = tree_of(in);
  int what = lookup(k, &t, full, NULL);
  bool in_image = sos_image_file(image_of(&t), full) || image_dir(image_of(&t), full);
  if (op == SOS_WASI_FS_MKDIR)
    return what != NONE ? answer(c, SOS_WASI_EEXIST) : store_put(k, c, in, full, TAG_DIR, NULL, 0);
  if (what == NONE) return answer(c, SOS_WASI_ENOENT);
  if (op == SOS_WASI_FS_UNLINK && what == DIR_) return answer(c, SOS_WASI_EISDIR);
  if (op == SOS_WASI_FS_RMDIR && what != DIR_) return answer(c, SOS_WASI_ENOTDIR);
  if (op == SOS_WASI_FS_RMDIR && !dir_empty(k, &t, full)) return answer(c, SOS_WASI_ENOTEMPTY);
  /* a path the image has is hidden by a deletion mark; others just go */
  return in_image ? store_put(k, c, in, full, TAG_GONE, NULL, 0) : store_del(k, c, in, full);
}

/* rename: a file only (folders answer ENOTSUP): one batch puts the new
 * path and deletes (or, for an image file, hides) the old one. */
static int fs_rename(void *env, struct sos_wasm_hostcall *c, uint32_t olddir, const char *old,
                     size_t oldlen, uint32_t newdir, const char *new_, size_t newlen) {
  struct kernel *k = env;
  struct inst *in = me(c->instance);
  char from[MAX_PATH + 1], to[MAX_PATH + 1];
  uint32_t e = resolve_at(in, olddir, old, oldlen, from);
  if (!e) e = resolve_at(in, newdir, new_, newlen, to);
  if (e) return answer(c, e);
  struct tree t = tree_of(in);
  struct kfile f = {0};
  int what = lookup(k, &t, from, &f);
  int dst = lookup(k, &t, to, NULL);
  uint8_t okey[600], nkey[600];
  size_t ol = store_key(&t, from, okey), nl = store_key(&t, to, nkey);
  e = !ol || !nl ? SOS_WASI_EROFS : what == NONE ? SOS_WASI_ENOENT
    : what == DIR_ || dst == DIR_ ? SOS_WASI_ENOTSUP : !*to || !*from ? SOS_WASI_EINVAL : 0;
  uint8_t *v = e ? NULL : sos_malloc(f.len + 1);
  if (e || !v) {
    sos_free(f.buf);
    return answer(c, e ? e : SOS_WASI_EIO);
  }
  v[0] = TAG_FILE;
  if (f.len) memcpy(v + 1, f.data, f.len);
  static const uint8_t gone = TAG_GONE;
  bool in_image = sos_image_file(image_of(&t), from) != NULL;
  struct sos_store_op ops[2] = {
      {SOS_STORE_PUT, false, nkey, (uint32_t)nl, v, (uint32_t)f.len + 1},
      {in_image ? SOS_STORE_PUT : SOS_STORE_DEL, false, okey, (uint32_t)ol, &gone, in_image ? 1 : 0},
  };
  int rc = strcmp(from, to) ? sos__k_store_write(k, c, ops, 2, SOS__K_ANSWER_ERRNO) : answer(c, 0);
  sos_free(v);
  sos_free(f.buf);
  return rc;
}

static const struct sos_wasi_fs files_fs = {
    .rename = fs_rename,
    .resize = fs_resize,
    .open = fs_open,
    .write = fs_write,
    .read = fs_read,
    .seek = fs_seek,
    .close = fs_close,
    .sync = fs_sync,
    .change = fs_change,
    .stat = fs_stat,
    .readdir = fs_readdir,
};

void sos__k_files_init(struct kernel *k) {
  k->files = files_fs;
  k->files.env = k;
}

void sos__k_files_free(struct inst *in) {
  for (uint32_t i = 0; i < in->nfiles; i++)
    if (in->files[i].used) file_release(&in->files[i]);
  sos_free(in->files);
  in->files = NULL;
  in->nfiles = 0;
}

/* ---- for the control API (sos files) ---------------------------------------------- */

int sos__k_files_cat(struct kernel *k, const struct svc *s, const char *path, uint8_t **data,
                     size_t *len) {
  char full[MAX_PATH + 1];
  struct tree t = {s, s->cur};
  if (resolve("", path, strlen(path), full)) return SOS_EINVAL;
  struct kfile f = {0};
  int what = lookup(k, &t, full, &f);
  if (what != FILE_) {
    sos_free(f.buf);
    return what == DIR_ ? SOS_ESTATE : SOS_ENOENT;
  }
  *data = sos_malloc(f.len ? f.len : 1);
  if (*data && f.len) memcpy(*data, f.data, f.len);
  *len = f.len;
  sos_free(f.buf);
  return *data ? 0 : SOS_ENOMEM;
}

int sos__k_files_ls(struct kernel *k, const struct svc *s, const char *path, char **text) {
  char full[MAX_PATH + 1];
  struct tree t = {s, s->cur};
  if (resolve("", path, strlen(path), full)) return SOS_EINVAL;
  int what = lookup(k, &t, full, NULL);
  if (what != DIR_) return what == FILE_ ? SOS_ESTATE : SOS_ENOENT;
  struct listing l = {0};
  list_dir(k, &t, full, &l);
  size_t n = 0;
  char *out = sos_malloc((size_t)l.n * 258 + 1);
  for (uint32_t i = 0; out && i < l.n; i++)
    if (l.e[i].type)
      n += (size_t)sprintf(out + n, "%s%s\n", l.e[i].name, l.e[i].type == SOS_WASI_FT_DIR ? "/" : "");
  if (out) out[n] = 0;
  sos_free(l.e);
  *text = out;
  return out ? 0 : SOS_ENOMEM;
}

size_t sos__k_files_key(const struct svc *s, const char *path, uint8_t *key) {
  char full[MAX_PATH + 1];
  struct tree t = {s, s->cur};
  if (resolve("", path, strlen(path), full) || !*full) return 0;
  return store_key(&t, full, key);
}

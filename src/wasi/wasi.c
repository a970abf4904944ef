/*
 * wasi.c - WASI preview 1 host functions (see include/sos/wasi.h).
 *
 * The calls and their data layouts follow the preview 1 witx description
 * (wasi_snapshot_preview1.witx and typenames.witx).  Every call gets its
 * i32/i64 arguments as 64-bit cells and answers a WASI errno as its one i32
 * result; proc_exit alone has no result and ends the run instead.
 *
 * Representation.  Arguments and environment strings are kept exactly as
 * the guest receives them: one buffer of NUL-terminated strings plus the
 * offset of each, so args_get is a copy and a loop of pointer stores.
 * The guest's file descriptor table has three slots (stdin, stdout,
 * stderr), each a host fd plus whether the guest still has it open and
 * which way data flows.  Without a file system there are no preopened
 * directories, so every path call answers ENOTCAPABLE (or EBADF for an fd
 * that does not exist) and fd_prestat_get answers EBADF, which is how
 * wasi-libc learns that there are none.  With one (sos_wasi_fs, given by
 * the embedder) fd 3 is the preopened "/" and every call on fds 3 and up
 * goes to it; it keeps its own per-instance open files.
 *
 * Safety.  A guest pointer is turned into a host pointer only through
 * sos_wasm_mem() or the sos_wasm_mem_get/set helpers, which check the
 * whole range against the instance's memory; an out-of-range pointer
 * makes the call answer EFAULT.  Output pointers are checked before any
 * side effect, so a failing call has done nothing.  Host errno values are
 * translated here (host_errno) and never reach the guest raw.
 *
 * Host functions are made lazily, one per WASI function per context, the
 * first time an import asks for them, and freed with the context.
 */
#include "sos/wasi.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* WASI errno values (typenames.witx "errno"). */
enum {
  E_OK = 0, E_2BIG = 1, E_ACCES = 2, E_AGAIN = 6, E_BADF = 8,
  E_CONNRESET = 15, E_DQUOT = 19, E_FAULT = 21, E_FBIG = 22, E_INTR = 27,
  E_INVAL = 28, E_IO = 29, E_ISDIR = 31, E_NOMEM = 48, E_NOSPC = 51,
  E_NOSYS = 52, E_NOTDIR = 54, E_NOTSOCK = 57, E_NOTSUP = 58, E_NOTTY = 59,
  E_NXIO = 60, E_OVERFLOW = 61, E_PERM = 63, E_PIPE = 64, E_ROFS = 69,
  E_SPIPE = 70, E_NOTCAPABLE = 76,
};

/* File types ("filetype"). */
enum {
  FT_UNKNOWN = 0, FT_BLOCK = 1, FT_CHAR = 2, FT_DIR = 3, FT_REGULAR = 4,
  FT_SOCKET_STREAM = 6, FT_SYMLINK = 7,
};

/* Rights ("rights"), the ones a standard stream can hold. */
#define R_FD_DATASYNC (1ull << 0)
#define R_FD_READ (1ull << 1)
#define R_FD_SEEK (1ull << 2)
#define R_FD_SYNC (1ull << 4)
#define R_FD_TELL (1ull << 5)
#define R_FD_WRITE (1ull << 6)
#define R_FD_FILESTAT_GET (1ull << 21)
#define R_POLL_FD_READWRITE (1ull << 27)

/* fdflags. */
enum { FDF_APPEND = 1, FDF_DSYNC = 2, FDF_NONBLOCK = 4, FDF_SYNC = 16 };

/* Clock ids ("clockid"). */
enum { CLK_REALTIME, CLK_MONOTONIC, CLK_PROCESS, CLK_THREAD };

/* poll_oneoff: event types, subscription and event sizes (witx). */
enum { EV_CLOCK = 0, EV_FD_READ = 1, EV_FD_WRITE = 2 };
enum { SUB_SIZE = 48, EVENT_SIZE = 32, SUBCLOCK_ABSTIME = 1 };
enum { EVRW_HANGUP = 1 };

#define NFDS 3
#define MAX_IOVS 1024            /* as Linux's IOV_MAX */
#define MAX_TRANSFER 0x7ffff000u /* Linux's largest single read or write */

/* Strings as the guest sees them: NUL-terminated, back to back. */
struct strs {
  char *buf;
  uint32_t size; /* bytes in buf, NULs included */
  uint32_t n;
  uint32_t *offs; /* offset of each string in buf */
};

struct wasi_fd {
  int host;
  bool open;
  bool readable, writable;
};

struct sos_wasi {
  struct strs args, env;
  struct wasi_fd fds[NFDS];
  int (*write)(void *, sos_wasm_instance *, uint32_t, const uint8_t *, size_t);
  void *write_user;
  const struct sos_wasi_fs *fs; /* the preopened "/" at fd 3, or NULL */
  bool exited;
  uint32_t exit_code;
  sos_wasm_func **funcs; /* one slot per entry of defs[], made lazily */
};

/* ---- context --------------------------------------------------------- */

/* Sets c to no arguments, no environment and stdio on host fds 0, 1, 2. */
void sos_wasi_config_init(struct sos_wasi_config *c) {
  memset(c, 0, sizeof *c);
  for (int i = 0; i < NFDS; i++) c->stdio[i] = i;
}

/* Copies n C strings into s; the total must fit WASI's 32-bit sizes. */
static int strs_init(struct strs *s, const char *const *v, uint32_t n) {
  uint64_t size = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (!v[i]) return SOS_EINVAL;
    size += strlen(v[i]) + 1;
    if (size > UINT32_MAX) return SOS_ETOOBIG;
  }
  s->n = n;
  s->size = (uint32_t)size;
  s->buf = sos_malloc(size ? size : 1);
  s->offs = sos_calloc(n ? n : 1, sizeof *s->offs);
  if (!s->buf || !s->offs) return SOS_ENOMEM;
  uint32_t at = 0;
  for (uint32_t i = 0; i < n; i++) {
    size_t len = strlen(v[i]) + 1;
    s->offs[i] = at;
    memcpy(s->buf + at, v[i], len);
    at += (uint32_t)len;
  }
  return 0;
}

static void strs_free(struct strs *s) {
  sos_free(s->buf);
  sos_free(s->offs);
}

static size_t ndefs(void);

/* Makes a context from c (see wasi.h). */
int sos_wasi_new(const struct sos_wasi_config *c, sos_wasi **out) {
  *out = NULL;
  if ((c->argc && !c->argv) || (c->envc && !c->env)) return SOS_EINVAL;
  sos_wasi *w = sos_calloc(1, sizeof *w);
  if (!w) return SOS_ENOMEM;
  int rc = strs_init(&w->args, c->argv, c->argc);
  if (rc == 0) rc = strs_init(&w->env, c->env, c->envc);
  if (rc == 0 && !(w->funcs = sos_calloc(ndefs(), sizeof *w->funcs)))
    rc = SOS_ENOMEM;
  if (rc) {
    sos_wasi_free(w);
    return rc;
  }
  w->write = c->write;
  w->write_user = c->write_user;
  w->fs = c->fs;
  for (int i = 0; i < NFDS; i++) {
    bool hooked = i > 0 && c->write; /* fds 1 and 2 go to the hook */
    w->fds[i].host = hooked ? -1 : c->stdio[i];
    w->fds[i].open = hooked || c->stdio[i] >= 0;
    w->fds[i].readable = i == 0;
    w->fds[i].writable = i != 0;
  }
  *out = w;
  return 0;
}

/* Frees the context and its host functions.  Accepts NULL. */
void sos_wasi_free(sos_wasi *w) {
  if (!w) return;
  if (w->funcs)
    for (size_t i = 0; i < ndefs(); i++) sos_wasm_func_free(w->funcs[i]);
  sos_free(w->funcs);
  strs_free(&w->args);
  strs_free(&w->env);
  sos_free(w);
}

/* Whether proc_exit was called, and its code. */
bool sos_wasi_exited(const sos_wasi *w, uint32_t *code) {
  if (w->exited && code) *code = w->exit_code;
  return w->exited;
}

/* ---- helpers ---------------------------------------------------------- */

/* Ends a host call with WASI errno e as its result. */
static int ret(struct sos_wasm_hostcall *c, uint32_t e) {
  c->results[0] = e;
  return SOS_WASM_HOST_OK;
}

static sos_wasi *ctx(struct sos_wasm_hostcall *c) { return c->env; }
static uint32_t a32(struct sos_wasm_hostcall *c, int i) { return (uint32_t)c->args[i]; }
static uint64_t a64(struct sos_wasm_hostcall *c, int i) { return c->args[i]; }

/* The guest's open fd number fd, or NULL. */
static struct wasi_fd *fd_get(struct sos_wasm_hostcall *c, uint32_t fd) {
  sos_wasi *w = ctx(c);
  return fd < NFDS && w->fds[fd].open ? &w->fds[fd] : NULL;
}

/* Whether the fd in args[i] belongs to the file system (fd 3 and up). */
#define VFS(c, i) (ctx(c)->fs && a32(c, i) >= 3)

/* Whether len bytes at addr are inside the caller's memory. */
static bool in_bounds(struct sos_wasm_hostcall *c, uint64_t addr, uint64_t len) {
  return len == 0 || sos_wasm_mem(c->instance, addr, len) != NULL;
}

/* Translates a host errno value to WASI's. */
static uint32_t host_errno(int e) {
  switch (e) {
  case EAGAIN: return E_AGAIN;
  case EBADF: return E_BADF;
  case EFAULT: return E_FAULT;
  case EFBIG: return E_FBIG;
  case EINTR: return E_INTR;
  case EINVAL: return E_INVAL;
  case EISDIR: return E_ISDIR;
  case ENOMEM: return E_NOMEM;
  case ENOSPC: return E_NOSPC;
  case ENOSYS: return E_NOSYS;
  case ENOTDIR: return E_NOTDIR;
  case EOPNOTSUPP: return E_NOTSUP;
  case ENOTTY: return E_NOTTY;
  case ENXIO: return E_NXIO;
  case EOVERFLOW: return E_OVERFLOW;
  case EPERM: return E_PERM;
  case EPIPE: return E_PIPE;
  case EROFS: return E_ROFS;
  case ESPIPE: return E_SPIPE;
  case EACCES: return E_ACCES;
  case EDQUOT: return E_DQUOT;
  case ECONNRESET: return E_CONNRESET;
  }
  return E_IO;
}

static void le16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static void le64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t rd64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

/* Copies n bytes to guest address addr; EFAULT when out of bounds. */
static uint32_t put(struct sos_wasm_hostcall *c, uint64_t addr, const void *src,
                    size_t n) {
  void *p = sos_wasm_mem(c->instance, addr, n);
  if (!p) return E_FAULT;
  memcpy(p, src, n);
  return E_OK;
}

static uint32_t put32(struct sos_wasm_hostcall *c, uint64_t addr, uint32_t v) {
  return sos_wasm_mem_set32(c->instance, addr, v) ? E_FAULT : E_OK;
}

static uint32_t put64(struct sos_wasm_hostcall *c, uint64_t addr, uint64_t v) {
  return sos_wasm_mem_set64(c->instance, addr, v) ? E_FAULT : E_OK;
}

/* Turns the guest's n (c)iovecs at addr into host iovecs in *out (the
 * caller frees it), checking every buffer.  The total is capped at
 * MAX_TRANSFER by shortening the list, which read and write allow. */
static uint32_t iovs_get(struct sos_wasm_hostcall *c, uint32_t addr,
                         uint32_t n, struct iovec **out, int *nout) {
  *out = NULL;
  *nout = 0;
  if (n > MAX_IOVS) return E_INVAL;
  const uint8_t *raw = sos_wasm_mem(c->instance, addr, (uint64_t)n * 8);
  if (!raw) return E_FAULT;
  struct iovec *v = sos_calloc(n ? n : 1, sizeof *v);
  if (!v) return E_NOMEM;
  uint64_t total = 0;
  uint32_t k = 0;
  for (; k < n && total < MAX_TRANSFER; k++) {
    uint32_t base = rd32(raw + 8 * k), len = rd32(raw + 8 * k + 4);
    if (len > MAX_TRANSFER - total) len = (uint32_t)(MAX_TRANSFER - total);
    total += len;
    v[k].iov_len = len;
    v[k].iov_base = len ? sos_wasm_mem(c->instance, base, len) : NULL;
    if (len && !v[k].iov_base) {
      sos_free(v);
      return E_FAULT;
    }
  }
  *out = v;
  *nout = (int)k;
  return E_OK;
}

/* ---- arguments and environment ---------------------------------------- */

static int sizes_get(struct sos_wasm_hostcall *c, const struct strs *s) {
  uint32_t count_at = a32(c, 0), size_at = a32(c, 1);
  if (!in_bounds(c, count_at, 4) || !in_bounds(c, size_at, 4))
    return ret(c, E_FAULT);
  put32(c, count_at, s->n);
  return ret(c, put32(c, size_at, s->size));
}

static int strs_get(struct sos_wasm_hostcall *c, const struct strs *s) {
  uint32_t ptrs = a32(c, 0), buf = a32(c, 1);
  if (!in_bounds(c, ptrs, (uint64_t)s->n * 4) || !in_bounds(c, buf, s->size))
    return ret(c, E_FAULT);
  for (uint32_t i = 0; i < s->n; i++)
    put32(c, ptrs + 4ull * i, buf + s->offs[i]);
  return ret(c, put(c, buf, s->buf, s->size));
}

static int args_sizes_get(struct sos_wasm_hostcall *c) { return sizes_get(c, &ctx(c)->args); }
static int args_get(struct sos_wasm_hostcall *c) { return strs_get(c, &ctx(c)->args); }
static int environ_sizes_get(struct sos_wasm_hostcall *c) { return sizes_get(c, &ctx(c)->env); }
static int environ_get(struct sos_wasm_hostcall *c) { return strs_get(c, &ctx(c)->env); }

/* ---- clocks, randomness, scheduling, process --------------------------- */

static bool host_clock(uint32_t id, clockid_t *out) {
  static const clockid_t ids[] = {CLOCK_REALTIME, CLOCK_MONOTONIC,
                                  CLOCK_PROCESS_CPUTIME_ID,
                                  CLOCK_THREAD_CPUTIME_ID};
  if (id > CLK_THREAD) return false;
  *out = ids[id];
  return true;
}

static uint64_t ts_ns(const struct timespec *t) {
  return (uint64_t)t->tv_sec * 1000000000ull + (uint64_t)t->tv_nsec;
}

static uint64_t now_ns(clockid_t id) {
  struct timespec t;
  clock_gettime(id, &t);
  return ts_ns(&t);
}

static int clock_res_get(struct sos_wasm_hostcall *c) {
  clockid_t id;
  struct timespec t;
  if (!host_clock(a32(c, 0), &id)) return ret(c, E_INVAL);
  if (clock_getres(id, &t)) return ret(c, host_errno(errno));
  return ret(c, put64(c, a32(c, 1), ts_ns(&t)));
}

static int clock_time_get(struct sos_wasm_hostcall *c) {
  clockid_t id;
  struct timespec t;
  if (!host_clock(a32(c, 0), &id)) return ret(c, E_INVAL);
  if (clock_gettime(id, &t)) return ret(c, host_errno(errno));
  return ret(c, put64(c, a32(c, 2), ts_ns(&t)));
}

static int random_get(struct sos_wasm_hostcall *c) {
  uint32_t len = a32(c, 1);
  uint8_t *p = sos_wasm_mem(c->instance, a32(c, 0), len);
  if (!p && len) return ret(c, E_FAULT);
  while (len > 0) {
    ssize_t n = getrandom(p, len, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ret(c, host_errno(errno));
    p += n;
    len -= (uint32_t)n;
  }
  return ret(c, E_OK);
}

static int sched_yield_(struct sos_wasm_hostcall *c) {
  sched_yield();
  return ret(c, E_OK);
}

static int proc_exit(struct sos_wasm_hostcall *c) {
  sos_wasi *w = ctx(c);
  w->exited = true;
  w->exit_code = a32(c, 0);
  return sos_wasm_host_exit(c, w->exit_code);
}

static int proc_raise(struct sos_wasm_hostcall *c) { return ret(c, E_NOSYS); }

/* ---- descriptors: reading and writing ----------------------------------- */

/* Hands iovecs written to guest fd 1 or 2 to the context's write hook.
 * Returns the bytes taken, or -1 with errno set. */
static ssize_t hook_write(struct sos_wasm_hostcall *c, sos_wasi *w, uint32_t fd,
                          const struct iovec *v, int n) {
  ssize_t done = 0;
  for (int i = 0; i < n; i++) {
    if (w->write(w->write_user, c->instance, fd, v[i].iov_base, v[i].iov_len)) {
      errno = EIO;
      return -1;
    }
    done += (ssize_t)v[i].iov_len;
  }
  return done;
}

/* Shared body of fd_read, fd_write, fd_pread and fd_pwrite.  args: fd,
 * iovs, iovs_len, [offset,] result pointer. */
static int vfs_transfer(struct sos_wasm_hostcall *c, bool write, bool positioned);

static int transfer(struct sos_wasm_hostcall *c, bool write, bool positioned) {
  if (VFS(c, 0)) return vfs_transfer(c, write, positioned);
  struct wasi_fd *f = fd_get(c, a32(c, 0));
  uint32_t res_at = a32(c, positioned ? 4 : 3);
  int64_t off = positioned ? (int64_t)a64(c, 3) : 0;
  if (!f || (write ? !f->writable : !f->readable)) return ret(c, E_BADF);
  if (!in_bounds(c, res_at, 4)) return ret(c, E_FAULT);
  if (off < 0) return ret(c, E_INVAL);
  struct iovec *v;
  int n;
  uint32_t e = iovs_get(c, a32(c, 1), a32(c, 2), &v, &n);
  if (e) return ret(c, e);
  ssize_t done;
  uint32_t fd = a32(c, 0);
  sos_wasi *w = ctx(c);
  if (write && !positioned && w->write && (fd == 1 || fd == 2))
    done = hook_write(c, w, fd, v, n);
  else
  do {
    if (positioned)
      done = write ? pwritev(f->host, v, n, off) : preadv(f->host, v, n, off);
    else
      done = write ? writev(f->host, v, n) : readv(f->host, v, n);
  } while (done < 0 && errno == EINTR);
  int err = errno;
  sos_free(v);
  if (done < 0) return ret(c, host_errno(err));
  return ret(c, put32(c, res_at, (uint32_t)done));
}

static int fd_read(struct sos_wasm_hostcall *c) { return transfer(c, false, false); }
static int fd_write(struct sos_wasm_hostcall *c) { return transfer(c, true, false); }
static int fd_pread(struct sos_wasm_hostcall *c) { return transfer(c, false, true); }
static int fd_pwrite(struct sos_wasm_hostcall *c) { return transfer(c, true, true); }

static int vfs_seek(struct sos_wasm_hostcall *c, int64_t off, uint32_t whence, uint32_t res_at);

static int fd_seek(struct sos_wasm_hostcall *c) {
  if (VFS(c, 0)) return vfs_seek(c, (int64_t)a64(c, 1), a32(c, 2), a32(c, 3));
  static const int whences[] = {SEEK_SET, SEEK_CUR, SEEK_END};
  struct wasi_fd *f = fd_get(c, a32(c, 0));
  uint32_t whence = a32(c, 2), res_at = a32(c, 3);
  if (!f) return ret(c, E_BADF);
  if (!in_bounds(c, res_at, 8)) return ret(c, E_FAULT);
  if (whence > 2) return ret(c, E_INVAL);
  off_t pos = lseek(f->host, (off_t)a64(c, 1), whences[whence]);
  if (pos < 0) return ret(c, host_errno(errno));
  return ret(c, put64(c, res_at, (uint64_t)pos));
}

static int fd_tell(struct sos_wasm_hostcall *c) {
  if (VFS(c, 0)) return vfs_seek(c, 0, 1, a32(c, 1));
  struct wasi_fd *f = fd_get(c, a32(c, 0));
  if (!f) return ret(c, E_BADF);
  if (!in_bounds(c, a32(c, 1), 8)) return ret(c, E_FAULT);
  off_t pos = lseek(f->host, 0, SEEK_CUR);
  if (pos < 0) return ret(c, host_errno(errno));
  return ret(c, put64(c, a32(c, 1), (uint64_t)pos));
}

/* ---- descriptors: state -------------------------------------------------- */

static uint8_t filetype(mode_t m) {
  if (S_ISCHR(m)) return FT_CHAR;
  if (S_ISREG(m)) return FT_REGULAR;
  if (S_ISDIR(m)) return FT_DIR;
  if (S_ISBLK(m)) return FT_BLOCK;
  if (S_ISSOCK(m)) return FT_SOCKET_STREAM;
  if (S_ISLNK(m)) return FT_SYMLINK;
  return FT_UNKNOWN; /* pipes: preview 1 has no file type for them */
}

static uint16_t fdflags(int host) {
  int fl = fcntl(host, F_GETFL);
  uint16_t r = 0;
  if (fl < 0) return 0;
  if (fl & O_APPEND) r |= FDF_APPEND;
  if (fl & O_NONBLOCK) r |= FDF_NONBLOCK;
  if ((fl & O_SYNC) == O_SYNC) r |= FDF_SYNC;
  else if (fl & O_DSYNC) r |= FDF_DSYNC;
  return r;
}

/* The rights a stream has: its direction, plus seek and tell where the
 * host fd can seek (so wasi-libc's isatty sees a terminal as one). */
static uint64_t rights(const struct wasi_fd *f, const struct stat *st) {
  uint64_t r = R_FD_FILESTAT_GET | R_POLL_FD_READWRITE;
  if (f->readable) r |= R_FD_READ;
  if (f->writable) r |= R_FD_WRITE;
  if (lseek(f->host, 0, SEEK_CUR) >= 0) r |= R_FD_SEEK | R_FD_TELL;
  if (S_ISREG(st->st_mode)) r |= R_FD_SYNC | R_FD_DATASYNC;
  return r;
}

static int vfs_fdstat(struct sos_wasm_hostcall *c);
static int vfs_filestat(struct sos_wasm_hostcall *c, uint32_t fd, int path_arg, uint32_t out);

static int fd_fdstat_get(struct sos_wasm_hostcall *c) {
  if (VFS(c, 0)) return vfs_fdstat(c);
  struct wasi_fd *f = fd_get(c, a32(c, 0));
  struct stat st;
  uint8_t b[24] = {0};
  if (!f) return ret(c, E_BADF);
  if (!in_bounds(c, a32(c, 1), sizeof b)) return ret(c, E_FAULT);
  if (f->host < 0) { /* a hooked stdout/stderr: a terminal-like log stream */
    b[0] = 2;        /* character device, so wasi-libc buffers by line */
    le64(b + 8, R_FD_WRITE | R_POLL_FD_READWRITE);
    return ret(c, put(c, a32(c, 1), b, sizeof b));
  }
  if (fstat(f->host, &st)) return ret(c, host_errno(errno));
  b[0] = filetype(st.st_mode);
  le16(b + 2, fdflags(f->host));
  le64(b + 8, rights(f, &st));
  return ret(c, put(c, a32(c, 1), b, sizeof b));
}

static int fd_filestat_get(struct sos_wasm_hostcall *c) {
  if (VFS(c, 0)) return vfs_filestat(c, a32(c, 0), -1, a32(c, 1));
  struct wasi_fd *f = fd_get(c, a32(c, 0));
  struct stat st;
  uint8_t b[64] = {0};
  if (!f) return ret(c, E_BADF);
  if (!in_bounds(c, a32(c, 1), sizeof b)) return ret(c, E_FAULT);
  if (fstat(f->host, &st)) return ret(c, host_errno(errno));
  le64(b + 0, (uint64_t)st.st_dev);
  le64(b + 8, (uint64_t)st.st_ino);
  b[16] = filetype(st.st_mode);
  le64(b + 24, (uint64_t)st.st_nlink);
  le64(b + 32, (uint64_t)st.st_size);
  le64(b + 40, ts_ns(&st.st_atim));
  le64(b + 48, ts_ns(&st.st_mtim));
  le64(b + 56, ts_ns(&st.st_ctim));
  return ret(c, put(c, a32(c, 1), b, sizeof b));
}

static int fd_close(struct sos_wasm_hostcall *c) {
  if (VFS(c, 0)) {
    sos_wasi *w = ctx(c);
    uint32_t fd = a32(c, 0);
    return fd == 3 ? ret(c, E_OK) : w->fs->close(w->fs->env, c, fd);
  }
  struct wasi_fd *f = fd_get(c, a32(c, 0));
  if (!f) return ret(c, E_BADF);
  f->open = false; /* the host fd belongs to the embedder */
  return ret(c, E_OK);
}

static int fd_renumber(struct sos_wasm_hostcall *c) {
  struct wasi_fd *from = fd_get(c, a32(c, 0)), *to = fd_get(c, a32(c, 1));
  if (!from || !to) return ret(c, E_BADF);
  if (from != to) {
    *to = *from;
    from->open = false;
  }
  return ret(c, E_OK);
}

static int fd_sync_any(struct sos_wasm_hostcall *c, bool data_only) {
  if (VFS(c, 0)) {
    sos_wasi *w = ctx(c);
    if (a32(c, 0) == 3 || !w->fs->sync) return ret(c, E_OK); /* nothing to sync */
    return w->fs->sync(w->fs->env, c, a32(c, 0));
  }
  struct wasi_fd *f = fd_get(c, a32(c, 0));
  if (!f) return ret(c, E_BADF);
  if ((data_only ? fdatasync(f->host) : fsync(f->host)) != 0)
    return ret(c, host_errno(errno));
  return ret(c, E_OK);
}

static int fd_sync(struct sos_wasm_hostcall *c) { return fd_sync_any(c, false); }
static int fd_datasync(struct sos_wasm_hostcall *c) { return fd_sync_any(c, true); }

static int fd_advise(struct sos_wasm_hostcall *c) {
  if (!fd_get(c, a32(c, 0))) return ret(c, E_BADF);
  return ret(c, a32(c, 3) > 5 ? E_INVAL : E_OK); /* advice is a hint */
}

/* Answers `e` for an existing fd (args[0]) and EBADF otherwise. */
static int fd_only(struct sos_wasm_hostcall *c, uint32_t e) {
  return ret(c, fd_get(c, a32(c, 0)) ? e : E_BADF);
}

static int fd_fdstat_set_flags(struct sos_wasm_hostcall *c) { return fd_only(c, E_NOTSUP); }
static int fd_fdstat_set_rights(struct sos_wasm_hostcall *c) { return fd_only(c, E_NOTSUP); }
static int fd_allocate(struct sos_wasm_hostcall *c) { return fd_only(c, E_NOTSUP); }
static int fd_filestat_set_size(struct sos_wasm_hostcall *c) {
  sos_wasi *w = ctx(c);
  if (!VFS(c, 0)) return fd_only(c, E_NOTSUP);
  if (a32(c, 0) == 3) return ret(c, E_ISDIR);
  if (!w->fs->resize) return ret(c, E_ROFS);
  return ret(c, w->fs->resize(w->fs->env, c->instance, a32(c, 0), a64(c, 1)));
}
static int fd_filestat_set_times(struct sos_wasm_hostcall *c) { return fd_only(c, E_NOTSUP); }
static int vfs_readdir(struct sos_wasm_hostcall *c);
static int fd_readdir(struct sos_wasm_hostcall *c) {
  return VFS(c, 0) ? vfs_readdir(c) : fd_only(c, E_NOTDIR);
}

/* fd_prestat_get(fd, out): fd 3 is the preopened "/" when there is a file
 * system; it is the only preopen. */
static int fd_prestat_get(struct sos_wasm_hostcall *c) {
  if (!ctx(c)->fs || a32(c, 0) != 3) return ret(c, E_BADF);
  uint8_t b[8] = {0, 0, 0, 0, 1, 0, 0, 0}; /* a directory; name length 1 */
  return ret(c, put(c, a32(c, 1), b, sizeof b));
}

static int fd_prestat_dir_name(struct sos_wasm_hostcall *c) {
  if (!ctx(c)->fs || a32(c, 0) != 3) return ret(c, E_BADF);
  if (a32(c, 2) < 1) return ret(c, E_INVAL);
  return ret(c, put(c, a32(c, 1), "/", 1));
}
static int sock_any(struct sos_wasm_hostcall *c) { return fd_only(c, E_NOTSOCK); }

/* ---- paths ----------------------------------------------------------------- */

/* A path call with the directory fd in args[dir] and paths at args[p1]
 * and args[p2] (negative: none).  With no preopened directories nothing
 * can be reached: EBADF for a missing fd, EFAULT for a bad path,
 * otherwise ENOTCAPABLE. */
static int path_any(struct sos_wasm_hostcall *c, int dir, int dir2, int p1,
                    int p2) {
  bool vfs = VFS(c, dir) && (dir2 < 0 || VFS(c, dir2));
  if (!vfs && (!fd_get(c, a32(c, dir)) || (dir2 >= 0 && !fd_get(c, a32(c, dir2)))))
    return ret(c, E_BADF);
  if (!in_bounds(c, a32(c, p1), a32(c, p1 + 1)) ||
      (p2 >= 0 && !in_bounds(c, a32(c, p2), a32(c, p2 + 1))))
    return ret(c, E_FAULT);
  return ret(c, vfs ? E_NOTSUP : E_NOTCAPABLE); /* links and renames: not yet */
}

static int vfs_open(struct sos_wasm_hostcall *c);
/* path_open(fd, dirflags, path, path_len, oflags, base, inheriting, fdflags, out) */
static int path_open(struct sos_wasm_hostcall *c) {
  return VFS(c, 0) ? vfs_open(c) : path_any(c, 0, -1, 2, -1);
}

/* path_filestat_get(fd, flags, path, path_len, out) */
static int path_filestat_get(struct sos_wasm_hostcall *c) {
  return VFS(c, 0) ? vfs_filestat(c, a32(c, 0), 2, a32(c, 4)) : path_any(c, 0, -1, 2, -1);
}

/* (fd, path, path_len, ...) */
static int path_fd_path(struct sos_wasm_hostcall *c) { return path_any(c, 0, -1, 1, -1); }
/* (fd, flags, path, path_len, ...) */
static int path_fd_flags_path(struct sos_wasm_hostcall *c) { return path_any(c, 0, -1, 2, -1); }
/* path_link(old_fd, old_flags, old_path, old_len, new_fd, new_path, new_len) */
static int path_link(struct sos_wasm_hostcall *c) { return path_any(c, 0, 4, 2, 5); }
/* path_rename(fd, old_path, old_len, new_fd, new_path, new_len) */
static int path_rename(struct sos_wasm_hostcall *c) {
  sos_wasi *w = ctx(c);
  if (!VFS(c, 0) || !VFS(c, 3) || !w->fs->rename) return path_any(c, 0, 3, 1, 4);
  uint32_t ol = a32(c, 2), nl = a32(c, 5);
  const char *op = sos_wasm_mem(c->instance, a32(c, 1), ol);
  const char *np = sos_wasm_mem(c->instance, a32(c, 4), nl);
  if ((!op && ol) || (!np && nl)) return ret(c, E_FAULT);
  return w->fs->rename(w->fs->env, c, a32(c, 0), op ? op : "", ol, a32(c, 3), np ? np : "", nl);
}
/* path_symlink(old_path, old_len, fd, new_path, new_len) */
static int path_symlink(struct sos_wasm_hostcall *c) { return path_any(c, 2, -1, 0, 3); }

/* ---- the embedder's file system (sos_wasi_fs) -------------------------------
 *
 * fd 3 is the root "/"; the provider hands out fds from 4.  The tree is
 * read-only in this version: opening with O_CREAT, O_TRUNC or O_EXCL, or
 * for appending, answers EROFS, and so do the calls that change paths. */

enum { OF_CREAT = 1, OF_DIRECTORY = 2, OF_EXCL = 4, OF_TRUNC = 8 };
#define ALL_RIGHTS 0x1fffffffull

static int vfs_open(struct sos_wasm_hostcall *c) {
  sos_wasi *w = ctx(c);
  uint32_t len = a32(c, 3), oflags = a32(c, 4), fdflags = a32(c, 7), fd = 0;
  bool write = a64(c, 5) & R_FD_WRITE || oflags & (OF_CREAT | OF_TRUNC) || fdflags & FDF_APPEND;
  const char *path = sos_wasm_mem(c->instance, a32(c, 2), len);
  if ((!path && len) || !in_bounds(c, a32(c, 8), 4)) return ret(c, E_FAULT);
  if (write && !w->fs->write) return ret(c, E_ROFS);
  uint32_t e = w->fs->open(w->fs->env, c->instance, a32(c, 0), path ? path : "", len, oflags,
                           fdflags, write, &fd);
  return ret(c, e ? e : put32(c, a32(c, 8), fd));
}

/* path_unlink_file, path_create_directory, path_remove_directory:
 * (fd, path, path_len) */
static int vfs_change(struct sos_wasm_hostcall *c, int op) {
  sos_wasi *w = ctx(c);
  uint32_t len = a32(c, 2);
  const char *path = sos_wasm_mem(c->instance, a32(c, 1), len);
  if (!path && len) return ret(c, E_FAULT);
  if (!w->fs->change) return ret(c, E_ROFS);
  return w->fs->change(w->fs->env, c, op, a32(c, 0), path ? path : "", len);
}

static int path_unlink_file(struct sos_wasm_hostcall *c) {
  return VFS(c, 0) ? vfs_change(c, SOS_WASI_FS_UNLINK) : path_fd_path(c);
}
static int path_create_directory(struct sos_wasm_hostcall *c) {
  return VFS(c, 0) ? vfs_change(c, SOS_WASI_FS_MKDIR) : path_fd_path(c);
}
static int path_remove_directory(struct sos_wasm_hostcall *c) {
  return VFS(c, 0) ? vfs_change(c, SOS_WASI_FS_RMDIR) : path_fd_path(c);
}

static int vfs_transfer(struct sos_wasm_hostcall *c, bool write, bool positioned) {
  sos_wasi *w = ctx(c);
  uint32_t fd = a32(c, 0), res_at = a32(c, positioned ? 4 : 3);
  if (fd == 3) return ret(c, E_ISDIR);
  if (!in_bounds(c, res_at, 4)) return ret(c, E_FAULT);
  struct iovec *v;
  int n;
  uint32_t e = iovs_get(c, a32(c, 1), a32(c, 2), &v, &n);
  if (e) return ret(c, e);
  uint64_t at = positioned ? a64(c, 3) : 0, total = 0;
  if (write && !w->fs->write) e = E_BADF;
  for (int i = 0; i < n && !e; i++) {
    size_t got = 0;
    if (write)
      e = w->fs->write(w->fs->env, c->instance, fd, positioned ? &at : NULL, v[i].iov_base,
                       v[i].iov_len, &got);
    else
      e = w->fs->read(w->fs->env, c->instance, fd, positioned ? &at : NULL, v[i].iov_base,
                      v[i].iov_len, &got);
    total += got;
    at += got;
    if (got < v[i].iov_len) break; /* the end of the file */
  }
  sos_free(v);
  return ret(c, e ? e : put32(c, res_at, (uint32_t)total));
}

static int vfs_seek(struct sos_wasm_hostcall *c, int64_t off, uint32_t whence, uint32_t res_at) {
  sos_wasi *w = ctx(c);
  uint32_t fd = a32(c, 0);
  uint64_t pos = 0;
  if (!in_bounds(c, res_at, 8)) return ret(c, E_FAULT);
  if (whence > 2) return ret(c, E_INVAL);
  if (fd == 3) return ret(c, E_ISDIR);
  uint32_t e = w->fs->seek(w->fs->env, c->instance, fd, off, (uint8_t)whence, &pos);
  return ret(c, e ? e : put64(c, res_at, pos));
}

/* The type and size of fd 3 or a provider fd, or of a path under it. */
static uint32_t vfs_stat(struct sos_wasm_hostcall *c, uint32_t fd, const char *path, size_t len,
                         uint8_t *type, uint64_t *size) {
  sos_wasi *w = ctx(c);
  if (fd == 3 && !path) {
    *type = FT_DIR;
    *size = 0;
    return E_OK;
  }
  return w->fs->stat(w->fs->env, c->instance, fd, path, len, type, size);
}

static int vfs_fdstat(struct sos_wasm_hostcall *c) {
  uint8_t b[24] = {0}, type;
  uint64_t size;
  if (!in_bounds(c, a32(c, 1), sizeof b)) return ret(c, E_FAULT);
  uint32_t e = vfs_stat(c, a32(c, 0), NULL, 0, &type, &size);
  if (e) return ret(c, e);
  b[0] = type;
  le64(b + 8, ALL_RIGHTS);
  le64(b + 16, ALL_RIGHTS);
  return ret(c, put(c, a32(c, 1), b, sizeof b));
}

/* fd_filestat_get (path_arg < 0) or path_filestat_get (path at args
 * path_arg, path_arg + 1). */
static int vfs_filestat(struct sos_wasm_hostcall *c, uint32_t fd, int path_arg, uint32_t out) {
  uint8_t b[64] = {0}, type;
  uint64_t size;
  uint32_t len = path_arg < 0 ? 0 : a32(c, path_arg + 1);
  const char *path = path_arg < 0 ? NULL : sos_wasm_mem(c->instance, a32(c, path_arg), len);
  if ((path_arg >= 0 && !path && len) || !in_bounds(c, out, sizeof b)) return ret(c, E_FAULT);
  uint32_t e = vfs_stat(c, fd, path_arg < 0 ? NULL : path ? path : "", len, &type, &size);
  if (e) return ret(c, e);
  b[16] = type;
  le64(b + 24, 1);
  le64(b + 32, size);
  return ret(c, put(c, out, b, sizeof b));
}

/* Where fd_readdir's entries go: the guest's buffer, filled in place. */
struct dirents {
  uint8_t *buf;
  uint32_t cap, used;
};

static bool emit_dirent(void *user, uint64_t next, const char *name, size_t nlen, uint8_t type) {
  struct dirents *d = user;
  uint8_t h[24] = {0};
  le64(h, next);
  le64(h + 8, next); /* d_ino: any stable number */
  h[16] = (uint8_t)nlen;
  h[17] = (uint8_t)(nlen >> 8);
  h[18] = (uint8_t)(nlen >> 16);
  h[20] = type;
  for (size_t i = 0; i < 24 + nlen && d->used < d->cap; i++) /* the last may be cut */
    d->buf[d->used++] = i < 24 ? h[i] : (uint8_t)name[i - 24];
  return d->used < d->cap;
}

/* fd_readdir(fd, buf, buf_len, cookie, used_out) */
static int vfs_readdir(struct sos_wasm_hostcall *c) {
  sos_wasi *w = ctx(c);
  uint32_t cap = a32(c, 2);
  uint8_t *buf = sos_wasm_mem(c->instance, a32(c, 1), cap);
  if ((!buf && cap) || !in_bounds(c, a32(c, 4), 4)) return ret(c, E_FAULT);
  struct dirents d = {buf, cap, 0};
  uint32_t e = w->fs->readdir(w->fs->env, c->instance, a32(c, 0), a64(c, 3), emit_dirent, &d);
  return ret(c, e ? e : put32(c, a32(c, 4), d.used));
}

/* ---- poll_oneoff ------------------------------------------------------------ */

/* One subscription, decoded, and what happened to it. */
struct sub {
  uint64_t userdata;
  uint8_t type;
  uint16_t error;    /* decided before waiting (bad fd, bad clock) */
  bool ready;
  uint64_t deadline; /* clocks: CLOCK_MONOTONIC ns */
  int pfd;           /* fds: index in the pollfd array */
};

static uint64_t sat_add(uint64_t a, uint64_t b) {
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Decodes the 48-byte subscription at p into s, adding fd waits to pf. */
static void sub_decode(struct sos_wasm_hostcall *c, const uint8_t *p,
                       struct sub *s, struct pollfd *pf, nfds_t *npf) {
  s->userdata = rd64(p);
  s->type = p[8];
  if (s->type == EV_CLOCK) {
    uint32_t id = rd32(p + 16);
    uint64_t t = rd64(p + 24), mono = now_ns(CLOCK_MONOTONIC);
    bool abs = (p[40] | p[41] << 8) & SUBCLOCK_ABSTIME;
    if (id == CLK_MONOTONIC) s->deadline = abs ? t : sat_add(mono, t);
    else if (id == CLK_REALTIME && !abs) s->deadline = sat_add(mono, t);
    else if (id == CLK_REALTIME) {
      uint64_t real = now_ns(CLOCK_REALTIME);
      s->deadline = t <= real ? mono : sat_add(mono, t - real);
    } else s->error = E_INVAL;
  } else if (s->type == EV_FD_READ || s->type == EV_FD_WRITE) {
    struct wasi_fd *f = fd_get(c, rd32(p + 16));
    if (!f) {
      s->error = E_BADF;
      return;
    }
    s->pfd = (int)*npf;
    pf[*npf].fd = f->host;
    pf[*npf].events = s->type == EV_FD_READ ? POLLIN : POLLOUT;
    pf[*npf].revents = 0;
    (*npf)++;
  } else s->error = E_INVAL;
}

/* Waits until some subscription is ready: an error, a passed deadline or
 * a ready fd.  Marks the ready ones. */
static uint32_t wait_subs(struct sub *s, uint32_t n, struct pollfd *pf,
                          nfds_t npf) {
  for (;;) {
    uint64_t now = now_ns(CLOCK_MONOTONIC), soonest = UINT64_MAX;
    bool any = false;
    for (uint32_t i = 0; i < n; i++) {
      if (s[i].error || (s[i].type == EV_CLOCK && s[i].deadline <= now))
        any = s[i].ready = true;
      else if (s[i].type == EV_CLOCK && s[i].deadline < soonest)
        soonest = s[i].deadline;
    }
    struct timespec ts = {0, 0}, *tp = &ts;
    if (!any && soonest == UINT64_MAX) tp = NULL;
    else if (!any) {
      ts.tv_sec = (time_t)((soonest - now) / 1000000000u);
      ts.tv_nsec = (long)((soonest - now) % 1000000000u);
    }
    int r = ppoll(pf, npf, tp, NULL);
    if (r < 0 && errno != EINTR) return host_errno(errno);
    for (uint32_t i = 0; r > 0 && i < n; i++)
      if (s[i].type != EV_CLOCK && !s[i].error && pf[s[i].pfd].revents)
        any = s[i].ready = true;
    if (any) return E_OK;
  }
}

/* Writes the 32-byte event for s into b. */
static void event_encode(const struct sub *s, const struct pollfd *pf,
                         uint8_t *b) {
  memset(b, 0, EVENT_SIZE);
  le64(b, s->userdata);
  le16(b + 8, s->error);
  b[10] = s->type;
  if (s->type == EV_CLOCK || s->error) return;
  const struct pollfd *p = &pf[s->pfd];
  int avail = 0;
  if (p->revents & POLLNVAL) le16(b + 8, E_BADF);
  if (s->type == EV_FD_READ && ioctl(p->fd, FIONREAD, &avail) == 0 && avail > 0)
    le64(b + 16, (uint64_t)avail);
  if (p->revents & POLLHUP) le16(b + 24, EVRW_HANGUP);
}

/* Decodes, waits and writes events; subs and pf are host copies. */
static uint32_t poll_run(struct sos_wasm_hostcall *c, const uint8_t *raw,
                         uint32_t n, struct sub *s, struct pollfd *pf,
                         uint8_t *events, uint32_t *nev) {
  nfds_t npf = 0;
  for (uint32_t i = 0; i < n; i++) sub_decode(c, raw + (size_t)SUB_SIZE * i, &s[i], pf, &npf);
  uint32_t e = wait_subs(s, n, pf, npf);
  if (e) return e;
  *nev = 0;
  for (uint32_t i = 0; i < n; i++)
    if (s[i].ready) event_encode(&s[i], pf, events + (size_t)EVENT_SIZE * (*nev)++);
  return E_OK;
}

/* poll_oneoff(in, out, nsubscriptions, nevents_ptr).  Subscriptions are
 * copied out of guest memory first, since `out` may overlap `in`. */
static int poll_oneoff(struct sos_wasm_hostcall *c) {
  uint32_t in_at = a32(c, 0), out_at = a32(c, 1), n = a32(c, 2), nev_at = a32(c, 3);
  if (n == 0) return ret(c, E_INVAL);
  const uint8_t *raw = sos_wasm_mem(c->instance, in_at, (uint64_t)n * SUB_SIZE);
  if (!raw || !in_bounds(c, out_at, (uint64_t)n * EVENT_SIZE) || !in_bounds(c, nev_at, 4))
    return ret(c, E_FAULT);
  uint8_t *copy = sos_malloc((size_t)n * SUB_SIZE);
  uint8_t *events = sos_malloc((size_t)n * EVENT_SIZE);
  struct sub *s = sos_calloc(n, sizeof *s);
  struct pollfd *pf = sos_calloc(n, sizeof *pf);
  uint32_t e = E_NOMEM, nev = 0;
  if (copy && events && s && pf) {
    memcpy(copy, raw, (size_t)n * SUB_SIZE);
    e = poll_run(c, copy, n, s, pf, events, &nev);
  }
  if (e == E_OK) {
    put(c, out_at, events, (size_t)nev * EVENT_SIZE);
    put32(c, nev_at, nev);
  }
  sos_free(copy);
  sos_free(events);
  sos_free(s);
  sos_free(pf);
  return ret(c, e);
}

/* ---- the table ---------------------------------------------------------------- */

/* A WASI function: its name, its parameter and result types ('i' i32,
 * 'I' i64) and its implementation.  Signatures from the preview 1 witx. */
struct def {
  const char *name, *params, *results;
  sos_wasm_host_fn fn;
};

static const struct def defs[] = {
    {"args_get", "ii", "i", args_get},
    {"args_sizes_get", "ii", "i", args_sizes_get},
    {"environ_get", "ii", "i", environ_get},
    {"environ_sizes_get", "ii", "i", environ_sizes_get},
    {"clock_res_get", "ii", "i", clock_res_get},
    {"clock_time_get", "iIi", "i", clock_time_get},
    {"fd_advise", "iIIi", "i", fd_advise},
    {"fd_allocate", "iII", "i", fd_allocate},
    {"fd_close", "i", "i", fd_close},
    {"fd_datasync", "i", "i", fd_datasync},
    {"fd_fdstat_get", "ii", "i", fd_fdstat_get},
    {"fd_fdstat_set_flags", "ii", "i", fd_fdstat_set_flags},
    {"fd_fdstat_set_rights", "iII", "i", fd_fdstat_set_rights},
    {"fd_filestat_get", "ii", "i", fd_filestat_get},
    {"fd_filestat_set_size", "iI", "i", fd_filestat_set_size},
    {"fd_filestat_set_times", "iIIi", "i", fd_filestat_set_times},
    {"fd_pread", "iiiIi", "i", fd_pread},
    {"fd_prestat_get", "ii", "i", fd_prestat_get},
    {"fd_prestat_dir_name", "iii", "i", fd_prestat_dir_name},
    {"fd_pwrite", "iiiIi", "i", fd_pwrite},
    {"fd_read", "iiii", "i", fd_read},
    {"fd_readdir", "iiiIi", "i", fd_readdir},
    {"fd_renumber", "ii", "i", fd_renumber},
    {"fd_seek", "iIii", "i", fd_seek},
    {"fd_sync", "i", "i", fd_sync},
    {"fd_tell", "ii", "i", fd_tell},
    {"fd_write", "iiii", "i", fd_write},
    {"path_create_directory", "iii", "i", path_create_directory},
    {"path_filestat_get", "iiiii", "i", path_filestat_get},
    {"path_filestat_set_times", "iiiiIIi", "i", path_fd_flags_path},
    {"path_link", "iiiiiii", "i", path_link},
    {"path_open", "iiiiiIIii", "i", path_open},
    {"path_readlink", "iiiiii", "i", path_fd_path},
    {"path_remove_directory", "iii", "i", path_remove_directory},
    {"path_rename", "iiiiii", "i", path_rename},
    {"path_symlink", "iiiii", "i", path_symlink},
    {"path_unlink_file", "iii", "i", path_unlink_file},
    {"poll_oneoff", "iiii", "i", poll_oneoff},
    {"proc_exit", "i", "", proc_exit},
    {"proc_raise", "i", "i", proc_raise},
    {"sched_yield", "", "i", sched_yield_},
    {"random_get", "ii", "i", random_get},
    {"sock_accept", "iii", "i", sock_any},
    {"sock_recv", "iiiiii", "i", sock_any},
    {"sock_send", "iiiii", "i", sock_any},
    {"sock_shutdown", "ii", "i", sock_any},
};

static size_t ndefs(void) { return sizeof defs / sizeof defs[0]; }

static bool name_is(const struct sos_wasm_name *n, const char *s) {
  size_t len = strlen(s);
  return n->len == len && memcmp(n->p, s, len) == 0;
}

static void types_of(const char *sig, uint8_t *out) {
  for (; *sig; sig++) *out++ = *sig == 'I' ? SOS_WASM_I64 : SOS_WASM_I32;
}

/* Makes the host function for defs[i]. */
static sos_wasm_func *make_func(sos_wasi *w, size_t i) {
  uint8_t params[16], results[1];
  struct sos_wasm_functype t = {
      .nparams = (uint32_t)strlen(defs[i].params),
      .nresults = (uint32_t)strlen(defs[i].results),
      .params = params,
      .results = results,
  };
  types_of(defs[i].params, params);
  types_of(defs[i].results, results);
  return sos_wasm_func_new(&t, defs[i].fn, w);
}

/* Resolves one import against WASI (see wasi.h). */
int sos_wasi_resolve(sos_wasi *w, const struct sos_wasm_name *module,
                     const struct sos_wasm_name *name,
                     const struct sos_wasm_externtype *type,
                     struct sos_wasm_extern *out) {
  if (!name_is(module, SOS_WASI_MODULE)) return SOS_ENOENT;
  for (size_t i = 0; i < ndefs(); i++) {
    if (!name_is(name, defs[i].name)) continue;
    if (type && type->kind != SOS_WASM_EXTERN_FUNC) return SOS_ELINK;
    if (!w->funcs[i] && !(w->funcs[i] = make_func(w, i))) return SOS_ENOMEM;
    out->kind = SOS_WASM_EXTERN_FUNC;
    out->u.func = w->funcs[i];
    return 0;
  }
  return SOS_ENOENT;
}

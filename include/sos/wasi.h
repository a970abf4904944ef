/*
 * wasi.h - WASI preview 1 ("wasi_snapshot_preview1") for the SOS engine.
 *
 * A struct sos_wasi is the world one WASI program sees: its arguments,
 * its environment (given explicitly: nothing is inherited from the host
 * process), three standard streams backed by host file descriptors, the
 * clocks and the random source.  There is no file system yet: the program
 * has no preopened directories, so every path call fails with a WASI
 * errno instead of touching the host.  docs/wasi.md lists each call and
 * what it answers.
 *
 * The context does not link a module by itself.  The embedder walks the
 * module's imports and asks sos_wasi_resolve() for each one; a name that
 * is not WASI gives SOS_ENOENT so that the embedder can offer it to other
 * import providers (the kernel's own system calls, a test harness).
 *
 * Every pointer a guest passes is bounds-checked against its memory; a bad
 * one makes the call return WASI's EFAULT, never a host crash.  Calls
 * block the calling thread (fd_read on a terminal, poll_oneoff sleeping):
 * this context is meant for command-line runs, not for the kernel's
 * worker threads, which will need suspending variants.
 *
 * Threads: a context may serve one running instance at a time.
 */
#ifndef SOS_WASI_H
#define SOS_WASI_H

#include "sos/wasm.h"

#include <stdbool.h>
#include <stdint.h>

/* The WASI import module name. */
#define SOS_WASI_MODULE "wasi_snapshot_preview1"

/* A few WASI errno values (WASI preview 1, typenames.witx "errno") that
 * embedders and tests refer to.  WASI returns them as i32 results. */
enum {
  SOS_WASI_ESUCCESS = 0,
  SOS_WASI_EBADF = 8,
  SOS_WASI_EDQUOT = 19,
  SOS_WASI_EEXIST = 20,
  SOS_WASI_EFBIG = 22,
  SOS_WASI_EFAULT = 21,
  SOS_WASI_EINVAL = 28,
  SOS_WASI_EIO = 29,
  SOS_WASI_EISDIR = 31,
  SOS_WASI_EMFILE = 33,
  SOS_WASI_ENOENT = 44,
  SOS_WASI_ENOSYS = 52,
  SOS_WASI_ENOTDIR = 54,
  SOS_WASI_ENOTEMPTY = 55,
  SOS_WASI_EROFS = 69,
  SOS_WASI_ENOTSUP = 58,
  SOS_WASI_ESPIPE = 70,
  SOS_WASI_ENOTCAPABLE = 76,
};

typedef struct sos_wasi sos_wasi;

/* WASI file types (typenames.witx "filetype") a file system reports. */
enum { SOS_WASI_FT_DIR = 3, SOS_WASI_FT_FILE = 4 };
/* What sos_wasi_fs.change does. */
enum { SOS_WASI_FS_UNLINK, SOS_WASI_FS_MKDIR, SOS_WASI_FS_RMDIR };

/* A file tree the guest sees as its preopened directory "/" (fd 3), given
 * by the embedder: every call gets the calling instance, so the provider
 * keeps open files per instance.  Descriptors the provider hands out must
 * be 4 or more.  Paths are the guest's bytes (len of them, not
 * NUL-terminated), relative to the directory dirfd (3 or a directory the
 * provider opened); resolving them, "." and ".." included, is the
 * provider's job, and so is refusing any that leaves the root.  Each
 * function returns a WASI errno (0 success), except those that may wait
 * (close, sync, change): they get the host call, and either write the
 * errno to c->results[0] and return SOS_WASM_HOST_OK, or return
 * SOS_WASM_HOST_SUSPEND and have the embedder resume the instance with
 * the errno later (a durable write, for example).  A provider without
 * write (NULL) is read-only: calls that would change the tree answer
 * EROFS. */
struct sos_wasi_fs {
  void *env;
  /* Opens path.  oflags and fdflags are WASI's (O_CREAT 1, O_DIRECTORY
   * 2, O_EXCL 4, O_TRUNC 8; APPEND 1); write: the rights ask to write. */
  uint32_t (*open)(void *env, sos_wasm_instance *in, uint32_t dirfd, const char *path,
                   size_t len, uint32_t oflags, uint32_t fdflags, bool write, uint32_t *fd);
  /* Writes len bytes at the fd's position (or at *at), as read reads. */
  uint32_t (*write)(void *env, sos_wasm_instance *in, uint32_t fd, const uint64_t *at,
                    const uint8_t *buf, size_t len, size_t *done);
  /* Reads up to len bytes at the fd's position (or at *at when at is not
   * NULL, without moving it); *got is what was read (0 at the end). */
  uint32_t (*read)(void *env, sos_wasm_instance *in, uint32_t fd, const uint64_t *at,
                   uint8_t *buf, size_t len, size_t *got);
  /* Moves the position (whence: 0 set, 1 current, 2 end); *pos gets it. */
  uint32_t (*seek)(void *env, sos_wasm_instance *in, uint32_t fd, int64_t off, uint8_t whence,
                   uint64_t *pos);
  int (*close)(void *env, struct sos_wasm_hostcall *c, uint32_t fd);
  /* Makes what was written to fd durable (fd_sync, fd_datasync). */
  int (*sync)(void *env, struct sos_wasm_hostcall *c, uint32_t fd);
  /* Changes the tree: op SOS_WASI_FS_UNLINK, _MKDIR or _RMDIR of path. */
  int (*change)(void *env, struct sos_wasm_hostcall *c, int op, uint32_t dirfd,
                const char *path, size_t len);
  /* Sets the size of a file open for writing (fd_filestat_set_size:
   * ftruncate): cut, or grown with zero bytes. */
  uint32_t (*resize)(void *env, sos_wasm_instance *in, uint32_t fd, uint64_t size);
  /* Renames a file (path_rename); same protocol as change. */
  int (*rename)(void *env, struct sos_wasm_hostcall *c, uint32_t olddir, const char *old,
                size_t oldlen, uint32_t newdir, const char *new_, size_t newlen);
  /* The type and size of the open fd (path NULL) or of path under dirfd. */
  uint32_t (*stat)(void *env, sos_wasm_instance *in, uint32_t fd, const char *path, size_t len,
                   uint8_t *type, uint64_t *size);
  /* Calls emit(user, next_cookie, name, nlen, type) for the entries of the
   * open directory fd from cookie on, in a fixed order, until emit returns
   * false. */
  uint32_t (*readdir)(void *env, sos_wasm_instance *in, uint32_t fd, uint64_t cookie,
                      bool (*emit)(void *user, uint64_t next, const char *name, size_t nlen,
                                   uint8_t type),
                      void *user);
};

/* What a context is made from.  Fill it with sos_wasi_config_init() and
 * then set the fields you need.  The strings are copied by sos_wasi_new;
 * the caller keeps ownership of the arrays. */
struct sos_wasi_config {
  uint32_t argc;
  const char *const *argv; /* argv[0] is the program name by convention */
  uint32_t envc;
  const char *const *env;  /* "NAME=VALUE" strings */
  int stdio[3];            /* host fds for guest fds 0, 1, 2; -1: closed */
  /* When set, writes to guest fds 1 and 2 go to this function instead of
   * the host fds: it gets the writing instance, the guest fd and the
   * bytes (borrowed for the call) and returns 0 or a negative SOS error.
   * The node kernel uses it to route stdout and stderr to service logs. */
  int (*write)(void *user, sos_wasm_instance *in, uint32_t fd,
               const uint8_t *p, size_t n);
  void *write_user;
  /* When set, the guest has a preopened directory "/" served by fs
   * (borrowed for the context's life). */
  const struct sos_wasi_fs *fs;
};

/* Sets c to no arguments, no environment and stdio on host fds 0, 1, 2. */
void sos_wasi_config_init(struct sos_wasi_config *c);

/* Makes a context from c.  On success *out owns it (free it with
 * sos_wasi_free after every instance that imports from it).  The host fds
 * stay owned by the caller: the context never closes them, and a guest's
 * fd_close only hides the fd from the guest.
 * Errors: SOS_EINVAL when argc or envc is non-zero with a NULL array,
 * SOS_ENOMEM. */
int sos_wasi_new(const struct sos_wasi_config *c, sos_wasi **out);

/* Frees the context and the host functions it made.  Accepts NULL. */
void sos_wasi_free(sos_wasi *w);

/* Resolves one import.  When module is "wasi_snapshot_preview1" and name
 * is a WASI function, *out gets a host function owned by the context
 * (made on first use, the same one for every later request).  The type is
 * WASI's own: when it differs from the import's type, instantiation
 * reports the mismatch.
 * Errors: SOS_ENOENT when the import is not a WASI function (another
 * provider may have it), SOS_ELINK when it names a WASI function but asks
 * for another kind of external, SOS_ENOMEM. */
int sos_wasi_resolve(sos_wasi *w, const struct sos_wasm_name *module,
                     const struct sos_wasm_name *name,
                     const struct sos_wasm_externtype *type,
                     struct sos_wasm_extern *out);

/* Whether the program called proc_exit, and with which code in *code. */
bool sos_wasi_exited(const sos_wasi *w, uint32_t *code);

#endif

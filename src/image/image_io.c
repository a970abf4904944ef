/*
 * image_io.c - images on disk: atomic writes and verified reads.
 *
 * An image file is named after its content, ID.sosimg, so a reader that
 * finds it by name knows the hash it must have.  Writing must therefore
 * never leave a file of that name with other bytes in it, not even after
 * a crash: the bytes go to a temporary file in the same folder (so that
 * rename(2) stays within one file system), are flushed with fsync, and the
 * file is then renamed over the final name, which POSIX makes atomic; a
 * last fsync of the folder makes the rename itself durable.  Writing an
 * image that already exists replaces it with identical bytes.
 *
 * Reading loads the whole file (images are at most 1 GiB and are decoded
 * into memory anyway) and hands it to sos_image_decode, with the id taken
 * from the file's name when the name has that form.  Error messages start
 * with the path, since the caller may be reading many images.
 */
#include "image/internal.h"

#include "sos/base.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SUFFIX ".sosimg"
enum { PATH_CAP = 4096 };

/* Formats "VERB PATH: errno's words" into err and returns SOS_EIO. */
static int io_fail(char *err, size_t errlen, const char *verb, const char *path) {
  if (err && errlen) snprintf(err, errlen, "cannot %s %s: %s", verb, path, strerror(errno));
  return SOS_EIO;
}

/* Creates dir and any missing parents, like mkdir -p. */
static int make_dirs(const char *dir, char *err, size_t errlen) {
  char buf[PATH_CAP];
  size_t n = strlen(dir);
  if (n >= sizeof buf) {
    errno = ENAMETOOLONG;
    return io_fail(err, errlen, "create folder", dir);
  }
  memcpy(buf, dir, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    char saved = buf[i];
    buf[i] = '\0';
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) return io_fail(err, errlen, "create folder", buf);
    buf[i] = saved;
  }
  struct stat st;
  if (stat(dir, &st) != 0) return io_fail(err, errlen, "create folder", dir);
  if (!S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    return io_fail(err, errlen, "create folder", dir);
  }
  return 0;
}

/* Writes all n bytes to fd. */
static int write_all(int fd, const uint8_t *p, size_t n) {
  while (n) {
    ssize_t put = write(fd, p, n);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) return -1;
    p += put;
    n -= (size_t)put;
  }
  return 0;
}

/* Flushes a folder's entries (the rename) to disk. */
static int sync_dir(const char *dir, char *err, size_t errlen) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_fail(err, errlen, "open folder", dir);
  int rc = fsync(fd) != 0 && errno != EINVAL ? io_fail(err, errlen, "sync folder", dir) : 0;
  close(fd);
  return rc;
}

/* Writes the n bytes to a temporary file in dir and renames it to path. */
static int write_atomic(const char *dir, const char *path, const uint8_t *bytes, size_t n,
                        char *err, size_t errlen) {
  char tmp[PATH_CAP];
  if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= sizeof tmp) {
    errno = ENAMETOOLONG;
    return io_fail(err, errlen, "create", path);
  }
  int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0) return io_fail(err, errlen, "create", tmp);
  int rc = 0;
  if (write_all(fd, bytes, n) != 0 || fchmod(fd, 0644) != 0 || fsync(fd) != 0)
    rc = io_fail(err, errlen, "write", tmp);
  if (close(fd) != 0 && !rc) rc = io_fail(err, errlen, "write", tmp);
  if (!rc && rename(tmp, path) != 0) rc = io_fail(err, errlen, "rename to", path);
  if (rc) {
    unlink(tmp);
    return rc;
  }
  return sync_dir(dir, err, errlen);
}

/* Writes img to DIR/ID.sosimg (see image.h). */
int sos_image_write(struct sos_image *img, const char *dir, char *path,
                    size_t cap, char *err, size_t errlen) {
  uint8_t *bytes;
  size_t len;
  if (!*dir) {
    if (err && errlen) snprintf(err, errlen, "no folder given for the image");
    return SOS_EINVAL;
  }
  int rc = sos__image_encode(img, &bytes, &len, err, errlen);
  if (rc) return rc;
  size_t dn = strlen(dir);
  while (dn > 1 && dir[dn - 1] == '/') dn--; /* "out/" names "out" */
  int n = snprintf(path, cap, "%.*s/%s%s", (int)dn, dir, img->id, SUFFIX);
  if (n < 0 || (size_t)n >= cap) {
    if (err && errlen) snprintf(err, errlen, "the image's path is longer than %zu bytes", cap);
    sos_free(bytes);
    return SOS_EINVAL;
  }
  rc = make_dirs(dir, err, errlen);
  if (!rc) rc = write_atomic(dir, path, bytes, len, err, errlen);
  sos_free(bytes);
  return rc;
}

/* Copies the id from a base name of the form ID.sosimg into id; returns
 * whether the name has that form. */
static int id_from_name(const char *path, char id[SOS_IMAGE_ID_LEN + 1]) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  if (strlen(base) != SOS_IMAGE_ID_LEN + strlen(SUFFIX)) return 0;
  if (strcmp(base + SOS_IMAGE_ID_LEN, SUFFIX) != 0) return 0;
  memcpy(id, base, SOS_IMAGE_ID_LEN);
  id[SOS_IMAGE_ID_LEN] = '\0';
  return sos__image_is_id(id);
}

/* Reads and decodes the image at path (see image.h). */
int sos_image_read(const char *path, struct sos_image **out, char *err,
                   size_t errlen) {
  uint8_t *bytes;
  size_t len;
  *out = NULL;
  int rc = sos_file_read(path, &bytes, &len);
  if (rc == SOS_ENOMEM) {
    if (err && errlen) snprintf(err, errlen, "out of memory");
    return rc;
  }
  if (rc) {
    io_fail(err, errlen, rc == SOS_ENOENT ? "open" : "read", path);
    return rc;
  }
  char id[SOS_IMAGE_ID_LEN + 1], why[512];
  rc = sos_image_decode(bytes, len, id_from_name(path, id) ? id : NULL, out, why,
                        sizeof why);
  sos_free(bytes);
  if (rc == SOS_ENOMEM && err && errlen) snprintf(err, errlen, "out of memory");
  else if (rc && err && errlen) snprintf(err, errlen, "%s: %s", path, why);
  return rc;
}

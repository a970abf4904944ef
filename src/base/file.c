/*
 * file.c - reading a whole file into memory.
 *
 * Every SOS program that loads something from disk (the sos CLI, the
 * benchmark and differential drivers, the spec runner) wants the same
 * thing: the whole of one named file in one buffer, or a reason why not.
 * The files are modules and scripts of a few bytes to some megabytes, and
 * the name may just as well be a pipe or /dev/stdin as a regular file, so
 * the size is never trusted: the reader uses open(2) and read(2) and grows
 * its buffer until read(2) reports the end.  For a regular file fstat's
 * size is only the first guess of the capacity, which makes the usual case
 * one allocation and one read; anything else starts at one chunk and
 * doubles.  Two bytes beyond the data are always kept free: one for the
 * read that sees the end of the file, one for the NUL written after it.
 *
 * Errors are translated here, as the base layer's rule asks: a missing
 * file is SOS_ENOENT, any other failure to open or read is SOS_EIO with
 * errno left as the system set it, so that callers can print strerror.
 */
#include "sos/base.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK ((size_t)1 << 16) /* first capacity when the size is unknown */

/* The first capacity: a regular file's size plus the two spare bytes, or
 * one chunk when fstat cannot say (pipes, terminals, devices). */
static size_t first_capacity(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0) return CHUNK;
  if ((uint64_t)st.st_size > SIZE_MAX - 2) return CHUNK; /* let reading fail */
  return (size_t)st.st_size + 2;
}

/* Enlarges *buf to at least one chunk, else twice its capacity. */
static int grow(uint8_t **buf, size_t *cap) {
  if (*cap > SIZE_MAX / 2) return SOS_ENOMEM;
  size_t want = *cap < CHUNK ? CHUNK : *cap * 2;
  uint8_t *p = sos_realloc(*buf, want);
  if (!p) return SOS_ENOMEM;
  *buf = p;
  *cap = want;
  return 0;
}

/* Reads fd to its end into a fresh NUL-terminated buffer. */
static int read_all(int fd, uint8_t **out, size_t *len) {
  size_t cap = first_capacity(fd), n = 0;
  uint8_t *buf = sos_malloc(cap);
  int rc = buf ? 0 : SOS_ENOMEM;
  while (rc == 0) {
    if (cap - n < 2 && (rc = grow(&buf, &cap)) != 0) break;
    ssize_t got = read(fd, buf + n, cap - n - 1); /* keep one for the NUL */
    if (got == 0) break;
    if (got > 0) n += (size_t)got;
    else if (errno != EINTR) rc = SOS_EIO;
  }
  if (rc) {
    int saved = errno; /* the caller's message wants read's errno */
    sos_free(buf);
    errno = saved;
    return rc;
  }
  buf[n] = 0;
  *out = buf;
  *len = n;
  return 0;
}

/* Reads the whole file at path (see base.h). */
int sos_file_read(const char *path, uint8_t **out, size_t *len) {
  *out = NULL;
  *len = 0;
  int fd;
  do fd = open(path, O_RDONLY | O_CLOEXEC); /* a FIFO's open may be interrupted */
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return errno == ENOENT ? SOS_ENOENT : SOS_EIO;
  int rc = read_all(fd, out, len);
  int saved = errno;
  close(fd);
  errno = saved;
  return rc;
}

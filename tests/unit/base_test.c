/* base_test.c - errors, the allocator's fault injection and reading
 * whole files (regular, empty, large with NULs, missing, a directory, a
 * pipe, standard input, and every allocation failing in turn). */
#include "sos/base.h"
#include "test.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

TEST(base_strerror_names_every_code) {
  CHECK_STR(sos_strerror(0), "success");
  CHECK_STR(sos_strerror(SOS_ENOMEM), "out of memory");
  CHECK_STR(sos_err_name(SOS_EMALFORMED), "SOS_EMALFORMED");
  CHECK_STR(sos_strerror(-9999), "unknown error");
}

TEST(base_alloc_fails_at_nth) {
  sos_alloc_fail_at(3);
  void *a = sos_malloc(8), *b = sos_malloc(8), *c = sos_malloc(8);
  CHECK(a != NULL);
  CHECK(b != NULL);
  CHECK(c == NULL);
  sos_alloc_fail_at(0);
  void *d = sos_malloc(8);
  CHECK(d != NULL);
  sos_free(a);
  sos_free(b);
  sos_free(d);
}

/* ---- sos_file_read ---------------------------------------------------------- */

#define BIG_SIZE ((size_t)1 << 20 | 3) /* about 1 MiB, not a round size */

/* Byte i of the test pattern, in which every seventh byte is NUL. */
static uint8_t pattern_byte(size_t i) { return i % 7 == 0 ? 0 : (uint8_t)(i * 31 + 7); }

/* Fills buf with the first n bytes of the pattern. */
static void fill_pattern(uint8_t *buf, size_t n) {
  for (size_t i = 0; i < n; i++) buf[i] = pattern_byte(i);
}

/* Writes n bytes to dir/name; returns the path in a static buffer. */
static const char *write_temp(const char *dir, const char *name, const uint8_t *p,
                              size_t n) {
  static char path[256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f) return NULL;
  size_t put = n ? fwrite(p, 1, n, f) : 0;
  return fclose(f) == 0 && put == n ? path : NULL;
}

/* Starts a child that writes the pattern's n bytes into a pipe and exits;
 * returns the pipe's read end, or -1. */
static int pattern_pipe(size_t n, pid_t *writer) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  *writer = fork();
  if (*writer == 0) {
    close(fds[0]);
    uint8_t *buf = malloc(n);
    if (!buf) _exit(1);
    fill_pattern(buf, n);
    for (size_t off = 0; off < n;) {
      ssize_t put = write(fds[1], buf + off, n - off);
      if (put <= 0) _exit(1);
      off += (size_t)put;
    }
    _exit(0);
  }
  close(fds[1]);
  if (*writer < 0) close(fds[0]);
  return *writer < 0 ? -1 : fds[0];
}

/* Checks that out holds exactly the n pattern bytes plus the NUL. */
static int is_pattern(const uint8_t *out, size_t len, size_t n) {
  if (!out || len != n || out[len] != 0) return 0;
  for (size_t i = 0; i < n; i++)
    if (out[i] != pattern_byte(i)) return 0;
  return 1;
}

TEST(base_file_read_round_trips) {
  char dir[] = "/tmp/sos_file_XXXXXX";
  REQUIRE(mkdtemp(dir) != NULL);
  uint8_t *big = malloc(BIG_SIZE), *out;
  REQUIRE(big != NULL);
  fill_pattern(big, BIG_SIZE);
  size_t sizes[] = {0, 1, 7, BIG_SIZE};
  for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
    const char *path = write_temp(dir, "f", big, sizes[k]);
    REQUIRE(path != NULL);
    size_t len = 12345;
    CHECK_EQ(sos_file_read(path, &out, &len), 0);
    CHECK(is_pattern(out, len, sizes[k]));
    sos_free(out);
    unlink(path);
  }
  free(big);
  rmdir(dir);
}

TEST(base_file_read_missing_is_enoent) {
  uint8_t *out = (uint8_t *)"x";
  size_t len = 1;
  CHECK_EQ(sos_file_read("/tmp/sos-no-such-dir/no-such-file", &out, &len), SOS_ENOENT);
  CHECK(out == NULL);
  CHECK_EQ(len, 0);
  CHECK_EQ(errno, ENOENT);
}

TEST(base_file_read_directory_fails) {
  char dir[] = "/tmp/sos_file_XXXXXX";
  REQUIRE(mkdtemp(dir) != NULL);
  uint8_t *out;
  size_t len;
  CHECK_EQ(sos_file_read(dir, &out, &len), SOS_EIO);
  CHECK_EQ(errno, EISDIR);
  CHECK(out == NULL);
  rmdir(dir);
}

TEST(base_file_read_pipe_and_stdin) {
  pid_t writer;
  int fd = pattern_pipe(BIG_SIZE, &writer);
  REQUIRE(fd >= 0);
  char path[32];
  snprintf(path, sizeof path, "/dev/fd/%d", fd);
  uint8_t *out;
  size_t len;
  CHECK_EQ(sos_file_read(path, &out, &len), 0);
  CHECK(is_pattern(out, len, BIG_SIZE));
  sos_free(out);
  close(fd);
  waitpid(writer, NULL, 0);
  fd = pattern_pipe(100, &writer); /* now as standard input */
  REQUIRE(fd >= 0 && dup2(fd, 0) == 0);
  close(fd);
  CHECK_EQ(sos_file_read("/dev/stdin", &out, &len), 0);
  CHECK(is_pattern(out, len, 100));
  sos_free(out);
  waitpid(writer, NULL, 0);
}

/* Fails each allocation of one read in turn: SOS_ENOMEM until the read
 * succeeds, with nothing returned (and, under ASan, nothing leaked).
 * A pipe makes the buffer grow several times; returns the steps tried. */
static int fail_each_allocation(const char *file, size_t n) {
  int rc = SOS_ENOMEM, steps = 0;
  for (uint64_t at = 1; rc == SOS_ENOMEM && at < 100; at++, steps++) {
    pid_t writer = -1;
    int fd = file ? -1 : pattern_pipe(n, &writer);
    char path[32];
    snprintf(path, sizeof path, "/dev/fd/%d", fd);
    uint8_t *out = (uint8_t *)"x";
    size_t len;
    sos_alloc_fail_at(at);
    rc = sos_file_read(file ? file : path, &out, &len);
    sos_alloc_fail_at(0);
    if (rc == SOS_ENOMEM) CHECK(out == NULL);
    else CHECK(rc == 0 && is_pattern(out, len, n));
    if (rc == 0) sos_free(out);
    if (fd >= 0) close(fd);
    if (writer > 0) waitpid(writer, NULL, 0);
  }
  return steps;
}

TEST(base_file_read_out_of_memory) {
  char dir[] = "/tmp/sos_file_XXXXXX";
  REQUIRE(mkdtemp(dir) != NULL);
  uint8_t *big = malloc(BIG_SIZE);
  REQUIRE(big != NULL);
  fill_pattern(big, BIG_SIZE);
  const char *path = write_temp(dir, "f", big, BIG_SIZE);
  REQUIRE(path != NULL);
  CHECK_EQ(fail_each_allocation(path, BIG_SIZE), 2); /* one allocation */
  CHECK(fail_each_allocation(NULL, BIG_SIZE) > 3);   /* several to grow */
  unlink(path);
  free(big);
  rmdir(dir);
}

TEST(base_version_requirements) {
  uint64_t v[3];
  CHECK_EQ(sos_version_parse("1.20.3", v), 0);
  CHECK(v[0] == 1 && v[1] == 20 && v[2] == 3);
  CHECK_EQ(sos_version_parse("1.2", v), SOS_EINVAL);
  CHECK_EQ(sos_version_parse("1.2.3x", v), SOS_EINVAL);
  CHECK_EQ(sos_version_match("1.2.3", NULL), 1);
  CHECK_EQ(sos_version_match("1.2.3", "*"), 1);
  CHECK_EQ(sos_version_match("1.2.3", "1.2"), 1);      /* ^1.2 */
  CHECK_EQ(sos_version_match("1.9.0", "^1.2"), 1);
  CHECK_EQ(sos_version_match("2.0.0", "^1.2"), 0);
  CHECK_EQ(sos_version_match("1.1.9", "^1.2"), 0);
  CHECK_EQ(sos_version_match("0.3.1", "^0.3"), 1);     /* 0.x: the minor counts */
  CHECK_EQ(sos_version_match("0.4.0", "^0.3"), 0);
  CHECK_EQ(sos_version_match("0.0.4", "^0.0.3"), 0);
  CHECK_EQ(sos_version_match("1.2.9", "~1.2.3"), 1);
  CHECK_EQ(sos_version_match("1.3.0", "~1.2.3"), 0);
  CHECK_EQ(sos_version_match("1.5.0", ">=1.2, <2"), 1);
  CHECK_EQ(sos_version_match("2.0.0", ">=1.2, <2"), 0);
  CHECK_EQ(sos_version_match("1.2.3", "=1.2.3"), 1);
  CHECK_EQ(sos_version_match("1.2.4", "=1.2.3"), 0);
  CHECK_EQ(sos_version_match("1.2.4", ">1.2.3"), 1);
  CHECK_EQ(sos_version_match("1.2.3", "<=1.2.3"), 1);
  CHECK_EQ(sos_version_match("1.2.3", "=>1"), SOS_EINVAL);
  CHECK_EQ(sos_version_match("1.2.3", ">=1.x"), SOS_EINVAL);
  CHECK_EQ(sos_version_match("1.2.3", "1,"), SOS_EINVAL);
  CHECK_EQ(sos_version_match("x", "1"), SOS_EINVAL);
}

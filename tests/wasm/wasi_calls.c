/*
 * wasi_calls.c - calls WASI preview 1 directly (wasi/api.h) and checks each
 * answer: bad pointers give EFAULT, missing fds EBADF, path calls
 * ENOTCAPABLE, unsupported calls their documented errno.  Prints one
 * "ok NAME" or "FAIL NAME: got X, want Y" line per check, then "done".
 * Run with stdin and stdout on pipes.
 */
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_raise")))
int raw_proc_raise(int sig);

#define BAD ((void *)0xfffffff0u) /* far past the end of memory */

static int failures;

static void check(const char *name, long got, long want) {
  if (got == want) printf("ok %s\n", name);
  else {
    printf("FAIL %s: got %ld, want %ld\n", name, got, want);
    failures++;
  }
}

static void fds(void) {
  __wasi_fdstat_t st;
  check("fdstat stdout", __wasi_fd_fdstat_get(1, &st), 0);
  check("fdstat stdout can write", !!(st.fs_rights_base & __WASI_RIGHTS_FD_WRITE), 1);
  check("fdstat bad pointer", __wasi_fd_fdstat_get(1, BAD), __WASI_ERRNO_FAULT);
  check("fdstat unknown fd", __wasi_fd_fdstat_get(9, &st), __WASI_ERRNO_BADF);
  check("fdstat_set_flags", __wasi_fd_fdstat_set_flags(1, 0), __WASI_ERRNO_NOTSUP);
  __wasi_filestat_t fs;
  check("filestat stdin", __wasi_fd_filestat_get(0, &fs), 0);
  check("prestat fd 3", __wasi_fd_prestat_get(3, (__wasi_prestat_t *)&st), __WASI_ERRNO_BADF);
  __wasi_filesize_t pos;
  check("seek bad whence", __wasi_fd_seek(1, 0, 7, &pos), __WASI_ERRNO_INVAL);
  check("seek pipe", __wasi_fd_seek(0, 0, __WASI_WHENCE_CUR, &pos), __WASI_ERRNO_SPIPE);
  check("tell pipe", __wasi_fd_tell(0, &pos), __WASI_ERRNO_SPIPE);
  check("renumber unknown", __wasi_fd_renumber(1, 7), __WASI_ERRNO_BADF);
  check("readdir stdio", __wasi_fd_readdir(1, (uint8_t *)&fs, 8, 0, (__wasi_size_t *)&pos),
        __WASI_ERRNO_NOTDIR);
}

static void io(void) {
  char buf[8];
  __wasi_size_t n;
  __wasi_ciovec_t out = {(const uint8_t *)"", 0};
  __wasi_iovec_t in = {(uint8_t *)buf, sizeof buf};
  check("write bad result pointer", __wasi_fd_write(1, &out, 1, BAD), __WASI_ERRNO_FAULT);
  __wasi_ciovec_t far = {BAD, 100};
  check("write bad buffer", __wasi_fd_write(1, &far, 1, &n), __WASI_ERRNO_FAULT);
  check("write bad iovec array", __wasi_fd_write(1, BAD, 1, &n), __WASI_ERRNO_FAULT);
  check("write empty", __wasi_fd_write(1, &out, 1, &n), 0);
  check("read from stdout", __wasi_fd_read(1, &in, 1, &n), __WASI_ERRNO_BADF);
  check("write to stdin", __wasi_fd_write(0, &out, 1, &n), __WASI_ERRNO_BADF);
  check("pread pipe", __wasi_fd_pread(0, &in, 1, 0, &n), __WASI_ERRNO_SPIPE);
  check("write unknown fd", __wasi_fd_write(5, &out, 1, &n), __WASI_ERRNO_BADF);
}

static void misc(void) {
  __wasi_size_t a, b;
  __wasi_timestamp_t t;
  uint8_t r[16];
  check("args_sizes bad pointer", __wasi_args_sizes_get(&a, BAD), __WASI_ERRNO_FAULT);
  check("environ_sizes", __wasi_environ_sizes_get(&a, &b), 0);
  check("environ empty", a, 0);
  check("clock bad id", __wasi_clock_time_get(99, 0, &t), __WASI_ERRNO_INVAL);
  check("clock bad pointer", __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, BAD),
        __WASI_ERRNO_FAULT);
  check("clock_res", __wasi_clock_res_get(__WASI_CLOCKID_MONOTONIC, &t), 0);
  check("clock_res positive", t > 0, 1);
  check("random bad pointer", __wasi_random_get(BAD, 64), __WASI_ERRNO_FAULT);
  check("random empty", __wasi_random_get(r, 0), 0);
  check("sched_yield", __wasi_sched_yield(), 0);
  check("proc_raise", raw_proc_raise(2), __WASI_ERRNO_NOSYS);
  check("sock_send stdio", __wasi_sock_send(1, NULL, 0, 0, &a), __WASI_ERRNO_NOTSOCK);
}

static void paths(void) {
  __wasi_fd_t fd;
  check("path_open stdio", __wasi_path_open(0, 0, "x", 0, 0, 0, 0, &fd), __WASI_ERRNO_NOTCAPABLE);
  check("path_open unknown fd", __wasi_path_open(9, 0, "x", 0, 0, 0, 0, &fd), __WASI_ERRNO_BADF);
  check("path_unlink", __wasi_path_unlink_file(1, "x"), __WASI_ERRNO_NOTCAPABLE);
  check("path_rename", __wasi_path_rename(1, "a", 2, "b"), __WASI_ERRNO_NOTCAPABLE);
}

static long long mono(void) {
  __wasi_timestamp_t t = 0;
  if (__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t)) return -1;
  return (long long)t;
}

static void poll(void) {
  __wasi_subscription_t s[2];
  __wasi_event_t ev[2];
  __wasi_size_t n = 0;
  memset(s, 0, sizeof s);
  s[0].userdata = 42;
  s[0].u.tag = __WASI_EVENTTYPE_CLOCK;
  s[0].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
  s[0].u.u.clock.timeout = 20000000;
  long long t0 = mono();
  check("poll sleep", __wasi_poll_oneoff(s, ev, 1, &n), 0);
  check("poll slept 20ms", mono() - t0 >= 20000000, 1);
  check("poll clock event", n == 1 && ev[0].userdata == 42 && ev[0].type == __WASI_EVENTTYPE_CLOCK, 1);
  s[1].userdata = 7;
  s[1].u.tag = __WASI_EVENTTYPE_FD_WRITE;
  s[1].u.u.fd_write.file_descriptor = 1;
  s[0].u.u.clock.timeout = 5000000000ull;
  check("poll fd", __wasi_poll_oneoff(s, ev, 2, &n), 0);
  check("poll fd ready", n == 1 && ev[0].userdata == 7 && ev[0].type == __WASI_EVENTTYPE_FD_WRITE, 1);
  check("poll none", __wasi_poll_oneoff(s, ev, 0, &n), __WASI_ERRNO_INVAL);
  check("poll bad pointer", __wasi_poll_oneoff(s, BAD, 1, &n), __WASI_ERRNO_FAULT);
}

static void closing(void) {
  __wasi_ciovec_t out = {(const uint8_t *)"x", 1};
  __wasi_size_t n;
  check("close stderr", __wasi_fd_close(2), 0);
  check("write closed", __wasi_fd_write(2, &out, 1, &n), __WASI_ERRNO_BADF);
  check("close again", __wasi_fd_close(2), __WASI_ERRNO_BADF);
}

int main(void) {
  fds();
  io();
  misc();
  paths();
  poll();
  closing();
  printf("done %d\n", failures);
  return failures != 0;
}

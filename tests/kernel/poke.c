/*
 * poke.c - writes raw bytes to a node's socket, for the kernel tests:
 *
 *   poke [-p] [-o] [-s MS] [-w MS] SOCKET|HOST:PORT < bytes
 *
 * sends stdin as is to the control socket SOCKET (a path) or to a TCP
 * address (the HTTP gateway), then prints how many bytes came back before
 * the node closed the connection or MS milliseconds (-w, default 2000)
 * passed without any.  Tests use it to send garbage, oversized frames,
 * malformed and hostile HTTP requests, and then check that the node
 * still answers real requests.
 *
 *   -p      print the bytes that came back instead of their count
 *   -o      keep the sending side open after stdin (no shutdown): a
 *           client that stalls rather than one that is done
 *   -s MS   send one byte every MS milliseconds (a slow client)
 */
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* A connected socket to target: a unix socket path, or HOST:PORT. */
static int dial(const char *target) {
  const char *colon = strrchr(target, ':');
  if (!colon || strchr(target, '/')) {
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", target);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0) return fd;
    return -1;
  }
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
  char host[64];
  snprintf(host, sizeof host, "%.*s", (int)(colon - target), target);
  if (inet_pton(AF_INET, host, &a.sin_addr) != 1) return -1;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0) return fd;
  return -1;
}

int main(int argc, char **argv) {
  int print = 0, open_end = 0, slow_ms = 0, wait_ms = 2000, opt;
  while ((opt = getopt(argc, argv, "pos:w:")) != -1) {
    if (opt == 'p') print = 1;
    else if (opt == 'o') open_end = 1;
    else if (opt == 's') slow_ms = atoi(optarg);
    else if (opt == 'w') wait_ms = atoi(optarg);
    else optind = argc + 1;
  }
  if (optind != argc - 1) {
    fprintf(stderr, "usage: poke [-p] [-o] [-s MS] [-w MS] SOCKET|HOST:PORT < bytes\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN); /* the node may close while we send */
  int fd = dial(argv[optind]);
  if (fd < 0) {
    perror("poke: connect");
    return 1;
  }
  static char buf[65536];
  ssize_t n;
  int stop = 0;
  while (!stop && (n = read(0, buf, sizeof buf)) > 0) {
    for (ssize_t i = 0; slow_ms && i < n && !stop; i++) {
      struct timespec ts = {slow_ms / 1000, (long)(slow_ms % 1000) * 1000000L};
      nanosleep(&ts, NULL);
      stop = write(fd, buf + i, 1) != 1; /* the node may close early */
    }
    if (!slow_ms) stop = write(fd, buf, (size_t)n) != n;
  }
  if (!open_end) shutdown(fd, SHUT_WR);
  long got = 0;
  for (;;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, wait_ms) <= 0) break;
    n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    if (print) fwrite(buf, 1, (size_t)n, stdout);
    got += n;
  }
  if (!print) printf("%ld\n", got);
  return 0;
}

/*
 * poke.c - writes raw bytes to a node's control socket, for the kernel
 * tests: `poke SOCKET < bytes` sends stdin as is, then prints how many
 * bytes came back before the node closed the connection (or 2 s passed).
 * Tests use it to send garbage and oversized frames and then check that
 * the node still answers real requests.
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: poke SOCKET < bytes\n");
    return 2;
  }
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof a.sun_path, "%s", argv[1]);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) {
    perror("poke: connect");
    return 1;
  }
  char buf[65536];
  ssize_t n;
  while ((n = read(0, buf, sizeof buf)) > 0)
    if (write(fd, buf, (size_t)n) != n) break; /* the node may close early */
  shutdown(fd, SHUT_WR);
  long got = 0;
  for (;;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 2000) <= 0) break;
    n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got += n;
  }
  printf("%ld\n", got);
  return 0;
}

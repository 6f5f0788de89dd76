/* Servers for bench/network_bench.py, built static (gcc -O2 -static) and baked into the
 * benchmark image, so that neither busybox nc's small reads nor busybox httpd's fork per
 * connection caps what is measured.
 *
 *   net_helper sink PORT         accepts connections one after the other and discards what
 *                                they send, 1 MiB reads
 *   net_helper http PORT [N]     N processes (default 2) answering each connection with one
 *                                small HTTP/1.1 response and "Connection: close", then closing
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int listen_on(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  if (fd < 0 || bind(fd, (struct sockaddr*)&sa, sizeof sa) < 0 || listen(fd, 4096) < 0) {
    perror("listen");
    exit(1);
  }
  return fd;
}

static void sink(int lfd) {
  size_t size = 1 << 20;
  char* buf = malloc(size);
  for (;;) {
    int c = accept(lfd, NULL, NULL);
    if (c < 0) continue;
    while (read(c, buf, size) > 0) {
    }
    close(c);
  }
}

static const char response[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n"
    "Connection: close\r\n\r\nhello, world\n";

static void http(int lfd) {
  char buf[4096];
  for (;;) {
    int c = accept(lfd, NULL, NULL);
    if (c < 0) continue;
    /* Read until the end of the request's head: wrk sends it in one segment. */
    size_t got = 0;
    for (;;) {
      ssize_t n = read(c, buf + got, sizeof buf - 1 - got);
      if (n <= 0) break;
      got += n;
      buf[got] = 0;
      if (strstr(buf, "\r\n\r\n") || got == sizeof buf - 1) break;
    }
    if (got > 0) {
      ssize_t w = write(c, response, sizeof response - 1);
      (void)w;
    }
    close(c);
  }
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s sink PORT | http PORT [WORKERS]\n", argv[0]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  int lfd = listen_on(atoi(argv[2]));
  if (strcmp(argv[1], "sink") == 0) sink(lfd);
  if (strcmp(argv[1], "http") != 0) return 2;
  int workers = argc > 3 ? atoi(argv[3]) : 2;
  for (int i = 1; i < workers; i++) {
    if (fork() == 0) http(lfd);
  }
  http(lfd);
  return 0;
}

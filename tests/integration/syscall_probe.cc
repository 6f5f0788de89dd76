// A static program the seccomp tests copy into their busybox rootfs: calls each syscall
// number given, with zero arguments, and prints "<nr> ok" or "<nr> <errno name>".
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  for (int i = 1; i < argc; i++) {
    long rc = syscall(std::atol(argv[i]), 0, 0, 0, 0, 0, 0);
    std::printf("%s %s\n", argv[i], rc < 0 ? strerrorname_np(errno) : "ok");
  }
  return 0;
}

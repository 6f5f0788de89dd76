#include "support/process.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

namespace berth::test {

Result run_program(const std::vector<std::string>& argv, const std::string& input) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
    throw std::runtime_error("pipe");
  // Built before the fork: a child of a multi-threaded test may not allocate.
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (!input.empty()) {
    [[maybe_unused]] ssize_t n = write(in[1], input.data(), input.size());
  }
  close(in[1]);
  Result r;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  char buf[4096];
  int status = 0;
  bool exited = false;
  // `create` and `run -d` leave the container holding our pipes: stop reading once the
  // program itself has exited and its pipes are drained, not at EOF.
  for (;;) {
    int ready = poll(fds, 2, exited ? 0 : 20);
    if (ready < 0) break;
    bool got = false;
    for (int i = 0; i < 2; i++) {
      if (fds[i].fd < 0 || !fds[i].revents) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        continue;
      }
      got = true;
      (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
    }
    if (fds[0].fd < 0 && fds[1].fd < 0) break;
    if (exited && !got) break;
    if (!exited && waitpid(pid, &status, WNOHANG) == pid) exited = true;
  }
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
  if (!exited) waitpid(pid, &status, 0);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

Result run_shell(const std::string& command) {
  return run_program({"/bin/sh", "-c", command});
}

}  // namespace berth::test

// OCI hooks: each gets the container state on stdin and is killed when its timeout passes.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "base/error.h"
#include "base/fs.h"
#include "runtime/internal.h"

namespace berth::runtime {
namespace {

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

void run_hook(const oci::Hook& hook, const std::string& state_json, const char* kind,
              const std::string& cwd) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) throw_errno("pipe");
  UniqueFd rd(p[0]), wr(p[1]);
  std::vector<std::string> args =
      hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
  std::vector<std::string> env = hook.env;
  auto argv = c_strings(args);
  auto envp = c_strings(env);
  pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork hook");
  if (pid == 0) {
    ::dup2(rd.get(), STDIN_FILENO);
    if (!cwd.empty() && ::chdir(cwd.c_str()) < 0) _exit(127);
    ::execve(hook.path.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  rd.reset();
  // A hook that does not read its stdin must not block us: ignore EPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  try {
    write_all(wr.get(), state_json);
  } catch (const Error&) {
  }
  wr.reset();
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) throw_errno("pidfd_open hook");
  int timeout_ms = hook.timeout ? *hook.timeout * 1000 : -1;
  pollfd pfd{pidfd.get(), POLLIN, 0};
  int rc;
  while ((rc = ::poll(&pfd, 1, timeout_ms)) < 0 && errno == EINTR) {
  }
  if (rc == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    throw Error(std::string(kind) + " hook " + hook.path + " timed out after " +
                std::to_string(*hook.timeout) + "s");
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  std::string how = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                      : "signal " + std::to_string(WTERMSIG(status));
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    how += " (could not be executed, or returned 127)";
  throw Error(std::string(kind) + " hook " + hook.path + " failed: " + how);
}

}  // namespace

void run_hooks(const std::vector<oci::Hook>& hooks, const std::string& state_json, const char* kind,
               const std::string& cwd) {
  for (auto& h : hooks) run_hook(h, state_json, kind, cwd);
}

}  // namespace berth::runtime

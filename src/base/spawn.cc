#include "base/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error.h"
#include "base/fd.h"
#include "base/fs.h"

namespace berth {
namespace {

// Spawn attributes and file actions, destroyed with the scope.
struct SpawnSetup {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  SpawnSetup() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

void route(SpawnSetup& s, int target, SpawnOptions::Output to, int capture_fd) {
  switch (to) {
    case SpawnOptions::Output::kDiscard:
      posix_spawn_file_actions_addopen(&s.actions, target, "/dev/null", O_WRONLY, 0);
      break;
    case SpawnOptions::Output::kCapture:
      posix_spawn_file_actions_adddup2(&s.actions, capture_fd, target);
      break;
    case SpawnOptions::Output::kInherit:
      break;
  }
}

}  // namespace

bool ProgramResult::succeeded() const {
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string ProgramResult::how_it_ended() const {
  return WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                           : "was killed by signal " + std::to_string(WTERMSIG(status));
}

std::optional<ProgramResult> run_program(const std::vector<std::string>& args,
                                         const SpawnOptions& opts) {
  if (args.empty()) throw Error("run_program: no program given");
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  UniqueFd read_end, write_end;
  bool capture = opts.stdout_to == SpawnOptions::Output::kCapture ||
                 opts.stderr_to == SpawnOptions::Output::kCapture;
  if (capture) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) throw_errno("pipe for " + args[0]);
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
  }
  SpawnSetup s;
  // The caller's blocked and ignored signals (berthd's and the shim's) are not the program's.
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&s.attr, &none);
  posix_spawnattr_setsigdefault(&s.attr, &all);
  posix_spawnattr_setflags(&s.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  if (!opts.inherit_stdin)
    posix_spawn_file_actions_addopen(&s.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  route(s, STDOUT_FILENO, opts.stdout_to, write_end.get());
  route(s, STDERR_FILENO, opts.stderr_to, write_end.get());
  posix_spawn_file_actions_addclosefrom_np(&s.actions, 3);
  pid_t pid = 0;
  int err = ::posix_spawnp(&pid, argv[0], &s.actions, &s.attr, argv.data(), environ);
  if (err == ENOENT) return std::nullopt;
  if (err != 0) throw_errno("cannot run " + args[0], err);
  write_end.reset();

  ProgramResult result;
  if (read_end) {
    try {
      result.output = read_fd(read_end.get());
    } catch (...) {
      ::waitpid(pid, nullptr, 0);
      throw;
    }
  }
  while (::waitpid(pid, &result.status, 0) < 0) {
    if (errno != EINTR) throw_errno("waitpid " + args[0]);
  }
  return result;
}

}  // namespace berth

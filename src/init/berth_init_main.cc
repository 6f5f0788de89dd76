// berth-init: the container's PID 1 under `docker run --init` (HostConfig.Init), mounted at
// /sbin/docker-init and doing what Docker's docker-init (tini) does there: it runs the command
// as its child, forwards it every signal it can catch, reaps every zombie of the container,
// orphans adopted from the command's descendants included, and exits with the command's
// status (128+N when signal N killed it).
//
// Usage: docker-init [-g] [--] PROGRAM [ARGS...]   (-g: signal the child's process group)
//        docker-init --version
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

// Faults in init's own code must stay fatal rather than wait in the queue; terminal stops are
// ignored instead, since the child's group owns the terminal and init must never stop on it.
constexpr int kNotForwarded[] = {SIGFPE,  SIGILL, SIGSEGV, SIGBUS, SIGABRT,
                                 SIGTRAP, SIGSYS, SIGTTIN, SIGTTOU};
// Dispositions init changes for itself and gives back to the child as they were.
constexpr int kRestored[] = {SIGTTIN, SIGTTOU, SIGCHLD};

int usage() {
  dprintf(STDERR_FILENO, "usage: docker-init [-g] [--] PROGRAM [ARGS...] | --version\n");
  return 1;
}

// In the child, between fork and exec: returns only if exec failed.
void run_child(char** argv, bool tty, const sigset_t& mask, const struct sigaction* actions) {
  // Its own process group, as tini does, so that a shell's job control starts from a clean
  // slate; with a terminal, that group is the foreground one and gets ^C, ^Z and friends.
  // tcsetpgrp from a background group would raise SIGTTOU, which is still ignored here.
  setpgid(0, 0);
  if (tty && tcsetpgrp(STDIN_FILENO, getpgrp()) < 0 && errno != ENOTTY && errno != ENXIO)
    dprintf(STDERR_FILENO, "docker-init: tcsetpgrp: %s\n", strerror(errno));
  for (size_t i = 0; i < sizeof kRestored / sizeof kRestored[0]; i++)
    sigaction(kRestored[i], &actions[i], nullptr);
  sigprocmask(SIG_SETMASK, &mask, nullptr);
  execvp(argv[0], argv);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && strcmp(argv[1], "--version") == 0) {
    printf("berth-init version %s\n", BERTH_VERSION);
    return 0;
  }
  bool to_group = false;
  int first = 1;
  for (; first < argc && argv[first][0] == '-'; first++) {
    if (strcmp(argv[first], "--") == 0) {
      first++;
      break;
    }
    if (strcmp(argv[first], "-g") != 0) return usage();
    to_group = true;
  }
  if (first >= argc) return usage();

  // Every signal but the few above waits in the queue for the loop below. Blocked signals
  // also reach a PID 1 that has no handler for them, where the kernel drops unblocked ones.
  sigset_t waited, saved_mask;
  sigfillset(&waited);
  for (int sig : kNotForwarded) sigdelset(&waited, sig);
  sigprocmask(SIG_SETMASK, &waited, &saved_mask);
  struct sigaction saved[sizeof kRestored / sizeof kRestored[0]];
  struct sigaction act = {};
  sigemptyset(&act.sa_mask);
  for (size_t i = 0; i < sizeof kRestored / sizeof kRestored[0]; i++) {
    // SIGCHLD ignored (inherited through exec) would make the kernel reap the child itself,
    // and its exit status would be lost.
    act.sa_handler = kRestored[i] == SIGCHLD ? SIG_DFL : SIG_IGN;
    sigaction(kRestored[i], &act, &saved[i]);
  }
  // Not PID 1 (a shared PID namespace): orphans must still come here to be reaped.
  if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
    dprintf(STDERR_FILENO, "docker-init: cannot become a subreaper: %s\n", strerror(errno));
  bool tty = isatty(STDIN_FILENO);
  // Without a terminal the runtime may leave init in the session of the process that
  // started it, outside the container; a session of its own keeps the container's process
  // groups apart from it. With one, init already leads the session that owns the terminal.
  if (!tty) setsid();

  pid_t child = fork();
  if (child < 0) {
    dprintf(STDERR_FILENO, "docker-init: fork: %s\n", strerror(errno));
    return 1;
  }
  if (child == 0) {
    run_child(argv + first, tty, saved_mask, saved);
    int err = errno;
    dprintf(STDERR_FILENO, "docker-init: exec %s: %s\n", argv[first], strerror(err));
    // The shell's codes for a command not found and one not executable.
    _exit(err == ENOENT ? 127 : err == EACCES ? 126 : 1);
  }

  for (;;) {
    siginfo_t info;
    if (sigwaitinfo(&waited, &info) < 0) continue;  // EINTR: nothing arrived
    if (info.si_signo != SIGCHLD) {
      // ESRCH: the child is gone and its SIGCHLD is on the way; nothing is left to signal.
      kill(to_group ? -child : child, info.si_signo);
      continue;
    }
    // One SIGCHLD may stand for many exits: reap until none is left.
    int status = 0, code = -1;
    for (pid_t pid; (pid = waitpid(-1, &status, WNOHANG)) > 0;)
      if (pid == child) code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    // The rest of the container dies with PID 1, as it would with the command as PID 1.
    if (code >= 0) return code;
  }
}

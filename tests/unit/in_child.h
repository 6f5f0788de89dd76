// Runs test code that changes the process (capabilities, seccomp, rlimits) in a forked child,
// so the test process keeps its privileges.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>

namespace berth::testing {

// Returns the child's wait status: exit 0 when fn returned true, 1 when it returned false,
// 2 when it threw.
template <class Fn>
int in_child(Fn&& fn) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int rc = 2;
    try {
      rc = fn() ? 0 : 1;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child: %s\n", e.what());
    }
    ::_exit(rc);
  }
  int status = -1;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) ADD_FAILURE() << "fork/wait failed";
  return status;
}

// Child side: true when rc is -1 with errno `err` (or, for err 0, rc is not -1); says what
// happened on stderr otherwise, since the child cannot use gtest assertions.
inline bool check_result(long rc, int err, const char* what) {
  int got = rc == -1 ? errno : 0;
  if (got == err) return true;
  std::fprintf(stderr, "child: %s: expected %s, got rc %ld (%s)\n", what,
               err ? std::strerror(err) : "success", rc, got ? std::strerror(got) : "success");
  return false;
}

inline bool check(bool ok, const char* what) {
  if (!ok) std::fprintf(stderr, "child: check failed: %s\n", what);
  return ok;
}

}  // namespace berth::testing

#define EXPECT_CHILD_OK(status)                                                 \
  do {                                                                          \
    int s_ = (status);                                                          \
    EXPECT_TRUE(WIFEXITED(s_) && WEXITSTATUS(s_) == 0) << "wait status " << s_; \
  } while (0)

#include "base/crash_log.h"

#include <execinfo.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <memory>
#include <string>

namespace berth {
namespace {

const char* g_program = "berth";

// Only async-signal-safe calls from here on: write(2), backtrace_symbols_fd.
void say(const char* text) {
  ssize_t ignored = ::write(STDERR_FILENO, text, ::strlen(text));
  (void)ignored;
}

void write_backtrace() {
  void* frames[64];
  int n = ::backtrace(frames, 64);
  ::backtrace_symbols_fd(frames, n, STDERR_FILENO);
}

void on_fatal_signal(int sig) {
  say(g_program);
  say(": fatal signal ");
  say(::sigabbrev_np(sig) ? ::sigabbrev_np(sig) : "?");
  say(" (");
  say(::sigdescr_np(sig) ? ::sigdescr_np(sig) : "unknown");
  say("), backtrace:\n");
  write_backtrace();
  // The default action now: a core dump where enabled, and the status a parent expects.
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void on_terminate() {
  std::string why = "terminate called without an active exception";
  if (auto e = std::current_exception()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      why = std::string("uncaught exception: ") + ex.what();
    } catch (...) {
      why = "uncaught exception of an unknown type";
    }
  }
  say(g_program);
  say(": ");
  say(why.c_str());
  say(", backtrace:\n");
  write_backtrace();
  // abort() raises SIGABRT, whose handler must not report the same death twice.
  ::signal(SIGABRT, SIG_DFL);
  std::abort();
}

// The calling thread's alternate signal stack, given back when the thread ends.
struct AltStack {
  static constexpr size_t kSize = 64 * 1024;
  std::unique_ptr<char[]> memory{new char[kSize]};
  AltStack() {
    stack_t ss{};
    ss.ss_sp = memory.get();
    ss.ss_size = kSize;
    ::sigaltstack(&ss, nullptr);
  }
  ~AltStack() {
    stack_t ss{};
    ss.ss_flags = SS_DISABLE;
    ::sigaltstack(&ss, nullptr);
  }
};

}  // namespace

void give_thread_crash_stack() {
  thread_local AltStack stack;
}

void install_crash_log(const char* program) {
  g_program = program;
  // backtrace() loads libgcc on its first call, which is not safe inside a signal handler.
  void* warm[1];
  ::backtrace(warm, 1);
  give_thread_crash_stack();
  struct sigaction sa {};
  sa.sa_handler = on_fatal_signal;
  sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) ::sigaction(sig, &sa, nullptr);
  std::set_terminate(on_terminate);
}

}  // namespace berth

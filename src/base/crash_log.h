// A daemon that dies leaves its last words in its log: the fatal signal or the uncaught
// exception, and the stack that led there, instead of silence.
#pragma once

namespace berth {

// Installs handlers for SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGABRT (on the calling thread's
// alternate stack, so that an overflow of its stack is reported too) and a std::terminate handler.
// Each writes one line naming the program and the cause, then the backtrace, to stderr, and lets
// the process die as it would have. Call once, early in main.
void install_crash_log(const char* program);

// A thread's own alternate stack for those handlers: without one, a thread that overflows its
// stack dies silently. For threads that run what clients send (the API's connections).
void give_thread_crash_stack();

}  // namespace berth

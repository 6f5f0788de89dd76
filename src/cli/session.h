// An interactive session on a hijacked connection (run, start -a, attach, exec): output to
// the terminal, input to the container, window sizes and signals to the daemon.
#pragma once

#include <signal.h>

#include <string>
#include <vector>

#include "base/fd.h"
#include "client/client.h"

namespace berth::cli {

// Receives the signals a session handles through a signalfd. Constructed before any helper
// thread starts, so that no thread inherits a mask that lets those signals kill the client
// with the terminal still raw; the previous mask comes back when it is destroyed.
class SignalWatcher {
 public:
  explicit SignalWatcher(const std::vector<int>& signals);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;
  int fd() const { return fd_.get(); }
  int next();  // the signal that made fd() readable

 private:
  UniqueFd fd_;
  sigset_t old_{};
};

// The signals docker forwards with --sig-proxy: every catchable one but SIGCHLD, SIGPIPE,
// SIGURG and SIGWINCH (which resizes instead).
std::vector<int> proxied_signals();

struct SessionOptions {
  bool tty = false;
  bool stdin_attached = false;
  std::string detach_keys;  // bytes; checked client-side on a tty as docker does
  std::string resize_path;  // "/containers/ID/resize" or "/exec/ID/resize"; empty: none
  std::string kill_path;    // "/containers/ID/kill" when signals are proxied
};

struct SessionResult {
  bool detached = false;
  std::string error;  // the daemon's error frame, if it sent one
};

// Sends the terminal's size (stdout's, else stdin's) to resize_path; errors are ignored, as
// docker only logs them.
void resize_tty(client::ApiClient& api, const std::string& resize_path);

// Pumps until the container's output ends or the user types the detach keys.
SessionResult run_session(client::ApiClient& api, client::HijackedConn& conn,
                          const SessionOptions& o, SignalWatcher* signals);

}  // namespace berth::cli

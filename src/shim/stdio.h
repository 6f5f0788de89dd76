// The container's stdio as the shim holds it: pipes without a terminal, or the pty master
// that the container's process sends over a console socket.
#pragma once

#include <cstdint>
#include <string>

#include "base/fd.h"

namespace berth::shim {

// Docker's stream numbers, as the attach frames carry them.
enum class Stream : uint8_t { kStdout = 1, kStderr = 2 };

// Both ends of the container's pipes: the shim keeps `ours`, the container gets `theirs`.
struct Pipes {
  UniqueFd stdin_w, stdout_r, stderr_r;  // ours; stdin_w empty without --stdin
  UniqueFd stdin_r, stdout_w, stderr_w;  // theirs; stdin_r is /dev/null without --stdin
};
Pipes make_pipes(bool with_stdin);

// The runtime gives the container the caller's fds 0/1/2: this puts the container's ends
// there for the duration of create, then /dev/null, so that the shim holds no copy of them.
class StdioSwap {
 public:
  StdioSwap(int in, int out, int err);
  ~StdioSwap();
  StdioSwap(const StdioSwap&) = delete;
  StdioSwap& operator=(const StdioSwap&) = delete;
};

// A unix socket the runtime connects to during create to send the pty master (runc's
// --console-socket); removed when it goes out of scope.
class ConsoleSocket {
 public:
  explicit ConsoleSocket(std::string path);
  ~ConsoleSocket();
  ConsoleSocket(const ConsoleSocket&) = delete;
  ConsoleSocket& operator=(const ConsoleSocket&) = delete;
  const std::string& path() const { return path_; }
  // Takes the master that the container sent during create; create has returned, so it is
  // already queued on the socket and this does not block.
  UniqueFd receive_master();

 private:
  std::string path_;
  UniqueFd listener_;
};

UniqueFd listen_unix(const std::string& path);
void set_nonblocking(int fd);
void set_window_size(int pty_master, unsigned height, unsigned width);

}  // namespace berth::shim

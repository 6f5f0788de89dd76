// berthd's side of src/shim/protocol.h: starting a shim and talking to it.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/fd.h"
#include "shim/protocol.h"

namespace berth::engine {

struct ShimLaunch {
  std::string shim_binary;
  std::string id, bundle, runtime_root, socket, state_dir;
  std::string runtime_binary;  // empty: berth's runtime library
  std::vector<std::string> runtime_args;
  bool tty = false, open_stdin = false, stdin_once = false;
  std::string log_driver = "json-file";
  std::string log_path;
  std::vector<std::string> log_opts;  // "max-size=10m"
};

// Starts the shim in a session of its own (it outlives berthd) and waits until it has
// created the container. Returns the container's pid; throws with the shim's error.
pid_t spawn_shim(const ShimLaunch& l);

class ShimConnection {
 public:
  // Throws when nothing listens on the socket (the shim has exited).
  static ShimConnection connect(const std::string& socket);
  // One request of src/shim/protocol.h (with an fd passed along when `fd` >= 0) and its
  // answer; throws Error with the shim's message when it answers with an error.
  pid_t start();
  void attach(const shim::AttachRequest& r, int fd);
  void resize(unsigned height, unsigned width);
  void kill(int signal, bool all);
  // Answered when the container has exited.
  shim::ExitStatus wait();
  pid_t exec(const shim::ExecRequest& r, int fd);
  // Answered when the exec has exited: its code.
  int exec_wait(const std::string& exec_id);
  void exec_resize(const std::string& exec_id, unsigned height, unsigned width);
  int fd() const { return fd_.get(); }

 private:
  explicit ShimConnection(UniqueFd fd) : fd_(std::move(fd)) {}
  nlohmann::json call(const shim::Request& request, int fd = -1);
  nlohmann::json read_reply();
  UniqueFd fd_;
  std::string buf_;
};

}  // namespace berth::engine

// berthd's side of src/shim/protocol.h: starting a shim and talking to it.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/fd.h"

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
  // Sends one request (with an fd passed along when `fd` >= 0) and reads the reply;
  // throws Error with the shim's message when it answers {"error": ...}.
  nlohmann::json call(const nlohmann::json& request, int fd = -1);
  // Reads the next reply line; used for the long wait.
  nlohmann::json read_reply();
  int fd() const { return fd_.get(); }

 private:
  explicit ShimConnection(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
  std::string buf_;
};

}  // namespace berth::engine

// berth-shim: the monitor of one container. It creates the container with the runtime
// library (or a runtime binary such as runc), holds its stdio, writes its log, serves berthd
// on a unix socket (protocol.h), reaps it and records how it ended.
#pragma once

#include <string>
#include <vector>

namespace berth::shim {

struct Options {
  std::string id, bundle, runtime_root, socket, state_dir;
  std::string runtime_binary;  // empty: berth's runtime library
  std::vector<std::string> runtime_args;
  int ready_fd = -1;
  bool tty = false, stdin = false, stdin_once = false;
  std::string log_driver = "json-file";
  std::string log_path;
  std::vector<std::string> log_opts;  // key=value
};

// Creates the container, reports on the ready fd, and serves until the container has exited
// and its status is recorded. Returns the shim's exit code: 0, or 1 when create failed.
int run(const Options& opts);

}  // namespace berth::shim

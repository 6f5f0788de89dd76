// A connection from berthd on the shim's socket: JSON requests one per line, answered in
// order; an attach request carries the client's connection as SCM_RIGHTS.
#pragma once

#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/fd.h"

namespace berth::shim {

class ControlConn {
 public:
  explicit ControlConn(UniqueFd fd) : fd_(std::move(fd)) {}

  int fd() const { return fd_.get(); }
  // Reads what is there, with any file descriptors passed; false on an error or a line too
  // long to be a request. berthd may shut down its side after its last request and still
  // read the answers: see at_eof().
  bool receive();
  bool at_eof() const { return eof_; }
  // Nothing more to read, answer or wait for.
  bool finished() const { return eof_ && !waiting && out_.empty(); }
  // The next complete request line; none while a wait is pending, to keep answers in order.
  std::optional<std::string> next_request();
  // The oldest file descriptor passed and not yet taken.
  UniqueFd take_fd();

  void reply(const nlohmann::json& answer);
  bool flush();  // false on error
  bool has_pending() const { return !out_.empty(); }
  uint32_t events() const;

  bool waiting = false;   // a wait is pending: the container (or the exec) has not exited yet
  std::string wait_exec;  // the exec the pending wait is for; empty: the container

 private:
  UniqueFd fd_;
  bool eof_ = false;
  std::string in_, out_;
  std::deque<UniqueFd> fds_;
};

}  // namespace berth::shim

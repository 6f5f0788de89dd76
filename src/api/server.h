// The Engine API over a unix socket: one thread per connection (attach and log streams
// will hold theirs open), HTTP/1.1 keep-alive, Docker's response headers. An idle server
// hands back the memory its work took.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "api/router.h"

namespace berth::api {

class Server {
 public:
  // Binds the socket (replacing a stale one) with `mode`, e.g. 0660.
  Server(const Router& router, const std::string& socket_path, mode_t mode);
  ~Server();
  // Serves until stop(); returns after the listener is closed.
  void run();
  // Safe to call from another thread.
  void stop();

 private:
  // Waits for a connection; when none comes for a while after some were served (and none is
  // open), releases memory and returns false.
  bool wait_idle();

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::api

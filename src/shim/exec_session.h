// One process exec'd in the container (`docker exec`): its own stdio (pipes, or a pty sent
// over a console socket), at most one attached client, and its exit status. Its output goes
// only to that client: Docker does not log exec output.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/fd.h"
#include "oci/spec.h"
#include "runtime/oci_runtime.h"
#include "shim/attach.h"
#include "shim/protocol.h"

namespace berth::shim {

class ExecSession;

// What a session needs from the shim's event loop.
class ExecLoop {
 public:
  // Starts or changes watching `fd` for `owner`.
  virtual void watch(int fd, uint32_t events, ExecSession& owner) = 0;
  // Stops watching; the file is closed at the end of the epoll batch, so that no later event
  // of the batch meets a new file that reused the number.
  virtual void retire_fd(UniqueFd fd) = 0;
  virtual void retire_client(std::unique_ptr<AttachClient> client) = 0;

 protected:
  ~ExecLoop() = default;
};

class ExecSession {
 public:
  // Starts the process in the running container `container_id`; throws the runtime's
  // message (`exec: "x": executable file not found in $PATH`) when it cannot start.
  // `state_dir` holds the short-lived pid file and console socket.
  static std::unique_ptr<ExecSession> start(runtime::OciRuntime& rt,
                                            const std::string& container_id,
                                            const std::string& state_dir, ExecRequest req,
                                            UniqueFd client, ExecLoop& loop);
  ~ExecSession();

  const std::string& id() const { return id_; }
  pid_t pid() const { return pid_; }
  std::optional<int> exit_code() const { return code_; }

  void on_event(int fd, uint32_t events);
  // The process was reaped: its output is drained, its stdin closed.
  void on_exit(int wait_status);
  void resize(unsigned height, unsigned width);
  // Exited, and the client has taken its last output (or is gone).
  bool finished() const { return code_ && !client_ && !pty_ && !out_ && !err_; }
  // When a session that exited stops waiting for its output and its slow client.
  std::optional<std::chrono::steady_clock::time_point> deadline() const;
  // The deadline passed: everything is closed now.
  void expire();

 private:
  ExecSession(ExecLoop& loop, std::string id, bool tty)
      : loop_(loop), id_(std::move(id)), tty_(tty) {}
  bool read_output(UniqueFd& src, Stream stream);
  void deliver(Stream stream, std::string_view data);
  int stdin_fd() const { return tty_ ? pty_.get() : in_.get(); }
  void feed_stdin(std::string_view data);
  void flush_stdin();
  void close_stdin();
  void rewatch();
  void on_client(uint32_t events);
  void drop_client(bool hang_up);
  void close_when_done();
  void retire(UniqueFd& fd);

  ExecLoop& loop_;
  std::string id_;
  bool tty_;
  pid_t pid_ = 0;
  std::optional<int> code_;
  std::chrono::steady_clock::time_point exited_at_;
  UniqueFd out_, err_, in_, pty_;
  std::string in_buf_;
  bool in_open_ = false, in_closing_ = false;
  std::unique_ptr<AttachClient> client_;
};

}  // namespace berth::shim

// One attached client: a hijacked HTTP connection that berthd handed over. It gets the
// container's output (framed as Docker does without a tty, raw with one) and may send stdin.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/fd.h"
#include "shim/stdio.h"

namespace berth::shim {

// Docker's detach key syntax ("ctrl-p,ctrl-q", "ctrl-a,x") -> the bytes; empty means the
// default ctrl-p,ctrl-q. Throws InvalidArgument with Docker's message.
std::string parse_detach_keys(const std::string& spec);

struct AttachOptions {
  bool stdin = false, stdout = false, stderr = false;
  bool tty = false;
  std::string detach_keys;  // bytes; only honoured on tty sessions with stdin
};

class AttachClient {
 public:
  AttachClient(UniqueFd fd, AttachOptions opts);

  int fd() const { return fd_.get(); }
  bool reads_stdin() const { return opts_.stdin && !stdin_done_; }
  void stop_stdin() { stdin_done_ = true; }
  // The epoll events this client needs now; `stdin_room` is false while the container's
  // stdin buffer is full.
  uint32_t events(bool stdin_room) const;

  // Queues output of the container; false when the client is too slow and must be dropped.
  bool send(Stream stream, std::string_view data);
  // Writes what the socket takes; false on error.
  bool flush();
  bool has_pending() const { return out_.size() > sent_; }

  enum class Input { kData, kEof, kDetach, kClosed };
  // Reads from the client; bytes for the container's stdin are appended to `to_container`.
  // kEof: the client closed its sending side (end of stdin); kClosed: it is gone.
  Input read(std::string& to_container);

 private:
  UniqueFd fd_;
  AttachOptions opts_;
  bool input_done_ = false;  // the client half-closed: nothing more to read from it
  bool stdin_done_ = false;
  size_t key_pos_ = 0;  // how many detach-key bytes matched so far, held back
  std::string out_;
  size_t sent_ = 0;
};

}  // namespace berth::shim

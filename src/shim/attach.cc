#include "shim/attach.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cctype>
#include <cerrno>

#include "base/error.h"
#include "base/fs.h"

namespace berth::shim {
namespace {

// A client further behind than this is dropped, so that it never holds the container up.
constexpr size_t kMaxPending = 1 << 20;

}  // namespace

std::string parse_detach_keys(const std::string& spec) {
  if (spec.empty()) return "\x10\x11";  // ctrl-p,ctrl-q
  std::string bytes;
  for (auto& key : split(spec, ',')) {
    if (key.size() == 1) {
      bytes += key[0];
      continue;
    }
    bool ok = key.size() == 6 && key.compare(0, 5, "ctrl-") == 0;
    char c = ok ? static_cast<char>(std::tolower(static_cast<unsigned char>(key[5]))) : 0;
    if (ok && c >= 'a' && c <= 'z') {
      bytes += static_cast<char>(c - 'a' + 1);
    } else if (ok && c == '@') {
      bytes += '\0';
    } else if (ok && c >= '[' && c <= '_') {
      bytes += static_cast<char>(c - '[' + 27);  // ctrl-[ ctrl-\ ctrl-] ctrl-^ ctrl-_
    } else {
      throw InvalidArgument("Invalid detach keys (" + spec + ") provided");
    }
  }
  return bytes;
}

AttachClient::AttachClient(UniqueFd fd, AttachOptions opts)
    : fd_(std::move(fd)), opts_(std::move(opts)) {}

uint32_t AttachClient::events(bool stdin_room) const {
  // A client without stdin is still read, to notice its half-close; after that, and after
  // its stdin ended, its going away is noticed by EPOLLHUP, which epoll always reports.
  uint32_t ev = 0;
  if (!input_done_ && (opts_.stdin ? reads_stdin() && stdin_room : true))
    ev |= EPOLLIN | EPOLLRDHUP;
  if (has_pending()) ev |= EPOLLOUT;
  return ev;
}

bool AttachClient::send(Stream stream, std::string_view data) {
  if (stream == Stream::kStdout ? !opts_.stdout : !opts_.stderr) return true;
  if (out_.size() - sent_ + data.size() > kMaxPending) return false;
  if (!opts_.tty) {
    auto n = static_cast<uint32_t>(data.size());
    char header[8] = {static_cast<char>(stream),
                      0,
                      0,
                      0,
                      static_cast<char>(n >> 24),
                      static_cast<char>(n >> 16),
                      static_cast<char>(n >> 8),
                      static_cast<char>(n)};
    out_.append(header, sizeof header);
  }
  out_.append(data);
  return true;
}

bool AttachClient::flush() {
  while (has_pending()) {
    ssize_t n =
        ::send(fd_.get(), out_.data() + sent_, out_.size() - sent_, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      return false;
    }
    sent_ += static_cast<size_t>(n);
  }
  if (sent_ == out_.size()) {
    out_.clear();
    sent_ = 0;
  } else if (sent_ > kMaxPending / 2) {
    out_.erase(0, sent_);
    sent_ = 0;
  }
  return true;
}

AttachClient::Input AttachClient::read(std::string& to_container) {
  char buf[32768];
  // MSG_DONTWAIT rather than O_NONBLOCK: berthd may still share the file description.
  ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
  if (n < 0) return errno == EAGAIN || errno == EINTR ? Input::kData : Input::kClosed;
  if (n == 0) {
    // A half-close ends the client's input, not its attachment: the docker CLI shuts its
    // writing side at once when it sends no stdin, and still reads the output. A client
    // that goes away entirely is noticed by EPOLLHUP.
    input_done_ = true;
    if (!opts_.stdin) return Input::kEof;
    if (key_pos_ > 0) to_container.append(opts_.detach_keys, 0, key_pos_);
    key_pos_ = 0;
    return Input::kEof;
  }
  if (!opts_.stdin) return Input::kData;  // nothing asked it to send: discard
  std::string_view in(buf, static_cast<size_t>(n));
  if (!opts_.tty || opts_.detach_keys.empty()) {
    to_container.append(in);
    return Input::kData;
  }
  // Docker's escape proxy: bytes that may start the detach sequence are held back until it
  // either completes (the client detaches) or breaks (they go to the container after all).
  const std::string& keys = opts_.detach_keys;
  for (char c : in) {
    if (c == keys[key_pos_]) {
      if (++key_pos_ == keys.size()) return Input::kDetach;
      continue;
    }
    if (key_pos_ > 0) to_container.append(keys, 0, key_pos_);
    key_pos_ = 0;
    if (c == keys[0]) {
      key_pos_ = 1;
      if (keys.size() == 1) return Input::kDetach;
      continue;
    }
    to_container += c;
  }
  return Input::kData;
}

}  // namespace berth::shim

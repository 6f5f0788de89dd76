#include "shim/control.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace berth::shim {
namespace {

constexpr size_t kMaxRequest = 1 << 20;
constexpr size_t kMaxFdsPerMessage = 16;

}  // namespace

bool ControlConn::receive() {
  char buf[16384];
  iovec iov{buf, sizeof buf};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = ::recvmsg(fd_.get(), &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  if (n < 0) return errno == EAGAIN || errno == EINTR;
  for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; i++) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
      fds_.emplace_back(fd);
    }
  }
  if (n == 0) {
    eof_ = true;
    return true;
  }
  in_.append(buf, static_cast<size_t>(n));
  return in_.size() <= kMaxRequest;
}

std::optional<std::string> ControlConn::next_request() {
  if (waiting) return std::nullopt;
  auto nl = in_.find('\n');
  if (nl == std::string::npos) return std::nullopt;
  std::string line = in_.substr(0, nl);
  in_.erase(0, nl + 1);
  return line;
}

UniqueFd ControlConn::take_fd() {
  if (fds_.empty()) return UniqueFd();
  UniqueFd fd = std::move(fds_.front());
  fds_.pop_front();
  return fd;
}

void ControlConn::reply(const nlohmann::json& answer) {
  out_ += answer.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  out_ += '\n';
}

bool ControlConn::flush() {
  while (!out_.empty()) {
    ssize_t n = ::send(fd_.get(), out_.data(), out_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN;
    }
    out_.erase(0, static_cast<size_t>(n));
  }
  return true;
}

uint32_t ControlConn::events() const {
  uint32_t ev = eof_ ? 0 : EPOLLIN | EPOLLRDHUP;
  if (has_pending()) ev |= EPOLLOUT;
  return ev;
}

}  // namespace berth::shim

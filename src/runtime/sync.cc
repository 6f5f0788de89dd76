#include "runtime/sync.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "base/error.h"

namespace berth::runtime {

namespace {
constexpr size_t kMaxMessage = 65536;
}

void sync_send(int fd, SyncType type, const std::string& payload) {
  std::vector<char> buf(sizeof(uint32_t) + payload.size());
  auto t = static_cast<uint32_t>(type);
  std::memcpy(buf.data(), &t, sizeof t);
  std::memcpy(buf.data() + sizeof t, payload.data(), payload.size());
  if (buf.size() > kMaxMessage) buf.resize(kMaxMessage);
  while (::send(fd, buf.data(), buf.size(), MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) throw_errno("sync send");
  }
}

SyncMessage sync_receive(int fd) {
  std::vector<char> buf(kMaxMessage);
  ssize_t n;
  while ((n = ::recv(fd, buf.data(), buf.size(), 0)) < 0) {
    if (errno != EINTR) throw_errno("sync receive");
  }
  SyncMessage m;
  if (n < static_cast<ssize_t>(sizeof(uint32_t))) return m;
  uint32_t t;
  std::memcpy(&t, buf.data(), sizeof t);
  m.type = static_cast<SyncType>(t);
  m.payload.assign(buf.data() + sizeof t, static_cast<size_t>(n) - sizeof t);
  return m;
}

}  // namespace berth::runtime

#include "base/lock_file.h"

#include <fcntl.h>
#include <unistd.h>

#include "base/error.h"

namespace berth {
namespace {

struct flock whole_file(short type) {
  struct flock l {};
  l.l_type = type;
  l.l_whence = SEEK_SET;
  return l;
}

}  // namespace

UniqueFd hold_lock(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) throw_errno("open " + path);
  auto l = whole_file(F_WRLCK);
  if (::fcntl(fd.get(), F_SETLK, &l) < 0) throw_errno("lock " + path);
  return fd;
}

std::optional<pid_t> lock_holder(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return std::nullopt;
    throw_errno("open " + path);
  }
  auto l = whole_file(F_WRLCK);
  if (::fcntl(fd.get(), F_GETLK, &l) < 0) throw_errno("query the lock of " + path);
  if (l.l_type == F_UNLCK) return std::nullopt;
  return l.l_pid;
}

}  // namespace berth

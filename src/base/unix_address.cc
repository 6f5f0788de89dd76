#include "base/unix_address.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <cstring>

#include "base/error.h"

namespace berth {

UnixAddress unix_address(const std::string& path) {
  UnixAddress a;
  a.addr.sun_family = AF_UNIX;
  std::string p = path;
  auto slash = p.rfind('/');
  if (p.size() >= sizeof a.addr.sun_path && slash != std::string::npos) {
    std::string dir = slash == 0 ? "/" : p.substr(0, slash);
    a.dir.reset(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!a.dir) throw_errno("open " + dir);
    p = "/proc/self/fd/" + std::to_string(a.dir.get()) + p.substr(slash);
  }
  if (p.size() >= sizeof a.addr.sun_path)
    throw Error("socket path too long (" + std::to_string(path.size()) + " bytes): " + path);
  std::memcpy(a.addr.sun_path, p.c_str(), p.size() + 1);
  return a;
}

}  // namespace berth

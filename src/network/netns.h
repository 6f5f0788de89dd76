// Network namespaces kept alive by a bind mount of their nsfs file, as `ip netns` does, so
// that berthd wires a container's network before its process exists.
#pragma once

#include <string>

#include "base/fd.h"

namespace berth::network {

// Creates a new network namespace with lo up and IPv6 off for the links added to it later, and
// binds it at `path` (its directory is made a private mount point once). The calling thread's
// own namespace is left unchanged.
void create_netns(const std::string& path);
// Unmounts and unlinks; a missing path is not an error.
void remove_netns(const std::string& path);
// O_RDONLY|O_CLOEXEC fd of a namespace file (a bound one or /proc/PID/ns/net).
UniqueFd open_netns(const std::string& path);

// Puts the calling thread back into the network namespace it was in at construction when
// destroyed, so that no path out of code that enters another one (setns, unshare) leaves the
// thread there, where every socket it opened later would land.
class NetnsGuard {
 public:
  NetnsGuard();
  ~NetnsGuard();
  NetnsGuard(const NetnsGuard&) = delete;
  NetnsGuard& operator=(const NetnsGuard&) = delete;

 private:
  UniqueFd saved_;
};

}  // namespace berth::network

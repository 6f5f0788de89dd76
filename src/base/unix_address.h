// Unix socket addresses for paths of any length.
#pragma once

#include <sys/un.h>

#include <string>

#include "base/fd.h"

namespace berth {

// A path longer than sun_path (a deep exec root) is reached through its directory as
// /proc/self/fd/N/NAME; `dir` holds N open until the bind or connect is done.
struct UnixAddress {
  sockaddr_un addr{};
  UniqueFd dir;
};

// Throws Error naming the path when even the short form does not fit.
UnixAddress unix_address(const std::string& path);

}  // namespace berth

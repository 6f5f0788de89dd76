// A file whose POSIX write lock says that a process is at some stage of its work, for
// another process to see, even one that starts after a crash: the kernel drops the lock with
// its holder, however that ends.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "base/fd.h"

namespace berth {

// Creates `path` (0600) and takes its write lock; held until the fd is closed. Throws when
// another process holds it.
UniqueFd hold_lock(const std::string& path);
// The pid of the process that holds `path`'s lock, if one does.
std::optional<pid_t> lock_holder(const std::string& path);

}  // namespace berth

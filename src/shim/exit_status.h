// How the container ended, seen from the shim: the exit code of a wait status, the OOM
// killer's count, and exit.json (ExitStatus is in protocol.h).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "shim/protocol.h"

namespace berth::shim {

// The shell's view of a wait status: the exit code, or 128+signal.
int exit_code(int wait_status);

// The memory cgroup's OOM kill counter of a live process: the file is found while the
// process lives, and read again once it has exited (the cgroup is still there until the
// runtime deletes it).
class OomCounter {
 public:
  OomCounter() = default;
  OomCounter(pid_t pid, const std::string& cgroup_root);
  // How much the counter has grown since construction.
  uint64_t kills() const;

 private:
  std::string file_;
  uint64_t initial_ = 0;
};

void write_exit_file(const std::string& state_dir, const ExitStatus& status);

}  // namespace berth::shim

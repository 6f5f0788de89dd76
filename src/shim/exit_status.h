// How the container ended: its exit code, when, and whether the kernel's OOM killer was
// involved; recorded in <state-dir>/exit.json for a berthd that was not there to ask.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace berth::shim {

struct ExitStatus {
  int code = 0;
  std::string finished_at;  // RFC 3339
  bool oom_killed = false;
  uint64_t oom_kills = 0;  // how many processes the OOM killer took in this run

  nlohmann::json to_json() const;
};

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

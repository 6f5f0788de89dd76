#include "shim/exit_status.h"

#include <sys/wait.h>

#include <optional>

#include "base/fs.h"
#include "shim/protocol.h"

namespace berth::shim {
namespace {

// The "oom_kill N" line of memory.oom_control (v1, kernels >= 4.13) or memory.events (v2).
std::optional<uint64_t> read_oom_kills(const std::string& file) {
  if (file.empty()) return std::nullopt;
  try {
    auto text = read_file_if_exists(file);
    if (!text) return std::nullopt;
    for (auto& line : split(*text, '\n'))
      if (line.rfind("oom_kill ", 0) == 0) return std::stoull(line.substr(9));
  } catch (const std::exception&) {
    // Best effort: an unreadable counter reports no OOM kill.
  }
  return std::nullopt;
}

}  // namespace

int exit_code(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 255;
}

OomCounter::OomCounter(pid_t pid, const std::string& cgroup_root) {
  // The process's own view of its cgroups names the memory cgroup on v1 ("N:memory:/p",
  // possibly with other controllers) and the unified one on v2 ("0::/p"). On the hybrid
  // layout the unified hierarchy has no memory controller, so v1 wins.
  std::string v1, v2;
  try {
    for (auto& line : split(read_file("/proc/" + std::to_string(pid) + "/cgroup"), '\n')) {
      auto fields = split(line, ':');
      if (fields.size() < 3) continue;
      std::string path = line.substr(fields[0].size() + fields[1].size() + 2);
      if (fields[1].empty()) v2 = path;
      for (auto& c : split(fields[1], ','))
        if (c == "memory") v1 = path;
    }
  } catch (const std::exception&) {
    return;  // best effort: no cgroup, no OOM report
  }
  if (!v1.empty()) {
    file_ = path_join(path_join(cgroup_root, "memory"), v1) + "/memory.oom_control";
  } else if (!v2.empty() && path_exists(path_join(cgroup_root, "cgroup.controllers"))) {
    file_ = path_join(cgroup_root, v2) + "/memory.events";
  }
  initial_ = read_oom_kills(file_).value_or(0);
}

uint64_t OomCounter::kills() const {
  uint64_t now = read_oom_kills(file_).value_or(0);
  return now > initial_ ? now - initial_ : 0;
}

void write_exit_file(const std::string& state_dir, const ExitStatus& status) {
  write_file_atomic(path_join(state_dir, kExitFile), status.to_json().dump() + "\n", 0644,
                    Durability::kCrashSafe);
}

}  // namespace berth::shim

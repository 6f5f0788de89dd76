// Control groups for one container, on cgroup v1 (including the hybrid layout with a
// cgroup2 mount at /sys/fs/cgroup/unified) and on the pure v2 unified hierarchy.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "oci/spec.h"

namespace berth::runtime {

enum class CgroupLayout { kV1, kV2 };

// v2 when `fs_root` itself is a cgroup2 mount (or a tree with cgroup.controllers at its top,
// as the tests' fake cgroupfs has); otherwise v1, with or without a unified sub-mount.
CgroupLayout detect_cgroup_layout(const std::string& fs_root = "/sys/fs/cgroup");

class Cgroup {
 public:
  virtual ~Cgroup() = default;
  // Creates the cgroup in every hierarchy; existing directories are reused.
  virtual void create() = 0;
  virtual void add_process(pid_t pid) = 0;
  // Moves the calling (single-threaded) process into the cgroup. On v1 it writes thread id
  // 0 to `tasks`, which the kernel does without the global threadgroup lock that makes a
  // cgroup.procs write of another process take tens of milliseconds.
  //
  // `below` (exec --cgroup) names a sub-cgroup to join instead, per v1 controller, or for
  // every controller under the key "": "cpu" -> "sub" joins <cgroup>/sub in the cpu (and
  // cpuacct, when mounted together) hierarchy. It must exist.
  virtual void join_self(const std::map<std::string, std::string>& below = {}) const = 0;
  // Writes the limits; unset fields are left as they are. Errors name the file and value.
  virtual void apply(const oci::Resources& resources) = 0;
  virtual std::vector<pid_t> pids() const = 0;
  virtual void freeze(bool frozen) = 0;
  virtual bool frozen() const = 0;
  // How many times the kernel's OOM killer struck in the cgroup (0 where it does not say).
  virtual uint64_t oom_kills() const = 0;
  // runc's `events --stats` "data" object: cpu, memory, pids, blkio (and hugetlb where known).
  virtual nlohmann::json stats() const = 0;
  // Removes the cgroup directories; the processes must be gone. Missing ones are fine.
  virtual void destroy() = 0;
  // Mounts this container's view of the cgroup filesystem at `target` (inside the container's
  // mount namespace, after it joined its cgroup namespace). `flags` are MS_* mount flags.
  virtual void mount_into(const std::string& target, unsigned long flags) const = 0;
  // The directory of the cgroup (v2) or of its memory controller (v1), for messages.
  virtual std::string describe() const = 0;
};

// `cgroups_path` is linux.cgroupsPath: absolute paths are taken from the hierarchy root,
// relative ones below the calling process's own cgroup; `slice:prefix:name` (systemd form)
// maps to /slice/prefix-name.scope.
std::unique_ptr<Cgroup> open_cgroup(const std::string& cgroups_path,
                                    const std::string& fs_root = "/sys/fs/cgroup");
std::unique_ptr<Cgroup> open_cgroup(const std::string& cgroups_path, CgroupLayout layout,
                                    const std::string& fs_root);

}  // namespace berth::runtime

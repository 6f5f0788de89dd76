// Private to the runtime's cgroups: the controllers, one file each with its v1 and v2 sides
// together, so that a knob is mapped onto both versions in one place. cgroup/v1.cc and
// cgroup/v2.cc hold the hierarchies and call these in a fixed order.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "oci/spec.h"

namespace berth::runtime {

// One controller's files on one cgroup version. `dir` is the container's cgroup in the
// controller's own hierarchy (v1) or in the unified one (v2).
struct Controller {
  const char* name;
  // Writes the controller's part of the resources; unset fields are left as they are.
  // Null when the controller has nothing to write.
  void (*apply)(const std::string& dir, const oci::Resources& r);
  // Adds the controller's part of runc's `events --stats` data to `out`; null when it has none.
  void (*stats)(const std::string& dir, nlohmann::json& out);
};

extern const Controller kDevicesV1, kDevicesV2;
extern const Controller kMemoryV1, kMemoryV2;
extern const Controller kCpuV1, kCpuacctV1, kCpuV2;
extern const Controller kCpusetV1, kCpusetV2;
extern const Controller kPidsV1, kPidsV2;
extern const Controller kBlkioV1, kIoV2;
extern const Controller kHugetlbV1, kHugetlbV2;

// The oom_kill counter of memory.oom_control (v1) or memory.events (v2) in `dir`.
uint64_t oom_kill_count(const std::string& memory_dir, bool v2);

// Makes `dir` and its missing ancestors below `mount` in the v1 cpuset hierarchy.
void create_cpuset_v1(const std::string& mount, const std::string& dir);

// Freezes or thaws every task of the cgroup and returns once the kernel says it is done.
void freeze_v1(const std::string& dir, bool frozen);
bool frozen_v1(const std::string& dir);
void freeze_v2(const std::string& dir, bool frozen);
bool frozen_v2(const std::string& dir);

}  // namespace berth::runtime

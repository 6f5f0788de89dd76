// Private to the runtime module: the two cgroup implementations (cgroup/v1.cc, cgroup/v2.cc)
// and the helpers they and the controllers in cgroup/ share.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/cgroups.h"

namespace berth::runtime {

// linux.cgroupsPath -> a path from the hierarchy root. `own` is the caller's own cgroup in
// that hierarchy, the base of relative paths.
std::string resolve_cgroup_path(const std::string& cgroups_path, const std::string& own);

// The caller's own cgroup for a v1 controller (or "" for v2's "0::" line).
std::string own_cgroup(const std::string& controller);

// Writes `value` to an existing control file; the error names the file and the value.
void write_control(const std::string& dir, const std::string& file, const std::string& value);
std::string read_control(const std::string& dir, const std::string& file);
// A counter or limit file as a number for stats: 0 when missing or not a number ("max").
uint64_t read_number(const std::string& dir, const std::string& file);
std::vector<pid_t> read_procs(const std::string& dir);
// rmdir that waits out the moment after the last process exited (EBUSY).
void remove_cgroup_dir(const std::string& dir);
// "k v" lines (memory.stat, cpu.stat) into a JSON object of numbers.
nlohmann::json parse_flat_keyed(const std::string& text);
// "MAJ:MIN" or "*" for a missing or negative number.
std::string device_numbers(std::optional<int64_t> major, std::optional<int64_t> minor);

std::unique_ptr<Cgroup> make_cgroup_v1(const std::string& cgroups_path, const std::string& fs_root);
std::unique_ptr<Cgroup> make_cgroup_v2(const std::string& cgroups_path, const std::string& fs_root);

// Device rules on v2: an eBPF program attached to the cgroup directory.
void attach_device_filter(const std::string& cgroup_dir, const std::vector<oci::DeviceRule>& rules);

// Conversions runc uses between the OCI (v1-shaped) values and v2 files.
uint64_t cpu_shares_to_weight(uint64_t shares);
uint64_t blkio_weight_to_io_weight(uint64_t weight);

}  // namespace berth::runtime

// The OCI runtime spec (config.json) as plain structs, parsed with errors that name the field.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

namespace berth::oci {

struct Rlimit {
  std::string type;  // RLIMIT_NOFILE, ...
  uint64_t hard = 0;
  uint64_t soft = 0;
};

struct Capabilities {
  std::vector<std::string> bounding, effective, inheritable, permitted, ambient;
};

struct User {
  uid_t uid = 0;
  gid_t gid = 0;
  std::optional<mode_t> umask;
  std::vector<gid_t> additional_gids;
};

struct ConsoleSize {
  unsigned height = 0, width = 0;
};

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  User user;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd = "/";
  std::optional<Capabilities> capabilities;
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::string apparmor_profile;
  std::optional<int> oom_score_adj;
  std::string selinux_label;
};

struct Root {
  std::string path;
  bool readonly = false;
};

struct Mount {
  std::string destination;
  std::string type;
  std::string source;
  std::vector<std::string> options;
};

struct Hook {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int> timeout;
};

struct Hooks {
  std::vector<Hook> prestart, create_runtime, create_container, start_container, poststart,
      poststop;
};

struct Namespace {
  std::string type;  // pid, network, mount, ipc, uts, user, cgroup, time
  std::string path;
};

struct IdMapping {
  uint32_t container_id = 0, host_id = 0, size = 0;
};

struct Device {
  std::string type;  // c, b, u, p
  std::string path;
  int64_t major = 0, minor = 0;
  std::optional<mode_t> file_mode;
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
};

struct DeviceRule {
  bool allow = false;
  std::string type;  // a, c, b
  std::optional<int64_t> major, minor;
  std::string access;  // rwm
};

struct MemoryResources {
  std::optional<int64_t> limit, reservation, swap, kernel, kernel_tcp;
  std::optional<uint64_t> swappiness;
  std::optional<bool> disable_oom_killer;
};

struct CpuResources {
  std::optional<uint64_t> shares;
  std::optional<int64_t> quota;
  std::optional<uint64_t> period;
  std::optional<int64_t> realtime_runtime;
  std::optional<uint64_t> realtime_period;
  std::string cpus, mems;
};

struct BlockIoDevice {
  int64_t major = 0, minor = 0;
  std::optional<uint16_t> weight, leaf_weight;
  uint64_t rate = 0;  // for throttle entries
};

struct BlockIoResources {
  std::optional<uint16_t> weight, leaf_weight;
  std::vector<BlockIoDevice> weight_device;
  std::vector<BlockIoDevice> throttle_read_bps, throttle_write_bps, throttle_read_iops,
      throttle_write_iops;
};

struct HugepageLimit {
  std::string page_size;
  uint64_t limit = 0;
};

struct Resources {
  std::vector<DeviceRule> devices;
  MemoryResources memory;
  CpuResources cpu;
  std::optional<int64_t> pids_limit;
  BlockIoResources block_io;
  std::vector<HugepageLimit> hugepage_limits;
  std::map<std::string, std::string> unified;
};

struct SeccompArg {
  unsigned index = 0;
  uint64_t value = 0, value_two = 0;
  std::string op;
};

struct SeccompSyscall {
  std::vector<std::string> names;
  std::string action;
  std::optional<unsigned> errno_ret;
  std::vector<SeccompArg> args;
};

struct Seccomp {
  std::string default_action;
  std::optional<unsigned> default_errno_ret;
  std::vector<std::string> architectures;
  std::vector<std::string> flags;
  std::string listener_path;
  std::vector<SeccompSyscall> syscalls;
};

struct Linux {
  std::vector<Namespace> namespaces;
  std::vector<IdMapping> uid_mappings, gid_mappings;
  std::vector<Device> devices;
  std::optional<Resources> resources;
  std::string cgroups_path;
  std::map<std::string, std::string> sysctl;
  std::optional<Seccomp> seccomp;
  std::string rootfs_propagation;
  std::vector<std::string> masked_paths, readonly_paths;
  std::string mount_label;
  // linux.timeOffsets: clock name ("monotonic", "boottime") -> offset in nanoseconds.
  std::map<std::string, int64_t> time_offsets;

  const Namespace* find_namespace(const std::string& type) const;
};

struct Spec {
  std::string oci_version;
  std::optional<Process> process;
  Root root;
  std::string hostname, domainname;
  std::vector<Mount> mounts;
  Hooks hooks;
  std::map<std::string, std::string> annotations;
  std::optional<Linux> linux;
};

// Parses config.json text. Throws berth::Error naming the field that is wrong.
Spec parse_spec(const std::string& text);
Spec parse_spec_json(const nlohmann::json& j);
Process parse_process(const nlohmann::json& j);
Resources parse_resources(const nlohmann::json& j);

// config.json text from the typed spec, and its parts where a runtime takes them alone (exec's
// process.json, update's resources). parse_spec(write_spec(s).dump()) gives back `s`.
nlohmann::json write_spec(const Spec& s);
nlohmann::json write_process(const Process& p);
nlohmann::json write_resources(const Resources& r);
nlohmann::json write_seccomp(const Seccomp& s);

// The default config.json that `spec` writes: a busybox-friendly shell with runc's defaults.
Spec default_spec(bool rootless);

}  // namespace berth::oci

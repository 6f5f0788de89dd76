// What a container is asked to be, typed: the parts of Docker's Config and HostConfig that the
// engine applies below the API, decoded once at the door (api/) with Docker's 400 wording.
// Docker's JSON itself is kept beside it only to be echoed back by inspect.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace berth::engine {

// --pid, --ipc, --uts, --cgroupns: a namespace of the container's own (""), the host's, or
// another container's (its id once create resolved the name). IPC's "shareable" is a private
// one that others may join, and "none" a private one without /dev/shm.
struct NamespaceMode {
  enum class Kind { kPrivate, kHost, kContainer, kShareable, kNone };
  Kind kind = Kind::kPrivate;
  std::string container;

  bool host() const { return kind == Kind::kHost; }
  std::optional<std::string> joined() const {
    if (kind == Kind::kContainer) return container;
    return std::nullopt;
  }
};

// --device HOST[:CONTAINER[:PERMISSIONS]]
struct DeviceMapping {
  std::string path_on_host;
  std::string path_in_container;
  std::string permissions = "rwm";
};

// --device-cgroup-rule 'c 1:3 rwm'
struct DeviceRule {
  char type = 'a';                      // a, c or b
  std::optional<int64_t> major, minor;  // nullopt: '*'
  std::string access;
};

struct Ulimit {
  std::string name;  // "nofile", as Docker names them
  int64_t soft = 0, hard = 0;
};

// --device-read-bps /dev/sda:1mb and friends.
struct ThrottleDevice {
  std::string path;
  uint64_t rate = 0;
};

struct WeightDevice {
  std::string path;
  uint16_t weight = 0;
};

// HostConfig's resources, in Docker's units; 0 or nullopt: not set.
struct Resources {
  int64_t memory = 0;
  int64_t memory_swap = 0;  // -1: unlimited swap
  int64_t memory_reservation = 0;
  std::optional<int64_t> memory_swappiness;  // -1 or nullopt: the kernel's
  bool oom_kill_disable = false;
  int64_t cpu_shares = 0;
  int64_t cpu_period = 0, cpu_quota = 0;
  int64_t nano_cpus = 0;
  int64_t cpu_realtime_period = 0, cpu_realtime_runtime = 0;
  std::string cpuset_cpus, cpuset_mems;
  uint16_t blkio_weight = 0;
  std::vector<WeightDevice> blkio_weight_device;
  std::vector<ThrottleDevice> read_bps, write_bps, read_iops, write_iops;
  std::optional<int64_t> pids_limit;  // <= 0: unlimited
};

// One of the container's mounts: from -v (Binds), --mount (Mounts), --tmpfs, the image's
// VOLUME, or another container's (--volumes-from). Decoded at the door; create resolves it
// (anonymous volumes get their name, host paths are checked) and the record keeps the result.
struct MountSpec {
  enum class Type { kBind, kVolume, kTmpfs };
  Type type = Type::kVolume;
  // bind: the host path; volume: its name ("" until create names an anonymous one).
  std::string source;
  std::string destination;  // absolute, cleaned
  bool read_only = false;
  // As the user wrote it for -v (Docker's Mode in inspect: "ro", "z", "rw,Z", ...).
  std::string mode;
  std::string propagation;     // bind: rprivate unless given
  bool non_recursive = false;  // bind: a plain bind, submounts not included
  // Read-only for the mount itself only, not the mounts below it (Docker's default since
  // API 1.44 is all of them).
  bool readonly_non_recursive = false;
  // -v creates a missing host directory; --mount refuses one.
  bool create_host_path = false;
  bool no_copy = false;  // volume: no copy of the image's content into an empty volume
  std::string subpath;   // volume: a directory inside it (--mount volume-subpath)
  // volume: how a volume created on first use is made (--mount volume-driver/opt/label).
  std::string driver;
  std::map<std::string, std::string> driver_opts, labels;
  // tmpfs: size in bytes (0: the kernel's) and mode (0: 1777), options for --tmpfs.
  int64_t tmpfs_size = 0;
  uint32_t tmpfs_mode = 0;
  std::vector<std::string> tmpfs_options;
  // Where it came from: Binds and the image's VOLUME are shown a little differently by inspect.
  enum class Origin { kBinds, kMounts, kTmpfs, kImage, kVolumesFrom };
  Origin origin = Origin::kBinds;
  bool anonymous = false;  // a volume created for this container alone (-v /ctr, VOLUME)
  std::string host_path;   // volume: its data directory once create resolved it (inspect)
};

// --volumes-from CONTAINER[:ro|:rw]
struct VolumesFrom {
  std::string container;
  std::string mode;  // "", "ro" or "rw"
};

// `docker update`: the resources given, each replacing the container's own; what is not given
// stays as it is (Docker's semantics: a zero is "not given").
struct ResourceUpdate {
  std::optional<int64_t> memory, memory_swap, memory_reservation;
  std::optional<int64_t> cpu_shares, cpu_period, cpu_quota, nano_cpus;
  std::optional<int64_t> cpu_realtime_period, cpu_realtime_runtime;
  std::optional<std::string> cpuset_cpus, cpuset_mems;
  std::optional<uint16_t> blkio_weight;
  std::optional<int64_t> pids_limit;  // <= 0: unlimited

  bool empty() const {
    return !memory && !memory_swap && !memory_reservation && !cpu_shares && !cpu_period &&
           !cpu_quota && !nano_cpus && !cpu_realtime_period && !cpu_realtime_runtime &&
           !cpuset_cpus && !cpuset_mems && !blkio_weight && !pids_limit;
  }
};

struct ContainerSpec {
  bool privileged = false;
  NamespaceMode pid, ipc, uts, cgroupns;
  std::string cgroup_parent;
  std::vector<DeviceMapping> devices;
  std::vector<DeviceRule> device_cgroup_rules;
  std::vector<std::string> group_add;  // names or ids, resolved in the image's /etc/group
  std::map<std::string, std::string> sysctls;
  int64_t shm_size = 0;  // 0: Docker's 64 MB
  std::vector<Ulimit> ulimits;
  std::optional<int> oom_score_adj;
  std::map<std::string, std::string> annotations;
  std::optional<std::vector<std::string>> masked_paths, readonly_paths;
  Resources resources;
  std::vector<MountSpec> mounts;
  std::vector<VolumesFrom> volumes_from;
};

// Stored with the container record (berth's own format, not Docker's).
void to_json(nlohmann::json& j, const ContainerSpec& s);
void from_json(const nlohmann::json& j, ContainerSpec& s);

}  // namespace berth::engine

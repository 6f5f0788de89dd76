#include "engine/container_spec.h"

// nlohmann-json 3.11.2 (Debian 12) has no std::optional support: null is "not set".
namespace nlohmann {
template <typename T>
struct adl_serializer<std::optional<T>> {
  static void to_json(json& j, const std::optional<T>& v) {
    if (v)
      j = *v;
    else
      j = nullptr;
  }
  static void from_json(const json& j, std::optional<T>& v) {
    if (j.is_null())
      v.reset();
    else
      v = j.get<T>();
  }
};
}  // namespace nlohmann

namespace berth::engine {

NLOHMANN_JSON_SERIALIZE_ENUM(NamespaceMode::Kind, {{NamespaceMode::Kind::kPrivate, "private"},
                                                   {NamespaceMode::Kind::kHost, "host"},
                                                   {NamespaceMode::Kind::kContainer, "container"},
                                                   {NamespaceMode::Kind::kShareable, "shareable"},
                                                   {NamespaceMode::Kind::kNone, "none"}})

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(NamespaceMode, kind, container)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DeviceMapping, path_on_host, path_in_container,
                                                permissions)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DeviceRule, type, major, minor, access)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Ulimit, name, soft, hard)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ThrottleDevice, path, rate)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(WeightDevice, path, weight)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Resources, memory, memory_swap, memory_reservation,
                                                memory_swappiness, oom_kill_disable, cpu_shares,
                                                cpu_period, cpu_quota, nano_cpus,
                                                cpu_realtime_period, cpu_realtime_runtime,
                                                cpuset_cpus, cpuset_mems, blkio_weight,
                                                blkio_weight_device, read_bps, write_bps, read_iops,
                                                write_iops, pids_limit)

NLOHMANN_JSON_SERIALIZE_ENUM(MountSpec::Type, {{MountSpec::Type::kBind, "bind"},
                                               {MountSpec::Type::kVolume, "volume"},
                                               {MountSpec::Type::kTmpfs, "tmpfs"}})
NLOHMANN_JSON_SERIALIZE_ENUM(MountSpec::Origin, {{MountSpec::Origin::kBinds, "binds"},
                                                 {MountSpec::Origin::kMounts, "mounts"},
                                                 {MountSpec::Origin::kTmpfs, "tmpfs"},
                                                 {MountSpec::Origin::kImage, "image"},
                                                 {MountSpec::Origin::kVolumesFrom, "volumes-from"}})
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(MountSpec, type, source, destination, read_only,
                                                mode, propagation, non_recursive, readonly_non_recursive, create_host_path,
                                                no_copy, subpath, driver, driver_opts, labels,
                                                tmpfs_size, tmpfs_mode, tmpfs_options, origin,
                                                anonymous, host_path)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(VolumesFrom, container, mode)

void to_json(nlohmann::json& j, const ContainerSpec& s) {
  j = {{"privileged", s.privileged},
       {"pid", s.pid},
       {"ipc", s.ipc},
       {"uts", s.uts},
       {"cgroupns", s.cgroupns},
       {"cgroup_parent", s.cgroup_parent},
       {"devices", s.devices},
       {"device_cgroup_rules", s.device_cgroup_rules},
       {"group_add", s.group_add},
       {"sysctls", s.sysctls},
       {"shm_size", s.shm_size},
       {"ulimits", s.ulimits},
       {"oom_score_adj", s.oom_score_adj},
       {"annotations", s.annotations},
       {"masked_paths", s.masked_paths},
       {"readonly_paths", s.readonly_paths},
       {"resources", s.resources},
       {"mounts", s.mounts},
       {"volumes_from", s.volumes_from}};
}

void from_json(const nlohmann::json& j, ContainerSpec& s) {
  // A key a record written by an older berthd lacks keeps its default.
  auto get = [&](const char* key, auto& field) {
    if (auto it = j.find(key); it != j.end()) it->get_to(field);
  };
  s = ContainerSpec{};
  get("privileged", s.privileged);
  get("pid", s.pid);
  get("ipc", s.ipc);
  get("uts", s.uts);
  get("cgroupns", s.cgroupns);
  get("cgroup_parent", s.cgroup_parent);
  get("devices", s.devices);
  get("device_cgroup_rules", s.device_cgroup_rules);
  get("group_add", s.group_add);
  get("sysctls", s.sysctls);
  get("shm_size", s.shm_size);
  get("ulimits", s.ulimits);
  get("oom_score_adj", s.oom_score_adj);
  get("annotations", s.annotations);
  get("masked_paths", s.masked_paths);
  get("readonly_paths", s.readonly_paths);
  get("resources", s.resources);
  get("mounts", s.mounts);
  get("volumes_from", s.volumes_from);
}

}  // namespace berth::engine

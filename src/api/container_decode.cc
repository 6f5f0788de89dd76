#include "api/container_decode.h"

#include <unistd.h>

#include <algorithm>
#include <set>

#include "api/container_fields.h"
#include "api/field_names.h"
#include "api/mount_decode.h"
#include "base/error.h"

namespace berth::api {
namespace {

using engine::NamespaceMode;
using nlohmann::json;

constexpr int64_t kMinMemory = 6 << 20;  // dockerd's linuxMinMemory

std::string str(const json& hc, const char* key) {
  auto it = hc.find(key);
  return it != hc.end() && it->is_string() ? it->get<std::string>() : "";
}

int64_t num(const json& hc, const char* key) {
  auto it = hc.find(key);
  if (it == hc.end() || !it->is_number()) return 0;
  auto n = as_int64(*it);
  if (!n)
    throw InvalidArgument("json: cannot unmarshal number " + it->dump() + " into Go struct field " +
                          key + " of type int64");
  return *n;
}

std::vector<std::string> strings(const json& hc, const char* key) {
  auto it = hc.find(key);
  if (it == hc.end() || it->is_null()) return {};
  if (it->is_string()) return {it->get<std::string>()};
  return it->get<std::vector<std::string>>();
}

std::map<std::string, std::string> string_map(const json& hc, const char* key) {
  std::map<std::string, std::string> out;
  auto it = hc.find(key);
  if (it == hc.end() || !it->is_object()) return out;
  for (auto& [k, v] : it->items()) out[k] = v.is_string() ? v.get<std::string>() : "";
  return out;
}

// The entries of an array of objects, each checked to be an object.
std::vector<json> objects(const json& hc, const char* key) {
  std::vector<json> out;
  auto it = hc.find(key);
  if (it == hc.end() || !it->is_array()) return out;
  for (auto& e : *it) {
    if (!e.is_object())
      throw InvalidArgument(std::string("json: cannot unmarshal ") + e.type_name() +
                            " into Go struct field HostConfig." + key);
    out.push_back(e);
  }
  return out;
}

// "", "host", "container:NAME", and the extra words a mode allows.
NamespaceMode namespace_mode(const std::string& v, const char* what,
                             std::initializer_list<const char*> also_private, bool container_ok) {
  NamespaceMode m;
  if (v.empty()) return m;
  if (v == "host") {
    m.kind = NamespaceMode::Kind::kHost;
    return m;
  }
  for (auto* p : also_private)
    if (v == p) {
      if (v == std::string("shareable")) m.kind = NamespaceMode::Kind::kShareable;
      if (v == std::string("none")) m.kind = NamespaceMode::Kind::kNone;
      return m;
    }
  if (container_ok && v.rfind("container:", 0) == 0 && v.size() > 10) {
    m.kind = NamespaceMode::Kind::kContainer;
    m.container = v.substr(10);
    return m;
  }
  throw InvalidArgument(std::string("invalid ") + what + " mode: " + v);
}

engine::DeviceRule device_rule(const std::string& text) {
  // "TYPE MAJOR:MINOR ACCESS", where MAJOR and MINOR may be '*'.
  auto bad = [&]() -> InvalidArgument {
    return InvalidArgument("invalid device cgroup format '" + text + "'");
  };
  engine::DeviceRule r;
  auto sp1 = text.find(' ');
  auto sp2 = sp1 == std::string::npos ? sp1 : text.find(' ', sp1 + 1);
  if (sp1 != 1 || sp2 == std::string::npos) throw bad();
  r.type = text[0];
  if (r.type != 'a' && r.type != 'c' && r.type != 'b') throw bad();
  std::string nums = text.substr(sp1 + 1, sp2 - sp1 - 1);
  r.access = text.substr(sp2 + 1);
  auto colon = nums.find(':');
  if (colon == std::string::npos) throw bad();
  auto number = [&](const std::string& s) -> std::optional<int64_t> {
    if (s == "*") return std::nullopt;
    if (s.empty() || !std::all_of(s.begin(), s.end(), ::isdigit)) throw bad();
    return std::stoll(s);
  };
  r.major = number(nums.substr(0, colon));
  r.minor = number(nums.substr(colon + 1));
  if (r.access.empty() || r.access.find_first_not_of("rwm") != std::string::npos) throw bad();
  return r;
}

// Only sysctls of namespaces the container has of its own, as dockerd's validation allows.
void check_sysctl(const std::string& name, const engine::ContainerSpec& s, const json& hc) {
  static const std::set<std::string> kIpc = {
      "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
      "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
  if (kIpc.count(name) || name.rfind("fs.mqueue.", 0) == 0) {
    if (s.ipc.host())
      throw InvalidArgument("sysctl '" + name + "' is not allowed in host IPC namespace");
    return;
  }
  if (name.rfind("net.", 0) == 0) {
    if (str(hc, "NetworkMode") == "host")
      throw InvalidArgument("sysctl '" + name + "' is not allowed in host network namespace");
    return;
  }
  if (name == "kernel.domainname" || name == "kernel.hostname")
    throw InvalidArgument("sysctl '" + name + "' is not allowed: use --hostname or --domainname");
  throw InvalidArgument("sysctl '" + name + "' is not allowed: it is not namespaced");
}

void check_resources(const engine::Resources& r, bool update = false) {
  if (r.memory != 0 && r.memory < kMinMemory)
    throw InvalidArgument("Minimum memory limit allowed is 6MB");
  if (r.memory > 0 && r.memory_swap > 0 && r.memory_swap < r.memory)
    throw InvalidArgument("Minimum memoryswap limit should be larger than memory limit, see usage");
  if (r.memory == 0 && r.memory_swap > 0 && !update)
    throw InvalidArgument(
        "You should always set the Memory limit when using Memoryswap limit, see usage");
  if (r.memory_swappiness && *r.memory_swappiness != -1 &&
      (*r.memory_swappiness < 0 || *r.memory_swappiness > 100))
    throw InvalidArgument("Invalid value: " + std::to_string(*r.memory_swappiness) +
                          ", valid memory swappiness range is 0-100");
  if (r.memory_reservation != 0 && r.memory_reservation < kMinMemory)
    throw InvalidArgument("Minimum memory reservation allowed is 6MB");
  if (r.memory > 0 && r.memory_reservation > 0 && r.memory < r.memory_reservation)
    throw InvalidArgument(
        "Minimum memory limit can not be less than memory reservation limit, see usage");
  if (r.nano_cpus > 0 && r.cpu_period > 0)
    throw InvalidArgument("Conflicting options: Nano CPUs and CPU Period cannot both be set");
  if (r.nano_cpus > 0 && r.cpu_quota > 0)
    throw InvalidArgument("Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  if (r.nano_cpus < 0 || r.nano_cpus > cpus * 1'000'000'000LL ||
      (r.nano_cpus > 0 && r.nano_cpus < 10'000'000))
    throw InvalidArgument("Range of CPUs is from 0.01 to " + std::to_string(cpus) +
                          ".00, as there are only " + std::to_string(cpus) + " CPUs available");
  if (r.cpu_period != 0 && (r.cpu_period < 1000 || r.cpu_period > 1'000'000))
    throw InvalidArgument(
        "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
  if (r.cpu_quota > 0 && r.cpu_quota < 1000)
    throw InvalidArgument("CPU cfs quota can not be less than 1ms (i.e. 1000)");
  if (r.cpu_shares < 0) throw InvalidArgument("invalid CPU shares: must be positive");
  if (r.blkio_weight != 0 && (r.blkio_weight < 10 || r.blkio_weight > 1000))
    throw InvalidArgument("Range of blkio weight is from 10 to 1000");
  for (auto& d : r.blkio_weight_device)
    if (d.weight < 10 || d.weight > 1000)
      throw InvalidArgument("Range of blkio weight is from 10 to 1000");
}

engine::Resources decode_resources(const json& hc, bool update = false) {
  engine::Resources r;
  r.memory = num(hc, "Memory");
  r.memory_swap = num(hc, "MemorySwap");
  r.memory_reservation = num(hc, "MemoryReservation");
  if (auto it = hc.find("MemorySwappiness"); it != hc.end() && it->is_number())
    r.memory_swappiness = it->get<int64_t>();
  r.oom_kill_disable =
      hc.value("OomKillDisable", json(false)).is_boolean() && hc.value("OomKillDisable", false);
  r.cpu_shares = num(hc, "CpuShares");
  r.cpu_period = num(hc, "CpuPeriod");
  r.cpu_quota = num(hc, "CpuQuota");
  r.nano_cpus = num(hc, "NanoCpus");
  r.cpu_realtime_period = num(hc, "CpuRealtimePeriod");
  r.cpu_realtime_runtime = num(hc, "CpuRealtimeRuntime");
  r.cpuset_cpus = str(hc, "CpusetCpus");
  r.cpuset_mems = str(hc, "CpusetMems");
  r.blkio_weight = static_cast<uint16_t>(std::clamp<int64_t>(num(hc, "BlkioWeight"), 0, 65535));
  for (auto& d : objects(hc, "BlkioWeightDevice"))
    r.blkio_weight_device.push_back(
        {str(d, "Path"), static_cast<uint16_t>(std::clamp<int64_t>(num(d, "Weight"), 0, 65535))});
  auto throttle = [&](const char* key, std::vector<engine::ThrottleDevice>& out) {
    for (auto& d : objects(hc, key)) {
      if (num(d, "Rate") < 0) throw InvalidArgument(std::string("invalid rate for ") + key);
      out.push_back({str(d, "Path"), static_cast<uint64_t>(num(d, "Rate"))});
    }
  };
  throttle("BlkioDeviceReadBps", r.read_bps);
  throttle("BlkioDeviceWriteBps", r.write_bps);
  throttle("BlkioDeviceReadIOps", r.read_iops);
  throttle("BlkioDeviceWriteIOps", r.write_iops);
  if (auto it = hc.find("PidsLimit"); it != hc.end() && it->is_number() && it->get<int64_t>() > 0)
    r.pids_limit = it->get<int64_t>();
  check_resources(r, update);
  return r;
}

}  // namespace

engine::ResourceUpdate decode_resource_update(const json& body) {
  // What docker update can change; any other field set is refused, never dropped.
  static const std::set<std::string> kUpdatable = {
      "Memory",     "MemorySwap",  "MemoryReservation", "CpuShares",          "CpuPeriod",
      "CpuQuota",   "NanoCpus",    "CpuRealtimePeriod", "CpuRealtimeRuntime", "CpusetCpus",
      "CpusetMems", "BlkioWeight", "PidsLimit",         "RestartPolicy"};
  for (auto& [key, value] : body.items())
    if (!kUpdatable.count(key) && is_set(value))
      throw InvalidArgument("cannot update " + key +
                            ": docker update changes the memory, CPU, cpuset, block I/O weight "
                            "and pids limits and the restart policy only");
  engine::Resources r = decode_resources(body, true);
  engine::ResourceUpdate u;
  auto given = [&](const char* key) {
    auto it = body.find(key);
    return it != body.end() && is_set(*it);
  };
  if (given("Memory")) u.memory = r.memory;
  if (given("MemorySwap")) u.memory_swap = r.memory_swap;
  if (given("MemoryReservation")) u.memory_reservation = r.memory_reservation;
  if (given("CpuShares")) u.cpu_shares = r.cpu_shares;
  if (given("CpuPeriod")) u.cpu_period = r.cpu_period;
  if (given("CpuQuota")) u.cpu_quota = r.cpu_quota;
  if (given("NanoCpus")) u.nano_cpus = r.nano_cpus;
  if (given("CpuRealtimePeriod")) u.cpu_realtime_period = r.cpu_realtime_period;
  if (given("CpuRealtimeRuntime")) u.cpu_realtime_runtime = r.cpu_realtime_runtime;
  if (given("CpusetCpus")) u.cpuset_cpus = r.cpuset_cpus;
  if (given("CpusetMems")) u.cpuset_mems = r.cpuset_mems;
  if (given("BlkioWeight")) u.blkio_weight = r.blkio_weight;
  // PidsLimit is a pointer in Docker's API: 0 and -1 given mean "no limit".
  if (auto it = body.find("PidsLimit"); it != body.end() && it->is_number())
    u.pids_limit = it->get<int64_t>();
  return u;
}

engine::ContainerSpec decode_container_spec(const json& hc) {
  engine::ContainerSpec s;
  s.privileged = hc.value("Privileged", json(false)).is_boolean() && hc.value("Privileged", false);
  s.pid = namespace_mode(str(hc, "PidMode"), "PID", {}, true);
  s.ipc = namespace_mode(str(hc, "IpcMode"), "IPC", {"private", "shareable", "none"}, true);
  s.uts = namespace_mode(str(hc, "UTSMode"), "UTS", {}, false);
  s.cgroupns = namespace_mode(str(hc, "CgroupnsMode"), "cgroup namespace", {"private"}, false);
  if (auto u = str(hc, "UsernsMode"); !u.empty() && u != "host")
    throw InvalidArgument("invalid USER mode: " + u +
                          ": this berthd does not remap users (only --userns=host)");
  if (auto iso = str(hc, "Isolation"); !iso.empty() && iso != "default")
    throw InvalidArgument("invalid isolation: '" + iso + "' - linux only supports 'default'");
  s.cgroup_parent = str(hc, "CgroupParent");
  for (auto& d : objects(hc, "Devices")) {
    engine::DeviceMapping m;
    m.path_on_host = str(d, "PathOnHost");
    m.path_in_container = str(d, "PathInContainer");
    if (m.path_in_container.empty()) m.path_in_container = m.path_on_host;
    if (auto p = str(d, "CgroupPermissions"); !p.empty()) m.permissions = p;
    if (m.path_on_host.empty()) throw InvalidArgument("device: PathOnHost is empty");
    if (m.permissions.find_first_not_of("rwm") != std::string::npos)
      throw InvalidArgument("invalid device mode: " + m.permissions);
    s.devices.push_back(m);
  }
  for (auto& rule : strings(hc, "DeviceCgroupRules"))
    s.device_cgroup_rules.push_back(device_rule(rule));
  s.group_add = strings(hc, "GroupAdd");
  s.sysctls = string_map(hc, "Sysctls");
  for (auto& [k, v] : s.sysctls) check_sysctl(k, s, hc);
  s.shm_size = num(hc, "ShmSize");
  if (s.shm_size < 0) throw InvalidArgument("SHM size can not be less than 0");
  static const std::set<std::string> kUlimits = {
      "core",   "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue", "nice",
      "nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack"};
  for (auto& u : objects(hc, "Ulimits")) {
    engine::Ulimit l{str(u, "Name"), num(u, "Soft"), num(u, "Hard")};
    if (!kUlimits.count(l.name)) throw InvalidArgument("invalid ulimit type: " + l.name);
    if (l.soft > l.hard)
      throw InvalidArgument("ulimit soft limit must be less than or equal to hard limit: " +
                            std::to_string(l.soft) + " > " + std::to_string(l.hard));
    s.ulimits.push_back(l);
  }
  if (auto it = hc.find("OomScoreAdj"); it != hc.end() && it->is_number()) {
    int64_t v = it->get<int64_t>();
    if (v < -1000 || v > 1000)
      throw InvalidArgument("Invalid value " + std::to_string(v) +
                            ", range for oom score adj is [-1000, 1000]");
    if (v != 0) s.oom_score_adj = static_cast<int>(v);
  }
  s.annotations = string_map(hc, "Annotations");
  if (auto it = hc.find("MaskedPaths"); it != hc.end() && it->is_array())
    s.masked_paths = it->get<std::vector<std::string>>();
  if (auto it = hc.find("ReadonlyPaths"); it != hc.end() && it->is_array())
    s.readonly_paths = it->get<std::vector<std::string>>();
  s.resources = decode_resources(hc);
  s.mounts = decode_mounts(hc);
  s.volumes_from = decode_volumes_from(hc);
  return s;
}

namespace {

// dockerd's bounds: a duration is 0 (the default) or at least 1ms; retries are not negative.
void check_healthcheck(const json& hc) {
  for (const char* key : {"Interval", "Timeout", "StartPeriod", "StartInterval"}) {
    int64_t v = num(hc, key);
    if (v != 0 && v < 1'000'000)
      throw InvalidArgument(std::string(key) + " in Healthcheck cannot be less than 1ms");
  }
  if (num(hc, "Retries") < 0) throw InvalidArgument("Retries in Healthcheck cannot be negative");
}

}  // namespace

engine::CreateRequest decode_create_request(const std::string& name, const std::string& body_text,
                                            std::vector<std::string>& warnings) {
  json body = body_text.empty() ? json::object() : json::parse(body_text);
  if (!body.is_object()) throw InvalidArgument("container config must be a JSON object");
  engine::CreateRequest r;
  r.name = name;
  // The two nested objects are found as Go finds them: case-insensitively.
  for (auto it = body.begin(); it != body.end();) {
    std::string key = it.key();
    std::transform(key.begin(), key.end(), key.begin(), ::tolower);
    if (key == "hostconfig" || key == "networkingconfig") {
      (key == "hostconfig" ? r.host_config : r.networking) = it.value();
      it = body.erase(it);
    } else {
      ++it;
    }
  }
  if (r.host_config.is_null()) r.host_config = json::object();
  if (r.networking.is_null()) r.networking = json::object();
  r.config = std::move(body);
  check_fields("Config", r.config, warnings);
  if (auto hc = r.config.find("Healthcheck"); hc != r.config.end() && hc->is_object()) {
    check_fields("HealthConfig", *hc, warnings);
    check_healthcheck(*hc);
  }
  check_fields("HostConfig", r.host_config, warnings);
  check_fields("NetworkingConfig", r.networking, warnings);
  if (auto eps = r.networking.find("EndpointsConfig");
      eps != r.networking.end() && eps->is_object())
    for (auto& [name, ep] : eps->items()) canonical_endpoint(ep);
  // Docker's NetworkDisabled is --network none.
  if (r.config.value("NetworkDisabled", json(false)) == json(true) &&
      str(r.host_config, "NetworkMode").empty())
    r.host_config["NetworkMode"] = "none";
  r.spec = decode_container_spec(r.host_config);
  return r;
}

}  // namespace berth::api

#include "api/container_fields.h"

#include <strings.h>

#include <cmath>
#include <limits>

#include "base/error.h"

namespace berth::api {
namespace {

using nlohmann::json;
using P = FieldPolicy;
using T = FieldType;

std::vector<FieldRule> make_rules() {
  return {
      // Config
      {"Config", "Hostname", T::kString, P::kApplied, ""},
      {"Config", "Domainname", T::kString, P::kApplied, ""},
      {"Config", "User", T::kString, P::kApplied, ""},
      {"Config", "AttachStdin", T::kBool, P::kApplied, ""},
      {"Config", "AttachStdout", T::kBool, P::kApplied, ""},
      {"Config", "AttachStderr", T::kBool, P::kApplied, ""},
      {"Config", "ExposedPorts", T::kObject, P::kApplied, ""},
      {"Config", "Tty", T::kBool, P::kApplied, ""},
      {"Config", "OpenStdin", T::kBool, P::kApplied, ""},
      {"Config", "StdinOnce", T::kBool, P::kApplied, ""},
      {"Config", "Env", T::kStrings, P::kApplied, ""},
      {"Config", "Cmd", T::kStrSlice, P::kApplied, ""},
      {"Config", "Healthcheck", T::kObject, P::kApplied, ""},
      // Windows only: Linux runs the arguments as given either way.
      {"Config", "ArgsEscaped", T::kBool, P::kWarned,
       "ArgsEscaped is Windows-only and has no effect on Linux"},
      {"Config", "Image", T::kString, P::kApplied, ""},
      {"Config", "Volumes", T::kObject, P::kApplied, ""},
      {"Config", "WorkingDir", T::kString, P::kApplied, ""},
      {"Config", "Entrypoint", T::kStrSlice, P::kApplied, ""},
      {"Config", "NetworkDisabled", T::kBool, P::kApplied, ""},
      // Kept for commit, as Docker keeps them: they act on images built FROM the result.
      {"Config", "OnBuild", T::kStrings, P::kApplied, ""},
      {"Config", "Labels", T::kStringMap, P::kApplied, ""},
      {"Config", "StopSignal", T::kString, P::kApplied, ""},
      {"Config", "StopTimeout", T::kInt, P::kApplied, ""},
      {"Config", "Shell", T::kStrSlice, P::kApplied, ""},
      // API < 1.44 sends the MAC address here; the network service reads it.
      {"Config", "MacAddress", T::kString, P::kApplied, ""},

      // HostConfig: resources
      {"HostConfig", "CpuShares", T::kInt, P::kApplied, ""},
      {"HostConfig", "Memory", T::kInt, P::kApplied, ""},
      {"HostConfig", "CgroupParent", T::kString, P::kApplied, ""},
      {"HostConfig", "BlkioWeight", T::kInt, P::kApplied, ""},
      {"HostConfig", "BlkioWeightDevice", T::kArray, P::kApplied, ""},
      {"HostConfig", "BlkioDeviceReadBps", T::kArray, P::kApplied, ""},
      {"HostConfig", "BlkioDeviceWriteBps", T::kArray, P::kApplied, ""},
      {"HostConfig", "BlkioDeviceReadIOps", T::kArray, P::kApplied, ""},
      {"HostConfig", "BlkioDeviceWriteIOps", T::kArray, P::kApplied, ""},
      {"HostConfig", "CpuPeriod", T::kInt, P::kApplied, ""},
      {"HostConfig", "CpuQuota", T::kInt, P::kApplied, ""},
      {"HostConfig", "CpuRealtimePeriod", T::kInt, P::kApplied, ""},
      {"HostConfig", "CpuRealtimeRuntime", T::kInt, P::kApplied, ""},
      {"HostConfig", "CpusetCpus", T::kString, P::kApplied, ""},
      {"HostConfig", "CpusetMems", T::kString, P::kApplied, ""},
      {"HostConfig", "Devices", T::kArray, P::kApplied, ""},
      {"HostConfig", "DeviceCgroupRules", T::kStrings, P::kApplied, ""},
      {"HostConfig", "DeviceRequests", T::kArray, P::kRefused,
       "could not select device driver \"\" with capabilities: [[gpu]]"},
      {"HostConfig", "MemoryReservation", T::kInt, P::kApplied, ""},
      {"HostConfig", "MemorySwap", T::kInt, P::kApplied, ""},
      {"HostConfig", "MemorySwappiness", T::kInt, P::kApplied, ""},
      {"HostConfig", "NanoCpus", T::kInt, P::kApplied, ""},
      {"HostConfig", "OomKillDisable", T::kBool, P::kApplied, ""},
      {"HostConfig", "Init", T::kBool, P::kApplied, ""},
      {"HostConfig", "PidsLimit", T::kInt, P::kApplied, ""},
      {"HostConfig", "Ulimits", T::kArray, P::kApplied, ""},
      // Windows-only knobs: dockerd on Linux takes them without effect; berthd says so.
      {"HostConfig", "CpuCount", T::kInt, P::kWarned,
       "CpuCount is Windows-only and has no effect on Linux: use --cpus"},
      {"HostConfig", "CpuPercent", T::kInt, P::kWarned,
       "CpuPercent is Windows-only and has no effect on Linux: use --cpus"},
      {"HostConfig", "IOMaximumIOps", T::kInt, P::kRefused,
       "Invalid QoS settings: linux does not support Maximum IO Bandwidth or Maximum IO IOps"},
      {"HostConfig", "IOMaximumBandwidth", T::kInt, P::kRefused,
       "Invalid QoS settings: linux does not support Maximum IO Bandwidth or Maximum IO IOps"},
      // Removed from the API (1.42+); old clients still send it.
      {"HostConfig", "KernelMemory", T::kInt, P::kRefused,
       "kernel memory limits are not supported: --kernel-memory was removed"},
      {"HostConfig", "KernelMemoryTCP", T::kInt, P::kRefused,
       "kernel memory TCP limits are not supported: --kernel-memory-tcp was removed"},

      // HostConfig
      {"HostConfig", "Binds", T::kStrings, P::kApplied, ""},
      // The client writes the file; the daemon only echoes the name.
      {"HostConfig", "ContainerIDFile", T::kString, P::kApplied, ""},
      {"HostConfig", "LogConfig", T::kObject, P::kApplied, ""},
      {"HostConfig", "NetworkMode", T::kString, P::kApplied, ""},
      {"HostConfig", "PortBindings", T::kObject, P::kApplied, ""},
      {"HostConfig", "RestartPolicy", T::kObject, P::kApplied, ""},
      {"HostConfig", "AutoRemove", T::kBool, P::kApplied, ""},
      {"HostConfig", "VolumeDriver", T::kString, P::kApplied, ""},
      {"HostConfig", "VolumesFrom", T::kStrings, P::kApplied, ""},
      {"HostConfig", "Mounts", T::kArray, P::kApplied, ""},
      {"HostConfig", "ConsoleSize", T::kArray, P::kApplied, ""},
      {"HostConfig", "Annotations", T::kStringMap, P::kApplied, ""},
      {"HostConfig", "CapAdd", T::kStrSlice, P::kApplied, ""},
      {"HostConfig", "CapDrop", T::kStrSlice, P::kApplied, ""},
      {"HostConfig", "CgroupnsMode", T::kString, P::kApplied, ""},
      {"HostConfig", "Dns", T::kStrings, P::kApplied, ""},
      {"HostConfig", "DnsOptions", T::kStrings, P::kApplied, ""},
      {"HostConfig", "DnsSearch", T::kStrings, P::kApplied, ""},
      {"HostConfig", "ExtraHosts", T::kStrings, P::kApplied, ""},
      {"HostConfig", "GroupAdd", T::kStrings, P::kApplied, ""},
      {"HostConfig", "IpcMode", T::kString, P::kApplied, ""},
      {"HostConfig", "Cgroup", T::kString, P::kRefused,
       "sharing another container's cgroup (HostConfig.Cgroup) is not supported"},
      {"HostConfig", "Links", T::kStrings, P::kApplied, ""},
      {"HostConfig", "OomScoreAdj", T::kInt, P::kApplied, ""},
      {"HostConfig", "PidMode", T::kString, P::kApplied, ""},
      {"HostConfig", "Privileged", T::kBool, P::kApplied, ""},
      {"HostConfig", "PublishAllPorts", T::kBool, P::kApplied, ""},
      {"HostConfig", "ReadonlyRootfs", T::kBool, P::kApplied, ""},
      // Label and AppArmor options are warned about where they are parsed (security_opts).
      {"HostConfig", "SecurityOpt", T::kStrings, P::kApplied, ""},
      {"HostConfig", "StorageOpt", T::kStringMap, P::kRefused,
       "--storage-opt is supported only for overlay over xfs with 'pquota' mount option"},
      {"HostConfig", "Tmpfs", T::kStringMap, P::kApplied, ""},
      {"HostConfig", "UTSMode", T::kString, P::kApplied, ""},
      {"HostConfig", "UsernsMode", T::kString, P::kApplied, ""},
      {"HostConfig", "ShmSize", T::kInt, P::kApplied, ""},
      {"HostConfig", "Sysctls", T::kStringMap, P::kApplied, ""},
      {"HostConfig", "Runtime", T::kString, P::kApplied, ""},
      {"HostConfig", "Isolation", T::kString, P::kApplied, ""},
      {"HostConfig", "MaskedPaths", T::kStrings, P::kApplied, ""},
      {"HostConfig", "ReadonlyPaths", T::kStrings, P::kApplied, ""},

      // Config.Healthcheck, checked as a section of its own (Go's HealthConfig).
      {"HealthConfig", "Test", T::kStrings, P::kApplied, ""},
      {"HealthConfig", "Interval", T::kInt, P::kApplied, ""},
      {"HealthConfig", "Timeout", T::kInt, P::kApplied, ""},
      {"HealthConfig", "StartPeriod", T::kInt, P::kApplied, ""},
      {"HealthConfig", "StartInterval", T::kInt, P::kApplied, ""},
      {"HealthConfig", "Retries", T::kInt, P::kApplied, ""},

      {"NetworkingConfig", "EndpointsConfig", T::kObject, P::kApplied, ""},

      // POST /containers/{id}/exec and POST /exec/{id}/start.
      {"ExecConfig", "AttachStdin", T::kBool, P::kApplied, ""},
      {"ExecConfig", "AttachStdout", T::kBool, P::kApplied, ""},
      {"ExecConfig", "AttachStderr", T::kBool, P::kApplied, ""},
      {"ExecConfig", "ConsoleSize", T::kArray, P::kApplied, ""},
      {"ExecConfig", "DetachKeys", T::kString, P::kApplied, ""},
      {"ExecConfig", "Tty", T::kBool, P::kApplied, ""},
      {"ExecConfig", "Env", T::kStrings, P::kApplied, ""},
      {"ExecConfig", "Cmd", T::kStrings, P::kApplied, ""},
      {"ExecConfig", "Privileged", T::kBool, P::kApplied, ""},
      {"ExecConfig", "User", T::kString, P::kApplied, ""},
      {"ExecConfig", "WorkingDir", T::kString, P::kApplied, ""},
      {"ExecStartConfig", "Detach", T::kBool, P::kApplied, ""},
      {"ExecStartConfig", "Tty", T::kBool, P::kApplied, ""},
      {"ExecStartConfig", "ConsoleSize", T::kArray, P::kApplied, ""},
  };
}

const char* type_name(FieldType t) {
  switch (t) {
    case T::kString:
      return "string";
    case T::kInt:
      return "int64";
    case T::kBool:
      return "bool";
    case T::kStrings:
      return "[]string";
    case T::kStrSlice:
      return "strslice.StrSlice";
    case T::kStringMap:
      return "map[string]string";
    case T::kObject:
      return "object";
    case T::kArray:
      return "array";
    case T::kAny:
      break;
  }
  return "value";
}

const char* json_type_name(const json& v) {
  if (v.is_string()) return "string";
  if (v.is_number()) return "number";
  if (v.is_boolean()) return "bool";
  if (v.is_array()) return "array";
  if (v.is_object()) return "object";
  return "null";
}

}  // namespace

std::optional<int64_t> as_int64(const json& v) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  if (!v.is_number_float()) return std::nullopt;
  // Checked before converting: 2^63 and beyond, and fractions, are no int64.
  double d = v.get<double>();
  if (!(d >= -0x1p63 && d < 0x1p63) || d != std::trunc(d)) return std::nullopt;
  return static_cast<int64_t>(d);
}

namespace {

bool fits(FieldType t, const json& v) {
  if (v.is_null()) return true;  // Go leaves the field at its zero value
  switch (t) {
    case T::kString:
      return v.is_string();
    case T::kInt:
      return as_int64(v).has_value();
    case T::kBool:
      return v.is_boolean();
    case T::kStrSlice:
      if (v.is_string()) return true;
      [[fallthrough]];
    case T::kStrings:
      if (!v.is_array()) return false;
      for (auto& e : v)
        if (!e.is_string()) return false;
      return true;
    case T::kStringMap:
      if (!v.is_object()) return false;
      for (auto& [k, e] : v.items())
        if (!e.is_string() && !e.is_null()) return false;
      return true;
    case T::kObject:
      return v.is_object();
    case T::kArray:
      return v.is_array();
    case T::kAny:
      return true;
  }
  return false;
}

}  // namespace

bool is_set(const json& v) {
  if (v.is_null()) return false;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0;
  // json::empty() is false for any string: strings are not containers to it.
  if (v.is_string()) return !v.get_ref<const std::string&>().empty();
  if (v.is_array() || v.is_object()) return !v.empty();
  return true;
}

const std::vector<FieldRule>& container_field_rules() {
  static const std::vector<FieldRule> rules = make_rules();
  return rules;
}

void check_fields(std::string_view section, json& body, std::vector<std::string>& warnings) {
  if (!body.is_object()) throw InvalidArgument(std::string(section) + " must be a JSON object");
  json out = json::object();
  for (auto& [key, value] : body.items()) {
    const FieldRule* rule = nullptr;
    for (auto& r : container_field_rules())
      if (r.section == section && r.name.size() == key.size() &&
          ::strncasecmp(r.name.data(), key.data(), key.size()) == 0)
        rule = &r;
    if (!rule) {
      if (is_set(value))
        warnings.push_back("unknown field " + std::string(section) + "." + key +
                           " was ignored: it is not part of the Engine API");
      out[key] = value;
      continue;
    }
    if (!fits(rule->type, value))
      throw InvalidArgument("json: cannot unmarshal " + std::string(json_type_name(value)) +
                            " into Go struct field " + std::string(section) + "." +
                            std::string(rule->name) + " of type " + type_name(rule->type));
    if (is_set(value) && rule->policy == P::kRefused)
      throw InvalidArgument(std::string(rule->message));
    if (is_set(value) && rule->policy == P::kWarned) {
      std::string w(rule->message);
      if (w.rfind("were not", 0) == 0) w = std::string(rule->name) + " " + w;
      if (std::find(warnings.begin(), warnings.end(), w) == warnings.end()) warnings.push_back(w);
    }
    out[std::string(rule->name)] = value;
  }
  body = std::move(out);
}

}  // namespace berth::api

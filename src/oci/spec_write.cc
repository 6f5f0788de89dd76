// config.json from the typed spec: the inverse of spec_parse.cc. Unset optionals, empty strings
// and empty lists are left out, which the runtime spec reads as their defaults.
#include <nlohmann/json.hpp>

#include "oci/spec.h"

namespace berth::oci {
namespace {

using nlohmann::json;

template <typename T>
void put(json& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
}
void put(json& j, const char* key, const std::string& v) {
  if (!v.empty()) j[key] = v;
}
void put(json& j, const char* key, const std::vector<std::string>& v) {
  if (!v.empty()) j[key] = v;
}
void put(json& j, const char* key, const std::map<std::string, std::string>& v) {
  if (!v.empty()) j[key] = v;
}
// Calls fn for each element and keeps the list only when there is one.
template <typename T, typename Fn>
void put_each(json& j, const char* key, const std::vector<T>& list, Fn fn) {
  if (list.empty()) return;
  json out = json::array();
  for (auto& e : list) out.push_back(fn(e));
  j[key] = std::move(out);
}

json write_hook(const Hook& h) {
  json j = {{"path", h.path}};
  put(j, "args", h.args);
  put(j, "env", h.env);
  put(j, "timeout", h.timeout);
  return j;
}

json write_mapping(const IdMapping& m) {
  return {{"containerID", m.container_id}, {"hostID", m.host_id}, {"size", m.size}};
}

json write_throttle(const BlockIoDevice& d) {
  return {{"major", d.major}, {"minor", d.minor}, {"rate", d.rate}};
}

json write_linux(const Linux& l) {
  json j = json::object();
  put_each(j, "namespaces", l.namespaces, [](const Namespace& n) {
    json ns = {{"type", n.type}};
    put(ns, "path", n.path);
    return ns;
  });
  put_each(j, "uidMappings", l.uid_mappings, write_mapping);
  put_each(j, "gidMappings", l.gid_mappings, write_mapping);
  put_each(j, "devices", l.devices, [](const Device& d) {
    json dev = {{"type", d.type}, {"path", d.path}, {"major", d.major}, {"minor", d.minor}};
    put(dev, "fileMode", d.file_mode);
    put(dev, "uid", d.uid);
    put(dev, "gid", d.gid);
    return dev;
  });
  if (l.resources) j["resources"] = write_resources(*l.resources);
  put(j, "cgroupsPath", l.cgroups_path);
  put(j, "sysctl", l.sysctl);
  if (l.seccomp) j["seccomp"] = write_seccomp(*l.seccomp);
  put(j, "rootfsPropagation", l.rootfs_propagation);
  put(j, "maskedPaths", l.masked_paths);
  put(j, "readonlyPaths", l.readonly_paths);
  put(j, "mountLabel", l.mount_label);
  for (auto& [clock, ns] : l.time_offsets)
    j["timeOffsets"][clock] = {{"secs", ns / 1000000000}, {"nanosecs", ns % 1000000000}};
  return j;
}

}  // namespace

json write_process(const Process& p) {
  json j = {{"terminal", p.terminal}, {"cwd", p.cwd}};
  if (p.console_size)
    j["consoleSize"] = {{"height", p.console_size->height}, {"width", p.console_size->width}};
  j["user"] = {{"uid", p.user.uid}, {"gid", p.user.gid}};
  put(j["user"], "umask", p.user.umask);
  if (!p.user.additional_gids.empty()) j["user"]["additionalGids"] = p.user.additional_gids;
  j["args"] = p.args;
  put(j, "env", p.env);
  if (p.capabilities) {
    json caps = json::object();
    put(caps, "bounding", p.capabilities->bounding);
    put(caps, "effective", p.capabilities->effective);
    put(caps, "inheritable", p.capabilities->inheritable);
    put(caps, "permitted", p.capabilities->permitted);
    put(caps, "ambient", p.capabilities->ambient);
    j["capabilities"] = std::move(caps);
  }
  put_each(j, "rlimits", p.rlimits, [](const Rlimit& r) {
    return json{{"type", r.type}, {"hard", r.hard}, {"soft", r.soft}};
  });
  if (p.no_new_privileges) j["noNewPrivileges"] = true;
  put(j, "apparmorProfile", p.apparmor_profile);
  put(j, "oomScoreAdj", p.oom_score_adj);
  put(j, "selinuxLabel", p.selinux_label);
  return j;
}

json write_resources(const Resources& r) {
  json j = json::object();
  put_each(j, "devices", r.devices, [](const DeviceRule& d) {
    json rule = {{"allow", d.allow}, {"access", d.access}};
    // "a" is what an absent type means.
    if (!d.type.empty() && d.type != "a") rule["type"] = d.type;
    put(rule, "major", d.major);
    put(rule, "minor", d.minor);
    return rule;
  });
  json memory = json::object();
  put(memory, "limit", r.memory.limit);
  put(memory, "reservation", r.memory.reservation);
  put(memory, "swap", r.memory.swap);
  put(memory, "kernel", r.memory.kernel);
  put(memory, "kernelTCP", r.memory.kernel_tcp);
  put(memory, "swappiness", r.memory.swappiness);
  put(memory, "disableOOMKiller", r.memory.disable_oom_killer);
  if (!memory.empty()) j["memory"] = std::move(memory);
  json cpu = json::object();
  put(cpu, "shares", r.cpu.shares);
  put(cpu, "quota", r.cpu.quota);
  put(cpu, "period", r.cpu.period);
  put(cpu, "realtimeRuntime", r.cpu.realtime_runtime);
  put(cpu, "realtimePeriod", r.cpu.realtime_period);
  put(cpu, "cpus", r.cpu.cpus);
  put(cpu, "mems", r.cpu.mems);
  if (!cpu.empty()) j["cpu"] = std::move(cpu);
  if (r.pids_limit) j["pids"] = {{"limit", *r.pids_limit}};
  const auto& b = r.block_io;
  json blkio = json::object();
  put(blkio, "weight", b.weight);
  put(blkio, "leafWeight", b.leaf_weight);
  put_each(blkio, "weightDevice", b.weight_device, [](const BlockIoDevice& d) {
    json w = {{"major", d.major}, {"minor", d.minor}};
    put(w, "weight", d.weight);
    put(w, "leafWeight", d.leaf_weight);
    return w;
  });
  put_each(blkio, "throttleReadBpsDevice", b.throttle_read_bps, write_throttle);
  put_each(blkio, "throttleWriteBpsDevice", b.throttle_write_bps, write_throttle);
  put_each(blkio, "throttleReadIOPSDevice", b.throttle_read_iops, write_throttle);
  put_each(blkio, "throttleWriteIOPSDevice", b.throttle_write_iops, write_throttle);
  if (!blkio.empty()) j["blockIO"] = std::move(blkio);
  put_each(j, "hugepageLimits", r.hugepage_limits, [](const HugepageLimit& h) {
    return json{{"pageSize", h.page_size}, {"limit", h.limit}};
  });
  put(j, "unified", r.unified);
  return j;
}

json write_seccomp(const Seccomp& s) {
  json j = {{"defaultAction", s.default_action}};
  put(j, "defaultErrnoRet", s.default_errno_ret);
  put(j, "architectures", s.architectures);
  put(j, "flags", s.flags);
  put(j, "listenerPath", s.listener_path);
  put_each(j, "syscalls", s.syscalls, [](const SeccompSyscall& c) {
    json sc = {{"names", c.names}, {"action", c.action}};
    put(sc, "errnoRet", c.errno_ret);
    put_each(sc, "args", c.args, [](const SeccompArg& a) {
      return json{{"index", a.index}, {"value", a.value}, {"valueTwo", a.value_two}, {"op", a.op}};
    });
    return sc;
  });
  return j;
}

json write_spec(const Spec& s) {
  json j = {{"ociVersion", s.oci_version}};
  if (s.process) j["process"] = write_process(*s.process);
  j["root"] = {{"path", s.root.path}};
  if (s.root.readonly) j["root"]["readonly"] = true;
  put(j, "hostname", s.hostname);
  put(j, "domainname", s.domainname);
  put_each(j, "mounts", s.mounts, [](const Mount& m) {
    json mt = {{"destination", m.destination}};
    put(mt, "type", m.type);
    put(mt, "source", m.source);
    put(mt, "options", m.options);
    return mt;
  });
  json hooks = json::object();
  put_each(hooks, "prestart", s.hooks.prestart, write_hook);
  put_each(hooks, "createRuntime", s.hooks.create_runtime, write_hook);
  put_each(hooks, "createContainer", s.hooks.create_container, write_hook);
  put_each(hooks, "startContainer", s.hooks.start_container, write_hook);
  put_each(hooks, "poststart", s.hooks.poststart, write_hook);
  put_each(hooks, "poststop", s.hooks.poststop, write_hook);
  if (!hooks.empty()) j["hooks"] = std::move(hooks);
  put(j, "annotations", s.annotations);
  if (s.linux) j["linux"] = write_linux(*s.linux);
  return j;
}

}  // namespace berth::oci

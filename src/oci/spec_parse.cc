#include <nlohmann/json.hpp>
#include <utility>

#include "base/error.h"
#include "base/log.h"
#include "oci/go_json.h"
#include "oci/spec.h"

namespace berth::oci {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& field, const std::string& why) {
  throw Error("invalid config: " + field + ": " + why);
}

// Reads an optional member with a type check; the error names the dotted field path.
class Obj {
 public:
  Obj(const json& j, std::string path) : j_(j), path_(std::move(path)) {
    if (!j_.is_object()) bad(path_.empty() ? "(top level)" : path_, "expected an object");
  }
  std::string field(const char* name) const { return path_.empty() ? name : path_ + "." + name; }
  const json* find(const char* name) const {
    auto it = j_.find(name);
    if (it == j_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  bool has(const char* name) const { return find(name) != nullptr; }

  std::string str(const char* name, const std::string& def = "") const {
    auto* v = find(name);
    if (!v) return def;
    if (!v->is_string()) bad(field(name), "expected a string");
    return v->get<std::string>();
  }
  std::string required_str(const char* name) const {
    if (!has(name)) bad(field(name), "required");
    return str(name);
  }
  bool boolean(const char* name, bool def = false) const {
    auto* v = find(name);
    if (!v) return def;
    if (!v->is_boolean()) bad(field(name), "expected true or false");
    return v->get<bool>();
  }
  template <typename T>
  std::optional<T> num(const char* name) const {
    auto* v = find(name);
    if (!v) return std::nullopt;
    if (!v->is_number()) bad(field(name), "expected a number");
    if (std::is_unsigned_v<T> && v->is_number_integer() && v->get<int64_t>() < 0)
      bad(field(name), "expected a non-negative number");
    // Checked before converting, as Go's decoder refuses them: a fraction or a number out of
    // T's range does not convert (a double out of range is undefined behaviour).
    if (v->is_number_float()) bad(field(name), "expected an integer");
    if (v->is_number_unsigned() ? !std::in_range<T>(v->get<uint64_t>())
                                : !std::in_range<T>(v->get<int64_t>()))
      bad(field(name), "number out of range");
    return v->get<T>();
  }
  std::vector<std::string> strings(const char* name) const {
    std::vector<std::string> out;
    auto* v = find(name);
    if (!v) return out;
    if (!v->is_array()) bad(field(name), "expected an array of strings");
    for (auto& e : *v) {
      if (!e.is_string()) bad(field(name), "expected an array of strings");
      out.push_back(e.get<std::string>());
    }
    return out;
  }
  std::map<std::string, std::string> string_map(const char* name) const {
    std::map<std::string, std::string> out;
    auto* v = find(name);
    if (!v) return out;
    if (!v->is_object()) bad(field(name), "expected an object of strings");
    for (auto& [k, e] : v->items()) {
      if (!e.is_string()) bad(field(name) + "." + k, "expected a string");
      out[k] = e.get<std::string>();
    }
    return out;
  }
  // Calls fn(Obj) for each element of an array of objects.
  template <typename Fn>
  void each(const char* name, Fn fn) const {
    auto* v = find(name);
    if (!v) return;
    if (!v->is_array()) bad(field(name), "expected an array");
    for (size_t i = 0; i < v->size(); i++)
      fn(Obj((*v)[i], field(name) + "[" + std::to_string(i) + "]"));
  }
  std::optional<Obj> sub(const char* name) const {
    auto* v = find(name);
    if (!v) return std::nullopt;
    return Obj(*v, field(name));
  }
  const std::string& path() const { return path_; }

 private:
  const json& j_;
  std::string path_;
};

Hook parse_hook(const Obj& o) {
  Hook h;
  h.path = o.required_str("path");
  if (h.path.empty() || h.path[0] != '/') bad(o.field("path"), "must be an absolute path");
  h.args = o.strings("args");
  h.env = o.strings("env");
  h.timeout = o.num<int>("timeout");
  if (h.timeout && *h.timeout <= 0) bad(o.field("timeout"), "must be greater than zero");
  return h;
}

std::vector<IdMapping> parse_mappings(const Obj& o, const char* name) {
  std::vector<IdMapping> out;
  o.each(name, [&](const Obj& m) {
    IdMapping im;
    im.container_id = m.num<uint32_t>("containerID").value_or(0);
    im.host_id = m.num<uint32_t>("hostID").value_or(0);
    im.size = m.num<uint32_t>("size").value_or(0);
    if (im.size == 0) bad(m.field("size"), "must be greater than zero");
    out.push_back(im);
  });
  return out;
}

std::vector<BlockIoDevice> parse_throttle(const Obj& o, const char* name) {
  std::vector<BlockIoDevice> out;
  o.each(name, [&](const Obj& d) {
    BlockIoDevice b;
    b.major = d.num<int64_t>("major").value_or(0);
    b.minor = d.num<int64_t>("minor").value_or(0);
    b.rate = d.num<uint64_t>("rate").value_or(0);
    out.push_back(b);
  });
  return out;
}

Seccomp parse_seccomp(const Obj& o) {
  Seccomp s;
  s.default_action = o.required_str("defaultAction");
  s.default_errno_ret = o.num<unsigned>("defaultErrnoRet");
  s.architectures = o.strings("architectures");
  s.flags = o.strings("flags");
  s.listener_path = o.str("listenerPath");
  o.each("syscalls", [&](const Obj& sc) {
    SeccompSyscall c;
    c.names = sc.strings("names");
    if (c.names.empty()) bad(sc.field("names"), "required");
    c.action = sc.required_str("action");
    c.errno_ret = sc.num<unsigned>("errnoRet");
    sc.each("args", [&](const Obj& a) {
      SeccompArg arg;
      arg.index = a.num<unsigned>("index").value_or(0);
      if (arg.index > 5) bad(a.field("index"), "must be between 0 and 5");
      arg.value = a.num<uint64_t>("value").value_or(0);
      arg.value_two = a.num<uint64_t>("valueTwo").value_or(0);
      arg.op = a.required_str("op");
      c.args.push_back(arg);
    });
    s.syscalls.push_back(std::move(c));
  });
  return s;
}

Resources parse_resources_obj(const Obj& r) {
  Resources res;
  r.each("devices", [&](const Obj& d) {
    DeviceRule rule;
    rule.allow = d.boolean("allow");
    rule.type = d.str("type", "a");
    rule.major = d.num<int64_t>("major");
    rule.minor = d.num<int64_t>("minor");
    rule.access = d.str("access", "rwm");
    res.devices.push_back(rule);
  });
  if (auto m = r.sub("memory")) {
    res.memory.limit = m->num<int64_t>("limit");
    res.memory.reservation = m->num<int64_t>("reservation");
    res.memory.swap = m->num<int64_t>("swap");
    res.memory.kernel = m->num<int64_t>("kernel");
    res.memory.kernel_tcp = m->num<int64_t>("kernelTCP");
    res.memory.swappiness = m->num<uint64_t>("swappiness");
    if (m->has("disableOOMKiller")) res.memory.disable_oom_killer = m->boolean("disableOOMKiller");
  }
  if (auto c = r.sub("cpu")) {
    res.cpu.shares = c->num<uint64_t>("shares");
    res.cpu.quota = c->num<int64_t>("quota");
    res.cpu.period = c->num<uint64_t>("period");
    res.cpu.realtime_runtime = c->num<int64_t>("realtimeRuntime");
    res.cpu.realtime_period = c->num<uint64_t>("realtimePeriod");
    res.cpu.cpus = c->str("cpus");
    res.cpu.mems = c->str("mems");
  }
  if (auto p = r.sub("pids")) res.pids_limit = p->num<int64_t>("limit");
  if (auto b = r.sub("blockIO")) {
    res.block_io.weight = b->num<uint16_t>("weight");
    res.block_io.leaf_weight = b->num<uint16_t>("leafWeight");
    b->each("weightDevice", [&](const Obj& d) {
      BlockIoDevice w;
      w.major = d.num<int64_t>("major").value_or(0);
      w.minor = d.num<int64_t>("minor").value_or(0);
      w.weight = d.num<uint16_t>("weight");
      w.leaf_weight = d.num<uint16_t>("leafWeight");
      res.block_io.weight_device.push_back(w);
    });
    res.block_io.throttle_read_bps = parse_throttle(*b, "throttleReadBpsDevice");
    res.block_io.throttle_write_bps = parse_throttle(*b, "throttleWriteBpsDevice");
    res.block_io.throttle_read_iops = parse_throttle(*b, "throttleReadIOPSDevice");
    res.block_io.throttle_write_iops = parse_throttle(*b, "throttleWriteIOPSDevice");
  }
  r.each("hugepageLimits", [&](const Obj& h) {
    res.hugepage_limits.push_back(
        {h.required_str("pageSize"), h.num<uint64_t>("limit").value_or(0)});
  });
  res.unified = r.string_map("unified");
  return res;
}

Process parse_process_obj(const Obj& p) {
  Process proc;
  proc.terminal = p.boolean("terminal");
  if (auto cs = p.sub("consoleSize")) {
    proc.console_size = ConsoleSize{cs->num<unsigned>("height").value_or(0),
                                    cs->num<unsigned>("width").value_or(0)};
  }
  if (auto u = p.sub("user")) {
    proc.user.uid = u->num<uid_t>("uid").value_or(0);
    proc.user.gid = u->num<gid_t>("gid").value_or(0);
    proc.user.umask = u->num<mode_t>("umask");
    if (auto* ag = u->find("additionalGids")) {
      if (!ag->is_array()) bad(u->field("additionalGids"), "expected an array of numbers");
      for (auto& g : *ag) {
        if (!g.is_number_unsigned())
          bad(u->field("additionalGids"), "expected an array of numbers");
        proc.user.additional_gids.push_back(g.get<gid_t>());
      }
    }
  }
  proc.args = p.strings("args");
  proc.env = p.strings("env");
  proc.cwd = p.str("cwd", "/");
  // runc's words, which callers show as they are.
  if (proc.cwd.empty() || proc.cwd[0] != '/') throw Error("Cwd must be an absolute path");
  if (auto c = p.sub("capabilities")) {
    Capabilities caps;
    caps.bounding = c->strings("bounding");
    caps.effective = c->strings("effective");
    caps.inheritable = c->strings("inheritable");
    caps.permitted = c->strings("permitted");
    caps.ambient = c->strings("ambient");
    proc.capabilities = std::move(caps);
  }
  p.each("rlimits", [&](const Obj& r) {
    Rlimit rl;
    rl.type = r.required_str("type");
    rl.hard = r.num<uint64_t>("hard").value_or(0);
    rl.soft = r.num<uint64_t>("soft").value_or(0);
    proc.rlimits.push_back(rl);
  });
  proc.no_new_privileges = p.boolean("noNewPrivileges");
  proc.apparmor_profile = p.str("apparmorProfile");
  proc.oom_score_adj = p.num<int>("oomScoreAdj");
  if (proc.oom_score_adj && (*proc.oom_score_adj < -1000 || *proc.oom_score_adj > 1000))
    bad(p.field("oomScoreAdj"), "must be between -1000 and 1000");
  proc.selinux_label = p.str("selinuxLabel");
  return proc;
}

const char* const kNamespaceTypes[] = {"pid", "network", "mount",  "ipc",
                                       "uts", "user",    "cgroup", "time"};

Linux parse_linux(const Obj& l) {
  Linux lx;
  l.each("namespaces", [&](const Obj& n) {
    Namespace ns;
    ns.type = n.required_str("type");
    bool known = false;
    for (auto* t : kNamespaceTypes) known |= ns.type == t;
    // runc's words (Go's %q of the namespace), which callers show as they are.
    if (!known)
      throw Error("namespace {\"" + ns.type + "\" \"" + n.str("path") + "\"} does not exist");
    for (auto& other : lx.namespaces)
      if (other.type == ns.type) bad(n.field("type"), "namespace \"" + ns.type + "\" listed twice");
    ns.path = n.str("path");
    if (!ns.path.empty() && ns.path[0] != '/') bad(n.field("path"), "must be an absolute path");
    lx.namespaces.push_back(ns);
  });
  lx.uid_mappings = parse_mappings(l, "uidMappings");
  lx.gid_mappings = parse_mappings(l, "gidMappings");
  l.each("devices", [&](const Obj& d) {
    Device dev;
    dev.type = d.required_str("type");
    if (dev.type != "c" && dev.type != "b" && dev.type != "u" && dev.type != "p")
      bad(d.field("type"), "must be one of c, b, u, p");
    dev.path = d.required_str("path");
    if (dev.path.empty() || dev.path[0] != '/') bad(d.field("path"), "must be an absolute path");
    dev.major = d.num<int64_t>("major").value_or(0);
    dev.minor = d.num<int64_t>("minor").value_or(0);
    dev.file_mode = d.num<mode_t>("fileMode");
    dev.uid = d.num<uid_t>("uid");
    dev.gid = d.num<gid_t>("gid");
    lx.devices.push_back(dev);
  });
  if (auto r = l.sub("resources")) lx.resources = parse_resources_obj(*r);
  lx.cgroups_path = l.str("cgroupsPath");
  lx.sysctl = l.string_map("sysctl");
  if (auto s = l.sub("seccomp")) lx.seccomp = parse_seccomp(*s);
  lx.rootfs_propagation = l.str("rootfsPropagation");
  if (!lx.rootfs_propagation.empty()) {
    static const char* const kProp[] = {"private", "rprivate", "slave",      "rslave",
                                        "shared",  "rshared",  "unbindable", "runbindable"};
    bool ok = false;
    for (auto* p : kProp) ok |= lx.rootfs_propagation == p;
    if (!ok)
      bad(l.field("rootfsPropagation"), "unknown propagation \"" + lx.rootfs_propagation + "\"");
  }
  lx.masked_paths = l.strings("maskedPaths");
  lx.readonly_paths = l.strings("readonlyPaths");
  lx.mount_label = l.str("mountLabel");
  if (auto t = l.sub("timeOffsets")) {
    for (auto* clock : {"monotonic", "boottime"}) {
      if (auto o = t->sub(clock))
        lx.time_offsets[clock] = o->num<int64_t>("secs").value_or(0) * 1000000000 +
                                 o->num<int64_t>("nanosecs").value_or(0);
    }
  }
  return lx;
}

}  // namespace

const Namespace* Linux::find_namespace(const std::string& type) const {
  for (auto& ns : namespaces)
    if (ns.type == type) return &ns;
  return nullptr;
}

Process parse_process(const json& j) {
  return parse_process_obj(Obj(j, "process"));
}
Resources parse_resources(const json& j) {
  return parse_resources_obj(Obj(j, "resources"));
}

Spec parse_spec_json(const json& j) {
  Obj top(j, "");
  Spec s;
  // runc runs a config without one, and so does berth: nothing here depends on the version.
  s.oci_version = top.str("ociVersion");
  if (top.has("process")) s.process = parse_process_obj(*top.sub("process"));
  auto root = top.sub("root");
  if (!root) bad("root", "required");
  s.root.path = root->required_str("path");
  if (s.root.path.empty()) bad("root.path", "must not be empty");
  s.root.readonly = root->boolean("readonly");
  s.hostname = top.str("hostname");
  s.domainname = top.str("domainname");
  top.each("mounts", [&](const Obj& m) {
    Mount mt;
    mt.destination = m.required_str("destination");
    if (mt.destination.empty()) bad(m.field("destination"), "must not be empty");
    // As runc 1.1: a relative destination is taken from the root, with runc's warning.
    if (mt.destination[0] != '/') {
      log::warn("mount destination " + mt.destination +
                " is not absolute. Support for non-absolute mount destinations will be removed "
                "in a future release.");
      mt.destination = "/" + mt.destination;
    }
    mt.type = m.str("type");
    mt.source = m.str("source");
    mt.options = m.strings("options");
    s.mounts.push_back(std::move(mt));
  });
  if (auto h = top.sub("hooks")) {
    auto hooks = [&](const char* name, std::vector<Hook>& out) {
      h->each(name, [&](const Obj& o) { out.push_back(parse_hook(o)); });
    };
    hooks("prestart", s.hooks.prestart);
    hooks("createRuntime", s.hooks.create_runtime);
    hooks("createContainer", s.hooks.create_container);
    hooks("startContainer", s.hooks.start_container);
    hooks("poststart", s.hooks.poststart);
    hooks("poststop", s.hooks.poststop);
  }
  s.annotations = top.string_map("annotations");
  if (auto l = top.sub("linux")) s.linux = parse_linux(*l);
  return s;
}

Spec parse_spec(const std::string& text) {
  json j;
  // Syntax errors in runc's (Go's) words; what follows the first value is ignored as by runc.
  size_t end = go_json_first_value(text);
  try {
    j = json::parse(std::string_view(text).substr(0, end));
  } catch (const json::parse_error& e) {
    throw Error(std::string("invalid config: malformed JSON: ") + e.what());
  }
  return parse_spec_json(j);
}

}  // namespace berth::oci

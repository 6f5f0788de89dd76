#include "engine/spec_builder.h"

#include <sys/capability.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>

#include "base/error.h"
#include "base/fs.h"
#include "engine/seccomp_profile.h"
#include "engine/security_opts.h"
#include "engine/spec_parts.h"
#include "oci/spec.h"

namespace berth::engine {
namespace {

using nlohmann::json;

// Docker's default capability set.
const std::vector<std::string> kDefaultCaps = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE"};

std::string cap_name(std::string c) {
  for (auto& ch : c) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return c.rfind("CAP_", 0) == 0 ? c : "CAP_" + c;
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), ::isdigit);
}

// Finds `name` (or the numeric id) in a passwd or group file; returns its fields.
std::optional<std::vector<std::string>> lookup(const std::string& file, const std::string& key,
                                               size_t id_field) {
  auto text = read_file_if_exists(file);
  if (!text) return std::nullopt;
  for (auto& line : split(*text, '\n')) {
    auto f = split(line, ':');
    if (f.size() <= id_field) continue;
    if (f[0] == key || (all_digits(key) && f[id_field] == key)) return f;
  }
  return std::nullopt;
}

}  // namespace

std::vector<std::string> grantable_capabilities() {
  static const std::vector<std::string> caps = [] {
    uint64_t bounding = ~uint64_t{0};
    if (std::ifstream f("/proc/self/status"); f) {
      for (std::string line; std::getline(f, line);)
        if (line.rfind("CapBnd:", 0) == 0) bounding = std::stoull(line.substr(7), nullptr, 16);
    }
    int last = CAP_LAST_CAP;
    if (std::ifstream f("/proc/sys/kernel/cap_last_cap"); f) f >> last;
    std::vector<std::string> out;
    for (int c = 0; c <= last && c < 64; c++) {
      if (!(bounding & (uint64_t{1} << c))) continue;
      char* name = cap_to_name(static_cast<cap_value_t>(c));
      if (!name) continue;
      std::string n = name;
      cap_free(name);
      if (n.empty() || std::isdigit(static_cast<unsigned char>(n[0]))) continue;  // unnamed
      for (auto& ch : n) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      out.push_back(n);
    }
    return out;
  }();
  return caps;
}

std::vector<std::string> container_capabilities(const json& hc) {
  if (hc.value("Privileged", false)) return grantable_capabilities();
  std::vector<std::string> caps = kDefaultCaps;
  auto list = [&](const char* key) {
    std::vector<std::string> out;
    if (auto it = hc.find(key); it != hc.end() && it->is_array())
      for (auto& v : *it) out.push_back(cap_name(v.get<std::string>()));
    return out;
  };
  auto add = list("CapAdd"), drop = list("CapDrop");
  if (std::find(add.begin(), add.end(), "CAP_ALL") != add.end()) caps = grantable_capabilities();
  for (auto& c : add)
    if (c != "CAP_ALL" && std::find(caps.begin(), caps.end(), c) == caps.end()) caps.push_back(c);
  if (std::find(drop.begin(), drop.end(), "CAP_ALL") != drop.end()) caps.clear();
  for (auto& c : drop) std::erase(caps, c);
  return caps;
}

ResolvedUser resolve_user(const std::string& rootfs, const std::string& user,
                          const std::vector<std::string>& group_add) {
  ResolvedUser out;
  auto colon = user.find(':');
  std::string u = user.substr(0, colon);
  std::string g = colon == std::string::npos ? "" : user.substr(colon + 1);
  if (u.empty()) u = "0";
  auto pw = lookup(path_join(rootfs, "etc/passwd"), u, 2);
  if (pw && pw->size() > 3) {
    out.uid = static_cast<uint32_t>(std::stoul((*pw)[2]));
    out.gid = static_cast<uint32_t>(std::stoul((*pw)[3]));
    if (pw->size() > 5 && !(*pw)[5].empty()) out.home = (*pw)[5];
  } else if (all_digits(u)) {
    out.uid = static_cast<uint32_t>(std::stoul(u));
  } else {
    throw InvalidArgument("unable to find user " + u + ": no matching entries in passwd file");
  }
  auto group_id = [&](const std::string& name) {
    auto gr = lookup(path_join(rootfs, "etc/group"), name, 2);
    if (gr && gr->size() > 2) return static_cast<uint32_t>(std::stoul((*gr)[2]));
    if (all_digits(name)) return static_cast<uint32_t>(std::stoul(name));
    throw InvalidArgument("unable to find group " + name + ": no matching entries in group file");
  };
  if (!g.empty()) out.gid = group_id(g);
  // Supplementary groups: those that list the user by name, as Docker adds them.
  if (pw) {
    auto text = read_file_if_exists(path_join(rootfs, "etc/group")).value_or("");
    for (auto& line : split(text, '\n')) {
      auto f = split(line, ':');
      if (f.size() < 4 || !all_digits(f[2])) continue;
      for (auto& member : split(f[3], ','))
        if (member == (*pw)[0])
          out.additional_gids.push_back(static_cast<uint32_t>(std::stoul(f[2])));
    }
  }
  for (auto& name : group_add) {
    uint32_t gid = group_id(name);
    if (std::find(out.additional_gids.begin(), out.additional_gids.end(), gid) ==
        out.additional_gids.end())
      out.additional_gids.push_back(gid);
  }
  return out;
}

std::string cgroups_path(const Container& c, const std::string& default_parent) {
  std::string parent = c.spec.cgroup_parent.empty() ? default_parent : c.spec.cgroup_parent;
  if (parent.front() != '/') parent = "/" + parent;
  return parent + "/" + c.id;
}

oci::Process container_process(const Container& c, const std::string& rootfs,
                               const std::string& user_spec, bool with_init) {
  const json& cfg = c.config;
  const json& hc = c.host_config;
  const ContainerSpec& cs = c.spec;
  oci::Process proc;
  proc.terminal = c.tty();
  // The CLI sends the terminal's size at create (API 1.42+), so the pty is right from the start.
  if (c.tty() && hc.contains("ConsoleSize") && hc["ConsoleSize"].is_array() &&
      hc["ConsoleSize"].size() == 2 && hc["ConsoleSize"][0].is_number_unsigned() &&
      hc["ConsoleSize"][1].is_number_unsigned() && hc["ConsoleSize"][0].get<unsigned>() > 0 &&
      hc["ConsoleSize"][1].get<unsigned>() > 0)
    proc.console_size = oci::ConsoleSize{hc["ConsoleSize"][0].get<unsigned>(),
                                         hc["ConsoleSize"][1].get<unsigned>()};
  // Docker's path and arguments for its init, which scripts and healthchecks may look for.
  if (with_init) proc.args = {"/sbin/docker-init", "--"};
  proc.args.push_back(c.path);
  proc.args.insert(proc.args.end(), c.args.begin(), c.args.end());
  auto user = resolve_user(rootfs, user_spec, cs.group_add);
  auto& env = proc.env;
  if (cfg.contains("Env") && cfg["Env"].is_array())
    for (auto& e : cfg["Env"]) env.push_back(e.get<std::string>());
  auto has_env = [&](const std::string& k) {
    return std::any_of(env.begin(), env.end(),
                       [&](const std::string& e) { return e.rfind(k + "=", 0) == 0; });
  };
  if (!has_env("PATH"))
    env.insert(env.begin(), "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  env.insert(env.begin() + 1, "HOSTNAME=" + cfg.value("Hostname", ""));
  if (c.tty() && !has_env("TERM")) env.push_back("TERM=xterm");
  // Docker sets HOME from the user's passwd entry when the image does not.
  if (!has_env("HOME")) env.push_back("HOME=" + user.home);
  std::string cwd = cfg.value("WorkingDir", "");
  proc.cwd = cwd.empty() ? "/" : cwd;
  proc.user.uid = user.uid;
  proc.user.gid = user.gid;
  proc.user.additional_gids = user.additional_gids;
  auto caps = container_capabilities(hc);
  proc.capabilities = oci::Capabilities{caps, caps, {}, caps, {}};
  proc.no_new_privileges = parse_security_opts(hc).no_new_privileges;
  for (auto& u : cs.ulimits) {
    std::string name = u.name;
    for (auto& ch : name) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    proc.rlimits.push_back(
        {"RLIMIT_" + name, static_cast<uint64_t>(u.hard), static_cast<uint64_t>(u.soft)});
  }
  proc.oom_score_adj = cs.oom_score_adj;
  return proc;
}

oci::Spec build_spec(const Container& c, const SpecPaths& paths) {
  oci::Spec spec = oci::default_spec(false);
  const json& cfg = c.config;
  const json& hc = c.host_config;
  const ContainerSpec& cs = c.spec;
  bool privileged = cs.privileged;
  SecurityOptions security = parse_security_opts(hc);

  spec.process =
      container_process(c, paths.rootfs, cfg.value("User", ""), !paths.init_binary.empty());
  const auto& caps = spec.process->capabilities->bounding;
  spec.root = {paths.rootfs, hc.value("ReadonlyRootfs", false)};
  // The host's UTS namespace keeps the host's name: the runtime must not set one.
  spec.hostname = cs.uts.host() ? "" : cfg.value("Hostname", "");
  if (!cs.uts.host()) spec.domainname = cfg.value("Domainname", "");

  std::set<std::string> user_dsts;
  for (auto& m : paths.user_mounts) user_dsts.insert(m.destination);
  std::vector<oci::Mount> mounts;
  for (auto& m : spec.mounts) {
    const std::string& dst = m.destination;
    if (user_dsts.count(dst)) continue;
    // As dockerd's spec: nothing under /proc is run, nor is a device or set-user-id there.
    if (dst == "/proc") m.options = {"nosuid", "noexec", "nodev"};
    if (dst == "/dev/shm") {
      if (cs.ipc.kind == NamespaceMode::Kind::kNone) continue;
      if (!paths.shared_shm.empty()) {
        m = {"/dev/shm", "bind", paths.shared_shm, {"rbind", "rprivate"}};
      } else {
        int64_t shm = cs.shm_size;
        m.options = {"nosuid", "noexec", "nodev", "mode=1777",
                     "size=" + std::to_string(shm > 0 ? shm : 64 << 20)};
      }
    }
    if ((privileged && dst == "/sys") ||
        ((privileged || security.writable_cgroups) && dst == "/sys/fs/cgroup"))
      std::erase(m.options, "ro");
    mounts.push_back(std::move(m));
  }
  auto bind = [&](const std::string& src, const std::string& dst) {
    if (!src.empty() && !user_dsts.count(dst))
      mounts.push_back({dst, "bind", src, {"rbind", "rprivate"}});
  };
  bind(paths.hostname_file, "/etc/hostname");
  bind(paths.hosts_file, "/etc/hosts");
  bind(paths.resolv_conf, "/etc/resolv.conf");
  if (!paths.init_binary.empty())
    mounts.push_back({"/sbin/docker-init", "bind", paths.init_binary, {"bind", "ro"}});
  for (auto& m : paths.user_mounts) mounts.push_back(m);
  spec.mounts = std::move(mounts);

  auto& linux = *spec.linux;
  linux.cgroups_path = cgroups_path(c, paths.cgroup_parent);
  auto devices = container_devices(cs);
  linux.resources = container_resources(cs.resources, kernel_features());
  linux.resources->devices = std::move(devices.rules);
  linux.devices = std::move(devices.nodes);
  if (privileged) {
    linux.masked_paths.clear();
    linux.readonly_paths.clear();
  } else {
    if (cs.masked_paths) linux.masked_paths = *cs.masked_paths;
    if (cs.readonly_paths) linux.readonly_paths = *cs.readonly_paths;
  }
  bool host_network = hc.value("NetworkMode", "") == "host";
  auto shared = [&](const std::string& type) -> const NamespaceMode* {
    if (type == "pid") return &cs.pid;
    if (type == "ipc") return &cs.ipc;
    if (type == "uts") return &cs.uts;
    if (type == "cgroup") return &cs.cgroupns;
    return nullptr;
  };
  std::erase_if(linux.namespaces, [&](const oci::Namespace& ns) {
    if (ns.type == "network") return host_network;
    auto* mode = shared(ns.type);
    return mode && mode->host();
  });
  for (auto& ns : linux.namespaces) {
    if (ns.type == "network" && !paths.netns.empty()) ns.path = paths.netns;
    if (auto it = paths.joined_namespaces.find(ns.type); it != paths.joined_namespaces.end())
      ns.path = it->second;
  }
  linux.sysctl = cs.sysctls;
  spec.annotations = cs.annotations;
  linux.seccomp = container_seccomp(security, privileged, caps);
  return spec;
}

}  // namespace berth::engine

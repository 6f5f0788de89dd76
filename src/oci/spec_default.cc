#include "oci/spec.h"

namespace berth::oci {

// Mirrors `runc spec` so that tools which start from it behave the same with berth-runtime.
Spec default_spec(bool rootless) {
  const std::vector<std::string> caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  Spec spec;
  spec.oci_version = "1.0.2";
  Process proc;
  proc.terminal = true;
  proc.args = {"sh"};
  proc.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"};
  proc.cwd = "/";
  proc.capabilities = Capabilities{caps, caps, {}, caps, caps};
  proc.rlimits = {{"RLIMIT_NOFILE", 1024, 1024}};
  proc.no_new_privileges = true;
  spec.process = std::move(proc);
  spec.root = {"rootfs", true};
  spec.hostname = "berth";
  spec.mounts = {
      {"/proc", "proc", "proc", {}},
      {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
      {"/dev/pts",
       "devpts",
       "devpts",
       {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
      {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
      {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}},
      {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}},
      {"/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}}};
  Linux linux;
  Resources resources;
  resources.devices = {{false, "a", std::nullopt, std::nullopt, "rwm"}};
  linux.resources = std::move(resources);
  for (auto* type : {"pid", "network", "ipc", "uts", "mount", "cgroup"})
    linux.namespaces.push_back({type, ""});
  linux.masked_paths = {"/proc/acpi",        "/proc/asound",        "/proc/kcore",
                        "/proc/keys",        "/proc/latency_stats", "/proc/timer_list",
                        "/proc/timer_stats", "/proc/sched_debug",   "/sys/firmware",
                        "/proc/scsi"};
  linux.readonly_paths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
  if (rootless) {
    linux.resources.reset();
    linux.namespaces.push_back({"user", ""});
    linux.uid_mappings = {{0, 1000, 1}};
    linux.gid_mappings = {{0, 1000, 1}};
    std::erase_if(spec.mounts, [](const Mount& m) { return m.destination == "/sys/fs/cgroup"; });
    for (auto& m : spec.mounts) {
      if (m.destination == "/dev/pts")
        m.options = {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"};
      if (m.destination == "/sys")
        m = {"/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"}};
    }
  }
  spec.linux = std::move(linux);
  return spec;
}

}  // namespace berth::oci

// The runtime's record of each container and how its status is derived from the kernel.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/fs.h"
#include "runtime/internal.h"

namespace berth::runtime {

const char* status_name(Status s) {
  switch (s) {
    case Status::kCreating:
      return "creating";
    case Status::kCreated:
      return "created";
    case Status::kRunning:
      return "running";
    case Status::kPaused:
      return "paused";
    case Status::kStopped:
      return "stopped";
  }
  return "unknown";
}

nlohmann::ordered_json ContainerState::to_json() const {
  nlohmann::ordered_json j = {{"ociVersion", oci_version},
                              {"id", id},
                              {"pid", pid},
                              {"status", status_name(status)},
                              {"bundle", bundle},
                              {"rootfs", rootfs},
                              {"created", created},
                              {"owner", owner}};
  if (!annotations.empty()) j["annotations"] = annotations;
  return j;
}

void check_container_id(const std::string& id) {
  bool ok = !id.empty() && id != "." && id != ".." && id.size() <= 1024;
  for (char c : id)
    ok &= isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '+' || c == '-' || c == '.';
  if (!ok) throw Error("invalid container id \"" + id + "\"");
}

std::string container_dir(const RuntimeOptions& opts, const std::string& id) {
  check_container_id(id);
  return path_join(opts.root, id);
}

std::string seccomp_cache_dir(const RuntimeOptions& opts) {
  std::string root = opts.root;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  return root + "-seccomp";
}

void save_record(const RuntimeOptions& opts, const Record& rec) {
  nlohmann::json j = {{"id", rec.id},
                      {"ociVersion", rec.oci_version},
                      {"pid", rec.pid},
                      {"pidStartTime", rec.pid_start_time},
                      {"bundle", rec.bundle},
                      {"rootfs", rec.rootfs},
                      {"created", rec.created},
                      {"owner", rec.owner},
                      {"cgroupsPath", rec.cgroups_path},
                      {"annotations", rec.annotations}};
  write_file_atomic(path_join(container_dir(opts, rec.id), "state.json"), j.dump(), 0644,
                    Durability::kCrashSafe);
}

bool container_exists(const RuntimeOptions& opts, const std::string& id) {
  return path_exists(path_join(container_dir(opts, id), "state.json"));
}

Record load_record(const RuntimeOptions& opts, const std::string& id) {
  auto text = read_file_if_exists(path_join(container_dir(opts, id), "state.json"));
  if (!text) throw Error("container " + id + " does not exist", ENOENT);
  try {
    auto j = nlohmann::json::parse(*text);
    Record r;
    r.id = j.at("id");
    r.oci_version = j.value("ociVersion", "");
    r.pid = j.at("pid");
    r.pid_start_time = j.value("pidStartTime", uint64_t{0});
    r.bundle = j.value("bundle", "");
    r.rootfs = j.value("rootfs", "");
    r.created = j.value("created", "");
    r.owner = j.value("owner", "");
    r.cgroups_path = j.value("cgroupsPath", "");
    r.annotations = j.value("annotations", std::map<std::string, std::string>{});
    return r;
  } catch (const nlohmann::json::exception& e) {
    throw Error("container " + id + ": corrupt state.json: " + e.what());
  }
}

oci::Spec load_container_spec(const RuntimeOptions& opts, const std::string& id) {
  return oci::parse_spec(read_file(path_join(container_dir(opts, id), "config.json")));
}

uint64_t process_start_time(pid_t pid) {
  auto stat = read_file_if_exists("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return 0;
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  auto close = stat->rfind(')');
  if (close == std::string::npos) return 0;
  auto fields = split(std::string_view(*stat).substr(close + 2), ' ');
  if (fields.size() < 20 || fields[0] == "Z" || fields[0] == "X") return 0;
  return std::stoull(fields[19]);
}

Status derive_status(const RuntimeOptions& opts, const Record& rec) {
  if (rec.pid <= 0) return Status::kCreating;
  uint64_t start = process_start_time(rec.pid);
  if (start == 0 || (rec.pid_start_time != 0 && start != rec.pid_start_time))
    return Status::kStopped;
  if (path_exists(path_join(container_dir(opts, rec.id), "exec.fifo"))) return Status::kCreated;
  try {
    if (open_cgroup(rec.cgroups_path, opts.cgroup_fs_root)->frozen()) return Status::kPaused;
  } catch (const Error&) {
    // A container whose cgroup vanished is still running as far as its pid tells.
  }
  return Status::kRunning;
}

void wait_for_exit(pid_t pid) {
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    if (errno == ESRCH) return;
    throw_errno("pidfd_open " + std::to_string(pid));
  }
  UniqueFd owned(pidfd);
  pollfd p{pidfd, POLLIN, 0};
  while (::poll(&p, 1, -1) < 0) {
    if (errno != EINTR) throw_errno("poll pidfd");
  }
  // Reap it when it is our own child, so it does not linger as a zombie.
  siginfo_t info;
  ::waitid(P_PIDFD, pidfd, &info, WEXITED | WNOHANG);
}

std::string resolve_cgroups_path(const RuntimeOptions& opts, const oci::Spec& spec,
                                 const std::string& id) {
  std::string path = spec.linux ? spec.linux->cgroups_path : "";
  if (!path.empty()) return path;
  return opts.systemd_cgroup ? "system.slice:berth:" + id : "/berth/" + id;
}

}  // namespace berth::runtime

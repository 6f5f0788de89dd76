// What both cgroup versions share: path resolution, control files, layout detection.
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/fs.h"
#include "runtime/cgroup_impl.h"

namespace berth::runtime {

CgroupLayout detect_cgroup_layout(const std::string& fs_root) {
  struct statfs st;
  if (::statfs(fs_root.c_str(), &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC)
    return CgroupLayout::kV2;
  // A plain directory with cgroup.controllers at its top is the tests' fake v2 tree.
  if (st.f_type != TMPFS_MAGIC && path_exists(path_join(fs_root, "cgroup.controllers")))
    return CgroupLayout::kV2;
  return CgroupLayout::kV1;
}

std::unique_ptr<Cgroup> open_cgroup(const std::string& cgroups_path, const std::string& fs_root) {
  return open_cgroup(cgroups_path, detect_cgroup_layout(fs_root), fs_root);
}

std::unique_ptr<Cgroup> open_cgroup(const std::string& cgroups_path, CgroupLayout layout,
                                    const std::string& fs_root) {
  if (cgroups_path.find("..") != std::string::npos)
    throw Error("invalid config: linux.cgroupsPath: \"" + cgroups_path + "\" contains ..");
  if (layout == CgroupLayout::kV2) return make_cgroup_v2(cgroups_path, fs_root);
  return make_cgroup_v1(cgroups_path, fs_root);
}

std::string resolve_cgroup_path(const std::string& cgroups_path, const std::string& own) {
  auto parts = split(cgroups_path, ':');
  if (parts.size() == 3 && cgroups_path[0] != '/') {
    // systemd's slice:prefix:name names the unit /slice/prefix-name.scope.
    std::string slice = parts[0].empty() ? "system.slice" : parts[0];
    return "/" + slice + "/" + (parts[1].empty() ? "" : parts[1] + "-") + parts[2] + ".scope";
  }
  if (!cgroups_path.empty() && cgroups_path[0] == '/') return cgroups_path;
  std::string base = own == "/" ? "" : own;
  return base + "/" + cgroups_path;
}

std::string own_cgroup(const std::string& controller) {
  auto text = read_file_if_exists("/proc/self/cgroup");
  if (!text) return "/";
  for (auto& line : split(*text, '\n')) {
    auto fields = split(line, ':');
    if (fields.size() < 3) continue;
    auto path = line.substr(fields[0].size() + fields[1].size() + 2);
    if (controller.empty()) {
      if (fields[0] == "0" && fields[1].empty()) return path;
      continue;
    }
    for (auto& c : split(fields[1], ','))
      if (c == controller) return path;
  }
  return "/";
}

void write_control(const std::string& dir, const std::string& file, const std::string& value) {
  auto path = path_join(dir, file);
  int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) throw_errno("cgroup: open " + path);
  UniqueFd owned(fd);
  if (::write(fd, value.data(), value.size()) < 0)
    throw_errno("cgroup: write \"" + value + "\" to " + path);
}

std::string read_control(const std::string& dir, const std::string& file) {
  return trim(read_file(path_join(dir, file)));
}

uint64_t read_number(const std::string& dir, const std::string& file) {
  auto v = read_file_if_exists(path_join(dir, file));
  try {
    return v ? std::stoull(*v) : 0;
  } catch (const std::exception&) {
    return 0;
  }
}

std::vector<pid_t> read_procs(const std::string& dir) {
  std::vector<pid_t> out;
  auto text = read_file_if_exists(path_join(dir, "cgroup.procs"));
  if (!text) return out;
  for (auto& line : split(*text, '\n'))
    if (!line.empty()) out.push_back(static_cast<pid_t>(std::stol(line)));
  return out;
}

void remove_cgroup_dir(const std::string& dir) {
  for (int attempt = 0; attempt < 200; attempt++) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
    if (errno != EBUSY) throw_errno("cgroup: remove " + dir);
    // The kernel releases a cgroup a moment after its last task has exited.
    ::usleep(5000);
  }
  throw_errno("cgroup: remove " + dir, EBUSY);
}

nlohmann::json parse_flat_keyed(const std::string& text) {
  nlohmann::json out = nlohmann::json::object();
  for (auto& line : split(text, '\n')) {
    auto sp = line.find(' ');
    if (sp == std::string::npos) continue;
    try {
      out[line.substr(0, sp)] = std::stoull(line.substr(sp + 1));
    } catch (const std::exception&) {
    }
  }
  return out;
}

std::string device_numbers(std::optional<int64_t> major, std::optional<int64_t> minor) {
  auto num = [](std::optional<int64_t> v) {
    return v && *v >= 0 ? std::to_string(*v) : std::string("*");
  };
  return num(major) + ":" + num(minor);
}

uint64_t cpu_shares_to_weight(uint64_t shares) {
  if (shares == 0) return 0;
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t blkio_weight_to_io_weight(uint64_t weight) {
  if (weight == 0) return 0;
  return 1 + (weight - 10) * 9999 / 990;
}

}  // namespace berth::runtime

// linux.devices and the device cgroup rules of a container: Docker's defaults, --device,
// --device-cgroup-rule, and every host device for --privileged.
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <filesystem>

#include "base/error.h"
#include "engine/spec_parts.h"

namespace berth::engine {
namespace {

oci::DeviceRule rule(bool allow, std::string type, std::optional<int64_t> major,
                     std::optional<int64_t> minor, const std::string& access) {
  return {allow, std::move(type), major, minor, access};
}

// One device node as the runtime creates it, or nullopt for what is not a device.
std::optional<oci::Device> device_node(const std::string& host_path, const std::string& path) {
  struct stat st {};
  if (::stat(host_path.c_str(), &st) < 0) return std::nullopt;
  const char* type = S_ISCHR(st.st_mode) ? "c" : S_ISBLK(st.st_mode) ? "b" : nullptr;
  if (!type) return std::nullopt;
  return oci::Device{type,      path,     major(st.st_rdev), minor(st.st_rdev), st.st_mode & 07777,
                     st.st_uid, st.st_gid};
}

// /dev/pts and the like hold what each container makes for itself.
bool skipped_under_dev(const std::filesystem::path& p) {
  static const char* kSkip[] = {"/dev/pts", "/dev/shm", "/dev/mqueue", "/dev/console"};
  for (auto* s : kSkip)
    if (p == s) return true;
  return false;
}

}  // namespace

DeviceSet container_devices(const ContainerSpec& spec) {
  DeviceSet out;
  if (spec.privileged) {
    out.rules.push_back(rule(true, "a", std::nullopt, std::nullopt, "rwm"));
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(
             "/dev", std::filesystem::directory_options::skip_permission_denied, ec);
         it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) break;
      if (skipped_under_dev(it->path())) {
        it.disable_recursion_pending();
        continue;
      }
      if (it->is_symlink(ec)) continue;
      if (auto n = device_node(it->path(), it->path())) out.nodes.push_back(*n);
    }
  } else {
    // Docker's default rules: deny all, then the usual character devices.
    out.rules.push_back(rule(false, "a", std::nullopt, std::nullopt, "rwm"));
    struct Default {
      const char* type;
      std::optional<int64_t> major, minor;
      const char* access;
    };
    for (auto& d : std::initializer_list<Default>{{"c", {}, {}, "m"},
                                                  {"b", {}, {}, "m"},
                                                  {"c", 1, 3, "rwm"},
                                                  {"c", 1, 8, "rwm"},
                                                  {"c", 1, 7, "rwm"},
                                                  {"c", 5, 0, "rwm"},
                                                  {"c", 1, 5, "rwm"},
                                                  {"c", 1, 9, "rwm"},
                                                  {"c", 136, {}, "rwm"},
                                                  {"c", 5, 2, "rwm"},
                                                  {"c", 10, 200, "rwm"}})
      out.rules.push_back(rule(true, d.type, d.major, d.minor, d.access));
  }
  for (auto& m : spec.devices) {
    auto add = [&](const std::string& host, const std::string& in_container) {
      auto n = device_node(host, in_container);
      if (!n) return false;
      out.rules.push_back(rule(true, n->type, n->major, n->minor, m.permissions));
      out.nodes.push_back(std::move(*n));
      return true;
    };
    std::error_code ec;
    if (std::filesystem::is_directory(m.path_on_host, ec)) {
      // A directory brings every device under it, as Docker's --device /dev/snd does.
      for (auto& e : std::filesystem::recursive_directory_iterator(m.path_on_host, ec)) {
        auto rel = std::filesystem::relative(e.path(), m.path_on_host).string();
        add(e.path(), m.path_in_container + "/" + rel);
      }
      continue;
    }
    struct stat st {};
    if (::stat(m.path_on_host.c_str(), &st) < 0)
      throw_error(errno == ENOENT ? ErrorKind::kInvalidArgument : ErrorKind::kInternal,
                  "error gathering device information while adding custom device \"" +
                      m.path_on_host + "\": " + std::strerror(errno));
    if (!add(m.path_on_host, m.path_in_container))
      throw InvalidArgument("error gathering device information while adding custom device \"" +
                            m.path_on_host + "\": not a device node");
  }
  for (auto& r : spec.device_cgroup_rules) {
    out.rules.push_back(rule(true, std::string(1, r.type), r.major, r.minor, r.access));
  }
  return out;
}

}  // namespace berth::engine

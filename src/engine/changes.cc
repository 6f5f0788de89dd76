#include "engine/changes.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <algorithm>
#include <filesystem>

namespace berth::engine {

std::vector<Change> container_changes(const std::string& upper,
                                      const std::vector<std::string>& lowers) {
  namespace fs = std::filesystem;
  std::vector<Change> out;
  std::error_code ec;
  auto in_lower = [&](const std::string& rel) {
    struct stat st;
    return std::any_of(lowers.begin(), lowers.end(),
                       [&](const std::string& l) { return ::lstat((l + rel).c_str(), &st) == 0; });
  };
  for (fs::recursive_directory_iterator it(upper, fs::directory_options::none, ec), end;
       !ec && it != end; it.increment(ec)) {
    std::string full = it->path().string();
    std::string rel = full.substr(upper.size());
    struct stat st;
    if (::lstat(full.c_str(), &st) < 0) continue;
    // overlayfs marks a deleted file with a 0:0 character device.
    if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
      out.push_back({rel, 2});
      continue;
    }
    out.push_back({rel, in_lower(rel) ? 0 : 1});
  }
  // The files berthd mounts over (/etc/hostname, hosts, resolv.conf) are the runtime's, not
  // the container's changes; Docker leaves them out, and a directory that is "changed" only
  // because of them goes too.
  std::erase_if(out, [](const Change& c) {
    return c.path == "/etc/hostname" || c.path == "/etc/hosts" || c.path == "/etc/resolv.conf";
  });
  std::sort(out.begin(), out.end(),
            [](const Change& a, const Change& b) { return a.path < b.path; });
  std::vector<Change> kept;
  for (size_t i = 0; i < out.size(); i++) {
    bool has_child = i + 1 < out.size() && out[i + 1].path.rfind(out[i].path + "/", 0) == 0;
    struct stat st;
    bool dir = ::lstat((upper + out[i].path).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    if (out[i].kind == 0 && dir && !has_child && out[i].path == "/etc") continue;
    kept.push_back(out[i]);
  }
  return kept;
}

}  // namespace berth::engine

#include "engine/container_mounts.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "base/error.h"
#include "base/fd.h"
#include "base/fs.h"
#include "engine/rootfs.h"
#include "volume/volume.h"

namespace berth::engine {
namespace {

using nlohmann::json;
using Type = MountSpec::Type;

// Opens `path` inside `root` as the container would resolve it: links and ".." never lead
// out of it. An invalid fd when it is not there.
UniqueFd open_in_root(int root, const std::string& path, uint64_t flags) {
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT;
  return UniqueFd(static_cast<int>(::syscall(SYS_openat2, root, path.c_str(), &how, sizeof how)));
}

size_t depth(const std::string& path) {
  return static_cast<size_t>(std::count(path.begin(), path.end(), '/'));
}

// Parents first, so that a mount inside another lands on top of it.
std::vector<const MountSpec*> parents_first(const std::vector<MountSpec>& mounts, bool with_tmpfs) {
  std::vector<const MountSpec*> order;
  for (auto& m : mounts)
    if (with_tmpfs || m.type != Type::kTmpfs) order.push_back(&m);
  std::stable_sort(order.begin(), order.end(), [](const MountSpec* a, const MountSpec* b) {
    return depth(a->destination) < depth(b->destination);
  });
  return order;
}

// A volume of the container's own that the image's content may fill (not nocopy, not a
// subpath, not another container's).
bool copies_up(const MountSpec& m) {
  return m.type == Type::kVolume && !m.no_copy && m.subpath.empty() &&
         m.origin != MountSpec::Origin::kVolumesFrom;
}

// Docker's tmpfs options: noexec, nosuid and nodev unless the user's say otherwise, and the
// user's key=value options over the defaults.
std::vector<std::string> tmpfs_options(const MountSpec& m) {
  std::vector<std::string> opts = {"noexec", "nosuid", "nodev"};
  std::vector<std::string> user = m.tmpfs_options;
  if (m.tmpfs_size > 0) user.push_back("size=" + std::to_string(m.tmpfs_size));
  if (m.tmpfs_mode != 0) {
    std::ostringstream mode;
    mode << "mode=" << std::oct << m.tmpfs_mode;
    user.push_back(mode.str());
  }
  if (m.read_only) user.push_back("ro");
  static const std::map<std::string, std::string> opposite = {
      {"exec", "noexec"}, {"noexec", "exec"}, {"suid", "nosuid"}, {"nosuid", "suid"},
      {"dev", "nodev"},   {"nodev", "dev"},   {"ro", "rw"},       {"rw", "ro"}};
  for (auto& o : user) {
    auto key = o.substr(0, o.find('='));
    std::erase_if(opts, [&](const std::string& have) {
      if (auto it = opposite.find(o); it != opposite.end() && have == it->second) return true;
      return o.find('=') != std::string::npos && have.substr(0, have.find('=')) == key;
    });
    opts.push_back(o);
  }
  opts.push_back("rprivate");
  return opts;
}

}  // namespace

std::vector<MountSpec> resolve_mounts(const ContainerSpec& spec, const json& config_volumes,
                                      const std::function<Container(const std::string&)>& container,
                                      VolumeService& volumes, std::vector<std::string>& made) {
  // By destination: what comes later replaces what came before, as dockerd layers them:
  // other containers' mounts, then the user's, then the image's VOLUMEs where nothing is.
  std::map<std::string, MountSpec> by_dst;
  for (auto& from : spec.volumes_from) {
    Container other = container(from.container);
    for (auto m : other.spec.mounts) {
      if (m.origin == MountSpec::Origin::kTmpfs || m.type == Type::kTmpfs) continue;
      m.origin = MountSpec::Origin::kVolumesFrom;
      if (from.mode == "ro") m.read_only = true;
      if (from.mode == "rw") m.read_only = false;
      by_dst[m.destination] = m;
    }
  }
  for (auto& m : spec.mounts) by_dst[m.destination] = m;
  if (config_volumes.is_object())
    for (auto& [path, unused] : config_volumes.items()) {
      MountSpec m;
      m.type = Type::kVolume;
      m.origin = MountSpec::Origin::kImage;
      m.anonymous = true;
      m.destination = path;
      if (m.destination.empty() || m.destination[0] != '/')
        throw InvalidArgument("invalid mount config for type \"volume\": invalid mount path: '" +
                              path + "' mount path must be absolute");
      if (m.destination.size() > 1 && m.destination.back() == '/') m.destination.pop_back();
      by_dst.try_emplace(m.destination, m);
    }

  std::vector<MountSpec> out;
  for (auto& [dst, m] : by_dst) {
    if (m.type == Type::kBind && m.origin != MountSpec::Origin::kVolumesFrom) {
      struct stat st;
      if (::stat(m.source.c_str(), &st) < 0) {
        if (errno != ENOENT) throw_errno("bind source " + m.source);
        if (!m.create_host_path)
          throw InvalidArgument(
              "invalid mount config for type \"bind\": bind source path does not exist: " +
              m.source);
        // -v makes the host directory it names, as Docker does.
        mkdir_p(m.source, 0755);
      }
    }
    if (m.type == Type::kVolume && m.origin != MountSpec::Origin::kVolumesFrom) {
      volume::CreateOptions opts;
      opts.name = m.source;
      if (!m.driver.empty()) opts.driver = m.driver;
      opts.options = m.driver_opts;
      opts.labels = m.labels;
      if (m.anonymous) opts.labels[volume::kAnonymousLabel] = "";
      auto v = volumes.create(opts);
      if (m.anonymous) made.push_back(v.name);
      m.source = v.name;
      m.driver = v.driver;
      m.host_path = v.mountpoint;
    }
    out.push_back(m);
  }
  return out;
}

bool image_may_have(const std::vector<std::string>& layers, const std::string& path) {
  std::vector<UniqueFd> dirs;
  for (auto& l : layers) {
    dirs.emplace_back(::open(l.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dirs.back()) return true;
  }
  std::string prefix;
  std::istringstream parts(path);
  for (std::string part; std::getline(parts, part, '/');) {
    if (part.empty() || part == ".") continue;
    if (part == "..") return true;
    prefix += (prefix.empty() ? "" : "/") + part;
    bool found = false;
    for (auto& d : dirs) {
      struct stat st;
      if (::fstatat(d.get(), prefix.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT || errno == ENOTDIR) continue;
        return true;
      }
      // A link may lead anywhere in the merged view. Whiteouts and files on the way are
      // taken as the lower layers' content: a lookup too many, never one too few.
      if (S_ISLNK(st.st_mode)) return true;
      found = true;
    }
    if (!found) return false;
  }
  return true;
}

bool needs_copy_up(const std::vector<MountSpec>& mounts, const std::vector<std::string>& layers) {
  return std::any_of(mounts.begin(), mounts.end(), [&](const MountSpec& m) {
    return copies_up(m) && image_may_have(layers, m.destination);
  });
}

void copy_up_volumes(const std::vector<MountSpec>& mounts, const std::string& rootfs,
                     VolumeService& volumes) {
  UniqueFd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) throw_errno("open " + rootfs);
  for (auto& m : mounts) {
    if (!copies_up(m)) continue;
    UniqueFd image_dir = open_in_root(root.get(), m.destination, O_PATH | O_DIRECTORY);
    if (!image_dir) continue;  // nothing of the image's there
    volume::copy_up(image_dir.get(), volumes.data(volumes.get(m.source)));
  }
}

std::vector<oci::Mount> prepare_mounts(const Container& c, VolumeService& volumes) {
  std::vector<oci::Mount> out;
  for (auto* m : parents_first(c.spec.mounts, true)) {
    if (m->type == Type::kTmpfs) {
      out.push_back({m->destination, "tmpfs", "tmpfs", tmpfs_options(*m)});
      continue;
    }
    std::string source = m->source;
    if (m->type == Type::kVolume) {
      auto v = volumes.get(m->source);
      std::string data = volumes.mount(v, c.id, m->destination, m->read_only, m->propagation);
      source = data;
      if (!m->subpath.empty()) {
        UniqueFd dir(::open(data.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!dir) throw_errno("open volume " + v.name);
        UniqueFd sub = open_in_root(dir.get(), m->subpath, O_PATH);
        if (!sub) throw_errno("cannot access path " + m->subpath + " in volume " + v.name);
        // The directory it resolved to inside the volume: a link in the volume that points
        // elsewhere is followed within the volume, never out of it.
        char real[4096];
        auto fdpath = "/proc/self/fd/" + std::to_string(sub.get());
        ssize_t n = ::readlink(fdpath.c_str(), real, sizeof real - 1);
        if (n < 0) throw_errno("resolve " + m->subpath + " in volume " + v.name);
        source.assign(real, static_cast<size_t>(n));
      }
    }
    std::vector<std::string> opts = {m->non_recursive ? "bind" : "rbind"};
    if (m->read_only) opts.push_back("ro");
    // Read-only all the way down, as dockerd makes it: a mount below the source stays
    // writable otherwise.
    if (m->read_only && !m->non_recursive && !m->readonly_non_recursive) opts.push_back("rro");
    opts.push_back(m->propagation.empty() ? "rprivate" : m->propagation);
    out.push_back({m->destination, "bind", source, std::move(opts)});
  }
  return out;
}

void bind_mounts_into(const Container& c, const std::string& rootfs, VolumeService& volumes) {
  for (auto* m : parents_first(c.spec.mounts, false)) {
    std::string source = m->source;
    if (m->type == Type::kVolume)
      source = path_join(volumes.data(volumes.get(m->source)), m->subpath);
    struct stat st;
    if (::stat(source.c_str(), &st) < 0) throw_errno("mount source " + source);
    // The mount point, made inside the root as a start would make it.
    std::string dst = m->destination;
    std::string parent = dst.substr(0, dst.rfind('/'));
    mkdir_in_root(rootfs, S_ISDIR(st.st_mode) ? dst : (parent.empty() ? "/" : parent));
    UniqueFd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) throw_errno("open " + rootfs);
    if (!S_ISDIR(st.st_mode)) {
      UniqueFd dir = open_in_root(root.get(), parent.empty() ? "/" : parent, O_PATH | O_DIRECTORY);
      if (!dir) throw_errno("open " + parent + " in the container");
      std::string name = dst.substr(dst.rfind('/') + 1);
      UniqueFd f(
          ::openat(dir.get(), name.c_str(), O_CREAT | O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0644));
      if (!f && errno != ELOOP) throw_errno("create mount point " + dst);
    }
    UniqueFd target = open_in_root(root.get(), dst, O_PATH);
    if (!target) throw_errno("open mount point " + dst);
    std::string at = "/proc/self/fd/" + std::to_string(target.get());
    unsigned long flags = MS_BIND | (m->non_recursive ? 0 : MS_REC);
    if (::mount(source.c_str(), at.c_str(), nullptr, flags, nullptr) < 0)
      throw_errno("mount " + source + " on " + dst);
    if (m->read_only) {
      UniqueFd top = open_in_root(root.get(), dst, O_PATH);
      std::string top_at = "/proc/self/fd/" + std::to_string(top.get());
      if (!top ||
          ::mount(nullptr, top_at.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) < 0)
        throw_errno("make " + dst + " read-only");
    }
  }
}

void release_mounts(const Container& c, VolumeService& volumes,
                    const std::function<bool(const std::string&)>& in_use_elsewhere) {
  for (auto& m : c.spec.mounts) {
    if (m.type != Type::kVolume) continue;
    if (auto v = volumes.find(m.source)) volumes.unmount(*v, c.id, in_use_elsewhere(m.source));
  }
}

json mounts_json(const std::vector<MountSpec>& mounts) {
  json out = json::array();
  for (auto& m : mounts) {
    // --tmpfs is HostConfig.Tmpfs's alone: dockerd lists it nowhere else.
    if (m.origin == MountSpec::Origin::kTmpfs) continue;
    json j;
    switch (m.type) {
      case Type::kBind:
        j = {{"Type", "bind"}, {"Source", m.source}};
        break;
      case Type::kVolume:
        j = {{"Type", "volume"}, {"Name", m.source}, {"Source", m.host_path}};
        break;
      case Type::kTmpfs:
        j = {{"Type", "tmpfs"}, {"Source", ""}};
        break;
    }
    j["Destination"] = m.destination;
    if (m.type == Type::kVolume) j["Driver"] = m.driver.empty() ? "local" : m.driver;
    j["Mode"] = m.mode;
    j["RW"] = !m.read_only;
    j["Propagation"] = m.type == Type::kBind ? m.propagation : "";
    out.push_back(j);
  }
  return out;
}

bool uses_volume(const Container& c, const std::string& name) {
  return std::any_of(c.spec.mounts.begin(), c.spec.mounts.end(), [&](const MountSpec& m) {
    return m.type == Type::kVolume && m.source == name;
  });
}

}  // namespace berth::engine

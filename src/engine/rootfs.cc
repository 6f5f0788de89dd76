#include "engine/rootfs.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "base/error.h"
#include "base/fd.h"
#include "base/fs.h"

namespace berth::engine {

ContainerRootfs::ContainerRootfs(std::string overlay_root, std::string container_id)
    : dir_(path_join(overlay_root, container_id)) {}

void ContainerRootfs::prepare() const {
  mkdir_p(dir_ + "/diff", 0755);
  mkdir_p(dir_ + "/work", 0700);
  mkdir_p(dir_ + "/merged", 0700);
}

std::string ContainerRootfs::mount(const std::vector<std::string>& lower_dirs) const {
  prepare();
  std::string merged = this->merged();
  if (is_mountpoint(merged)) return merged;
  std::string lower;
  for (auto& d : lower_dirs) lower += (lower.empty() ? "" : ":") + d;
  if (lower.empty()) {
    // An image without layers (FROM scratch with no files): overlay needs one lower layer.
    mkdir_p(dir_ + "/empty", 0755);
    lower = dir_ + "/empty";
  }
  std::string opts = "lowerdir=" + lower + ",upperdir=" + dir_ + "/diff,workdir=" + dir_ + "/work";
  // The kernel takes at most a page of mount options; Docker shortens the paths with
  // symlinks for very deep images. A layer path is ~100 bytes, so ~35 layers fit.
  if (opts.size() >= 4096)
    throw Error("mount rootfs " + merged + ": image has too many layers (" +
                std::to_string(lower_dirs.size()) + ")");
  // "volatile": overlay never syncs the whole upper filesystem, which it otherwise does when
  // the last reference to the mount goes (5-30 ms per container exit here, more while other
  // processes write). That is berth's durability rule for layers anyway: not fsynced, a power
  // loss may lose the last moments. Kernels before 5.10 refuse the option.
  static std::atomic<bool> volatile_ok{true};
  if (volatile_ok) {
    // The kernel leaves this marker behind and refuses to mount over it again, so that a user
    // who does not know about volatile discards a writable layer that a crash may have cut.
    remove_all(dir_ + "/work/work/incompat");
    if (::mount("overlay", merged.c_str(), "overlay", 0, (opts + ",volatile").c_str()) == 0)
      return merged;
    if (errno != EINVAL) throw_errno("mount overlay on " + merged);
    volatile_ok = false;
  }
  if (::mount("overlay", merged.c_str(), "overlay", 0, opts.c_str()) < 0)
    throw_errno("mount overlay on " + merged);
  return merged;
}

void ContainerRootfs::unmount() const {
  std::string merged = this->merged();
  if (!is_mountpoint(merged)) return;
  if (::umount2(merged.c_str(), MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
    throw_errno("unmount " + merged);
}

void ContainerRootfs::remove() const {
  unmount();
  remove_all(dir_);
}

void mkdir_in_root(const std::string& root, const std::string& path) {
  UniqueFd dir(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) throw_errno("open " + root);
  std::string walked;
  for (auto& part : split(path, '/')) {
    if (part.empty() || part == ".") continue;
    walked += "/" + part;
    open_how how{};
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT;
    int fd = static_cast<int>(::syscall(SYS_openat2, dir.get(), walked.c_str(), &how, sizeof how));
    if (fd >= 0) {
      ::close(fd);
      continue;
    }
    if (errno != ENOENT) throw_errno("working directory " + walked);
    // The parent exists (resolved inside the root): create the last component in it.
    std::string parent = walked.substr(0, walked.rfind('/'));
    int pfd = static_cast<int>(
        ::syscall(SYS_openat2, dir.get(), parent.empty() ? "/" : parent.c_str(), &how, sizeof how));
    if (pfd < 0) throw_errno("working directory " + parent);
    UniqueFd p(pfd);
    if (::mkdirat(p.get(), part.c_str(), 0755) < 0 && errno != EEXIST)
      throw_errno("create working directory " + walked);
  }
}

}  // namespace berth::engine

#include "engine/shared_shm.h"

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <cerrno>

#include "base/error.h"
#include "base/fs.h"

namespace berth::engine {

std::string shareable_shm_path(const std::string& container_dir) {
  return path_join(container_dir, "mounts/shm");
}

void mount_shareable_shm(const std::string& container_dir, int64_t size) {
  std::string dir = shareable_shm_path(container_dir);
  mkdir_p(dir, 0700);
  struct statfs fs {};
  if (::statfs(dir.c_str(), &fs) == 0 && fs.f_type == TMPFS_MAGIC) return;
  std::string opts = "mode=1777,size=" + std::to_string(size > 0 ? size : int64_t{64} << 20);
  if (::mount("shm", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts.c_str()) < 0)
    throw_errno("mount the shareable /dev/shm at " + dir);
}

void unmount_shareable_shm(const std::string& container_dir) {
  std::string dir = shareable_shm_path(container_dir);
  if (::umount2(dir.c_str(), MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
    throw_errno("unmount " + dir);
}

}  // namespace berth::engine

// Copy-up: the image's content under a volume's mount point is copied into the volume the
// first time it is used empty, so that `VOLUME /var/lib/app` over packaged files, or a named
// volume over /etc/app, starts out with what the image had (Docker's copyExistingContents).
// Every entry is created relative to a directory fd with O_NOFOLLOW and O_EXCL: a link that
// something else plants in the volume meanwhile is never followed.
#include <dirent.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/dir.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/fs.h"
#include "volume/volume.h"

namespace berth::volume {
namespace {

struct Copier {
  int target_root;  // for linkat to the first copy of a hard-linked file
  std::map<std::pair<dev_t, ino_t>, std::string> linked;  // source inode -> path in target

  void copy_dir(int src, int dst, const std::string& rel);
  void copy_entry(int src, int dst, const std::string& name, const std::string& rel);
};

void copy_xattrs(int from, int to, const std::string& what) {
  ssize_t n = ::flistxattr(from, nullptr, 0);
  if (n <= 0) return;
  std::vector<char> names(static_cast<size_t>(n));
  n = ::flistxattr(from, names.data(), names.size());
  if (n < 0) throw_errno("list extended attributes of " + what);
  std::vector<char> value;
  for (size_t i = 0; i < static_cast<size_t>(n);) {
    const char* name = names.data() + i;
    i += std::char_traits<char>::length(name) + 1;
    ssize_t len = ::fgetxattr(from, name, nullptr, 0);
    if (len < 0) continue;
    value.resize(static_cast<size_t>(len));
    len = ::fgetxattr(from, name, value.data(), value.size());
    if (len < 0) continue;
    // A label the volume's file system does not take (selinux on a system without it) is not
    // the user's data.
    if (::fsetxattr(to, name, value.data(), static_cast<size_t>(len), 0) < 0 && errno != ENOTSUP &&
        errno != EPERM)
      throw_errno(std::string("set extended attribute ") + name + " on " + what);
  }
}

// Owner, then mode (a chown clears set-id bits), then times, last of all.
void copy_meta(int fd, const struct stat& st, const std::string& what) {
  if (::fchown(fd, st.st_uid, st.st_gid) < 0) throw_errno("chown " + what);
  if (::fchmod(fd, st.st_mode & 07777) < 0) throw_errno("chmod " + what);
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (::futimens(fd, times) < 0) throw_errno("set times of " + what);
}

void copy_bytes(int from, int to, off_t size, const std::string& what) {
  off_t left = size;
  bool same_fs = true;
  while (left > 0) {
    ssize_t n = -1;
    if (same_fs) {
      n = ::copy_file_range(from, nullptr, to, nullptr, static_cast<size_t>(left), 0);
      if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
        same_fs = false;
        continue;
      }
    } else {
      n = ::sendfile(to, from, nullptr, static_cast<size_t>(left));
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("copy " + what);
    }
    if (n == 0) break;  // the file shrank meanwhile
    left -= n;
  }
}

void Copier::copy_entry(int src, int dst, const std::string& name, const std::string& rel) {
  struct stat st;
  if (::fstatat(src, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) throw_errno("stat " + rel);
  switch (st.st_mode & S_IFMT) {
    case S_IFDIR: {
      if (::mkdirat(dst, name.c_str(), 0700) < 0) throw_errno("create " + rel);
      UniqueFd from(::openat(src, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!from) throw_errno("open " + rel);
      UniqueFd to(::openat(dst, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!to) throw_errno("open " + rel);
      copy_dir(from.get(), to.get(), rel);
      copy_xattrs(from.get(), to.get(), rel);
      copy_meta(to.get(), st, rel);
      return;
    }
    case S_IFREG: {
      if (st.st_nlink > 1) {
        auto [it, first] = linked.try_emplace({st.st_dev, st.st_ino}, rel);
        if (!first) {
          if (::linkat(target_root, it->second.c_str(), dst, name.c_str(), 0) < 0)
            throw_errno("link " + rel + " to " + it->second);
          return;
        }
      }
      UniqueFd from(::openat(src, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      if (!from) throw_errno("open " + rel);
      UniqueFd to(
          ::openat(dst, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!to) throw_errno("create " + rel);
      copy_bytes(from.get(), to.get(), st.st_size, rel);
      copy_xattrs(from.get(), to.get(), rel);
      copy_meta(to.get(), st, rel);
      return;
    }
    case S_IFLNK: {
      std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
      ssize_t n = ::readlinkat(src, name.c_str(), target.data(), target.size());
      if (n < 0) throw_errno("read link " + rel);
      target.resize(static_cast<size_t>(n));
      if (::symlinkat(target.c_str(), dst, name.c_str()) < 0) throw_errno("create link " + rel);
      break;
    }
    default:
      // Devices, fifos and sockets, as the image has them.
      if (::mknodat(dst, name.c_str(), st.st_mode, st.st_rdev) < 0) throw_errno("create " + rel);
      break;
  }
  if (::fchownat(dst, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
    throw_errno("chown " + rel);
  if (!S_ISLNK(st.st_mode) && ::fchmodat(dst, name.c_str(), st.st_mode & 07777, 0) < 0)
    throw_errno("chmod " + rel);
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (::utimensat(dst, name.c_str(), times, AT_SYMLINK_NOFOLLOW) < 0)
    throw_errno("set times of " + rel);
}

void Copier::copy_dir(int src, int dst, const std::string& rel) {
  for (auto& n : dir_names(src)) copy_entry(src, dst, n, rel.empty() ? n : rel + "/" + n);
}

bool empty_dir(int fd) {
  UniqueFd listing(::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!listing) throw_errno("open volume");
  DIR* d = ::fdopendir(listing.get());
  if (!d) throw_errno("list volume");
  listing.release();
  bool empty = true;
  while (auto* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") {
      empty = false;
      break;
    }
  }
  ::closedir(d);
  return empty;
}

}  // namespace

void copy_up(int source_dir_fd, const std::string& target) {
  UniqueFd dst(::open(target.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dst) throw_errno("open volume " + target);
  if (!empty_dir(dst.get())) return;
  UniqueFd src(::openat(source_dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!src) throw_errno("open the image's directory for " + target);
  Copier c{dst.get(), {}};
  try {
    c.copy_dir(src.get(), dst.get(), "");
  } catch (const std::exception& e) {
    // Emptied again: a half copy would pass for the volume's data, and the next use retries.
    for (auto& entry : list_dir(target)) remove_all(target + "/" + entry);
    rethrow_with_context(e, "copy the image's content into volume " + target);
  }
  // The volume's root takes the image directory's owner and mode, as with Docker.
  struct stat st;
  if (::fstat(src.get(), &st) < 0) throw_errno("stat the image's directory for " + target);
  copy_xattrs(src.get(), dst.get(), target);
  copy_meta(dst.get(), st, target);
}

}  // namespace berth::volume

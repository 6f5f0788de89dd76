#include "image/layer_diff.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "base/error.h"
#include "base/fd.h"

namespace berth::image {
namespace {

using EntryPtr = std::unique_ptr<archive_entry, decltype(&archive_entry_free)>;

// The names in a directory, sorted as Docker's walk sorts them (bytewise).
std::vector<std::string> sorted_names(int dirfd, const std::string& rel) {
  int fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw_errno("layer diff: open " + rel);
  DIR* d = ::fdopendir(fd);
  if (!d) {
    ::close(fd);
    throw_errno("layer diff: read " + rel);
  }
  std::vector<std::string> names;
  while (auto* ent = ::readdir(d)) {
    std::string_view n = ent->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

class LayerTar {
 public:
  LayerTar(const std::function<bool(const std::string&)>& keep, const WriteFn& out)
      : keep_(keep), out_(out), w_(archive_write_new(), archive_write_free) {
    archive_write_set_format_pax_restricted(w_.get());
    // No padding to a 10 KiB record: an empty diff is exactly Docker's empty tar.
    archive_write_set_bytes_per_block(w_.get(), 0);
    if (archive_write_open(w_.get(), this, nullptr, &LayerTar::write_cb, nullptr) != ARCHIVE_OK)
      fail("open");
  }

  void walk(int dirfd, const std::string& rel) {
    for (auto& name : sorted_names(dirfd, rel.empty() ? "/" : rel)) {
      std::string path = rel.empty() ? name : rel + "/" + name;
      if (!keep_("/" + path)) continue;
      struct stat st;
      if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
        // A running container (commit --pause=false) may delete what was just listed.
        if (errno == ENOENT) continue;
        throw_errno("layer diff: stat " + path);
      }
      add(dirfd, name, path, st);
    }
  }

  uint64_t finish() {
    if (archive_write_close(w_.get()) != ARCHIVE_OK) fail("close");
    return count_;
  }

 private:
  static la_ssize_t write_cb(archive*, void* ctx, const void* buf, size_t len) {
    auto* self = static_cast<LayerTar*>(ctx);
    try {
      self->out_(std::string_view(static_cast<const char*>(buf), len));
      return static_cast<la_ssize_t>(len);
    } catch (const std::exception& e) {
      self->sink_error_ = e.what();
      return -1;
    }
  }

  [[noreturn]] void fail(const std::string& what) {
    throw Error("layer diff: " + what + ": " +
                (sink_error_.empty() ? std::string(archive_error_string(w_.get())) : sink_error_));
  }

  static EntryPtr entry(const std::string& path, const struct stat& st) {
    EntryPtr e(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(e.get(), path.c_str());
    archive_entry_set_mode(e.get(), st.st_mode);
    archive_entry_set_uid(e.get(), st.st_uid);
    archive_entry_set_gid(e.get(), st.st_gid);
    archive_entry_set_mtime(e.get(), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    return e;
  }

  // Docker keeps one extended attribute in layers: file capabilities.
  static void copy_capability(int fd, archive_entry* e) {
    char buf[256];
    ssize_t n = ::fgetxattr(fd, "security.capability", buf, sizeof buf);
    if (n > 0) archive_entry_xattr_add_entry(e, "security.capability", buf, static_cast<size_t>(n));
  }

  // A renamed directory (redirect_dir) or a file whose data stays below (metacopy) names
  // content in the lower layers that a tar of the upper directory would not carry.
  static void refuse_overlay_references(int fd, const std::string& path) {
    for (const char* attr : {"trusted.overlay.redirect", "trusted.overlay.metacopy"})
      if (::fgetxattr(fd, attr, nullptr, 0) >= 0)
        throw Error("layer diff: " + path + " has " + attr +
                    ": overlayfs redirect_dir and metacopy must be off to commit");
  }

  void header(archive_entry* e, const std::string& path) {
    if (archive_write_header(w_.get(), e) != ARCHIVE_OK) fail(path);
    count_++;
  }

  // An empty regular file standing for a whiteout, owned and dated like what it stands for.
  void marker(const std::string& path, const struct stat& like, mode_t perm) {
    auto e = entry(path, like);
    archive_entry_set_mode(e.get(), AE_IFREG | perm);
    archive_entry_set_size(e.get(), 0);
    header(e.get(), path);
  }

  void add(int dirfd, const std::string& name, const std::string& path, const struct stat& st) {
    if (S_ISCHR(st.st_mode) && st.st_rdev == 0) {
      auto slash = path.rfind('/');
      std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
      marker(dir + ".wh." + name, st, 0600);
      return;
    }
    if (S_ISDIR(st.st_mode)) {
      UniqueFd sub(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub) {
        if (errno == ENOENT) return;
        throw_errno("layer diff: open " + path);
      }
      refuse_overlay_references(sub.get(), path);
      // A directory's name ends in "/", as in Docker's layers.
      auto e = entry(path + "/", st);
      copy_capability(sub.get(), e.get());
      header(e.get(), path);
      char v = 0;
      if (::fgetxattr(sub.get(), "trusted.overlay.opaque", &v, 1) == 1 && v == 'y')
        marker(path + "/.wh..wh..opq", st, st.st_mode & 0777);
      walk(sub.get(), path);
      return;
    }
    if (S_ISSOCK(st.st_mode)) return;  // a tar cannot hold one; Docker leaves them out too
    auto e = entry(path, st);
    if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
      ssize_t n = ::readlinkat(dirfd, name.c_str(), target.data(), target.size());
      if (n < 0) throw_errno("layer diff: readlink " + path);
      target.resize(static_cast<size_t>(n));
      archive_entry_set_symlink(e.get(), target.c_str());
      header(e.get(), path);
      return;
    }
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
      archive_entry_set_rdev(e.get(), st.st_rdev);
      header(e.get(), path);
      return;
    }
    // A regular file: a second name of the same inode is a hard link to the first.
    if (st.st_nlink > 1) {
      auto [it, fresh] = links_.try_emplace({st.st_dev, st.st_ino}, path);
      if (!fresh) {
        archive_entry_set_hardlink(e.get(), it->second.c_str());
        archive_entry_set_size(e.get(), 0);
        header(e.get(), path);
        return;
      }
    }
    UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
      if (errno == ENOENT) return;
      throw_errno("layer diff: open " + path);
    }
    refuse_overlay_references(fd.get(), path);
    copy_capability(fd.get(), e.get());
    archive_entry_set_size(e.get(), st.st_size);
    header(e.get(), path);
    // A file that shrinks meanwhile is padded with zeros by libarchive; one that grows is cut
    // at the size in its header.
    std::vector<char> buf(1 << 20);
    off_t left = st.st_size;
    while (left > 0) {
      ssize_t n = ::read(fd.get(), buf.data(), std::min<size_t>(buf.size(), left));
      if (n < 0) {
        if (errno == EINTR) continue;
        throw_errno("layer diff: read " + path);
      }
      if (n == 0) break;
      if (archive_write_data(w_.get(), buf.data(), static_cast<size_t>(n)) < 0) fail(path);
      left -= n;
    }
  }

  const std::function<bool(const std::string&)>& keep_;
  const WriteFn& out_;
  std::unique_ptr<archive, decltype(&archive_write_free)> w_;
  std::string sink_error_;
  uint64_t count_ = 0;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;
};

}  // namespace

uint64_t write_layer_tar(const std::string& upper,
                         const std::function<bool(const std::string& path)>& keep,
                         const WriteFn& out) {
  UniqueFd root(::open(upper.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!root) throw_errno("layer diff: open " + upper);
  LayerTar tar(keep, out);
  tar.walk(root.get(), "");
  return tar.finish();
}

}  // namespace berth::image

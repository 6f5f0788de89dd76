#include "image/layer.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

#include "base/error.h"
#include "base/fd.h"
#include "base/fs.h"
#include "image/archive_source.h"

namespace berth::image {
namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaque = ".wh..wh..opq";

[[noreturn]] void bad(const std::string& path, const std::string& why) {
  throw Error("layer: " + path + ": " + why);
}

// "./a//b/" -> "a/b"; refuses ".." so that nothing names a place outside the layer.
std::string clean_path(const std::string& raw) {
  std::string out;
  for (auto& part : split(raw, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") bad(raw, "path leaves the layer");
    if (!out.empty()) out.push_back('/');
    out += part;
  }
  return out;
}

// Opens a path below the layer root without following any symlink on the way, so an
// entry cannot write through a link that an earlier entry planted.
int open_beneath(int rootfd, const std::string& path, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC | O_NOFOLLOW);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(
      ::syscall(SYS_openat2, rootfd, path.empty() ? "." : path.c_str(), &how, sizeof how));
}

// The parent directory of `path` (created as needed) and the last component.
std::pair<UniqueFd, std::string> parent_of(int rootfd, const std::string& path) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "" : path.substr(0, slash);
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  std::string walked;
  for (auto& part : split(dir, '/')) {
    if (part.empty()) continue;
    std::string next = walked.empty() ? part : walked + "/" + part;
    UniqueFd p(open_beneath(rootfd, walked, O_PATH | O_DIRECTORY));
    if (!p) bad(path, std::string("parent ") + walked + ": " + std::strerror(errno));
    if (::mkdirat(p.get(), part.c_str(), 0755) < 0 && errno != EEXIST)
      bad(path, "mkdir " + next + ": " + std::strerror(errno));
    walked = next;
  }
  UniqueFd parent(open_beneath(rootfd, dir, O_PATH | O_DIRECTORY));
  if (!parent) bad(path, "goes through a symlink or a non-directory");
  return {std::move(parent), name};
}

void remove_existing(int dirfd, const std::string& name, bool keep_dir) {
  struct stat st;
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return;
  if (S_ISDIR(st.st_mode)) {
    if (keep_dir) return;
    // A directory replaced by something else: remove it whole.
    std::string proc = "/proc/self/fd/" + std::to_string(dirfd) + "/" + name;
    remove_all(proc);
    return;
  }
  ::unlinkat(dirfd, name.c_str(), 0);
}

void set_metadata(int dirfd, const std::string& name, archive_entry* e, bool is_link) {
  if (::fchownat(dirfd, name.c_str(), static_cast<uid_t>(archive_entry_uid(e)),
                 static_cast<gid_t>(archive_entry_gid(e)), AT_SYMLINK_NOFOLLOW) < 0)
    throw_errno("layer: chown " + name);
  if (!is_link && ::fchmodat(dirfd, name.c_str(), archive_entry_mode(e) & 07777, 0) < 0)
    throw_errno("layer: chmod " + name);
  timespec times[2] = {{archive_entry_atime(e), archive_entry_atime_nsec(e)},
                       {archive_entry_mtime(e), archive_entry_mtime_nsec(e)}};
  if (!archive_entry_atime_is_set(e)) times[0] = times[1];
  ::utimensat(dirfd, name.c_str(), times, AT_SYMLINK_NOFOLLOW);
}

void write_xattrs(int fd, archive_entry* e, const std::string& path) {
  const char* name;
  const void* value;
  size_t size;
  archive_entry_xattr_reset(e);
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
    // Only what a container may carry: file capabilities and user attributes.
    std::string n = name;
    if (n.rfind("user.", 0) != 0 && n != "security.capability") continue;
    if (::fsetxattr(fd, name, value, size, 0) < 0 && errno != ENOTSUP)
      throw_errno("layer: set xattr " + n + " on " + path);
  }
}

// pwrite until done: a short write (a full disk) ends in an error naming its errno.
void write_at(int fd, const char* buf, size_t size, off_t offset, const std::string& path) {
  while (size > 0) {
    ssize_t n = ::pwrite(fd, buf, size, offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("layer: write " + path);
    }
    if (n == 0) throw_errno("layer: write " + path, ENOSPC);
    buf += n;
    size -= static_cast<size_t>(n);
    offset += n;
  }
}

class Unpacker {
 public:
  Unpacker(int rootfd, archive* a) : rootfd_(rootfd), a_(a) {}

  void entry(archive_entry* e, LayerStats& stats) {
    const char* raw = archive_entry_pathname(e);
    if (!raw) bad("(unnamed)", "entry without a name");
    std::string path = clean_path(raw);
    if (path.empty()) return;  // the root itself
    auto [dirfd, name] = parent_of(rootfd_, path);
    if (name == kOpaque) {
      // overlayfs hides the lower layers' content of a directory marked opaque.
      UniqueFd d(
          open_beneath(rootfd_, path.substr(0, path.size() - name.size()), O_RDONLY | O_DIRECTORY));
      if (!d || ::fsetxattr(d.get(), "trusted.overlay.opaque", "y", 1, 0) < 0)
        throw_errno("layer: mark " + path + " opaque");
      return;
    }
    if (name.rfind(kWhiteoutPrefix, 0) == 0) {
      std::string hidden = name.substr(kWhiteoutPrefix.size());
      remove_existing(dirfd.get(), hidden, false);
      // overlayfs's whiteout: a 0:0 character device.
      if (::mknodat(dirfd.get(), hidden.c_str(), S_IFCHR | 0, makedev(0, 0)) < 0)
        throw_errno("layer: whiteout " + path);
      return;
    }
    stats.entries++;
    if (const char* hl = archive_entry_hardlink(e)) {
      std::string target = clean_path(hl);
      auto [tdir, tname] = parent_of(rootfd_, target);
      remove_existing(dirfd.get(), name, false);
      if (::linkat(tdir.get(), tname.c_str(), dirfd.get(), name.c_str(), 0) < 0)
        bad(path, "hard link to " + target + ": " + std::strerror(errno));
      return;
    }
    mode_t type = archive_entry_filetype(e);
    switch (type) {
      case AE_IFDIR: {
        remove_existing(dirfd.get(), name, true);
        if (::mkdirat(dirfd.get(), name.c_str(), 0755) < 0 && errno != EEXIST)
          throw_errno("layer: mkdir " + path);
        set_metadata(dirfd.get(), name, e, false);
        break;
      }
      case AE_IFREG: {
        remove_existing(dirfd.get(), name, false);
        UniqueFd f(::openat(dirfd.get(), name.c_str(),
                            O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
        if (!f) throw_errno("layer: create " + path);
        const void* buf;
        size_t size;
        la_int64_t offset;
        int rc;
        while ((rc = archive_read_data_block(a_, &buf, &size, &offset)) == ARCHIVE_OK) {
          write_at(f.get(), static_cast<const char*>(buf), size, offset, path);
          stats.bytes += size;
        }
        if (rc != ARCHIVE_EOF) bad(path, std::string("read: ") + archive_error_string(a_));
        // Sparse files end in a hole: the size comes from the header.
        if (::ftruncate(f.get(), archive_entry_size(e)) < 0) throw_errno("layer: truncate " + path);
        write_xattrs(f.get(), e, path);
        set_metadata(dirfd.get(), name, e, false);
        break;
      }
      case AE_IFLNK: {
        remove_existing(dirfd.get(), name, false);
        const char* target = archive_entry_symlink(e);
        if (!target) bad(path, "symlink without a target");
        // The target is stored as it is: it is resolved inside the container's root at run
        // time, and this unpacker never follows it.
        if (::symlinkat(target, dirfd.get(), name.c_str()) < 0)
          throw_errno("layer: symlink " + path);
        set_metadata(dirfd.get(), name, e, true);
        break;
      }
      case AE_IFIFO: {
        remove_existing(dirfd.get(), name, false);
        if (::mknodat(dirfd.get(), name.c_str(), S_IFIFO | 0600, 0) < 0)
          throw_errno("layer: mkfifo " + path);
        set_metadata(dirfd.get(), name, e, false);
        break;
      }
      default:
        // Device nodes and sockets are not created: a container gets its devices from the
        // runtime, never from an image.
        stats.entries--;
        break;
    }
  }

 private:
  int rootfd_;
  archive* a_;
};

// Unpacks from an archive that `open` has opened; `name` says where it came from in errors.
LayerStats unpack(const std::string& name, const std::string& dest,
                  const std::function<int(archive*)>& open) {
  if (::mkdir(dest.c_str(), 0755) < 0) throw_errno("layer: create " + dest);
  LayerStats stats;
  std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(), archive_read_free);
  try {
    archive_read_support_format_tar(a.get());
    archive_read_support_format_gnutar(a.get());
    archive_read_support_filter_gzip(a.get());
    archive_read_support_filter_zstd(a.get());
    archive_read_support_filter_none(a.get());
    if (open(a.get()) != ARCHIVE_OK)
      throw Error("layer: open " + name + ": " + archive_error_string(a.get()));
    UniqueFd rootfd(::open(dest.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!rootfd) throw_errno("layer: open " + dest);
    Unpacker u(rootfd.get(), a.get());
    archive_entry* e;
    int rc;
    while ((rc = archive_read_next_header(a.get(), &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN)
      u.entry(e, stats);
    if (rc != ARCHIVE_EOF) throw Error("layer: " + name + ": " + archive_error_string(a.get()));
  } catch (...) {
    // Half a layer is worse than none.
    try {
      remove_all(dest);
    } catch (const std::exception&) {
    }
    throw;
  }
  return stats;
}

}  // namespace

LayerStats apply_layer(const std::string& archive_path, const std::string& dest) {
  return unpack(archive_path, dest, [&](archive* a) {
    return archive_read_open_filename(a, archive_path.c_str(), 1 << 20);
  });
}

LayerStats apply_layer_stream(const std::function<size_t(char*, size_t)>& read,
                              const std::string& dest) {
  ArchiveSource src(read);
  return unpack("stream", dest, [&](archive* a) { return src.open(a); });
}

}  // namespace berth::image

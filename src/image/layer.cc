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

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

#include "base/error.h"
#include "base/fd.h"
#include "base/fs.h"

namespace berth::image {
namespace {

// libarchive's message for the last error, which it leaves unset for some failures (a gzip
// header it cannot read): never a null pointer to build a string from.
std::string archive_message(archive* a) {
  const char* msg = archive_error_string(a);
  return msg ? msg : "unknown archive error";
}

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

// atime and mtime from the header; a header without an atime gives the mtime for both.
void entry_times(archive_entry* e, timespec (&times)[2]) {
  times[0] = {archive_entry_atime(e), archive_entry_atime_nsec(e)};
  times[1] = {archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
  if (!archive_entry_atime_is_set(e)) times[0] = times[1];
}

// Owner, mode and times of an entry made by name (directories, symlinks, fifos). `chown`:
// the owner it was created with is not the entry's.
void set_metadata(int dirfd, const std::string& name, archive_entry* e, bool is_link, bool chown) {
  if (chown && ::fchownat(dirfd, name.c_str(), static_cast<uid_t>(archive_entry_uid(e)),
                          static_cast<gid_t>(archive_entry_gid(e)), AT_SYMLINK_NOFOLLOW) < 0)
    throw_errno("layer: chown " + name);
  if (!is_link && ::fchmodat(dirfd, name.c_str(), archive_entry_mode(e) & 07777, 0) < 0)
    throw_errno("layer: chmod " + name);
  timespec times[2];
  entry_times(e, times);
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

// Creates an entry that is normally new: only when the name is taken (an archive that lists
// a name twice) is the old entry looked at and removed. `make` returns what the creating
// syscall returned.
template <typename Make>
auto create(int dirfd, const std::string& name, Make make) {
  auto r = make();
  if (r < 0 && errno == EEXIST) {
    remove_existing(dirfd, name, false);
    r = make();
  }
  return r;
}

class Unpacker {
 public:
  Unpacker(int rootfd, archive* a) : rootfd_(rootfd), a_(a) {
    struct stat st;
    if (::fstat(rootfd, &st) < 0) throw_errno("layer: stat the layer root");
    root_gid_ = group_in(st);
  }

  void entry(archive_entry* e, LayerStats& stats) {
    const char* raw = archive_entry_pathname(e);
    if (!raw) bad("(unnamed)", "entry without a name");
    std::string path = clean_path(raw);
    if (path.empty()) return;  // the root itself
    std::string name = path.substr(path.rfind('/') + 1);
    int dirfd = parent(path);
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
      remove_existing(dirfd, hidden, false);
      // overlayfs's whiteout: a 0:0 character device.
      if (::mknodat(dirfd, hidden.c_str(), S_IFCHR | 0, makedev(0, 0)) < 0)
        throw_errno("layer: whiteout " + path);
      return;
    }
    stats.entries++;
    if (const char* hl = archive_entry_hardlink(e)) {
      std::string target = clean_path(hl);
      auto [tdir, tname] = parent_of(rootfd_, target);
      remove_existing(dirfd, name, false);
      if (::linkat(tdir.get(), tname.c_str(), dirfd, name.c_str(), 0) < 0)
        bad(path, "hard link to " + target + ": " + std::strerror(errno));
      return;
    }
    // An inode made here belongs to this process's user and to the group a new entry of
    // the parent gets: chown only when the header says otherwise.
    bool chown = static_cast<uid_t>(archive_entry_uid(e)) != uid_ ||
                 static_cast<gid_t>(archive_entry_gid(e)) != dirs_gid();
    mode_t type = archive_entry_filetype(e);
    switch (type) {
      case AE_IFDIR: {
        if (::mkdirat(dirfd, name.c_str(), 0755) < 0) {
          if (errno != EEXIST) throw_errno("layer: mkdir " + path);
          remove_existing(dirfd, name, true);
          if (::mkdirat(dirfd, name.c_str(), 0755) < 0 && errno != EEXIST)
            throw_errno("layer: mkdir " + path);
        }
        set_metadata(dirfd, name, e, false, chown);
        break;
      }
      case AE_IFREG:
        regular_file(dirfd, name, path, e, chown, stats);
        break;
      case AE_IFLNK: {
        const char* target = archive_entry_symlink(e);
        if (!target) bad(path, "symlink without a target");
        // The target is stored as it is: it is resolved inside the container's root at run
        // time, and this unpacker never follows it.
        if (create(dirfd, name, [&] { return ::symlinkat(target, dirfd, name.c_str()); }) < 0)
          throw_errno("layer: symlink " + path);
        set_metadata(dirfd, name, e, true, chown);
        break;
      }
      case AE_IFIFO: {
        if (create(dirfd, name, [&] { return ::mknodat(dirfd, name.c_str(), S_IFIFO | 0600, 0); }) <
            0)
          throw_errno("layer: mkfifo " + path);
        set_metadata(dirfd, name, e, false, chown);
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
  struct OpenDir {
    std::string name;
    UniqueFd fd;
    gid_t gid;  // the group of what is created in it
  };

  // setgid directories hand their group down; others leave the creator's.
  gid_t group_in(const struct stat& dir) const {
    return (dir.st_mode & S_ISGID) ? dir.st_gid : gid_;
  }

  gid_t dirs_gid() const { return dirs_.empty() ? root_gid_ : dirs_.back().gid; }

  // The parent directory of `path`, created as needed, each step opened without following
  // a symlink. The directories of the previous entry's parent stay open: a tar lists a
  // directory's entries together, so most entries cost no lookup here. Only this entry's
  // ancestors are ever kept, and an entry can only replace or remove a name in its own
  // parent, so what is kept is never stale.
  int parent(const std::string& path) {
    auto parts = split(path, '/');
    parts.pop_back();
    size_t keep = 0;
    while (keep < dirs_.size() && keep < parts.size() && dirs_[keep].name == parts[keep]) keep++;
    dirs_.resize(keep);
    for (size_t i = keep; i < parts.size(); i++) {
      int at = dirs_.empty() ? rootfd_ : dirs_.back().fd.get();
      const std::string& part = parts[i];
      if (::mkdirat(at, part.c_str(), 0755) < 0 && errno != EEXIST)
        bad(path, "mkdir " + part + ": " + std::strerror(errno));
      UniqueFd fd(open_beneath(at, part, O_PATH | O_DIRECTORY));
      if (!fd) bad(path, "goes through a symlink or a non-directory (" + part + ")");
      struct stat st;
      if (::fstat(fd.get(), &st) < 0) throw_errno("layer: stat " + part);
      dirs_.push_back({part, std::move(fd), group_in(st)});
    }
    return dirs_.empty() ? rootfd_ : dirs_.back().fd.get();
  }

  void regular_file(int dirfd, const std::string& name, const std::string& path, archive_entry* e,
                    bool chown, LayerStats& stats) {
    UniqueFd f(create(dirfd, name, [&] {
      return ::openat(dirfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                      0600);
    }));
    if (!f) throw_errno("layer: create " + path);
    const void* buf;
    size_t size;
    la_int64_t offset;
    int rc;
    la_int64_t end = 0;
    while ((rc = archive_read_data_block(a_, &buf, &size, &offset)) == ARCHIVE_OK) {
      write_at(f.get(), static_cast<const char*>(buf), size, offset, path);
      stats.bytes += size;
      end = std::max(end, offset + static_cast<la_int64_t>(size));
    }
    if (rc != ARCHIVE_EOF) bad(path, "read: " + archive_message(a_));
    // Sparse files end in a hole: the size comes from the header.
    if (end != archive_entry_size(e) && ::ftruncate(f.get(), archive_entry_size(e)) < 0)
      throw_errno("layer: truncate " + path);
    // chown drops file capabilities and setuid bits: the mode and the xattrs come after it.
    if (chown && ::fchown(f.get(), static_cast<uid_t>(archive_entry_uid(e)),
                          static_cast<gid_t>(archive_entry_gid(e))) < 0)
      throw_errno("layer: chown " + path);
    if (::fchmod(f.get(), archive_entry_mode(e) & 07777) < 0) throw_errno("layer: chmod " + path);
    write_xattrs(f.get(), e, path);
    timespec times[2];
    entry_times(e, times);
    ::futimens(f.get(), times);
  }

  int rootfd_;
  archive* a_;
  uid_t uid_ = ::geteuid();
  gid_t gid_ = ::getegid();
  gid_t root_gid_;
  std::vector<OpenDir> dirs_;
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
      throw Error("layer: open " + name + ": " + archive_message(a.get()));
    UniqueFd rootfd(::open(dest.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!rootfd) throw_errno("layer: open " + dest);
    Unpacker u(rootfd.get(), a.get());
    archive_entry* e;
    int rc;
    while ((rc = archive_read_next_header(a.get(), &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN)
      u.entry(e, stats);
    if (rc != ARCHIVE_EOF) throw Error("layer: " + name + ": " + archive_message(a.get()));
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

LayerStats apply_layer_blocks(const BlockFn& next, const std::string& dest) {
  struct Source {
    const BlockFn& next;
    static la_ssize_t read(archive* a, void* ctx, const void** out) {
      try {
        std::string_view block = static_cast<Source*>(ctx)->next();
        *out = block.data();
        return static_cast<la_ssize_t>(block.size());
      } catch (const std::exception& e) {
        // Exceptions must not cross libarchive's C frames.
        archive_set_error(a, EIO, "%s", e.what());
        return -1;
      }
    }
  } src{next};
  return unpack("stream", dest, [&](archive* a) {
    return archive_read_open(a, &src, nullptr, &Source::read, nullptr);
  });
}

}  // namespace berth::image

#include "engine/container_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "base/dir.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/fs.h"
#include "base/time.h"

namespace berth::engine {
namespace {

// libarchive's message for the last error, which it leaves unset for some failures (a gzip
// header it cannot read): never a null pointer to build a string from.
std::string archive_message(archive* a) {
  const char* msg = archive_error_string(a);
  return msg ? msg : "unknown archive error";
}

// Go's os.FileMode type bits, which the PathStat header carries.
constexpr uint32_t kGoModeDir = 1u << 31;
constexpr uint32_t kGoModeSymlink = 1u << 27;
constexpr uint32_t kGoModeDevice = 1u << 26;
constexpr uint32_t kGoModeNamedPipe = 1u << 25;
constexpr uint32_t kGoModeSocket = 1u << 24;
constexpr uint32_t kGoModeSetuid = 1u << 23;
constexpr uint32_t kGoModeSetgid = 1u << 22;
constexpr uint32_t kGoModeCharDevice = 1u << 21;
constexpr uint32_t kGoModeSticky = 1u << 20;

constexpr size_t kBufferSize = 1 << 20;
// /etc/passwd and /etc/group are read whole; anything larger is not one.
constexpr size_t kMaxAccountFile = 4 << 20;

// Opens `rel` below `root` as if `root` were "/": absolute links and ".." stop at it, magic
// links (/proc/*/root) are refused. The kernel asks for a retry when a rename raced with the
// walk; a container that keeps renaming gets an error rather than a loop.
int open_in_root(int root, const std::string& rel, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  const char* p = rel.empty() ? "." : rel.c_str();
  for (int i = 0; i < 64; i++) {
    int fd = static_cast<int>(::syscall(SYS_openat2, root, p, &how, sizeof how));
    if (fd >= 0 || errno != EAGAIN) return fd;
  }
  return -1;
}

std::string join(const std::vector<std::string>& parts, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; i++) {
    if (i) out.push_back('/');
    out += parts[i];
  }
  return out;
}

// A path inside the container as Docker cleans it: filepath.Join("/", path), with what a
// trailing "/" or "/." asserts kept apart.
struct ContainerPath {
  std::vector<std::string> parts;  // below the root; empty for "/"
  bool current_dir = false;        // ends in "/.": the directory's contents, not itself
  bool follow_last = false;        // ends in "/" or "/.": a last link is followed

  explicit ContainerPath(const std::string& raw) {
    for (auto& part : split(raw, '/')) {
      if (part.empty() || part == ".") continue;
      if (part == "..") {
        if (!parts.empty()) parts.pop_back();
        continue;
      }
      parts.push_back(part);
    }
    std::string_view r = raw;
    current_dir = r == "." || r.ends_with("/.");
    follow_last = current_dir || r.ends_with('/') || parts.empty();
  }
  std::string rel() const { return join(parts, parts.size()); }
  std::string parent() const { return join(parts, parts.empty() ? 0 : parts.size() - 1); }
  // Docker's filepath.Base of the path: the name a stat reports and entries are rebased to.
  std::string base() const {
    if (current_dir) return ".";
    return parts.empty() ? "/" : parts.back();
  }
};

[[noreturn]] void path_error(const std::string& ref, const std::string& path, int err) {
  if (err == ENOENT) throw NotFound("Could not find the file " + path + " in container " + ref);
  if (err == ENOTDIR) throw InvalidArgument("lstat " + path + ": not a directory");
  if (err == ELOOP) throw InvalidArgument("lstat " + path + ": too many levels of symbolic links");
  throw_errno("lstat " + path, err);
}

// Runs `fn` in the container's root and hands back what it threw, wherever with_root ran it.
void in_root(ContainerManager& m, const std::string& id, const std::function<void(int)>& fn) {
  std::exception_ptr failure;
  m.with_root(id, [&](int root) {
    try {
      fn(root);
    } catch (...) {
      failure = std::current_exception();
    }
  });
  if (failure) std::rethrow_exception(failure);
}

// Docker's symlink.FollowSymlinkInScope(path, "/"): every link on the way resolved inside
// the root, as far as the path exists; what does not exist is kept as written.
std::string follow_in_scope(int root, const std::vector<std::string>& parts) {
  std::vector<std::string> done;
  std::deque<std::string> todo(parts.begin(), parts.end());
  int links = 0;
  while (!todo.empty()) {
    std::string part = std::move(todo.front());
    todo.pop_front();
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!done.empty()) done.pop_back();
      continue;
    }
    UniqueFd dir(open_in_root(root, join(done, done.size()), O_PATH | O_DIRECTORY));
    struct stat st;
    if (dir && ::fstatat(dir.get(), part.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISLNK(st.st_mode)) {
      if (++links > 255) throw InvalidArgument("too many links in /" + join(parts, parts.size()));
      char buf[PATH_MAX];
      ssize_t n = ::readlinkat(dir.get(), part.c_str(), buf, sizeof buf);
      if (n < 0) throw_errno("readlink " + part);
      std::string target(buf, static_cast<size_t>(n));
      if (target.starts_with('/')) done.clear();
      auto more = split(target, '/');
      todo.insert(todo.begin(), more.begin(), more.end());
      continue;
    }
    done.push_back(std::move(part));
  }
  return "/" + join(done, done.size());
}

PathStat make_stat(const std::string& name, const struct stat& st) {
  PathStat s;
  s.name = name;
  s.size = st.st_size;
  s.mode = go_file_mode(st.st_mode);
  s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return s;
}

// What the path names: lstat semantics, unless its end asks for the link to be followed.
// `parent` is set for a path that is not followed at its end (the entry is in it).
struct Found {
  struct stat st {};
  UniqueFd parent;
};

Found find(int root, const ContainerPath& p, const std::string& ref, const std::string& raw) {
  Found f;
  if (p.follow_last) {
    // O_DIRECTORY: "file/" is not a file, as lstat says.
    UniqueFd fd(open_in_root(root, p.rel(), O_PATH | O_DIRECTORY));
    if (!fd || ::fstat(fd.get(), &f.st) < 0) path_error(ref, raw, errno);
    return f;
  }
  f.parent.reset(open_in_root(root, p.parent(), O_PATH | O_DIRECTORY));
  if (!f.parent ||
      ::fstatat(f.parent.get(), p.parts.back().c_str(), &f.st, AT_SYMLINK_NOFOLLOW) < 0)
    path_error(ref, raw, errno);
  return f;
}

PathStat stat_in(int root, const ContainerPath& p, const std::string& ref, const std::string& raw) {
  Found f = find(root, p, ref, raw);
  PathStat s = make_stat(p.base(), f.st);
  if (S_ISLNK(f.st.st_mode)) s.link_target = follow_in_scope(root, p.parts);
  return s;
}

// ---- Out: a tar of a tree below an open directory, never following a link.

class TarOut {
 public:
  explicit TarOut(const std::function<void(std::string_view)>& out)
      : out_(out), w_(archive_write_new(), archive_write_free), buf_(kBufferSize) {
    archive_write_set_format_pax_restricted(w_.get());
    // No blocking: each piece goes straight to the client.
    archive_write_set_bytes_per_block(w_.get(), 0);
    if (archive_write_open(w_.get(), this, nullptr, &TarOut::write_cb, nullptr) != ARCHIVE_OK)
      fail("open");
  }

  // A directory and everything below it; `name` is its entry name without the slash.
  void tree(int fd, const struct stat& st, const std::string& name) {
    entry(fd, st, name + "/", "");
    for (auto& n : dir_names(fd)) {
      std::string child = name + "/" + n;
      struct stat cst;
      if (::fstatat(fd, n.c_str(), &cst, AT_SYMLINK_NOFOLLOW) < 0) continue;  // gone meanwhile
      if (S_ISDIR(cst.st_mode)) {
        // O_NOFOLLOW: a directory swapped for a link since the stat is not entered.
        UniqueFd cfd(::openat(fd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!cfd || ::fstat(cfd.get(), &cst) < 0) continue;
        tree(cfd.get(), cst, child);
      } else {
        node(fd, n, cst, child);
      }
    }
  }

  // One entry that is not a directory, `name` in the directory `dirfd`.
  void node(int dirfd, const std::string& name, struct stat st, const std::string& entry_name) {
    if (S_ISSOCK(st.st_mode)) return;  // tar has no sockets; Docker skips them too
    if (S_ISREG(st.st_mode)) {
      // O_NONBLOCK: a file swapped for a fifo since the stat must not hang the copy.
      UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
      if (!fd || ::fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode)) return;
      entry(fd.get(), st, entry_name, "");
      return;
    }
    std::string target;
    if (S_ISLNK(st.st_mode)) {
      char buf[PATH_MAX];
      ssize_t n = ::readlinkat(dirfd, name.c_str(), buf, sizeof buf);
      if (n < 0) return;
      target.assign(buf, static_cast<size_t>(n));
    }
    entry(-1, st, entry_name, target);
  }

  // The archive goes first, while the members its last flush reaches are alive; the tail of
  // an archive abandoned halfway (a client that left) goes nowhere.
  ~TarOut() {
    discard_ = true;
    w_.reset();
  }
  TarOut(const TarOut&) = delete;
  TarOut& operator=(const TarOut&) = delete;

  void close() {
    if (archive_write_close(w_.get()) != ARCHIVE_OK) fail("close");
  }

 private:
  // `fd` is open for reading (a file's content, a capability xattr) or -1.
  void entry(int fd, const struct stat& st, const std::string& name, const std::string& symlink) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(),
                                                                    archive_entry_free);
    archive_entry_copy_stat(e.get(), &st);
    archive_entry_set_pathname(e.get(), name.c_str());
    if (!symlink.empty()) archive_entry_set_symlink(e.get(), symlink.c_str());
    bool data = S_ISREG(st.st_mode) && st.st_size > 0;
    // A file with several names is written once; its other names are hard links to the first.
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
      auto [it, first] = seen_.try_emplace({st.st_dev, st.st_ino}, name);
      if (!first) {
        archive_entry_set_hardlink(e.get(), it->second.c_str());
        archive_entry_set_size(e.get(), 0);
        data = false;
      }
    }
    // Docker carries file capabilities and no other attribute.
    if (fd >= 0) {
      char cap[512];
      ssize_t n = ::fgetxattr(fd, "security.capability", cap, sizeof cap);
      if (n > 0) archive_entry_xattr_add_entry(e.get(), "security.capability", cap, n);
    }
    if (archive_write_header(w_.get(), e.get()) != ARCHIVE_OK) fail(name);
    if (!data) return;
    ssize_t n;
    while ((n = ::read(fd, buf_.data(), buf_.size())) > 0)
      if (archive_write_data(w_.get(), buf_.data(), static_cast<size_t>(n)) < 0) fail(name);
    if (n < 0) throw_errno("read " + name);
  }

  static la_ssize_t write_cb(archive*, void* ctx, const void* buf, size_t len) {
    auto* self = static_cast<TarOut*>(ctx);
    if (self->discard_) return static_cast<la_ssize_t>(len);
    try {
      self->out_(std::string_view(static_cast<const char*>(buf), len));
      return static_cast<la_ssize_t>(len);
    } catch (...) {
      // Exceptions must not cross libarchive's C frames.
      self->failure_ = std::current_exception();
      return -1;
    }
  }

  [[noreturn]] void fail(const std::string& what) {
    if (failure_) std::rethrow_exception(failure_);
    throw Error("archive " + what + ": " + archive_error_string(w_.get()));
  }

  const std::function<void(std::string_view)>& out_;
  std::unique_ptr<archive, decltype(&archive_write_free)> w_;
  std::vector<char> buf_;
  std::map<std::pair<dev_t, ino_t>, std::string> seen_;
  std::exception_ptr failure_;
  bool discard_ = false;
};

// ---- In: extraction below a destination directory that acts as the root.

// An archive entry's name as Docker's Unpack takes it: leading slashes dropped, cleaned, and
// refused when ".." climbs above the destination. Empty for the destination itself.
std::vector<std::string> entry_parts(const std::string& raw, bool& escapes) {
  std::vector<std::string> parts;
  escapes = false;
  for (auto& part : split(raw, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (parts.empty()) {
        escapes = true;
        return {};
      }
      parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  return parts;
}

// Removes `name` in `dirfd` and, for a directory, everything in it, without following any
// link and without entering another mount (a volume under a replaced directory stays whole).
void remove_tree(int dirfd, const std::string& name, dev_t dev) {
  struct stat st;
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return;
    throw_errno("remove " + name);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlinkat(dirfd, name.c_str(), 0) < 0 && errno != ENOENT) throw_errno("remove " + name);
    return;
  }
  if (st.st_dev != dev) throw Error("remove " + name + ": another file system is mounted there");
  UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) throw_errno("remove " + name);
  for (auto& n : dir_names(fd.get())) remove_tree(fd.get(), n, dev);
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) < 0) throw_errno("remove " + name);
}

void entry_times(archive_entry* e, timespec (&times)[2]) {
  times[0] = {archive_entry_atime(e), archive_entry_atime_nsec(e)};
  times[1] = {archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
  if (!archive_entry_atime_is_set(e)) times[0] = times[1];
}

void write_at(int fd, const char* buf, size_t size, off_t offset, const std::string& name) {
  while (size > 0) {
    ssize_t n = ::pwrite(fd, buf, size, offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("write " + name);
    }
    if (n == 0) throw_errno("write " + name, ENOSPC);
    buf += n;
    size -= static_cast<size_t>(n);
    offset += n;
  }
}

class Extractor {
 public:
  Extractor(int dest, archive* a, const ExtractOptions& opts,
            std::optional<std::pair<uid_t, gid_t>> owner, const std::string& dest_name)
      : dest_(dest), a_(a), opts_(opts), owner_(owner), dest_name_(dest_name) {
    struct stat st;
    if (::fstat(dest, &st) < 0) throw_errno("stat " + dest_name);
    dev_ = st.st_dev;
  }

  void entry(archive_entry* e) {
    const char* raw = archive_entry_pathname(e);
    if (!raw) throw InvalidArgument("invalid archive entry: no name");
    bool escapes;
    auto parts = entry_parts(raw, escapes);
    if (escapes)
      throw InvalidArgument(std::string("invalid archive entry \"") + raw +
                            "\": it leaves the destination directory");
    if (parts.empty()) return;  // the destination itself
    std::string name = parts.back();
    parts.pop_back();
    int dir = parent(parts, raw);
    const char* hardlink = archive_entry_hardlink(e);
    mode_t type = archive_entry_filetype(e);
    bool is_dir = !hardlink && type == AE_IFDIR;
    std::string shown = join(parts, parts.size());
    shown = shown.empty() ? name : shown + "/" + name;

    struct stat old;
    bool merge = false;
    UniqueFd kept;  // the parent, held for this entry once it is no longer cached
    if (::fstatat(dir, name.c_str(), &old, AT_SYMLINK_NOFOLLOW) == 0) {
      if (opts_.no_overwrite_dir_non_dir && S_ISDIR(old.st_mode) && !is_dir)
        throw InvalidArgument("cannot overwrite directory \"" + shown + "\" with non-directory \"" +
                              dest_name_ + "\"");
      if (opts_.no_overwrite_dir_non_dir && !S_ISDIR(old.st_mode) && is_dir)
        throw InvalidArgument("cannot overwrite non-directory \"" + shown + "\" with directory \"" +
                              dest_name_ + "\"");
      merge = S_ISDIR(old.st_mode) && is_dir;
      if (!merge) {
        remove_tree(dir, name, dev_);
        // A removed name may have been on the way to the cached parent.
        kept = std::move(cached_);
      }
    }

    if (hardlink) {
      link(dir, name, hardlink, raw);
      return;
    }
    switch (type) {
      case AE_IFDIR: {
        if (!merge && ::mkdirat(dir, name.c_str(), 0700) < 0) throw_errno("mkdir " + shown);
        UniqueFd fd(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd) throw_errno("open " + shown);
        metadata(fd.get(), e, shown);
        DirTimes d{shown, {}};
        entry_times(e, d.times);
        dirs_.push_back(d);
        break;
      }
      case AE_IFREG:
        file(dir, name, shown, e);
        break;
      case AE_IFLNK: {
        const char* target = archive_entry_symlink(e);
        if (!target)
          throw InvalidArgument("invalid archive entry \"" + shown +
                                "\": symlink without a target");
        // Stored as written: it is only ever followed inside the destination (here) or the
        // container's root (at run time).
        if (::symlinkat(target, dir, name.c_str()) < 0) throw_errno("symlink " + shown);
        if (::fchownat(dir, name.c_str(), uid(e), gid(e), AT_SYMLINK_NOFOLLOW) < 0)
          throw_errno("chown " + shown);
        timespec times[2];
        entry_times(e, times);
        ::utimensat(dir, name.c_str(), times, AT_SYMLINK_NOFOLLOW);
        break;
      }
      case AE_IFIFO:
      case AE_IFCHR:
      case AE_IFBLK: {
        if (::mknodat(dir, name.c_str(), type | 0600, archive_entry_rdev(e)) < 0)
          throw_errno("mknod " + shown);
        UniqueFd fd(::openat(dir, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
        if (!fd) throw_errno("open " + shown);
        node_metadata(fd.get(), e, shown);
        break;
      }
      default:
        break;  // sockets and the like: nothing tar can restore
    }
  }

  // Directories get their times last: what was extracted into them changed them.
  void finish() {
    for (auto& d : dirs_) {
      UniqueFd fd(open_in_root(dest_, d.rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
      if (fd) ::futimens(fd.get(), d.times);
    }
  }

 private:
  uid_t uid(archive_entry* e) const {
    return owner_ ? owner_->first : static_cast<uid_t>(archive_entry_uid(e));
  }
  gid_t gid(archive_entry* e) const {
    return owner_ ? owner_->second : static_cast<gid_t>(archive_entry_gid(e));
  }

  // The directory an entry goes in, made (0755, as Docker's implied directories) where the
  // archive did not list it. The last one is kept: a tar lists a directory's entries together.
  int parent(const std::vector<std::string>& parts, const char* raw) {
    std::string rel = join(parts, parts.size());
    if (cached_ && cached_rel_ == rel) return cached_.get();
    UniqueFd fd(open_in_root(dest_, rel, O_PATH | O_DIRECTORY));
    for (size_t i = 1; !fd && errno == ENOENT && i <= parts.size(); i++) {
      std::string walked = join(parts, i);
      UniqueFd at(open_in_root(dest_, join(parts, i - 1), O_PATH | O_DIRECTORY));
      if (!at) break;
      UniqueFd next(open_in_root(dest_, walked, O_PATH | O_DIRECTORY));
      if (!next && errno == ENOENT) {
        if (::mkdirat(at.get(), parts[i - 1].c_str(), 0755) < 0 && errno != EEXIST)
          throw_errno("mkdir " + walked);
        next.reset(open_in_root(dest_, walked, O_PATH | O_DIRECTORY));
      }
      if (!next) break;
      if (i == parts.size()) fd = std::move(next);
    }
    if (!fd) {
      int err = errno;
      if (err == ENOTDIR || err == ENOENT || err == ELOOP)
        throw InvalidArgument(std::string("cannot extract \"") + raw + "\": " + rel + ": " +
                              std::strerror(err));
      throw_errno("open " + rel, err);
    }
    cached_rel_ = rel;
    cached_ = std::move(fd);
    return cached_.get();
  }

  void link(int dir, const std::string& name, const char* target, const char* raw) {
    bool escapes;
    auto tparts = entry_parts(target, escapes);
    if (escapes || tparts.empty())
      throw InvalidArgument(std::string("invalid hard link \"") + raw + "\" -> \"" + target +
                            "\": the target is outside the destination directory");
    std::string tname = tparts.back();
    tparts.pop_back();
    UniqueFd tdir(open_in_root(dest_, join(tparts, tparts.size()), O_PATH | O_DIRECTORY));
    // No AT_SYMLINK_FOLLOW: a link to a symlink is a link to the symlink, never its target.
    if (!tdir || ::linkat(tdir.get(), tname.c_str(), dir, name.c_str(), 0) < 0)
      throw InvalidArgument(std::string("cannot make hard link \"") + raw + "\" -> \"" + target +
                            "\": " + std::strerror(errno));
  }

  void file(int dir, const std::string& name, const std::string& shown, archive_entry* e) {
    UniqueFd f(
        ::openat(dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!f) throw_errno("create " + shown);
    const void* buf;
    size_t size;
    la_int64_t offset;
    la_int64_t end = 0;
    int rc;
    while ((rc = archive_read_data_block(a_, &buf, &size, &offset)) == ARCHIVE_OK) {
      write_at(f.get(), static_cast<const char*>(buf), size, offset, shown);
      end = std::max(end, offset + static_cast<la_int64_t>(size));
    }
    if (rc != ARCHIVE_EOF)
      throw InvalidArgument("read archive entry \"" + shown + "\": " + archive_message(a_));
    // A sparse file ends in a hole: its size comes from the header.
    if (end != archive_entry_size(e) && ::ftruncate(f.get(), archive_entry_size(e)) < 0)
      throw_errno("truncate " + shown);
    metadata(f.get(), e, shown);
  }

  // Owner, then xattrs and mode (a chown drops setuid bits and file capabilities), then
  // times, all through the open file so that nothing swapped in meanwhile is touched.
  void metadata(int fd, archive_entry* e, const std::string& shown) {
    if (::fchown(fd, uid(e), gid(e)) < 0) throw_errno("chown " + shown);
    const char* xname;
    const void* value;
    size_t size;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &xname, &value, &size) == ARCHIVE_OK) {
      std::string_view n = xname;
      // What a container's files may carry: user attributes and file capabilities.
      if (!n.starts_with("user.") && n != "security.capability") continue;
      if (::fsetxattr(fd, xname, value, size, 0) < 0 && errno != ENOTSUP)
        throw_errno("set xattr " + std::string(n) + " on " + shown);
    }
    if (::fchmod(fd, archive_entry_mode(e) & 07777) < 0) throw_errno("chmod " + shown);
    timespec times[2];
    entry_times(e, times);
    ::futimens(fd, times);
  }

  // Fifos and devices, open as O_PATH: chmod and utimens go through the descriptor's
  // /proc/self/fd link, which names the inode itself and follows nothing.
  void node_metadata(int fd, archive_entry* e, const std::string& shown) {
    if (::fchownat(fd, "", uid(e), gid(e), AT_EMPTY_PATH) < 0) throw_errno("chown " + shown);
    std::string self = "/proc/self/fd/" + std::to_string(fd);
    if (::chmod(self.c_str(), archive_entry_mode(e) & 07777) < 0) throw_errno("chmod " + shown);
    timespec times[2];
    entry_times(e, times);
    ::utimensat(AT_FDCWD, self.c_str(), times, 0);
  }

  int dest_;
  archive* a_;
  ExtractOptions opts_;
  std::optional<std::pair<uid_t, gid_t>> owner_;
  std::string dest_name_;
  dev_t dev_;
  std::string cached_rel_;
  UniqueFd cached_;
  struct DirTimes {
    std::string rel;
    timespec times[2];
  };
  std::vector<DirTimes> dirs_;
};

std::optional<std::string> read_in_root(int root, const std::string& rel) {
  UniqueFd fd(open_in_root(root, rel, O_RDONLY | O_NONBLOCK));
  struct stat st;
  if (!fd || ::fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode) ||
      static_cast<size_t>(st.st_size) > kMaxAccountFile)
    return std::nullopt;
  return read_fd(fd.get());
}

std::optional<uint32_t> parse_id(std::string_view s) {
  uint32_t v;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty() || v > 0x7fffffff)
    return std::nullopt;
  return v;
}

// The line of an /etc/passwd or /etc/group whose field `key` (0: name, 2: id) is `want`.
std::optional<std::vector<std::string>> account(const std::optional<std::string>& file, size_t key,
                                                const std::string& want) {
  if (!file) return std::nullopt;
  for (auto& line : split(*file, '\n')) {
    auto fields = split(line, ':');
    if (fields.size() > 3 && fields[key] == want) return fields;
  }
  return std::nullopt;
}

// Docker's getUIDGID: the owner files copied with copyUIDGID get, from Config.User resolved
// in the container's own /etc/passwd and /etc/group.
std::pair<uid_t, gid_t> container_user(int root, const std::string& user) {
  auto colon = user.find(':');
  std::string name = user.substr(0, colon);
  std::string group = colon == std::string::npos ? "" : user.substr(colon + 1);
  uint32_t uid = 0, gid = 0;
  if (!name.empty()) {
    auto passwd = read_in_root(root, "etc/passwd");
    if (auto id = parse_id(name)) {
      uid = *id;
      // A numeric user need not exist; its group is then root's.
      if (auto line = account(passwd, 2, name)) gid = parse_id((*line)[3]).value_or(0);
    } else {
      auto line = account(passwd, 0, name);
      if (!line)
        throw InvalidArgument("failed to look up user \"" + name +
                              "\" in container: no matching entries in passwd file");
      uid = parse_id((*line)[2]).value_or(0);
      gid = parse_id((*line)[3]).value_or(0);
    }
  }
  if (!group.empty()) {
    if (auto id = parse_id(group)) {
      gid = *id;
    } else {
      auto line = account(read_in_root(root, "etc/group"), 0, group);
      if (!line)
        throw InvalidArgument("failed to look up group \"" + group +
                              "\" in container: no matching entries in group file");
      gid = parse_id((*line)[2]).value_or(0);
    }
  }
  return {uid, gid};
}

uint64_t mount_id(int fd) {
  struct statx stx;
  if (::statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) < 0) throw_errno("statx");
  return stx.stx_mnt_id;
}

// Docker's checkWritablePath, asked of the kernel: the mount the directory is on.
void check_writable(int root, int dest, const Container& c) {
  struct statvfs vfs;
  if (::fstatvfs(dest, &vfs) < 0) throw_errno("statvfs");
  bool read_only = vfs.f_flag & ST_RDONLY;
  if (mount_id(dest) != mount_id(root)) {
    if (read_only) throw Forbidden("mounted volume is marked read-only");
    return;
  }
  // A stopped container's root is mounted writable for the copy: its config decides.
  if (read_only || c.host_config.value("ReadonlyRootfs", false))
    throw Forbidden("container rootfs is marked read-only");
}

}  // namespace

uint32_t go_file_mode(uint32_t st_mode) {
  uint32_t m = st_mode & 0777;
  switch (st_mode & S_IFMT) {
    case S_IFDIR:
      m |= kGoModeDir;
      break;
    case S_IFLNK:
      m |= kGoModeSymlink;
      break;
    case S_IFIFO:
      m |= kGoModeNamedPipe;
      break;
    case S_IFSOCK:
      m |= kGoModeSocket;
      break;
    case S_IFBLK:
      m |= kGoModeDevice;
      break;
    case S_IFCHR:
      m |= kGoModeDevice | kGoModeCharDevice;
      break;
    default:
      break;
  }
  if (st_mode & S_ISUID) m |= kGoModeSetuid;
  if (st_mode & S_ISGID) m |= kGoModeSetgid;
  if (st_mode & S_ISVTX) m |= kGoModeSticky;
  return m;
}

bool PathStat::is_dir() const {
  return mode & kGoModeDir;
}

nlohmann::ordered_json PathStat::to_json() const {
  // Go drops a fraction's trailing zeros, and the fraction when it is zero.
  std::string mtime = format_rfc3339(mtime_ns);
  if (auto dot = mtime.find('.'); dot != std::string::npos) {
    size_t end = mtime.find_first_not_of("0123456789", dot + 1);
    size_t last = mtime.find_last_not_of('0', end - 1);
    mtime.erase(last == dot ? dot : last + 1, end - (last == dot ? dot : last + 1));
  }
  nlohmann::ordered_json j;
  j["name"] = name;
  j["size"] = size;
  j["mode"] = mode;
  j["mtime"] = mtime;
  j["linkTarget"] = link_target;
  return j;
}

PathStat stat_container_path(ContainerManager& m, const std::string& ref, const std::string& path) {
  if (path.empty()) throw InvalidArgument("bad parameter: path cannot be empty");
  std::string id = m.get(ref).id;
  ContainerPath p(path);
  PathStat s;
  in_root(m, id, [&](int root) { s = stat_in(root, p, ref, path); });
  return s;
}

void archive_container_path(ContainerManager& m, const std::string& ref, const std::string& path,
                            const std::function<void(std::string_view)>& out) {
  if (path.empty()) throw InvalidArgument("bad parameter: path cannot be empty");
  Container c = m.get(ref);
  ContainerPath p(path);
  in_root(m, c.id, [&](int root) {
    Found f = find(root, p, ref, path);
    TarOut tar(out);
    if (S_ISDIR(f.st.st_mode)) {
      // The directory itself, opened as it was found: followed at the end or not at all.
      int flags = O_RDONLY | O_DIRECTORY | (p.follow_last ? 0 : O_NOFOLLOW);
      UniqueFd dir(open_in_root(root, p.rel(), flags));
      if (!dir || ::fstat(dir.get(), &f.st) < 0) path_error(ref, path, errno);
      // Entries are named after the path's base ("." for "/."); the root's are absolute.
      std::string base = p.base();
      tar.tree(dir.get(), f.st, base == "/" ? "" : base);
    } else {
      tar.node(f.parent.get(), p.parts.back(), f.st, p.base());
    }
    tar.close();
  });
  m.event(c, "archive-path");
}

void extract_to_container_dir(ContainerManager& m, const std::string& ref, const std::string& path,
                              const ExtractOptions& opts, const ArchiveReader& read) {
  if (path.empty()) throw InvalidArgument("bad parameter: path cannot be empty");
  Container c = m.get(ref);
  ContainerPath p(path);
  struct Source {
    const ArchiveReader& read;
    std::vector<char> buf;
    std::exception_ptr failure;
    static la_ssize_t cb(archive* a, void* ctx, const void** out) {
      auto* s = static_cast<Source*>(ctx);
      try {
        *out = s->buf.data();
        return static_cast<la_ssize_t>(s->read(s->buf.data(), s->buf.size()));
      } catch (...) {
        s->failure = std::current_exception();
        archive_set_error(a, EIO, "reading the request body failed");
        return -1;
      }
    }
  } src{read, std::vector<char>(kBufferSize), nullptr};
  in_root(m, c.id, [&](int root) {
    // The destination is followed to the end: a link to a directory is extracted into.
    UniqueFd dest(open_in_root(root, p.rel(), O_PATH));
    struct stat st;
    if (!dest || ::fstat(dest.get(), &st) < 0) path_error(ref, path, errno);
    if (!S_ISDIR(st.st_mode)) throw InvalidArgument("extraction point is not a directory");
    check_writable(root, dest.get(), c);
    std::optional<std::pair<uid_t, gid_t>> owner;
    std::string user = c.config.value("User", "");
    if (opts.copy_uid_gid && !user.empty()) owner = container_user(root, user);

    std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(), archive_read_free);
    archive_read_support_format_tar(a.get());
    archive_read_support_format_gnutar(a.get());
    // Docker's DecompressStream: gzip, bzip2, xz, zstd, all in process.
    archive_read_support_filter_gzip(a.get());
    archive_read_support_filter_bzip2(a.get());
    archive_read_support_filter_xz(a.get());
    archive_read_support_filter_zstd(a.get());
    archive_read_support_filter_none(a.get());
    auto read_failed = [&](const std::string& what) {
      if (src.failure) std::rethrow_exception(src.failure);
      throw InvalidArgument(what + ": " + archive_message(a.get()));
    };
    if (archive_read_open(a.get(), &src, nullptr, &Source::cb, nullptr) != ARCHIVE_OK)
      read_failed("invalid archive");
    Extractor x(dest.get(), a.get(), opts, owner, "/" + p.rel());
    archive_entry* e;
    int rc;
    while ((rc = archive_read_next_header(a.get(), &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN)
      x.entry(e);
    if (rc != ARCHIVE_EOF) read_failed("invalid archive");
    x.finish();
  });
  m.event(c, "extract-to-dir");
}

}  // namespace berth::engine

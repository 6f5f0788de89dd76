#include "build/copy.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <functional>

#include "base/dir.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/fs.h"
#include "base/path.h"
#include "image/digest.h"

namespace berth::build {

int open_in_root(int root, const std::string& rel, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  std::string p = rel;
  while (!p.empty() && p.front() == '/') p.erase(0, 1);
  if (p.empty()) p = ".";
  for (int i = 0; i < 64; i++) {
    int fd = static_cast<int>(::syscall(SYS_openat2, root, p.c_str(), &how, sizeof how));
    if (fd >= 0 || errno != EAGAIN) return fd;
  }
  return -1;
}

bool looks_like_archive(int fd) {
  unsigned char b[512] = {};
  ssize_t n = ::pread(fd, b, sizeof b, 0);
  if (n < 6) return false;
  if (b[0] == 0x1f && b[1] == 0x8b) return true;
  if (b[0] == 'B' && b[1] == 'Z' && b[2] == 'h') return true;
  if (b[0] == 0xfd && b[1] == '7' && b[2] == 'z' && b[3] == 'X' && b[4] == 'Z') return true;
  if (b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd) return true;
  return n >= 262 && std::string_view(reinterpret_cast<char*>(b) + 257, 5) == "ustar";
}

namespace {

bool has_wildcard(const std::string& s) {
  return s.find_first_of("*?[") != std::string::npos;
}

std::string base_name(const std::string& p) {
  auto s = p.find_last_of('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

std::string dir_name(const std::string& p) {
  auto s = p.find_last_of('/');
  if (s == std::string::npos) return ".";
  return s == 0 ? "/" : p.substr(0, s);
}

struct Walker {
  int root;
  const CopyRequest& req;
  std::string top;  // the source being walked, relative to the root

  bool ignored(const std::string& rel) const {
    if (req.from_context && req.ignore && req.ignore->excluded(rel)) return true;
    if (req.exclude.empty() || rel == top) return false;
    std::string below = top == "." ? rel : rel.substr(std::min(rel.size(), top.size() + 1));
    return req.exclude.excluded(below);
  }
};

// Hashes a tree's names, modes, link targets and contents.
void hash_tree(const Walker& w, int fd, const std::string& rel, const std::string& name,
               image::Sha256& h) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) throw_errno("stat " + rel);
  h.update(name);
  h.update(std::string(1, '\0'));
  h.update(std::to_string(st.st_mode & 07777) + ":" + std::to_string(st.st_mode & S_IFMT));
  if (S_ISREG(st.st_mode)) {
    char buf[65536];
    off_t off = 0;
    for (;;) {
      ssize_t n = ::pread(fd, buf, sizeof buf, off);
      if (n < 0) throw_errno("read " + rel);
      if (n == 0) break;
      h.update(std::string_view(buf, static_cast<size_t>(n)));
      off += n;
    }
  } else if (S_ISDIR(st.st_mode)) {
    for (auto& child : dir_names(fd)) {
      std::string crel = rel == "." ? child : rel + "/" + child;
      if (w.ignored(crel)) continue;
      struct stat cst {};
      if (::fstatat(fd, child.c_str(), &cst, AT_SYMLINK_NOFOLLOW) < 0) throw_errno("stat " + crel);
      if (S_ISLNK(cst.st_mode)) {
        char target[4096];
        ssize_t n = ::readlinkat(fd, child.c_str(), target, sizeof target);
        if (n < 0) throw_errno("readlink " + crel);
        h.update(name + "/" + child + "\0->" + std::string(target, static_cast<size_t>(n)));
        continue;
      }
      UniqueFd cfd(::openat(fd, child.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      if (!cfd) throw_errno("open " + crel);
      hash_tree(w, cfd.get(), crel, name + "/" + child, h);
    }
  }
}

using Owner = std::optional<std::pair<uint32_t, uint32_t>>;

bool numeric(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), ::isdigit);
}

// The id of `name` in an /etc/passwd or /etc/group below the root.
uint32_t lookup_id(int root, const std::string& file, const std::string& name,
                   const std::string& spec) {
  if (numeric(name)) return static_cast<uint32_t>(std::stoul(name));
  UniqueFd fd(open_in_root(root, file, O_RDONLY));
  if (fd)
    for (auto& line : split(read_fd(fd.get()), '\n')) {
      auto f = split(line, ':');
      if (f.size() >= 3 && f[0] == name && numeric(f[2]))
        return static_cast<uint32_t>(std::stoul(f[2]));
    }
  throw InvalidArgument("unable to convert uid/gid chown string to host mapping: can't find " +
                        std::string(file == "/etc/passwd" ? "uid for user " : "gid for group ") +
                        name + " in " + file + " (--chown=" + spec + ")");
}

}  // namespace

Owner resolve_owner(int root, const std::string& spec) {
  if (spec.empty()) return std::nullopt;
  auto colon = spec.find(':');
  uint32_t uid = lookup_id(root, "/etc/passwd", spec.substr(0, colon), spec);
  uint32_t gid = colon == std::string::npos
                     ? uid
                     : lookup_id(root, "/etc/group", spec.substr(colon + 1), spec);
  return std::make_pair(uid, gid);
}

namespace {

// Makes each missing directory of `path` below `root` (0755, owned as asked); returns the
// last one opened.
UniqueFd mkdir_in_root(int root, const std::string& path, const Owner& owner) {
  std::string cur;
  UniqueFd dir(open_in_root(root, "/", O_PATH | O_DIRECTORY));
  if (!dir) throw_errno("open the root");
  for (auto& part : split(path, '/')) {
    if (part.empty() || part == ".") continue;
    cur += "/" + part;
    UniqueFd next(open_in_root(root, cur, O_PATH | O_DIRECTORY));
    if (!next) {
      if (errno != ENOENT) throw_errno("open " + cur);
      if (::mkdirat(dir.get(), part.c_str(), 0755) < 0 && errno != EEXIST)
        throw_errno("mkdir " + cur);
      next = UniqueFd(open_in_root(root, cur, O_PATH | O_DIRECTORY));
      if (!next) throw_errno("open " + cur);
      uint32_t uid = owner ? owner->first : 0, gid = owner ? owner->second : 0;
      if (::fchownat(next.get(), "", uid, gid, AT_EMPTY_PATH) < 0) throw_errno("chown " + cur);
    }
    dir = std::move(next);
  }
  return dir;
}

struct Copier {
  const Walker& w;
  const CopyRequest& req;
  Owner owner;

  void owner_mode(int dirfd, const std::string& name, const struct stat& st, bool link) {
    uint32_t uid = owner ? owner->first : 0, gid = owner ? owner->second : 0;
    if (::fchownat(dirfd, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
      throw_errno("chown " + name);
    if (link) return;
    uint32_t mode = req.chmod ? *req.chmod : (st.st_mode & 07777);
    if (::fchmodat(dirfd, name.c_str(), mode, 0) < 0) throw_errno("chmod " + name);
    timespec times[2] = {st.st_atim, st.st_mtim};
    ::utimensat(dirfd, name.c_str(), times, AT_SYMLINK_NOFOLLOW);
  }

  // A here-document's file: 0644, or --chmod's mode.
  void write_file(int dst_dir, const std::string& name, const std::string& content) {
    struct stat existing {};
    if (::fstatat(dst_dir, name.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0) {
      if (S_ISDIR(existing.st_mode))
        throw Conflict("cannot overwrite directory " + name + " with a non-directory");
      ::unlinkat(dst_dir, name.c_str(), 0);
    }
    UniqueFd out(::openat(dst_dir, name.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out) throw_errno("create " + name);
    write_all(out.get(), content);
    uint32_t uid = owner ? owner->first : 0, gid = owner ? owner->second : 0;
    if (::fchown(out.get(), uid, gid) < 0) throw_errno("chown " + name);
    if (::fchmod(out.get(), req.chmod ? *req.chmod : 0644) < 0) throw_errno("chmod " + name);
  }

  // Copies the open source `src` (stat `st`) to `name` in the directory `dst_dir`.
  void copy(int src, const struct stat& st, const std::string& rel, int dst_dir,
            const std::string& name) {
    struct stat existing {};
    bool exists = ::fstatat(dst_dir, name.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0;
    if (S_ISDIR(st.st_mode)) {
      if (exists && !S_ISDIR(existing.st_mode)) ::unlinkat(dst_dir, name.c_str(), 0);
      if (!exists || !S_ISDIR(existing.st_mode))
        if (::mkdirat(dst_dir, name.c_str(), 0755) < 0) throw_errno("mkdir " + name);
      UniqueFd d(::openat(dst_dir, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!d) throw_errno("open " + name);
      copy_children(src, rel, d.get());
      owner_mode(dst_dir, name, st, false);
      return;
    }
    if (exists) {
      if (S_ISDIR(existing.st_mode))
        throw Conflict("cannot overwrite directory " + name + " with a non-directory");
      ::unlinkat(dst_dir, name.c_str(), 0);
    }
    if (S_ISREG(st.st_mode)) {
      UniqueFd out(::openat(dst_dir, name.c_str(),
                            O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!out) throw_errno("create " + name);
      char buf[1 << 16];
      off_t off = 0;
      for (;;) {
        ssize_t n = ::pread(src, buf, sizeof buf, off);
        if (n < 0) throw_errno("read " + rel);
        if (n == 0) break;
        write_all(out.get(), std::string_view(buf, static_cast<size_t>(n)));
        off += n;
      }
      owner_mode(dst_dir, name, st, false);
    } else {
      throw InvalidArgument(req.keyword + " failed: " + rel +
                            " is not a regular file, directory or link");
    }
  }

  void copy_children(int src_dir, const std::string& rel, int dst_dir) {
    for (auto& child : dir_names(src_dir)) {
      std::string crel = rel == "." ? child : rel + "/" + child;
      if (w.ignored(crel)) continue;
      struct stat cst {};
      if (::fstatat(src_dir, child.c_str(), &cst, AT_SYMLINK_NOFOLLOW) < 0)
        throw_errno("stat " + crel);
      if (S_ISLNK(cst.st_mode)) {
        char target[4096];
        ssize_t n = ::readlinkat(src_dir, child.c_str(), target, sizeof target - 1);
        if (n < 0) throw_errno("readlink " + crel);
        target[n] = 0;
        struct stat existing {};
        if (::fstatat(dst_dir, child.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0) {
          if (S_ISDIR(existing.st_mode))
            throw Conflict("cannot overwrite directory " + crel + " with a link");
          ::unlinkat(dst_dir, child.c_str(), 0);
        }
        if (::symlinkat(target, dst_dir, child.c_str()) < 0) throw_errno("symlink " + crel);
        owner_mode(dst_dir, child, cst, true);
        continue;
      }
      UniqueFd cfd(::openat(src_dir, child.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      if (!cfd) throw_errno("open " + crel);
      copy(cfd.get(), cst, crel, dst_dir, child);
    }
  }
};

}  // namespace

ResolvedCopy resolve_copy(int src_root, const CopyRequest& req) {
  Walker w{src_root, req, "."};
  ResolvedCopy rc;
  // --parents: what of each match's path is kept, all of it or what follows a `/./`.
  auto keep_from = [&](size_t first, const std::string& raw) {
    auto pivot = raw.find("/./");
    std::string prefix =
        pivot == std::string::npos ? "" : clean_path("/" + raw.substr(0, pivot)).substr(1);
    for (size_t i = first; i < rc.sources.size(); i++) {
      const std::string& rel = rc.sources[i];
      if (prefix.empty())
        rc.kept.push_back(rel);
      else
        rc.kept.push_back(rel == prefix ? "." : rel.substr(prefix.size() + 1));
    }
  };
  for (auto& raw : req.sources) {
    size_t first = rc.sources.size();
    if (req.from_context && (raw.rfind("http://", 0) == 0 || raw.rfind("https://", 0) == 0))
      throw InvalidArgument(
          req.keyword +
          " failed: sources from URLs are not supported by berth's builder yet: " + raw);
    std::string cleaned = clean_path(raw);
    if (req.from_context && (cleaned == ".." || cleaned.rfind("../", 0) == 0))
      throw InvalidArgument(req.keyword +
                            " failed: forbidden path outside the build context: " + raw + " ()");
    std::string rel = clean_path("/" + raw).substr(1);
    if (rel.empty()) rel = ".";
    if (has_wildcard(rel)) {
      std::string parent = dir_name(rel), pattern = base_name(rel);
      UniqueFd d(open_in_root(src_root, parent == "." ? "" : parent, O_RDONLY | O_DIRECTORY));
      size_t before = rc.sources.size();
      if (d)
        for (auto& name : dir_names(d.get())) {
          std::string crel = parent == "." ? name : parent + "/" + name;
          if (::fnmatch(pattern.c_str(), name.c_str(), FNM_PERIOD) == 0 && !w.ignored(crel) &&
              !req.exclude.excluded(name))
            rc.sources.push_back(crel);
        }
      if (rc.sources.size() == before)
        throw NotFound(req.keyword + " failed: no source files were specified");
      keep_from(first, raw);
      continue;
    }
    UniqueFd fd(open_in_root(src_root, rel, O_PATH));
    if (!fd || (rel != "." && w.ignored(rel))) {
      if (req.from_context)
        throw NotFound(req.keyword +
                       " failed: file not found in build context or excluded by "
                       ".dockerignore: stat " +
                       rel + ": file does not exist");
      throw NotFound(req.keyword + " failed: stat " + rel + ": file does not exist");
    }
    rc.sources.push_back(rel);
    keep_from(first, raw);
  }
  image::Sha256 h;
  for (auto& [name, content] : req.inline_files) {
    h.update(name + std::string(1, '\0') + std::to_string(content.size()) + ":");
    h.update(content);
  }
  size_t total = rc.sources.size() + req.inline_files.size();
  if (total == 1 && rc.sources.empty()) rc.single_file = true;
  for (size_t i = 0; i < rc.sources.size(); i++) {
    const std::string& rel = rc.sources[i];
    w.top = rel;
    if (req.parents) h.update("parents:" + rc.kept[i] + std::string(1, '\0'));
    UniqueFd fd(open_in_root(src_root, rel, O_RDONLY));
    if (!fd) throw_errno(req.keyword + " failed: open " + rel);
    struct stat st {};
    ::fstat(fd.get(), &st);
    if (total == 1) {
      rc.single_file = !S_ISDIR(st.st_mode);
      rc.single_dir = S_ISDIR(st.st_mode);
    }
    hash_tree(w, fd.get(), rel, base_name(rel), h);
  }
  std::string hex = h.digest().substr(7);
  rc.checksum = (total > 1 ? "multi:" : rc.single_dir ? "dir:" : "file:") + hex;
  if (total > 1 && req.dest.back() != '/')
    throw InvalidArgument("When using " + req.keyword +
                          " with more than one source file, the "
                          "destination must be a directory and end with a /");
  return rc;
}

void perform_copy(int src_root, int dst_root, const CopyRequest& req, const ResolvedCopy& rc) {
  Walker w{src_root, req, "."};
  Copier c{w, req, req.owner ? req.owner : resolve_owner(dst_root, req.chown)};
  bool dest_is_dir =
      req.dest.back() == '/' || rc.sources.size() + req.inline_files.size() > 1 || rc.single_dir;
  std::string dest = clean_path(req.dest);
  if (!dest_is_dir) {
    // A file onto an existing directory goes inside it.
    UniqueFd d(open_in_root(dst_root, dest, O_PATH | O_DIRECTORY));
    dest_is_dir = static_cast<bool>(d);
  }
  for (auto& [name, content] : req.inline_files) {
    std::string target = dest_is_dir ? dest + "/" + name : dest;
    UniqueFd parent = mkdir_in_root(dst_root, dir_name(target), c.owner);
    c.write_file(parent.get(), base_name(target), content);
  }
  for (size_t i = 0; i < rc.sources.size(); i++) {
    const std::string& rel = rc.sources[i];
    w.top = rel;
    UniqueFd src(open_in_root(src_root, rel, O_RDONLY));
    if (!src) throw_errno(req.keyword + " failed: open " + rel);
    struct stat st {};
    if (::fstat(src.get(), &st) < 0) throw_errno("stat " + rel);
    if (req.parents) {
      // The source's path kept below the destination, its directories made as they go.
      std::string target = clean_path(dest + "/" + rc.kept[i]);
      if (S_ISDIR(st.st_mode)) {
        UniqueFd d = mkdir_in_root(dst_root, target, c.owner);
        c.copy_children(src.get(), rel, d.get());
      } else {
        UniqueFd parent = mkdir_in_root(dst_root, dir_name(target), c.owner);
        c.copy(src.get(), st, rel, parent.get(), base_name(target));
      }
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      UniqueFd d = mkdir_in_root(dst_root, dest, c.owner);
      c.copy_children(src.get(), rel, d.get());
      continue;
    }
    if (req.unpack_archives && S_ISREG(st.st_mode) && looks_like_archive(src.get())) {
      unpack_archive(src.get(), dst_root, dest, rel);
      continue;
    }
    std::string target = dest_is_dir ? dest + "/" + base_name(rel) : dest;
    UniqueFd parent = mkdir_in_root(dst_root, dir_name(target), c.owner);
    c.copy(src.get(), st, rel, parent.get(), base_name(target));
  }
}

void make_dirs(int dst_root, const std::string& path) {
  mkdir_in_root(dst_root, path, std::nullopt);
}

std::vector<DirMeta> existing_dirs(int root, const std::string& path) {
  std::vector<DirMeta> out;
  std::string cur;
  for (auto& part : split(path, '/')) {
    if (part.empty() || part == ".") continue;
    cur += "/" + part;
    UniqueFd d(open_in_root(root, cur, O_PATH | O_DIRECTORY));
    if (!d) break;
    struct stat st {};
    if (::fstat(d.get(), &st) < 0) throw_errno("stat " + cur);
    out.push_back(DirMeta{cur, st.st_mode & 07777, st.st_uid, st.st_gid, st.st_mtim.tv_sec,
                          st.st_mtim.tv_nsec});
  }
  return out;
}

void make_dirs_like(int root, const std::vector<DirMeta>& dirs) {
  for (auto& m : dirs) {
    UniqueFd d = mkdir_in_root(root, m.path, std::make_pair(m.uid, m.gid));
    std::string proc = "/proc/self/fd/" + std::to_string(d.get());
    if (::chmod(proc.c_str(), m.mode) < 0) throw_errno("chmod " + m.path);
  }
  // Times last: making a child changes its parent's.
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    UniqueFd d(open_in_root(root, it->path, O_PATH | O_DIRECTORY));
    if (!d) throw_errno("open " + it->path);
    timespec times[2] = {{it->mtime_sec, it->mtime_nsec}, {it->mtime_sec, it->mtime_nsec}};
    std::string proc = "/proc/self/fd/" + std::to_string(d.get());
    if (::utimensat(AT_FDCWD, proc.c_str(), times, 0) < 0) throw_errno("utimes " + it->path);
  }
}

}  // namespace berth::build

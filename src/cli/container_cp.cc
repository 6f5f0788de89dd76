// `cp`: docker's copy between a container and the local file system over the archive API
// (HEAD, GET and PUT /containers/{id}/archive), with docker's rules: a trailing "/." copies a
// directory's contents, a missing destination takes the source's place under its own name,
// -L follows a symlink source, -a keeps the container user's ownership, "-" is a tar on stdin
// or stdout. What comes out of a container is extracted as if the destination were the root:
// no entry, ".." or link in the archive leads a write outside it.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "base/dir.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/fs.h"
#include "base/path.h"
#include "cli/command.h"
#include "cli/tar_stream.h"
#include "cli/units.h"

namespace berth::cli {
namespace {

constexpr size_t kBuffer = 1 << 20;

// ---- Go's path/filepath, in whose terms docker's copy rules are written.

std::string base(std::string p) {
  if (p.empty()) return ".";
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  if (p == "/") return "/";
  return p.substr(p.rfind('/') + 1);
}

std::string dir(const std::string& p) {
  auto slash = p.rfind('/');
  return clean_path(slash == std::string::npos ? "" : p.substr(0, slash + 1));
}

bool has_trailing_separator(const std::string& p) {
  return !p.empty() && p.back() == '/';
}
bool specifies_current_dir(const std::string& p) {
  return base(p) == ".";
}
bool asserts_directory(const std::string& p) {
  return has_trailing_separator(p) || specifies_current_dir(p);
}

// docker's PreserveTrailingDotOrSeparator: the cleaned path keeps the "/." or "/" that said
// what the original meant.
std::string preserve_trailing(std::string cleaned, const std::string& original) {
  if (!specifies_current_dir(cleaned) && specifies_current_dir(original)) {
    if (!has_trailing_separator(cleaned)) cleaned += "/";
    cleaned += ".";
  }
  if (!has_trailing_separator(cleaned) && has_trailing_separator(original)) cleaned += "/";
  return cleaned;
}

// SplitPathDirEntry: the directory and the entry in it, "." kept for "dir/.".
std::pair<std::string, std::string> split_dir_entry(const std::string& p) {
  std::string cleaned = clean_path(p);
  if (specifies_current_dir(p)) cleaned += "/.";
  return {dir(cleaned), base(cleaned)};
}

std::string absolute(const std::string& p) {
  if (!p.empty() && p[0] == '/') return preserve_trailing(clean_path(p), p);
  char cwd[PATH_MAX];
  if (!::getcwd(cwd, sizeof cwd)) throw_errno("getcwd");
  return preserve_trailing(clean_path(std::string(cwd) + "/" + p), p);
}

std::string eval_symlinks(const std::string& p) {
  char out[PATH_MAX];
  if (!::realpath(p.c_str(), out)) throw_errno("lstat " + clean_path(p));
  return out;
}

struct CopyInfo {
  std::string path;
  bool exists = false, is_dir = false;
  std::string rebase_name;
};

// GetRebaseName: a link resolved keeps what the original path asserted, and the entry takes
// the original's name when resolution changed it.
std::pair<std::string, std::string> rebase_name(const std::string& path, std::string resolved) {
  if (specifies_current_dir(path) && !specifies_current_dir(resolved)) resolved += "/.";
  if (has_trailing_separator(path) && !has_trailing_separator(resolved)) resolved += "/";
  std::string name = base(path) != base(resolved) ? base(path) : "";
  return {resolved, name};
}

// CopyInfoSourcePath: links before the last separator are resolved; the last one only with -L.
CopyInfo source_info(const std::string& path, bool follow) {
  CopyInfo info;
  if (follow) {
    std::tie(info.path, info.rebase_name) = rebase_name(path, eval_symlinks(path));
  } else {
    auto slash = path.rfind('/');
    std::string dir_part = path.substr(0, slash + 1), base_part = path.substr(slash + 1);
    info.path = eval_symlinks(dir_part) + "/" + base_part;
    if (has_trailing_separator(path) && base(path) != base(info.path))
      info.rebase_name = base(path);
  }
  struct stat st;
  if (::lstat(info.path.c_str(), &st) < 0) throw_errno("lstat " + clean_path(info.path));
  info.exists = true;
  info.is_dir = S_ISDIR(st.st_mode);
  return info;
}

// CopyInfoDestinationPath: a link at the end is followed (up to 10 times); a missing path is
// fine when its parent is a directory.
CopyInfo local_destination_info(std::string path) {
  std::string original = path;
  struct stat st;
  int rc = ::lstat(path.c_str(), &st);
  for (int n = 0; rc == 0 && S_ISLNK(st.st_mode); n++) {
    if (n > 10) throw Error("too many symlinks in " + original);
    char buf[PATH_MAX];
    ssize_t len = ::readlink(path.c_str(), buf, sizeof buf);
    if (len < 0) throw_errno("readlink " + path);
    std::string target(buf, static_cast<size_t>(len));
    path = target[0] == '/' ? target : clean_path(split_dir_entry(path).first + "/" + target);
    rc = ::lstat(path.c_str(), &st);
  }
  CopyInfo info{path, rc == 0, rc == 0 && S_ISDIR(st.st_mode), ""};
  if (rc == 0) return info;
  if (errno != ENOENT) throw_errno("lstat " + path);
  std::string parent = split_dir_entry(path).first;
  if (::stat(parent.c_str(), &st) < 0) throw_errno("stat " + parent);
  if (!S_ISDIR(st.st_mode)) throw Error("not a directory");
  return info;
}

// PrepareArchiveCopy: where the archive is extracted, and the name its top entry must have
// there ("" when it keeps its own).
struct CopyPlan {
  std::string dest_dir;
  std::string old_base, new_base;  // rebase old_base to new_base, when new_base is set
};

CopyPlan plan_copy(const CopyInfo& src, const CopyInfo& dst) {
  auto [dst_dir, dst_base] = split_dir_entry(dst.path);
  std::string src_base = split_dir_entry(src.path).second;
  if (!src.rebase_name.empty()) src_base = src.rebase_name;
  if (dst.exists && dst.is_dir) return {dst.path, "", ""};
  if (dst.exists && src.is_dir) throw Error("cannot copy directory");
  if (!dst.exists && !src.is_dir && asserts_directory(dst.path)) throw Error("no such directory");
  return {dst_dir, src_base, dst_base};
}

// newNameRebaser: `old_base` at the start of an entry name becomes `new_base`.
std::function<std::string(const std::string&)> rebaser(std::string old_base, std::string new_base) {
  while (!old_base.empty() && old_base.back() == '/') old_base.pop_back();
  while (!new_base.empty() && new_base.back() == '/') new_base.pop_back();
  return [old_base, new_base](const std::string& name) -> std::string {
    if (old_base.empty()) {
      std::string n = name.substr(std::min(name.find_first_not_of('/'), name.size()));
      return new_base.empty() ? n : new_base + "/" + n;
    }
    if (name.compare(0, old_base.size(), old_base) != 0) return name;
    std::string suffix = name.substr(old_base.size());
    if (!suffix.empty() && suffix[0] != '/') return name;
    return new_base + suffix;
  };
}

// ---- Local files into a tar: what docker's TarResource makes of a path.

class LocalTar {
 public:
  explicit LocalTar(TarWriter& w) : w_(w), buf_(kBuffer) {}

  // `name` in `dirfd` as the archive entry `entry` (a directory with all below it).
  void add(int dirfd, const std::string& name, const std::string& entry) {
    struct stat st;
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) throw_errno("lstat " + entry);
    if (S_ISDIR(st.st_mode)) {
      UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!fd) throw_errno("open " + entry);
      w_.header(header(st, entry + "/", TarType::kDirectory));
      for (auto& n : dir_names(fd.get())) add(fd.get(), n, entry + "/" + n);
      return;
    }
    if (S_ISSOCK(st.st_mode)) return;  // tar cannot hold one
    if (st.st_nlink > 1) {
      auto [it, first] = seen_.try_emplace({st.st_dev, st.st_ino}, entry);
      if (!first) {
        TarHeader h = header(st, entry, TarType::kHardLink);
        h.link = it->second;
        w_.header(h);
        return;
      }
    }
    if (S_ISLNK(st.st_mode)) {
      char target[PATH_MAX];
      ssize_t n = ::readlinkat(dirfd, name.c_str(), target, sizeof target);
      if (n < 0) throw_errno("readlink " + entry);
      TarHeader h = header(st, entry, TarType::kSymlink);
      h.link.assign(target, static_cast<size_t>(n));
      w_.header(h);
      return;
    }
    if (!S_ISREG(st.st_mode)) {
      TarType t = S_ISFIFO(st.st_mode)  ? TarType::kFifo
                  : S_ISCHR(st.st_mode) ? TarType::kCharDevice
                                        : TarType::kBlockDevice;
      w_.header(header(st, entry, t));
      return;
    }
    UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) throw_errno("open " + entry);
    w_.header(header(st, entry, TarType::kFile));
    int64_t left = st.st_size;
    while (left > 0) {
      ssize_t n = ::read(fd.get(), buf_.data(), std::min<size_t>(buf_.size(), left));
      if (n < 0) throw_errno("read " + entry);
      if (n == 0) throw Error("read " + entry + ": the file shrank while copied");
      w_.data(std::string_view(buf_.data(), static_cast<size_t>(n)));
      left -= n;
    }
  }

 private:
  static TarHeader header(const struct stat& st, const std::string& name, TarType type) {
    TarHeader h;
    h.name = name;
    h.type = type;
    h.mode = st.st_mode & 07777;
    h.uid = st.st_uid;
    h.gid = st.st_gid;
    h.size = type == TarType::kFile ? st.st_size : 0;
    h.mtime = st.st_mtim.tv_sec;
    h.dev_major = major(st.st_rdev);
    h.dev_minor = minor(st.st_rdev);
    return h;
  }

  TarWriter& w_;
  std::vector<char> buf_;
  std::map<std::pair<dev_t, ino_t>, std::string> seen_;
};

// ---- A tar into a local directory (docker's Untar with NoLchown and NoOverwriteDirNonDir),
// every path resolved as if that directory were the root.

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

// An entry's name cleaned; nullopt when ".." takes it above the destination.
std::optional<std::vector<std::string>> entry_parts(const std::string& raw) {
  std::vector<std::string> parts;
  for (auto& part : split(raw, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  return parts;
}

std::string join(const std::vector<std::string>& parts, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; i++) out += (i ? "/" : "") + parts[i];
  return out;
}

void remove_tree(int dirfd, const std::string& name) {
  struct stat st;
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return;
  if (S_ISDIR(st.st_mode)) {
    UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) throw_errno("remove " + name);
    for (auto& n : dir_names(fd.get())) remove_tree(fd.get(), n);
  }
  if (::unlinkat(dirfd, name.c_str(), S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0)
    throw_errno("remove " + name);
}

class LocalExtractor {
 public:
  LocalExtractor(const std::string& dest) : dest_name_(dest) {
    dest_.reset(::open(dest.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dest_) throw_errno("open " + dest);
  }

  void entry(const TarHeader& h) {
    close_file();
    auto parts = entry_parts(h.name);
    if (!parts) throw Error("invalid entry name \"" + h.name + "\": it leaves " + dest_name_);
    if (parts->empty()) return;
    std::string name = parts->back();
    parts->pop_back();
    std::string shown = join(*parts, parts->size());
    shown = shown.empty() ? name : shown + "/" + name;
    UniqueFd dir = parent(*parts, h.name);
    bool is_dir = h.type == TarType::kDirectory;
    struct stat old;
    bool merge = false;
    if (::fstatat(dir.get(), name.c_str(), &old, AT_SYMLINK_NOFOLLOW) == 0) {
      if (S_ISDIR(old.st_mode) && !is_dir)
        throw Error("cannot overwrite directory \"" + dest_name_ + "/" + shown +
                    "\" with non-directory \"" + dest_name_ + "\"");
      if (!S_ISDIR(old.st_mode) && is_dir)
        throw Error("cannot overwrite non-directory \"" + dest_name_ + "/" + shown +
                    "\" with directory \"" + dest_name_ + "\"");
      merge = is_dir;
      if (!merge) remove_tree(dir.get(), name);
    }
    timespec times[2] = {{h.mtime, 0}, {h.mtime, 0}};
    switch (h.type) {
      case TarType::kDirectory: {
        if (!merge && ::mkdirat(dir.get(), name.c_str(), 0700) < 0) throw_errno("mkdir " + shown);
        UniqueFd fd(
            ::openat(dir.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd || ::fchmod(fd.get(), h.mode) < 0) throw_errno("chmod " + shown);
        dirs_.push_back({shown, h.mtime});
        break;
      }
      case TarType::kFile:
        file_.reset(::openat(dir.get(), name.c_str(),
                             O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!file_) throw_errno("create " + shown);
        file_mode_ = h.mode;
        file_mtime_ = h.mtime;
        file_name_ = shown;
        break;
      case TarType::kSymlink:
        if (::symlinkat(h.link.c_str(), dir.get(), name.c_str()) < 0)
          throw_errno("symlink " + shown);
        ::utimensat(dir.get(), name.c_str(), times, AT_SYMLINK_NOFOLLOW);
        break;
      case TarType::kHardLink: {
        auto target = entry_parts(h.link);
        if (!target || target->empty())
          throw Error("invalid hardlink \"" + h.name + "\" -> \"" + h.link + "\"");
        std::string tname = target->back();
        target->pop_back();
        UniqueFd tdir(
            open_in_root(dest_.get(), join(*target, target->size()), O_PATH | O_DIRECTORY));
        if (!tdir || ::linkat(tdir.get(), tname.c_str(), dir.get(), name.c_str(), 0) < 0)
          throw_errno("link " + shown + " to " + h.link);
        break;
      }
      case TarType::kFifo:
      case TarType::kCharDevice:
      case TarType::kBlockDevice: {
        mode_t type = h.type == TarType::kFifo         ? S_IFIFO
                      : h.type == TarType::kCharDevice ? S_IFCHR
                                                       : S_IFBLK;
        if (::mknodat(dir.get(), name.c_str(), type | 0600, makedev(h.dev_major, h.dev_minor)) < 0)
          throw_errno("mknod " + shown);
        UniqueFd fd(::openat(dir.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
        if (!fd) throw_errno("open " + shown);
        std::string self = "/proc/self/fd/" + std::to_string(fd.get());
        ::chmod(self.c_str(), h.mode);
        ::utimensat(AT_FDCWD, self.c_str(), times, 0);
        break;
      }
    }
  }

  void data(std::string_view d) {
    if (file_) write_all(file_.get(), d);
  }

  void finish() {
    close_file();
    for (auto& [rel, mtime] : dirs_) {
      UniqueFd fd(open_in_root(dest_.get(), rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
      timespec times[2] = {{mtime, 0}, {mtime, 0}};
      if (fd) ::futimens(fd.get(), times);
    }
  }

 private:
  void close_file() {
    if (!file_) return;
    if (::fchmod(file_.get(), file_mode_) < 0) throw_errno("chmod " + file_name_);
    timespec times[2] = {{file_mtime_, 0}, {file_mtime_, 0}};
    ::futimens(file_.get(), times);
    file_.reset();
  }

  // The entry's directory, made 0755 where the archive did not list it.
  UniqueFd parent(const std::vector<std::string>& parts, const std::string& raw) {
    UniqueFd fd(open_in_root(dest_.get(), join(parts, parts.size()), O_PATH | O_DIRECTORY));
    for (size_t i = 1; !fd && errno == ENOENT && i <= parts.size(); i++) {
      UniqueFd at(open_in_root(dest_.get(), join(parts, i - 1), O_PATH | O_DIRECTORY));
      if (!at) break;
      UniqueFd next(open_in_root(dest_.get(), join(parts, i), O_PATH | O_DIRECTORY));
      if (!next && errno == ENOENT) {
        if (::mkdirat(at.get(), parts[i - 1].c_str(), 0755) < 0 && errno != EEXIST)
          throw_errno("mkdir " + join(parts, i));
        next.reset(open_in_root(dest_.get(), join(parts, i), O_PATH | O_DIRECTORY));
      }
      if (!next) break;
      if (i == parts.size()) fd = std::move(next);
    }
    if (!fd) throw_errno("cannot extract \"" + raw + "\"");
    return fd;
  }

  std::string dest_name_;
  UniqueFd dest_;
  UniqueFd file_;
  uint32_t file_mode_ = 0;
  int64_t file_mtime_ = 0;
  std::string file_name_;
  std::vector<std::pair<std::string, int64_t>> dirs_;
};

// ---- The API.

std::string archive_path(const std::string& container) {
  return "/containers/" + path_escape(container) + "/archive";
}

struct RemoteStat {
  std::string name;
  int64_t size = 0;
  uint32_t mode = 0;
  std::string link_target;
  bool is_dir() const { return mode & (1u << 31); }
  bool is_symlink() const { return mode & (1u << 27); }
};

std::string base64_decode(const std::string& in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+')
      v = 62;
    else if (c == '/')
      v = 63;
    else
      continue;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

RemoteStat parse_stat(const HttpResponse& resp) {
  RemoteStat s;
  auto j = nlohmann::json::parse(base64_decode(resp.header("x-docker-container-path-stat")),
                                 nullptr, false);
  if (!j.is_object()) throw Error("unable to decode container path stat header");
  s.name = j.value("name", "");
  s.size = j.value("size", int64_t{0});
  s.mode = j.value("mode", uint32_t{0});
  s.link_target = j.value("linkTarget", "");
  return s;
}

// HEAD: nullopt when the daemon says the path is not there (or anything else wrong with it).
std::optional<RemoteStat> stat_path(ApiClient& api, const std::string& container,
                                    const std::string& path) {
  HttpRequest req;
  req.method = "HEAD";
  try {
    auto resp = api.stream(req, archive_path(container), Query().add("path", path),
                           [](std::string_view) {});
    return parse_stat(resp);
  } catch (const ApiError&) {
    // Whatever is wrong with it, the copy goes on: the PUT says it in the daemon's words.
    return std::nullopt;
  }
}

struct Options {
  bool follow_link = false, copy_uid_gid = false, quiet = false;
  CLI::Option* quiet_flag = nullptr;
};

// docker's splitCpArg: "CONTAINER:PATH", unless the argument is a local path (absolute, or
// starting with "." before any ':').
std::pair<std::string, std::string> split_arg(const std::string& arg) {
  if (!arg.empty() && arg[0] == '/') return {"", arg};
  auto colon = arg.find(':');
  if (colon == std::string::npos || arg.starts_with('.')) return {"", arg};
  return {arg.substr(0, colon), arg.substr(colon + 1)};
}

void summary(const Options& o, int64_t size, const std::string& dest) {
  if (o.quiet) return;
  std::fprintf(stderr, "Successfully copied %s to %s\n",
               human_size(static_cast<double>(size), 3).c_str(), dest.c_str());
}

int copy_from(ApiClient& api, const Options& o, const std::string& container, std::string src,
              std::string dst) {
  if (dst != "-") {
    dst = absolute(dst);
    // docker's ValidateOutputPath.
    std::string parent = dir(clean_path(dst));
    struct stat st;
    if (parent != "." && ::stat(parent.c_str(), &st) < 0 && errno == ENOENT)
      throw Error("invalid output path: directory \"" + parent + "\" does not exist");
    if (::stat(dst.c_str(), &st) == 0 && !S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
      throw Error("invalid output path: \"" + dst + "\" must be a directory or a regular file");
  }
  std::string rebase;
  if (o.follow_link) {
    auto s = stat_path(api, container, src);
    if (s && s->is_symlink()) {
      std::string target = s->link_target;
      if (!target.starts_with('/')) target = clean_path(split_dir_entry(src).first + "/" + target);
      std::tie(src, rebase) = rebase_name(src, target);
    }
  }
  Query q;
  q.add("path", src);
  if (dst == "-") {
    api.stream({}, archive_path(container), q,
               [](std::string_view d) { write_all(STDOUT_FILENO, d); });
    return 0;
  }
  std::unique_ptr<LocalExtractor> x;
  std::unique_ptr<TarReader> reader;
  int64_t copied = 0;
  RemoteStat stat;
  api.stream(
      {}, archive_path(container), q,
      [&](std::string_view d) {
        copied += static_cast<int64_t>(d.size());
        reader->feed(d);
      },
      [&](const HttpResponse& head) {
        stat = parse_stat(head);
        CopyInfo src_info{src, true, stat.is_dir(), rebase};
        CopyPlan plan = plan_copy(src_info, local_destination_info(dst));
        x = std::make_unique<LocalExtractor>(plan.dest_dir);
        reader = std::make_unique<TarReader>([&](const TarHeader& h) { x->entry(h); },
                                             [&](std::string_view d) { x->data(d); });
        // The -L rename first (the link's target takes the link's name), then the
        // destination's.
        auto first = rebase.empty() ? std::function<std::string(const std::string&)>()
                                    : rebaser(split_dir_entry(src).second, rebase);
        auto second = plan.new_base.empty() ? std::function<std::string(const std::string&)>()
                                            : rebaser(plan.old_base, plan.new_base);
        if (first || second)
          reader->set_rename([first, second](const std::string& n) {
            std::string r = first ? first(n) : n;
            return second ? second(r) : r;
          });
      });
  if (!reader || !reader->done())
    throw Error("unexpected EOF: the archive from the daemon was cut short");
  x->finish();
  summary(o, copied, dst);  // the bytes of the tar, as docker 28 reports them
  return 0;
}

int copy_to(ApiClient& api, const Options& o, const std::string& container, std::string src,
            const std::string& dst) {
  if (src != "-") src = absolute(src);
  CopyInfo dst_info{dst, false, false, ""};
  if (auto s = stat_path(api, container, dst)) {
    if (s->is_symlink()) {
      std::string target = s->link_target;
      if (!target.starts_with('/')) target = clean_path(split_dir_entry(dst).first + "/" + target);
      dst_info.path = target;
      s = stat_path(api, container, target);
    }
    if (s) {
      if (s->mode & (1u << 26))
        throw Error("destination \"" + container + ":" + dst +
                    "\" must be a directory or a regular file: got a device");
      dst_info.exists = true;
      dst_info.is_dir = s->is_dir();
    }
  }
  HttpRequest req;
  req.headers.emplace_back("Content-Type", "application/x-tar");
  req.method = "PUT";
  Query q;
  q.add("noOverwriteDirNonDir", "true");
  if (o.copy_uid_gid) q.add("copyUIDGID", "true");
  if (src == "-") {
    if (!dst_info.is_dir)
      throw Error("destination \"" + container + ":" + dst + "\" must be a directory");
    q.add("path", dst_info.path);
    req.body_fd = STDIN_FILENO;
    api.stream(std::move(req), archive_path(container), q, [](std::string_view) {});
    return 0;
  }
  CopyInfo src_info = source_info(src, o.follow_link);
  CopyPlan plan = plan_copy(src_info, dst_info);
  auto [src_dir, src_base] = split_dir_entry(src_info.path);
  std::string top = src_info.rebase_name.empty() ? src_base : src_info.rebase_name;
  if (!plan.new_base.empty()) top = plan.new_base;
  q.add("path", plan.dest_dir);

  // The tar is made on a thread of its own into a pipe that the request streams from.
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) throw_errno("pipe");
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  std::string tar_error;
  int64_t content = 0;
  std::thread maker([&, out = std::move(write_end)] {
    try {
      UniqueFd dirfd(::open(src_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (!dirfd) throw_errno("open " + src_dir);
      TarWriter w([&](std::string_view d) { write_all(out.get(), d); });
      LocalTar tar(w);
      tar.add(dirfd.get(), src_base, top == "." ? "." : top);
      w.finish();
    } catch (const std::exception& e) {
      tar_error = e.what();
    }
  });
  req.body_fd = read_end.get();
  req.on_sent = [&](uint64_t sent) { content = static_cast<int64_t>(sent); };
  try {
    api.stream(std::move(req), archive_path(container), q, [](std::string_view) {});
  } catch (...) {
    read_end.reset();  // a tar maker blocked on a full pipe sees it closed
    maker.join();
    if (!tar_error.empty()) throw Error(tar_error);
    throw;
  }
  maker.join();
  if (!tar_error.empty()) throw Error(tar_error);
  summary(o, content, container + ":" + dst_info.path);
  return 0;
}

}  // namespace

void register_container_cp(Registry& r) {
  Context& ctx = r.context();
  r.add({.paths = {"container cp", "cp"},
         .usage = "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- "
                  "CONTAINER:DEST_PATH",
         .summary = "Copy files/folders between a container and the local filesystem",
         .min_args = 2,
         .max_args = 2},
        [&ctx](CLI::App& app, const Args& args) -> Run {
          auto o = std::make_shared<Options>();
          app.add_flag("-L,--follow-link", o->follow_link, "Always follow symlinks in SRC_PATH");
          app.add_flag("-a,--archive", o->copy_uid_gid,
                       "Archive mode (copy all uid/gid information)");
          o->quiet_flag = app.add_flag("-q,--quiet", o->quiet,
                                       "Suppress progress output during copy. Progress output is "
                                       "automatically suppressed if no terminal is attached");
          return [&ctx, o, &args] {
            if (args[0].empty()) throw Error("source can not be empty");
            if (args[1].empty()) throw Error("destination can not be empty");
            // Without -q, a copy is quiet when nobody watches.
            if (o->quiet_flag->count() == 0) o->quiet = !stdout_is_terminal();
            auto [src_container, src] = split_arg(args[0]);
            auto [dst_container, dst] = split_arg(args[1]);
            if (!src_container.empty() && !dst_container.empty())
              throw Error("copying between containers is not supported");
            if (!src_container.empty()) return copy_from(ctx.api(), *o, src_container, src, dst);
            if (!dst_container.empty()) return copy_to(ctx.api(), *o, dst_container, src, dst);
            throw Error("must specify at least one container source");
          };
        });
}

}  // namespace berth::cli

#include "base/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>

#include "base/error.h"

namespace berth {

UniqueFd open_or_throw(const std::string& path, int flags, mode_t mode) {
  return openat_or_throw(AT_FDCWD, path, flags, mode);
}

UniqueFd openat_or_throw(int dirfd, const std::string& path, int flags, mode_t mode) {
  int fd = ::openat(dirfd, path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) throw_errno("open " + path);
  return UniqueFd(fd);
}

std::string read_fd(int fd) {
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("read");
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string read_file(const std::string& path) {
  auto fd = open_or_throw(path, O_RDONLY);
  try {
    return read_fd(fd.get());
  } catch (const std::exception& e) {
    rethrow_with_context(e, path);
  }
}

std::optional<std::string> read_file_if_exists(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw_errno("open " + path);
  }
  UniqueFd owned(fd);
  return read_fd(fd);
}

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("write");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

void write_file(const std::string& path, std::string_view data, int flags) {
  auto fd = open_or_throw(path, O_WRONLY | flags, 0644);
  try {
    write_all(fd.get(), data);
  } catch (const std::exception& e) {
    rethrow_with_context(e, path);
  }
}

void write_file_atomic(const std::string& path, std::string_view data, mode_t mode,
                       Durability durability) {
  std::string tmp = path + ".tmp";
  {
    auto fd = open_or_throw(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode);
    try {
      write_all(fd.get(), data);
      if (durability == Durability::kSynced && ::fsync(fd.get()) < 0) throw_errno("fsync");
    } catch (const std::exception& e) {
      ::unlink(tmp.c_str());
      rethrow_with_context(e, tmp);
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw_errno("rename " + tmp + " to " + path, err);
  }
}

void mkdir_p(const std::string& path, mode_t mode) {
  if (path.empty()) return;
  if (::mkdir(path.c_str(), mode) == 0 || errno == EEXIST) return;
  if (errno != ENOENT) throw_errno("mkdir " + path);
  auto slash = path.find_last_of('/');
  if (slash != std::string::npos && slash > 0) mkdir_p(path.substr(0, slash), mode);
  if (::mkdir(path.c_str(), mode) < 0 && errno != EEXIST) throw_errno("mkdir " + path);
}

void remove_all(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) throw Error("remove " + path + ": " + ec.message(), ec.value());
}

bool path_exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::vector<std::string> list_dir(const std::string& path) {
  std::vector<std::string> out;
  DIR* d = ::opendir(path.c_str());
  if (!d) {
    if (errno == ENOENT) return out;
    throw_errno("opendir " + path);
  }
  while (auto* ent = ::readdir(d)) {
    std::string_view name = ent->d_name;
    if (name == "." || name == "..") continue;
    out.emplace_back(name);
  }
  ::closedir(d);
  return out;
}

std::string path_join(std::string_view a, std::string_view b) {
  std::string out(a);
  while (!out.empty() && out.back() == '/') out.pop_back();
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  out.push_back('/');
  out.append(b);
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

int64_t tree_size(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  int64_t total = 0;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    auto st = it->symlink_status(ec);
    if (ec) break;
    if (fs::is_regular_file(st)) total += static_cast<int64_t>(it->file_size(ec));
    if (fs::is_symlink(st))
      total += static_cast<int64_t>(fs::read_symlink(it->path(), ec).native().size());
  }
  return total;
}

bool is_mountpoint(const std::string& path) {
  struct statx st {};
  if (::statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &st) < 0)
    return false;
  return (st.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
         (st.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

}  // namespace berth

#include "logfile/files.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <map>

#include "base/error.h"
#include "base/fs.h"

namespace berth::logfile {

std::vector<RotatedFile> rotated_files(const std::string& path) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  std::string prefix = path.substr(slash + 1) + ".";
  std::map<int, RotatedFile> found;
  for (auto& name : list_dir(dir)) {
    if (name.rfind(prefix, 0) != 0) continue;
    std::string rest = name.substr(prefix.size());
    bool gz = rest.size() > 3 && rest.compare(rest.size() - 3, 3, ".gz") == 0;
    if (gz) rest.resize(rest.size() - 3);
    if (rest.empty() || rest.size() > 6 ||
        !std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    int index = std::stoi(rest);
    if (index < 1) continue;
    auto& f =
        found.try_emplace(index, RotatedFile{index, path + "." + rest, false, false}).first->second;
    (gz ? f.gz : f.plain) = true;
  }
  std::vector<RotatedFile> out;
  for (auto it = found.rbegin(); it != found.rend(); ++it) out.push_back(it->second);
  return out;
}

std::string partial_name(const std::string& dst) {
  return dst + ".tmp";
}

void compress_file(const std::string& src, const std::string& dst) {
  UniqueFd in = open_or_throw(src, O_RDONLY | O_CLOEXEC);
  std::string tmp = partial_name(dst);
  UniqueFd out = open_or_throw(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  try {
    // Fastest level, as dockerd: the point is to take less room, not the least.
    int gz_fd = ::dup(out.get());
    if (gz_fd < 0) throw_errno("dup " + tmp);
    gzFile gz = ::gzdopen(gz_fd, "wb1");
    if (!gz) {
      ::close(gz_fd);
      throw Error("gzip " + tmp + ": out of memory");
    }
    char buf[65536];
    ssize_t n;
    bool ok = true;
    while (ok && (n = ::read(in.get(), buf, sizeof buf)) > 0)
      ok = ::gzwrite(gz, buf, static_cast<unsigned>(n)) == n;
    if (n < 0) {
      ::gzclose(gz);
      throw_errno("read " + src);
    }
    if (::gzclose(gz) != Z_OK || !ok) throw Error("gzip " + tmp + ": write failed");
    if (::fdatasync(out.get()) < 0) throw_errno("fsync " + tmp);
    if (::rename(tmp.c_str(), dst.c_str()) < 0) throw_errno("rename " + tmp + " to " + dst);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
}

}  // namespace berth::logfile

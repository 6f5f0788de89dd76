#include "base/dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string_view>

#include "base/error.h"

namespace berth {
namespace {

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

}  // namespace

std::vector<std::string> dir_names(int dirfd) {
  // A descriptor of its own: readdir moves it, and closedir closes it.
  int dup = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup < 0) throw_errno("open directory");
  std::unique_ptr<DIR, DirCloser> d(::fdopendir(dup));
  if (!d) {
    ::close(dup);
    throw_errno("read directory");
  }
  std::vector<std::string> names;
  while (auto* ent = ::readdir(d.get())) {
    std::string_view n = ent->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace berth

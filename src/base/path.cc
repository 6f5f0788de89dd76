#include "base/path.h"

#include <vector>

#include "base/fs.h"

namespace berth {

std::string clean_path(std::string_view path) {
  bool rooted = !path.empty() && path[0] == '/';
  std::vector<std::string> out;
  for (auto& part : split(path, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!out.empty() && out.back() != "..")
        out.pop_back();
      else if (!rooted)
        out.push_back(part);
      continue;
    }
    out.push_back(part);
  }
  std::string s;
  for (auto& part : out) s += (s.empty() ? "" : "/") + part;
  if (rooted) return "/" + s;
  return s.empty() ? "." : s;
}

}  // namespace berth

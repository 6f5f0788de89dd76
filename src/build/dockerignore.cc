// .dockerignore: Docker's pattern rules. Each line is a pattern relative to the context root,
// cleaned; `**` matches any number of directories; a leading `!` re-includes; the last pattern
// that matches a path, or one of its parent directories, decides.
#include <fnmatch.h>

#include "base/fs.h"
#include "base/path.h"
#include "build/build.h"

namespace berth::build {
namespace {

std::vector<std::string> parts_of(std::string_view path) {
  std::vector<std::string> out;
  for (auto& p : split(path, '/'))
    if (!p.empty() && p != ".") out.push_back(p);
  return out;
}

bool match_parts(const std::vector<std::string>& pat, size_t pi,
                 const std::vector<std::string>& path, size_t si) {
  if (pi == pat.size()) return si == path.size();
  if (pat[pi] == "**") {
    for (size_t k = si; k <= path.size(); k++)
      if (match_parts(pat, pi + 1, path, k)) return true;
    return false;
  }
  if (si == path.size()) return false;
  if (::fnmatch(pat[pi].c_str(), path[si].c_str(), 0) != 0) return false;
  return match_parts(pat, pi + 1, path, si + 1);
}

}  // namespace

DockerIgnore::DockerIgnore(std::string_view text) {
  for (auto& raw : split(text, '\n')) {
    std::string line = trim(raw);
    if (line.empty() || line[0] == '#') continue;
    Rule r;
    if (line[0] == '!') {
      r.exception = true;
      line = trim(line.substr(1));
    }
    std::string cleaned = clean_path("/" + line);
    r.parts = parts_of(cleaned);
    if (r.parts.empty()) continue;
    rules_.push_back(std::move(r));
  }
}

bool DockerIgnore::excluded(std::string_view path) const {
  auto parts = parts_of(path);
  bool out = false;
  for (auto& r : rules_) {
    bool m = false;
    // The path itself or one of its parents.
    for (size_t n = parts.size(); n >= 1 && !m; n--) {
      std::vector<std::string> prefix(parts.begin(), parts.begin() + n);
      m = match_parts(r.parts, 0, prefix, 0);
    }
    if (m) out = !r.exception;
  }
  return out;
}

bool DockerIgnore::has_exceptions() const {
  for (auto& r : rules_)
    if (r.exception) return true;
  return false;
}

}  // namespace berth::build

#include "cli/reference.h"

#include <cctype>

#include "base/error.h"

namespace berth::cli {

namespace {

bool valid_path_component(const std::string& c) {
  if (c.empty()) return false;
  if (!std::isalnum(static_cast<unsigned char>(c.front())) ||
      !std::isalnum(static_cast<unsigned char>(c.back())))
    return false;
  for (char ch : c) {
    auto u = static_cast<unsigned char>(ch);
    if (!(std::islower(u) || std::isdigit(u) || ch == '.' || ch == '_' || ch == '-')) return false;
  }
  return true;
}

bool valid_tag(const std::string& t) {
  if (t.empty() || t.size() > 128) return false;
  if (!(std::isalnum(static_cast<unsigned char>(t[0])) || t[0] == '_')) return false;
  for (char c : t)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-'))
      return false;
  return true;
}

}  // namespace

Reference parse_reference(const std::string& s) {
  Reference r;
  std::string rest = s;
  if (size_t at = rest.find('@'); at != std::string::npos) {
    r.digest = rest.substr(at + 1);
    rest = rest.substr(0, at);
    if (r.digest.find(':') == std::string::npos) throw Error("invalid reference format");
  }
  size_t slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    r.tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
    if (!valid_tag(r.tag)) throw Error("invalid reference format");
  }
  if (rest.empty()) throw Error("invalid reference format");
  // The first component is a registry when it looks like a host: has '.', ':' or is localhost.
  std::string domain, path = rest;
  if (size_t first = rest.find('/'); first != std::string::npos) {
    std::string head = rest.substr(0, first);
    if (head.find_first_of(".:") != std::string::npos || head == "localhost" || head != [&] {
          std::string lower = head;
          for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          return lower;
        }()) {
      domain = head;
      path = rest.substr(first + 1);
    }
  }
  size_t start = 0;
  while (true) {
    size_t next = path.find('/', start);
    std::string comp = path.substr(start, next == std::string::npos ? next : next - start);
    if (!valid_path_component(comp)) {
      for (char c : path)
        if (std::isupper(static_cast<unsigned char>(c)))
          throw Error("invalid reference format: repository name (" + path + ") must be lowercase");
      throw Error("invalid reference format");
    }
    if (next == std::string::npos) break;
    start = next + 1;
  }
  if (domain.empty()) {
    domain = "docker.io";
    if (path.find('/') == std::string::npos) path = "library/" + path;
  }
  r.name = domain + "/" + path;
  return r;
}

std::string familiar_name(const std::string& normalized) {
  constexpr std::string_view kLibrary = "docker.io/library/";
  constexpr std::string_view kHub = "docker.io/";
  if (normalized.rfind(kLibrary, 0) == 0 &&
      normalized.find('/', kLibrary.size()) == std::string::npos)
    return normalized.substr(kLibrary.size());
  if (normalized.rfind(kHub, 0) == 0) return normalized.substr(kHub.size());
  return normalized;
}

std::string truncate_id(const std::string& id) {
  std::string s = id;
  if (size_t colon = s.find(':'); colon != std::string::npos) s = s.substr(colon + 1);
  return s.size() > 12 ? s.substr(0, 12) : s;
}

void split_repo_tag(const std::string& ref, std::string& repo, std::string& tag, char sep) {
  try {
    Reference r = parse_reference(ref);
    repo = familiar_name(r.name);
    tag = sep == '@' ? r.digest : r.tag;
  } catch (const Error&) {
    repo.clear();
    tag.clear();
  }
}

}  // namespace berth::cli

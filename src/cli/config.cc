#include "cli/config.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <optional>

#include "base/fs.h"

namespace berth::cli {

std::string resolve_config_dir(const std::string& flag, const client::GetEnv& env) {
  if (!flag.empty()) return flag;
  if (auto v = env("BERTH_CONFIG")) return *v;
  std::string home = env("HOME").value_or("");
  if (home.empty()) {
    if (const passwd* pw = ::getpwuid(::getuid())) home = pw->pw_dir;
  }
  return path_join(home, ".berth");
}

nlohmann::json load_config(const std::string& dir) {
  std::string path = path_join(dir, "config.json");
  std::optional<std::string> text;
  try {
    text = read_file_if_exists(path);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "WARNING: Error loading config file: %s\n", e.what());
    return nlohmann::json::object();
  }
  if (!text) return nlohmann::json::object();
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    std::fprintf(stderr, "WARNING: Error loading config file: %s: invalid JSON\n", path.c_str());
    return nlohmann::json::object();
  }
  return j;
}

}  // namespace berth::cli

#include "cli/host.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "base/error.h"
#include "base/fs.h"

namespace berth::cli {

std::optional<std::string> process_env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

std::string resolve_host(const std::string& flag, const GetEnv& env) {
  if (!flag.empty()) return flag;
  if (auto v = env("BERTH_HOST")) return *v;
  if (auto v = env("DOCKER_HOST")) return *v;
  return kDefaultHost;
}

std::string socket_path_of(const std::string& host) {
  constexpr std::string_view kUnix = "unix://";
  if (host.rfind(kUnix, 0) == 0) {
    std::string path = host.substr(kUnix.size());
    if (path.empty()) throw Error("invalid host " + host + ": no socket path");
    return path;
  }
  if (host.find("://") == std::string::npos && !host.empty() && host[0] == '/') return host;
  throw Error("unsupported host " + host +
              ": berth speaks to its daemon over unix:// sockets only");
}

std::string resolve_config_dir(const std::string& flag, const GetEnv& env) {
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

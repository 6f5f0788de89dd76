#include <cstdlib>

#include "client/client.h"

namespace berth::client {

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

}  // namespace berth::client

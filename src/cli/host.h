// Where the daemon is and where the client's configuration lives, resolved as docker does:
// -H beats BERTH_HOST beats DOCKER_HOST beats the default socket.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace berth::cli {

inline constexpr const char* kDefaultHost = "unix:///run/berth/berth.sock";

using GetEnv = std::function<std::optional<std::string>(const std::string&)>;
std::optional<std::string> process_env(const std::string& name);

// The host URL to use: `flag` if given, else the environment, else the default.
std::string resolve_host(const std::string& flag, const GetEnv& env = process_env);
// The socket path of a unix:// host URL; other schemes are refused with a clear error.
std::string socket_path_of(const std::string& host);

// --config, else BERTH_CONFIG, else ~/.berth.
std::string resolve_config_dir(const std::string& flag, const GetEnv& env = process_env);
// config.json in docker's format, or an empty object when there is none. A file that is
// not valid JSON is reported on stderr and ignored, as docker does.
nlohmann::json load_config(const std::string& dir);

}  // namespace berth::cli

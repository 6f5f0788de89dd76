// The client's configuration directory and its config.json, found as docker finds its own.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "client/client.h"

namespace berth::cli {

// --config, else BERTH_CONFIG, else ~/.berth.
std::string resolve_config_dir(const std::string& flag,
                               const client::GetEnv& env = client::process_env);
// config.json in docker's format, or an empty object when there is none. A file that is
// not valid JSON is reported on stderr and ignored, as docker does.
nlohmann::json load_config(const std::string& dir);

}  // namespace berth::cli

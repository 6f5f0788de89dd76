// Docker's rules for filling in a container config from another one: at create, the image's
// config completes what the client gave; at commit, the container's completes the new image's.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace berth::engine {

// A config's string-or-list field (Cmd, Entrypoint, Shell) as a list; null gives none.
std::vector<std::string> strings(const nlohmann::json& j);

// Env by key, Cmd/Entrypoint, WorkingDir, User, StopSignal, Shell, ExposedPorts, Volumes,
// Labels and Healthcheck come from `defaults` where `cfg` has none of its own.
void merge_image_config(nlohmann::json& cfg, const nlohmann::json& defaults);

}  // namespace berth::engine

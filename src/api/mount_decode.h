// HostConfig's Binds, Mounts, Tmpfs and VolumesFrom -> typed mounts, with dockerd's 400 words.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "engine/engine.h"

namespace berth::api {

std::vector<engine::MountSpec> decode_mounts(const nlohmann::json& host_config);
std::vector<engine::VolumesFrom> decode_volumes_from(const nlohmann::json& host_config);

}  // namespace berth::api

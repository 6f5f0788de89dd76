// Docker's ContainerStatsResponse for one frame of the engine's stats.
#pragma once

#include <nlohmann/json.hpp>

#include "engine/engine.h"

namespace berth::api {

// The shape dockerd encodes from Go structs: `omitempty` numbers and maps left out when zero
// or empty, nested structs always present, v1-only and v2-only fields where they belong.
nlohmann::json stats_json(const engine::StatsFrame& f);

}  // namespace berth::api

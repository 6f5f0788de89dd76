// Containers in the Engine API's JSON shapes: inspect and the list summary.
#pragma once

#include <nlohmann/json.hpp>

#include "engine/manager.h"

namespace berth::api {

nlohmann::json container_inspect(const engine::Container& c, const engine::EngineOptions& o);
nlohmann::json container_summary(const engine::Container& c);
// Docker's Status column: "Up 2 minutes", "Exited (0) 3 seconds ago", "Created".
std::string container_status_text(const engine::Container& c);
// go-units' HumanDuration: "Less than a second", "About a minute", "3 hours".
std::string human_duration(int64_t seconds);

}  // namespace berth::api

// The Engine API's routes over the engine's door: each decodes, calls a service, encodes.
#pragma once

#include <string>

#include "api/router.h"
#include "engine/engine.h"

namespace berth::api {

// Every route; `engine_id` is /info's ID, stable across restarts.
void add_routes(Router& router, engine::Engine& engine, const std::string& engine_id);

void add_system_routes(Router& router, engine::Engine& s, const std::string& engine_id);
void add_image_routes(Router& router, engine::Engine& s);
void add_image_transfer_routes(Router& router, engine::Engine& s);
void add_event_routes(Router& router, engine::Engine& s);
void add_container_routes(Router& router, engine::Engine& s);
void add_commit_routes(Router& router, engine::Engine& s);
void add_build_routes(Router& router, engine::Engine& s);
void add_exec_routes(Router& router, engine::Engine& s);
void add_network_routes(Router& router, engine::Engine& s);
void add_archive_routes(Router& router, engine::Engine& s);
void add_volume_routes(Router& router, engine::Engine& s);
void add_stats_routes(Router& router, engine::Engine& s);
void add_swarm_routes(Router& router);

// Docker's volume object, and /system/df's volumes with their UsageData.
nlohmann::json volume_json(const volume::Volume& v);
nlohmann::json volumes_df(engine::Engine& s);

}  // namespace berth::api

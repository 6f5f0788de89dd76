#include "api/routes.h"

namespace berth::api {

void add_routes(Router& router, engine::Engine& engine, const std::string& engine_id) {
  add_system_routes(router, engine, engine_id);
  add_image_routes(router, engine);
  add_image_transfer_routes(router, engine);
  add_event_routes(router, engine);
  add_container_routes(router, engine);
  add_commit_routes(router, engine);
  add_build_routes(router, engine);
  add_exec_routes(router, engine);
  add_network_routes(router, engine);
  add_archive_routes(router, engine);
  add_volume_routes(router, engine);
  add_stats_routes(router, engine);
  add_swarm_routes(router);
}

}  // namespace berth::api

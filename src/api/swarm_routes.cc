// Swarm mode's endpoints, answered as a dockerd that is not part of a swarm answers them: 503
// with dockerd's words, which SDKs and their clean-up code expect (a 404 reads as an old
// daemon). This berthd has no swarm mode, so joining or creating one is refused the same way.

#include "api/routes.h"
#include "base/error.h"

namespace berth::api {

namespace {

constexpr const char* kNotManager =
    "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to "
    "connect this node to swarm and try again.";
constexpr const char* kNotInSwarm = "This node is not part of a swarm";

}  // namespace

void add_swarm_routes(Router& router) {
  auto not_manager = [](const Request&) -> Response { throw Unavailable(kNotManager); };
  auto not_in_swarm = [](const Request&) -> Response { throw Unavailable(kNotInSwarm); };
  router.add("GET", "/swarm", not_manager);
  router.add("POST", "/swarm/update", not_manager);
  router.add("GET", "/swarm/unlockkey", not_manager);
  router.add("POST", "/swarm/leave", not_in_swarm);
  router.add("POST", "/swarm/unlock", not_in_swarm);
  router.add("POST", "/swarm/init", [](const Request&) -> Response {
    throw Unavailable("swarm mode is not available in this berthd: it cannot create a swarm");
  });
  router.add("POST", "/swarm/join", [](const Request&) -> Response {
    throw Unavailable("swarm mode is not available in this berthd: it cannot join a swarm");
  });
  for (const char* kind : {"nodes", "services", "tasks", "secrets", "configs"}) {
    std::string base = std::string("/") + kind;
    router.add("GET", base, not_manager);
    router.add("GET", base + "/{id}", not_manager);
    if (std::string(kind) != "tasks") {
      router.add("DELETE", base + "/{id}", not_manager);
      router.add("POST", base + "/{id}/update", not_manager);
    }
    if (std::string(kind) != "nodes" && std::string(kind) != "tasks")
      router.add("POST", base + "/create", not_manager);
    if (std::string(kind) == "services" || std::string(kind) == "tasks")
      router.add("GET", base + "/{id}/logs", not_manager);
  }
}

}  // namespace berth::api

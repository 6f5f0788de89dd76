#include "engine/network_service.h"

#include "base/error.h"
#include "network/ports.h"

namespace berth::engine {

Event network_event(const std::string& action, const network::Network& n,
                    const std::string& container) {
  Event e{"network", action, n.id, {{"name", n.name}, {"type", n.driver}}, 0};
  if (!container.empty()) e.attributes["container"] = container;
  return e;
}

NetworkService::NetworkService(network::NetworkManager& networks, EventBus& events)
    : networks_(networks), events_(events) {}

std::vector<std::string> NetworkService::exposed_port_keys(const nlohmann::json& config,
                                                           const nlohmann::json& host_config) {
  return network::exposed_port_keys(config, host_config);
}

bool NetworkService::in_use(const std::string& network_id) const {
  return !networks_.endpoints(network_id).empty();
}

network::Network NetworkService::create(const nlohmann::json& request) {
  auto n = networks_.create(request);
  events_.publish(network_event("create", n));
  return n;
}

void NetworkService::remove(const std::string& ref) {
  auto n = networks_.get(ref);
  networks_.remove(n.id);
  events_.publish(network_event("destroy", n));
}

std::vector<std::string> NetworkService::prune(
    const std::function<bool(const network::Network&)>& selected) {
  std::vector<std::string> deleted;
  for (auto& n : networks_.list()) {
    if (n.predefined() || in_use(n.id) || !selected(n)) continue;
    try {
      networks_.remove(n.id);
      events_.publish(network_event("destroy", n));
      deleted.push_back(n.name);
    } catch (const Forbidden&) {
      // Taken into use meanwhile: not unused any more.
    }
  }
  events_.publish({"network", "prune", "", {}, 0});
  return deleted;
}

}  // namespace berth::engine

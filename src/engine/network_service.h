// The engine's networks: create, remove and prune, each publishing its own event. Connecting
// containers is the containers' business (ContainerManager::connect_network).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/events.h"
#include "network/network.h"

namespace berth::engine {

class NetworkService {
 public:
  NetworkService(network::NetworkManager& networks, EventBus& events);

  std::vector<network::Network> list() const { return networks_.list(); }
  network::Network get(const std::string& ref) const { return networks_.get(ref); }
  std::vector<network::Endpoint> endpoints(const std::string& network_id = "") const {
    return networks_.endpoints(network_id);
  }
  std::vector<network::Endpoint> endpoints_of(const std::string& container_id) const {
    return networks_.endpoints_of(container_id);
  }
  nlohmann::json published_ports(const std::string& container_id) const {
    return networks_.published_ports(container_id);
  }
  std::string netns_path(const std::string& container_id) const {
    return networks_.netns_path(container_id);
  }
  bool in_use(const std::string& network_id) const;
  // "80/tcp" keys of the ports a container exposes or publishes (inspect's Ports).
  static std::vector<std::string> exposed_port_keys(const nlohmann::json& config,
                                                    const nlohmann::json& host_config);

  network::Network create(const nlohmann::json& request);
  void remove(const std::string& ref);
  // Removes the user-defined networks no container uses that `selected` picks; returns their
  // names.
  std::vector<std::string> prune(const std::function<bool(const network::Network&)>& selected);

 private:
  network::NetworkManager& networks_;
  EventBus& events_;
};

// A network event with Docker's attributes (name, type, and the container for connects).
Event network_event(const std::string& action, const network::Network& n,
                    const std::string& container = "");

}  // namespace berth::engine

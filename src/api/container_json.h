// Containers in the Engine API's JSON shapes: inspect and the list summary.
#pragma once

#include <nlohmann/json.hpp>

#include "engine/engine.h"

namespace berth::api {

nlohmann::json container_inspect(const engine::Container& c, const engine::EngineOptions& o,
                                 const engine::NetworkService& networks,
                                 const std::vector<std::string>& exec_ids);
nlohmann::json container_summary(const engine::Container& c,
                                 const engine::NetworkService& networks);
// NetworkSettings of inspect, and the list's Ports and NetworkSettings (network_json.cc).
nlohmann::json container_network_settings(const engine::Container& c,
                                          const engine::NetworkService& networks);
nlohmann::json container_port_summary(const engine::Container& c,
                                      const engine::NetworkService& networks);
// A network as GET /networks/{id} shows it; `names` maps container ids to names.
nlohmann::json network_inspect(const network::Network& n,
                               const std::vector<network::Endpoint>& endpoints,
                               const std::map<std::string, std::string>& names);
// Docker's Status column: "Up 2 minutes", "Exited (0) 3 seconds ago", "Created".
std::string container_status_text(const engine::Container& c);
// go-units' HumanDuration: "Less than a second", "About a minute", "3 hours".
std::string human_duration(int64_t seconds);

}  // namespace berth::api

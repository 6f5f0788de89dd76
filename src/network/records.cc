// How networks and endpoints are kept in berth.db: one JSON document per row.
#include "network/network.h"

namespace berth::network {

using nlohmann::json;

json Network::to_json() const {
  json j = {{"id", id},
            {"name", name},
            {"driver", driver},
            {"created", created},
            {"bridge", bridge},
            {"internal", internal},
            {"attachable", attachable},
            {"icc", icc},
            {"mtu", mtu},
            {"labels", labels},
            {"options", options},
            {"own_bridge", own_bridge}};
  if (subnet.len != 32 || subnet.addr.value != 0) {
    j["subnet"] = subnet.str();
    j["gateway"] = gateway.str();
  }
  if (ip_range) j["ip_range"] = ip_range->str();
  for (auto& [name, a] : aux_addresses) j["aux_addresses"][name] = a.str();
  return j;
}

Network Network::from_json(const json& j) {
  Network n;
  n.id = j.at("id");
  n.name = j.at("name");
  n.driver = j.at("driver");
  n.created = j.value("created", "");
  n.bridge = j.value("bridge", "");
  n.internal = j.value("internal", false);
  n.attachable = j.value("attachable", false);
  n.icc = j.value("icc", true);
  n.mtu = j.value("mtu", 1500);
  // Records from before this was kept: berth created the bridges of its networks then too.
  n.own_bridge = j.value("own_bridge", true);
  n.labels = j.value("labels", json::object());
  n.options = j.value("options", json::object());
  if (j.contains("subnet")) {
    n.subnet = Ipv4Prefix::parse(j["subnet"].get<std::string>());
    n.gateway = Ipv4::parse(j.at("gateway").get<std::string>());
  }
  if (j.contains("ip_range")) n.ip_range = Ipv4Prefix::parse(j["ip_range"].get<std::string>());
  if (j.contains("aux_addresses"))
    for (auto& [name, a] : j["aux_addresses"].items())
      n.aux_addresses[name] = Ipv4::parse(a.get<std::string>());
  return n;
}

json Endpoint::to_json() const {
  json j = {{"container_id", container_id},
            {"network_id", network_id},
            {"id", id},
            {"aliases", aliases},
            {"links", links},
            {"requested_ip", requested_ip},
            {"requested_mac", requested_mac},
            {"driver_opts", driver_opts},
            {"mac", mac},
            {"veth", veth}};
  if (ip) j["ip"] = ip->str();
  for (auto a : link_local_ips) j["link_local_ips"].push_back(a.str());
  return j;
}

Endpoint Endpoint::from_json(const json& j) {
  Endpoint e;
  e.container_id = j.at("container_id");
  e.network_id = j.at("network_id");
  e.id = j.value("id", "");
  e.aliases = j.value("aliases", std::vector<std::string>{});
  e.links = j.value("links", std::vector<std::string>{});
  e.requested_ip = j.value("requested_ip", "");
  e.requested_mac = j.value("requested_mac", "");
  for (auto& a : j.value("link_local_ips", std::vector<std::string>{}))
    e.link_local_ips.push_back(Ipv4::parse(a));
  e.driver_opts = j.value("driver_opts", std::map<std::string, std::string>{});
  e.mac = j.value("mac", "");
  e.veth = j.value("veth", "");
  if (j.contains("ip")) e.ip = Ipv4::parse(j["ip"].get<std::string>());
  return e;
}

}  // namespace berth::network

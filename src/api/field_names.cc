#include "api/field_names.h"

#include <strings.h>

#include <string>

namespace berth::api {

using nlohmann::json;

void canonical_keys(json& obj, std::initializer_list<std::string_view> names) {
  if (!obj.is_object()) return;
  json out = json::object();
  for (auto& [key, value] : obj.items()) {
    std::string name = key;
    for (auto n : names)
      if (n.size() == key.size() && ::strncasecmp(n.data(), key.data(), key.size()) == 0)
        name = std::string(n);
    out[name] = value;
  }
  obj = std::move(out);
}

void canonical_network_create(json& body) {
  canonical_keys(
      body, {"Name", "CheckDuplicate", "Driver", "Scope", "Internal", "Attachable", "Ingress",
             "ConfigOnly", "ConfigFrom", "IPAM", "EnableIPv4", "EnableIPv6", "Options", "Labels"});
  if (auto ipam = body.find("IPAM"); ipam != body.end() && ipam->is_object()) {
    canonical_keys(*ipam, {"Driver", "Config", "Options"});
    if (auto pools = ipam->find("Config"); pools != ipam->end() && pools->is_array())
      for (auto& pool : *pools)
        canonical_keys(pool, {"Subnet", "IPRange", "Gateway", "AuxiliaryAddresses"});
  }
  if (auto from = body.find("ConfigFrom"); from != body.end()) canonical_keys(*from, {"Network"});
}

void canonical_endpoint(json& endpoint) {
  canonical_keys(endpoint,
                 {"IPAMConfig", "Links", "MacAddress", "Aliases", "DriverOpts", "GwPriority",
                  "NetworkID", "EndpointID", "Gateway", "IPAddress", "IPPrefixLen", "IPv6Gateway",
                  "GlobalIPv6Address", "GlobalIPv6PrefixLen", "DNSNames"});
  if (auto ipam = endpoint.find("IPAMConfig"); ipam != endpoint.end())
    canonical_keys(*ipam, {"IPv4Address", "IPv6Address", "LinkLocalIPs"});
}

}  // namespace berth::api
